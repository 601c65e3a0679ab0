"""The cloud of entity mentions (corpus input): one point per predicted mention, the mean of its
tokens' hidden states, projected as the tokens are."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..memory import release_freed_memory
from ..model.hidden_store import range_means
from .entities import Entity
from .projection import ProjectionSettings, Projector, project_to_3d
from .reduction import reduce_for_search


@dataclass(frozen=True)
class MentionCloud:
    """One point per predicted entity mention: the mean of its tokens' vectors, in 3D."""

    coordinates: np.ndarray  # (n_entities, 3)
    labels: list[str]  # the mentions' text
    class_ids: np.ndarray  # (n_entities,)


def mention_cloud(
    hidden: np.ndarray,
    entities: list[Entity],
    types: list[str],
    settings: ProjectionSettings,
    project: Projector | None = None,
) -> MentionCloud | None:
    """Each mention's mean token vector, projected like the tokens are."""
    from .neighbours import nearest_neighbours

    project = project or project_to_3d
    if not entities:
        return None
    starts = np.asarray([e.first_token for e in entities])
    ends = np.asarray([e.end_token for e in entities])
    vectors = range_means(hidden, starts, ends)  # read block by block: hidden may be on disk
    reduced = reduce_for_search(vectors, settings.metric, settings.seed)
    if reduced is not None:  # as the tokens are, past REDUCE_FROM mentions
        vectors, settings = reduced, replace(settings, metric="euclidean")
    # Found here, as the tokens' are, so that a search compiled for the tokens serves the mentions.
    neighbours = nearest_neighbours(vectors, settings.n_neighbors - 1, settings.metric, settings.seed)
    release_freed_memory()  # the search's index, before UMAP's graph
    with warnings.catch_warnings():
        # A handful of mentions gets PCA or fewer neighbours; the token cloud already says so.
        warnings.simplefilter("ignore", UserWarning)
        coordinates = project(vectors, settings, neighbours, None).coordinates
    class_ids = np.asarray([types.index(e.type) + 1 for e in entities], dtype=np.uint16)
    return MentionCloud(coordinates, [e.text for e in entities], class_ids)
