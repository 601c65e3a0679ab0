"""Cutting long texts into windows and choosing, for each token, the window it is read from."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_embedding_ner.model.windows import assign_tokens, make_windows, plan_windows, special_frame, tokenize
from llm_embedding_ner.pipeline import analyze

from ..conftest import CORPUS
from ..families import FAMILIES

MIXED_WORDS = [
    *["Dear", "Zoë", ",", "Angela", "Merkel", "met", "São", "Paulo", "'s", "mayor", "in"],
    *["東京", "😀", "(", "Kraków", ")", "!", "New", "York", "."],
]


def context(token: int, start: int, size: int, n: int) -> int:
    end = min(start + size, n)
    left = token - start if start > 0 else n
    right = end - 1 - token if end < n else n
    return min(left, right)


@pytest.mark.parametrize(
    ("n", "size", "overlap"),
    [
        (1, 5, 2),
        (5, 5, 2),
        (6, 5, 2),
        (100, 10, 4),
        (1000, 510, 128),
        (37, 8, 0),
        (37, 8, 100),
        (513, 30, 15),
    ],
)
def test_windows_cover_every_token_and_each_token_gets_its_best_window(
    n: int, size: int, overlap: int
) -> None:
    starts = plan_windows(n, size, overlap)
    assert starts[0] == 0 and min(starts[-1] + size, n) == n
    assert np.all(np.diff(starts) > 0)
    if n > size:
        assert np.all(starts + size <= n)  # every window full: no padding needed
    owner = assign_tokens(n, starts, size)
    assert owner.shape == (n,)
    for token in range(n):
        window = owner[token]
        assert starts[window] <= token < starts[window] + size
        containing = [w for w, s in enumerate(starts) if s <= token < s + size]
        best = max(context(token, starts[w], size, n) for w in containing)
        assert context(token, starts[window], size, n) == best


def test_overlap_leaves_each_token_far_from_the_edge_of_its_window() -> None:
    n, size, overlap = 5000, 510, 128
    starts = plan_windows(n, size, overlap)
    owner = assign_tokens(n, starts, size)
    contexts = [context(t, starts[owner[t]], size, n) for t in range(n)]
    assert min(contexts) >= overlap // 2 - 1


def test_make_windows_frames_each_window_with_special_tokens(dslim_model) -> None:
    tokenizer = dslim_model.tokenizer
    text = " ".join(CORPUS) * 3
    tokens = tokenize(tokenizer, text)
    prefix, suffix = special_frame(tokenizer)
    assert prefix == [tokenizer.cls_token_id] and suffix == [tokenizer.sep_token_id]
    windows = make_windows(tokens, prefix, suffix, max_length=40, overlap=10)
    assert windows.input_ids.shape[1] == 40
    for row, start in zip(windows.input_ids, windows.starts, strict=True):
        assert row[0] == tokenizer.cls_token_id and row[-1] == tokenizer.sep_token_id
        np.testing.assert_array_equal(row[1:-1], tokens.ids[start : start + 38])


def test_tokenize_matches_the_tokenizer_without_special_tokens(dslim_model) -> None:
    text = CORPUS[1]
    tokens = tokenize(dslim_model.tokenizer, text)
    assert tokens.ids.tolist() == dslim_model.tokenizer(text, add_special_tokens=False).input_ids
    assert [text[s:e] for s, e in tokens.offsets.tolist()][:3] == ["Angela", "Merkel", "met"]


def test_long_text_gives_one_point_per_token(short_window_model_dir) -> None:
    words = " ".join(CORPUS).split()
    text = " ".join(words[i % len(words)] for i in range(5000))
    a = analyze(text, str(short_window_model_dir), device="cpu")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(short_window_model_dir)
    n = len(tokenizer(text, add_special_tokens=False, verbose=False).input_ids)
    assert n > 5000
    assert len(a.tokens) == n and a.coordinates.shape == (n, 3) and a.class_ids.shape == (n,)
    assert all(text[e.start : e.end] == e.text for e in a.entities)


@given(n=st.integers(1, 3000), size=st.integers(1, 600), overlap=st.integers(0, 700))
@settings(max_examples=300, deadline=None)
def test_stitching_assigns_every_token_to_exactly_one_window_that_holds_it(
    n: int, size: int, overlap: int
) -> None:
    starts = plan_windows(n, size, overlap)
    owner = assign_tokens(n, starts, size)
    assert owner.shape == (n,) and owner.min() >= 0 and owner.max() < starts.size
    tokens = np.arange(n)
    assert np.all((starts[owner] <= tokens) & (tokens < starts[owner] + size))
    # Windows are full (no padding) and together cover the text.
    assert np.all(np.minimum(starts + size, n) - starts == min(size, n))
    assert starts[0] == 0 and min(starts[-1] + size, n) == n


@pytest.mark.parametrize("family", FAMILIES)
def test_conll_words_are_read_as_the_same_words_typed_in(family: str, family_models: dict) -> None:
    from llm_embedding_ner.inputs.conll import parse_conll
    from llm_embedding_ner.model.windows import tokenize_words

    tokenizer = family_models[family].tokenizer
    sentences = [MIXED_WORDS[:9], MIXED_WORDS[9:]]
    conll = "-DOCSTART- O\n\n" + "\n\n".join("\n".join(f"{w} O" for w in s) for s in sentences) + "\n"
    (document,) = parse_conll(conll, "test.conll")
    tokens = tokenize_words(tokenizer, document.text, document.words)
    typed = tokenizer(" ".join(MIXED_WORDS), add_special_tokens=False).input_ids
    assert tokens.ids.tolist() == typed  # byte-level BPE: "Ġ" before every word but the first
    assert tokens.pieces == tokenizer.convert_ids_to_tokens(typed)
    # Each piece lies in its own gold word, and the words' pieces come in order.
    assert np.all(np.diff(tokens.word_ids) >= 0)
    for word, (start, end) in zip(tokens.word_ids.tolist(), tokens.offsets.tolist(), strict=True):
        word_start, word_end = document.words[word]
        assert word_start <= start <= end <= word_end
    assert set(tokens.word_ids.tolist()) == set(range(len(MIXED_WORDS)))  # every word has a piece


@pytest.mark.parametrize("family", FAMILIES)
def test_offsets_never_hold_the_whitespace_around_a_piece(family: str, family_models: dict) -> None:
    text = "  Dear Zoë,\n\n Angela  Merkel\tmet 東京 😀 (Kraków)!  \n"
    tokens = tokenize(family_models[family].tokenizer, text)
    for (start, end), space in zip(tokens.offsets.tolist(), tokens.space_only.tolist(), strict=True):
        covered = text[start:end]
        assert covered.isspace() or covered == "" if space else covered == covered.strip() != ""


def test_own_characters_narrow_offsets_to_what_a_piece_stands_for() -> None:
    from llm_embedding_ner.model.windows import own_characters

    text = "met Merkel"
    # DeBERTa-v3 counts the space before a word as its first piece's; XLM-R points a lone "▁" at
    # the character after it; a line-break piece keeps its line break.
    offsets = np.asarray([(0, 3), (3, 5), (5, 10), (4, 5)])
    space_only = np.asarray([False, False, False, True])
    assert own_characters(text, offsets, space_only).tolist() == [[0, 3], [4, 5], [5, 10], [4, 4]]
    assert own_characters("a\nb", np.asarray([(1, 2)]), np.asarray([True])).tolist() == [[1, 2]]


def test_whitespace_list_is_every_unicode_space() -> None:
    from llm_embedding_ner.model.windows import WHITESPACE

    assert sorted(WHITESPACE) == [chr(c) for c in range(0x110000) if chr(c).isspace()]


@pytest.mark.parametrize("family", ["roberta", "xlm-roberta", "deberta-v3"])
def test_long_text_fits_each_familys_positions(family: str, family_models: dict) -> None:
    # The RoBERTa-style tokenizers are saved without model_max_length: the window length comes
    # from the config's 66 positions less the 2 reserved ones. Reading past them used to crash.
    model = family_models[family]
    assert model.max_length == 64
    text = " ".join(CORPUS) * 2
    a = analyze(text, model)
    n = len(model.tokenizer(text, add_special_tokens=False).input_ids)
    assert n > 3 * model.max_length and len(a.tokens) == n and a.coordinates.shape == (n, 3)
