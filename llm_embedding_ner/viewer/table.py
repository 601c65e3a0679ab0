"""``--table DIR``: every token of a run as Parquet, for pandas, polars or DuckDB.

Two files, joined by ``token_id`` (the token's index in the run, as in the viewer's clouds):

- ``tokens.parquet``: what each document's own reading says of each token (its document,
  sentence, word, text, the predicted label and gold label, the error kind);
- ``corpus.parquet``: what the whole corpus says of it (its 3D place at each layer shown, its
  nearest tokens, the suspect gold label it belongs to).

The split is where the work splits: the first kind is known document by document, the second
only once every token is in. For now both are written at the end of the run, after the
recording; the folder must be new or empty (outputs.check_table_folder), so nothing is ever
overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..analysis.result import Analysis

TOKENS = "tokens.parquet"
CORPUS = "corpus.parquet"


def token_columns(a: Analysis) -> dict[str, object]:
    """The per-document columns of ``tokens.parquet`` (see the README for each one)."""
    import pyarrow as pa

    from ..analysis.evaluation import ERROR_KINDS

    n = len(a.tokens)
    document = a.token_document if a.token_document is not None else np.zeros(n, dtype=np.int64)
    ids = [a.documents[d].metadata.get("id") if a.documents else None for d in range(len(a.documents))]
    gold = a.gold
    columns: dict[str, object] = {
        "token_id": pa.array(np.arange(n, dtype=np.int64)),
        "document": pa.array(document.astype(np.int32)),
        "document_id": pa.array(
            [None if ids[d] is None else str(ids[d]) for d in document.tolist()], pa.string()
        )
        if ids
        else pa.nulls(n, pa.string()),
        "sentence": pa.array(a.token_sentence.astype(np.int32))
        if a.token_sentence is not None
        else pa.nulls(n, pa.int32()),
        **origin_columns(a, document),
        "word": pa.array(a.word_ids.astype(np.int64)),
        "token": pa.array(a.tokens, pa.string()),
        "piece": pa.array(a.pieces, pa.string()),
        "label": pa.array(a.labels, pa.string()),
        "probability": pa.array(np.asarray(a.scores, dtype=np.float32)),
    }
    if gold is not None:
        words = a.word_ids.tolist()
        columns["gold"] = pa.array([gold.gold_tags[w] for w in words], pa.string())
        columns["error_kind"] = pa.array([ERROR_KINDS[int(k)] for k in gold.error_kinds], pa.string())
    else:
        columns["gold"] = pa.nulls(n, pa.string())
        columns["error_kind"] = pa.nulls(n, pa.string())
    return columns


def origin_columns(a: Analysis, document: np.ndarray) -> dict[str, object]:
    """``line`` (text formats, from 1) and ``row`` (tables, from 0) of each token's sentence in
    the input, as in the --suspects file's ``origin``; null where the input has none."""
    import pyarrow as pa

    n = len(document)
    found: dict[str, list[object]] = {"line": [None] * n, "row": [None] * n}
    if a.token_sentence is not None:
        for t, (d, s) in enumerate(zip(document.tolist(), a.token_sentence.tolist(), strict=True)):
            origins = a.documents[d].sentence_origins if a.documents else None
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


def write_table(a: Analysis, path: str) -> str:
    """Write both files into ``path`` (checked by ``check_table_folder``); the line to print."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(path)
    folder.mkdir(parents=False, exist_ok=True)
    for name, columns in ((TOKENS, token_columns(a)), (CORPUS, corpus_columns(a))):
        partial = folder / f".{name}.partial"
        pq.write_table(pa.table(columns), partial)
        os.replace(partial, folder / name)  # complete files only, under their names
    return f"{len(a.tokens):,} tokens written to {folder / TOKENS} and {folder / CORPUS} (joined by token_id)"
