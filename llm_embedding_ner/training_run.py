"""Suspect gold labels on the split a model was trained on: each earlier checkpoint of its
training run reads the corpus (one forward pass, no projection), and the final model's analysis
ranks the suspects with those readings (analysis/dynamics.py).

``--model RUN_DIR --suspects FILE`` with a Trainer output directory (or several checkpoints of
one run) lands here instead of comparing the checkpoints: the recording is the final model's.
"""

from __future__ import annotations

import logging
import warnings

from .analysis.dynamics import TrainingDynamics
from .analysis.suspects import OUTSIDE
from .inputs.documents import Corpus
from .model.model_list import ModelEntry
from .model.model_loading import load_model, load_tokenizer, loading_stage
from .progress import Stopwatch
from .reading import predict


def read_checkpoints(
    corpus: Corpus,
    checkpoints: list[ModelEntry],
    final: str,
    *,
    device: str = "auto",
    batch_size: int | None = None,
    label_map: dict[str, str] | None = None,
    allow_pickle: bool = False,
) -> TrainingDynamics:
    """How each of ``checkpoints`` (in step order, the final model, named ``final``, not among
    them) reads the gold words of ``corpus``: word-level probabilities of O and each type."""
    log = logging.getLogger("llm_embedding_ner")
    names: list[str] = []
    probabilities = []
    classes: tuple[str, ...] = ()
    for i, entry in enumerate(checkpoints, start=1):
        watch = Stopwatch()
        with loading_stage(watch) as note:
            tokenizer = load_tokenizer(entry.tokenizer_from) if entry.tokenizer_from else None
            loaded = load_model(entry.name, device, allow_pickle=allow_pickle, tokenizer=tokenizer)
            note.append(f"checkpoint {i} of {len(checkpoints)}: {entry.label}")
        p = predict(corpus, loaded, batch_size=batch_size, label_map=label_map, watch=watch)
        read = (OUTSIDE, *p.entity_types)
        if p.gold is None or p.gold.word_probabilities is None:
            warnings.warn(f"{entry.label} has no token-classification head: left out", stacklevel=2)
            continue
        if classes and read != classes:
            warnings.warn(f"{entry.label}'s labels differ from {names[0]}'s: left out", stacklevel=2)
            continue
        log.info(f"{entry.label}: micro F1 {p.gold.evaluation.micro.f1:.3f}")
        names.append(entry.label)
        probabilities.append(p.gold.word_probabilities)
        classes = read
        del loaded, p
    return TrainingDynamics(tuple(names), classes, tuple(probabilities), final)
