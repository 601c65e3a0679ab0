"""Project to 3D: token vectors become a point cloud with UMAP.

UMAP needs a neighbourhood graph and a spectral start, which a handful of points cannot give.
Below ``MIN_UMAP_POINTS`` the projection falls back to PCA (exact and deterministic), with a
warning, so a two-word text still gets a picture instead of a crash.

Layers shown one after another must not jump: a layer's layout can *follow* a neighbouring
layer's, starting from it (with a gentler, shorter optimisation) and then rotated onto it.
Measured on 13 layers of a bert-base-shaped model, this cuts the mean displacement of points
between consecutive layers to a quarter (134 tokens) or a tenth (1,008 tokens) of independent
fits, keeps as many true neighbours as they do, and takes about 60% of their time
(``benchmarks/layers.py``).
"""

from __future__ import annotations

import io
import itertools
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..progress import throttled

if TYPE_CHECKING:
    from .neighbours import Neighbours

# Spectral initialisation in 3D needs more points than eigenvectors (4); with fewer than this
# UMAP either refuses or has too few neighbours to say anything PCA would not.
MIN_UMAP_POINTS = 8
# From here on UMAP runs 100 epochs instead of 200. On the CoNLL-2003 test set's 57,924 tokens
# (a fine-tuned MiniLM's last layer) that cuts the fit from 46 s to 28 s, keeps the separation of
# entity types in 3D (0.928 against 0.929) and 95% of the hidden-space neighbours kept in 3D
# (0.299 of each token's 15 against 0.315). Optimising is single-threaded, for the seed's sake.
MANY_POINTS = 20_000
# From LANDMARKS_FROM points on, UMAP is fitted on LANDMARKS of them drawn with the seed; the
# others are placed among their hidden-space neighbours, then REFINE_EPOCHS of UMAP at
# REFINE_RATE move every point into its own place (landmarks_then_placed). On the CoNLL-2003
# test split's 57,924 tokens (the demo model's last layer) that keeps the 3D separation of
# entity types (0.911 against 0.914 for a fit of every point) and 95 % of the hidden-space
# neighbours kept in 3D (0.297 of each token's 15 against 0.305), in 7 s instead of 19 s; on
# the training split's 252,043 see docs/design/performance.md.
LANDMARKS_FROM = 50_000
LANDMARKS = 12_000
PLACING_ROUNDS = 10
REFINE_EPOCHS = 20
REFINE_RATE = 0.3
# The refinement reads each point's 8 nearest, not UMAP's 15: on the CoNLL-2003 validation split
# (51,362 tokens, the demo model) 0.283 of each token's 15 nearest stay among its 15 nearest in
# 3D instead of 0.262, the separation of types is 0.975 against 0.977, and it takes 5.0 s
# against 7.9 s. Its graph is built lean (refine.py).
REFINE_NEIGHBOURS = 8
# A following layout starts close to where it should end: a tenth of UMAP's default learning
# rate and half the epochs adjust it to its own layer without reshuffling the picture.
FOLLOW_LEARNING_RATE = 0.1
FOLLOW_EPOCH_SHARE = 0.5

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
    # None: 200 epochs, umap-learn's own choice for inputs over 10k points (small clouds settle
    # well within it, at 2.5x less than the 500 umap-learn spends on them), and 100 from
    # MANY_POINTS on (see there).
    n_epochs: int | None = None

    def epochs_for(self, n_points: int) -> int:
        if self.n_epochs is not None:
            return self.n_epochs
        return 200 if n_points < MANY_POINTS else 100


@dataclass(frozen=True)
class Projection:
    coordinates: np.ndarray  # (n, 3) float32
    method: str  # "umap", "pca", or "map" (placed in a reference map, see reference_map.py)
    nearest_reference: np.ndarray | None = None  # (n, k) "map": each point's nearest map tokens


# project_to_3d, or what stands in for it: (vectors, settings, neighbours, follow) -> Projection.
Projector = Callable[
    [np.ndarray, "ProjectionSettings | None", "Neighbours | None", "np.ndarray | None"], Projection
]


