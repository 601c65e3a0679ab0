"""Decoding hand-written label sequences into entities, without a model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_embedding_ner.analysis.entities import decode_entities, entity_types, split_label, token_entity_index


def tokens_of(text: str, pieces: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and word ids for ``pieces`` (``##`` marks a continuation) found in ``text``."""
    offsets, word_ids, cursor, word = [], [], 0, -1
    for piece in pieces:
        continuation = piece.startswith("##")
        surface = piece[2:] if continuation else piece
        start = text.index(surface, cursor)
        if not continuation:
            word += 1
        offsets.append((start, start + len(surface)))
        word_ids.append(word)
        cursor = start + len(surface)
    return np.asarray(offsets), np.asarray(word_ids)


def decode(text: str, pieces: list[str], labels: list[str]) -> list[tuple[str, str]]:
    offsets, word_ids = tokens_of(text, pieces)
    scores = np.linspace(0.5, 0.9, len(labels))
    return [(e.type, e.text) for e in decode_entities(text, offsets, word_ids, labels, scores)]


def test_entity_as_the_very_last_token_is_kept() -> None:
    text = "I live in Berlin"
    assert decode(text, ["I", "live", "in", "Berlin"], ["O", "O", "O", "B-LOC"]) == [("LOC", "Berlin")]


def test_multiword_entity_ending_the_text() -> None:
    text = "met Angela Merkel"
    assert decode(text, ["met", "Angela", "Merkel"], ["O", "B-PER", "I-PER"]) == [("PER", "Angela Merkel")]


def test_i_after_o_starts_an_entity() -> None:
    text = "the New York office"
    got = decode(text, ["the", "New", "York", "office"], ["O", "I-LOC", "I-LOC", "O"])
    assert got == [("LOC", "New York")]


def test_i_after_another_type_starts_a_new_entity() -> None:
    text = "Paris Hilton"
    assert decode(text, ["Paris", "Hilton"], ["B-LOC", "I-PER"]) == [("LOC", "Paris"), ("PER", "Hilton")]


def test_b_after_b_of_same_type_splits() -> None:
    text = "Merkel Macron"
    assert decode(text, ["Merkel", "Macron"], ["B-PER", "B-PER"]) == [("PER", "Merkel"), ("PER", "Macron")]


def test_word_takes_its_first_subword_label_and_keeps_original_characters() -> None:
    text = "Visit Skłodowska now"
    pieces = ["Visit", "Skł", "##odo", "##wska", "now"]
    # Later subwords disagree; the first decides, and the span is the original slice.
    assert decode(text, pieces, ["O", "B-PER", "O", "B-LOC", "O"]) == [("PER", "Skłodowska")]
    assert decode(text, pieces, ["O", "O", "B-PER", "I-PER", "O"]) == []


def test_punctuation_is_its_own_word() -> None:
    text = "Smith, Jones."
    got = decode(text, ["Smith", ",", "Jones", "."], ["B-PER", "I-PER", "I-PER", "O"])
    assert got == [("PER", "Smith, Jones")]
    got = decode(text, ["Smith", ",", "Jones", "."], ["B-PER", "O", "B-PER", "I-PER"])
    assert got == [("PER", "Smith"), ("PER", "Jones.")]


def test_offsets_slice_the_original_text_exactly() -> None:
    text = "  AT&T  bought   Time Warner\n"
    pieces = ["AT", "&", "T", "bought", "Time", "Warner"]
    offsets, word_ids = tokens_of(text, pieces)
    labels = ["B-ORG", "I-ORG", "I-ORG", "O", "B-ORG", "I-ORG"]
    entities = decode_entities(text, offsets, word_ids, labels, np.ones(6))
    assert [(e.start, e.end, e.text) for e in entities] == [(2, 6, "AT&T"), (17, 28, "Time Warner")]
    assert all(text[e.start : e.end] == e.text for e in entities)
    assert [(e.first_token, e.end_token) for e in entities] == [(0, 3), (4, 6)]


def test_bioes_and_unprefixed_labels() -> None:
    text = "a b c d e"
    pieces = text.split()
    assert decode(text, pieces, ["S-X", "B-X", "E-X", "I-X", "O"]) == [("X", "a"), ("X", "b c"), ("X", "d")]
    assert decode(text, pieces, ["DATE", "DATE", "O", "TIME", "DATE"]) == [
        ("DATE", "a b"),
        ("TIME", "d"),
        ("DATE", "e"),
    ]


def test_score_is_the_mean_of_word_scores() -> None:
    text = "New York"
    offsets, word_ids = tokens_of(text, ["New", "York"])
    (entity,) = decode_entities(text, offsets, word_ids, ["B-LOC", "I-LOC"], np.array([0.6, 0.8]))
    assert entity.score == pytest.approx(0.7)


def test_token_entity_index_marks_every_token_of_an_entity() -> None:
    text = "see Skłodowska run"
    offsets, word_ids = tokens_of(text, ["see", "Skł", "##odowska", "run"])
    entities = decode_entities(text, offsets, word_ids, ["O", "B-PER", "O", "O"], np.ones(4))
    assert token_entity_index(4, entities).tolist() == [-1, 0, 0, -1]


