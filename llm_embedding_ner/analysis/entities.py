"""Decode labels into entities: per-token predictions become word-level entity spans.

Pure functions over plain data, so they can be tested without a model. The rules follow
IOB2 (and accept the BIOES/BILOU prefixes): a word takes the label of its first subword;
``B-`` (or ``S-``/``U-``) starts an entity; ``I-`` (or ``E-``/``L-``) continues the open
entity of the same type and otherwise starts a new one; ``E-``/``L-``/``S-``/``U-`` close it.
A label without a prefix is its own type and consecutive words with it merge.
For IOB2 labels this gives the same spans as transformers' token-classification pipeline
with ``aggregation_strategy="first"``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UserError

if TYPE_CHECKING:
    from ..inputs.documents import Document
    from ..model.windows import DocumentTokens

OUTSIDE = "O"
# Why --label-map refuses TYPE=O: entities renamed to the outside tag would count as entities of
# a type named "O" in the metrics and the suspects' classes.
OUTSIDE_NAME_REASON = "O is the outside tag, not an entity type; map each type to an entity type"
_STARTS = {"B", "S", "U"}
_CONTINUES = {"I", "E", "L"}
_CLOSES = {"E", "L", "S", "U"}

# Readable names for the common CoNLL-2003 abbreviations; other label sets keep their own names.
_TYPE_NAMES = {"LOC": "Location", "PER": "Person", "ORG": "Organization", "MISC": "Miscellaneous"}


@dataclass(frozen=True)
class Entity:
    """One entity mention: a run of words with one type."""

    type: str  # the label's type, e.g. "PER"
    start: int  # character offsets into the original text, end exclusive
    end: int
    text: str  # text[start:end], exactly as written
    score: float  # mean probability of the words' labels
    first_token: int  # token indices (without special tokens), end exclusive
    end_token: int


def split_label(label: str) -> tuple[str | None, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"PERSON"`` -> ``(None, "PERSON")``; ``"O"`` -> ``(None, None)``."""
    if label == OUTSIDE:
        return None, None
    prefix, sep, rest = label.partition("-")
    if sep and rest and prefix in _STARTS | _CONTINUES:
        return prefix, rest
    return None, label


def entity_types(labels: Sequence[str]) -> list[str]:
    """The model's entity types, prefixes stripped, in order of first appearance.

    A CoNLL-2003 label set (types among LOC, PER, ORG, MISC) is put in that fixed order
    instead, so class ids are the same for every CoNLL model whatever its label order.
    """
    seen: list[str] = []
    for label in labels:
        _, entity_type = split_label(label)
        if entity_type is not None and entity_type not in seen:
            seen.append(entity_type)
    if _is_conll(seen):
        return [t for t in _TYPE_NAMES if t in seen]
    return seen


def display_names(types: Sequence[str]) -> list[str]:
    """Names to show for ``types``: CoNLL-2003's abbreviations spelled out (LOC -> Location);
    any other label set keeps its own names, so OntoNotes' ORG stays ORG beside GPE."""
    if _is_conll(types):
        return [_TYPE_NAMES[t] for t in types]
    return list(types)


def _is_conll(types: Sequence[str]) -> bool:
    return set(types) <= _TYPE_NAMES.keys()


def word_starts(word_ids: np.ndarray) -> np.ndarray:
    """Indices of the tokens that begin a word (a change of word id)."""
    word_ids = np.asarray(word_ids)
    if word_ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.ones(word_ids.size, dtype=bool)
    change[1:] = word_ids[1:] != word_ids[:-1]
    return np.flatnonzero(change)


