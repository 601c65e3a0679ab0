"""The points a recording holds when a corpus has more tokens than a viewer can draw.

Rerun's viewer draws every point of a view each frame; past about 2 million (its issue 1136)
it slows to a crawl, and a corpus of millions of tokens draws that in each of its clouds.
Above ``POINT_CAP`` tokens the recording holds every token that matters to an NER engineer (in
a predicted or a gold entity, an error, a suspect) and a sample of the others drawn with
``SEED``, up to the cap; each cloud's name says so, and the ``--table`` holds every token.
The texts stay whole: a token left out is plain text in the tokenized text, not a link.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..analysis.evaluation import CORRECT, NO_ENTITY
from ..analysis.result import Analysis

# Half the 2 million points at which the viewer slows, leaving room for the entity-mention cloud
# drawn beside the tokens; a 2 M-token run's recording at this cap opens and draws in the web
# viewer (docs/design/corpus-scale.md).
POINT_CAP = 1_000_000
SEED = 0


def kept_tokens(a: Analysis, cap: int = POINT_CAP, seed: int = SEED) -> np.ndarray | None:
    """The tokens the recording shows, sorted, or None for all of them (``cap`` or fewer)."""
    n = len(a.tokens)
    if n <= cap:
        return None
    must = a.class_ids > 0
    if a.gold is not None:
        must |= a.gold.gold_class_ids > 0
        must |= ~np.isin(a.gold.error_kinds, (NO_ENTITY, CORRECT))
    for s in a.suspects:
        lo, hi = np.searchsorted(a.word_ids, [s.first_word, s.end_word])
        must[lo:hi] = True
    others = np.flatnonzero(~must)
    room = max(0, cap - int(must.sum()))
    drawn = np.random.default_rng(seed).choice(others, min(room, others.size), replace=False)
    return np.sort(np.concatenate([np.flatnonzero(must), drawn]))


def sample_note(a: Analysis, cap: int = POINT_CAP) -> str:
    """What a cloud's name adds when it holds a sample: "" when it holds every token."""
    kept = kept_tokens(a, cap)
    if kept is None:
        return ""
    return (
        f" ({kept.size:,} of {len(a.tokens):,} tokens: all entities, errors and suspects, the rest sampled)"
    )


def sampled(a: Analysis, kept: np.ndarray) -> Analysis:
    """``a`` with only the ``kept`` tokens (sorted indices): token arrays cut, and the token
    indices of entities and documents counted among the kept ones. Entity tokens are always
    kept; nearest tokens still name tokens of the whole (``log_layers``' ``names``)."""
    position = np.searchsorted(kept, np.arange(len(a.tokens) + 1))  # kept tokens before each
    pick = kept.tolist()
    entities = [
        replace(e, first_token=int(position[e.first_token]), end_token=int(position[e.end_token]))
        for e in a.entities
    ]
    documents = [
        replace(d, first_token=int(position[d.first_token]), end_token=int(position[d.end_token]))
        for d in a.documents
    ]
    layers = [
        replace(v, hidden=v.hidden[:0], coordinates=v.coordinates[kept], nearest=v.nearest[kept])
        for v in a.layers
    ]
    gold = a.gold
    if gold is not None:
        gold = replace(gold, gold_class_ids=gold.gold_class_ids[kept], error_kinds=gold.error_kinds[kept])
    return replace(
        a,
        tokens=[a.tokens[i] for i in pick],
        pieces=[a.pieces[i] for i in pick],
        link_texts=[a.link_texts[i] for i in pick],
        space_only=a.space_only[kept],
        offsets=a.offsets[kept],
        word_ids=a.word_ids[kept],
        labels=[a.labels[i] for i in pick],
        scores=a.scores[kept],
        entities=entities,
        token_entity=a.token_entity[kept],
        class_ids=a.class_ids[kept],
        layers=layers,
        documents=documents,
        token_document=None if a.token_document is None else a.token_document[kept],
        token_sentence=None if a.token_sentence is None else a.token_sentence[kept],
        gold=gold,
    )
