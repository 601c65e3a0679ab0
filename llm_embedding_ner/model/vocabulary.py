"""What a vocabulary's pieces stand for.

Each tokenizer family writes its pieces in its own convention:

- WordPiece (BERT, DistilBERT, ELECTRA): ``##`` starts a piece that continues a word.
- byte-level BPE (RoBERTa, GPT-2, ModernBERT): every byte is written as one printable
  character (a space is ``Ġ``, a line break ``Ċ``), so a piece can hold part of a character.
- SentencePiece with Metaspace (XLM-R, DeBERTa-v3, T5): ``▁`` stands for the space before a word.

``piece_style`` reads which one a tokenizer uses from its decoder, and ``piece_characters``
turns a piece back into the characters it stands for. ``read_pieces`` asks both once, while
tokenizing, and hands on what each token's piece stands for as data (``PieceReadings``), so no
later stage consults the style again. Nothing here looks at the user's text: that is what
offsets are for; this says what the model itself read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PieceStyle:
    """How a vocabulary writes its pieces."""

    continuation_prefix: str = ""  # "##" for WordPiece: a piece that continues a word starts with it
    space_marker: str = ""  # "▁" for SentencePiece: the space before a word
    byte_level: bool = False  # pieces are bytes written as characters (GPT-2's table)
    unk_token: str | None = None  # the piece for what the vocabulary cannot spell

    @property
    def marks_word_starts(self) -> bool:
        """True when a piece that starts a word carries the space before it (Ġ, ▁)."""
        return self.byte_level or bool(self.space_marker)


def piece_style(tokenizer: Any) -> PieceStyle:
    """The piece convention of a fast (Rust-backed) transformers tokenizer, read from its decoder
    (the part that turns pieces back into text) and its model. A tokenizer whose convention is none
    of the three gets the plain style: pieces are shown by the characters they cover."""
    backend = tokenizer.backend_tokenizer
    decoder = json.loads(backend.decoder.__getstate__()) if backend.decoder is not None else {}
    style = PieceStyle(unk_token=tokenizer.unk_token)
    for part in _decoder_parts(decoder):
        kind = part.get("type")
        if kind == "ByteLevel":
            style = replace(style, byte_level=True)
        elif kind == "Metaspace":
            style = replace(style, space_marker=part.get("replacement", "▁"))
        elif kind == "Replace" and part.get("content") == " " and "String" in part.get("pattern", {}):
            # SentencePiece BPE (Llama-style) writes Replace("▁", " ") instead of a Metaspace decoder.
            style = replace(style, space_marker=part["pattern"]["String"])
        elif kind == "WordPiece":
            style = replace(style, continuation_prefix=part.get("prefix", "##"))
    if not (style.continuation_prefix or style.marks_word_starts):
        # No decoder saved with the tokenizer: a WordPiece model still names its prefix.
        prefix = getattr(backend.model, "continuing_subword_prefix", None)
        if type(backend.model).__name__ == "WordPiece" and prefix:
            style = replace(style, continuation_prefix=prefix)
    return style


def _decoder_parts(decoder: dict[str, Any]) -> list[dict[str, Any]]:
    if decoder.get("type") == "Sequence":
        return [part for child in decoder.get("decoders", []) for part in _decoder_parts(child)]
    return [decoder] if decoder else []


def piece_characters(piece: str, style: PieceStyle) -> str:
    """The characters ``piece`` stands for, as the model read them: markers become the space they
    stand for, bytes become characters, and bytes of a character that the piece holds only part of
    become U+FFFD. A WordPiece continuation loses its ``##``."""
    if style.byte_level:
        table = _byte_decoder()
        if all(c in table for c in piece):
            return bytes(table[c] for c in piece).decode("utf-8", errors="replace")
        return piece  # added tokens are written as they are
    if style.space_marker:
        return piece.replace(style.space_marker, " ")
    prefix = style.continuation_prefix
    return piece[len(prefix) :] if prefix and piece.startswith(prefix) and piece != prefix else piece


