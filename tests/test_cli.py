"""The command line as a user runs it: a real process, a real .rrd read back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llm_embedding_ner.pipeline import analyze

from .viewer.test_markdown import rendered_text


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The command in a new process; ``stdin`` goes in as bytes (not always UTF-8), its output
    comes back as text."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "default"}
    done = subprocess.run(
        [sys.executable, "-m", "llm_embedding_ner", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    out, err = (stream.decode("utf-8", "replace") for stream in (done.stdout, done.stderr))
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


def read_timeline(path: Path, timeline: str) -> dict[str, dict[int, dict[str, Any]]]:
    """Entity path -> time on ``timeline`` -> component column -> the value logged then."""
    from rerun.chunk import RrdReader

    logged: dict[str, dict[int, dict[str, Any]]] = {}
    for chunk in RrdReader(str(path)).stream():
        if timeline not in chunk.timeline_names:
            continue
        batch = chunk.to_record_batch()
        frames = logged.setdefault(str(chunk.entity_path), {})
        times = batch.column(timeline).to_pylist()
        for name in batch.schema.names:
            if not name.startswith("rerun.") and name not in (timeline, "log_time"):
                for time, value in zip(times, batch.column(name).to_pylist(), strict=True):
                    frames.setdefault(time, {})[name] = value
    return logged


def read_rrd(path: Path) -> dict[str, dict[str, Any]]:
    """Entity path -> component column -> the logged value, for static data (one row each)."""
    from rerun.chunk import RrdReader

    logged: dict[str, dict[str, Any]] = {}
    for chunk in RrdReader(str(path)).stream():
        if not chunk.is_static:
            continue
        batch = chunk.to_record_batch()
        columns = logged.setdefault(str(chunk.entity_path), {})
        for name in batch.schema.names:
            if not name.startswith("rerun."):
                columns[name] = batch.column(name).to_pylist()[-1]
    return logged


def test_end_to_end_recording(dslim_model, dslim_model_dir: Path, tmp_path: Path) -> None:
    text = "Ada Lovelace met Charles Babbage in London; the Analytical Engine [x](y) *amazed* Paris"
    out = tmp_path / "out.rrd"
    result = run_cli("--model", str(dslim_model_dir), "--text", text, "--headless", "--save", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The first run's imports are timed as such, not as the model's loading.
    assert re.search(
        r"^load model .*, after [\d.]+ s importing torch and transformers\)$", result.stderr, re.M
    )
    assert result.stderr.strip().splitlines()[-1].startswith(f"saved the recording to {out}: open it with")

    logged = read_rrd(out)
    assert {"/", "/text", "/tokenized_text", "/named_entities", "/umap_embeddings"} <= set(logged)

    expected = analyze(text, dslim_model)
    n_tokens = len(dslim_model.tokenizer(text, add_special_tokens=False).input_ids)
    points = logged["/umap_embeddings"]
    assert len(points["Points3D:positions"]) == n_tokens
    assert points["Points3D:class_ids"] == expected.class_ids.tolist()
    assert points["Token"] == expected.tokens
    assert points["Label"] == expected.labels
    np.testing.assert_allclose(points["Score"], expected.scores, rtol=1e-6)
    entity_text = [expected.entities[i].text if i >= 0 else "" for i in expected.token_entity]
    assert points["Named Entity"] == entity_text
    np.testing.assert_allclose(points["Points3D:positions"], expected.coordinates, rtol=1e-5)

    (context,) = logged["/"]["AnnotationContext:context"]  # one batch of class descriptions
    infos = {c["class_id"]: c["class_description"]["info"] for c in context}
    assert [infos[i]["label"] for i in sorted(infos)] == [
        "no entity",
        "Location",
        "Person",
        "Organization",
        "Miscellaneous",
    ]
    assert infos[0]["color"] == (30 << 24) | (30 << 16) | (30 << 8) | 255

    tokenized = logged["/tokenized_text"]["TextDocument:text"][0]
    assert tokenized.count("](recording://umap_embeddings[#") == n_tokens
    assert logged["/text"]["TextDocument:media_type"] == ["text/markdown"]
    # The user's markdown-like characters are shown, not interpreted.
    shown = rendered_text(logged["/text"]["TextDocument:text"][0], with_code=False)
    assert shown.replace("\u202f", "") == text


def test_default_text_and_file_input(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "default.rrd"
    result = run_cli("--model", str(dslim_model_dir), "--headless", "--save", str(out))
    assert result.returncode == 0, result.stderr
    for stage in ("load model", "tokenize", "forward", "decode", "projection", "logging"):
        assert stage in result.stderr  # progress and timings, by default
    assert "spring" in read_rrd(out)["/text"]["TextDocument:text"][0]

    source = tmp_path / "in.txt"
    source.write_text("Kraków lies on a river.\nAnna Nowak rows on the Vistula", encoding="utf-8")
    out = tmp_path / "file.rrd"
    result = run_cli(
        "--model", str(dslim_model_dir), "--file", str(source), "--headless", "--save", str(out), "-q"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet: nothing on stderr for a successful run
    assert read_rrd(out)["/umap_embeddings"]["Token"][-1] == "Vistula"


def test_help_lists_every_option_with_examples() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for option in (
        "--text",
        "--file",
        "--model",
        "--layers",
        "--format",
        "--split",
        "--label-map",
        "--device",
        "--n-neighbors",
        "--min-dist",
        "--metric",
        "--seed",
        "--headless",
        "--connect",
        "--serve",
        "--url",
        "--save",
        "--stdout",
        "examples:",
    ):
        assert option in result.stdout


def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Zürich".encode("latin-1"))
    return path


def bad_conll(tmp_path: Path) -> Path:
    path = tmp_path / "bad.conll"
    path.write_text("Ada B-PER\nLovelace I-PER\nMerkel PER\n", encoding="utf-8")
    return path


def lone_surrogate_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "lone.jsonl"
    path.write_text('{"text": "Ada met Ben."}\n{"text": "Smile \\ud83d please"}\n', encoding="utf-8")
    return path


def no_head_model(tmp_path: Path, tokenizer_dir: Path) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertModel

    config = BertConfig(
        vocab_size=600, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    BertModel(config).save_pretrained(tmp_path / "base")
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(tmp_path / "base")
    return tmp_path / "base"


ERROR_CASES = {
    "empty text": (lambda tmp, model: ["--model", model, "--text", ""], "empty"),
    "whitespace text": (lambda tmp, model: ["--model", model, "--text", " \n\t "], "empty"),
    "missing file": (lambda tmp, model: ["--model", model, "--file", str(tmp / "nope.txt")], "no such file"),
    "non-UTF-8 file": (
        lambda tmp, model: ["--model", model, "--file", str(bad_file(tmp))],
        "not valid UTF-8",
    ),
    "text and file": (lambda tmp, model: ["--model", model, "--text", "a", "--file", "b"], "together"),
    "unknown model offline": (lambda tmp, model: ["--model", "nobody-here/no-such-model"], "HF_HUB_OFFLINE"),
    "missing model dir": (lambda tmp, model: ["--model", str(tmp / "no-model")], "does not exist"),
    "no classification head": (
        lambda tmp, model: ["--model", str(no_head_model(tmp, Path(model)))],
        "no trained token-classification head",
    ),
    "bad option value": (lambda tmp, model: ["--model", model, "--n-neighbors", "1"], "at least 2"),
    "bad layer list": (lambda tmp, model: ["--model", model, "--layers", "first"], "give last, all"),
    "layer too deep": (
        lambda tmp, model: ["--model", model, "--layers", "0,5"],
        "layers 0 (embeddings) to 2",
    ),
    "malformed CoNLL": (
        lambda tmp, model: ["--model", model, "--file", str(bad_conll(tmp))],
        "bad.conll:3: tag 'PER'",
    ),
    "bad label map": (lambda tmp, model: ["--model", model, "--label-map", "PER"], "not MODEL=GOLD"),
    "suspects of a text": (
        lambda tmp, model: ["--model", model, "--text", "Ada met Ben.", "--suspects", str(tmp / "s.jsonl")],
        "--suspects checks gold labels, and --text has none",
    ),
    "label map to O": (lambda tmp, model: ["--model", model, "--label-map", "PER=O"], "the outside tag"),
    # Python hands an argument's bytes that are not UTF-8 on as lone surrogates.
    "text not UTF-8": (
        lambda tmp, model: ["--model", model, "--text", "Ada \udcff met"],
        "--text is not valid UTF-8 (byte 0xff at character 4)",
    ),
    "lone surrogate in JSON Lines": (
        lambda tmp, model: ["--model", model, "--file", str(lone_surrogate_jsonl(tmp))],
        "lone.jsonl:2 is not valid Unicode (a lone surrogate, U+D83D",
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_user_errors_are_one_line_and_exit_2(case: str, dslim_model_dir: Path, tmp_path: Path) -> None:
    make_args, message = ERROR_CASES[case]
    out = tmp_path / "never.rrd"
    result = run_cli(*make_args(tmp_path, str(dslim_model_dir)), "--headless", "--save", str(out))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing logged before the error


def test_help_version_and_argument_errors_skip_heavy_imports() -> None:
    probe = (
        "import sys\n"
        "from llm_embedding_ner.cli import main\n"
        "for argv in (['--help'], ['--version'], ['--n-neighbors', 'x'], ['--device', 'tpu']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'umap', 'numba') if m in sys.modules]\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert "heavy: []" in result.stderr


def test_unwritable_save_path_fails_before_the_model_loads(tmp_path: Path) -> None:
    # The model does not exist either: the --save check must come first.
    target = tmp_path / "no-such-dir" / "out.rrd"
    result = run_cli("--model", str(tmp_path / "no-model"), "--headless", "--save", str(target))
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot write --save") and result.stderr.count("\n") == 1
    result = run_cli("--model", str(tmp_path / "no-model"), "--headless", "--save", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_connect_without_a_viewer_says_so_instead_of_hanging(dslim_model_dir: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"rerun+http://127.0.0.1:{port}/proxy"
    result = run_cli("--model", str(dslim_model_dir), "--connect", "--url", url)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: no Rerun viewer is listening at {url}; start one with `rerun`, "
        "or use --serve or --save instead"
    )


def interrupted_after_tokenizing(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the command line with ``args``, press Ctrl-C once it has tokenized (the long work has
    begun), and return its exit code and what it printed after."""
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "llm_embedding_ner", *args],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("tokenize"):
            break
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    return process.wait(timeout=120), rest


