"""Log to Rerun: one small function per thing shown, each with its entity path.

/                       AnnotationContext: class 0 "no entity", then one class per entity type
text                    the original text, entities highlighted
tokenized_text          every token a link to its point
named_entities          unique entities by type, with counts
umap_embeddings         Points3D, one per token, coloured by predicted entity type
umap_embeddings_gold    the same points coloured by gold type (CoNLL input)
umap_embeddings_errors  the same points coloured by error kind, with its own AnnotationContext
umap_embeddings_suspects  the same points coloured by suspect gold label, the rest receding
entity_embeddings       Points3D, one per predicted entity mention (corpus input)
umap_embeddings/reference  the reference map's tokens (--map), small and grey behind the placed ones
metrics                 entity-level scores and confusion between types (CoNLL input)
suspects                the most suspect gold labels, each span linked to its points
separation/*            Scalars: how well entity types separate, in hidden space and in 3D

With the last layer alone the points are static; with other or several layers their positions,
nearest tokens and scores are logged on the sequence timeline ``layer`` (0 = embeddings). A
corpus shows one document at a time on the sequence timeline ``document``; one text is static.
Several models add the timeline ``model`` (comparison_logging.py).

Each row is logged on the timelines it varies along. Rerun shows a row only while the active
timeline is one the row has (or the row is static), and all views follow the one active
timeline. So a row that must stay on screen whatever the user scrubs (the cloud, the texts)
is also pinned to the start of the run's other timelines: on ``document`` the cloud shows its
deepest layer, on ``layer`` the texts show the first document. Plots are never pinned: a score
pinned to ``document = 0`` would draw every layer's score at one x.
"""

from __future__ import annotations

import bisect
import colorsys
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa
import rerun as rr

from ..analysis.entities import Entity, display_names
from ..analysis.evaluation import (
    CORRECT,
    ERROR_KINDS,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    NO_ENTITY,
    WRONG_SPAN,
    WRONG_TYPE,
)
from ..analysis.layers import LayerView
from ..analysis.neighbours import NEAREST_SHOWN
from ..analysis.reference_map import ReferenceMap
from ..analysis.result import Analysis
from ..model.windows import run_starts
from .markdown import (
    MAX_SUSPECTS_SHOWN,
    document_header,
    entities_document,
    metrics_document,
    suspects_document,
    text_document,
    tokenized_document,
)
from .point_sample import kept_tokens, sampled

