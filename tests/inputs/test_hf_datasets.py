"""Hugging Face datasets-style NER data: JSON Lines, Parquet and save_to_disk directories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.inputs.corpus import read_corpus

NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
ROWS = [
    {"id": "0", "tokens": ["Ada", "Lovelace", "visited", "London", "."], "ner_tags": [1, 2, 0, 3, 0]},
    {"id": "1", "tokens": ["She", "met", "Charles", "Babbage"], "ner_tags": [0, 0, 1, 2]},
    {"id": "2", "tokens": [], "ner_tags": []},  # datasets often hold empty rows
    {"id": "3", "tokens": ["New", "York", "waited"], "ner_tags": [3, 4, 0]},
]
EXPECTED_TAGS = [
    ["B-PER", "I-PER", "O", "B-LOC", "O"],
    ["O", "O", "B-PER", "I-PER"],
    ["B-LOC", "I-LOC", "O"],
]


def named(rows: list[dict]) -> list[dict]:
    return [{**row, "ner_tags": [NAMES[t] for t in row["ner_tags"]]} for row in rows]


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def dataset(rows: list[dict]):  # -> datasets.Dataset with ClassLabel names
    from datasets import ClassLabel, Dataset, Features, List, Value

    features = Features(
        {"id": Value("string"), "tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=NAMES))}
    )
    return Dataset.from_list(rows, features=features)


def test_jsonl_rows_with_string_tags_are_documents_with_gold(tmp_path: Path) -> None:
    corpus = read_corpus(None, write_jsonl(tmp_path / "train.jsonl", named(ROWS)), "")
    assert corpus.format == "jsonl" and corpus.has_gold and len(corpus.documents) == 3
    assert [d.gold_tags for d in corpus.documents] == EXPECTED_TAGS
    assert corpus.documents[0].text == "Ada Lovelace visited London ."
    assert corpus.documents[2].metadata == {"id": "3"}


def test_a_document_field_groups_consecutive_rows(tmp_path: Path) -> None:
    rows = [{**row, "document": doc} for row, doc in zip(named(ROWS), ["a", "a", "a", "b"], strict=True)]
    first, second = read_corpus(None, write_jsonl(tmp_path / "d.jsonl", rows), "").documents
    assert first.text == "Ada Lovelace visited London .\nShe met Charles Babbage" and first.metadata == {
        "document": "a"
    }
    assert first.word_sentence.tolist() == [0] * 5 + [1] * 4
    assert second.gold_tags == EXPECTED_TAGS[2]


def test_integer_tags_need_names(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ints.jsonl", ROWS)
    with pytest.raises(
        UserError, match=r"the tags are numbers and the file does not name them; .*--label-names"
    ):
        read_corpus(None, path, "")
    corpus = read_corpus(None, path, "", label_names=NAMES)
    assert [d.gold_tags for d in corpus.documents] == EXPECTED_TAGS
    with pytest.raises(UserError, match=r"ints\.jsonl:1: tag number 3, but --label-names names 3 tags"):
        read_corpus(None, path, "", label_names=NAMES[:3])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"tokens": ["a", "b"], "ner_tags": ["O"]}, "2 tokens but 1 tags"),
        ({"tokens": ["a"]}, 'no "ner_tags" list'),
        ({"tokens": ["a", 1], "ner_tags": ["O", "O"]}, "every token must be a string"),
        ({"tokens": ["a", "b"], "ner_tags": ["O", 1]}, "all strings or all whole numbers"),
        ({"tokens": ["a"], "ner_tags": ["Q-PER"]}, "tag 'Q-PER' is not a tag of any scheme"),
    ],
)
def test_malformed_rows_name_their_line(line: dict, message: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [named(ROWS)[0], line])
    with pytest.raises(UserError, match=rf"bad\.jsonl:2: .*{message}"):
        read_corpus(None, path, "")


def test_parquet_written_by_datasets_names_its_tags(tmp_path: Path) -> None:
    path = tmp_path / "test-00000-of-00001.parquet"
    dataset(ROWS).to_parquet(str(path))
    corpus = read_corpus(None, str(path), "")  # ClassLabel names come from the file itself
    assert corpus.format == "parquet" and [d.gold_tags for d in corpus.documents] == EXPECTED_TAGS
    renamed = read_corpus(None, str(path), "", label_names=["O", "B-X", "I-X", "B-Y", "I-Y"])
    assert renamed.documents[0].gold_tags == ["B-X", "I-X", "O", "B-Y", "O"]  # --label-names wins
    # Found by content, whatever it is called.
    path.rename(tmp_path / "data.bin")
    assert read_corpus(None, str(tmp_path / "data.bin"), "").format == "parquet"


def test_parquet_without_names_and_a_damaged_file(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "plain.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    with pytest.raises(UserError, match="the tags are numbers"):
        read_corpus(None, str(path), "")
    assert read_corpus(None, str(path), "", label_names=NAMES).documents[1].gold_tags == EXPECTED_TAGS[1]
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(UserError, match=r"broken\.parquet is not a Parquet file that can be read"):
        read_corpus(None, str(tmp_path / "broken.parquet"), "")


def test_save_to_disk_directory(tmp_path: Path) -> None:
    from datasets import DatasetDict

    dataset(ROWS).save_to_disk(str(tmp_path / "conll"))
    corpus = read_corpus(None, str(tmp_path / "conll"), "")
    assert corpus.format == "dataset" and [d.gold_tags for d in corpus.documents] == EXPECTED_TAGS
    DatasetDict({"train": dataset(ROWS), "test": dataset(ROWS)}).save_to_disk(str(tmp_path / "splits"))
    with pytest.raises(
        UserError,
        match=r"holds several splits \(train, test\); pass one of them, such as --file .*splits/test",
    ):
        read_corpus(None, str(tmp_path / "splits"), "")
    assert read_corpus(None, str(tmp_path / "splits" / "test"), "").format == "dataset"
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="is a directory, not a text file or a dataset"):
        read_corpus(None, str(tmp_path / "empty"), "")


def test_without_the_optional_packages_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset(ROWS).save_to_disk(str(tmp_path / "conll"))
    dataset(ROWS).to_parquet(str(tmp_path / "x.parquet"))
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UserError, match="needs the datasets package: pip install datasets"):
        read_corpus(None, str(tmp_path / "conll"), "")
    with pytest.raises(UserError, match="needs pyarrow: pip install pyarrow"):
        read_corpus(None, str(tmp_path / "x.parquet"), "")


def test_same_evaluation_as_conll_input(dslim_model, tmp_path: Path) -> None:
    from llm_embedding_ner.pipeline import analyze

    rows = named(ROWS)
    conll = "\n\n".join(
        "\n".join(f"{w} {t}" for w, t in zip(r["tokens"], r["ner_tags"], strict=True))
        for r in rows
        if r["tokens"]
    )
    (tmp_path / "same.conll").write_text(
        "-DOCSTART- O\n\n" + conll.replace("\n\nNew", "\n\n-DOCSTART- O\n\nNew") + "\n"
    )
    grouped = [{**row, "document": doc} for row, doc in zip(rows, [0, 0, 0, 1], strict=True)]
    from_rows = analyze(read_corpus(None, write_jsonl(tmp_path / "same.jsonl", grouped), ""), dslim_model)
    from_conll = analyze(read_corpus(None, str(tmp_path / "same.conll"), ""), dslim_model)
    assert from_rows.text == from_conll.text and from_rows.gold.gold_tags == from_conll.gold.gold_tags
    assert from_rows.gold.predicted_tags == from_conll.gold.predicted_tags
    ours, theirs = from_rows.gold.evaluation, from_conll.gold.evaluation
    assert (ours.per_type, ours.micro, ours.confusion) == (theirs.per_type, theirs.micro, theirs.confusion)
    assert ours.word_kinds.tolist() == theirs.word_kinds.tolist()
