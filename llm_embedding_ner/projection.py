"""Project to 3D: token vectors become a point cloud with UMAP.

UMAP needs a neighbourhood graph and a spectral start, which a handful of points cannot give.
Below ``MIN_UMAP_POINTS`` the projection falls back to PCA (exact and deterministic), with a
warning, so a two-word text still gets a picture instead of a crash.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

# Spectral initialisation in 3D needs more points than eigenvectors (4); with fewer than this
# UMAP either refuses or has too few neighbours to say anything PCA would not.
MIN_UMAP_POINTS = 8
LARGE_INPUT_POINTS = 50_000
EXACT_NEIGHBOURS_BELOW = 4096  # where umap-learn itself switches to approximate neighbours

log = logging.getLogger("llm_embedding_ner")


@dataclass(frozen=True)
class ProjectionSettings:
    # 15 neighbours: local enough that a few-token entity keeps its own cluster in a cloud of a
    # few hundred tokens, global enough that the cloud does not shatter into islands.
    n_neighbors: int = 15
    # 0.1: points of one cluster stay visibly apart in the viewer without blurring clusters.
    min_dist: float = 0.1
    # Transformer hidden states differ mostly in direction; cosine ignores their norm outliers.
    metric: str = "cosine"
    # Fixed seed: UMAP then runs single-threaded and two runs give identical coordinates.
    seed: int = 42
    # UMAP's own choice for inputs over 10k points, used for all: small clouds settle well within
    # it, and it costs 2.5x less than the 500 epochs umap-learn would spend on them.
    n_epochs: int = 200


@dataclass(frozen=True)
class Projection:
    coordinates: np.ndarray  # (n, 3) float32
    method: str  # "umap" or "pca"


def project_to_3d(vectors: np.ndarray, settings: ProjectionSettings | None = None) -> Projection:
    settings = settings or ProjectionSettings()
    n = vectors.shape[0]
    if n < MIN_UMAP_POINTS:
        warnings.warn(
            f"only {n} tokens: too few for UMAP (needs {MIN_UMAP_POINTS}), showing a PCA projection instead",
            stacklevel=2,
        )
        return Projection(pca_3d(vectors), "pca")
    n_neighbors = min(settings.n_neighbors, n - 1)
    if n_neighbors < settings.n_neighbors:
        warnings.warn(
            f"only {n} tokens: UMAP uses {n_neighbors} neighbours instead of {settings.n_neighbors}",
            stacklevel=2,
        )
    from .numba_cache import import_umap

    umap = import_umap()
    # Below umap-learn's own switch to approximate neighbours it computes every pairwise distance,
    # one Python-level call per pair (a second for 1,000 tokens); a vectorised matrix gives the
    # same exact neighbours in milliseconds. Large inputs use approximate nearest neighbours
    # (NN-descent) and the low-memory search, so 100k tokens fit in a few GiB.
    exact, large = n < EXACT_NEIGHBOURS_BELOW, n >= LARGE_INPUT_POINTS
    reducer = umap.UMAP(
        n_components=3,
        n_neighbors=n_neighbors,
        min_dist=settings.min_dist,
        metric="precomputed" if exact else settings.metric,
        n_epochs=settings.n_epochs,
        random_state=settings.seed,
        low_memory=True,
        force_approximation_algorithm=large,
    )
    if large:
        log.info("projection: UMAP on %s points, about a minute per 50,000 on 2 cores", f"{n:,}")
    data = distance_matrix(vectors, settings.metric) if exact else vectors
    with warnings.catch_warnings():
        # Seeding makes UMAP single-threaded and it says so each time; that is the point of the seed.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        # We pass a distance matrix, so UMAP cannot invert the embedding; we never ask it to.
        warnings.filterwarnings("ignore", message="using precomputed metric", category=UserWarning)
        coordinates = reducer.fit_transform(data)
    return Projection(np.asarray(coordinates, dtype=np.float32), "umap")


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


def pca_3d(vectors: np.ndarray) -> np.ndarray:
    """Principal components of ``vectors`` (up to 3), padded with zeros to three columns."""
    centered = vectors - vectors.mean(axis=0, keepdims=True)
    out = np.zeros((vectors.shape[0], 3), dtype=np.float32)
    if vectors.shape[0] > 1:
        _, _, vt = np.linalg.svd(centered.astype(np.float64), full_matrices=False)
        k = min(3, vt.shape[0])
        # Fix each axis's sign so the layout does not flip between identical runs.
        components = vt[:k] * np.sign(vt[:k].sum(axis=1, keepdims=True) + 1e-12)
        out[:, :k] = centered @ components.T
    return out
