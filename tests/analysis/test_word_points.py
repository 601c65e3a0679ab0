"""Words shared by tokenizers that split a text differently, and one point per word."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from llm_embedding_ner.analysis.word_points import pool_words, shared_words, word_spans
from llm_embedding_ner.inputs.documents import Corpus, Document
from llm_embedding_ner.model.vocabulary import PieceStyle, read_pieces
from llm_embedding_ner.model.windows import TokenizedText
from llm_embedding_ner.pipeline import predict


def tokens_of(
    spans: list[tuple[int, int]], word_ids: list[int], space_only: list[bool] | None = None
) -> TokenizedText:
    n = len(spans)
    return TokenizedText(
        np.zeros(n, dtype=np.int64),
        ["x"] * n,
        np.asarray(spans, dtype=np.int64).reshape(n, 2),
        np.asarray(word_ids, dtype=np.int64),
        replace(read_pieces(["x"] * n, PieceStyle()), space_only=np.asarray(space_only or [False] * n)),
    )


TEXT = "I don't know Lovelace."
#       0123456789012345678901


def test_words_that_overlap_between_tokenizers_merge() -> None:
    # A BERT-like split: I | don | ' | t | know | Love ##lace | .
    bert = tokens_of(
        [(0, 1), (2, 5), (5, 6), (6, 7), (8, 12), (13, 17), (17, 21), (21, 22)], [0, 1, 2, 3, 4, 5, 5, 6]
    )
    # A RoBERTa-like split: I | don | 't | know | Lov elace. (the full stop glued to the word)
    roberta = tokens_of([(0, 1), (2, 5), (5, 7), (8, 12), (13, 16), (16, 22)], [0, 1, 2, 3, 4, 4])
    words = shared_words([bert, roberta])
    assert [TEXT[a:b] for a, b in words.tolist()] == ["I", "don", "'t", "know", "Lovelace."]
    assert word_spans(bert).tolist()[5] == [13, 21]


def test_whitespace_tokens_are_no_words_and_uncovered_characters_are_left_out() -> None:
    a = tokens_of([(0, 1), (1, 2), (2, 5), (8, 12)], [0, 1, 2, 3], space_only=[False, True, False, False])
    b = tokens_of([(0, 1), (2, 5)], [0, 1])  # reads nothing of "know"
    words = shared_words([a, b])
    assert [TEXT[x:y] for x, y in words.tolist()] == ["I", "don"]


def test_a_word_point_is_the_mean_of_its_tokens(dslim_model) -> None:
    text = "Ada Lovelace met Charles Babbage in London."
    corpus = Corpus([Document(text)], "text", False)
    p = predict(corpus, dslim_model, layers="all")
    words = shared_words([p.stream.tokens])
    pooled = pool_words(p, words, gold_word_ids=False)

    assert pooled.shown.labels == [*text.rstrip(".").split(), "."]
    assert pooled.hidden.shape == (p.hidden.shape[0], len(words), p.hidden.shape[2])
    word_ids = p.stream.tokens.word_ids
    for w in range(len(words)):
        members = np.flatnonzero(word_ids == w)
        np.testing.assert_allclose(
            pooled.hidden[:, w], p.hidden[:, members].mean(axis=1), rtol=1e-5, atol=1e-6
        )
        assert pooled.labels[w] == p.labels[members[0]]  # a word takes its first piece's label
    for e_word, e_token in zip(pooled.entities, p.entities, strict=True):
        assert e_word.text == e_token.text
        assert (e_word.first_token, e_word.end_token) == (
            word_ids[e_token.first_token],
            word_ids[e_token.end_token - 1] + 1,
        )
    assert (pooled.token_entity >= 0).sum() == sum(e.end_token - e.first_token for e in pooled.entities)