APPLICATION_ID = "rerun_example_llm_embedding_ner"
LAYER_TIMELINE = "layer"
DOCUMENT_TIMELINE = "document"
MODEL_TIMELINE = "model"
STEP_TIMELINE = "step"
TOKEN_CLOUD = "umap_embeddings"
GOLD_CLOUD = "umap_embeddings_gold"
ERRORS_CLOUD = "umap_embeddings_errors"
SUSPECTS_CLOUD = "umap_embeddings_suspects"
SUSPECTS = "suspects"
REFERENCE_CLOUD = f"{TOKEN_CLOUD}/reference"  # inside the token cloud's view, behind its points
ENTITY_EMBEDDINGS = "entity_embeddings"
METRICS = "metrics"
MAX_SHOWN_MENTION_LABELS = 60
SEPARATION_SERIES = {  # entity path -> (series name, colour)
    "separation/hidden_space": ("hidden space", (255, 193, 37)),
    "separation/projection_3d": ("3D projection", (0, 206, 209)),
}
NO_ENTITY_COLOR = (30, 30, 30)
# Point radii in screen points, so a cloud of any scale stays readable. Tokens of no entity (class
# 0 in every colouring) are drawn smaller: in a corpus they are most of the tokens (48,000 of
# CoNLL-2003's 58,000) and at full size they hide the entities and errors among them.
POINT_RADIUS = 4.0
BACKGROUND_RADIUS = 2.0
# In the Errors and Suspects clouds the few points that matter must stand out among 58,000: the
# others (no entity; correct) are small and dark, the top suspects larger than the rest.
RECEDING_RADIUS = 1.5
MAP_RADIUS = 1.0  # a reference map's points, behind the tokens placed in it
PLACED_SCALE = 2.0  # tokens placed in a map: twice the usual radii
MAX_PLACED_LABELS = 60  # and their text beside them, for a sentence or two
TOP_SUSPECT_RADIUS = 6.0
# A mid grey, so that on the viewer's light and dark themes alike the points that are not the
# question fade into the background (the viewer draws no transparency: alpha only darkens).
RECEDING_COLOR = (125, 125, 125)
ERROR_COLORS = {
    NO_ENTITY: RECEDING_COLOR,
    CORRECT: (120, 160, 130),  # greyish green: right, so it recedes
    FALSE_POSITIVE: (255, 193, 37),  # amber
    FALSE_NEGATIVE: (76, 154, 255),  # blue
    WRONG_TYPE: (255, 60, 60),  # red
    WRONG_SPAN: (186, 104, 255),  # violet
}
NOT_SUSPECT = 0
SUSPECT_KINDS = ("wrong type", "missed entity", "spurious entity", "boundaries")  # class ids 1..4
SUSPECT_COLORS = [RECEDING_COLOR, (255, 60, 60), (76, 154, 255), (255, 193, 37), (186, 104, 255)]
# Distinct, readable on the viewer's dark background; the first four are dslim's LOC, PER, ORG, MISC.
PALETTE = [
    (76, 154, 255),  # blue
    (255, 99, 71),  # tomato
    (80, 200, 120),  # green
    (255, 193, 37),  # amber
    (186, 104, 255),  # violet
    (0, 206, 209),  # turquoise
    (255, 128, 191),  # pink
    (160, 210, 40),  # lime
    (255, 150, 40),  # orange
    (120, 144, 255),  # periwinkle
    (220, 220, 220),  # light gray
    (170, 110, 60),  # brown
]

log = logging.getLogger("llm_embedding_ner")


def class_color(class_id: int) -> tuple[int, int, int]:
    if class_id == 0:
        return NO_ENTITY_COLOR
    if class_id <= len(PALETTE):
        return PALETTE[class_id - 1]
    # Large label sets: step the hue by the golden angle, so neighbouring ids stay far apart.
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.95)
    return round(r * 255), round(g * 255), round(b * 255)


def log_annotation_context(entity_types: Sequence[str], recording: rr.RecordingStream | None = None) -> None:
    infos = [rr.AnnotationInfo(id=0, label="no entity", color=NO_ENTITY_COLOR)]
    infos += [
        rr.AnnotationInfo(id=i, label=name, color=class_color(i))
        for i, name in enumerate(display_names(entity_types), start=1)
    ]
    rr.log("/", rr.AnnotationContext(infos), static=True, recording=recording)


def log_error_context(recording: rr.RecordingStream | None = None) -> None:
    """The error cloud's own classes, on its own path, so its colours mean error kinds."""
    infos = [rr.AnnotationInfo(id=k, label=label, color=ERROR_COLORS[k]) for k, label in ERROR_KINDS.items()]
    rr.log(ERRORS_CLOUD, rr.AnnotationContext(infos), static=True, recording=recording)


def log_suspect_context(recording: rr.RecordingStream | None = None) -> None:
    """The suspects cloud's classes: what the suspect's gold label would have got wrong."""
    names = ["not suspect", *SUSPECT_KINDS]
    infos = [rr.AnnotationInfo(id=i, label=name, color=SUSPECT_COLORS[i]) for i, name in enumerate(names)]
    rr.log(SUSPECTS_CLOUD, rr.AnnotationContext(infos), static=True, recording=recording)


