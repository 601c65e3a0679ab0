"""``--table DIR``: every token of a run as Parquet, read back as a user reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.analysis.evaluation import ERROR_KINDS
from llm_embedding_ner.errors import UserError
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer.outputs import check_table_folder
from llm_embedding_ner.viewer.table import write_table

from ..test_cli import run_cli
from ..test_pipeline import agreeing_conll_text, read_conll


def test_every_token_is_a_row_equal_to_the_analysis(
    dslim_model, tmp_path: Path, uncapped_suspects: None
) -> None:
    import pyarrow.parquet as pq

    a = analyze(read_conll(tmp_path, 6, iob1=True), dslim_model, layers=(1, 2))
    assert a.suspects
    line = write_table(a, str(tmp_path / "table"))
    assert line.startswith(f"{len(a.tokens):,} tokens written to ")
    tokens = pq.read_table(tmp_path / "table" / "tokens.parquet").to_pylist()
    corpus = pq.read_table(tmp_path / "table" / "corpus.parquet").to_pylist()
    assert len(tokens) == len(corpus) == len(a.tokens)
    assert [r["token_id"] for r in tokens] == [r["token_id"] for r in corpus] == list(range(len(a.tokens)))
    assert [r["label"] for r in tokens] == a.labels and [r["piece"] for r in tokens] == a.pieces
    assert [r["token"] for r in tokens] == a.tokens
    assert [r["document"] for r in tokens] == a.token_document.tolist()
    assert [r["sentence"] for r in tokens] == a.token_sentence.tolist()
    # Each token's sentence starts on its ``line`` of the CoNLL file (after a blank line).
    lines = (tmp_path / "gold-6.conll").read_text(encoding="utf-8").split("\n")
    assert all(r["row"] is None and lines[r["line"] - 2] == "" and lines[r["line"] - 1] for r in tokens)
    for r in tokens:
        assert r["line"] == a.documents[r["document"]].sentence_origins[r["sentence"]]["line"]
    assert [r["gold"] for r in tokens] == [a.gold.gold_tags[w] for w in a.word_ids.tolist()]
    assert [r["error_kind"] for r in tokens] == [ERROR_KINDS[int(k)] for k in a.gold.error_kinds]
    assert np.allclose([r["probability"] for r in tokens], a.scores)
    for view in a.layers:
        xyz = np.array([[r[f"{c}_layer{view.layer}"] for c in "xyz"] for r in corpus])
        assert np.allclose(xyz, view.coordinates)
    assert [r["nearest"] for r in corpus] == a.layers[-1].nearest.tolist()
    # Each token of a suspect's words carries its rank and score; the others none.
    expected: list[int | None] = [None] * len(a.tokens)
    for rank, s in enumerate(a.suspects, start=1):
        for t in np.flatnonzero((a.word_ids >= s.first_word) & (a.word_ids < s.end_word)).tolist():
            expected[t] = expected[t] or rank
    assert [r["suspect_rank"] for r in corpus] == expected
    first = expected.index(1)
    assert corpus[first]["suspect_score"] == pytest.approx(a.suspects[0].score)


def test_a_text_without_gold_labels_has_empty_gold_columns(dslim_model, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    a = analyze("Ada Lovelace met Charles Babbage in London.", dslim_model)
    write_table(a, str(tmp_path / "t"))
    tokens = pq.read_table(tmp_path / "t" / "tokens.parquet")
    assert tokens.column("gold").null_count == tokens.num_rows == len(a.tokens)
    assert tokens.column("sentence").null_count == tokens.num_rows
    assert tokens.column("line").null_count == tokens.column("row").null_count == tokens.num_rows
    assert (
        pq.read_table(tmp_path / "t" / "corpus.parquet").column("suspect_rank").null_count == tokens.num_rows
    )


def test_a_folder_with_files_a_file_or_no_parent_is_refused(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.parquet").write_bytes(b"kept")
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    check_table_folder(str(tmp_path / "empty"))  # an empty folder is fine
    check_table_folder(str(tmp_path / "new"))
    for name, said in (("full", "with files in it"), ("file", "is a file"), ("no/such", "does not exist")):
        with pytest.raises(UserError, match=said):
            check_table_folder(str(tmp_path / name))


def test_the_table_from_the_command_line_and_refused_before_any_work(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    source = tmp_path / "dev.conll"
    source.write_text(agreeing_conll_text(dslim_model, tmp_path, seed=11), encoding="utf-8")
    model = ["--model", str(dslim_model_dir), "--file", str(source)]
    table = tmp_path / "table"
    result = run_cli(*model, "--table", str(table), "--headless", "--save", str(tmp_path / "r.rrd"))
    assert result.returncode == 0, result.stderr
    rows = pq.read_table(table / "tokens.parquet").num_rows
    assert result.stderr.rstrip().endswith(f"{rows:,} tokens written to {table / 'tokens.parquet'} and "
                                           f"{table / 'corpus.parquet'} (joined by token_id)")  # fmt: skip
    refused = run_cli(*model, "--table", str(table), "--headless", "--save", str(tmp_path / "s.rrd"))
    assert refused.returncode == 2
    assert (
        refused.stderr == f"error: --table {table} is a folder with files in it; name a new or empty folder\n"
    )
    assert not (tmp_path / "s.rrd").exists()
