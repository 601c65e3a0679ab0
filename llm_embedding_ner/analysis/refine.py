"""The short UMAP that moves placed points into their own places, with a graph built lean.

``landmarks_then_placed`` (projection.py) ends with REFINE_EPOCHS of UMAP over every point of a
large cloud. Through ``umap.UMAP`` that costs 740 bytes a point at its peak (scipy's sparse
union of the neighbour graph with its transpose, then the layout's own arrays), the largest
thing a run of millions of tokens holds. Here the same steps use umap-learn's own functions
(``smooth_knn_dist`` and ``compute_membership_strengths`` for each point's fuzzy neighbourhood,
``optimize_layout_euclidean`` for the layout, its sampling schedule as
``make_epochs_per_sample`` makes it), and only the union is ours: each pair's two memberships
a and b become a + b - ab (UMAP's fuzzy union), each point's row read beside its neighbours'
rows, with no sparse matrix and no sort of every pair's int64 key: 460 bytes a point at the
peak (the layout's own arrays, measured on a million points), where that sort took 610.
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
        smooth_knn_dist,
    )

    n = start.shape[0]
    # UMAP counts each point as its own first neighbour, at distance 0.
    indices = np.hstack([np.arange(n, dtype=np.int32)[:, None], neighbours.indices[:, : n_neighbors - 1]])
    distances = np.hstack([np.zeros((n, 1), np.float32), neighbours.distances[:, : n_neighbors - 1]])
    sigmas, rhos = smooth_knn_dist(distances, float(n_neighbors), local_connectivity=1.0)
    memberships = compute_membership_strengths(indices, distances, sigmas, rhos)[2].reshape(indices.shape)
    del distances
    head, tail, weight = fuzzy_union(indices, memberships)
    del indices, memberships
    strong = weight >= weight.max() / epochs  # as UMAP: too weak to be sampled once in the epochs
    head, tail, weight = head[strong], tail[strong], weight[strong]
    # Each pair both ways, as UMAP's symmetric graph holds it: each end moves and draws repulsion.
    head, tail = np.concatenate([head, tail]), np.concatenate([tail, head])
    # How often each pair is sampled: every max/w epochs, as umap-learn's make_epochs_per_sample
    # gives for weights that are all sampled (the weak ones are gone), but in float32 and for
    # each pair once: its float64 temporaries over both directions were the refinement's peak.
    # Its layout keeps three copies of this; counts of at most ``epochs`` need no more precision.
    epochs_per_sample = np.tile((weight.max() / weight).astype(np.float32), 2)
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
    indices: np.ndarray, memberships: np.ndarray, block: int = 1 << 16
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair of points once, (lower, higher, weight), from each point's neighbours
    ``indices`` (n, k) and its ``memberships`` in them: a pair found from one end keeps its
    membership, from both ends a + b - ab. Self-pairs, missing neighbours (-1) and zero
    memberships are dropped. Whether j also holds i is read from j's own row, a block of points
    at a time: no sort of every pair (an int64 key and an order for each, the largest part of
    the refinement's peak before)."""
    n = indices.shape[0]
    heads, tails, weights = [], [], []
    for first in range(0, n, block):
        i = np.arange(first, min(first + block, n), dtype=np.int32)[:, None]
        j, a = indices[first : first + i.size], memberships[first : first + i.size]
        valid = (j >= 0) & (j != i) & (a > 0)
        safe = np.where(valid, j, 0)
        back = indices[safe] == i[:, :, None]  # (m, k, k): where j's row holds i
        b = np.where(back.any(axis=2), memberships[safe, back.argmax(axis=2)], 0.0).astype(np.float32)
        # A pair held from both ends is kept by its lower end only.
        keep = valid & ((b <= 0) | (i < j))
        i, j, a, b = np.broadcast_to(i, j.shape)[keep], j[keep], a[keep], b[keep]
        heads.append(np.minimum(i, j))
        tails.append(np.maximum(i, j))
        weights.append(a + b - a * b)
    head, tail, weight = np.concatenate(heads), np.concatenate(tails), np.concatenate(weights)
    # In the order of UMAP's own graph (by point): the layout takes its steps in this order, and
    # in the blocks' order it kept 0.283 of each token's 15 nearest instead of 0.288.
    order = np.lexsort((tail, head))
    return head[order], tail[order], weight[order].astype(np.float32, copy=False)


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
