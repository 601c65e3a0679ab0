"""Read input as documents: one text, paragraphs, JSON Lines, CoNLL or a Hugging Face dataset.

``--format auto`` goes by what a file holds, whatever it is called (CoNLL-2003's files are
``test.txt`` in some places and ``eng.testb`` in others): a directory written by ``datasets``,
a Parquet file, JSON Lines (a first line that is a JSON object), CoNLL (columns ending in a
tag); then by the extension; then plain text. It says what it chose and why.

Plain text stays exactly as written (offsets index into it). Gold words (CoNLL, datasets)
become the document's words, joined by spaces, one sentence per line (documents.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError
from .conll import conll_evidence, parse_conll
from .documents import Corpus, Document
from .hf_datasets import (
    TAGS,
    TOKENS,
    is_saved_dataset,
    read_parquet,
    read_saved_dataset,
    row_from_record,
    rows_to_documents,
)
from .tag_schemes import SCHEMES
from .text_input import check_unicode, read_text, split_lines

FORMATS = ("auto", "text", "jsonl", "conll", "parquet", "dataset")
SPLITS = ("none", "paragraphs")
_FORMAT_NAMES = {
    "text": "plain text",
    "jsonl": "JSON Lines",
    "conll": "CoNLL",
    "parquet": "Parquet",
    "dataset": "a dataset saved with save_to_disk",
}
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".conll": "conll",
    ".conll03": "conll",
    ".conllu": "conll",
    ".iob": "conll",
    ".iob1": "conll",
    ".iob2": "conll",
    ".bio": "conll",
    ".bioes": "conll",
    ".iobes": "conll",
    ".parquet": "parquet",
}
_PARQUET_MAGIC = b"PAR1"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")

log = logging.getLogger("llm_embedding_ner")


def read_corpus(
    text: str | None,
    file: str | None,
    default: str,
    format: str = "auto",
    split: str = "none",
    scheme: str = "auto",
    label_names: list[str] | None = None,
) -> Corpus:
    """Documents from ``--text``/``--file``/the default text, read as ``format``; ``scheme`` and
    ``label_names`` say how to read gold tags (see tag_schemes.py and hf_datasets.py)."""
    if format not in FORMATS or split not in SPLITS or scheme not in ("auto", *SCHEMES):
        raise ValueError(f"unknown format {format!r}, split {split!r} or scheme {scheme!r}")
    if format not in ("auto", "text") and file is None:
        raise UserError(f"--format {format} reads a --file; --text is always plain text")
    name = "standard input" if file == "-" else (file or "--text")
    path = Path(file) if file not in (None, "-") else None
    chosen, why = format, ""
    if format == "auto":
        # Binary formats first: they are not text to sniff.
        chosen, why = (_binary_format(path) if path is not None else None) or ("text", "")
    if chosen in ("parquet", "dataset"):
        if path is None:
            raise UserError(f"--format {chosen} reads a file or directory, not standard input")
        if split != "none":
            raise UserError(f"--split {split} applies to plain text, not to {_FORMAT_NAMES[chosen]}")
        reader = read_parquet if chosen == "parquet" else read_saved_dataset
        with _saying(name, chosen, why, format):
            return Corpus(reader(path, name, label_names, scheme), chosen, True)

    raw = read_text(text, file, default)
    if format == "auto" and file is not None:
        chosen, why = _text_format(raw, path)
    if chosen != "text" and split != "none":
        raise UserError(f"--split {split} applies to plain text, not to {_FORMAT_NAMES[chosen]} files")
    with _saying(name if file is not None else None, chosen, why, format):
        if chosen == "jsonl":
            return Corpus(parse_jsonl(raw, name, label_names, scheme), "jsonl", True)
        if chosen == "conll":
            return Corpus(parse_conll(raw, name, scheme), "conll", True)
        if split == "paragraphs":
            return Corpus(split_paragraphs(raw), "text", True)
        return Corpus([Document(raw)], "text", False)


def _binary_format(path: Path) -> tuple[str, str] | None:
    if path.is_dir():
        if is_saved_dataset(path):
            return "dataset", "it is a directory written by datasets' save_to_disk"
        raise UserError(f"{path} is a directory, not a text file or a dataset saved with save_to_disk")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(_PARQUET_MAGIC))
    except OSError:
        return None  # read_text reports it
    if magic == _PARQUET_MAGIC:
        return "parquet", "it starts as Parquet files do"
    return None


def _text_format(raw: str, path: Path | None) -> tuple[str, str]:
    """The format of a text file, and why: by content, then by extension, then plain text."""
    first = [line for line in split_lines(raw)[:1000] if line.strip()]
    if first and first[0].lstrip().startswith("{"):
        try:
            record = json.loads(first[0])
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            return "jsonl", "its first line is a JSON object"
    evidence = conll_evidence(first)
    if evidence:
        return "conll", evidence
    by_extension = _EXTENSIONS.get(path.suffix.lower()) if path is not None else None
    if by_extension:
        return by_extension, f"from its extension {path.suffix}"  # type: ignore[union-attr]
    return "text", "it looks like neither JSON Lines nor CoNLL"


@contextmanager
def _saying(name: str | None, chosen: str, why: str, format: str) -> Iterator[None]:
    """Say which format ``--format auto`` chose and why, once the file has been read. If reading
    fails, the choice goes into the error's one line instead: the user sees why the file was read
    that way (a text file called .conll, say) without a second line on stderr."""
    if format != "auto" or name is None:
        yield
        return
    choice = f"read {name} as {_FORMAT_NAMES[chosen]} ({why}; --format chooses)"
    try:
        yield
    except UserError as e:
        raise UserError(f"{e} [{choice}]") from e
    log.info("%s", choice)


def split_paragraphs(text: str) -> list[Document]:
    """One document per paragraph; paragraphs are separated by blank lines."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]
    return [Document(p.strip("\n")) for p in paragraphs]


