"""Log a ``Comparison`` to Rerun: each model's analysis on the sequence timeline ``model``
(and ``step``, for Trainer checkpoints), with what changed from the model before.

On top of what rerun_logging logs for one analysis (there, at each model's times):

comparison                  the models side by side: F1 per type, or entities per type; agreement
umap_embeddings_changed     the token cloud coloured by how each point's class changed from the
                            model before, with its own AnnotationContext
separation/*                Scalars along ``model``/``step``: the deepest chosen layer's separation
f1/micro                    Scalars along ``model``/``step``: micro F1 against the gold labels
separation_by_layer/<i>     Scalars along ``layer``, one series per model (several layers only)
"""

from __future__ import annotations

import math

import rerun as rr

from ..analysis.changes import (
    CHANGE_KINDS,
    GAINED,
    LOST,
    NOT_COMPARED,
    OTHER_TYPE,
    SAME_NONE,
    SAME_TYPE,
    Comparison,
    ModelResult,
    entity_counts,
)
from ..analysis.result import Analysis
from .markdown import comparison_document, escape_inline
from .rerun_logging import (
    ERRORS_CLOUD,
    GOLD_CLOUD,
    MODEL_TIMELINE,
    NO_ENTITY_COLOR,
    PALETTE,
    SEPARATION_SERIES,
    STEP_TIMELINE,
    TOKEN_CLOUD,
    Times,
    at,
    log_annotation_context,
    log_documents,
    log_embeddings,
    log_error_context,
    log_layers,
    log_metrics,
    log_separation,
    log_separation_by_layer,
    log_separation_series,
    log_to_rerun,
)

CHANGED_CLOUD = "umap_embeddings_changed"
COMPARISON = "comparison"
F1_PATH = "f1/micro"
F1_COLOR = (80, 200, 120)
CHANGE_COLORS = {
    SAME_NONE: NO_ENTITY_COLOR,
    SAME_TYPE: (120, 120, 120),  # grey: nothing to look at
    GAINED: (80, 200, 120),  # green
    LOST: (76, 154, 255),  # blue
    OTHER_TYPE: (255, 60, 60),  # red
    NOT_COMPARED: (60, 60, 60),
}


def model_times(comparison: Comparison, index: int) -> Times:
    step = comparison.models[index].entry.step
    return {MODEL_TIMELINE: index} | ({} if step is None else {STEP_TIMELINE: step})


def model_title(comparison: Comparison, index: int) -> str:
    entry = comparison.models[index].entry
    step = "" if entry.step is None else f", step {entry.step:,}"
    head = "" if comparison.models[index].has_head else ", no classification head: no labels"
    last = len(comparison.models) - 1
    name = escape_inline(entry.label)  # a directory's name is the user's text, not markup
    return f"**{name}**{step}{head} · model {index} of 0 to {last} on the `model` timeline\n\n"


def cloud_paths(comparison: Comparison) -> list[str]:
    gold = comparison.models[0].analysis.gold is not None
    return [TOKEN_CLOUD, *([GOLD_CLOUD, ERRORS_CLOUD] if gold else []), CHANGED_CLOUD]


def log_change_context(recording: rr.RecordingStream | None = None) -> None:
    infos = [
        rr.AnnotationInfo(id=k, label=label, color=CHANGE_COLORS[k]) for k, label in CHANGE_KINDS.items()
    ]
    rr.log(CHANGED_CLOUD, rr.AnnotationContext(infos), static=True, recording=recording)


def log_comparison_document(comparison: Comparison, recording: rr.RecordingStream | None = None) -> None:
    types = comparison.entity_types
    analyses = [m.analysis for m in comparison.models]
    f1 = None
    if analyses[0].gold is not None:
        f1 = [
            {
                **{t: s.f1 for t, s in m.analysis.gold.evaluation.per_type.items()},
                "micro": m.analysis.gold.evaluation.micro.f1,
            }
            if m.has_head and m.analysis.gold is not None
            else None
            for m in comparison.models
        ]
    counts = [entity_counts(m.analysis.entities, types) if m.has_head else None for m in comparison.models]
    body = comparison_document(
        [m.entry.label for m in comparison.models],
        types,
        f1,
        counts,
        comparison.agreement,
        comparison.per_word,
    )
    rr.log(
        COMPARISON, rr.TextDocument(body, media_type=rr.MediaType.MARKDOWN), static=True, recording=recording
    )


