"""``compare``: several models (or checkpoints of one training run) over the same input, as one
``Analysis`` per model whose points correspond, whose classes mean the same, and whose 3D
layouts are aligned, so that a point that moves from one model to the next really changed its
neighbourhood.

Each model is loaded, run and dropped in turn: memory holds one model at a time, plus the
chosen layers' hidden states of every model. Then, as the layer view does along layers, the
last model's deepest layer is projected on its own and each earlier model follows the one after
it (started from its layout and rotated onto it).
"""

from __future__ import annotations

import gc
import itertools
import logging
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .analysis.changes import Comparison, ModelResult, label_changes, word_agreement
from .analysis.entities import entity_types, token_classes
from .analysis.gold import GoldComparison
from .analysis.layers import view_layers
from .analysis.projection import ProjectionSettings, Projector
from .analysis.reference_map import tokenizer_fingerprint
from .analysis.result import Analysis, Prediction
from .analysis.word_points import pool_words, shared_words
from .errors import UserError
from .inputs.documents import Corpus
from .model.layer_selection import HEAVY_LAYERS_GIB, LayerSpec, resolve_layers
from .model.model_list import ModelEntry
from .model.model_loading import LoadedModel, has_token_head, inspect_model, load_model, loading_stage
from .pipeline import assemble
from .progress import Stopwatch
from .reading import predict

log = logging.getLogger("llm_embedding_ner")

NO_HEAD_ANYWHERE = "none of the models has a token-classification head, and there are no gold labels"


def compare(
    corpus: Corpus,
    entries: list[ModelEntry],
    *,
    device: str = "auto",
    allow_pickle: bool = False,
    projection: ProjectionSettings | None = None,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
    label_map: dict[str, str] | None = None,
    project: Projector | None = None,
    load: Callable[..., LoadedModel] = load_model,
) -> Comparison:
    """Run every model of ``entries`` over ``corpus`` and line their results up. Configurations
    and tokenizers are checked first, so a model that cannot take part fails before any runs."""
    per_word, heads_known, tokenizers = check_models(entries, layers, label_map or {}, allow_pickle)
    if not any(heads_known) and not corpus.has_gold:
        raise UserError(NO_HEAD_ANYWHERE)
    if per_word:
        log.info("the models' tokenizers differ: one point per word (the mean of its tokens), not per token")
    predictions = run_each(
        corpus, entries, tokenizers, load, device, allow_pickle, batch_size, layers, label_map or {}
    )
    if not any(m.has_head for _, m in predictions) and not corpus.has_gold:  # head weights missing
        raise UserError(NO_HEAD_ANYWHERE)
    preds = [p for p, _ in predictions]
    if per_word:
        words = shared_words([p.stream.tokens for p in preds])
        given_words = all(d.words is not None for d in corpus.documents)
        preds = [pool_words(p, words, given_words) for p in preds]
    else:
        check_same_tokens(preds, entries)
    types = shared_types(preds)
    # Classes and gold classes numbered by the shared types, so a class means one type in all.
    preds = [
        replace(
            p,
            entity_types=types,
            class_ids=token_classes(p.entities, p.token_entity, types),
            gold=_regold(p, types),
        )
        for p in preds
    ]
    heads = [m.has_head for _, m in predictions]
    for i, has_head in enumerate(heads):
        if not has_head:
            classes, source = borrowed_classes(i, heads, preds, entries)
            preds[i] = replace(preds[i], class_ids=classes)
            warnings.warn(
                f"{entries[i].label} has no token-classification head: its labels are empty and its points "
                f"take the classes of {source}",
                stacklevel=2,
            )
    settings = projection or ProjectionSettings()
    analyses: list[Analysis | None] = [None] * len(preds)
    follow = None
    with Stopwatch().stage("projection") as note:
        for i in reversed(range(len(preds))):
            p, loaded = preds[i], predictions[i][1]
            views, method = view_layers(p.layer_numbers, p.hidden, p.class_ids, settings, project, follow)
            follow = views[-1].coordinates
            analyses[i] = assemble(p, corpus, loaded.name, loaded.n_layers, views, method, {})
        note.append(f"{len(preds)} models")
    done = [a for a in analyses if a is not None]
    results = []
    for i, (analysis, entry) in enumerate(zip(done, entries, strict=True)):
        previous = done[i - 1] if i > 0 and heads[i - 1] and heads[i] else None
        change, changed_from = label_changes(previous, analysis)
        results.append(ModelResult(entry, analysis, heads[i], change, changed_from))
    agreement = [
        word_agreement(a.analysis, b.analysis) if a.has_head and b.has_head else float("nan")
        for a, b in itertools.pairwise(results)
    ]
    return Comparison(results, per_word, agreement)


