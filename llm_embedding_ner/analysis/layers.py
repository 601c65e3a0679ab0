"""Each chosen layer as the viewer shows it: its nearest neighbours, its 3D layout and how well
entity classes keep to their own neighbourhoods, deepest layer first so shallower ones follow it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..memory import release_freed_memory
from ..model.hidden_store import on_disk
from ..progress import throttled
from .neighbours import NEAREST_SHOWN, nearest_neighbours
from .projection import ProjectionSettings, Projector, project_to_3d
from .reduction import reduce_for_search
from .separation import neighbour_agreement


@dataclass(frozen=True)
class LayerView:
    """One hidden layer as the viewer shows it."""

    layer: int  # 0 is the embedding output
    # (n, hidden_size) the tokens' hidden states at this layer: float32 in memory for a text,
    # float16 mapped from a temporary file for a corpus (model/hidden_store.py)
    hidden: np.ndarray
    coordinates: np.ndarray  # (n, 3) their projection
    nearest: np.ndarray  # (n, k) indices of each token's nearest tokens in ``hidden``, nearest first
    separation: float  # neighbour agreement of entity classes in ``hidden`` (0..1, NaN if undefined)
    separation_3d: float  # the same, in ``coordinates``
    nearest_reference: np.ndarray | None = None  # (n, k) placed in a map: the nearest map tokens


def view_layers(
    layer_numbers: tuple[int, ...],
    hidden: np.ndarray,
    class_ids: np.ndarray,
    settings: ProjectionSettings,
    project: Projector | None = None,
    follow: np.ndarray | None = None,
    reduce: bool = True,
) -> tuple[list[LayerView], str]:
    """Neighbours, 3D layout and separation scores of each layer in ``hidden`` (one slice per
    entry of ``layer_numbers``). The deepest layer is projected on its own, exactly as when it is
    shown alone, or follows ``follow`` (another model's layout of the same points); each
    shallower layer follows the layout of the one after it, so points move smoothly along the
    layer axis. ``reduce``: from REDUCE_FROM tokens on, search and project in the hidden states'
    principal components (see reduction.py); a reference map's placement needs them whole."""
    project = project or project_to_3d
    views: list[LayerView] = []
    method = "umap"
    progress = throttled("projection: {done}/{total} layers")
    progress(0, len(layer_numbers))  # the clock starts with the first layer
    for step, i in enumerate(reversed(range(len(layer_numbers))), start=1):
        k = max(settings.n_neighbors - 1, NEAREST_SHOWN)
        vectors, searched = hidden[i], settings
        reduced = reduce_for_search(vectors, settings.metric, settings.seed) if reduce else None
        if reduced is not None:  # Euclidean among the components ranks as the metric does
            vectors, searched = reduced, replace(settings, metric="euclidean")
        elif on_disk(vectors):  # on disk (model/hidden_store.py): read whole, as float32
            vectors = np.array(vectors, dtype=np.float32)
        neighbours = nearest_neighbours(vectors, k, searched.metric, settings.seed)
        release_freed_memory()  # the search's index: the projection's graph is the next peak
        projected = project(vectors, searched, neighbours, follow)
        del vectors, reduced
        release_freed_memory()
        nearest = neighbours.indices[:, :NEAREST_SHOWN]
        nearest_3d = nearest_neighbours(projected.coordinates, NEAREST_SHOWN, "euclidean").indices
        views.append(
            LayerView(
                layer=layer_numbers[i],
                hidden=hidden[i],
                coordinates=projected.coordinates,
                nearest=nearest,
                separation=neighbour_agreement(nearest, class_ids),
                separation_3d=neighbour_agreement(nearest_3d, class_ids),
                nearest_reference=projected.nearest_reference,
            )
        )
        method, follow = projected.method, projected.coordinates
        progress(step, len(layer_numbers))
    return views[::-1], method