def suspect_points(analysis: Analysis) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per token: the class of the suspect it belongs to (0: none), its rank (0: none) and a
    line saying what is suspected ("#3 LOC -> ORG, wrong type")."""
    n = len(analysis.tokens)
    classes, ranks, said = np.zeros(n, np.uint16), np.zeros(n, np.int64), [""] * n
    for rank, s in enumerate(analysis.suspects, start=1):
        a, b = np.searchsorted(analysis.word_ids, [s.first_word, s.end_word])
        classes[a:b], ranks[a:b] = SUSPECT_KINDS.index(s.kind) + 1, rank
        said[a:b] = [f"#{rank} {s.gold} -> {s.suggested}, {s.kind}"] * (b - a)
    return classes, ranks, said


def point_radii(path: str, class_ids: np.ndarray, ranks: np.ndarray | None = None) -> np.ndarray:
    """Each point's radius: the points that matter in ``path``'s colouring full size (the top
    suspects larger), the others small."""
    if path == ERRORS_CLOUD:
        return np.where(np.isin(class_ids, (NO_ENTITY, CORRECT)), RECEDING_RADIUS, POINT_RADIUS)
    if path == SUSPECTS_CLOUD and ranks is not None:
        top = (ranks > 0) & (ranks <= MAX_SUSPECTS_SHOWN)
        return np.where(class_ids == 0, RECEDING_RADIUS, np.where(top, TOP_SUSPECT_RADIUS, POINT_RADIUS))
    return np.where(class_ids == 0, BACKGROUND_RADIUS, POINT_RADIUS)


Times = Mapping[str, int]  # timeline -> sequence number


def at(times: Times, recording: rr.RecordingStream | None = None) -> None:
    """Log the following rows at ``times``, on those timelines only."""
    rr.reset_time(recording=recording)
    for timeline, value in times.items():
        rr.set_time(timeline, sequence=value, recording=recording)


def pins(analysis: Analysis, layer: bool = True, document: bool = True) -> dict[str, int]:
    """The analysis' layer and document timelines (where it has them) at their start."""
    found: dict[str, int] = {}
    if layer and not analysis.last_layer_only:
        found[LAYER_TIMELINE] = analysis.layers[0].layer
    if document and analysis.is_corpus:
        found[DOCUMENT_TIMELINE] = 0
    return found


def log_documents(
    analysis: Analysis,
    recording: rr.RecordingStream | None = None,
    times: Times | None = None,
    title: str = "",
    sample: bool = False,
) -> None:
    """One text: its three documents, static. A corpus: each document's three on the
    ``document`` timeline, so the slider pages through them. ``times``: the model's place on
    the model timelines, when several models are compared; ``title`` heads the text; ``sample``:
    the analysis holds a sample of the tokens (point_sample.py), the others plain text."""
    times = dict(times or {})
    if not analysis.is_corpus:
        if times:
            at(times | pins(analysis), recording)
        log_text(analysis, 0, analysis.entities, static=not times, recording=recording, title=title)
        rr.reset_time(recording=recording)
        return
    # Entities are in text order: each document's are found by binary search.
    entity_starts = [e.first_token for e in analysis.entities]
    # Last to first: on the layer and model timelines, where every document sits at one time,
    # the last row logged is the one shown, and that should be the first document.
    for index in reversed(range(len(analysis.documents))):
        document = analysis.documents[index]
        first = bisect.bisect_left(entity_starts, document.first_token)
        end = bisect.bisect_left(entity_starts, document.end_token)
        at(times | pins(analysis, document=False) | {DOCUMENT_TIMELINE: index}, recording)
        entities = analysis.entities[first:end]
        log_text(analysis, index, entities, static=False, recording=recording, title=title, sample=sample)
    rr.reset_time(recording=recording)


def log_text(
    analysis: Analysis,
    index: int,
    entities: Sequence[Entity],
    static: bool,
    recording: rr.RecordingStream | None = None,
    title: str = "",
    sample: bool = False,
) -> None:
    """Document ``index``'s text (its ``entities`` highlighted), its tokens (each a link to its
    point; with ``sample``, the tokens left out as plain text) and its unique entities."""
    document = analysis.documents[index]
    first, end = document.first_token, document.end_token
    local = [replace(e, start=e.start - document.start, end=e.end - document.start) for e in entities]
    text = analysis.text[document.start : document.end]
    header = document_header(index, len(analysis.documents), document.metadata) if analysis.is_corpus else ""
    offsets = analysis.offsets[first:end] - document.start
    markdown = {
        "text": title + header + text_document(text, local),
        "tokenized_text": tokenized_document(
            text,
            analysis.link_texts[first:end],
            offsets,
            analysis.word_ids[first:end],
            first_point=first,
            space_only=analysis.space_only[first:end],
            text_between=sample,
        ),
        "named_entities": entities_document(local, analysis.entity_types),
    }
    for path, body in markdown.items():
        rr.log(
            path, rr.TextDocument(body, media_type=rr.MediaType.MARKDOWN), static=static, recording=recording
        )


