"""Nearest neighbours of every token: shown to the user, fed to UMAP, used to score separation.

Computing them once per layer and handing them to UMAP means the "Nearest tokens" a user reads
are exactly the neighbourhoods the 3D layout was built from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..progress import throttled

NEAREST_SHOWN = 5  # nearest tokens listed per point, and the k of the separation score
EXACT_BELOW = 4096  # below this, one dense distance matrix for any metric
# Above EXACT_BELOW, exact neighbours cost about n * n * dims multiply-adds (blocks of matrix
# products); above this many, an inverted-file index (faiss) is faster.
EXACT_WORK_LIMIT = 4e11
MATRIX_METRICS = ("cosine", "correlation", "euclidean")  # exact neighbours from matrix products
# Distances held at once while searching in blocks: the block's products, its scores and its
# top-k each take this much (at 128 MiB, 0.4 GiB at once: the peak of a large corpus's run).
BLOCK_BYTES = 32 << 20
# The inverted-file index: k-means cells, IVF_CELLS_PER_ROOT * sqrt(n) of them, each point
# compared with the points of its IVF_PROBES nearest cells.
IVF_CELLS_PER_ROOT = 4
IVF_PROBES = 20
IVF_TRAINING_ROUNDS = 10  # k-means rounds
IVF_TRAINING_POINTS = 40  # points per cell it is trained on, drawn with the seed (faiss wants 39)
# Points searched at once: each search's results, their order and the copy without the point
# itself are a few of these rows wide (131,072 rows of a 64 MB block made them 0.1 GB, at the
# moment the index and every point's neighbours are held: the peak of a corpus's run).
SEARCH_ROWS = 16384


@dataclass(frozen=True)
class Neighbours:
    """Each point's ``k`` nearest other points, nearest first (the point itself excluded)."""

    indices: np.ndarray  # (n, k) int32
    distances: np.ndarray  # (n, k) float32


def nearest_neighbours(vectors: np.ndarray, k: int, metric: str = "cosine", seed: int = 0) -> Neighbours:
    """Exact below ``EXACT_BELOW`` points, for 3D points, and for the matrix metrics up to
    ``EXACT_WORK_LIMIT``; above, approximate: an inverted-file index for the matrix metrics,
    NN-descent (compiled by numba in each process, about 50 s) for the others."""
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
    if metric in MATRIX_METRICS:
        if float(n) * n * vectors.shape[1] <= EXACT_WORK_LIMIT:
            return _exact_in_blocks(vectors, k, metric)
        return _inverted_lists(vectors, k, metric, seed)
    return _approximate(vectors, k, metric, seed)