def project_to_3d(
    vectors: np.ndarray,
    settings: ProjectionSettings | None = None,
    neighbours: Neighbours | None = None,
    follow: np.ndarray | None = None,
) -> Projection:
    """``neighbours``: precomputed nearest neighbours of ``vectors`` (computed here if missing or
    too few). ``follow``: another layer's (n, 3) layout to start from and align to."""
    settings = settings or ProjectionSettings()
    n = vectors.shape[0]
    if n < MIN_UMAP_POINTS:
        warnings.warn(
            f"only {n} tokens: too few for UMAP (needs {MIN_UMAP_POINTS}), showing a PCA projection instead",
            stacklevel=2,
        )
        coordinates = pca_3d(vectors)
        return Projection(coordinates if follow is None else align_to(coordinates, follow), "pca")
    n_neighbors = min(settings.n_neighbors, n - 1)
    if n_neighbors < settings.n_neighbors:
        warnings.warn(
            f"only {n} tokens: UMAP uses {n_neighbors} neighbours instead of {settings.n_neighbors}",
            stacklevel=2,
        )
    from .neighbours import nearest_neighbours

    if neighbours is None or neighbours.indices.shape[1] < n_neighbors - 1:
        neighbours = nearest_neighbours(vectors, n_neighbors - 1, settings.metric, settings.seed)
    if n >= LANDMARKS_FROM:
        coordinates = landmarks_then_placed(vectors, settings, neighbours, follow, n_neighbors)
    else:
        coordinates = fit_umap(vectors, settings, neighbours, n_neighbors, follow)
    return Projection(coordinates if follow is None else align_to(coordinates, follow), "umap")


def fit_umap(
    vectors: np.ndarray,
    settings: ProjectionSettings,
    neighbours: Neighbours,
    n_neighbors: int,
    follow: np.ndarray | None = None,
    refine: bool = False,
) -> np.ndarray:
    """UMAP's layout of ``vectors`` from their ``neighbours``: from a spectral start, or from
    ``follow`` (another layer's layout: half the epochs, gently), or refining ``follow`` (the
    placed points of ``landmarks_then_placed``: REFINE_EPOCHS at REFINE_RATE)."""
    from .numba_cache import import_umap

    n = vectors.shape[0]
    progress = EpochProgress(f"projection: UMAP on {n:,} points, epoch {{done}}/{{total}}").tqdm_kwds()
    if refine:  # from ``follow``, on a graph built lean: the largest step of a large cloud
        from .refine import refine_layout

        k = min(n_neighbors, REFINE_NEIGHBOURS)
        rate, seed = REFINE_RATE, settings.seed
        return refine_layout(follow, neighbours, k, settings.min_dist, REFINE_EPOCHS, rate, seed, progress)
    # UMAP counts each point as its own first neighbour, at distance 0.
    knn_indices = np.hstack([np.arange(n, dtype=np.int32)[:, None], neighbours.indices[:, : n_neighbors - 1]])
    knn_distances = np.hstack([np.zeros((n, 1), np.float32), neighbours.distances[:, : n_neighbors - 1]])
    umap = import_umap()
    epochs, learning_rate = settings.epochs_for(n), 1.0
    if follow is not None:
        epochs, learning_rate = max(1, round(epochs * FOLLOW_EPOCH_SHARE)), FOLLOW_LEARNING_RATE
    reducer = umap.UMAP(
        n_components=3,
        n_neighbors=n_neighbors,
        min_dist=settings.min_dist,
        metric=settings.metric,
        n_epochs=epochs,
        learning_rate=learning_rate,
        init="spectral" if follow is None else follow,
        random_state=settings.seed,
        low_memory=True,
        precomputed_knn=(knn_indices, knn_distances, None),
        # Every fit says how far its epochs are, once it has taken 10 s (19,000 points take 25 s).
        tqdm_kwds=progress,
    )
    with warnings.catch_warnings():
        # Seeding makes UMAP single-threaded and it says so each time; that is the point of the seed.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        # We pass the neighbours, so UMAP cannot place new points later; we never ask it to.
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)


def landmarks_then_placed(
    vectors: np.ndarray,
    settings: ProjectionSettings,
    neighbours: Neighbours,
    follow: np.ndarray | None,
    n_neighbors: int,
) -> np.ndarray:
    """UMAP on ``LANDMARKS`` points drawn with the seed, every other point placed among its
    hidden-space neighbours (see ``place_among_neighbours``), then a short UMAP of all points
    from there: the fit from scratch (spectral start, full epochs) costs what a cloud of
    ``LANDMARKS`` costs, whatever the input's size; the rest is linear in points."""
    from ..model.hidden_store import gather_rows
    from .neighbours import nearest_neighbours

    n = vectors.shape[0]
    chosen = np.sort(np.random.default_rng(settings.seed).choice(n, LANDMARKS, replace=False))
    log.info(
        "projection: UMAP on %s landmarks of %s points, the others placed among their neighbours",
        f"{LANDMARKS:,}",
        f"{n:,}",
    )
    landmarks = gather_rows(vectors, chosen)  # float32, read from disk for a corpus
    among = nearest_neighbours(landmarks, n_neighbors - 1, settings.metric, settings.seed)
    start = None if follow is None else follow[chosen]
    # The landmarks stand for the whole cloud: they get its epochs (100, not the 200 of a cloud
    # their size), which on the CoNLL-2003 test split keeps both quality figures to the third
    # decimal and saves 2 of the fit's 4.4 s.
    whole = replace(settings, n_epochs=settings.epochs_for(n))
    fitted = fit_umap(landmarks, whole, among, n_neighbors, start)
    placed = place_among_neighbours(fitted, chosen, neighbours)
    # Placed points sit at their neighbours' mean, too close together: a short, gentle UMAP
    # from there spreads them as a full fit would, without moving the landmarks' picture.
    return fit_umap(vectors, settings, neighbours, n_neighbors, placed, refine=True)


