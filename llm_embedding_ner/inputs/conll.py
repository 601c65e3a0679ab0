"""Read CoNLL files: one token per line, the token first and its gold tag last.

``-DOCSTART-`` starts a document (a file without one is one document) and a blank line ends a
sentence, as in CoNLL-2003. Tags may be in any scheme of tag_schemes.py; they become IOB2.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import UserError
from .documents import Document, words_document
from .tag_schemes import gold_to_iob2
from .text_input import split_lines

DOCSTART = "-DOCSTART-"
_TAG = re.compile(r"^(?:O|[BIESLU]-\S+)$")
SNIFFED_LINES = 1000  # how many non-blank lines decide whether a file looks like CoNLL


def conll_evidence(lines: list[str]) -> str | None:
    """Why ``lines`` (a file's first lines) look like CoNLL, or None when they do not: a
    ``-DOCSTART-`` line, or lines that all have the same number of columns (two or more) and
    end in a tag, with some tag other than ``O`` among them, or, where all are ``O`` (a long
    stretch without entities), tab-separated columns. A table whose last column holds other
    words is not CoNLL, nor are lines of prose that happen to end in "O"."""
    lines = [line for line in lines if line.strip()][:SNIFFED_LINES]
    rows = [line.split() for line in lines]
    if not rows:
        return None
    if rows[0][0] == DOCSTART:
        return f"its first line is {DOCSTART}"
    widths = {len(row) for row in rows}
    if len(widths) != 1 or min(widths) < 2 or not all(_TAG.match(row[-1]) for row in rows):
        return None
    if any(row[-1] != "O" for row in rows):
        return f"its lines have {widths.pop()} columns ending in a tag"
    if all("\t" in line for line in lines):
        return f"its lines have {widths.pop()} tab-separated columns ending in a tag (all O so far)"
    return None


def parse_conll(raw: str, name: str, scheme: str = "auto") -> list[Document]:
    """The documents of a CoNLL file; ``scheme`` is the gold tags' (see tag_schemes.py)."""
    documents: list[list[int]] = []  # each document's sentences, as indices into ``sentences``
    sentences: list[list[tuple[str, str, int]]] = []  # (word, tag, line number)
    current: list[tuple[str, str, int]] = []
    columns: int | None = None

    def end_sentence() -> None:
        nonlocal current
        if current:
            if not documents:
                documents.append([])
            documents[-1].append(len(sentences))
            sentences.append(current)
            current = []

    for number, line in enumerate(split_lines(raw), start=1):
        fields = line.split()
        if not fields:
            end_sentence()
            continue
        if fields[0] == DOCSTART:
            end_sentence()
            if not documents or documents[-1]:
                documents.append([])
            continue
        if len(fields) == 1:
            raise UserError(
                f"{name}:{number}: one column ({fields[0]!r}); a CoNLL line needs the token first and "
                "the tag last"
            )
        if columns is None:
            columns = len(fields)
        elif len(fields) != columns:
            raise UserError(f"{name}:{number}: {len(fields)} columns, but the lines before have {columns}")
        current.append((fields[0], fields[-1], number))
    end_sentence()
    if not sentences:
        raise UserError(f"{name} has no tokens (a CoNLL file has one token per line)")
    tags = gold_to_iob2(
        [[tag for _, tag, _ in sentence] for sentence in sentences],
        scheme,
        lambda s, i: f"{name}:{sentences[s][i][2]}",
        name,
    )
    # Line numbers made anew (through an array): the parse's own ints lie among its freed
    # temporaries, and each one kept would keep their memory from the system.
    first_lines = np.asarray([sentence[0][2] for sentence in sentences])
    return [
        words_document(
            [[word for word, _, _ in sentences[s]] for s in indices],
            [tags[s] for s in indices],
            origins=[{"line": line} for line in first_lines[indices].tolist()],
        )
        for indices in documents
        if indices
    ]