def decode_entities(
    text: str,
    offsets: np.ndarray,
    word_ids: np.ndarray,
    token_labels: Sequence[str],
    token_scores: np.ndarray,
) -> list[Entity]:
    """Group per-token predictions into word-level entities.

    ``offsets`` is (n_tokens, 2) character spans, ``word_ids`` the word each token belongs to,
    ``token_labels``/``token_scores`` each token's predicted label and its probability.
    A word of only whitespace (byte-level BPE's line-break piece ``Ċ``) is passed over: it
    neither starts, continues nor ends an entity, and no entity begins or ends with whitespace.
    A word with no token at all (a gap in ``word_ids``: a gold word of characters the tokenizer
    drops) is ``O``: it ends the entity before it.
    """
    n_tokens = len(token_labels)
    if n_tokens == 0:
        return []
    starts = word_starts(word_ids)
    word_ends = np.append(starts[1:], n_tokens)
    # A word's characters are those of its tokens that stand for visible characters: a lone "▁"
    # or "Ġ" piece at its start adds only the space before it.
    visible = np.asarray([not text[a:b].isspace() and b > a for a, b in offsets.tolist()], dtype=bool)
    word_visible = np.logical_or.reduceat(visible, starts)
    first_char = np.minimum.reduceat(np.where(visible, offsets[:, 0], len(text)), starts)
    last_char = np.maximum.reduceat(np.where(visible, offsets[:, 1], 0), starts)

    entities: list[Entity] = []
    # The open entity, as (type, first word index, word scores); None when outside.
    open_type: str | None = None
    open_words: list[int] = []
    open_scores: list[float] = []

    def close() -> None:
        nonlocal open_type, open_words, open_scores
        if open_type is not None:
            first, last = open_words[0], open_words[-1]
            start, end = int(first_char[first]), int(last_char[last])
            span = text[start:end]  # tokens' offsets come without surrounding whitespace; make sure
            start, end = start + len(span) - len(span.lstrip()), end - len(span) + len(span.rstrip())
            entities.append(
                Entity(
                    type=open_type,
                    start=start,
                    end=end,
                    text=text[start:end],
                    score=float(np.mean(open_scores)),
                    first_token=int(starts[first]),
                    end_token=int(word_ends[last]),
                )
            )
        open_type, open_words, open_scores = None, [], []

    word_of = np.asarray(word_ids)[starts].tolist()
    for word, token in enumerate(starts.tolist()):
        if word and word_of[word] != word_of[word - 1] + 1:
            close()  # words between them have no token (a lone zero-width space): they are O
        if not word_visible[word]:  # only whitespace (a lone "Ċ" line break): neither in nor out
            continue
        prefix, entity_type = split_label(token_labels[token])
        continues = (
            entity_type is not None and entity_type == open_type and (prefix is None or prefix in _CONTINUES)
        )
        if not continues:
            close()
            open_type = entity_type
        if open_type is not None:
            open_words.append(word)
            open_scores.append(float(token_scores[token]))
        if prefix in _CLOSES:
            close()
    close()
    return entities


def token_entity_index(n_tokens: int, entities: Sequence[Entity]) -> np.ndarray:
    """For each token, the index of the entity it belongs to, or -1."""
    index = np.full(n_tokens, -1, dtype=np.int64)
    for i, entity in enumerate(entities):
        index[entity.first_token : entity.end_token] = i
    return index


def decode_documents(
    text: str,
    docs: list[Document],
    stream: DocumentTokens,
    labels: list[str],
    scores: np.ndarray,
    documents: range | None = None,
) -> list[Entity]:
    """Entities of each document (of those in ``documents``, all by default), and of each
    sentence where the input has sentences (CoNLL): an entity never runs from one into the next."""
    entities: list[Entity] = []
    for i in documents if documents is not None else range(len(docs)):
        doc = docs[i]
        first, end = int(stream.token_starts[i]), int(stream.token_starts[i + 1])
        word_ids = stream.tokens.word_ids[first:end]
        if doc.word_sentence is None:
            cuts = [first, end]
        else:
            sentence = doc.word_sentence[word_ids - stream.word_starts[i]]
            cuts = [first, *(first + np.flatnonzero(np.diff(sentence)) + 1).tolist(), end]
        for a, b in itertools.pairwise(cuts):
            found = decode_entities(
                text, stream.tokens.offsets[a:b], stream.tokens.word_ids[a:b], labels[a:b], scores[a:b]
            )
            entities += [replace(e, first_token=e.first_token + a, end_token=e.end_token + a) for e in found]
    return entities


def token_classes(entities: list[Entity], token_entity: np.ndarray, types: list[str]) -> np.ndarray:
    """(n,) each token's class: 1 + its entity's index in ``types``, 0 outside entities."""
    entity_class = np.asarray([types.index(e.type) + 1 for e in entities] + [0], dtype=np.uint16)
    return entity_class[token_entity]  # index -1 picks the trailing 0


def renamed_types(model_types: Sequence[str], rename: dict[str, str]) -> list[str]:
    """The model's entity types as ``--label-map`` renames them, in order; two may map to one."""
    return list(dict.fromkeys(rename.get(t, t) for t in model_types))


def check_label_map(label_map: dict[str, str], model_types: list[str]) -> dict[str, str]:
    """``label_map`` if it renames types the model has to names that can be entity types."""
    outside = [f"{name}={gold}" for name, gold in label_map.items() if gold == OUTSIDE]
    if outside:
        raise UserError(f"--label-map {', '.join(outside)}: {OUTSIDE_NAME_REASON}")
    unknown = [name for name in label_map if name not in model_types]
    if unknown:
        raise UserError(
            f"--label-map names {', '.join(unknown)}, but the model's entity types are "
            f"{', '.join(model_types)}"
        )
    return label_map
