"""The recording is never lost: no viewer, no display, a viewer that is gone."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_embedding_ner.viewer.delivery import new_recording_path, spawn_blocker, viewer_executable

from ..test_cli import read_rrd


def no_rerun(*_args: object, **_kwargs: object) -> None:
    return None


def test_a_viewer_needs_the_rerun_executable_and_on_linux_a_display(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    blocker = spawn_blocker({"DISPLAY": ":0"}, "linux", str(python), no_rerun)
    assert blocker is not None and "no `rerun` executable" in blocker
    # A venv's rerun beside its Python counts, on PATH or not (the venv not activated).
    rerun = python.parent / "rerun"
    rerun.write_text("#!/bin/sh\n")
    rerun.chmod(rerun.stat().st_mode | stat.S_IXUSR)
    assert viewer_executable({}, str(python), no_rerun) == str(rerun)
    assert spawn_blocker({"DISPLAY": ":0"}, "linux", str(python), no_rerun) is None
    assert spawn_blocker({"WAYLAND_DISPLAY": "wayland-0"}, "linux", str(python), no_rerun) is None
    assert "no display" in (spawn_blocker({}, "linux", str(python), no_rerun) or "")
    assert spawn_blocker({}, "darwin", str(python), no_rerun) is None  # macOS and Windows need none


def test_a_new_recording_file_never_overwrites_one(tmp_path: Path) -> None:
    first = new_recording_path(tmp_path, stamp="20261126-120000")
    first.write_bytes(b"kept")
    second = new_recording_path(tmp_path, stamp="20261126-120000")
    assert (first.name, second.name) == (
        "llm_embedding_ner-20261126-120000.rrd",
        "llm_embedding_ner-20261126-120000-2.rrd",
    )
    assert first.read_bytes() == b"kept" and second.exists()


def run_main(
    argv: list[str], cwd: Path, env: dict[str, str], prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    """The command line in a new process, after ``prelude`` (Python that forces a condition)."""
    code = f"import sys\n{prelude}\nfrom llm_embedding_ner.cli import main\nsys.exit(main({argv!r}))\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(__file__).parents[2])},
        timeout=300,
        check=False,
    )


def saved_recording(stderr: str, cwd: Path) -> Path:
    (line,) = stderr.strip().splitlines()  # one line, nothing else
    assert "Traceback" not in stderr
    (path,) = cwd.glob("llm_embedding_ner-*.rrd")
    assert str(path.name) in line and f"`rerun {path.name}`" in line and "--serve" in line
    return path


def without_display() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def default_text_tokens(model) -> int:
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT
    from llm_embedding_ner.pipeline import predict

    return len(predict(read_corpus(None, None, DEFAULT_TEXT), model).labels)


def assert_whole_recording(path: Path, tokens: int) -> None:
    logged = read_rrd(path)
    assert {"/text", "/tokenized_text", "/named_entities"} <= set(logged)
    assert len(logged["/umap_embeddings"]["Points3D:positions"]) == tokens


def test_without_a_display_the_recording_is_saved_and_the_run_succeeds(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    result = run_main(["--model", str(dslim_model_dir), "-q"], tmp_path, without_display())
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("no viewer can be started here: no display")
    assert_whole_recording(saved_recording(result.stderr, tmp_path), default_text_tokens(dslim_model))


def test_without_the_rerun_executable_the_recording_is_saved(dslim_model_dir: Path, tmp_path: Path) -> None:
    # A Python with no rerun beside it and none on PATH, though a display is there.
    prelude = f"sys.executable = {str(tmp_path / 'python')!r}"
    env = {**os.environ, "PATH": "/usr/bin:/bin", "DISPLAY": ":0"}
    result = run_main(["--model", str(dslim_model_dir), "-q"], tmp_path, env, prelude)
    assert result.returncode == 0, result.stderr
    assert "no viewer can be started here: no `rerun` executable on PATH" in result.stderr
    saved_recording(result.stderr, tmp_path)


@pytest.fixture
def viewer_that_hangs_up() -> Iterator[str]:
    """A port that accepts connections and closes each at once: a viewer that went away."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"rerun+http://127.0.0.1:{server.getsockname()[1]}/proxy"
    stop.set()
    thread.join()
    server.close()


def test_a_viewer_that_goes_away_loses_nothing(
    dslim_model, dslim_model_dir: Path, tmp_path: Path, viewer_that_hangs_up: str
) -> None:
    argv = ["--model", str(dslim_model_dir), "-q", "--connect", "--url", viewer_that_hangs_up]
    result = run_main(argv, tmp_path, without_display())
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: the recording could not be delivered (")
    assert_whole_recording(saved_recording(result.stderr, tmp_path), default_text_tokens(dslim_model))


def test_a_viewer_gone_after_the_check_passed_loses_nothing(dslim_model_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"rerun+http://127.0.0.1:{probe.getsockname()[1]}/proxy"
    prelude = "import llm_embedding_ner.viewer.delivery as d\nd._check_viewer_listening = lambda url: None"
    argv = ["--model", str(dslim_model_dir), "-q", "--connect", "--url", url]
    result = run_main(argv, tmp_path, without_display(), prelude)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: the recording could not be delivered (")
    saved_recording(result.stderr, tmp_path)


def test_serve_says_which_address_to_open_and_how_to_reach_it_over_ssh(
    dslim_model_dir: Path, tmp_path: Path
) -> None:
    import urllib.request

    from llm_embedding_ner.viewer.delivery import WEB_PORT

    code = (
        "import sys\nfrom llm_embedding_ner.cli import main\n"
        f"sys.exit(main(['--model', {str(dslim_model_dir)!r}, '-q', '--serve']))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**without_display(), "HF_HUB_OFFLINE": "1"},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # --quiet: the address is the first and only line
        assert line.startswith("serving the recording: open http://localhost:"), line
        address = line.split("open ", 1)[1].split(" ", 1)[0]
        assert address.startswith(f"http://localhost:{WEB_PORT}/?url=rerun%2Bhttp%3A%2F%2F127.0.0.1%3A")
        assert f"ssh -L {WEB_PORT}:localhost:{WEB_PORT} -L 9876:localhost:9876" in line
        with urllib.request.urlopen(address, timeout=30) as page:  # the web viewer answers there
            assert page.status == 200
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_when_the_recording_cannot_be_delivered_the_other_outputs_are_still_written(
    dslim_model, dslim_model_dir: Path, tmp_path: Path, viewer_that_hangs_up: str
) -> None:
    from ..test_pipeline import agreeing_conll_text

    source = tmp_path / "dev.conll"
    source.write_text(agreeing_conll_text(dslim_model, tmp_path, seed=3), encoding="utf-8")
    suspects, reference = tmp_path / "s.jsonl", tmp_path / "m.npz"
    argv = ["--model", str(dslim_model_dir), "--file", str(source), "-q", "--suspects", str(suspects)]
    argv += ["--save-map", str(reference), "--connect", "--url", viewer_that_hangs_up]
    result = run_main(argv, tmp_path, without_display())
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: the recording could not be delivered (")
    assert f"written to {suspects}" in lines[1] and f"to {reference}: place other texts" in lines[2]
    assert suspects.read_text(encoding="utf-8").count("\n") > 0
    from llm_embedding_ner.analysis.reference_map import load_map

    assert load_map(reference).gold_tags is not None
