"""``--table DIR``: every token of a run as Parquet, for pandas, polars or DuckDB.

Two tables, joined by ``token_id`` (the token's index in the run, as in the viewer's clouds):

- ``tokens/``: what each document's own reading says of each token (its document, sentence,
  word, text, the predicted label and gold label, the error kind), one Parquet file per
  segment of documents (reading.py), written as soon as the segment is read: a long run that
  fails or is stopped late keeps every segment it finished;
- ``corpus.parquet``: what the whole corpus says of it (its 3D place at each layer shown, its
  nearest tokens, the suspect gold label it belongs to), written at the end.

The folder must be new or empty (outputs.check_table_folder), so nothing is ever overwritten;
each file is written under a hidden name and renamed, so every file under its name is whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..analysis.result import Analysis, TokenRows

TOKENS = "tokens"
CORPUS = "corpus.parquet"


class TableWriter:
    """Writes ``tokens/part-NNNNN.parquet`` for each segment handed to it (``analyze``'s
    ``on_segment``), then ``corpus.parquet`` (``finish``). A file that cannot be written stops
    the table, not the run: the error is kept and said at the end."""

    def __init__(self, path: str) -> None:
        self.folder = Path(path)
        self.parts = 0
        self.rows = 0
        self.error: OSError | None = None

    def __call__(self, rows: TokenRows) -> None:
        if self.error is not None:
            return
        try:
            (self.folder / TOKENS).mkdir(parents=True, exist_ok=True)
            _write(token_columns(rows), self.folder / TOKENS / f"part-{self.parts:05d}.parquet")
        except OSError as e:
            self.error = e
            return
        self.parts += 1
        self.rows += len(rows.tokens)

    def finish(self, a: Analysis) -> str:
        """Write ``corpus.parquet``; the line to print. Raises the OSError that stopped it."""
        if self.error is not None:
            raise self.error
        _write(corpus_columns(a), self.folder / CORPUS)
        return (
            f"{self.rows:,} tokens written to {self.folder / TOKENS} ({self.parts:,} file"
            f"{'' if self.parts == 1 else 's'}) and {self.folder / CORPUS} (joined by token_id)"
        )

    def kept(self) -> str:
        """What a run stopped early leaves: the line to print, or "" if nothing was written."""
        if not self.parts:
            return ""
        segments = f"{self.parts:,} segment{'' if self.parts == 1 else 's'}"
        return f"the tokens of the {segments} read ({self.rows:,} tokens) are in {self.folder / TOKENS}"


def write_table(a: Analysis, path: str) -> str:
    """Both tables of a finished analysis (checked by ``check_table_folder``), in one go;
    the line to print. The command line writes ``tokens/`` as it reads (``TableWriter``)."""
    writer = TableWriter(path)
    writer(analysis_rows(a))
    return writer.finish(a)


def _write(columns: dict[str, object], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(pa.table(columns), partial)
    os.replace(partial, path)  # complete files only, under their names


def analysis_rows(a: Analysis) -> TokenRows:
    """A finished analysis's tokens as one segment's rows."""
    from ..analysis.result import TokenRows

    n = len(a.tokens)
    gold = a.gold
    return TokenRows(
        first_token=0,
        first_document=0,
        documents=a.documents,
        token_document=a.token_document if a.token_document is not None else np.zeros(n, dtype=np.int64),
        token_sentence=a.token_sentence,
        word_ids=a.word_ids,
        tokens=a.tokens,
        pieces=a.pieces,
        labels=a.labels,
        scores=np.asarray(a.scores),
        gold_tags=None if gold is None else [gold.gold_tags[w] for w in a.word_ids.tolist()],
        error_kinds=None if gold is None else gold.error_kinds,
    )


def token_columns(rows: TokenRows) -> dict[str, object]:
    """The per-document columns of ``tokens/`` (each one described in docs/reference/formats.md)."""
    import pyarrow as pa

    from ..analysis.evaluation import ERROR_KINDS

    n = len(rows.tokens)
    local = rows.token_document - rows.first_document  # index into rows.documents
    ids = [None if d.metadata.get("id") is None else str(d.metadata["id"]) for d in rows.documents]
    empty = pa.nulls(n, pa.string())
    kinds = None if rows.error_kinds is None else [ERROR_KINDS[int(k)] for k in rows.error_kinds]
    return {
        "token_id": pa.array(np.arange(rows.first_token, rows.first_token + n, dtype=np.int64)),
        "document": pa.array(rows.token_document.astype(np.int32)),
        "document_id": pa.array([ids[d] for d in local.tolist()], pa.string()) if rows.documents else empty,
        "sentence": pa.nulls(n, pa.int32())
        if rows.token_sentence is None
        else pa.array(rows.token_sentence.astype(np.int32)),
        **origin_columns(rows, local),
        "word": pa.array(rows.word_ids.astype(np.int64)),
        "token": pa.array(rows.tokens, pa.string()),
        "piece": pa.array(rows.pieces, pa.string()),
        "label": pa.array(rows.labels, pa.string()),
        "probability": pa.array(np.asarray(rows.scores, dtype=np.float32)),
        "gold": empty if rows.gold_tags is None else pa.array(rows.gold_tags, pa.string()),
        "error_kind": empty if kinds is None else pa.array(kinds, pa.string()),
    }


def origin_columns(rows: TokenRows, local: np.ndarray) -> dict[str, object]:
    """``line`` (text formats, from 1) and ``row`` (tables, from 0) of each token's sentence in
    the input, as in the --suspects file's ``origin``; null where the input has none."""
    import pyarrow as pa

    n = len(local)
    found: dict[str, list[object]] = {"line": [None] * n, "row": [None] * n}
    if rows.token_sentence is not None:
        for t, (d, s) in enumerate(zip(local.tolist(), rows.token_sentence.tolist(), strict=True)):
            origins = rows.documents[d].sentence_origins
            if origins is not None and 0 <= s < len(origins):
                for key in found:
                    found[key][t] = origins[s].get(key)
    return {key: pa.array(values, pa.int64()) for key, values in found.items()}


def corpus_columns(a: Analysis) -> dict[str, object]:
    """The corpus-wide columns of ``corpus.parquet``: coordinates per layer shown, the deepest
    layer's nearest tokens, and the suspect each token's word belongs to."""
    import pyarrow as pa

    n = len(a.tokens)
    columns: dict[str, object] = {"token_id": pa.array(np.arange(n, dtype=np.int64))}
    for view in a.layers:
        for axis, name in enumerate("xyz"):
            columns[f"{name}_layer{view.layer}"] = pa.array(view.coordinates[:, axis].astype(np.float32))
    nearest = a.layers[-1].nearest.astype(np.int64)  # token ids, nearest first
    columns["nearest"] = pa.FixedSizeListArray.from_arrays(
        pa.array(nearest.ravel(), pa.int64()), nearest.shape[1]
    )
    # By word, then read through each token's word: one pass over the tokens, not one per suspect.
    n_words = int(a.word_ids.max()) + 1 if n else 0
    word_rank = np.zeros(n_words, dtype=np.int32)
    word_score = np.zeros(n_words, dtype=np.float32)
    for r, s in reversed(list(enumerate(a.suspects, start=1))):  # the higher rank wins
        word_rank[s.first_word : s.end_word], word_score[s.first_word : s.end_word] = r, s.score
    rank, score = word_rank[a.word_ids], word_score[a.word_ids]
    columns["suspect_rank"] = pa.array(rank, mask=rank == 0)
    columns["suspect_score"] = pa.array(score, mask=rank == 0)
    return columns
