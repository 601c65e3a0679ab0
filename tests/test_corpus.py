"""Reading documents: paragraphs, JSON Lines and CoNLL (IOB1 or IOB2), and every malformed file
ending in one ``FILE:LINE:`` error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llm_embedding_ner.corpus import read_corpus
from llm_embedding_ner.errors import UserError

CONLL_IOB1 = """\
-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP I-LOC
1996-08-22 CD I-NP O

The DT B-NP O
European NNP I-NP I-ORG
Commission NNP I-NP I-ORG
met VBD B-VP O
Bank NNP B-NP I-ORG
of IN I-NP I-ORG
England NNP B-NP B-ORG
. . O O
"""


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_conll_documents_sentences_and_iob1_converted_to_iob2(tmp_path: Path) -> None:
    corpus = read_corpus(None, write(tmp_path, "a.conll", CONLL_IOB1), "")
    assert corpus.format == "conll" and corpus.has_gold and len(corpus.documents) == 2
    first, second = corpus.documents
    assert first.text == "EU rejects German call .\nPeter Blackburn"
    assert first.gold_tags == ["B-ORG", "O", "B-MISC", "O", "O", "B-PER", "I-PER"]
    assert first.word_sentence.tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert [first.text[a:b] for a, b in first.words] == [
        "EU",
        "rejects",
        "German",
        "call",
        ".",
        "Peter",
        "Blackburn",
    ]
    # IOB1's B- separates two adjacent entities of one type; IOB2 starts both with B-.
    assert second.gold_tags == ["B-LOC", "O", "O", "B-ORG", "I-ORG", "O", "B-ORG", "I-ORG", "B-ORG", "O"]
    assert second.word_sentence.max() == 1


def test_iob2_input_is_kept_and_a_file_without_docstart_is_one_document(tmp_path: Path) -> None:
    text = "Ada B-PER\nLovelace I-PER\nin O\nLondon B-LOC\n\nParis B-LOC\n"
    (document,) = read_corpus(None, write(tmp_path, "b.iob2", text), "").documents
    assert document.gold_tags == ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]
    assert document.word_sentence.tolist() == [0, 0, 0, 0, 1]


MALFORMED = {
    "one column": ("Ada B-PER\nLovelace\n", 2, "one column"),
    "tag shape": ("Ada B-PER\nLovelace PER\n", 2, "'PER' is not O, B-TYPE or I-TYPE"),
    "BIOES tag": ("Ada S-PER\n", 1, "'S-PER' is not O"),
    "mixed columns": ("Ada NNP B-PER\nLovelace I-PER\n", 2, "2 columns, but the lines before have 3"),
    "no tokens": ("-DOCSTART- O\n\n\n", None, "has no tokens"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_conll_names_file_and_line(case: str, tmp_path: Path) -> None:
    content, line, message = MALFORMED[case]
    path = write(tmp_path, "bad.conll", content)
    with pytest.raises(UserError) as error:
        read_corpus(None, path, "")
    assert message in str(error.value)
    if line is not None:
        assert str(error.value).startswith(f"{path}:{line}: ")


def test_jsonl_keeps_other_fields_as_metadata(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "docs.jsonl",
        '{"id": 7, "text": "Ada Lovelace met Babbage.", "source": "wiki"}\n\n{"text": "Paris is big."}\n',
    )
    corpus = read_corpus(None, path, "")
    assert corpus.format == "jsonl" and not corpus.has_gold
    assert [d.text for d in corpus.documents] == ["Ada Lovelace met Babbage.", "Paris is big."]
    assert corpus.documents[0].metadata == {"id": 7, "source": "wiki"} and corpus.documents[1].metadata == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "fine"}\n{"text": broken}\n', ":2: not valid JSON"),
        ('{"title": "no text"}\n', ':1: each line must be an object with a "text" string'),
        ('["text"]\n', ":1: each line must be an object"),
        ('{"text": "  "}\n', ':1: "text" is empty'),
    ],
)
def test_malformed_jsonl_names_the_line(content: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=message):
        read_corpus(None, write(tmp_path, "bad.jsonl", content), "")


def test_paragraphs_become_documents(tmp_path: Path) -> None:
    text = "First paragraph,\nstill the first.\n\nSecond one.\n   \n\n\nThird.\n"
    corpus = read_corpus(None, write(tmp_path, "notes.txt", text), "", split="paragraphs")
    assert [d.text for d in corpus.documents] == [
        "First paragraph,\nstill the first.",
        "Second one.",
        "Third.",
    ]
    assert corpus.split and not corpus.has_gold
    # Without --split the text is one document, exactly as written.
    (whole,) = read_corpus(None, write(tmp_path, "notes.txt", text), "").documents
    assert whole.text == text


def test_auto_format_goes_by_extension_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="llm_embedding_ner")
    assert read_corpus(None, write(tmp_path, "x.ndjson", '{"text": "a"}'), "").format == "jsonl"
    assert read_corpus(None, write(tmp_path, "x.bio", "a O\n"), "").format == "conll"
    assert read_corpus(None, write(tmp_path, "x.md", "a O\n"), "").format == "text"
    assert "as JSON Lines" in caplog.text and "as CoNLL" in caplog.text and "as plain text" in caplog.text
    # --format wins over the extension.
    assert read_corpus(None, write(tmp_path, "y.txt", "a O\n"), "", format="conll").format == "conll"


def test_format_and_split_combinations_that_make_no_sense_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--format conll reads a --file"):
        read_corpus("Ada B-PER", None, "", format="conll")
    with pytest.raises(UserError, match="--split paragraphs applies to plain text"):
        read_corpus(None, write(tmp_path, "x.jsonl", '{"text": "a"}'), "", split="paragraphs")
