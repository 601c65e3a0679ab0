"""What the readers of every input format hand on: documents, with gold words and tags or not.

A document of gold words (CoNLL, Hugging Face datasets) keeps its words as character spans of
its text, the words joined by spaces and one sentence per line, so the model later reads them
as running text and every gold word gets exactly one predicted label.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Document:
    """One document. ``words``/``gold_tags``/``word_sentence`` are set for gold-word input only."""

    text: str
    metadata: dict[str, object] = field(default_factory=dict)
    # (n_words, 2) character span of each gold word in ``text``: one array, not a tuple a word
    # (a corpus of millions of words held 100 bytes a word in tuples)
    words: np.ndarray | None = None
    gold_tags: list[str] | None = None  # IOB2, one per word
    word_sentence: np.ndarray | None = None  # (n_words,) sentence index of each word
    # Where each sentence is in the input, to find it again: {"line": 12} (1-based, in a text
    # file, empty lines counted), {"row": 12} (0-based, in a table, empty rows counted), and the
    # row's "id" where it has one.
    sentence_origins: list[dict[str, object]] | None = None


@dataclass(frozen=True)
class Corpus:
    """The input as documents (``read_corpus``): what was read, in input order, and in which format;
    ``has_gold`` says whether every document has gold labels to score."""

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
    # Each word starts after the words before it, one separator after each (a space, or the
    # newline ending its sentence) and one more newline per empty sentence before its own.
    flat = [word for sentence in sentences for word in sentence]
    sizes = np.asarray([len(s) for s in sentences], dtype=np.int64)
    sentence_of = np.repeat(np.arange(len(sentences), dtype=np.int64), sizes)
    lengths = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    empty_before = np.cumsum(sizes == 0) - (sizes == 0)
    starts = np.cumsum(lengths) - lengths + np.arange(len(flat)) + empty_before[sentence_of]
    words = np.stack([starts, starts + lengths], axis=1)
    text = "\n".join(" ".join(sentence) for sentence in sentences)
    return Document(
        text,
        metadata or {},
        words,
        # One string per distinct tag, not one per word (tags are built as f"B-{type}").
        [sys.intern(tag) for sentence_tags in tags for tag in sentence_tags],
        sentence_of,
        origins,
    )
