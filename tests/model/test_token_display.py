"""Tokens shown as the characters the user wrote, for every family."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from llm_embedding_ner.model.token_display import MAX_SHOWN_CHARACTERS, show_tokens
from llm_embedding_ner.model.vocabulary import PieceStyle, read_pieces
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer.markdown import tokenized_document

from ..families import FAMILIES, WORDPIECE_FAMILIES
from ..viewer.test_markdown import link_tokens, rendered_text

WORDPIECE = PieceStyle(continuation_prefix="##", unk_token="[UNK]")
BYTE_LEVEL = PieceStyle(byte_level=True, unk_token="<unk>")
SENTENCEPIECE = PieceStyle(space_marker="▁", unk_token="<unk>")
# Accents, CJK, emoji, punctuation, a double space, a tab and line breaks.
MIXED = "Dear Zoë, Angela Merkel met São Paulo's mayor in 東京 😀 (Kraków)!\nNew  York.\tEnd\n\nÆsir."
SYMBOLS = set("␣↵⇥◌…")


def show(text: str, pieces: list[str], offsets: list[tuple[int, int]], words: list[int], style: PieceStyle):
    space_only = np.asarray(
        [(a == b or text[a:b].isspace()) and p in "ĠĊ▁" for p, (a, b) in zip(pieces, offsets, strict=True)]
    )
    readings = replace(read_pieces(pieces, style), space_only=space_only)
    return show_tokens(text, pieces, np.asarray(offsets), np.asarray(words), readings)


def test_wordpiece_keeps_its_marks_and_shows_the_original_case() -> None:
    text = "Merkel met Zoë"
    shown = show(
        text, ["merk", "##el", "met", "[UNK]"], [(0, 4), (4, 6), (7, 10), (11, 14)], [0, 0, 1, 2], WORDPIECE
    )
    assert shown.labels == ["Merk", "##el", "met", "[UNK](Zoë)"]
    assert shown.link_texts == ["Merk", "el", "met", "[UNK](Zoë)"]


def test_byte_level_pieces_show_their_characters_and_the_space_before_a_word() -> None:
    text = "Zoë São\nX"
    pieces = ["Z", "o", "Ã", "«", "ĠS", "Ã", "£", "o", "Ċ", "X"]
    offsets = [(0, 1), (1, 2), (2, 3), (2, 3), (4, 5), (5, 6), (5, 6), (6, 7), (7, 8), (8, 9)]
    shown = show(text, pieces, offsets, [0, 0, 0, 0, 1, 1, 1, 1, 2, 3], BYTE_LEVEL)
    assert shown.labels == ["Z", "o", "ë", "ë", " S", "ã", "ã", "o", "↵", "X"]
    # Joined, a word's links read as the word: the second half of a character shows ◌.
    assert shown.link_texts == ["Z", "o", "ë", "◌", "S", "ã", "◌", "o", "↵", "X"]


def test_sentencepiece_lone_space_pieces_are_visible() -> None:
    text = "in 東京"
    shown = show(text, ["▁in", "▁", "<unk>"], [(0, 2), (3, 3), (3, 5)], [0, 1, 1], SENTENCEPIECE)
    assert shown.labels == [" in", "␣", "<unk>(東京)"]
    assert shown.link_texts == ["in", "␣", "<unk>(東京)"]


def test_an_unknown_word_of_any_length_shows_its_beginning() -> None:
    text = "a" * 20_000
    shown = show(text, ["[UNK]"], [(0, 20_000)], [0], WORDPIECE)
    assert shown.labels[0] == "[UNK](" + "a" * (MAX_SHOWN_CHARACTERS - 1) + "…)"


def words_of(analysis) -> list[str]:
    """The text of each word, as the tokenized text should read it."""
    text, spans = analysis.text, {}
    for w, (a, b), space in zip(
        analysis.word_ids.tolist(), analysis.offsets.tolist(), analysis.space_only, strict=True
    ):
        if not space:
            first, last = spans.get(w, (a, b))
            spans[w] = (min(first, a), max(last, b))
    return [text[a:b] for a, b in spans.values()]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_shows_the_users_characters(family: str, family_models: dict) -> None:
    model = family_models[family]
    a = analyze(MIXED, model)
    n = len(model.tokenizer(MIXED, add_special_tokens=False).input_ids)
    assert len(a.tokens) == len(a.pieces) == len(a.link_texts) == n
    assert a.pieces == model.tokenizer.convert_ids_to_tokens(
        model.tokenizer(MIXED, add_special_tokens=False).input_ids
    )
    unk = model.tokenizer.unk_token
    for label, link, piece in zip(a.tokens, a.link_texts, a.pieces, strict=True):
        for shown in (label, link):
            if piece == unk:  # the marker, then the characters it stands for
                assert re.fullmatch(re.escape(unk) + r"\(.+\)", shown), shown
                shown = shown[len(unk) + 1 : -1]
            elif family in WORDPIECE_FAMILIES and shown.startswith("##"):
                shown = shown[2:]
            # No vocabulary marker and no byte mojibake: only the user's characters and our symbols.
            assert set(shown) <= set(MIXED) | SYMBOLS, (piece, shown)
        assert label.strip() and link.strip()
        if family not in WORDPIECE_FAMILIES and piece[0] in "Ġ▁" and len(piece) > 1:
            assert label.startswith(" "), (piece, label)  # a piece that starts a word
    if family == "roberta":
        assert "ë" in a.tokens and "◌" in a.link_texts and "↵" in a.tokens  # bytes of one character
    assert a.entities and all(e.text == e.text.strip() != "" for e in a.entities)
    assert all(a.text[e.start : e.end] == e.text for e in a.entities)

    # The tokenized text reads as the words, pieces joined, words apart.
    document = tokenized_document(a.text, a.link_texts, a.offsets, a.word_ids, space_only=a.space_only)
    links = link_tokens(document)
    assert [href for _, href in links] == [f"recording://umap_embeddings[#{i}]" for i in range(n)]
    shown = re.sub(re.escape(unk) + r"\(([^)]*)\)", r"\1", rendered_text(document))
    shown_words = [w for w in re.sub("[␣↵⇥◌]", " ", shown).split()]
    assert "".join(shown_words) == "".join(words_of(a)) == "".join(MIXED.split())