def run_each(
    corpus: Corpus,
    entries: list[ModelEntry],
    tokenizers: list[Any],
    load: Callable[..., LoadedModel],
    device: str,
    allow_pickle: bool,
    batch_size: int | None,
    layers: LayerSpec,
    label_map: dict[str, str],
) -> list[tuple[Prediction, LoadedModel]]:
    """Each model's prediction, and what is known of the model without its weights. Each is
    loaded (with its tokenizer from ``tokenizers``, loaded by check_models), run and released
    before the next: one model in memory at a time."""
    predictions: list[tuple[Prediction, LoadedModel]] = []
    for index, entry in enumerate(entries):
        log.info("model %d/%d: %s", index + 1, len(entries), entry.name)
        watch = Stopwatch()
        with loading_stage(watch) as note:
            loaded = load(
                entry.name,
                device,
                allow_pickle=allow_pickle,
                allow_headless=True,
                tokenizer=tokenizers[index],
            )
            note.append(f"{loaded.name} on {loaded.device}")
        own_types = entity_types(loaded.labels)
        renames = {k: v for k, v in label_map.items() if k in own_types}  # each model its own
        p = predict(corpus, loaded, batch_size=batch_size, layers=layers, label_map=renames, watch=watch)
        predictions.append((p, replace(loaded, model=None, tokenizer=None)))
        del loaded
        gc.collect()
        if index == 0:  # after the first model, when the size of what all will keep is known
            warn_if_heavy(p, len(entries))
    return predictions


def warn_if_heavy(first: Prediction, n_models: int) -> None:
    """Every model's chosen layers are kept until all are projected: when they will hold more
    than HEAVY_LAYERS_GIB, say so while the first model is done, not at the end."""
    gib = first.hidden.nbytes * n_models / 2**30
    if gib >= HEAVY_LAYERS_GIB:
        warnings.warn(
            f"{n_models} models will keep {gib:.1f} GiB of hidden states until they are projected; "
            "for a long corpus compare fewer checkpoints or layers",
            stacklevel=3,
        )


def check_models(
    entries: list[ModelEntry], layers: LayerSpec, label_map: dict[str, str], allow_pickle: bool = False
) -> tuple[bool, list[bool], list[Any]]:
    """Fail before any model runs: each configuration and tokenizer must load, each model's
    weights files must be there and readable (pickle ones only with ``allow_pickle``), each
    tokenizer must give character offsets, ``layers`` must exist in each model and ``label_map``
    must name types of some model. Returns whether the tokenizers differ (points become words), which
    models were saved with a token-classification head (by their configurations), and the
    tokenizers, so that they are not loaded again with the models."""
    loaded: list[Any] = []
    identities: list[str] = []
    types: list[str] = []
    heads: list[bool] = []
    for entry in entries:
        config, tokenizer = inspect_model(entry.name, entry.tokenizer_from, allow_pickle)
        if not getattr(tokenizer, "is_fast", False):
            raise UserError(
                f"{entry.name}'s tokenizer is a slow (Python) tokenizer, which gives no character offsets: "
                "its tokens cannot be lined up with the other models' words"
            )
        try:
            resolve_layers(layers, int(config.num_hidden_layers))
        except UserError as e:
            raise UserError(f"{entry.name}: {e}") from None
        loaded.append(tokenizer)
        identities.append(tokenizer_fingerprint(tokenizer))  # its rules and vocabulary
        heads.append(has_token_head(config))
        if heads[-1]:
            types += entity_types([config.id2label[i] for i in sorted(config.id2label)])
    unknown = [name for name in label_map if name not in types]
    if unknown:
        raise UserError(
            f"--label-map names {', '.join(unknown)}, but no model has such a type; their types are "
            f"{', '.join(dict.fromkeys(types))}"
        )
    return len(set(identities)) > 1, heads, loaded


def check_same_tokens(preds: list[Prediction], entries: list[ModelEntry]) -> None:
    first = preds[0].stream.tokens
    for p, entry in zip(preds[1:], entries[1:], strict=True):
        tokens = p.stream.tokens
        if tokens.ids.shape != first.ids.shape or not np.array_equal(tokens.offsets, first.offsets):
            raise UserError(f"{entry.name} split the text into other tokens than {entries[0].name}")


def shared_types(preds: list[Prediction]) -> list[str]:
    """Every model's entity types (and the gold data's), by name, in order of first appearance."""
    return list(dict.fromkeys(t for p in preds for t in p.entity_types))


def _regold(p: Prediction, types: list[str]) -> GoldComparison | None:
    """The gold comparison with gold classes numbered by the shared types."""
    if p.gold is None:
        return None
    remap = np.asarray([0, *[types.index(t) + 1 for t in p.entity_types]], dtype=np.uint16)
    return replace(p.gold, gold_class_ids=remap[p.gold.gold_class_ids])


def borrowed_classes(
    index: int, heads: list[bool], preds: list[Prediction], entries: list[ModelEntry]
) -> tuple[np.ndarray, str]:
    """Classes for a model without a head: the next model's that has one, else the gold
    labels', else the nearest earlier model's that has one."""
    later = [j for j in range(index + 1, len(heads)) if heads[j]]
    if later:
        return preds[later[0]].class_ids, entries[later[0]].label
    gold = preds[index].gold
    if gold is not None:
        return gold.gold_class_ids, "the gold labels"
    earlier = [j for j in range(index) if heads[j]]
    return preds[earlier[-1]].class_ids, entries[earlier[-1]].label