def _inverted_lists(vectors: np.ndarray, k: int, metric: str, seed: int) -> Neighbours:
    """Approximate neighbours from faiss's inverted-file index (IVF, 16-bit): the points are split
    into k-means cells, and each is compared exactly with the points of the ``IVF_PROBES`` cells
    whose centres are nearest it. Nothing is compiled, and the result depends only on the
    vectors and the seed (k-means on a seeded sample; search is exhaustive within cells), so
    one seed gives one picture. ``vectors`` are read a block at a time (of any float type, in
    memory or mapped from disk): the index's 16-bit copy is the only whole one."""
    import faiss

    from ..model.hidden_store import blocks, gather_rows

    n, dims = vectors.shape
    inner = metric != "euclidean"
    faiss_metric = faiss.METRIC_INNER_PRODUCT if inner else faiss.METRIC_L2
    cells = max(1, min(int(IVF_CELLS_PER_ROOT * np.sqrt(n)), n // 39))  # faiss wants 39 points a cell
    # Vectors kept as 16-bit floats: half the memory and twice the scanning speed of 32-bit
    # ones, with the same recall (0.956 against 0.957 on the CoNLL-2003 training split); the
    # distances of the neighbours found are then computed again from the vectors themselves.
    quantizer = faiss.IndexFlatIP(dims) if inner else faiss.IndexFlatL2(dims)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dims, cells, faiss.ScalarQuantizer.QT_fp16, faiss_metric)
    index.cp.seed = seed
    index.cp.niter = IVF_TRAINING_ROUNDS
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, min(n, IVF_TRAINING_POINTS * cells), replace=False))
    index.train(_unit_rows(gather_rows(vectors, sample), metric))  # k-means on a seeded sample
    for _, block in blocks(vectors):
        index.add(_unit_rows(block, metric))
    index.nprobe = min(IVF_PROBES, cells)
    progress = throttled("projection: nearest neighbours of {done:,}/{total:,} points")
    progress(0, n)  # the clock starts with the search, after the index is built
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    # Euclidean float16 rows (a corpus's reduction, see reduction.py) are stored in the index
    # as they are: no need to read the neighbours again for their distances.
    exact_in_index = vectors.dtype == np.float16 and not inner
    flat = None  # an exact index, for points whose cells are too small to hold k + 1 points
    for start, block in blocks(vectors, SEARCH_ROWS):
        x = _unit_rows(block, metric)
        scores, found = index.search(x, k + 1)
        missing = np.flatnonzero((found < 0).any(axis=1))
        if missing.size:
            if flat is None:
                flat = faiss.IndexFlatIP(dims) if inner else faiss.IndexFlatL2(dims)
                for _, whole in blocks(vectors):
                    flat.add(_unit_rows(whole, metric))
            scores[missing], found[missing] = flat.search(x[missing], k + 1)
        # float16 rows, as the index keeps them: its distances are exact
        near = np.sqrt(np.maximum(scores, 0.0)) if exact_in_index else _distances(vectors, x, found, metric)
        order = np.argsort(near, axis=1, kind="stable")
        found, near = np.take_along_axis(found, order, 1), np.take_along_axis(near, order, 1)
        kept = _without_self(found, np.maximum(near, 0.0), k, first=start)
        indices[start : start + x.shape[0]] = kept.indices
        distances[start : start + x.shape[0]] = kept.distances
        progress(start + x.shape[0], n)
    return Neighbours(indices, distances)


def _distances(vectors: np.ndarray, x: np.ndarray, found: np.ndarray, metric: str) -> np.ndarray:
    """Exact distances from the rows ``x`` to their neighbours ``found`` among ``vectors``, 256
    rows at a time: the gathered neighbour vectors of 2,048 (100 MB for a 768-wide model) were a
    tenth of the test split's peak."""
    from ..model.hidden_store import gather_rows

    near = np.empty(found.shape, dtype=np.float32)
    for a in range(0, x.shape[0], 256):
        rows = slice(a, a + 256)
        others = _unit_rows(gather_rows(vectors, found[rows].ravel()), metric)
        others = others.reshape(*found[rows].shape, x.shape[1])
        if metric != "euclidean":
            near[rows] = 1.0 - np.einsum("nd,nkd->nk", x[rows], others)
        else:
            near[rows] = np.linalg.norm(others - x[rows, None, :], axis=2)
    return near


def _unit_rows(vectors: np.ndarray, metric: str) -> np.ndarray:
    """float32 rows whose inner products rank as ``metric`` does: centred for correlation, of
    length 1 for cosine and correlation; as they are for euclidean."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric == "correlation":
        x = x - x.mean(axis=1, keepdims=True)
    if metric in ("cosine", "correlation"):
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(x, dtype=np.float32)


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
    multi-threaded matrix product and top-k), so memory stays at a few ``BLOCK_BYTES``."""
    import torch

    x = torch.from_numpy(_unit_rows(vectors, metric))
    n = x.shape[0]
    squared = (x * x).sum(dim=1)
    block = max(1, BLOCK_BYTES // (4 * n))
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    # 22,000 points of 768 dimensions take 12 s here: long enough to say how far it is.
    progress = throttled("projection: nearest neighbours of {done:,}/{total:,} points (exact)")
    progress(0, n)
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
            progress(start + rows.numel(), n)
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
    return _without_self(indices, distances, k)


def _without_self(indices: np.ndarray, distances: np.ndarray, k: int, first: int = 0) -> Neighbours:
    """Drop each row's own index (or, where a search missed it, the farthest entry); row i is
    point ``first + i``."""
    n = indices.shape[0]
    is_self = indices == np.arange(first, first + n)[:, None]
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
