"""Cutting long texts into windows and choosing, for each token, the window it is read from."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.windows import assign_tokens, make_windows, plan_windows, special_frame, tokenize

from .conftest import CORPUS


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
