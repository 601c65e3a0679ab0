"""Predictions against gold labels: word-level tags, seqeval's metrics, per-token gold classes
and error kinds, and the evidence the suspect ranking reads (see suspects.py).

Word ids run on across documents, as the token stream's do; so do sentence indices here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..inputs.documents import Document
from ..inputs.tag_schemes import tags_from_chunks
from ..model.hidden_store import range_means
from ..model.windows import DocumentTokens, run_starts
from .dynamics import TrainingDynamics, aligned
from .entities import Entity
from .evaluation import Evaluation, chunks, evaluate
from .suspects import (
    OUTSIDE,
    WEAK_F1,
    WEIGHTS,
    Suspect,
    Words,
    find_suspects,
    supported_count,
    unpredictable_classes,
    word_probabilities,
)


@dataclass(frozen=True)
class GoldComparison:
    """Predictions against gold labels (CoNLL input), word by word and token by token."""

    gold_tags: list[str]  # (n_words,) IOB2
    predicted_tags: list[str]  # (n_words,) IOB2, the predicted entities spelled out
    word_sentence: np.ndarray  # (n_words,) sentence index, running on across documents
    evaluation: Evaluation
    gold_class_ids: np.ndarray  # (n_tokens,) class of the token's gold entity, 0 if none
    error_kinds: np.ndarray  # (n_tokens,) the token's word's error kind (see evaluation.py)
    # (n_words, 1 + n_types): the probability of O and of each type (the analysis' types) the
    # model gave the word's first token; NaN rows for words without tokens; None without a head.
    word_probabilities: np.ndarray | None = None


def compare_with_gold(
    docs: list[Document],
    word_ids: np.ndarray,
    n_words: int,
    entities: list[Entity],
    types: list[str],
    probabilities: np.ndarray | None = None,
    labels: list[str] | None = None,
    rename: dict[str, str] | None = None,
) -> GoldComparison:
    """Word-level gold and predicted tags, seqeval's metrics, and per-token gold classes and
    error kinds. ``word_ids``: each token's word, of the ``n_words`` of ``docs``. A gold word
    that yields no token is predicted O. ``probabilities`` (per token, over the model's
    ``labels``, types renamed by ``rename``) give ``word_probabilities``."""
    predicted_chunks = [
        (e.type, int(word_ids[e.first_token]), int(word_ids[e.end_token - 1]) + 1) for e in entities
    ]
    predicted_tags = tags_from_chunks(n_words, predicted_chunks)
    gold_tags = [tag for d in docs for tag in d.gold_tags or []]
    word_sentence = global_sentences(docs)
    evaluation = evaluate(gold_tags, predicted_tags, word_sentence)
    gold_class = np.zeros(n_words, dtype=np.uint16)
    for t, start, end in chunks(gold_tags, word_sentence):
        gold_class[start:end] = types.index(t) + 1
    per_word = None
    if probabilities is not None and labels is not None:
        per_word = np.full((n_words, 1 + len(types)), np.nan, dtype=np.float32)
        first = run_starts(word_ids)
        per_word[word_ids[first]] = word_probabilities(
            probabilities[first], labels, rename or {}, [OUTSIDE, *types]
        )
    return GoldComparison(
        gold_tags,
        predicted_tags,
        word_sentence,
        evaluation,
        gold_class[word_ids],
        evaluation.word_kinds[word_ids],
        per_word,
    )


def global_sentences(docs: list[Document]) -> np.ndarray:
    """(n_words,) each gold word's sentence index, running on from one document to the next."""
    sizes = [
        int(d.word_sentence.max()) + 1 if d.word_sentence is not None and d.word_sentence.size else 0
        for d in docs
    ]
    offsets = np.cumsum([0, *sizes])
    parts = [
        d.word_sentence + offset
        for d, offset in zip(docs, offsets.tolist(), strict=False)
        if d.word_sentence is not None
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def token_sentences(docs: list[Document], stream: DocumentTokens) -> np.ndarray:
    """Each token's sentence index within its own document."""
    per_word = np.concatenate([d.word_sentence for d in docs if d.word_sentence is not None])
    return per_word[stream.tokens.word_ids]


def rank_suspects(
    docs: list[Document],
    word_ids: np.ndarray,
    word_starts: np.ndarray,
    gold: GoldComparison,
    types: list[str],
    nearest: np.ndarray,
    weights: tuple[float, float, float] = WEIGHTS,
    hidden: np.ndarray | None = None,
    dynamics: TrainingDynamics | None = None,
) -> list[Suspect]:
    """The suspect gold labels of ``docs`` (see suspects.py), most suspect first, located in
    their documents and sentences. ``word_ids``: each token's word; ``word_starts``: each
    document's first word id, then the total; ``nearest``: each token's nearest tokens in
    hidden space; ``hidden``: the tokens' hidden states (the documents' contexts);
    ``dynamics``: the earlier checkpoints of the run the model is the end of."""
    if gold.word_probabilities is None:
        return []
    if dynamics is not None and not dynamics.probabilities:
        dynamics = None  # no checkpoint could be read: the final model alone
    first = run_starts(word_ids)
    n_words = len(gold.gold_tags)
    # Each word's votes: the gold classes of its first token's nearest tokens, except those of
    # its own sentence (the same annotator's decision, often the same entity).
    votes = np.full((n_words, nearest.shape[1]), -1, dtype=np.int64)
    neighbours = nearest[first]
    other = gold.word_sentence[word_ids[neighbours]] != gold.word_sentence[word_ids[first]][:, None]
    votes[word_ids[first]] = np.where(other, gold.gold_class_ids[neighbours].astype(np.int64), -1)
    texts = word_texts(docs)
    words = Words(
        texts,
        gold.gold_tags,
        gold.predicted_tags,
        gold.word_sentence,
        [OUTSIDE, *types],
        gold.word_probabilities,
        votes,
        *((None, None) if hidden is None else document_contexts(hidden, word_ids, word_starts)),
        checkpoints=None if dynamics is None else aligned(dynamics, [OUTSIDE, *types]),
        checkpoint_names=() if dynamics is None else (*dynamics.names, dynamics.final),
    )
    unknown = unpredictable_classes(words)
    if unknown:
        warnings.warn(
            f"the model cannot predict the gold type{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
            "gold entities of it are not checked for suspects (--label-map MODEL=GOLD names the model's own)",
            stacklevel=2,
        )
    found = find_suspects(words, weights)
    f1 = gold.evaluation.micro.f1
    if f1 < WEAK_F1 and found:
        n_gold = gold.evaluation.micro.support  # the gold entities, counted once already
        kept = supported_count(f1, n_gold)
        warnings.warn(
            f"the model's micro F1 on this input is {f1:.2f} (below {WEAK_F1}): most of its doubts are "
            f"its own mistakes, so its suspects mean little; kept the first {kept:,} of {len(found):,} "
            f"(F1 x (1 - F1) x {n_gold:,} gold entities)",
            stacklevel=2,
        )
        found = found[:kept]
    sentence_bounds = np.r_[run_starts(gold.word_sentence), len(texts)]
    return [locate(s, texts, docs, word_starts, sentence_bounds) for s in found]


def document_contexts(
    hidden: np.ndarray, word_ids: np.ndarray, word_starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Each document's context, (n_docs, d): the mean hidden state of its tokens, less the mean
    over documents (what they all share says nothing about their kind), as a unit vector; and
    (n_words,) each word's document. None for one document: every occurrence shares its context."""
    n_docs = len(word_starts) - 1
    if n_docs < 2 or hidden.shape[0] == 0:
        return None, None
    token_document = np.searchsorted(word_starts, word_ids, side="right") - 1
    counts = np.bincount(token_document, minlength=n_docs)
    read = counts > 0
    # A document's tokens are contiguous: one mean per run, read block by block (hidden may be
    # on disk, see model/hidden_store.py).
    ends = np.cumsum(counts)[read]
    means = range_means(hidden, ends - counts[read], ends).astype(np.float64)
    vectors = np.zeros((n_docs, hidden.shape[1]), dtype=np.float64)
    vectors[read] = means - means.mean(axis=0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    word_document = np.searchsorted(word_starts, np.arange(int(word_starts[-1])), side="right") - 1
    return vectors.astype(np.float32), word_document


def word_texts(docs: list[Document]) -> list[str]:
    return [d.text[a:b] for d in docs if d.words is not None for a, b in np.asarray(d.words).tolist()]


def locate(
    s: Suspect, texts: list[str], docs: list[Document], word_starts: np.ndarray, sentence_bounds: np.ndarray
) -> Suspect:
    """``s`` with its document, its sentence in that document, its words within that sentence,
    its text and the sentence's; word ids in its evidence become positions in the sentence.
    ``sentence_bounds``: each sentence's first word id, then the total."""
    document = int(np.searchsorted(word_starts, s.first_word, side="right") - 1)
    at = int(np.searchsorted(sentence_bounds, s.first_word, side="right") - 1)
    start, end = int(sentence_bounds[at]), int(sentence_bounds[at + 1])
    in_doc = docs[document].word_sentence
    sentence = int(in_doc[s.first_word - int(word_starts[document])]) if in_doc is not None else 0
    origins = docs[document].sentence_origins
    origin = origins[sentence] if origins is not None else {}
    evidence = dict(s.evidence)
    for key in ("gold_entities", "model_entities"):
        if key in evidence:
            evidence[key] = [[t, a - start, b - start] for t, a, b in evidence[key]]  # type: ignore[attr-defined]
    return replace(
        s,
        document=document,
        sentence=sentence,
        words=(s.first_word - start, s.end_word - start),
        sentence_words=tuple(texts[start:end]),
        evidence=evidence,
        origin=origin,
    )
