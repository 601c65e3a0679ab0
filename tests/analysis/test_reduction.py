"""The reduction a corpus's neighbour search runs in keeps each point's neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from llm_embedding_ner.analysis import reduction
from llm_embedding_ner.analysis.neighbours import nearest_neighbours


def clustered(n: int, width: int, seed: int = 0) -> np.ndarray:
    """Points around 40 centres in a 12-dimensional subspace of ``width``, with a little noise in
    every direction and a shared offset: hidden states vary along few directions."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(12, width))
    latent = rng.normal(size=(40, 12))[rng.integers(0, 40, n)] * 3 + rng.normal(size=(n, 12))
    return (latent @ mixing + 0.05 * rng.normal(size=(n, width)) + 5).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "correlation"])
def test_neighbours_among_components_are_mostly_the_neighbours(
    metric: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reduction, "REDUCE_FROM", 1_000)
    monkeypatch.setattr(reduction, "DIMENSIONS", 32)
    vectors = clustered(3_000, 96)
    reduced = reduction.reduce_for_search(vectors, metric, seed=0)
    assert reduced is not None and reduced.shape == (3_000, 32) and reduced.dtype == np.float16
    exact = nearest_neighbours(vectors, 10, metric).indices
    found = nearest_neighbours(reduced.astype(np.float32), 10, "euclidean").indices
    shared = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found, strict=True)])
    assert shared > 0.8
    # Seeded: the same picture each run.
    np.testing.assert_array_equal(reduced, reduction.reduce_for_search(vectors, metric, seed=0))


def test_nothing_to_gain_no_reduction() -> None:
    assert reduction.reduce_for_search(clustered(100, 256), "cosine", 0) is None  # few points
    narrow = np.zeros((reduction.REDUCE_FROM, reduction.DIMENSIONS), np.float32)
    assert reduction.reduce_for_search(narrow, "cosine", 0) is None  # already narrow
    many = np.zeros((reduction.REDUCE_FROM, reduction.DIMENSIONS + 1), np.float32)
    assert reduction.reduce_for_search(many, "manhattan", 0) is None  # a metric PCA does not keep