def log_embeddings(
    analysis: Analysis,
    recording: rr.RecordingStream | None = None,
    times: Times | None = None,
    more_values: Mapping[str, object] | None = None,
    more_clouds: Mapping[str, np.ndarray] | None = None,
) -> None:
    """What does not change from layer to layer (classes, labels, the model's output), static
    (or at the model's ``times``); with gold labels, the same for the gold-coloured and
    error-coloured clouds. ``more_values`` and ``more_clouds`` (path -> class ids): what a
    comparison adds."""
    entity_text = [analysis.entities[i].text if i >= 0 else "" for i in analysis.token_entity.tolist()]
    values: dict[str, object] = {
        "Token": analysis.tokens,
        "Piece": analysis.pieces,
        "Named Entity": entity_text,
        "Label": analysis.labels,
        "Score": analysis.scores.astype("float32"),
    }
    if analysis.is_corpus and analysis.token_document is not None:
        values["Document"] = analysis.token_document
    if analysis.token_sentence is not None:
        values["Sentence"] = analysis.token_sentence
    clouds = {TOKEN_CLOUD: analysis.class_ids}
    if analysis.gold is not None:
        values["Gold tag"] = [analysis.gold.gold_tags[w] for w in analysis.word_ids.tolist()]
        values["Error"] = [ERROR_KINDS[k] for k in analysis.gold.error_kinds.tolist()]
        clouds[GOLD_CLOUD] = analysis.gold.gold_class_ids
        clouds[ERRORS_CLOUD] = analysis.gold.error_kinds
    ranks = None
    if analysis.suspects:
        clouds[SUSPECTS_CLOUD], ranks, values["Suspect"] = suspect_points(analysis)
    values |= dict(more_values or {})
    clouds |= dict(more_clouds or {})
    # Each column as Arrow once, shared by every cloud: Rerun keeps an Arrow array as it is, and
    # converts a Python list anew for each (four clouds of a million tokens: a gigabyte).
    values = {name: _arrow(column) for name, column in values.items()}
    token_labels = _arrow(analysis.tokens)
    if times:
        at(dict(times) | pins(analysis), recording)
    # Placed among a map's thousands of points, a sentence's tokens are drawn large and named.
    placed = analysis.reference is not None
    for path, class_ids in clouds.items():
        radii = point_radii(path, class_ids, ranks) * (PLACED_SCALE if placed else 1.0)
        rr.log(
            path,
            rr.Points3D.from_fields(
                class_ids=class_ids,
                labels=token_labels,
                show_labels=placed and len(analysis.tokens) <= MAX_PLACED_LABELS,
                radii=rr.Radius.ui_points(radii),
            ),
            static=not times,
            recording=recording,
        )
        handed_over(recording)
        # A column at a time, each handed over before the next: Rerun copies what it is given
        # while it batches and encodes it, and a whole cloud's columns at once peaked 0.3 GB
        # higher at a million points. The viewer shows the entity's columns together all the same.
        for name, column in values.items():
            rr.log(path, rr.AnyValues(**{name: column}), static=not times, recording=recording)
            handed_over(recording)
    rr.reset_time(recording=recording)


def _arrow(column: object) -> object:
    """A list of strings as an Arrow string array; anything else as it is."""
    if isinstance(column, list) and all(isinstance(v, str) for v in column[:1]):
        return pa.array(column, pa.string())
    return column


def cloud_paths(analysis: Analysis) -> list[str]:
    paths = [TOKEN_CLOUD] if analysis.gold is None else [TOKEN_CLOUD, GOLD_CLOUD, ERRORS_CLOUD]
    return [*paths, SUSPECTS_CLOUD] if analysis.suspects else paths


