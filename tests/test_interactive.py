"""``--interactive`` as a user drives it: sentences on standard input, each on the ``sentence``
timeline of one recording; the end of input or Ctrl-C ends it with the recording complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from llm_embedding_ner.analysis.reference_map import load_map

from .test_cli import read_rrd, read_timeline, run_cli


def test_each_line_is_a_sentence_on_its_own_step(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.rrd"
    # A blank line is no sentence; a line of characters the model drops is skipped with a warning.
    lines = "Ada Lovelace met Charles Babbage.\n\n   \n\u200b\nLondon is far from Paris.\n"
    args = ["--model", str(dslim_model_dir), "--interactive", "--headless", "--save", str(out)]
    result = run_cli(*args, stdin=lines.encode())
    assert result.returncode == 0, result.stderr
    assert (
        "sentence 0: " in result.stderr
        and "sentence 1: " in result.stderr
        and "sentence 2" not in result.stderr
    )
    assert "2 sentences on the 'sentence' timeline" in result.stderr
    assert "warning: sentence skipped: the text has no tokens for this model" in result.stderr
    steps = read_timeline(out, "sentence")
    assert sorted(steps["/text"]) == [0, 1]
    assert "Lovelace" in steps["/text"][0]["TextDocument:text"][0]
    assert "Paris" in steps["/text"][1]["TextDocument:text"][0]
    assert len(steps["/umap_embeddings"][1]["Points3D:positions"]) == len(
        steps["/umap_embeddings"][1]["Token"]
    )


def test_sentences_land_in_a_map(dslim_model_dir: Path, tmp_path: Path) -> None:
    saved = tmp_path / "m.npz"
    model = ["--model", str(dslim_model_dir)]
    text = "Ada Lovelace met Charles Babbage in London and Paris."
    made = run_cli(*model, "--text", text, "--save-map", str(saved), "--headless")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "live.rrd"
    live = [*model, "--interactive", "--map", str(saved), "--headless", "--save", str(out)]
    result = run_cli(*live, stdin=b"Babbage met Ada.\n")
    assert result.returncode == 0, result.stderr
    m = load_map(saved)
    np.testing.assert_allclose(
        read_rrd(out)["/umap_embeddings/reference"]["Points3D:positions"], m.coordinates
    )
    placed = np.asarray(read_timeline(out, "sentence")["/umap_embeddings"][0]["Points3D:positions"])
    lo, hi = m.coordinates.min(axis=0), m.coordinates.max(axis=0)
    assert ((placed >= lo - 1e-4) & (placed <= hi + 1e-4)).all()  # weighted means of map points


def test_ctrl_c_ends_the_session_with_what_was_typed_saved(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.rrd"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    args = ["--model", str(dslim_model_dir), "--interactive", "--headless", "--save", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "llm_embedding_ner", *args],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write("Ada Lovelace met Charles Babbage.\n")
    process.stdin.flush()
    said = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        said.append(line)
        if line.startswith("sentence 0:"):
            break
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, "".join(said) + rest
    assert "1 sentence on the 'sentence' timeline" in rest and "Traceback" not in rest
    assert sorted(read_timeline(out, "sentence")["/text"]) == [0]


def test_interactive_refuses_other_inputs_and_several_models(dslim_model_dir: Path) -> None:
    model = ["--model", str(dslim_model_dir)]
    result = run_cli(*model, "--interactive", "--text", "Paris.", "--headless")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --interactive reads sentences from the prompt")
    result = run_cli(*model, *model, "--interactive", "--headless")
    assert (result.returncode, result.stderr) == (
        2,
        "error: --interactive works with one model; give one --model\n",
    )


def test_a_prompt_on_a_terminal_stays_out_of_the_recording_on_stdout(
    dslim_model_dir: Path, tmp_path: Path
) -> None:
    """``--interactive --stdout | rerun -`` typed at a terminal: the prompt goes to stderr, the
    stream on stdout is a recording and nothing else."""
    import pty

    out = tmp_path / "live.rrd"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    terminal, typed = pty.openpty()
    with open(out, "wb") as stdout:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llm_embedding_ner",
                "--model",
                str(dslim_model_dir),
                "--interactive",
                "--stdout",
            ],
            stdin=typed,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    os.close(typed)
    assert process.stderr is not None
    os.write(terminal, b"Ada Lovelace met Charles Babbage.\n")
    said = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        said.append(line)
        if not line or line.startswith("sentence 0:") or "> sentence 0:" in line:
            break
    os.write(terminal, b"\x04")  # Ctrl-D on an empty line: the end of the input
    rest = process.communicate(timeout=60)[1]
    os.close(terminal)
    assert process.returncode == 0, "".join(said) + rest
    assert "> " in "".join(said)  # the prompt, on stderr
    verify = subprocess.run(
        [str(Path(sys.executable).parent / "rerun"), "rrd", "verify", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    assert sorted(read_timeline(out, "sentence")["/text"]) == [0]


def test_every_sentence_takes_the_layer_label_map_and_batch_options(
    dslim_model_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """--layers, --label-map and --batch-size apply to each sentence; a line that is not UTF-8
    is skipped with a warning and the next one is read."""
    import io

    import llm_embedding_ner.model.forward as forward
    from llm_embedding_ner.analysis.projection import ProjectionSettings
    from llm_embedding_ner.interactive import prompt
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.options import build_parser

    out = tmp_path / "live.rrd"
    viewer = ["--interactive", "--headless", "--save", str(out)]
    options = ["--layers", "all", "--label-map", "PER=PERSON,LOC=PLACE", "--batch-size", "3"]
    args = build_parser().parse_args(["--model", str(dslim_model_dir), *viewer, *options])
    batch_sizes = []
    real_read_batches = forward.read_batches

    def read_batches(model, windows, device, batch_size, *rest, **options):  # type: ignore[no-untyped-def]
        batch_sizes.append(batch_size)
        return real_read_batches(model, windows, device, batch_size, *rest, **options)

    monkeypatch.setattr(forward, "read_batches", read_batches)
    lines = b"Angela Merkel met Emmanuel Macron in Paris and London.\n"
    lines += b"Bad \xff byte.\n" + "Ada visited Kraków.\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines), encoding="utf-8"))
    model = load_model(str(dslim_model_dir), "cpu")
    assert prompt(args, model, ProjectionSettings(), None, None, None) == 0
    assert batch_sizes == [3, 3]
    steps = read_timeline(out, "layer")
    assert sorted(steps["/umap_embeddings"]) == list(range(model.n_layers + 1))
    context = read_rrd(out)["/"]
    named = str(context)
    assert "PERSON" in named and "PLACE" in named and "'PER'" not in named
    sentences = read_timeline(out, "sentence")["/text"]
    assert sorted(sentences) == [0, 1] and "Kraków" in sentences[1]["TextDocument:text"][0]


def test_a_line_that_is_not_utf8_is_skipped_and_the_next_read(dslim_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.rrd"
    args = ["--model", str(dslim_model_dir), "--interactive", "--headless", "--save", str(out)]
    result = run_cli(*args, stdin=b"Bad \xff byte.\nAda visited Paris.\n")
    assert result.returncode == 0, result.stderr
    skipped = "warning: sentence skipped: the text is not valid UTF-8 (byte 0xff at character 4)"
    assert skipped in result.stderr
    assert "1 sentence on the 'sentence' timeline" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"saved the recording to {out}")


def test_where_the_recording_went_is_said_after_the_sentences(dslim_model_dir: Path, tmp_path: Path) -> None:
    """With no viewer to start, the line naming the saved file comes at the end, once the file
    holds the sentences, not before the first one is read."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "llm_embedding_ner", "--model", str(dslim_model_dir), "--interactive"],
        input="Ada Lovelace met Charles Babbage.\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "HF_HUB_OFFLINE": "1"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("no viewer can be started here: ") and "Saved the recording to" in lines[-1]
    assert sum("Saved the recording" in line for line in lines) == 1
    (saved,) = tmp_path.glob("llm_embedding_ner-*.rrd")
    assert sorted(read_timeline(saved, "sentence")["/text"]) == [0]
