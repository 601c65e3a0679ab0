"""Log to Rerun: one small function per thing shown, each with its entity path.

/                 AnnotationContext: class 0 "no entity", then one class per entity type
text              the original text, entities highlighted
tokenized_text    every token a link to its point
named_entities    unique entities by type, with counts
umap_embeddings   Points3D, one per token, coloured by entity class; its 5 nearest tokens
separation/*      Scalars: how well entity types separate, in hidden space and in 3D

With the last layer alone everything is static. With other or several layers, the positions,
nearest tokens and scores are logged on the sequence timeline ``layer`` (0 = embeddings), and
the rest stays static, so the time slider moves the points from layer to layer.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import numpy as np
import rerun as rr
import rerun.blueprint as rrb

from .entities import display_names
from .markdown import entities_document, text_document, tokenized_document
from .pipeline import Analysis, LayerView

APPLICATION_ID = "rerun_example_llm_embedding_ner"
LAYER_TIMELINE = "layer"
SEPARATION_SERIES = {  # entity path -> (series name, colour)
    "separation/hidden_space": ("hidden space", (255, 193, 37)),
    "separation/projection_3d": ("3D projection", (0, 206, 209)),
}
NO_ENTITY_COLOR = (30, 30, 30)
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


def class_color(class_id: int) -> tuple[int, int, int]:
    if class_id == 0:
        return NO_ENTITY_COLOR
    if class_id <= len(PALETTE):
        return PALETTE[class_id - 1]
    # Large label sets: step the hue by the golden angle, so neighbouring ids stay far apart.
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.95)
    return round(r * 255), round(g * 255), round(b * 255)


def default_blueprint(
    layer_timeline: bool = False, score_series: bool = False, camera: rrb.EyeControls3D | None = None
) -> rrb.Blueprint:
    """Documents beside the 3D cloud; with ``layer_timeline`` the time panel opens on the
    ``layer`` timeline, and with ``score_series`` the separation scores are plotted beside."""
    documents = rrb.Vertical(
        rrb.TextDocumentView(origin="text", name="Text"),
        rrb.TextDocumentView(origin="tokenized_text", name="Tokenized text"),
        rrb.TextDocumentView(origin="named_entities", name="Named entities"),
        row_shares=[3, 4, 2],
    )
    cloud = rrb.Spatial3DView(origin="umap_embeddings", name="UMAP embeddings", eye_controls=camera)
    if not layer_timeline:
        return rrb.Blueprint(rrb.Horizontal(documents, cloud, column_shares=[2, 3]), collapse_panels=True)
    views: list[rrb.Container | rrb.View] = [documents, cloud]
    if score_series:
        views.append(
            rrb.TimeSeriesView(
                origin="separation",
                name="Separation of entity types by layer",
                axis_y=rrb.ScalarAxis(range=(0.0, 1.0)),
                plot_legend=rrb.PlotLegend(corner="LeftBottom"),
            )
        )
    return rrb.Blueprint(
        rrb.Horizontal(*views, column_shares=[2, 3, 2][: len(views)]),
        rrb.TimePanel(state="collapsed", timeline=LAYER_TIMELINE),
        collapse_panels=True,
    )


def blueprint_for(analysis: Analysis) -> rrb.Blueprint:
    layouts = np.concatenate([view.coordinates for view in analysis.layers])
    return default_blueprint(not analysis.last_layer_only, len(analysis.layers) > 1, camera_for(layouts))


def camera_for(points: np.ndarray) -> rrb.EyeControls3D | None:
    """A camera that frames every point from a three-quarter view. The viewer's own framing
    aims at where most points are, so a few far clusters (often the entities, which UMAP sets
    apart from the many "no entity" tokens) could start off-screen."""
    if points.shape[0] == 0 or not np.isfinite(points).all():
        return None
    low, high = points.min(axis=0), points.max(axis=0)
    centre, radius = (low + high) / 2, max(float(np.linalg.norm(high - low)) / 2, 1e-3)
    direction = np.array([1.0, -1.0, 0.7]) / np.linalg.norm([1.0, -1.0, 0.7])
    return rrb.EyeControls3D(
        position=centre + 2.2 * radius * direction, look_target=centre, eye_up=(0.0, 0.0, 1.0)
    )


def log_annotation_context(entity_types: Sequence[str], recording: rr.RecordingStream | None = None) -> None:
    infos = [rr.AnnotationInfo(id=0, label="no entity", color=NO_ENTITY_COLOR)]
    infos += [
        rr.AnnotationInfo(id=i, label=name, color=class_color(i))
        for i, name in enumerate(display_names(entity_types), start=1)
    ]
    rr.log("/", rr.AnnotationContext(infos), static=True, recording=recording)


def log_text(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    document = text_document(analysis.text, analysis.entities)
    rr.log(
        "text", rr.TextDocument(document, media_type=rr.MediaType.MARKDOWN), static=True, recording=recording
    )


def log_tokenized_text(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    document = tokenized_document(analysis.text, analysis.tokens, analysis.offsets, analysis.word_ids)
    rr.log(
        "tokenized_text",
        rr.TextDocument(document, media_type=rr.MediaType.MARKDOWN),
        static=True,
        recording=recording,
    )


def log_named_entities(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    document = entities_document(analysis.entities, analysis.entity_types)
    rr.log(
        "named_entities",
        rr.TextDocument(document, media_type=rr.MediaType.MARKDOWN),
        static=True,
        recording=recording,
    )


def log_embeddings(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    """What does not change from layer to layer (classes, labels, the model's output), static."""
    entity_text = [analysis.entities[i].text if i >= 0 else "" for i in analysis.token_entity.tolist()]
    rr.log(
        "umap_embeddings",
        rr.Points3D.from_fields(
            class_ids=analysis.class_ids,
            labels=analysis.tokens,
            show_labels=False,
            # In screen points, so a cloud of any scale stays readable.
            radii=rr.Radius.ui_points(4.0),
        ),
        rr.AnyValues(
            **{
                "Token": analysis.tokens,
                "Named Entity": entity_text,
                "Label": analysis.labels,
                "Score": analysis.scores.astype("float32"),
            }
        ),
        static=True,
        recording=recording,
    )


def log_layer(
    view: LayerView, tokens: Sequence[str], static: bool, recording: rr.RecordingStream | None = None
) -> None:
    """One layer's positions and each token's nearest tokens in that layer's hidden space."""
    nearest = [", ".join(tokens[j] for j in row) for row in view.nearest.tolist()]
    rr.log(
        "umap_embeddings",
        rr.Points3D.from_fields(positions=view.coordinates),
        rr.AnyValues(**{"Nearest tokens": nearest}),
        static=static,
        recording=recording,
    )


def log_separation_series(recording: rr.RecordingStream | None = None) -> None:
    for path, (name, color) in SEPARATION_SERIES.items():
        rr.log(path, rr.SeriesLines(names=name, colors=color, widths=2.0), static=True, recording=recording)


def log_separation(view: LayerView, recording: rr.RecordingStream | None = None) -> None:
    # Undefined scores (fewer than two entity classes) are left out rather than drawn as 0.
    for path, score in zip(SEPARATION_SERIES, (view.separation, view.separation_3d), strict=True):
        if not math.isnan(score):
            rr.log(path, rr.Scalars(score), recording=recording)


def log_to_rerun(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    """Log everything an ``Analysis`` holds to ``recording`` (default: the global one)."""
    log_annotation_context(analysis.entity_types, recording)
    log_text(analysis, recording)
    log_tokenized_text(analysis, recording)
    log_named_entities(analysis, recording)
    log_embeddings(analysis, recording)
    if analysis.last_layer_only:
        log_layer(analysis.layers[0], analysis.tokens, static=True, recording=recording)
        return
    log_separation_series(recording)
    for view in analysis.layers:
        rr.set_time(LAYER_TIMELINE, sequence=view.layer, recording=recording)
        log_layer(view, analysis.tokens, static=False, recording=recording)
        log_separation(view, recording)
    rr.reset_time(recording=recording)