def test_ctrl_c_exits_130_with_one_line_and_no_partial_file(
    short_window_model_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "long.txt"
    source.write_text("Ada Lovelace met Charles Babbage in London. " * 20_000, encoding="utf-8")
    out = tmp_path / "out.rrd"
    model = ["--model", str(short_window_model_dir)]
    code, rest = interrupted_after_tokenizing(
        [*model, "--file", str(source), "--headless", "--save", str(out)]
    )
    assert code == 130
    assert rest.strip() == "interrupted: stopped before logging, nothing was saved or sent", rest
    assert not out.exists()


def test_ctrl_c_on_a_corpus_leaves_no_temporary_file_and_says_what_the_table_kept(
    short_window_model_dir: Path, tmp_path: Path
) -> None:
    """A corpus's hidden states go to a temporary file (model/hidden_store.py): Ctrl-C in the
    middle of the forward pass leaves nothing in the temporary folder."""
    source = tmp_path / "many.conll"
    sentence = "Ada B-PER\nLovelace I-PER\nmet O\nCharles B-PER\nBabbage I-PER\nin O\nLondon B-LOC\n. O\n\n"
    source.write_text(("-DOCSTART- -X- -X- O\n\n" + sentence * 40) * 400, encoding="utf-8")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    outputs = ["--headless", "--save", str(tmp_path / "out.rrd"), "--table", str(tmp_path / "table")]
    code, rest = interrupted_after_tokenizing(
        ["--model", str(short_window_model_dir), "--file", str(source), *outputs], {"TMPDIR": str(temporary)}
    )
    assert code == 130
    assert rest.strip().startswith("interrupted: stopped before logging"), rest
    assert list(temporary.iterdir()) == []
    assert not (tmp_path / "out.rrd").exists()
    # Whatever segments were read are whole files, and the line says so when there are any.
    parts = sorted((tmp_path / "table").glob("tokens/*"))
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in parts)
    if parts:
        assert f"are in {tmp_path / 'table' / 'tokens'}" in rest


