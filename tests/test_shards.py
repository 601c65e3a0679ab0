"""A corpus read shard by shard and joined equals the corpus read at once (no Ray needed: the
shards are read one after another here, as a cluster's actors read them)."""

from __future__ import annotations

import numpy as np
import pytest

from llm_embedding_ner.reading import analysis_types, predict
from llm_embedding_ner.shards import join_shards, read_shard, shard_bounds

from .test_pipeline import read_conll


def read_in_shards(corpus, loaded, characters: int, **options):  # -> (Prediction, rows)
    _, types = analysis_types(corpus.documents, loaded, options.get("label_map"))
    bounds = shard_bounds(corpus.documents, characters)
    rows: list = []
    readings = (read_shard(corpus.documents[a:b], a, loaded, types, **options) for a, b in bounds)
    return join_shards(corpus, readings, rows.append), rows, bounds


def concatenated(rows: list, name: str) -> np.ndarray:
    return np.concatenate([getattr(r, name) for r in rows])


@pytest.mark.parametrize("layers", ["last", "all"])
def test_shards_joined_equal_the_corpus_read_at_once(dslim_model, tmp_path, layers: str) -> None:
    corpus = read_conll(tmp_path, seed=5, iob1=False)
    whole_rows: list = []
    whole = predict(corpus, dslim_model, layers=layers, on_segment=whole_rows.append)
    joined, rows, bounds = read_in_shards(corpus, dslim_model, 250, layers=layers)
    assert len(bounds) >= 3  # the test joins several shards
    assert joined.text == whole.text
    assert joined.labels == whole.labels and joined.shown == whole.shown
    assert np.allclose(joined.scores, whole.scores, atol=1e-5)  # other batches: roundoff only
    assert [(e.type, e.start, e.end, e.first_token, e.end_token) for e in joined.entities] == [
        (e.type, e.start, e.end, e.first_token, e.end_token) for e in whole.entities
    ]
    for name in ("token_starts", "char_starts", "word_starts"):
        assert np.array_equal(getattr(joined.stream, name), getattr(whole.stream, name))
    for name in ("ids", "offsets", "word_ids", "space_only"):
        assert np.array_equal(getattr(joined.stream.tokens, name), getattr(whole.stream.tokens, name))
    assert joined.stream.tokens.pieces == whole.stream.tokens.pieces
    assert joined.hidden.shape == whole.hidden.shape  # every layer, every token, in order
    assert np.allclose(np.asarray(joined.hidden, np.float32), np.asarray(whole.hidden, np.float32), atol=2e-3)
    assert np.array_equal(joined.class_ids, whole.class_ids)
    assert np.array_equal(joined.token_entity, whole.token_entity)
    gold, expected = joined.gold, whole.gold
    assert gold.evaluation.micro == expected.evaluation.micro
    assert gold.evaluation.per_type == expected.evaluation.per_type
    assert np.array_equal(gold.error_kinds, expected.error_kinds)
    assert np.array_equal(gold.gold_class_ids, expected.gold_class_ids)
    assert np.array_equal(gold.word_sentence, expected.word_sentence)
    assert np.allclose(gold.word_probabilities, expected.word_probabilities, atol=1e-5, equal_nan=True)
    # The table's rows: the run's indices, whichever shard read them.
    for name in ("token_document", "token_sentence", "word_ids", "error_kinds", "scores"):
        assert np.allclose(concatenated(rows, name), concatenated(whole_rows, name), atol=1e-5), name
    assert [r.first_token for r in rows] == [int(whole.stream.token_starts[a]) for a, _ in bounds]
    assert [v.start for r in rows for v in r.documents] == whole.stream.char_starts[:-1].tolist()


def test_a_shard_numbers_its_documents_as_the_corpus_does(dslim_model, tmp_path) -> None:
    from llm_embedding_ner.inputs.corpus import read_corpus

    documents = ["-DOCSTART- O\n\nAda B-PER\nLovelace I-PER\n\n"] * 3 + ["-DOCSTART- O\n\n\u00ad B-MISC\n\n"]
    path = tmp_path / "shy.conll"
    path.write_text("".join(documents) + "-DOCSTART- O\n\nParis B-LOC\n", encoding="utf-8")
    corpus = read_corpus(None, str(path), "")
    with pytest.warns(UserWarning, match=r"document 3 \(numbered from 0\) holds only characters"):
        joined, _, bounds = read_in_shards(corpus, dslim_model, 1)
    assert len(bounds) == 5  # a shard a document: the empty one is a shard of its own
    assert joined.gold.predicted_tags[6] == "O" and joined.gold.evaluation.micro.support == 5


def test_shards_are_consecutive_documents_closed_at_the_size() -> None:
    from llm_embedding_ner.inputs.documents import Document

    documents = [Document("x" * n) for n in (5, 5, 20, 1, 1, 1)]
    assert shard_bounds(documents, 10) == [(0, 2), (2, 3), (3, 6)]
    assert shard_bounds(documents, 1000) == [(0, 6)]
    assert shard_bounds([], 10) == []


def test_a_corpus_the_tokenizer_reads_nothing_of_is_an_error_read_whole_or_in_shards(
    dslim_model, tmp_path
) -> None:
    """A shard may hold no token; a corpus may not, however it is read."""
    from llm_embedding_ner.errors import UserError
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.pipeline import analyze

    path = tmp_path / "shy.conll"
    path.write_text("-DOCSTART- O\n\n\u00ad B-MISC\n\n-DOCSTART- O\n\n\u200b O\n", encoding="utf-8")
    corpus = read_corpus(None, str(path), "")
    with pytest.raises(UserError, match=r"^no document has any token for this model"):
        predict(corpus, dslim_model)
    with pytest.raises(UserError, match=r"^no document has any token for this model"):
        read_in_shards(corpus, dslim_model, 1)
    with pytest.raises(UserError, match=r"^the text has no tokens for this model"):
        analyze("\u00ad", dslim_model)
