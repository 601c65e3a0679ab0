"""Entity-level metrics equal seqeval's (default mode, IOB2); the confusion and error kinds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities

from llm_embedding_ner.analysis.evaluation import (
    CORRECT,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    NO_ENTITY,
    WRONG_SPAN,
    WRONG_TYPE,
    chunks,
    evaluate,
)

TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
sentences_strategy = st.lists(
    st.lists(st.sampled_from(TAGS), min_size=1, max_size=12), min_size=1, max_size=8
)


def flatten(sentences: list[list[str]]) -> tuple[list[str], np.ndarray]:
    tags = [t for s in sentences for t in s]
    return tags, np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])


@settings(max_examples=300, deadline=None)
@given(sentences_strategy)
def test_chunks_equal_seqeval_entities(sentences: list[list[str]]) -> None:
    tags, sentence = flatten(sentences)
    # seqeval joins the sentences with an O after each; map its positions back to ours.
    ours: list[int | None] = []
    for s in sentences:
        ours += [*range(len(ours) - ours.count(None), len(ours) - ours.count(None) + len(s)), None]
    expected = {(t, ours[a], ours[b] + 1) for t, a, b in get_entities(sentences)}
    assert set(chunks(tags, sentence)) == expected


def assert_equals_seqeval(gold: list[list[str]], predicted: list[list[str]]) -> None:
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    assert_equals_report(gold, predicted, report)


def assert_equals_report(gold: list[list[str]], predicted: list[list[str]], report: dict) -> None:
    """Our scores of IOB2 ``gold`` and ``predicted`` equal seqeval's ``report`` (output_dict)."""
    gold_tags, sentence = flatten(gold)
    predicted_tags, _ = flatten(predicted)
    ours = evaluate(gold_tags, predicted_tags, sentence)
    for name, scores in ours.per_type.items():
        expected = report[name]
        assert scores.precision == pytest.approx(expected["precision"])
        assert scores.recall == pytest.approx(expected["recall"])
        assert scores.f1 == pytest.approx(expected["f1-score"])
        assert scores.support == expected["support"]
    assert set(ours.per_type) == set(report) - {"micro avg", "macro avg", "weighted avg"}
    for ours_avg, key in (
        (ours.micro, "micro avg"),
        (ours.macro, "macro avg"),
        (ours.weighted, "weighted avg"),
    ):
        assert ours_avg.precision == pytest.approx(report[key]["precision"])
        assert ours_avg.recall == pytest.approx(report[key]["recall"])
        assert ours_avg.f1 == pytest.approx(report[key]["f1-score"])
        assert ours_avg.support == report[key]["support"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_metrics_equal_seqeval_classification_report(data: st.DataObject) -> None:
    gold = data.draw(sentences_strategy)
    predicted = [data.draw(st.lists(st.sampled_from(TAGS), min_size=len(s), max_size=len(s))) for s in gold]
    if not any(t != "O" for s in gold + predicted for t in s):
        return  # seqeval reports nothing at all without a single entity
    assert_equals_seqeval(gold, predicted)


def test_confusion_and_error_kinds() -> None:
    gold = ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-MISC"]
    pred = ["B-PER", "I-PER", "O", "B-ORG", "B-LOC", "B-ORG", "O", "O", "O"]
    result = evaluate(gold, pred, np.zeros(len(gold), dtype=int))
    assert result.confusion == {
        ("PER", "PER"): 1,
        ("LOC", "ORG"): 1,  # same words, other type
        ("ORG", None): 1,  # predicted with other boundaries: missed ...
        ("MISC", None): 1,
        (None, "LOC"): 1,  # ... and a spurious LOC where there was none
        (None, "ORG"): 1,
    }
    assert result.word_kinds.tolist() == [
        CORRECT,
        CORRECT,
        NO_ENTITY,
        WRONG_TYPE,
        FALSE_POSITIVE,
        WRONG_SPAN,
        FALSE_NEGATIVE,
        NO_ENTITY,
        FALSE_NEGATIVE,
    ]
