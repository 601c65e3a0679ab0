"""The separation score: 1 when every class keeps to itself, low when classes are mixed."""

from __future__ import annotations

import math

import numpy as np

from llm_embedding_ner.analysis.neighbours import nearest_neighbours
from llm_embedding_ner.analysis.separation import neighbour_agreement


def clusters(spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 100, 20 and 3 points around their own centres."""
    rng = np.random.default_rng(seed)
    classes = np.repeat([0, 1, 2], [100, 20, 3])
    centres = rng.normal(size=(3, 16)) * 10.0
    return (centres[classes] + spread * rng.normal(size=(classes.size, 16))).astype(np.float32), classes


def test_well_separated_classes_score_one() -> None:
    x, classes = clusters(spread=0.1)
    assert neighbour_agreement(nearest_neighbours(x, 5, "euclidean").indices, classes) == 1.0


def test_mixed_classes_score_low_and_small_classes_count_as_much_as_large_ones() -> None:
    rng = np.random.default_rng(1)
    _, classes = clusters(spread=0.1)
    x = rng.normal(size=(classes.size, 16))  # positions unrelated to class
    score = neighbour_agreement(nearest_neighbours(x, 5, "euclidean").indices, classes)
    assert 0.0 <= score < 0.45  # the 100-point class alone would agree ~80% by chance


def test_a_class_of_two_can_still_score_one() -> None:
    neighbours = np.array([[1, 2], [0, 2], [3, 0], [2, 0]])
    classes = np.array([5, 5, 0, 0])
    # Each token's only possible same-class neighbour is its nearest: full agreement.
    assert neighbour_agreement(neighbours, classes) == 1.0


def test_undefined_without_two_classes_of_two_tokens() -> None:
    neighbours = np.array([[1], [0], [0]])
    assert math.isnan(neighbour_agreement(neighbours, np.array([0, 0, 0])))
    assert math.isnan(neighbour_agreement(neighbours, np.array([0, 0, 1])))
    assert math.isnan(neighbour_agreement(np.empty((3, 0), int), np.array([0, 1, 1])))
