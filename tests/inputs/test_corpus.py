"""Reading documents: paragraphs, JSON Lines and CoNLL, every format found by content, and every
malformed file ending in one ``FILE:LINE:`` error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.inputs.corpus import read_corpus

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
    "tag shape": ("Ada B-PER\nLovelace PER\n", 2, "'PER' is not a tag of any scheme"),
    "unknown prefix": ("Ada X-PER\n", 1, "'X-PER' is not a tag of any scheme: O, or B-TYPE"),
    "prefix without a type": ("Ada B-PER\nLovelace I-\n", 2, "'I-' is not a tag"),
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


def test_jsonl_with_text_and_tagged_tokens_is_read_by_its_tokens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # As conll2003 rows exported with a joined text: the gold labels must not be lost.
    rows = (
        '{"id": "0", "text": "EU rejects German call", "tokens": ["EU", "rejects", "German", "call"], '
        '"ner_tags": ["B-ORG", "O", "B-MISC", "O"]}\n'
        '{"id": "1", "text": "Peter Blackburn", "tokens": ["Peter", "Blackburn"], '
        '"ner_tags": ["B-PER", "I-PER"]}\n'
    )
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"):
        corpus = read_corpus(None, write(tmp_path, "train.jsonl", rows), "")
    assert corpus.has_gold
    assert [d.gold_tags for d in corpus.documents] == [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"]]
    assert corpus.documents[0].metadata == {"id": "0", "text": "EU rejects German call"}
    assert 'read "tokens" and "ner_tags"' in caplog.text


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


def test_auto_format_goes_by_content_then_extension_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="llm_embedding_ner")
    assert read_corpus(None, write(tmp_path, "x.ndjson", '{"text": "a"}'), "").format == "jsonl"
    assert read_corpus(None, write(tmp_path, "x.md", "a O\nb B-PER\n"), "").format == "conll"
    assert "as JSON Lines (its first line is a JSON object" in caplog.text
    assert "as CoNLL (its lines have 2 columns ending in a tag" in caplog.text
    # Content that looks like neither: the extension decides, and a malformed CoNLL file says where.
    # The error's one line also says why the file was read as CoNLL; nothing is announced before.
    caplog.clear()
    with pytest.raises(UserError, match=r"x\.bio:1: one column.*\[read .*x\.bio as CoNLL \(from its ext"):
        read_corpus(None, write(tmp_path, "x.bio", "words\nand more\n"), "")
    assert "x.bio" not in caplog.text
    assert read_corpus(None, write(tmp_path, "x.md", "Just a note.\n"), "").format == "text"
    assert "as plain text (it looks like neither JSON Lines nor CoNLL" in caplog.text
    # --format wins over the content.
    assert read_corpus(None, write(tmp_path, "y.txt", "a O\n"), "", format="text").format == "text"


def test_format_and_split_combinations_that_make_no_sense_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--format conll reads a --file"):
        read_corpus("Ada B-PER", None, "", format="conll")
    with pytest.raises(UserError, match="--split paragraphs applies to plain text"):
        read_corpus(None, write(tmp_path, "x.jsonl", '{"text": "a"}'), "", split="paragraphs")


CONLL_2_COLUMNS = "EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n"
SNIFFED = {
    # name, content -> format
    "CoNLL-2003 as shipped (test.txt)": ("test.txt", CONLL_IOB1, "conll"),
    "CoNLL-2003 original name, no extension": ("eng.testb", CONLL_IOB1, "conll"),
    "two columns, no -DOCSTART-": ("data.txt", CONLL_2_COLUMNS, "conll"),
    "IOBES tags": ("data.txt", "EU S-ORG\nPeter B-PER\nBlackburn E-PER\n", "conll"),
    "leading blank lines": ("data", "\n\n" + CONLL_2_COLUMNS, "conll"),
    "JSON Lines, text form": ("data.txt", '{"text": "Ada met Babbage."}\n', "jsonl"),
    "JSON Lines, tokens form": ("data.json", '{"tokens": ["Ada"], "ner_tags": ["B-PER"]}\n', "jsonl"),
    "a table with tabs": ("people.txt", "name\tcity\nAda\tLondon\nCharles\tLondon\n", "text"),
    "prose with tabs": ("notes.txt", "Dear Ada,\n\tthe engine is ready.\nO\n", "text"),
    "prose ending in a capital O": ("notes.txt", "Give me an O\nand a K O\n", "text"),
    "JSON that is not an object": ("list.txt", '["a", "b"]\n', "text"),
    # A long stretch without entities first: 60 lines of O, then the first entity.
    "CoNLL whose first 50 tokens are O": ("data.tsv", "word\tO\n" * 60 + "Paris\tB-LOC\n", "conll"),
    "tab-separated CoNLL with no entity": ("data.tsv", "EU\tNNP\tO\n\nrejects\tVBZ\tO\n", "conll"),
}


@pytest.mark.parametrize("case", SNIFFED)
def test_format_found_by_content_whatever_the_file_is_called(case: str, tmp_path: Path) -> None:
    name, content, expected = SNIFFED[case]
    assert read_corpus(None, write(tmp_path, name, content), "").format == expected


def test_standard_input_is_sniffed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    stdin = io.TextIOWrapper(io.BytesIO(CONLL_2_COLUMNS.encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    corpus = read_corpus(None, "-", "")
    assert corpus.format == "conll" and corpus.has_gold


def test_jsonl_records_end_at_newlines_only(tmp_path: Path) -> None:
    # json.dumps(..., ensure_ascii=False) leaves U+2028, U+2029 and U+0085 raw inside strings;
    # str.splitlines would break the record there.
    texts = ["one\u2028two", "three\u2029four\u0085five", "six\x0cseven"]
    import json

    content = "\r\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts) + "\r\n"
    corpus = read_corpus(None, write(tmp_path, "lines.jsonl", content), "")
    assert [d.text for d in corpus.documents] == texts
    with pytest.raises(UserError, match=r"bad\.jsonl:3: not valid JSON"):
        read_corpus(None, write(tmp_path, "bad.jsonl", content.replace("six", '"six', 1)), "")