def log_score_series(comparison: Comparison, recording: rr.RecordingStream | None = None) -> None:
    log_separation_series(recording=recording)
    if comparison.models[0].analysis.gold is not None:
        rr.log(
            F1_PATH,
            rr.SeriesLines(names="micro F1 (gold)", colors=F1_COLOR, widths=2.0),
            static=True,
            recording=recording,
        )
    if not comparison.models[0].analysis.last_layer_only:
        series = {
            by_layer_path(i): (f"{i}: {m.entry.label}", PALETTE[i % len(PALETTE)])
            for i, m in enumerate(comparison.models)
        }
        log_separation_series(series, recording)


def by_layer_path(index: int) -> str:
    return f"separation_by_layer/{index}"


def log_model_scores(comparison: Comparison, index: int, recording: rr.RecordingStream | None = None) -> None:
    """Separation of the deepest chosen layer, and micro F1, at the model's times only."""
    model = comparison.models[index]
    at(model_times(comparison, index), recording)
    log_separation(model.analysis.layers[-1], tuple(SEPARATION_SERIES), recording)
    gold = model.analysis.gold
    if gold is not None and model.has_head:
        rr.log(F1_PATH, rr.Scalars(gold.evaluation.micro.f1), recording=recording)
    rr.reset_time(recording=recording)
    if not model.analysis.last_layer_only:
        log_separation_by_layer(model.analysis, (by_layer_path(index),), recording)


def log_model(
    comparison: Comparison, index: int, source: str, recording: rr.RecordingStream | None = None
) -> None:
    """One model's texts, cloud, metrics and scores, at its place on the model timelines."""
    model: ModelResult = comparison.models[index]
    analysis, times = model.analysis, model_times(comparison, index)
    log_documents(analysis, recording, times, title=model_title(comparison, index))
    log_embeddings(
        analysis,
        recording,
        times,
        more_values={"Model": [model.entry.label] * len(analysis.tokens), "Changed": model.changed_from},
        more_clouds={CHANGED_CLOUD: model.change},
    )
    if analysis.gold is not None:
        no_labels = f"*{model.entry.label} has no classification head: nothing to score.*"
        log_metrics(analysis, source, recording, times, body=None if model.has_head else no_labels)
    log_layers(analysis, recording, times, paths=cloud_paths(comparison))
    log_model_scores(comparison, index, recording)


def log_comparison(
    comparison: Comparison, recording: rr.RecordingStream | None = None, source: str = "the gold labels"
) -> None:
    """Log everything a ``Comparison`` holds to ``recording`` (default: the global one)."""
    log_annotation_context(comparison.entity_types, recording)
    log_change_context(recording)
    if comparison.models[0].analysis.gold is not None:
        log_error_context(recording)
    log_comparison_document(comparison, recording)
    log_score_series(comparison, recording)
    # In model order: where all models sit at one time (the layer and document timelines), the
    # last row logged is the one shown, and that should be the last model.
    for index in range(len(comparison.models)):
        log_model(comparison, index, source, recording)


def log_result(
    result: Analysis | Comparison,
    recording: rr.RecordingStream | None = None,
    source: str = "the gold labels",
) -> None:
    """One model's analysis or several models' comparison, whichever the run made."""
    if isinstance(result, Comparison):
        log_comparison(result, recording, source)
    else:
        log_to_rerun(result, recording, source)


def score_lines(comparison: Comparison) -> str:
    """Separation (and F1) per model, as lines of text for the terminal."""
    gold = comparison.models[0].analysis.gold is not None
    lines = [
        "separation of entity types (hidden space, deepest chosen layer)"
        + (" and micro F1" if gold else "")
        + " by model:"
    ]
    for i, m in enumerate(comparison.models):
        separation = m.analysis.layers[-1].separation
        shown = "   n/a" if math.isnan(separation) else f"{separation:6.2f}"
        f1 = ""
        if gold:
            f1 = (
                f"  F1 {m.analysis.gold.evaluation.micro.f1:.3f}"
                if m.has_head and m.analysis.gold
                else "  F1   n/a"
            )
        lines.append(f"  {i:>3}  {shown}{f1}  {m.entry.label}")
    return "\n".join(lines)