def test_all_layers_on_the_layer_timeline(dslim_model, dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "layers.rrd"
    text = "Ada Lovelace met Charles Babbage in London, and Angela Merkel met Emmanuel Macron in Paris."
    result = run_cli(
        "--model", str(dslim_model_dir), "--text", text, "--layers", "all", "--headless", "--save", str(out)
    )
    assert result.returncode == 0, result.stderr

    expected = analyze(text, dslim_model, layers="all")
    n = len(expected.tokens)
    frames = read_timeline(out, "layer")
    points = frames["/umap_embeddings"]
    assert sorted(points) == [0, 1, 2]  # the embedding output and both transformer layers
    for view in expected.layers:
        frame = points[view.layer]
        assert len(frame["Points3D:positions"]) == n
        np.testing.assert_allclose(frame["Points3D:positions"], view.coordinates, rtol=1e-5)
        assert frame["Nearest tokens"] == [", ".join(expected.tokens[j] for j in row) for row in view.nearest]
    for path in ("/separation/hidden_space", "/separation/projection_3d"):
        scores = [frames[path][layer]["Scalars:scalars"][0] for layer in (0, 1, 2)]
        assert all(0.0 <= s <= 1.0 for s in scores)

    static = read_rrd(out)  # classes and labels stay put while the positions move
    assert static["/umap_embeddings"]["Points3D:class_ids"] == expected.class_ids.tolist()
    assert static["/umap_embeddings"]["Token"] == expected.tokens
    assert "layer  hidden space  3D projection" in result.stderr
    table = result.stderr.split("3D projection\n", 1)[1].splitlines()[:3]
    assert [int(row.split()[0]) for row in table] == [0, 1, 2]


def test_the_default_last_layer_stays_static_with_its_nearest_tokens(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "last.rrd"
    text = "Ada Lovelace lived in London with Charles Babbage."
    result = run_cli("--model", str(dslim_model_dir), "--text", text, "--headless", "--save", str(out))
    assert result.returncode == 0, result.stderr
    assert read_timeline(out, "layer") == {}  # no layer axis: today's output
    expected = analyze(text, dslim_model)
    nearest = read_rrd(out)["/umap_embeddings"]["Nearest tokens"]
    assert nearest == [", ".join(expected.tokens[j] for j in row) for row in expected.layers[0].nearest]
    assert expected.layers[0].nearest.shape == (len(expected.tokens), 5)


def metrics_rows(markdown: str) -> dict[str, list[float]]:
    """The metrics table's rows: name -> [precision, recall, F1, support]."""
    rows = {}
    for line in markdown.split("## Confusion")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[1][:1].isdigit():
            rows[cells[0].split(" ")[0].strip("*") if "avg" not in cells[0] else cells[0].strip("*")] = [
                float(c.replace(",", "")) for c in cells[1:]
            ]
    return rows


def test_conll_file_end_to_end(dslim_model_dir: Path, tmp_path: Path) -> None:
    from seqeval.metrics import classification_report

    from .test_pipeline import by_sentence, conll_text

    source = tmp_path / "gold.conll"
    source.write_text(conll_text(seed=7, iob1=True), encoding="utf-8")
    out = tmp_path / "corpus.rrd"
    result = run_cli("--model", str(dslim_model_dir), "--file", str(source), "--headless", "--save", str(out))
    assert result.returncode == 0, result.stderr
    assert "read " in result.stderr and "as CoNLL" in result.stderr and "entity-level scores" in result.stderr

    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.model.model_loading import load_model

    expected = analyze(read_corpus(None, str(source), ""), load_model(str(dslim_model_dir), "cpu"))
    static = read_rrd(out)
    n = len(expected.tokens)
    # Three colourings of one cloud: same positions, their own classes.
    predicted, gold, errors = (
        static[p] for p in ("/umap_embeddings", "/umap_embeddings_gold", "/umap_embeddings_errors")
    )
    assert predicted["Points3D:positions"] == gold["Points3D:positions"] == errors["Points3D:positions"]
    assert len(predicted["Points3D:positions"]) == n
    assert predicted["Points3D:class_ids"] == expected.class_ids.tolist()
    assert gold["Points3D:class_ids"] == expected.gold.gold_class_ids.tolist()
    assert errors["Points3D:class_ids"] == expected.gold.error_kinds.tolist()
    assert predicted["Document"] == expected.token_document.tolist()
    assert predicted["Sentence"] == expected.token_sentence.tolist()
    error_labels = [c["class_description"]["info"]["label"] for c in errors["AnnotationContext:context"][0]]
    assert error_labels[:4] == [
        "no entity (gold and predicted)",
        "correct entity",
        "false positive (no gold entity)",
        "false negative (missed)",
    ]

    # The metrics document shows seqeval's numbers.
    report = classification_report(
        by_sentence(expected.gold.gold_tags, expected.gold.word_sentence),
        by_sentence(expected.gold.predicted_tags, expected.gold.word_sentence),
        output_dict=True,
        zero_division=0,
    )
    rows = metrics_rows(static["/metrics"]["TextDocument:text"][0])
    assert set(rows) == set(report)
    # The document shows 4 decimals: at most half a unit off, and a half-way value such as 1/32
    # (0.03125, shown 0.0312) is exactly that far, so the float difference can pass 5e-5 by a hair.
    for name, values in rows.items():
        want = report[name]
        assert values == pytest.approx(
            [want["precision"], want["recall"], want["f1-score"], want["support"]], abs=5e-5 + 1e-12
        )

    # One document at a time on the `document` timeline; its links point into the shared cloud.
    documents = read_timeline(out, "document")
    assert sorted(documents["/text"]) == sorted(documents["/tokenized_text"]) == [0, 1, 2]
    for index, doc in enumerate(expected.documents):
        tokenized = documents["/tokenized_text"][index]["TextDocument:text"][0]
        links = [int(i) for i in re.findall(r"\]\(recording://umap_embeddings\[#(\d+)\]\)", tokenized)]
        assert links == list(range(doc.first_token, doc.end_token))
        assert f"Document {index} of 3" in documents["/text"][index]["TextDocument:text"][0]

    mentions = static["/entity_embeddings"]
    assert mentions["Points3D:labels"] == [e.text for e in expected.entities]
    assert len(mentions["Points3D:positions"]) == len(expected.entities)


def test_jsonl_documents_keep_their_metadata(dslim_model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "docs.jsonl"
    source.write_text(
        '{"id": "a1", "text": "Ada Lovelace met Charles Babbage in London."}\n'
        '{"id": "b2", "text": "Angela Merkel met Emmanuel Macron in Paris."}\n',
        encoding="utf-8",
    )
    out = tmp_path / "docs.rrd"
    result = run_cli("--model", str(dslim_model_dir), "--file", str(source), "--headless", "--save", str(out))
    assert result.returncode == 0, result.stderr
    documents = read_timeline(out, "document")["/text"]
    assert (
        "id: b2" in documents[1]["TextDocument:text"][0] and "Merkel" in documents[1]["TextDocument:text"][0]
    )
    static = read_rrd(out)
    assert "/umap_embeddings_gold" not in static and "/metrics" not in static  # no gold labels
    assert sorted(set(static["/umap_embeddings"]["Document"])) == [0, 1]
    assert "/entity_embeddings" in static


def test_paragraphs_from_standard_input_become_documents(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "paragraphs.rrd"
    text = "Ada Lovelace met Babbage.\n\nAngela Merkel visited Paris.\n \nMicrosoft opened offices in Berlin."
    args = ["--model", str(dslim_model_dir), "--file", "-", "--split", "paragraphs"]
    result = run_cli(*args, "--headless", "--save", str(out), stdin=text.encode())
    assert result.returncode == 0, result.stderr
    documents = read_timeline(out, "document")["/text"]
    assert sorted(documents) == [0, 1, 2]
    assert "Berlin" in documents[2]["TextDocument:text"][0]
    assert sorted(set(read_rrd(out)["/umap_embeddings"]["Document"])) == [0, 1, 2]


@pytest.mark.parametrize(
    "family", ["bert-uncased", "distilbert", "electra", "roberta", "xlm-roberta", "deberta-v3"]
)
def test_every_model_family_end_to_end(family: str, family_model_dirs: dict, tmp_path: Path) -> None:
    from llm_embedding_ner.cli import main

    from .model.test_token_display import MIXED

    out = tmp_path / f"{family}.rrd"
    assert (
        main(
            [
                "--model",
                str(family_model_dirs[family]),
                "--text",
                MIXED,
                "--headless",
                "--save",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(family_model_dirs[family])
    ids = tokenizer(MIXED, add_special_tokens=False).input_ids
    logged = read_rrd(out)
    points = logged["/umap_embeddings"]
    assert len(points["Points3D:positions"]) == len(points["Token"]) == len(ids)  # one point per token
    assert points["Piece"] == tokenizer.convert_ids_to_tokens(ids)  # the vocabulary's own pieces
    assert points["Points3D:labels"] == points["Token"]
    assert not any(marker in token for token in points["Token"] for marker in ("Ġ", "▁", "Ċ", "Ã"))
    links = re.findall(
        r"\]\(recording://umap_embeddings\[#(\d+)\]\)", logged["/tokenized_text"]["TextDocument:text"][0]
    )
    assert [int(i) for i in links] == list(range(len(ids)))  # every token one working link
    assert all(entity == entity.strip() for entity in points["Named Entity"])
    assert any(points["Named Entity"])
    text_document = logged["/text"]["TextDocument:text"][0]
    assert "** " not in text_document and " **" not in text_document


def test_conll_from_standard_input_is_found_and_named(dslim_model_dir: Path, tmp_path: Path) -> None:
    from .test_pipeline import conll_text

    out = tmp_path / "stdin.rrd"
    conll = conll_text(seed=3, iob1=False, n_documents=1).encode()
    result = run_cli(
        "--model", str(dslim_model_dir), "--file", "-", "--headless", "--save", str(out), stdin=conll
    )
    assert result.returncode == 0, result.stderr
    assert "read standard input as CoNLL" in result.stderr
    assert "Entity-level scores against standard input" in read_rrd(out)["/metrics"]["TextDocument:text"][0]


def test_a_text_too_short_to_score_prints_no_separation_table(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "short.rrd"
    result = run_cli("--model", str(dslim_model_dir), "--text", "Hi", "--headless", "--save", str(out))
    assert result.returncode == 0, result.stderr
    assert "separation of entity types" not in result.stderr and "nan" not in result.stderr
    result = run_cli("--model", str(dslim_model_dir), "--headless", "--save", str(out))  # the default text
    assert "separation of entity types" in result.stderr


def test_ctrl_c_while_the_exit_handlers_run_ends_quietly(dslim_model_dir: Path, tmp_path: Path) -> None:
    """Ctrl-C after the work (stopping --serve, or an exit handler that takes its time, such as
    a flush to a slow viewer) ends the process with no traceback."""
    import signal
    import time

    out = tmp_path / "out.rrd"
    argv = ["llm_embedding_ner", "--model", str(dslim_model_dir), "--text", "Ada met Ben.", "--headless"]
    code = (
        "import atexit, sys, time\n"
        "atexit.register(time.sleep, 20)  # a slow exit handler, run last\n"
        f"sys.argv = {[*argv, '--save', str(out)]!r}\n"
        "from llm_embedding_ner.cli import run\nrun()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert process.stderr is not None
    said = []
    while not (line := process.stderr.readline()).startswith("saved the recording") and line:
        said.append(line)
    time.sleep(1.0)  # in the slow exit handler
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    rest = process.communicate(timeout=60)[1]
    assert time.monotonic() - started < 10
    assert process.returncode == 130, "".join(said) + rest
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
