"""``--table DIR``: every token of a run as Parquet, read back as a user reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.analysis.evaluation import ERROR_KINDS
from llm_embedding_ner.errors import UserError
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer.outputs import check_table_folder
from llm_embedding_ner.viewer.table import TableWriter, write_table

from ..test_cli import run_cli
from ..test_pipeline import agreeing_conll_text, read_conll


def test_every_token_is_a_row_equal_to_the_analysis(
    dslim_model, tmp_path: Path, uncapped_suspects: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows written segment by segment while the corpus is read equal the finished analysis."""
    import pyarrow.parquet as pq

    from llm_embedding_ner.model import windows

    monkeypatch.setattr(windows, "SEGMENT_CHARACTERS", 200)  # several segments of a few documents
    writer = TableWriter(str(tmp_path / "table"))
    a = analyze(read_conll(tmp_path, 6, iob1=True), dslim_model, layers=(1, 2), on_segment=writer)
    assert a.suspects and writer.parts > 1
    line = writer.finish(a)
    assert line.startswith(f"{len(a.tokens):,} tokens written to {tmp_path / 'table' / 'tokens'} ")
    parts = sorted((tmp_path / "table" / "tokens").iterdir())
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(writer.parts)]
    tokens = pq.read_table(tmp_path / "table" / "tokens").sort_by("token_id").to_pylist()
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
    tokens = pq.read_table(tmp_path / "t" / "tokens")
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
    rows = pq.read_table(table / "tokens").num_rows
    assert result.stderr.rstrip().endswith(f"{rows:,} tokens written to {table / 'tokens'} (1 file) and "
                                           f"{table / 'corpus.parquet'} (joined by token_id)")  # fmt: skip
    documented_examples_answer(table)
    refused = run_cli(*model, "--table", str(table), "--headless", "--save", str(tmp_path / "s.rrd"))
    assert refused.returncode == 2
    assert (
        refused.stderr == f"error: --table {table} is a folder with files in it; name a new or empty folder\n"
    )
    assert not (tmp_path / "s.rrd").exists()


def test_a_run_stopped_late_keeps_the_segments_it_read(
    dslim_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or a failure) after some segments: each segment written is a whole Parquet file,
    readable as the table so far, and the run says where it is."""
    import pyarrow.parquet as pq

    from llm_embedding_ner.model import windows

    monkeypatch.setattr(windows, "SEGMENT_CHARACTERS", 200)
    writer = TableWriter(str(tmp_path / "table"))

    def stop_after_two(rows) -> None:
        writer(rows)
        if writer.parts == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze(read_conll(tmp_path, 6, iob1=True), dslim_model, on_segment=stop_after_two)
    kept = pq.read_table(tmp_path / "table" / "tokens")
    assert kept.num_rows == writer.rows and kept.column("token_id").to_pylist() == list(range(writer.rows))
    assert sorted(p.name for p in (tmp_path / "table").rglob("*")) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "tokens",
    ]  # no half-written file, no corpus.parquet
    assert writer.kept() == (
        f"the tokens of the 2 segments read ({writer.rows:,} tokens) are in {tmp_path / 'table' / 'tokens'}"
    )


def test_a_table_that_cannot_be_written_stops_the_table_not_the_run(dslim_model, tmp_path: Path) -> None:
    (tmp_path / "table").write_text("a file where the folder should go")  # after the check: a race
    writer = TableWriter(str(tmp_path / "table"))
    a = analyze(read_conll(tmp_path, 6, iob1=True), dslim_model, on_segment=writer)
    assert len(a.tokens) and writer.parts == 0 and writer.error is not None
    with pytest.raises(OSError):
        writer.finish(a)


def documented_examples_answer(table: Path) -> None:
    """The documentation's pandas and DuckDB examples (the suspects tutorial), run on this table
    as a user pastes them: they name the documents with most suspects, the same ones."""
    import contextlib
    import io
    import re

    page = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "suspects.md"
    section = page.read_text(encoding="utf-8").split("**Every token as a table.**", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 2
    printed = []
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code.replace("train-table", str(table)), {})
        printed.append(out.getvalue())
    pandas_top = re.findall(r"^(\d+)\s+(\d+)$", printed[0], flags=re.MULTILINE)
    duckdb_top = re.findall(r"│\s+(\d+)\s+│\s+(\d+)\s+│", printed[1])
    assert pandas_top and sorted(pandas_top) == sorted((d, n) for d, n in duckdb_top if n != "0")