def test_split_label() -> None:
    assert split_label("B-PER") == ("B", "PER")
    assert split_label("I-ORG") == ("I", "ORG")
    assert split_label("O") == (None, None)
    assert split_label("PERSON") == (None, "PERSON")
    assert split_label("X-RAY") == (None, "X-RAY")


def test_entity_types_fix_conll_order_and_keep_others_in_label_order() -> None:
    dslim = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    assert entity_types(dslim) == ["LOC", "PER", "ORG", "MISC"]
    assert entity_types(["O", "B-PER", "I-PER", "B-LOC"]) == ["LOC", "PER"]
    other = ["O", "B-PERSON", "I-PERSON", "B-ORG", "B-GPE", "I-GPE", "S-DATE", "E-DATE", "L-X", "U-X"]
    assert entity_types(other) == ["PERSON", "ORG", "GPE", "DATE", "X"]


@pytest.mark.parametrize("seed", range(30))
def test_random_label_sequences_give_ordered_spans_over_non_o_words(seed: int) -> None:
    rng = np.random.default_rng(seed)
    words = ["w" + str(i) for i in range(rng.integers(1, 30))]
    text = " ".join(words)
    pieces, labels = [], []
    for word in words:
        cut = int(rng.integers(1, len(word) + 1))
        parts = [word[:cut]] + (["##" + word[cut:]] if cut < len(word) else [])
        pieces += parts
        labels += list(rng.choice(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], size=len(parts)))
    offsets, word_ids = tokens_of(text, pieces)
    entities = decode_entities(text, offsets, word_ids, labels, np.ones(len(labels)))
    ends = [0] + [e.end for e in entities]
    assert all(e.start >= prev for e, prev in zip(entities, ends, strict=False))
    covered = {m.group() for e in entities for m in re.finditer(r"w\d+", e.text)}
    first_labels = {words[w]: labels[np.flatnonzero(word_ids == w)[0]] for w in range(len(words))}
    assert covered == {w for w, label in first_labels.items() if label != "O"}


LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "MISC", "S-ORG", "E-ORG"]


@given(
    words=st.lists(
        st.tuples(st.integers(1, 3), st.lists(st.sampled_from(LABELS), min_size=3, max_size=3)),
        min_size=0,
        max_size=40,
    ),
    gaps=st.lists(st.integers(0, 3), min_size=41, max_size=41),
)
@settings(max_examples=300, deadline=None)
def test_decoding_gives_ordered_disjoint_spans_covering_exactly_the_entity_words(words, gaps) -> None:
    # Build a text of words w<i> (each split into 1-3 pieces) separated by 0-3 spaces, with
    # offsets and word ids as a tokenizer would give them.
    text, offsets, word_ids, labels, word_spans = "", [], [], [], []
    for w, (n_pieces, piece_labels) in enumerate(words):
        text += " " * (gaps[w] if w else 0)
        start = len(text)
        word = f"w{w}x"
        text += word
        cuts = np.linspace(0, len(word), n_pieces + 1).astype(int)
        for p in range(n_pieces):
            if cuts[p + 1] > cuts[p]:
                offsets.append((start + cuts[p], start + cuts[p + 1]))
                word_ids.append(w)
                labels.append(piece_labels[p])
        word_spans.append((start, len(text)))
    offsets_array = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    word_array = np.asarray(word_ids, dtype=np.int64)
    entities = decode_entities(text, offsets_array, word_array, labels, np.ones(len(labels)))

    previous_end = 0
    for entity in entities:
        assert 0 <= entity.start < entity.end <= len(text)
        assert entity.start >= previous_end  # ordered, non-overlapping
        assert text[entity.start : entity.end] == entity.text
        previous_end = entity.end
    covered = {w for w, (s, e) in enumerate(word_spans) if any(x.start <= s and e <= x.end for x in entities)}
    first_label = {w: labels[word_ids.index(w)] for w in set(word_ids)}
    assert covered == {w for w, label in first_label.items() if label != "O"}


def test_a_word_without_tokens_is_outside_every_entity() -> None:
    # "Peter <U+200B> Paris spoke": the zero-width space is a gold word with no token (a gap in
    # the word ids); it counts as O, so the entity before it ends there.
    text = "Peter \u200b Paris spoke"
    offsets = np.asarray([(0, 5), (8, 13), (14, 19)])
    word_ids = np.asarray([0, 2, 3])
    labels = ["B-LOC", "I-LOC", "O"]
    found = decode_entities(text, offsets, word_ids, labels, np.ones(3))
    assert [(e.type, e.text) for e in found] == [("LOC", "Peter"), ("LOC", "Paris")]


def test_a_gold_word_the_tokenizer_drops_leaves_a_gap(dslim_model) -> None:
    from llm_embedding_ner.model.windows import tokenize_words

    text = "Peter \u200b Paris spoke"
    tokens = tokenize_words(dslim_model.tokenizer, text, [(0, 5), (6, 7), (8, 13), (14, 19)])
    assert 1 not in tokens.word_ids.tolist() and {0, 2, 3} <= set(tokens.word_ids.tolist())
