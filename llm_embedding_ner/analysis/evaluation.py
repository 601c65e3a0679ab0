"""Compare predicted entities with gold labels: seqeval's entity-level metrics, a confusion
between types, and an error kind for every word. Pure functions on tag sequences.

Chunks follow seqeval's default mode: an entity starts at ``B-X``, or at ``I-X`` after ``O``
or another type, and ends where the next tag does not continue it; entities never cross a
sentence. An entity counts as found only with the same type and exactly the same words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..inputs.tag_schemes import Chunk

# Error kinds, the class ids of the error-coloured cloud.
NO_ENTITY, CORRECT, FALSE_POSITIVE, FALSE_NEGATIVE, WRONG_TYPE, WRONG_SPAN = range(6)
ERROR_KINDS = {
    NO_ENTITY: "no entity (gold and predicted)",
    CORRECT: "correct entity",
    FALSE_POSITIVE: "false positive (no gold entity)",
    FALSE_NEGATIVE: "false negative (missed)",
    WRONG_TYPE: "wrong type",
    WRONG_SPAN: "right type, wrong boundaries",
}


def chunks(tags: list[str], sentence: np.ndarray | None = None) -> list[Chunk]:
    """Entities in an IOB2 tag sequence; with ``sentence`` (sentence index per tag) no entity
    continues across a sentence break."""
    found: list[Chunk] = []
    open_type, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, entity_type = tag.partition("-")
        new_sentence = sentence is not None and 0 < i < len(tags) and sentence[i] != sentence[i - 1]
        continues = prefix == "I" and entity_type == open_type and not new_sentence
        if open_type is not None and not continues:
            found.append((open_type, start, i))
            open_type = None
        if prefix in ("B", "I") and not continues:
            open_type, start = entity_type, i
    return found


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int  # gold entities


@dataclass(frozen=True)
class Evaluation:
    per_type: dict[str, Scores]  # sorted by type name, as seqeval reports them
    micro: Scores
    macro: Scores
    weighted: Scores
    # (gold type or None, predicted type or None) -> entities; None means "no entity there".
    confusion: dict[tuple[str | None, str | None], int]
    word_kinds: np.ndarray  # (n_words,) one of the error kinds above


def evaluate(gold_tags: list[str], predicted_tags: list[str], sentence: np.ndarray) -> Evaluation:
    """Entity-level scores of ``predicted_tags`` against ``gold_tags`` (IOB2, one per word)."""
    gold = chunks(gold_tags, sentence)
    predicted = chunks(predicted_tags, sentence)
    gold_set, predicted_set = set(gold), set(predicted)
    types = sorted({t for t, _, _ in gold} | {t for t, _, _ in predicted})
    true_positives = Counter(t for t, _, _ in gold_set & predicted_set)
    gold_counts = Counter(t for t, _, _ in gold)
    predicted_counts = Counter(t for t, _, _ in predicted)

    per_type = {t: _scores(true_positives[t], predicted_counts[t], gold_counts[t]) for t in types}
    micro = _scores(sum(true_positives.values()), len(predicted), len(gold))
    total = sum(gold_counts.values())
    scores = list(per_type.values())
    macro = _average(scores, [1.0] * len(scores), total)
    weighted = _average(scores, [float(s.support) for s in scores], total)
    return Evaluation(
        per_type,
        micro,
        macro,
        weighted,
        confusion(gold, predicted),
        word_kinds(len(gold_tags), gold, predicted),
    )


def _average(scores: list[Scores], weights: list[float], support: int) -> Scores:
    """Precision, recall and F1 averaged over types; 0 when there is nothing to weigh (seqeval too)."""
    if not scores or sum(weights) == 0:
        return Scores(0.0, 0.0, 0.0, support)
    return Scores(
        float(np.average([s.precision for s in scores], weights=weights)),
        float(np.average([s.recall for s in scores], weights=weights)),
        float(np.average([s.f1 for s in scores], weights=weights)),
        support,
    )


def _scores(true_positives: int, predicted: int, gold: int) -> Scores:
    # seqeval's convention: a ratio with a zero denominator is 0.
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, gold)


def confusion(gold: list[Chunk], predicted: list[Chunk]) -> dict[tuple[str | None, str | None], int]:
    """Gold entities against predicted ones with exactly the same words: same type on the
    diagonal, another type off it; gold entities with no such prediction count against None
    (missed), predictions with no such gold entity count for None (spurious)."""
    predicted_at = {(start, end): t for t, start, end in predicted}
    gold_spans = {(start, end) for _, start, end in gold}
    counts: Counter[tuple[str | None, str | None]] = Counter()
    for t, start, end in gold:
        counts[t, predicted_at.get((start, end))] += 1
    for t, start, end in predicted:
        if (start, end) not in gold_spans:
            counts[None, t] += 1
    return dict(counts)


def word_kinds(n_words: int, gold: list[Chunk], predicted: list[Chunk]) -> np.ndarray:
    """For each word: no entity, correct, false positive, false negative, wrong type, or right
    type with wrong boundaries, judged by the gold and predicted entities that cover it."""
    gold_chunk = _chunk_per_word(n_words, gold)
    predicted_chunk = _chunk_per_word(n_words, predicted)
    kinds = np.full(n_words, NO_ENTITY, dtype=np.uint16)
    for word in range(n_words):
        g, p = gold_chunk[word], predicted_chunk[word]
        if g is None and p is None:
            continue
        if g is None:
            kinds[word] = FALSE_POSITIVE
        elif p is None:
            kinds[word] = FALSE_NEGATIVE
        elif g[0] != p[0]:
            kinds[word] = WRONG_TYPE
        else:
            kinds[word] = CORRECT if g == p else WRONG_SPAN
    return kinds


def _chunk_per_word(n_words: int, found: list[Chunk]) -> list[Chunk | None]:
    per_word: list[Chunk | None] = [None] * n_words
    for chunk in found:
        for word in range(chunk[1], chunk[2]):
            per_word[word] = chunk
    return per_word