def log_suspects(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    """The top suspects as a document, each span's words linked to their points."""
    first_tokens = np.full(len(analysis.gold.gold_tags) if analysis.gold else 0, -1, dtype=np.int64)
    starts = run_starts(analysis.word_ids)
    first_tokens[analysis.word_ids[starts]] = starts
    body = suspects_document(analysis.suspects, first_tokens.tolist(), SUSPECTS_CLOUD)
    rr.log(
        SUSPECTS, rr.TextDocument(body, media_type=rr.MediaType.MARKDOWN), static=True, recording=recording
    )


def log_layer(
    view: LayerView,
    names: pa.Array,
    static: bool,
    paths: Sequence[str] = (TOKEN_CLOUD,),
    recording: rr.RecordingStream | None = None,
    reference: ReferenceMap | None = None,
) -> None:
    """One layer's positions and each token's nearest tokens in that layer's hidden space (placed
    in a ``reference`` map: the nearest map tokens, with their document and gold tag)."""
    if reference is not None and view.nearest_reference is not None:
        shown = view.nearest_reference[:, :NEAREST_SHOWN].tolist()
        nearest = _arrow(["; ".join(reference.describe(j) for j in row) for row in shown])
    else:
        nearest = nearest_texts(names, view.nearest)
    for path in paths:
        rr.log(
            path,
            rr.Points3D.from_fields(positions=view.coordinates),
            rr.AnyValues(**{"Nearest tokens": nearest}),
            static=static,
            recording=recording,
        )
        handed_over(recording)


def nearest_texts(names: pa.Array, nearest: np.ndarray) -> pa.Array:
    """Row i: the ``names`` of the tokens ``nearest[i]`` lists, joined by ", ". Built in Arrow,
    not as Python strings: a million rows of these took 100 MB more, at the end of the run."""
    import pyarrow.compute as pc

    n, k = nearest.shape
    chosen = names.take(pa.array(nearest.ravel()))
    rows = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int64) * k, pa.int32()), chosen)
    return pc.binary_join(rows, ", ")


def handed_over(recording: rr.RecordingStream | None = None) -> None:
    """Wait until what was logged has left Rerun's batcher for its sink (file, viewer): a large
    cloud's rows are then freed before the next cloud's are made (a recording of a million
    points peaked 0.3 GiB higher when every cloud waited in the batcher until the end)."""
    stream = recording or rr.get_data_recording()
    if stream is not None:
        stream.flush()


def log_separation_series(
    series: Mapping[str, tuple[str, tuple[int, int, int]]] = SEPARATION_SERIES,
    recording: rr.RecordingStream | None = None,
) -> None:
    for path, (name, color) in series.items():
        rr.log(path, rr.SeriesLines(names=name, colors=color, widths=2.0), static=True, recording=recording)


def log_separation(
    view: LayerView,
    paths: Sequence[str] = tuple(SEPARATION_SERIES),
    recording: rr.RecordingStream | None = None,
) -> None:
    # Undefined scores (fewer than two entity classes) are left out rather than drawn as 0.
    for path, score in zip(paths, (view.separation, view.separation_3d), strict=False):
        if not math.isnan(score):
            rr.log(path, rr.Scalars(score), recording=recording)