def parse_jsonl(
    raw: str, name: str, label_names: list[str] | None = None, scheme: str = "auto"
) -> list[Document]:
    """JSON Lines in one of two forms, chosen by the first record: ``{"text": ...}`` (a document
    per line, other fields kept as metadata) or ``{"tokens": [...], "ner_tags": [...]}`` (a
    sentence per line with gold tags, see hf_datasets.py), which wins when a record has both.
    A record ends at ``\\n`` only."""
    records: list[tuple[int, object]] = []
    for number, line in enumerate(split_lines(raw), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise UserError(f"{name}:{number}: not valid JSON ({e.msg}, column {e.colno})") from None
        if _ESCAPED_SURROGATE.search(line):  # the file is UTF-8; only an escape makes a lone half
            for value in _strings(records[-1][1]):
                check_unicode(value, f"{name}:{number}")
    if not records:
        raise UserError(f"{name} has no JSON lines")
    first = records[0][1]
    if isinstance(first, dict) and TOKENS in first and (TAGS in first or "text" not in first):
        if "text" in first:  # gold words and tags beat a text that has none: they can be scored
            log.info(
                f'{name}: its lines have "text", "{TOKENS}" and "{TAGS}": read "{TOKENS}" and "{TAGS}" '
                '(gold labels to score), "text" shown as metadata'
            )
        rows = [row_from_record(record, f"{name}:{number}", {"line": number}) for number, record in records]
        return rows_to_documents(rows, name, label_names, scheme)
    documents = []
    for number, record in records:
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise UserError(
                f'{name}:{number}: each line must be an object with a "text" string (or, as in '
                f'Hugging Face datasets, "{TOKENS}" and "{TAGS}" lists)'
            )
        if not record["text"].strip():
            raise UserError(f'{name}:{number}: "text" is empty')
        text = record.pop("text")
        documents.append(Document(text, metadata=record))
    return documents


def _strings(value: object) -> Iterator[str]:
    """Every string in a JSON value: its keys and values, nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
