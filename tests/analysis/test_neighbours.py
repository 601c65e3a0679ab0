"""Nearest neighbours: exact, approximate and in 3D, always without the point itself."""

from __future__ import annotations

import numpy as np
import pytest

from llm_embedding_ner.analysis.neighbours import _approximate, distance_matrix, nearest_neighbours


def vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "manhattan"])
def test_exact_neighbours_are_the_nearest_others_in_order(metric: str) -> None:
    x = vectors(80)
    found = nearest_neighbours(x, 5, metric)
    distances = distance_matrix(x, metric)
    np.fill_diagonal(distances, np.inf)
    np.testing.assert_array_equal(found.indices, np.argsort(distances, axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(found.distances, np.sort(distances, axis=1)[:, :5], atol=1e-6)


def test_duplicate_points_still_exclude_themselves() -> None:
    x = np.repeat(vectors(10), 3, axis=0)  # every point has two exact copies
    for metric in ("cosine", "euclidean"):
        found = nearest_neighbours(x[:, :3] if metric == "euclidean" else x, 4, metric)
        assert not (found.indices == np.arange(30)[:, None]).any()
        assert found.indices.shape == (30, 4)


def test_3d_points_use_a_kd_tree_with_the_same_answer() -> None:
    x = vectors(200, dim=3)
    distances = distance_matrix(x, "euclidean")
    np.fill_diagonal(distances, np.inf)
    np.testing.assert_array_equal(
        nearest_neighbours(x, 5, "euclidean").indices, np.argsort(distances, 1)[:, :5]
    )


def test_approximate_neighbours_are_mostly_right_and_never_self() -> None:
    x = vectors(600, dim=8)
    exact = nearest_neighbours(x, 5, "cosine")
    approximate = _approximate(x, 5, "cosine", seed=0)
    assert not (approximate.indices == np.arange(600)[:, None]).any()
    recall = np.mean(
        [len(set(a) & set(b)) / 5 for a, b in zip(exact.indices, approximate.indices, strict=True)]
    )
    assert recall > 0.9


def test_k_is_capped_by_the_number_of_other_points() -> None:
    assert nearest_neighbours(vectors(4), 10).indices.shape == (4, 3)
    assert nearest_neighbours(vectors(1), 5).indices.shape == (1, 0)


@pytest.mark.parametrize(
    "metric", ["cosine", "euclidean", "correlation", "manhattan", "chebyshev", "canberra", "braycurtis"]
)
def test_distance_matrix_matches_scipy(metric: str) -> None:
    from scipy.spatial.distance import cdist

    x = vectors(30)
    scipy_name = {"manhattan": "cityblock"}.get(metric, metric)
    np.testing.assert_allclose(
        distance_matrix(x, metric), cdist(x.astype(np.float64), x, scipy_name), atol=1e-9
    )


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "correlation"])
def test_exact_neighbours_in_blocks_equal_the_dense_matrix(
    metric: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llm_embedding_ner.analysis.neighbours as neighbours

    x = vectors(300)
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 4 * 300 * 37)  # blocks of 37 rows, the last shorter
    blocked = neighbours._exact_in_blocks(x, 6, metric)
    dense = neighbours._exact(x, 6, metric)
    np.testing.assert_array_equal(blocked.indices, dense.indices)
    np.testing.assert_allclose(blocked.distances, dense.distances, atol=1e-5)


def test_thousands_of_tokens_get_exact_neighbours_without_nn_descent(monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_embedding_ner.analysis.neighbours as neighbours

    def refuse(*_args: object) -> None:
        raise AssertionError("NN-descent was used")

    monkeypatch.setattr(neighbours, "_approximate", refuse)
    x = vectors(5000, dim=24)
    found = nearest_neighbours(x, 5, "cosine")
    rows = np.arange(0, 5000, 97)
    distances = distance_matrix(x, "cosine")[rows]
    distances[np.arange(rows.size), rows] = np.inf
    np.testing.assert_array_equal(found.indices[rows], np.argsort(distances, axis=1, kind="stable")[:, :5])
    with pytest.raises(AssertionError, match="NN-descent"):
        nearest_neighbours(x, 5, "manhattan")  # no matrix form: approximate above 4,096 points


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "correlation"])
def test_above_the_exact_limit_an_inverted_file_index_finds_nearly_all_neighbours(
    metric: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llm_embedding_ner.analysis.neighbours as neighbours

    def refuse(*_args: object) -> None:
        raise AssertionError("NN-descent was used")

    monkeypatch.setattr(neighbours, "_approximate", refuse)  # nothing to compile in any process
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(40, 24))[rng.integers(0, 40, 6000)] + rng.normal(size=(6000, 24))).astype(
        np.float32
    )
    exact = nearest_neighbours(x, 15, metric)
    monkeypatch.setattr(neighbours, "EXACT_WORK_LIMIT", 0)
    found = nearest_neighbours(x, 15, metric, seed=3)
    assert not (found.indices == np.arange(6000)[:, None]).any()
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(exact.indices, found.indices, strict=True)])
    assert recall >= 0.95
    same = found.indices == exact.indices
    np.testing.assert_allclose(found.distances[same], exact.distances[same], atol=1e-4)
    again = nearest_neighbours(x, 15, metric, seed=3)  # one seed, one answer
    np.testing.assert_array_equal(again.indices, found.indices)
    np.testing.assert_array_equal(again.distances, found.distances)
