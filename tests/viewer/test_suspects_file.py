"""``--suspects FILE.jsonl``, the terminal's suspect lines and the viewer's Suspects tab, as a user
gets them from the command line (a real process, the .rrd read back)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.analysis.suspects import Suspect
from llm_embedding_ner.errors import UserError
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer.outputs import check_new_file
from llm_embedding_ner.viewer.suspects_file import terminal_lines, write_suspects

from ..test_cli import read_rrd, run_cli
from ..test_pipeline import agreeing_conll_text, conll_text
from .test_delivery import run_main

FIELDS = [
    "rank",
    "document",
    "sentence",
    "words",
    "text",
    "gold",
    "suggested",
    "score",
    "evidence",
    "context",
]


def a_suspect(score: float = 0.9) -> Suspect:
    return Suspect(
        4, 6, "LOC", "ORG", "wrong type", score, {"model": {}}, 2, 1, (1, 3), ("in", "Santa", "Fe")
    )


def test_an_existing_file_a_folder_or_a_missing_folder_is_refused(tmp_path: Path) -> None:
    existing = tmp_path / "s.jsonl"
    existing.write_text("kept\n")
    for path, said in [
        (existing, "already exists"),
        (tmp_path, "is a directory"),
        (tmp_path / "nowhere" / "s.jsonl", "does not exist"),
    ]:
        with pytest.raises(UserError, match=said):
            check_new_file("--suspects", str(path), "suspects.jsonl")
    assert existing.read_text() == "kept\n"
    check_new_file(
        "--suspects", str(tmp_path / "new.jsonl"), "suspects.jsonl"
    )  # a new file in a folder that exists: fine


def test_the_file_is_written_new_and_never_over_an_existing_one(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    line = write_suspects(str(path), [a_suspect(0.9), a_suspect(0.5)])
    assert line == f"2 suspect gold labels written to {path}"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [list(r) for r in rows] == [FIELDS, FIELDS]
    assert rows[0] | {"evidence": None} == {
        "rank": 1,
        "document": 2,
        "sentence": 1,
        "words": [1, 3],
        "text": "Santa Fe",
        "gold": "LOC",
        "suggested": "ORG",
        "score": 0.9,
        "evidence": None,
        "context": "in Santa Fe",
    }
    assert rows[0]["evidence"]["kind"] == "wrong type"
    with pytest.raises(FileExistsError):
        write_suspects(str(path), [a_suspect()])


def test_the_terminal_shows_the_count_and_the_first_five() -> None:
    lines = terminal_lines([a_suspect(1 - i / 10) for i in range(7)], None)
    assert lines[0] == "7 suspect gold labels, most suspect first:"
    assert [x.split(".")[0].strip() for x in lines[1:6]] == ["1", "2", "3", "4", "5"]
    assert "'Santa Fe' LOC -> ORG (wrong type, score 1.00) document 2, sentence 1, words [1, 3)" in lines[1]
    assert "--suspects FILE.jsonl" in lines[-1]
    assert terminal_lines([], "x.jsonl")[0].startswith("suspect gold labels: none")


def test_suspects_end_to_end(dslim_model, dslim_model_dir: Path, tmp_path: Path) -> None:
    from llm_embedding_ner.inputs.corpus import read_corpus

    source = tmp_path / "dev.conll"
    source.write_text(agreeing_conll_text(dslim_model, tmp_path, seed=11), encoding="utf-8")
    out, listed = tmp_path / "dev.rrd", tmp_path / "suspects.jsonl"
    model = ["--model", str(dslim_model_dir)]
    result = run_cli(
        *model, "--file", str(source), "--suspects", str(listed), "--headless", "--save", str(out)
    )
    assert result.returncode == 0, result.stderr
    expected = analyze(read_corpus(None, str(source), ""), dslim_model)
    assert expected.suspects
    rows = [json.loads(x) for x in listed.read_text(encoding="utf-8").splitlines()]
    assert rows == [json.loads(json.dumps(s.record(r))) for r, s in enumerate(expected.suspects, start=1)]
    assert f"{len(rows):,} suspect gold labels, most suspect first:" in result.stderr
    assert f"  5. {expected.suspects[4].text!r}" in result.stderr
    assert result.stderr.rstrip().endswith(f"{len(rows):,} suspect gold labels written to {listed}")

    static = read_rrd(out)
    cloud = static["/umap_embeddings_suspects"]
    assert cloud["Points3D:positions"] == static["/umap_embeddings"]["Points3D:positions"]
    kinds = ["wrong type", "missed entity", "spurious entity", "boundaries"]
    classes = np.zeros(len(expected.tokens), dtype=int)
    for s in reversed(expected.suspects):
        tokens = np.isin(expected.word_ids, np.arange(s.first_word, s.end_word))
        classes[tokens] = kinds.index(s.kind) + 1
    assert cloud["Points3D:class_ids"] == classes.tolist()
    radii = np.asarray(cloud["Points3D:radii"])
    assert (np.abs(radii[classes == 0]) < np.abs(radii[classes > 0]).min()).all()  # the rest recedes

    # The document: the top 100 in order, each span's words linked to their own points.
    body = static["/suspects"]["TextDocument:text"][0]
    entries = body.split("\n\n**")[1:]
    assert len(entries) == min(100, len(expected.suspects))
    for rank, (entry, s) in enumerate(zip(entries, expected.suspects, strict=False), start=1):
        assert entry.startswith(f"{rank}.** ") and f"document {s.document}, sentence {s.sentence}" in entry
        links = [int(i) for i in re.findall(r"\(recording://umap_embeddings_suspects\[#(\d+)\]\)", entry)]
        assert len(links) == s.end_word - s.first_word
        assert [int(expected.word_ids[i]) for i in links] == list(range(s.first_word, s.end_word))


def test_refusals_come_before_any_work(dslim_model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "dev.conll"
    source.write_text(conll_text(seed=2, iob1=False), encoding="utf-8")
    existing = tmp_path / "old.jsonl"
    existing.write_text("kept\n")
    cases = [
        (["--file", str(source), "--suspects", str(existing)], "already exists"),
        (["--text", "Ada met Charles.", "--suspects", str(tmp_path / "x.jsonl")], "has none"),
        (
            ["--file", str(source), "--model", str(dslim_model_dir), "--suspects", "y.jsonl"],
            "give one --model",
        ),
    ]
    for args, said in cases:
        result = run_cli(
            "--model", str(dslim_model_dir), *args, "--headless", "--save", str(tmp_path / "r.rrd")
        )
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: --suspects") and said in line, line
    assert existing.read_text() == "kept\n"
    assert not (tmp_path / "r.rrd").exists()


def test_a_failed_write_says_so_and_the_recording_is_still_delivered(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "dev.conll"
    source.write_text(agreeing_conll_text(dslim_model, tmp_path, seed=3), encoding="utf-8")
    target = tmp_path / "gone" / "s.jsonl"  # the folder vanished after the check
    prelude = "import llm_embedding_ner.viewer.outputs as f\nf.check_new_file = lambda *args: None"
    argv = ["--model", str(dslim_model_dir), "--file", str(source), "-q", "--suspects", str(target)]
    out = tmp_path / "kept.rrd"
    result = run_main([*argv, "--headless", "--save", str(out)], tmp_path, dict(os.environ), prelude)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot write --suspects {target}: ")
    assert out.stat().st_size > 0 and "/umap_embeddings_suspects" in read_rrd(out)


def test_input_without_gold_labels_logs_no_suspects(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plain.rrd"
    result = run_cli(
        "--model", str(dslim_model_dir), "--text", "Ada Lovelace met Charles Babbage.", "--save", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "suspect" not in result.stderr
    logged = read_rrd(out)
    assert "/suspects" not in logged and "/umap_embeddings_suspects" not in logged


def test_each_suspect_names_its_sentence_line_or_row_in_the_input(
    dslim_model, tmp_path: Path, uncapped_suspects: None
) -> None:
    """A suspect can be joined back to its input: the CoNLL line its sentence starts on, the
    JSON Lines line (empty lines counted, as an editor counts them) and the row's id."""
    from llm_embedding_ner.inputs.corpus import read_corpus

    conll = tmp_path / "dev.conll"
    conll.write_text(conll_text(seed=11, iob1=False), encoding="utf-8")
    lines = conll.read_text(encoding="utf-8").split("\n")
    found = analyze(read_corpus(None, str(conll), ""), dslim_model).suspects
    assert found
    for s in found:
        record = s.record(1)
        assert lines[record["origin"]["line"] - 1].split()[0] == s.sentence_words[0]

    rows = []
    for i, sentence in enumerate(conll_text(seed=11, iob1=False).split("\n\n")):
        pairs = [line.split() for line in sentence.splitlines() if not line.startswith("-DOCSTART-")]
        if pairs:
            rows.append({"id": f"s{i}", "tokens": [p[0] for p in pairs], "ner_tags": [p[-1] for p in pairs]})
    jsonl = tmp_path / "dev.jsonl"
    jsonl.write_text("\n\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")  # empty lines between
    written = jsonl.read_text(encoding="utf-8").split("\n")
    found = analyze(read_corpus(None, str(jsonl), ""), dslim_model).suspects
    assert found
    for s in found:
        origin = s.record(1)["origin"]
        row = json.loads(written[origin["line"] - 1])
        assert row["id"] == origin["id"] and row["tokens"] == list(s.sentence_words)
