"""Nearest neighbours of every token: shown to the user, fed to UMAP, used to score separation.

Computing them once per layer and handing them to UMAP means the "Nearest tokens" a user reads
are exactly the neighbourhoods the 3D layout was built from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

NEAREST_SHOWN = 5  # nearest tokens listed per point, and the k of the separation score
EXACT_BELOW = 4096  # where umap-learn itself switches to approximate neighbours


@dataclass(frozen=True)
class Neighbours:
    """Each point's ``k`` nearest other points, nearest first (the point itself excluded)."""

    indices: np.ndarray  # (n, k) int32
    distances: np.ndarray  # (n, k) float32


def nearest_neighbours(vectors: np.ndarray, k: int, metric: str = "cosine", seed: int = 0) -> Neighbours:
    """Exact below ``EXACT_BELOW`` points and for 3D points; NN-descent (approximate) above."""
    n = vectors.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return Neighbours(np.empty((n, 0), np.int32), np.empty((n, 0), np.float32))
    if vectors.shape[1] <= 3 and metric == "euclidean":
        from scipy.spatial import cKDTree

        distances, indices = cKDTree(vectors).query(vectors, k + 1)
        return _without_self(indices, distances, k)
    if n < EXACT_BELOW:
        return _exact(vectors, k, metric)
    return _approximate(vectors, k, metric, seed)


def _exact(vectors: np.ndarray, k: int, metric: str) -> Neighbours:
    distances = distance_matrix(vectors, metric)
    # A point is its own nearest neighbour even when a duplicate is just as near.
    np.fill_diagonal(distances, -1.0)
    nearest = np.argpartition(distances, k, axis=1)[:, : k + 1]
    rows = np.arange(vectors.shape[0])[:, None]
    nearest = nearest[rows, np.argsort(distances[rows, nearest], axis=1, kind="stable")]
    return Neighbours(nearest[:, 1:].astype(np.int32), distances[rows, nearest[:, 1:]].astype(np.float32))


def _approximate(vectors: np.ndarray, k: int, metric: str, seed: int) -> Neighbours:
    from .numba_cache import import_umap

    umap = import_umap()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)  # n_jobs chatter from pynndescent
        # One thread: NN-descent is then deterministic for a given seed, as the projection is.
        indices, distances, _ = umap.umap_.nearest_neighbors(
            vectors,
            k + 1,
            metric,
            {},
            False,
            np.random.RandomState(seed),
            low_memory=True,
            use_pynndescent=True,
            n_jobs=1,
        )
    return _without_self(indices, distances, k)


def _without_self(indices: np.ndarray, distances: np.ndarray, k: int) -> Neighbours:
    """Drop each row's own index (or, where a search missed it, the farthest entry)."""
    n = indices.shape[0]
    is_self = indices == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return Neighbours(
        indices[keep].reshape(n, k).astype(np.int32), distances[keep].reshape(n, k).astype(np.float32)
    )


def distance_matrix(vectors: np.ndarray, metric: str) -> np.ndarray:
    """All pairwise distances under ``metric``, as a dense (n, n) matrix with a zero diagonal."""
    x = vectors.astype(np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        unit = x / np.where(norms == 0, 1.0, norms)
        distances = 1.0 - unit @ unit.T
    elif metric == "euclidean":
        squared = (x * x).sum(axis=1)
        distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2.0 * (x @ x.T), 0.0))
    else:
        from scipy.spatial.distance import pdist, squareform

        distances = squareform(pdist(x, {"manhattan": "cityblock"}.get(metric, metric)))
    np.fill_diagonal(distances, 0.0)
    return np.maximum(distances, 0.0)
