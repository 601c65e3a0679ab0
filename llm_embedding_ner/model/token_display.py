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

from .vocabulary import PieceReadings

CONTINUES_CHARACTER = "◌"  # a piece that only completes the character shown before it
MAX_SHOWN_CHARACTERS = 40  # an [UNK] can stand for a 20,000-character "word"
_WHITESPACE_SYMBOLS = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": ""}


@dataclass(frozen=True)
class ShownTokens:
    labels: list[str]  # each token on its own: point labels, Token, Nearest tokens
    link_texts: list[str]  # each token's part of its word in the tokenized text


def show_tokens(
    text: str, pieces: Sequence[str], offsets: np.ndarray, word_ids: np.ndarray, readings: PieceReadings
) -> ShownTokens:
    """Labels and link texts for tokens with these ``pieces`` and ``offsets`` into ``text``;
    ``readings`` says what each piece stands for (read while tokenizing)."""
    labels: list[str] = []
    link_texts: list[str] = []
    shared: dict[str, str] = {}  # one string per distinct text: a corpus repeats its words
    shown_until = 0  # end of the characters the current word's links already show
    words, spaces, unknown = word_ids.tolist(), readings.space_only.tolist(), readings.unknown.tolist()
    for i, (piece, (start, end)) in enumerate(zip(pieces, offsets.tolist(), strict=True)):
        if i == 0 or words[i] != words[i - 1]:
            shown_until = start
        characters = text[start:end]
        if unknown[i]:
            label = link = f"{piece}({_capped(characters)})" if characters else piece
        elif spaces[i]:
            label = link = visible_whitespace(readings.characters[i])
        else:
            if characters:
                label = readings.marks[i] + _capped(characters)
                link = _capped(text[max(start, shown_until) : end]) or CONTINUES_CHARACTER
            else:  # a piece the tokenizer gave no characters: what the piece spells
                link = _capped(readings.characters[i].strip()) or CONTINUES_CHARACTER
                label = readings.marks[i] + link
        if not spaces[i]:
            shown_until = max(shown_until, end)
        labels.append(shared.setdefault(label, label))
        link_texts.append(shared.setdefault(link, link))
    return ShownTokens(labels, link_texts)


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
