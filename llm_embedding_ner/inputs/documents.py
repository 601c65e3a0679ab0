"""What the readers of every input format hand on: documents, with gold words and tags or not.

A document of gold words (CoNLL, Hugging Face datasets) keeps its words as character spans of
its text, the words joined by spaces and one sentence per line, so the model later reads them
as running text and every gold word gets exactly one predicted label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Document:
    """One document. ``words``/``gold_tags``/``word_sentence`` are set for gold-word input only."""

    text: str
    metadata: dict[str, object] = field(default_factory=dict)
    words: list[tuple[int, int]] | None = None  # character span of each gold word in ``text``
    gold_tags: list[str] | None = None  # IOB2, one per word
    word_sentence: np.ndarray | None = None  # (n_words,) sentence index of each word
    # Where each sentence is in the input, to find it again: {"line": 12} (1-based, in a text
    # file, empty lines counted), {"row": 12} (0-based, in a table, empty rows counted), and the
    # row's "id" where it has one.
    sentence_origins: list[dict[str, object]] | None = None


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    format: str  # "text", "jsonl", "conll", "parquet" or "dataset"
    split: bool  # True when the input is meant as several documents (any format but plain text)

    @property
    def has_gold(self) -> bool:
        return bool(self.documents) and all(d.gold_tags is not None for d in self.documents)


def words_document(
    sentences: list[list[str]],
    tags: list[list[str]],
    metadata: dict[str, object] | None = None,
    origins: list[dict[str, object]] | None = None,
) -> Document:
    """A document of gold ``sentences`` (lists of words) and their IOB2 ``tags``: its text is the
    words joined by spaces, one sentence per line."""
    parts: list[str] = []
    words: list[tuple[int, int]] = []
    word_sentence: list[int] = []
    position = 0
    for index, sentence in enumerate(sentences):
        if index:
            parts.append("\n")
            position += 1
        for i, word in enumerate(sentence):
            if i:
                parts.append(" ")
                position += 1
            words.append((position, position + len(word)))
            parts.append(word)
            position += len(word)
        word_sentence += [index] * len(sentence)
    return Document(
        "".join(parts),
        metadata or {},
        words,
        [tag for sentence_tags in tags for tag in sentence_tags],
        np.asarray(word_sentence, dtype=np.int64),
        origins,
    )
