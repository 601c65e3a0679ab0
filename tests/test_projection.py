"""UMAP projection to 3D, its determinism, and the fallback for a handful of points."""

from __future__ import annotations

import numpy as np
import pytest

from llm_embedding_ner.projection import (
    MIN_UMAP_POINTS,
    ProjectionSettings,
    distance_matrix,
    pca_3d,
    project_to_3d,
)


def vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def test_umap_is_deterministic_with_a_seed() -> None:
    x = vectors(60)
    first, second = project_to_3d(x), project_to_3d(x)
    assert first.method == "umap" and first.coordinates.shape == (60, 3)
    np.testing.assert_array_equal(first.coordinates, second.coordinates)
    other = project_to_3d(x, ProjectionSettings(seed=7))
    assert not np.array_equal(first.coordinates, other.coordinates)


@pytest.mark.parametrize("n", [1, 2, 3, MIN_UMAP_POINTS - 1])
def test_few_points_fall_back_to_pca_with_a_warning(n: int) -> None:
    with pytest.warns(UserWarning, match="too few for UMAP"):
        projection = project_to_3d(vectors(n))
    assert projection.method == "pca"
    assert projection.coordinates.shape == (n, 3) and np.isfinite(projection.coordinates).all()


@pytest.mark.parametrize("n", [MIN_UMAP_POINTS, 10, 15])
def test_small_clouds_use_fewer_neighbours(n: int) -> None:
    with pytest.warns(UserWarning, match="neighbours instead of 15"):
        projection = project_to_3d(vectors(n))
    assert projection.method == "umap" and projection.coordinates.shape == (n, 3)
    assert np.isfinite(projection.coordinates).all()


def test_pca_keeps_the_main_direction() -> None:
    line = np.outer(np.arange(10, dtype=np.float32), np.ones(8, dtype=np.float32))
    coordinates = pca_3d(line)
    assert np.allclose(coordinates[:, 1:], 0, atol=1e-4)
    assert np.all(np.diff(coordinates[:, 0]) != 0)


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


def test_exact_and_approximate_paths_both_project(monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_embedding_ner.projection as projection

    x = vectors(300)
    exact = project_to_3d(x)
    monkeypatch.setattr(projection, "EXACT_NEIGHBOURS_BELOW", 100)
    monkeypatch.setattr(projection, "LARGE_INPUT_POINTS", 200)
    approximate = project_to_3d(x)
    assert exact.coordinates.shape == approximate.coordinates.shape == (300, 3)
    assert np.isfinite(approximate.coordinates).all()
