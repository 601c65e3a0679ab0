"""Read NER data in Hugging Face ``datasets`` form: one sentence per row, ``tokens`` and ``ner_tags``.

Rows come from JSON Lines (``{"tokens": [...], "ner_tags": [...]}``), Parquet (with pyarrow)
or a directory written by ``Dataset.save_to_disk`` (with the ``datasets`` package; neither is
needed for anything else). Tags are strings, or integers named by the dataset's ``ClassLabel``
feature or by ``--label-names``. An optional ``document`` field groups consecutive rows into one
document; without it every row is a document of its own, its other plain fields (an ``id``, say)
shown as metadata.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError, first_line
from .documents import Document, words_document
from .tag_schemes import gold_to_iob2

TOKENS, TAGS, DOCUMENT = "tokens", "ner_tags", "document"


@dataclass(frozen=True)
class Row:
    """One sentence as the file holds it."""

    tokens: list[str]
    tags: list[str] | list[int]
    where: str  # "train.jsonl:12", "data.parquet, row 12": for messages
    document: object = None  # rows with equal consecutive values form one document
    metadata: dict[str, object] = field(default_factory=dict)
    origin: dict[str, object] = field(default_factory=dict)  # {"line": N} or {"row": N}, and "id"


def row_from_record(record: object, where: str, origin: dict[str, object] | None = None) -> Row:
    """A ``Row`` from one parsed record (a JSON object, a Parquet or Arrow row), checked;
    ``origin``: where it is in its file ({"line": N} or {"row": N})."""
    if not isinstance(record, dict) or not isinstance(record.get(TOKENS), list):
        raise UserError(f'{where}: each row needs a "{TOKENS}" list (and "{TAGS}")')
    tokens, tags = record[TOKENS], record.get(TAGS)
    if not isinstance(tags, list):
        raise UserError(f'{where}: no "{TAGS}" list beside "{TOKENS}"')
    if len(tags) != len(tokens):
        raise UserError(f"{where}: {len(tokens)} tokens but {len(tags)} tags")
    if not all(isinstance(t, str) for t in tokens):
        raise UserError(f"{where}: every token must be a string")
    if not (all(isinstance(t, str) for t in tags) or all(_is_int(t) for t in tags)):
        raise UserError(f"{where}: the tags must be all strings or all whole numbers")
    metadata = {
        key: value
        for key, value in record.items()
        if key not in (TOKENS, TAGS, DOCUMENT) and isinstance(value, str | int | float | bool)
    }
    place = dict(origin or {})
    if isinstance(record.get("id"), str | int) and not isinstance(record.get("id"), bool):
        place["id"] = record["id"]  # datasets' own key for a row, where it has one
    return Row(tokens, tags, where, record.get(DOCUMENT), metadata, place)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def rows_to_documents(
    rows: Sequence[Row], name: str, label_names: list[str] | None, scheme: str
) -> list[Document]:
    """Documents from ``rows``: integer tags named, every tag checked and turned into IOB2."""
    rows = [row for row in rows if row.tokens]  # datasets often hold empty rows between documents
    if not rows:
        raise UserError(f"{name} has no tokens")
    tags = [_named(row, label_names, name) for row in rows]
    iob2 = gold_to_iob2(tags, scheme, lambda s, _: rows[s].where, name)
    documents: list[Document] = []
    first = 0
    for end in range(1, len(rows) + 1):
        if end < len(rows) and rows[end].document is not None and rows[end].document == rows[first].document:
            continue
        group = rows[first:end]
        metadata = {DOCUMENT: group[0].document} if group[0].document is not None else group[0].metadata
        documents.append(
            words_document(
                [row.tokens for row in group], iob2[first:end], metadata, [row.origin for row in group]
            )
        )
        first = end
    return documents


def _named(row: Row, label_names: list[str] | None, name: str) -> list[str]:
    if not row.tags or isinstance(row.tags[0], str):
        return list(row.tags)  # type: ignore[arg-type]
    if label_names is None:
        raise UserError(
            f"{name}: the tags are numbers and the file does not name them; pass their names in "
            "order with --label-names, for example --label-names O,B-PER,I-PER,B-ORG,I-ORG,B-LOC,I-LOC"
        )
    for number in row.tags:
        if not 0 <= int(number) < len(label_names):
            raise UserError(
                f"{row.where}: tag number {number}, but --label-names names {len(label_names)} tags"
            )
    return [label_names[int(number)] for number in row.tags]


def class_label_names(features: object) -> list[str] | None:
    """The ``ClassLabel`` names of the ``ner_tags`` feature, from a ``datasets`` features
    description as saved in JSON (Sequence or List of ClassLabel)."""
    if not isinstance(features, dict):
        return None
    feature = features.get(TAGS)
    while isinstance(feature, dict):
        if isinstance(feature.get("names"), list):
            return [str(n) for n in feature["names"]]
        feature = feature.get("feature")
    return None


def read_parquet(path: Path, name: str, label_names: list[str] | None, scheme: str) -> list[Document]:
    """Rows of a Parquet file, as ``datasets`` writes them (``to_parquet``, the Hub's files)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(f"reading {name} (Parquet) needs pyarrow: pip install pyarrow") from None
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow's own errors: not Parquet, damaged, unreadable
        raise UserError(f"{name} is not a Parquet file that can be read ({first_line(e)})") from None
    if label_names is None:
        # datasets keeps the features, ClassLabel names included, in the schema's metadata.
        saved = (table.schema.metadata or {}).get(b"huggingface")
        if saved:
            label_names = class_label_names(json.loads(saved).get("info", {}).get("features"))
    records = table.to_pylist()
    rows = [row_from_record(record, f"{name}, row {i}", {"row": i}) for i, record in enumerate(records)]
    return rows_to_documents(rows, name, label_names, scheme)


def read_saved_dataset(path: Path, name: str, label_names: list[str] | None, scheme: str) -> list[Document]:
    """Rows of a directory written by ``Dataset.save_to_disk``."""
    splits = path / "dataset_dict.json"
    if splits.is_file():
        names = json.loads(splits.read_text(encoding="utf-8")).get("splits", [])
        raise UserError(
            f"{name} holds several splits ({', '.join(names)}); pass one of them, such as "
            f"--file {path / (names[-1] if names else 'test')}"
        )
    try:
        import datasets
    except ImportError:
        raise UserError(
            f"reading {name} (a dataset saved with save_to_disk) needs the datasets package: "
            "pip install datasets"
        ) from None
    datasets.disable_progress_bars()  # a short read; its bars would only clutter the terminal
    try:
        dataset: Any = datasets.load_from_disk(str(path))
    except Exception as e:  # datasets' own errors for a directory it did not write
        raise UserError(f"{name} is not a dataset saved with save_to_disk ({first_line(e)})") from None
    if label_names is None:
        label_names = class_label_names(dataset.features.to_dict())
    rows = [
        row_from_record(record, f"{name}, row {i}", {"row": i}) for i, record in enumerate(dataset.to_list())
    ]
    return rows_to_documents(rows, name, label_names, scheme)


def is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (path / "state.json").is_file()
