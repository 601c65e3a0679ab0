"""Read input as documents: one text, paragraphs, JSON Lines, or CoNLL with gold labels.

Plain text stays exactly as written (offsets index into it). A CoNLL file's gold words become
the document's words: its text is the words joined by spaces, one sentence per line, and the
model later sees those words pre-split, so every gold word gets exactly one predicted label.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .evaluation import to_iob2
from .text_input import read_text

FORMATS = ("auto", "text", "jsonl", "conll")
SPLITS = ("none", "paragraphs")
_FORMAT_NAMES = {"text": "plain text", "jsonl": "JSON Lines", "conll": "CoNLL"}
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".conll": "conll",
    ".conll03": "conll",
    ".iob": "conll",
    ".iob1": "conll",
    ".iob2": "conll",
    ".bio": "conll",
}
_TAG = re.compile(r"^(?:O|[BI]-\S+)$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")

log = logging.getLogger("llm_embedding_ner")


@dataclass(frozen=True)
class Document:
    """One document. ``words``/``gold_tags``/``word_sentence`` are set for CoNLL input only."""

    text: str
    metadata: dict[str, object] = field(default_factory=dict)
    words: list[tuple[int, int]] | None = None  # character span of each gold word in ``text``
    gold_tags: list[str] | None = None  # IOB2, one per word
    word_sentence: np.ndarray | None = None  # (n_words,) sentence index of each word


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    format: str  # "text", "jsonl" or "conll"
    split: bool  # True when the input is meant as several documents (any format but plain text)

    @property
    def has_gold(self) -> bool:
        return self.format == "conll"


def read_corpus(
    text: str | None, file: str | None, default: str, format: str = "auto", split: str = "none"
) -> Corpus:
    """Documents from ``--text``/``--file``/the default text, read as ``format``."""
    if format not in FORMATS or split not in SPLITS:
        raise ValueError(f"unknown format {format!r} or split {split!r}")
    chosen = format
    if format == "auto":
        chosen = _EXTENSIONS.get(Path(file).suffix.lower(), "text") if file not in (None, "-") else "text"
    if chosen != "text" and file is None:
        raise UserError(f"--format {chosen} reads a --file; --text is always plain text")
    if chosen != "text" and split != "none":
        raise UserError(f"--split {split} applies to plain text, not to {_FORMAT_NAMES[chosen]} files")
    raw = read_text(text, file, default)
    name = "standard input" if file == "-" else (file or "--text")
    if chosen == "jsonl":
        corpus = Corpus(parse_jsonl(raw, name), "jsonl", True)
    elif chosen == "conll":
        corpus = Corpus(parse_conll(raw, name), "conll", True)
    elif split == "paragraphs":
        corpus = Corpus(split_paragraphs(raw), "text", True)
    else:
        corpus = Corpus([Document(raw)], "text", False)
    if format == "auto" and file not in (None, "-"):
        log.info("read %s as %s (from its extension; --format chooses)", file, _FORMAT_NAMES[chosen])
    return corpus


def split_paragraphs(text: str) -> list[Document]:
    """One document per paragraph; paragraphs are separated by blank lines."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]
    return [Document(p.strip("\n")) for p in paragraphs]


def parse_jsonl(raw: str, name: str) -> list[Document]:
    """One document per line: an object with a string ``text``; other fields become metadata."""
    documents = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise UserError(f"{name}:{number}: not valid JSON ({e.msg}, column {e.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise UserError(f'{name}:{number}: each line must be an object with a "text" string')
        if not record["text"].strip():
            raise UserError(f'{name}:{number}: "text" is empty')
        text = record.pop("text")
        documents.append(Document(text, metadata=record))
    if not documents:
        raise UserError(f"{name} has no JSON lines")
    return documents


def parse_conll(raw: str, name: str) -> list[Document]:
    """CoNLL-2003 style: one token per line, the token first and the tag last; ``-DOCSTART-``
    starts a document, a blank line ends a sentence. IOB1 tags are converted to IOB2."""
    documents: list[Document] = []
    sentences: list[list[tuple[str, str]]] = []  # the current document's
    sentence: list[tuple[str, str]] = []
    columns: int | None = None

    def end_sentence() -> None:
        nonlocal sentence
        if sentence:
            sentences.append(sentence)
            sentence = []

    def end_document() -> None:
        nonlocal sentences
        end_sentence()
        if sentences:
            documents.append(_conll_document(sentences))
            sentences = []

    for number, line in enumerate(raw.splitlines(), start=1):
        fields = line.split()
        if not fields:
            end_sentence()
            continue
        if fields[0] == "-DOCSTART-":
            end_document()
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
        tag = fields[-1]
        if not _TAG.match(tag):
            raise UserError(f"{name}:{number}: tag {tag!r} is not O, B-TYPE or I-TYPE (IOB1 or IOB2)")
        sentence.append((fields[0], tag))
    end_document()
    if not documents:
        raise UserError(f"{name} has no tokens (a CoNLL file has one token per line)")
    return documents


def _conll_document(sentences: list[list[tuple[str, str]]]) -> Document:
    parts: list[str] = []
    words: list[tuple[int, int]] = []
    tags: list[str] = []
    word_sentence: list[int] = []
    position = 0
    for index, sentence in enumerate(sentences):
        if index:
            parts.append("\n")
            position += 1
        for i, (word, _) in enumerate(sentence):
            if i:
                parts.append(" ")
                position += 1
            words.append((position, position + len(word)))
            parts.append(word)
            position += len(word)
        tags += to_iob2([tag for _, tag in sentence])
        word_sentence += [index] * len(sentence)
    return Document("".join(parts), {}, words, tags, np.asarray(word_sentence, dtype=np.int64))
