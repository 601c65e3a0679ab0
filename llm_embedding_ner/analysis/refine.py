"""The short UMAP that moves placed points into their own places, with a graph built lean.

``landmarks_then_placed`` (projection.py) ends with REFINE_EPOCHS of UMAP over every point of a
large cloud. Through ``umap.UMAP`` that costs 740 bytes a point at its peak (scipy's sparse
union of the neighbour graph with its transpose, then the layout's own arrays), the largest
thing a run of millions of tokens holds. Here the same steps use umap-learn's own functions
(``smooth_knn_dist`` and ``compute_membership_strengths`` for each point's fuzzy neighbourhood,
``make_epochs_per_sample`` and ``optimize_layout_euclidean`` for the layout), and only the
union is ours: each pair's two memberships a and b become a + b - ab (UMAP's fuzzy union)
through one sort of int64 pair keys, with no sparse matrix.
"""

from __future__ import annotations

import numpy as np

from .neighbours import Neighbours

INT32_MIN, INT32_MAX = np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1  # as umap-learn draws


def refine_layout(
    start: np.ndarray,
    neighbours: Neighbours,
    n_neighbors: int,
    min_dist: float,
    epochs: int,
    learning_rate: float,
    seed: int,
    tqdm_kwds: dict[str, object] | None = None,
) -> np.ndarray:
    """UMAP's layout of the points of ``neighbours`` (their ``n_neighbors`` - 1 nearest), from
    ``start`` (n, 3): what ``umap.UMAP(init=start, precomputed_knn=...)`` computes, scaled as it
    scales its start (to 0..10 on each axis)."""
    from .numba_cache import import_umap

    import_umap()  # numba's cache for umap-learn's functions, before they are first used
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import (
        compute_membership_strengths,
        find_ab_params,
        make_epochs_per_sample,
        smooth_knn_dist,
    )

    n = start.shape[0]
    # UMAP counts each point as its own first neighbour, at distance 0.
    indices = np.hstack([np.arange(n, dtype=np.int32)[:, None], neighbours.indices[:, : n_neighbors - 1]])
    distances = np.hstack([np.zeros((n, 1), np.float32), neighbours.distances[:, : n_neighbors - 1]])
    sigmas, rhos = smooth_knn_dist(distances, float(n_neighbors), local_connectivity=1.0)
    rows, cols, weights, _ = compute_membership_strengths(indices, distances, sigmas, rhos)
    del indices, distances
    head, tail, weight = fuzzy_union(rows, cols, weights, n)
    del rows, cols, weights
    strong = weight >= weight.max() / epochs  # as UMAP: too weak to be sampled once in the epochs
    head, tail, weight = head[strong], tail[strong], weight[strong]
    # Each pair both ways, as UMAP's symmetric graph holds it: each end moves and draws repulsion.
    head, tail = np.concatenate([head, tail]), np.concatenate([tail, head])
    epochs_per_sample = make_epochs_per_sample(np.concatenate([weight, weight]), epochs)
    del weight
    rng = np.random.RandomState(seed)
    embedding = _scaled(_apart(start.astype(np.float32), rng))
    a, b = find_ab_params(1.0, min_dist)
    return optimize_layout_euclidean(
        embedding,
        embedding,
        head,
        tail,
        epochs,
        n,
        epochs_per_sample,
        a,
        b,
        rng.randint(INT32_MIN, INT32_MAX, 3).astype(np.int64),
        initial_alpha=learning_rate,
        negative_sample_rate=5,
        tqdm_kwds={"disable": True} if tqdm_kwds is None else tqdm_kwds,
        move_other=True,
    )


def fuzzy_union(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair of points once, (lower, higher, weight): a pair found from one end keeps its
    membership, from both ends a + b - ab. Self-pairs and zero memberships are dropped."""
    keep = (rows != cols) & (weights > 0)
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    key = np.minimum(rows, cols).astype(np.int64) * n + np.maximum(rows, cols)
    del rows, cols
    order = np.argsort(key, kind="stable")
    key, weights = key[order], weights[order].astype(np.float32)
    del order
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    paired = np.r_[first[1:], key.size] - first == 2  # found from both ends
    a = weights[first]
    b = np.where(paired, weights[np.minimum(first + 1, key.size - 1)], 0.0).astype(np.float32)
    key = key[first]
    return (key // n).astype(np.int32), (key % n).astype(np.int32), a + b - a * b


def _apart(points: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """``points`` with identical ones nudged apart, as UMAP nudges a start (placed copies of one
    sentence would stay one point): by a ten-thousandth of the cloud's spread. UMAP scales its
    nudge by the mean distance to the nearest other point, from a KD-tree query that took more
    than ten minutes on 2 million points of which most were repeated."""
    _, group, counts = np.unique(points, axis=0, return_inverse=True, return_counts=True)
    repeated = counts[group.ravel()] > 1
    if not repeated.any():
        return points
    spread = float(np.abs(points - np.median(points, axis=0)).mean())
    nudged = points.copy()
    nudged[repeated] += rng.normal(scale=1e-4 * spread, size=(int(repeated.sum()), 3)).astype(np.float32)
    return nudged


def _scaled(points: np.ndarray) -> np.ndarray:
    """Each axis to 0..10, as UMAP scales a start before its epochs."""
    low, high = points.min(axis=0), points.max(axis=0)
    return (10.0 * (points - low) / np.where(high > low, high - low, 1.0)).astype(np.float32, order="C")
