"""Reading the text from --text, a file or standard input."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.inputs.text_input import read_text


def test_text_wins_over_default_and_is_kept_exactly() -> None:
    assert read_text("  Ada\r\nLovelace ", None, "default") == "  Ada\r\nLovelace "
    assert read_text(None, None, "default") == "default"


def test_file_is_read_as_utf8_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes("\ufeffKraków\n".encode())
    assert read_text(None, str(path)) == "Kraków\n"


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"from stdin")))
    assert read_text(None, "-") == "from stdin"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"caf\xe9"), "not valid UTF-8"),
        (lambda p: p.write_text(" \n\t "), "is empty"),
    ],
)
def test_bad_files_are_user_errors(tmp_path: Path, setup, message: str) -> None:
    path = tmp_path / "input.txt"
    setup(path)
    with pytest.raises(UserError, match=message):
        read_text(None, str(path))


def test_empty_text_and_both_sources_are_user_errors() -> None:
    with pytest.raises(UserError, match="empty"):
        read_text("   ", None)
    with pytest.raises(UserError, match="cannot be used together"):
        read_text("a", "b.txt")
