"""``analyze``: the whole flow from text to an ``Analysis``, ready to log or inspect.

documents -> ``predict`` (reading.py: tokenize, the forward pass and decoding, segment by
segment, and the comparison with gold labels) -> per layer: nearest neighbours, project to 3D,
score how well types separate -> suspects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .analysis.dynamics import TrainingDynamics
from .analysis.gold import rank_suspects, token_sentences
from .analysis.layers import LayerView, view_layers
from .analysis.mentions import MentionCloud, mention_cloud
from .analysis.projection import ProjectionSettings, Projector
from .analysis.reference_map import (
    MapProjector,
    ReferenceMap,
    check_fits,
    fingerprints,
    make_map,
)
from .analysis.result import Analysis, Prediction, TokenRows
from .inputs.documents import Corpus, Document
from .inputs.text_input import check_unicode
from .memory import release_freed_memory
from .model.layer_selection import LayerSpec
from .model.model_loading import DEFAULT_MODEL, LoadedModel, load_model, loading_stage
from .progress import Stopwatch
from .reading import DOCUMENT_SEPARATOR, document_view, predict

__all__ = ["DOCUMENT_SEPARATOR", "analyze", "assemble", "map_of", "predict"]


def analyze(
    text: str | Corpus,
    model: str | LoadedModel = DEFAULT_MODEL,
    *,
    device: str = "auto",
    projection: ProjectionSettings | None = None,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
    label_map: dict[str, str] | None = None,
    project: Projector | None = None,
    reference_map: ReferenceMap | None = None,
    dynamics: TrainingDynamics | None = None,
    on_segment: Callable[[TokenRows], None] | None = None,
    read: Callable[..., Prediction] = predict,
) -> Analysis:
    """Run the NER model over ``text`` (or every document of a ``Corpus``) and project its
    token embeddings to 3D, or place them in ``reference_map`` (see analysis/reference_map.py; its
    layer is the one shown, and a map of another model or tokenizer is refused with a UserError).

    ``model`` is a Hub id, a local directory, or a ``LoadedModel`` to reuse across calls.
    ``layers`` is "last", "all", or a tuple of layer numbers (0 is the embedding output).
    ``label_map`` renames the model's entity types to the gold data's (``{"PER": "PERSON"}``).
    ``project`` stands in for ``projection.project_to_3d`` (the command line runs it in a
    process of its own, see projection_process). ``dynamics``: how the earlier checkpoints of
    the run ``model`` ends read the same corpus (training_run.py), for the suspects.
    ``on_segment`` receives the per-document columns of each segment as it is read (reading.py).
    ``read`` stands in for ``reading.predict`` (``ray_reading.RayReader`` reads on a cluster).
    """
    if isinstance(text, str):
        check_unicode(text, "the text")  # a tokenizer raises a TypeError on a lone surrogate
    corpus = text if isinstance(text, Corpus) else Corpus([Document(text)], "text", False)
    watch = Stopwatch()
    if isinstance(model, LoadedModel):
        loaded = model
    else:
        with loading_stage(watch) as note:
            loaded = load_model(model, device)
            note.append(f"{loaded.name} on {loaded.device}")
    if reference_map is not None:
        check_fits(reference_map, loaded)  # another model's map would place tokens anywhere
        layers, project = (reference_map.layer,), MapProjector(reference_map)
    p = read(
        corpus,
        loaded,
        batch_size=batch_size,
        layers=layers,
        label_map=label_map,
        watch=watch,
        on_segment=on_segment,
    )
    with watch.stage("projection") as note:
        settings = projection or ProjectionSettings()
        views, method = view_layers(
            p.layer_numbers, p.hidden, p.class_ids, settings, project, reduce=reference_map is None
        )
        note.append(method if len(views) == 1 else f"{method}, {len(views)} layers")
        # Mentions placed among a map's tokens would mean nothing: a map has no mention cloud.
        mentions = None
        if corpus.split and reference_map is None:
            mentions = mention_cloud(views[-1].hidden, p.entities, p.entity_types, settings, project)
    release_freed_memory()  # each stage starts where the last ended, not at its high-water mark
    suspects = []
    if p.gold is not None and p.gold.word_probabilities is not None:
        with watch.stage("suspects") as note:
            stream, view = p.stream, views[-1]
            args = (stream.tokens.word_ids, stream.word_starts, p.gold, p.entity_types, view.nearest)
            suspects = rank_suspects(corpus.documents, *args, hidden=view.hidden, dynamics=dynamics)
            note.append(f"{len(suspects):,} suspect gold labels")
            if dynamics is not None:
                note.append(f"with the training dynamics of {len(dynamics.names) + 1} checkpoints")
        release_freed_memory()
    analysis = assemble(p, corpus, loaded.name, loaded.n_layers, views, method, watch.seconds, mentions)
    return replace(analysis, suspects=suspects, reference=reference_map)


def map_of(
    analysis: Analysis, loaded: LoadedModel, settings: ProjectionSettings | None = None, source: str = ""
) -> ReferenceMap:
    """A reference map of ``analysis``'s deepest layer, to save (``reference_map.save_map``) and
    place later runs in; ``loaded`` is the model it came from, ``settings`` its projection's."""
    view = analysis.layers[-1]
    gold = analysis.gold
    return make_map(
        view.hidden,
        view.coordinates,
        model=loaded.name,
        fingerprints=fingerprints(loaded.model, loaded.tokenizer),
        layer=view.layer,
        settings=settings or ProjectionSettings(),
        tokens=analysis.tokens,
        labels=analysis.labels,
        gold_tags=None if gold is None else [gold.gold_tags[w] for w in analysis.word_ids.tolist()],
        document=np.zeros(len(analysis.tokens))
        if analysis.token_document is None
        else analysis.token_document,
        class_ids=analysis.class_ids,
        entity_types=analysis.entity_types,
        source=source,
    )


def assemble(
    p: Prediction,
    corpus: Corpus,
    model_name: str,
    n_layers: int,
    views: list[LayerView],
    method: str,
    timings: dict[str, float],
    mentions: MentionCloud | None = None,
) -> Analysis:
    """The ``Analysis`` of a prediction and its projected layers."""
    docs, stream, tokens = corpus.documents, p.stream, p.stream.tokens
    token_document = np.repeat(np.arange(len(docs)), np.diff(stream.token_starts))
    return Analysis(
        text=p.text,
        model_name=model_name,
        n_layers=n_layers,
        tokens=p.shown.labels,
        pieces=tokens.pieces,
        link_texts=p.shown.link_texts,
        space_only=tokens.space_only,
        offsets=tokens.offsets,
        word_ids=tokens.word_ids,
        labels=p.labels,
        scores=p.scores,
        entities=p.entities,
        entity_types=p.entity_types,
        token_entity=p.token_entity,
        class_ids=p.class_ids,
        layers=views,
        projection_method=method,
        timings=timings,
        documents=[document_view(d, stream, i) for i, d in enumerate(docs)],
        is_corpus=corpus.split,
        token_document=token_document,
        token_sentence=token_sentences(docs, stream) if corpus.has_gold else None,
        gold=p.gold,
        mentions=mentions,
    )
