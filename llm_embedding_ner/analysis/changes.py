"""How predictions change from one model to the next, and ``Comparison``, what comparing
several models hands the viewer: one ``Analysis`` per model, their points corresponding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.model_list import ModelEntry
from ..model.windows import run_starts
from .entities import Entity
from .result import Analysis

# How a point's class changed from the previous model: the class ids of the ``changed`` cloud.
SAME_NONE, SAME_TYPE, GAINED, LOST, OTHER_TYPE, NOT_COMPARED = range(6)
CHANGE_KINDS = {
    SAME_NONE: "no entity in either",
    SAME_TYPE: "same type",
    GAINED: "entity gained (was none)",
    LOST: "entity lost (now none)",
    OTHER_TYPE: "type changed",
    NOT_COMPARED: "not compared (first model, or no labels)",
}


@dataclass(frozen=True)
class ModelResult:
    entry: ModelEntry
    analysis: Analysis  # classes by the comparison's shared types; one point per token or word
    has_head: bool  # False: an encoder alone; its labels are empty, its classes borrowed
    change: np.ndarray  # (n,) how each point's class changed from the previous model (CHANGE_KINDS)
    changed_from: list[str]  # (n,) "B-PER -> O" where the label changed, "" where it did not


@dataclass(frozen=True)
class Comparison:
    """What ``compare`` hands on: each model's result in the order given, whether the points are
    shared words (the tokenizers differ) or tokens, and how alike consecutive models label words."""

    models: list[ModelResult]
    per_word: bool  # the tokenizers differ: one point per shared word, not per token
    agreement: list[float]  # share of words on which models i and i + 1 agree (both with labels)

    @property
    def entity_types(self) -> list[str]:
        return self.models[0].analysis.entity_types


def label_changes(previous: Analysis | None, current: Analysis) -> tuple[np.ndarray, list[str]]:
    """Each point's change of class from ``previous`` (None: not compared), and "old -> new"
    where its label changed."""
    n = len(current.labels)
    if previous is None:
        return np.full(n, NOT_COMPARED, dtype=np.uint16), [""] * n
    old, new = previous.class_ids, current.class_ids
    change = np.select(
        [(old == 0) & (new == 0), old == new, old == 0, new == 0],
        [SAME_NONE, SAME_TYPE, GAINED, LOST],
        OTHER_TYPE,
    ).astype(np.uint16)
    changed_from = [
        "" if a == b else f"{a} -> {b}" for a, b in zip(previous.labels, current.labels, strict=True)
    ]
    return change, changed_from


def word_tags(analysis: Analysis) -> list[tuple[int, bool]]:
    """Per word (its first point): its entity class, and whether an entity starts there."""
    starts = {e.first_token for e in analysis.entities}
    return [(int(analysis.class_ids[i]), i in starts) for i in run_starts(analysis.word_ids).tolist()]


def word_agreement(a: Analysis, b: Analysis) -> float:
    """Share of words that both models tag alike: same class, and an entity starting there in
    both or neither (so two adjacent entities do not agree with one long one)."""
    tags_a, tags_b = word_tags(a), word_tags(b)
    if not tags_a:
        return float("nan")
    return float(np.mean([x == y for x, y in zip(tags_a, tags_b, strict=True)]))


def entity_counts(entities: list[Entity], types: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(types, 0)
    for e in entities:
        counts[e.type] += 1
    return counts
