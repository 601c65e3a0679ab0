"""A model download shows its progress: a bar on a terminal, plain lines in a log, nothing with -q.

The downloads come from tests/fake_hub.py, a local server the Hub client is pointed at with
HF_ENDPOINT, exactly as it would download from huggingface.co.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from llm_embedding_ner.model import download_progress
from llm_embedding_ner.model.download_progress import LoggedBar, TerminalBar, bar_class

from ..fake_hub import serving
from ..test_cli import read_rrd

TEXT = "Ada Lovelace met Charles Babbage in London."


def command(out: Path, *options: str) -> list[str]:
    model = ["--model", "someone/ner"]
    return [
        sys.executable,
        "-m",
        "llm_embedding_ner",
        *model,
        "--headless",
        "--save",
        str(out),
        "--text",
        TEXT,
        *options,
    ]


def hub_env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    return {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0"}


def download(tmp_path: Path, endpoint: str, *options: str) -> subprocess.CompletedProcess[str]:
    """The command line with a model it downloads from ``endpoint``, stderr captured (not a terminal)."""
    return subprocess.run(
        command(tmp_path / "out.rrd", *options),
        env=hub_env(tmp_path, endpoint),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_download_in_a_log_is_plain_lines_and_fetches_the_tokenizer(
    tmp_path: Path, dslim_model_dir: Path
) -> None:
    with serving("someone/ner", dslim_model_dir) as (endpoint, requests):
        result = download(tmp_path, endpoint)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert sum(line.startswith("downloading someone/ner from the Hugging Face Hub") for line in lines) == 1
    assert any(line.startswith("downloaded model.safetensors: ") for line in lines), result.stderr
    assert "\r" not in result.stderr and "%|" not in result.stderr  # no bar drawn into the log
    # The tokenizer's files were fetched: transformers would otherwise make up an empty vocabulary
    # from the cached config, and every word would be [UNK].
    assert any(request.startswith("GET /someone/ner/resolve/main/tokenizer") for request in requests)
    tokens = read_rrd(tmp_path / "out.rrd")["/umap_embeddings"]["Token"]
    assert tokens and not any("[UNK]" in token for token in tokens), tokens


def test_download_on_a_terminal_draws_a_bar(tmp_path: Path, dslim_model_dir: Path) -> None:
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    with serving("someone/ner", dslim_model_dir, chunk_delay=0.05) as (endpoint, _):
        process = subprocess.Popen(
            command(tmp_path / "out.rrd"),
            env=hub_env(tmp_path, endpoint),
            stderr=terminal,
            stdout=subprocess.DEVNULL,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=300) == 0, shown.decode(errors="replace")
    os.close(main)
    text = shown.decode()
    assert "\rdownloading model.safetensors: 100%|" in text
    assert "B/s]" in text  # bytes, rate and time left: tqdm's own bar
    assert "Loading weights" not in text  # transformers' own bars stay off


def test_quiet_download_shows_nothing(tmp_path: Path, dslim_model_dir: Path) -> None:
    with serving("someone/ner", dslim_model_dir) as (endpoint, _):
        result = download(tmp_path, endpoint, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "download" not in result.stderr and "\r" not in result.stderr  # warnings may show; progress not
    assert (tmp_path / "out.rrd").stat().st_size > 0


def test_logged_bar_says_how_far_how_fast_and_how_long(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(download_progress, "EVERY_SECONDS", 0.0)
    bar = LoggedBar(desc="(…)er/resolve/main/model.safetensors", total=400_000_000, unit="B")
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"), bar:
        bar.update(100_000_000)
        bar.update_transfer(100_000_000)  # the Xet path reports network bytes too: not counted twice
        bar.update(300_000_000)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("downloading model.safetensors: 100MB of 400MB (25%), ")
    assert "B/s, about " in lines[0] and lines[0].endswith(" left")
    assert len(lines) == 2 and lines[1].startswith("downloaded model.safetensors: 400MB in ")


def test_an_unfinished_download_is_not_called_finished(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"):
        bar = LoggedBar(desc="model.safetensors: reconstructing file", total=1000)
        bar.update(10)
        bar.close()
        bar.close()
    assert caplog.records == []


def test_bar_class_follows_the_terminal_and_the_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

        def write(self, text: str) -> None:
            pass

    logger = logging.getLogger("llm_embedding_ner")
    before = logger.level
    try:
        logger.setLevel(logging.INFO)
        monkeypatch.setattr(sys, "stderr", Stream(True))
        assert bar_class() is TerminalBar
        monkeypatch.setattr(sys, "stderr", Stream(False))
        assert bar_class() is LoggedBar
        logger.setLevel(logging.WARNING)  # --quiet
        assert bar_class() is None
    finally:
        logger.setLevel(before)
