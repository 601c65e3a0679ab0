"""One point per word, so that models with different tokenizers can be compared point by point.

BERT reads "Lovelace" as ``Love ##lace`` and RoBERTa as ``ĠLov elace``: their tokens do not
correspond, their words do. But "words" differ too (BERT splits "don't" in three, RoBERTa in
two), so the words shared by all models are the smallest character spans that hold whole words
of every model: each model's word spans, merged wherever they overlap. A shared word's vector is
the mean of its tokens' vectors. Its label, score, class and entity all come from one token, the
one that decides it: the first token of the model's first word inside it, exactly the token whose
label decides that word when entities are decoded (a lone ``▁`` or ``Ġ`` before the word
included). Where a model split a shared word into several words and entities (BERT's ``don ' t``),
the word shows the first one's; the model's entity list keeps them all. Pure functions over plain
arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..model.token_display import ShownTokens
from ..model.vocabulary import PieceReadings
from ..model.windows import TokenizedText, run_starts
from .result import Prediction


def _visible(tokens: TokenizedText) -> np.ndarray:
    """Tokens that stand for characters of a word: not whitespace, not empty."""
    return ~tokens.space_only & (tokens.offsets[:, 1] > tokens.offsets[:, 0])


def word_spans(tokens: TokenizedText) -> np.ndarray:
    """(n_words, 2) each word's character span: from its first token's start to its last's end."""
    keep = _visible(tokens)
    ids, offsets = tokens.word_ids[keep], tokens.offsets[keep]
    if ids.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    first = run_starts(ids)
    return np.stack([np.minimum.reduceat(offsets[:, 0], first), np.maximum.reduceat(offsets[:, 1], first)], 1)


def shared_words(streams: Sequence[TokenizedText]) -> np.ndarray:
    """(n, 2) the words all ``streams`` share: their word spans merged where they overlap, and
    only those in which every stream has a token (a tokenizer may drop a character entirely)."""
    spans = np.concatenate([word_spans(s) for s in streams])
    if spans.shape[0] == 0:
        return spans
    spans = spans[np.lexsort((spans[:, 1], spans[:, 0]))]
    reach = np.maximum.accumulate(spans[:, 1])
    first = np.flatnonzero(np.r_[True, spans[1:, 0] >= reach[:-1]])
    merged = np.stack([spans[first, 0], np.maximum.reduceat(spans[:, 1], first)], 1)
    covered = np.ones(merged.shape[0], dtype=bool)
    for stream in streams:
        covered &= np.isin(np.arange(merged.shape[0]), _word_of_token(stream, merged))
    return merged[covered]


def _word_of_token(tokens: TokenizedText, words: np.ndarray) -> np.ndarray:
    """(n_tokens,) the index of the word in ``words`` that holds each token, -1 for none."""
    index = np.searchsorted(words[:, 0], tokens.offsets[:, 0], side="right") - 1
    inside = (index >= 0) & (tokens.offsets[:, 0] < words[np.maximum(index, 0), 1]) & _visible(tokens)
    return np.where(inside, index, -1)


def pool_words(p: Prediction, words: np.ndarray, gold_word_ids: bool) -> Prediction:
    """``p`` with one row per word of ``words`` (from ``shared_words``) instead of one per token.

    ``gold_word_ids``: the input's words are given (CoNLL, tokens with tags), and each shared
    word keeps its first token's word id, which indexes the gold tags; otherwise words are
    numbered from 0."""
    tokens, stream = p.stream.tokens, p.stream
    word = _word_of_token(tokens, words)
    kept = np.flatnonzero(word >= 0)
    starts = run_starts(word[kept])
    first = kept[starts]  # each word's first visible token
    decider = deciding_tokens(tokens.word_ids)[first]
    counts = np.diff(np.r_[starts, kept.size])
    hidden = np.add.reduceat(p.hidden[:, kept], starts, axis=1, dtype=np.float32) / counts[None, :, None]
    texts = [p.text[a:b] for a, b in words.tolist()]
    ends = np.r_[starts[1:], kept.size]
    pieces = [" ".join(tokens.pieces[i] for i in kept[a:b]) for a, b in zip(starts, ends, strict=True)]
    n = words.shape[0]
    word_ids = tokens.word_ids[first] if gold_word_ids else np.arange(n, dtype=np.int64)
    no = np.zeros(n, dtype=bool)  # a word is never whitespace alone, nor unknown
    readings = PieceReadings(texts, [""] * n, no, no)
    pooled = TokenizedText(tokens.ids[first], pieces, words.astype(np.int64), word_ids, readings)
    token_starts = np.asarray([*np.searchsorted(words[:, 0], stream.char_starts[:-1]).tolist(), n])
    word_starts = stream.word_starts if gold_word_ids else token_starts
    entities, new_index = [], np.full(len(p.entities) + 1, -1, dtype=np.int64)  # old -> new; -1 stays -1
    for i, e in enumerate(p.entities):
        inside = word[e.first_token : e.end_token]
        inside = inside[inside >= 0]
        if inside.size:  # an entity of characters no other model reads is dropped with them
            new_index[i] = len(entities)
            entities.append(replace(e, first_token=int(inside[0]), end_token=int(inside[-1]) + 1))
    gold = p.gold
    if gold is not None:
        gold = replace(
            gold, gold_class_ids=gold.gold_class_ids[decider], error_kinds=gold.error_kinds[decider]
        )
    return replace(
        p,
        stream=replace(stream, tokens=pooled, token_starts=token_starts, word_starts=word_starts),
        hidden=hidden.astype(np.float32),
        shown=ShownTokens(texts, texts),
        labels=[p.labels[i] for i in decider.tolist()],
        scores=p.scores[decider],
        entities=entities,
        token_entity=new_index[p.token_entity[decider]],
        class_ids=p.class_ids[decider],
        gold=gold,
    )


def deciding_tokens(word_ids: np.ndarray) -> np.ndarray:
    """(n,) for each token, the first token of its word: the one whose label decides the word."""
    firsts = np.zeros(word_ids.size, dtype=np.int64)
    starts = run_starts(word_ids)
    firsts[starts] = starts
    return np.maximum.accumulate(firsts)
