"""Log to Rerun: one small function per thing shown, each with its entity path.

/                 AnnotationContext: class 0 "no entity", then one class per entity type
text              the original text, entities highlighted
tokenized_text    every token a link to its point
named_entities    unique entities by type, with counts
umap_embeddings   Points3D, one per token, coloured by entity class
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import rerun as rr
import rerun.blueprint as rrb

from .entities import display_names
from .markdown import entities_document, text_document, tokenized_document
from .pipeline import Analysis

APPLICATION_ID = "rerun_example_llm_embedding_ner"
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


def default_blueprint() -> rrb.Blueprint:
    documents = rrb.Vertical(
        rrb.TextDocumentView(origin="text", name="Text"),
        rrb.TextDocumentView(origin="tokenized_text", name="Tokenized text"),
        rrb.TextDocumentView(origin="named_entities", name="Named entities"),
        row_shares=[3, 4, 2],
    )
    return rrb.Blueprint(
        rrb.Horizontal(
            documents,
            rrb.Spatial3DView(origin="umap_embeddings", name="UMAP embeddings"),
            column_shares=[2, 3],
        ),
        collapse_panels=True,
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
    entity_text = [analysis.entities[i].text if i >= 0 else "" for i in analysis.token_entity.tolist()]
    rr.log(
        "umap_embeddings",
        rr.Points3D(
            analysis.coordinates,
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


def log_to_rerun(analysis: Analysis, recording: rr.RecordingStream | None = None) -> None:
    """Log everything an ``Analysis`` holds to ``recording`` (default: the global one)."""
    log_annotation_context(analysis.entity_types, recording)
    log_text(analysis, recording)
    log_tokenized_text(analysis, recording)
    log_named_entities(analysis, recording)
    log_embeddings(analysis, recording)
