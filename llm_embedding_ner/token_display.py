"""How tokens are shown: as the characters the user wrote, in a convention for each family.

A vocabulary's pieces are not text: ``ĠM`` (byte-level BPE) is " M", ``▁M`` (SentencePiece)
is " M", ``Ã`` + ``«`` are the two bytes of "ë", and an uncased model's ``merkel`` was
"Merkel". Every token is shown from the characters its offsets cover instead, in two forms:

- its **label** (point labels, ``Token``, ``Nearest tokens``): the token on its own. A WordPiece
  piece that continues a word keeps ``##`` (``##kel``, as BERT users know it); for the families
  whose pieces carry the space before a word, a piece that starts a word starts with a space
  (`` Merkel``) and one that continues it does not (``kel``).
- its **link text** (the tokenized text): what the token adds to its word, so that the pieces
  of a word, joined, read as the word. A piece that holds only the rest of a character that the
  piece before it already showed (byte-level BPE splits "ë" into two pieces) shows ``◌``.

In both, a piece that stands only for whitespace shows it with visible symbols (``␣`` a space,
``↵`` a line break, ``⇥`` a tab), and the unknown piece keeps its marker, with the characters it
replaced after it: ``[UNK](Zoë)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .vocabulary import PieceStyle, piece_characters, starts_with_space

CONTINUES_CHARACTER = "◌"  # a piece that only completes the character shown before it
MAX_SHOWN_CHARACTERS = 40  # an [UNK] can stand for a 20,000-character "word"
_WHITESPACE_SYMBOLS = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": ""}


@dataclass(frozen=True)
class ShownTokens:
    labels: list[str]  # each token on its own: point labels, Token, Nearest tokens
    link_texts: list[str]  # each token's part of its word in the tokenized text


def show_tokens(
    text: str,
    pieces: Sequence[str],
    offsets: np.ndarray,
    word_ids: np.ndarray,
    space_only: np.ndarray,
    style: PieceStyle,
) -> ShownTokens:
    """Labels and link texts for tokens with these ``pieces`` and ``offsets`` into ``text``."""
    labels: list[str] = []
    link_texts: list[str] = []
    prefixes: dict[str, str] = {}  # a long text repeats its pieces: decode each once
    shown_until = 0  # end of the characters the current word's links already show
    words, spaces = word_ids.tolist(), space_only.tolist()
    for i, (piece, (start, end)) in enumerate(zip(pieces, offsets.tolist(), strict=True)):
        if i == 0 or words[i] != words[i - 1]:
            shown_until = start
        characters = text[start:end]
        if piece == style.unk_token:
            label = link = f"{piece}({_capped(characters)})" if characters else piece
        elif spaces[i]:
            label = link = visible_whitespace(piece_characters(piece, style))
        else:
            if piece not in prefixes:
                prefixes[piece] = _prefix(piece, style)
            if characters:
                label = prefixes[piece] + _capped(characters)
                link = _capped(text[max(start, shown_until) : end]) or CONTINUES_CHARACTER
            else:  # a piece the tokenizer gave no characters: what the piece spells
                link = _capped(piece_characters(piece, style).strip()) or CONTINUES_CHARACTER
                label = prefixes[piece] + link
        if not spaces[i]:
            shown_until = max(shown_until, end)
        labels.append(label)
        link_texts.append(link)
    return ShownTokens(labels, link_texts)


def _prefix(piece: str, style: PieceStyle) -> str:
    """What a label starts with to say where the piece sits in its word: ``##`` for a WordPiece
    continuation, a space for a piece that carries the space before its word."""
    prefix = style.continuation_prefix
    if prefix and piece.startswith(prefix) and piece != prefix:
        return prefix
    return " " if starts_with_space(piece, style) else ""


def visible_whitespace(characters: str) -> str:
    """Whitespace as symbols one can see and click: a space ␣, a line break ↵, a tab ⇥ (a CRLF
    line break is one ↵); any other whitespace shows as a space."""
    if not characters:
        return "␣"
    return "".join(_WHITESPACE_SYMBOLS.get(c, "␣") for c in characters) or "↵"  # a lone "\r"


def _capped(characters: str) -> str:
    if len(characters) <= MAX_SHOWN_CHARACTERS:
        return characters
    return characters[: MAX_SHOWN_CHARACTERS - 1] + "…"