def starts_with_space(piece: str, style: PieceStyle) -> bool:
    """True when the piece carries the space before its word (``Ġword``, ``▁word``)."""
    return style.marks_word_starts and piece_characters(piece, style)[:1].isspace()


def is_space_only(piece: str, style: PieceStyle) -> bool:
    """True for a piece that stands only for whitespace: a lone ``▁`` or ``Ġ``, ``Ċ`` (a line break)."""
    if not style.marks_word_starts:
        return False
    return piece_characters(piece, style).isspace()


def word_mark(piece: str, style: PieceStyle) -> str:
    """Where the piece sits in its word, as a label starts with it: ``##`` for a WordPiece
    continuation, a space for a piece that carries the space before its word, else nothing."""
    prefix = style.continuation_prefix
    if prefix and piece.startswith(prefix) and piece != prefix:
        return prefix
    return " " if starts_with_space(piece, style) else ""


@dataclass(frozen=True)
class PieceReadings:
    """What each token's piece stands for, read once while tokenizing (``read_pieces``)."""

    characters: list[str]  # (n,) what the piece spells: markers as spaces, bytes as characters
    marks: list[str]  # (n,) "##", " " or "": where the piece sits in its word (``word_mark``)
    space_only: np.ndarray  # (n,) bool: the piece stands only for whitespace
    unknown: np.ndarray  # (n,) bool: the vocabulary's piece for what it cannot spell

    def part(self, first: int, end: int) -> PieceReadings:
        """The readings of tokens ``first:end``."""
        cut = slice(first, end)
        return PieceReadings(self.characters[cut], self.marks[cut], self.space_only[cut], self.unknown[cut])

    @staticmethod
    def join(parts: Sequence[PieceReadings]) -> PieceReadings:
        """Several texts' readings as one, in order."""
        return PieceReadings(
            [c for part in parts for c in part.characters],
            [m for part in parts for m in part.marks],
            np.concatenate([part.space_only for part in parts]) if parts else np.zeros(0, dtype=bool),
            np.concatenate([part.unknown for part in parts]) if parts else np.zeros(0, dtype=bool),
        )


def read_pieces(pieces: Sequence[str], style: PieceStyle, ids: np.ndarray | None = None) -> PieceReadings:
    """What each of ``pieces`` stands for in ``style``: each distinct piece is read once (per
    process: a corpus's documents share their pieces), then spread over the tokens by index.
    ``ids``, the pieces' vocabulary ids where known, find the distinct pieces faster."""
    known = _READ.setdefault(style, {})
    if ids is not None:
        _, first, index = np.unique(ids, return_index=True, return_inverse=True)
        distinct = [pieces[i] for i in first.tolist()]
    else:
        seen: dict[str, int] = {}
        index = np.fromiter((seen.setdefault(p, len(seen)) for p in pieces), np.int64, len(pieces))
        distinct = list(seen)
    read = [known[p] if p in known else known.setdefault(p, _reading(p, style)) for p in distinct]

    def column(i: int, dtype: type) -> np.ndarray:
        return np.asarray([r[i] for r in read], dtype=dtype)[index]

    characters, marks = column(0, object).tolist(), column(1, object).tolist()
    return PieceReadings(characters, marks, column(2, bool), column(3, bool))


# Readings of the pieces met so far, by style: at most a vocabulary's worth each.
_READ: dict[PieceStyle, dict[str, tuple[str, str, bool, bool]]] = {}


def _reading(piece: str, style: PieceStyle) -> tuple[str, str, bool, bool]:
    characters = piece_characters(piece, style)
    space_only = style.marks_word_starts and characters.isspace()
    return characters, word_mark(piece, style), space_only, piece == style.unk_token


@cache
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-to-character table, inverted. Bytes that are printable and not a space keep
    their own character; the other 68 (controls, space, a few Latin-1 ones) are moved, in order,
    to the characters from U+0100 on, so that every piece is printable: 0x20 becomes Ġ (U+0120)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {chr(b): b for b in printable}
    moved = [b for b in range(256) if b not in table.values()]
    table.update({chr(256 + i): b for i, b in enumerate(moved)})
    return table
