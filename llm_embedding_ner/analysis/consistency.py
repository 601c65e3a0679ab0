"""How the other occurrences of a span's words are labelled, each weighed by its context.

The suspects' third signal (suspects.py): a span whose words are labelled otherwise elsewhere
is doubted, each other occurrence counting exp((cos - 1) / scale), cos between the two
occurrences' contexts (their documents'). A word string's occurrences are grouped by context
once; a candidate then sums over the contexts its string occurs in, not over every occurrence,
and the candidates of one string in one context share that sum. Asked occurrence by occurrence,
a string found m times cost m x m: on a corpus of a million tokens the suspects took 3.4 times
as long as on half of it.
"""

from __future__ import annotations

import numpy as np

Span = tuple[int, int]


class OccurrenceVotes:
    """The labels of every occurrence of each word string (``occurrences``: string -> span ->
    label), for ``votes``. ``contexts`` (n_contexts, d) unit vectors and ``word_context``
    (n_words,) each word's; None: every occurrence counts 1."""

    def __init__(
        self,
        occurrences: dict[tuple[str, ...], dict[Span, str]],
        classes: list[str],
        contexts: np.ndarray | None,
        word_context: np.ndarray | None,
        scale: float,
    ) -> None:
        self.occurrences = occurrences
        self.classes = classes
        self.contexts = contexts if word_context is not None else None
        self.word_context = word_context
        self.scale = scale
        self._groups: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._sums: dict[tuple[tuple[str, ...], int], tuple[np.ndarray, float]] = {}

    def votes(self, key: tuple[str, ...], span: Span) -> tuple[np.ndarray, np.ndarray]:
        """(weighted, counted), each (n_classes,): the other occurrences of ``key`` than
        ``span`` per label, weighed by how alike their contexts are to ``span``'s, and counted."""
        n_classes = len(self.classes)
        found = self.occurrences.get(key)
        if not found:
            return np.zeros(n_classes), np.zeros(n_classes)
        contexts, counts = self._group(key, found)
        here = self._context(span[0])
        if (key, here) not in self._sums:
            weights = self._weights(contexts, here)
            self._sums[key, here] = (weights @ counts, float(self._weights(np.array([here]), here)[0]))
        weighted, own_weight = self._sums[key, here]
        weighted, counted = weighted.copy(), counts.sum(axis=0)
        if span in found:  # the span is one of the occurrences: it is not another
            own = self.classes.index(found[span])
            weighted[own] -= own_weight
            counted[own] -= 1
        return np.maximum(weighted, 0.0), counted

    def _group(self, key: tuple[str, ...], found: dict[Span, str]) -> tuple[np.ndarray, np.ndarray]:
        """The contexts ``key`` occurs in, and (n_contexts, n_classes) its labels' counts there."""
        if key not in self._groups:
            where = np.asarray([self._context(start) for start, _ in found])
            labels = np.asarray([self.classes.index(label) for label in found.values()])
            contexts, row = np.unique(where, return_inverse=True)
            counts = np.zeros((contexts.size, len(self.classes)))
            np.add.at(counts, (row, labels), 1.0)
            self._groups[key] = (contexts, counts)
        return self._groups[key]

    def _context(self, word: int) -> int:
        return 0 if self.contexts is None or self.word_context is None else int(self.word_context[word])

    def _weights(self, contexts: np.ndarray, here: int) -> np.ndarray:
        if self.contexts is None:
            return np.ones(contexts.size)
        cosine = (self.contexts[contexts] @ self.contexts[here]).astype(np.float64)
        return np.exp((np.minimum(cosine, 1.0) - 1.0) / self.scale)
