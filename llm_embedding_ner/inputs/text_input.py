"""Read input: the text to analyse, from the command line, a file or standard input."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def read_text(text: str | None = None, file: str | None = None, default: str = "") -> str:
    """Return the text to analyse: ``text`` if given, else the contents of ``file``
    (``"-"`` is standard input), else ``default``.

    The text is returned exactly as given (no stripping, no newline normalisation), because
    entity offsets index into it.
    """
    check_one_source(text, file)
    if file is not None:
        text = _read_file(file)
        source = _describe(file)
    elif text is not None:
        source = "--text"
    else:
        text, source = default, "the default text"
    if not text.strip():
        raise UserError(f"the text from {source} is empty; give some words to analyse")
    check_unicode(text, source)
    return text


def check_one_source(text: str | None, file: str | None) -> None:
    """Refuse ``--text`` and ``--file`` given together: the run reads one of them."""
    if text is not None and file is not None:
        raise UserError("--text and --file cannot be used together")


def check_unicode(text: str, source: str) -> None:
    """Refuse text that cannot be UTF-8: lone surrogates, which Python makes of bytes that are
    not UTF-8 in command-line arguments and lines (``surrogateescape``) and JSON makes of a
    half of an escaped pair (``"\\ud83d"``). Tokenizers raise a TypeError on them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        code = ord(text[e.start])
        if 0xDC80 <= code <= 0xDCFF:  # an escaped byte
            raise UserError(
                f"{source} is not valid UTF-8 (byte 0x{code - 0xDC00:02x} at character {e.start})"
            ) from None
        raise UserError(
            f"{source} is not valid Unicode (a lone surrogate, U+{code:04X}, at character {e.start})"
        ) from None


def _read_file(file: str) -> str:
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except FileNotFoundError:
        raise UserError(f"no such file: {file}") from None
    except IsADirectoryError:
        raise UserError(f"{file} is a directory, not a text file") from None
    except OSError as e:
        raise UserError(f"cannot read {file}: {e.strerror or e}") from None
    name = _describe(file)
    if b"\x00" in data:  # text files never hold NUL bytes; images, archives and executables do
        raise UserError(f"{name} looks like a binary file (it contains NUL bytes), not UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{name} is not valid UTF-8 (byte {e.start}); save it as UTF-8") from None
    # A UTF-8 byte-order mark is an encoding artefact, not part of the text.
    return text.removeprefix("\ufeff")


def _describe(file: str) -> str:
    return "standard input" if file == "-" else file


def split_lines(text: str) -> list[str]:
    """The lines of a record-per-line file (JSON Lines, CoNLL): broken at ``\\n`` only, a trailing
    ``\\r`` dropped. ``str.splitlines`` would also break at U+2028, U+2029, U+0085 and form feeds,
    which are valid inside a JSON string or a token."""
    return [line.removesuffix("\r") for line in text.split("\n")]
