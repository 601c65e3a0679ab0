"""UMAP projection to 3D, its determinism, and the fallback for a handful of points."""

from __future__ import annotations

import numpy as np
import pytest

from llm_embedding_ner.analysis.neighbours import nearest_neighbours
from llm_embedding_ner.analysis.projection import (
    MIN_UMAP_POINTS,
    ProjectionSettings,
    align_to,
    mean_displacement,
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


def test_exact_and_approximate_paths_both_project(monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_embedding_ner.analysis.neighbours as neighbours
    import llm_embedding_ner.analysis.projection as projection

    x = vectors(300)
    exact = project_to_3d(x)
    monkeypatch.setattr(neighbours, "EXACT_BELOW", 100)
    monkeypatch.setattr(projection, "MANY_POINTS", 200)  # epochs reported
    approximate = project_to_3d(x)
    assert exact.coordinates.shape == approximate.coordinates.shape == (300, 3)
    assert np.isfinite(approximate.coordinates).all()


def test_procrustes_undoes_rotation_scale_and_shift() -> None:
    reference = vectors(50, dim=3)
    rotation, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    moved = 3.0 * reference @ rotation + np.array([5.0, -2.0, 1.0])
    np.testing.assert_allclose(align_to(moved, reference), reference, atol=1e-4)


def test_mean_displacement_ignores_scale_and_position() -> None:
    layout = vectors(40, dim=3)
    assert mean_displacement([layout, 10.0 * layout + 7.0]) == pytest.approx(0.0, abs=1e-6)
    assert mean_displacement([layout, vectors(40, dim=3, seed=5)]) > 0.5


def test_a_following_layout_moves_less_than_an_independent_fit() -> None:
    """Two neighbouring layers: the second is the first plus a little noise, as in a residual
    stream. Following the first layout keeps points in place; a fresh fit reshuffles them."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(6, 32)) * 3.0
    first = (centres[rng.integers(0, 6, 240)] + rng.normal(size=(240, 32))).astype(np.float32)
    second = first + 0.3 * rng.normal(size=first.shape).astype(np.float32)
    shown = project_to_3d(first).coordinates
    independent = project_to_3d(second, ProjectionSettings(seed=1)).coordinates
    following = project_to_3d(second, ProjectionSettings(seed=1), follow=shown).coordinates
    assert mean_displacement([shown, following]) < 0.5 * mean_displacement([shown, independent])


def test_precomputed_neighbours_are_what_umap_uses() -> None:
    x = vectors(120)
    settings = ProjectionSettings(n_neighbors=10)
    given = project_to_3d(x, settings, nearest_neighbours(x, 9, settings.metric))
    np.testing.assert_array_equal(given.coordinates, project_to_3d(x, settings).coordinates)
    # Neighbours of other points give another layout: UMAP really used the ones passed in.
    other = project_to_3d(x, settings, nearest_neighbours(vectors(120, seed=9), 9, settings.metric))
    assert not np.allclose(given.coordinates, other.coordinates)


def test_many_points_get_fewer_epochs_unless_asked() -> None:
    from llm_embedding_ner.analysis.projection import MANY_POINTS

    assert ProjectionSettings().epochs_for(MANY_POINTS - 1) == 200
    assert ProjectionSettings().epochs_for(MANY_POINTS) == 100
    assert ProjectionSettings(n_epochs=300).epochs_for(10 * MANY_POINTS) == 300


def test_placing_keeps_fixed_points_and_puts_others_among_their_neighbours() -> None:
    from llm_embedding_ner.analysis.neighbours import Neighbours
    from llm_embedding_ner.analysis.projection import place_among_neighbours

    # 0 and 1 are fixed; 2 sits between them, twice as near to 0; 3 only knows 2 (placed second).
    indices = np.array([[1, 2], [0, 2], [0, 1], [2, 2]], dtype=np.int32)
    distances = np.array([[1.0, 1.0], [1.0, 1.0], [0.5, 1.0], [0.1, 0.1]], dtype=np.float32)
    fixed = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]], dtype=np.float32)
    placed = place_among_neighbours(fixed, np.array([0, 1]), Neighbours(indices, distances))
    np.testing.assert_array_equal(placed[:2], fixed)
    w0, w1 = 1 / (0.5 + 1e-3), 1 / (1.0 + 1e-3)
    np.testing.assert_allclose(placed[2], [3.0 * w1 / (w0 + w1), 0, 0], rtol=1e-5)
    np.testing.assert_allclose(placed[3], placed[2], rtol=1e-5)


def test_large_clouds_fit_landmarks_and_place_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_embedding_ner.analysis.projection as projection

    rng = np.random.default_rng(0)
    classes = rng.integers(0, 4, 1200)
    x = (8 * rng.normal(size=(4, 16))[classes] + rng.normal(size=(1200, 16))).astype(np.float32)
    monkeypatch.setattr(projection, "LANDMARKS_FROM", 1000)
    monkeypatch.setattr(projection, "LANDMARKS", 400)
    fitted = []
    real_fit = projection.fit_umap
    monkeypatch.setattr(
        projection, "fit_umap", lambda x, *a, **k: fitted.append(len(x)) or real_fit(x, *a, **k)
    )
    first, second = project_to_3d(x), project_to_3d(x)
    np.testing.assert_array_equal(first.coordinates, second.coordinates)  # one seed, one picture
    assert fitted == [400, 1200] * 2  # the landmarks from scratch, then every point refined
    assert first.coordinates.shape == (1200, 3) and np.isfinite(first.coordinates).all()
    # The four groups stay apart: each point's nearest in 3D are of its own group.
    nearest = nearest_neighbours(first.coordinates, 5, "euclidean").indices
    assert np.mean(classes[nearest] == classes[:, None]) > 0.95
