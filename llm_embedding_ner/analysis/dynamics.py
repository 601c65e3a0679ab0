"""Training dynamics: how the checkpoints of a training run read the gold words, for the
suspect ranking on the split the run trained on.

A model trained on the sentences it checks has seen their wrong labels and, by the end, often
agrees with them; how fast it came to agree is what gives them away (Swayamdipta et al. 2020,
data maps; Pleiss et al. 2020, area under the margin): a correct label is learnt early and held,
a wrong one late or never. So the ranking reads each class's probability averaged over the
run's checkpoints and the final model (suspects.find_suspects), one forward pass per checkpoint
and no training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrainingDynamics:
    """The earlier checkpoints of a run, each one's word-level probabilities of the gold words
    (as ``GoldComparison.word_probabilities``: NaN rows for words without tokens)."""

    names: tuple[str, ...]  # the checkpoints, in step order; the final model is not among them
    classes: tuple[str, ...]  # "O", then entity types: the columns of each array
    probabilities: tuple[np.ndarray, ...]  # (n_words, n_classes) each
    final: str = "final"  # the final model's name, whose analysis ranks the suspects


def aligned(dynamics: TrainingDynamics, classes: list[str]) -> np.ndarray:
    """(n_checkpoints, n_words, len(classes)): the checkpoints' probabilities with their columns
    in the order of ``classes`` (the final model's); 0 for a class a checkpoint does not have."""
    n_words = dynamics.probabilities[0].shape[0] if dynamics.probabilities else 0
    out = np.zeros((len(dynamics.probabilities), n_words, len(classes)), dtype=np.float32)
    for column, name in enumerate(classes):
        if name in dynamics.classes:
            source = dynamics.classes.index(name)
            for i, p in enumerate(dynamics.probabilities):
                out[i, :, column] = p[:, source]
    # A word without tokens has no reading at any checkpoint: keep it unread, not O.
    for i, p in enumerate(dynamics.probabilities):
        out[i, np.isnan(p).any(axis=1)] = np.nan
    return out
