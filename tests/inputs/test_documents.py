"""A document of gold words: its text, and each word's span in it."""

from __future__ import annotations

from llm_embedding_ner.inputs.documents import words_document


def test_every_word_span_reads_its_word_even_around_empty_sentences() -> None:
    sentences = [[], ["Ada", "met", "Ben"], [], [], ["in", "São", "Paulo", "."], ["x"], []]
    tags = [["O"] * len(s) for s in sentences]
    doc = words_document(sentences, tags)
    assert doc.text == "\nAda met Ben\n\n\nin São Paulo .\nx\n"
    assert [doc.text[a:b] for a, b in doc.words.tolist()] == [w for s in sentences for w in s]
    assert doc.word_sentence.tolist() == [1, 1, 1, 4, 4, 4, 4, 5]


def test_tags_share_one_string_per_distinct_tag() -> None:
    tags = [[f"B-{t}" for t in ("LOC", "LOC")], ["O", f"B-{'LOC'}"]]
    doc = words_document([["a", "b"], ["c", "d"]], tags)
    assert doc.gold_tags == ["B-LOC", "B-LOC", "O", "B-LOC"]
    assert doc.gold_tags[0] is doc.gold_tags[1] is doc.gold_tags[3]