def log_layers(
    analysis: Analysis,
    recording: rr.RecordingStream | None = None,
    times: Times | None = None,
    paths: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> None:
    """Each layer's positions, on the layer timeline (and at the model's ``times``), pinned to
    the first document so that the cloud stays while documents are paged; shallowest first, so
    that the deepest layer is the one shown where all layers sit at one time. ``names``: the
    tokens the nearest tokens' indices name (the analysis's own, unless it is a sample)."""
    paths = paths or cloud_paths(analysis)
    reference = analysis.reference
    names = pa.array(list(analysis.tokens if names is None else names), pa.string())  # once for all layers
    if analysis.last_layer_only and not times:
        log_layer(analysis.layers[0], names, True, paths, recording, reference)
        return
    for view in analysis.layers:
        layer = {} if analysis.last_layer_only else {LAYER_TIMELINE: view.layer}
        at(dict(times or {}) | layer | pins(analysis, layer=False), recording)
        log_layer(view, names, False, paths, recording, reference)
    rr.reset_time(recording=recording)


def log_separation_by_layer(
    analysis: Analysis,
    paths: Sequence[str] = tuple(SEPARATION_SERIES),
    recording: rr.RecordingStream | None = None,
) -> None:
    """The separation scores along the layer timeline, and on no other."""
    for view in analysis.layers:
        at({LAYER_TIMELINE: view.layer}, recording)
        log_separation(view, paths, recording)
    rr.reset_time(recording=recording)


def log_metrics(
    analysis: Analysis,
    source: str,
    recording: rr.RecordingStream | None = None,
    times: Times | None = None,
    body: str | None = None,
) -> None:
    """The metrics document, static or at the model's ``times``; ``body`` replaces it."""
    assert analysis.gold is not None
    if body is None:
        body = metrics_document(analysis.gold.evaluation, analysis.entity_types, source)
    if times:
        at(dict(times) | pins(analysis), recording)
    rr.log(
        METRICS,
        rr.TextDocument(body, media_type=rr.MediaType.MARKDOWN),
        static=not times,
        recording=recording,
    )
    rr.reset_time(recording=recording)


def log_reference_map(reference: ReferenceMap, recording: rr.RecordingStream | None = None) -> None:
    """The map's tokens, small and grey, behind the tokens placed in it (static)."""
    values: dict[str, object] = {
        "Token": reference.tokens,
        "Label": reference.labels,
        "Document": reference.document,
    }
    if reference.gold_tags is not None:
        values["Gold tag"] = reference.gold_tags
    rr.log(
        REFERENCE_CLOUD,
        rr.Points3D(
            reference.coordinates,
            colors=[RECEDING_COLOR],
            radii=rr.Radius.ui_points(MAP_RADIUS),
            labels=reference.tokens,
            show_labels=False,
        ),
        rr.AnyValues(**values),
        static=True,
        recording=recording,
    )


def log_entity_embeddings(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    mentions = analysis.mentions
    assert mentions is not None
    rr.log(
        ENTITY_EMBEDDINGS,
        rr.Points3D(
            mentions.coordinates,
            class_ids=mentions.class_ids,
            labels=mentions.labels,
            # Labels help among a few dozen mentions and only clutter among thousands.
            show_labels=len(mentions.labels) <= MAX_SHOWN_MENTION_LABELS,
            radii=rr.Radius.ui_points(5.0),
        ),
        static=True,
        recording=recording,
    )


def log_at(analysis: Analysis, times: Times, recording: rr.RecordingStream | None = None) -> None:
    """One text's documents, points and positions at ``times`` (``--interactive``: a sentence on
    the ``sentence`` timeline), so that the viewer shows one text at a time."""
    log_documents(analysis, recording, times)
    log_embeddings(analysis, recording, times)
    log_layers(analysis, recording, times)


def log_to_rerun(
    analysis: Analysis, recording: rr.RecordingStream | None = None, source: str = "the gold labels"
) -> None:
    """Log everything an ``Analysis`` holds to ``recording`` (default: the global one).
    ``source`` names the gold data in the metrics' title. Past POINT_CAP tokens, the clouds
    hold a sample of them (see point_sample.py)."""
    names = analysis.tokens
    kept = kept_tokens(analysis)
    if kept is not None:
        log.info(
            "points: %s of %s tokens (every entity, error and suspect; the rest a seeded sample: "
            "more would stall the viewer; the --table has them all)",
            f"{kept.size:,}",
            f"{len(names):,}",
        )
        analysis = sampled(analysis, kept)
    log_annotation_context(analysis.entity_types, recording)
    log_documents(analysis, recording, sample=kept is not None)
    log_embeddings(analysis, recording)
    if analysis.gold is not None:
        log_error_context(recording)
        log_metrics(analysis, source, recording)
    if analysis.suspects:
        log_suspect_context(recording)
        log_suspects(analysis, recording)
    if analysis.mentions is not None:
        log_entity_embeddings(analysis, recording)
    if analysis.reference is not None:
        log_reference_map(analysis.reference, recording)
    log_layers(analysis, recording, names=names)
    if not analysis.last_layer_only:
        log_separation_series(recording=recording)
        log_separation_by_layer(analysis, recording=recording)
