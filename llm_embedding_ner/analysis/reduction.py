"""A corpus's hidden states reduced for the neighbour search and the projection.

From ``REDUCE_FROM`` tokens on, neighbours are searched (and UMAP's landmarks fitted) among the
hidden states' first ``DIMENSIONS`` principal components instead of among the hidden states:
the rows are first made what the metric compares (unit length for cosine; centred too for
correlation), so that Euclidean distances between the reduced rows approximate the metric's
order. The reduction is fitted on ``FIT_SAMPLE`` rows drawn with the seed and applied block by
block, so the full-width states never sit in memory (they stay on disk, see
model/hidden_store.py). Kept as float16: 256 bytes a token whatever the model's width.

Measured on the CoNLL-2003 validation split (51,362 tokens, the demo model, 384 wide): each
token's 14 nearest in 128 components hold 86 % of its 14 nearest by cosine (64 components:
72 %, 96: 81 %); docs/design/corpus-scale.md gives the picture's quality figures.
"""

from __future__ import annotations

import numpy as np

from ..model.hidden_store import HiddenStore, blocks, gather_rows

REDUCE_FROM = 50_000
DIMENSIONS = 128
FIT_SAMPLE = 20_000
REDUCIBLE = ("cosine", "correlation", "euclidean")  # metrics whose order Euclidean PCA keeps


def reduce_for_search(vectors: np.ndarray, metric: str, seed: int) -> np.ndarray | None:
    """(n, DIMENSIONS) float16 rows, mapped from a temporary file, whose Euclidean distances
    rank as ``metric`` ranks ``vectors`` (n, d); or None where there is nothing to gain: fewer
    than REDUCE_FROM rows, rows no wider than DIMENSIONS, or a metric PCA does not keep."""
    n, width = vectors.shape
    if n < REDUCE_FROM or width <= DIMENSIONS or metric not in REDUCIBLE:
        return None
    sample = np.sort(np.random.default_rng(seed).choice(n, min(FIT_SAMPLE, n), replace=False))
    fitted = _comparable(gather_rows(vectors, sample), metric)
    mean = fitted.mean(axis=0)
    _, _, components = np.linalg.svd(fitted - mean, full_matrices=False)
    projection = components[:DIMENSIONS].T.astype(np.float32)
    # On disk like the hidden states: the search reads it block by block, and nothing of it is
    # resident while UMAP builds and lays out its graph, the run's largest moment.
    store = HiddenStore(1, n, DIMENSIONS)
    for first, block in blocks(vectors):
        rows = np.arange(first, first + block.shape[0])
        store.write(rows, ((_comparable(block, metric) - mean) @ projection)[None])
    return store.hidden[0]


def _comparable(rows: np.ndarray, metric: str) -> np.ndarray:
    """``rows`` as the metric compares them: centred for correlation, of length 1 for cosine
    and correlation, as they are for euclidean."""
    if metric == "correlation":
        rows = rows - rows.mean(axis=1, keepdims=True)
    if metric in ("cosine", "correlation"):
        rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return rows