def place_among_neighbours(
    fixed_coordinates: np.ndarray, fixed: np.ndarray, neighbours: Neighbours, smoothing: int = PLACING_ROUNDS
) -> np.ndarray:
    """Coordinates for every point of ``neighbours``: the ``fixed`` ones where they are, each other
    at the mean of its neighbours' coordinates, weighted by inverse distance. Points next to a
    fixed one are placed first, then their neighbours, and so on; then ``smoothing`` rounds move
    each placed point to the mean of all its neighbours. Deterministic, and linear in points."""
    from scipy.sparse import csr_matrix

    n, k = neighbours.indices.shape
    # One graph, its rows' weights summing to 1, float32 beside the neighbours' own int32
    # indices: 8 bytes a pair (a second, normalised float64 copy made this step the peak of a
    # corpus's projection). Placing divides by the known neighbours' share of a row's weight, so
    # the normalisation does not change where a point is placed. Everything it multiplies is
    # float32 too: scipy would make a float64 copy of the graph for each float64 product.
    weights = 1.0 / (neighbours.distances + np.float32(1e-3))
    weights /= weights.sum(axis=1, keepdims=True)
    indices = np.ascontiguousarray(neighbours.indices, dtype=np.int32)
    graph = csr_matrix((weights.ravel(), indices.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    coordinates = np.zeros((n, 3), dtype=np.float32)
    coordinates[fixed] = fixed_coordinates
    known = np.zeros(n, dtype=bool)
    known[fixed] = True
    free = ~known
    while not known.all():
        mass = graph @ known.astype(np.float32)
        reached = ~known & (mass > 0)
        if not reached.any():  # no path to any fixed point: the middle of the fixed ones
            coordinates[~known] = fixed_coordinates.mean(axis=0)
            break
        coordinates[reached] = (graph @ (coordinates * known[:, None]))[reached] / mass[reached, None]
        known |= reached
    for _ in range(smoothing):
        coordinates[free] = (graph @ coordinates)[free]
    return coordinates


class EpochProgress(io.TextIOBase):
    """Where UMAP's epoch counter (a tqdm bar) writes: each "done/total" it draws becomes a
    throttled progress line with the time left (see progress.py)."""

    redraw_seconds = 1.0  # how often tqdm draws the counter; lines are throttled further

    def __init__(self, message: str) -> None:
        super().__init__()
        self.report = throttled(message)

    def tqdm_kwds(self) -> dict[str, object]:
        interval = self.redraw_seconds
        return {"disable": False, "file": self, "bar_format": "{n}/{total}", "mininterval": interval}

    def write(self, text: str) -> int:
        done, _, total = text.strip().partition("/")
        if done.isdigit() and total.isdigit():
            self.report(int(done), int(total))
        return len(text)


def align_to(coordinates: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``coordinates`` rotated (or reflected), scaled and shifted to lie as close as possible to
    ``reference`` (orthogonal Procrustes). Distances within the cloud keep their ratios, so
    nothing about the layout changes except where it sits in the viewer."""
    x = coordinates.astype(np.float64) - coordinates.mean(axis=0)
    ref_mean = reference.astype(np.float64).mean(axis=0)
    ref = reference.astype(np.float64) - ref_mean
    u, singular, vt = np.linalg.svd(x.T @ ref)
    norm = (x * x).sum()
    scale = singular.sum() / norm if norm > 0 else 1.0
    return (x @ (u @ vt) * scale + ref_mean).astype(np.float32)


def mean_displacement(layouts: list[np.ndarray]) -> float:
    """How far points move between consecutive layouts, on average, after each layout is
    centred and scaled to unit size (root-mean-square distance 1 from its centre)."""

    def unit(c: np.ndarray) -> np.ndarray:
        centred = c.astype(np.float64) - c.mean(axis=0)
        size = np.sqrt((centred**2).sum(axis=1).mean())
        return centred / size if size > 0 else centred

    steps = [np.linalg.norm(unit(b) - unit(a), axis=1).mean() for a, b in itertools.pairwise(layouts)]
    return float(np.mean(steps)) if steps else 0.0


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
