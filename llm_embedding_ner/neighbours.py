"""Nearest neighbours of every token: shown to the user, fed to UMAP, used to score separation.

Computing them once per layer and handing them to UMAP means the "Nearest tokens" a user reads
are exactly the neighbourhoods the 3D layout was built from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

NEAREST_SHOWN = 5  # nearest tokens listed per point, and the k of the separation score
EXACT_BELOW = 4096  # below this, one dense distance matrix for any metric
# Above EXACT_BELOW, exact neighbours cost about n * n * dims multiply-adds (blocks of matrix
# products) against NN-descent's few seconds of search plus about 50 s of numba compilation in
# every new process (pynndescent specialises its search for each distance function, and numba
# cannot keep that between processes). Measured on 2 cores, exact is faster up to this many
# multiply-adds: 45,000 tokens of a 768-wide model, 64,000 of a 384-wide one.
EXACT_WORK_LIMIT = 1.6e12
MATRIX_METRICS = ("cosine", "correlation", "euclidean")  # exact neighbours from matrix products
BLOCK_BYTES = 128 << 20  # distances held at once while searching in blocks
# Once NN-descent has been compiled for a metric in this process (a large layer of a wide model),
# its search alone takes seconds and beats the exact search for the run's later clouds (the
# entity mentions: 27,000 of them took 14 s with it against 31 to 36 s with exact search).
_nn_descent_compiled: set[str] = set()


@dataclass(frozen=True)
class Neighbours:
    """Each point's ``k`` nearest other points, nearest first (the point itself excluded)."""

    indices: np.ndarray  # (n, k) int32
    distances: np.ndarray  # (n, k) float32


def nearest_neighbours(vectors: np.ndarray, k: int, metric: str = "cosine", seed: int = 0) -> Neighbours:
    """Exact below ``EXACT_BELOW`` points, for 3D points, and for the matrix metrics up to
    ``EXACT_WORK_LIMIT``; NN-descent (approximate) above."""
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
    exact_pays = metric not in _nn_descent_compiled and float(n) * n * vectors.shape[1] <= EXACT_WORK_LIMIT
    if metric in MATRIX_METRICS and exact_pays:
        return _exact_in_blocks(vectors, k, metric)
    return _approximate(vectors, k, metric, seed)


def _exact(vectors: np.ndarray, k: int, metric: str) -> Neighbours:
    distances = distance_matrix(vectors, metric)
    # A point is its own nearest neighbour even when a duplicate is just as near.
    np.fill_diagonal(distances, -1.0)
    nearest = np.argpartition(distances, k, axis=1)[:, : k + 1]
    rows = np.arange(vectors.shape[0])[:, None]
    nearest = nearest[rows, np.argsort(distances[rows, nearest], axis=1, kind="stable")]
    return Neighbours(nearest[:, 1:].astype(np.int32), distances[rows, nearest[:, 1:]].astype(np.float32))


def _exact_in_blocks(vectors: np.ndarray, k: int, metric: str) -> Neighbours:
    """Exact neighbours from matrix products, a block of rows at a time (float32, torch's
    multi-threaded matrix product and top-k), so memory stays at ``BLOCK_BYTES``."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    if metric == "correlation":
        x = x - x.mean(dim=1, keepdim=True)
    if metric in ("cosine", "correlation"):
        x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    n = x.shape[0]
    squared = (x * x).sum(dim=1)
    block = max(1, BLOCK_BYTES // (4 * n))
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, n, block):
            rows = torch.arange(start, min(start + block, n))
            # Larger is nearer: cosine similarity, or -|a - b|^2 + |a|^2 (the same order as -|a - b|).
            products = x[rows] @ x.T
            scores = 2 * products - squared[None, :] if metric == "euclidean" else products
            scores[torch.arange(rows.numel()), rows] = -torch.inf  # never its own neighbour
            best, nearest = torch.topk(scores, k, dim=1)  # sorted, nearest first
            if metric == "euclidean":
                found = (squared[rows, None] - best).clamp_min(0).sqrt()
            else:
                found = (1 - best).clamp_min(0)
            indices[start : start + rows.numel()] = nearest.numpy()
            distances[start : start + rows.numel()] = found.numpy()
    return Neighbours(indices, distances)


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
    _nn_descent_compiled.add(metric)
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
