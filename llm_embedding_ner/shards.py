"""A corpus read in shards: consecutive documents, each shard read by ``predict`` wherever it
runs (another process, another machine: see ray_reading.py), and the shards' readings joined, in
order, into the one ``Prediction`` a single process makes of the whole corpus.

What a shard reads is a function of its documents alone (windows never cross a document), except
the analysis' entity types, which come from the whole corpus and are handed to each shard. Its
indices (tokens, words, characters, documents) are its own; ``join_shards`` runs them on from one
shard to the next, and recomputes the only corpus-wide part, the gold metrics.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from .analysis.entities import Entity, token_classes, token_entity_index
from .analysis.evaluation import evaluate
from .analysis.gold import GoldComparison, global_sentences
from .analysis.result import DocumentView, Prediction, TokenRows
from .errors import UserError
from .inputs.documents import Corpus, Document
from .model.hidden_store import HiddenParts
from .model.layer_selection import LayerSpec
from .model.model_loading import LoadedModel
from .model.token_display import ShownTokens
from .model.windows import (
    NO_TOKENS,
    SEGMENT_CHARACTERS,
    DocumentTokens,
    document_segments,
    join_tokens,
    no_windows,
)
from .reading import DOCUMENT_SEPARATOR, predict

# A shard is a segment of the single process's reading (windows.SEGMENT_CHARACTERS: some 30,000
# tokens of English, 20-40 s of a CPU core's time, a few of a GPU's): read by an actor, its windows
# are batched as one process batches them, so its hidden states are the same to the last bit. Its
# hidden states travel as one object (24 layers of 1,024 wide: 1.5 GB).
SHARD_CHARACTERS = SEGMENT_CHARACTERS


@dataclass(frozen=True)
class ShardReading:
    """What reading one shard gave: its prediction (hidden states as a plain float16 array, to
    travel), its table rows, and the warnings raised while reading it (to raise again where the
    shards are joined). Indices are the shard's own; its first document is ``first_document``."""

    first_document: int
    prediction: Prediction
    rows: list[TokenRows]
    warnings: list[tuple[str, type[Warning]]]


def shard_bounds(documents: list[Document], characters: int = SHARD_CHARACTERS) -> list[tuple[int, int]]:
    """(first, end) documents of each shard: consecutive documents, a shard closed once it holds
    ``characters`` characters (by default the single process's segments)."""
    bounds = document_segments(np.asarray([len(d.text) for d in documents]), characters).tolist()
    return list(itertools.pairwise(bounds))


def read_shard(
    documents: list[Document],
    first_document: int,
    loaded: LoadedModel,
    types: list[str],
    *,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
    label_map: dict[str, str] | None = None,
) -> ShardReading:
    """Documents ``first_document:`` of a corpus (``documents``, in order) read by ``loaded``,
    with the whole corpus's ``types`` (reading.analysis_types)."""
    rows: list[TokenRows] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = predict(
            Corpus(documents, "shard", True),
            loaded,
            batch_size=batch_size,
            layers=layers,
            label_map=label_map,
            on_segment=rows.append,
            types=types,
            first_document=first_document,
        )
    prediction = replace(p, hidden=np.array(p.hidden))  # out of the shard's own file
    return ShardReading(first_document, prediction, rows, [(str(w.message), w.category) for w in caught])


@dataclass(frozen=True)
class _Offsets:
    """Where a shard starts in the joined corpus."""

    document: int
    token: int
    word: int
    char: int


def join_shards(
    corpus: Corpus,
    readings: Iterable[ShardReading],
    on_segment: Callable[[TokenRows], None] | None = None,
) -> Prediction:
    """The ``Prediction`` of the whole ``corpus`` from its shards' ``readings``, in order; each
    shard's table rows go to ``on_segment`` as it arrives, and its warnings are raised here."""
    parts: list[Prediction] = []
    hidden: HiddenParts | None = None
    at = _Offsets(0, 0, 0, 0)
    for reading in readings:
        if reading.first_document != at.document:
            raise ValueError(f"shard of document {reading.first_document} came where {at.document} was due")
        for message, category in reading.warnings:
            warnings.warn(message, category, stacklevel=2)
        p = reading.prediction
        hidden = hidden or HiddenParts(p.hidden.shape[0], p.hidden.shape[2])
        hidden.append(p.hidden)
        if on_segment is not None:
            for rows in reading.rows:
                on_segment(_shift_rows(rows, at))
        parts.append(_shifted(replace(p, hidden=p.hidden[:, :0]), at))
        stream = p.stream
        at = _Offsets(
            at.document + stream.token_starts.size - 1,
            at.token + int(stream.token_starts[-1]),
            at.word + int(stream.word_starts[-1]),
            at.char + int(stream.char_starts[-1]),
        )
    if at.document != len(corpus.documents) or hidden is None:
        raise ValueError(f"the shards held {at.document} of the corpus's {len(corpus.documents)} documents")
    if at.token == 0:
        raise UserError(NO_TOKENS)  # what the single process says of such a corpus
    return _joined(corpus, parts, hidden.finish().hidden)


def _shifted(p: Prediction, at: _Offsets) -> Prediction:
    """``p`` with its documents' and entities' tokens, words and characters numbered from ``at``
    (its tokens' own offsets and word ids are moved on as they are joined: ``join_tokens``)."""
    s = p.stream
    stream = replace(
        s,
        token_starts=s.token_starts + at.token,
        char_starts=s.char_starts + at.char,
        word_starts=s.word_starts + at.word,
    )
    entities = [
        replace(
            e,
            start=e.start + at.char,
            end=e.end + at.char,
            first_token=e.first_token + at.token,
            end_token=e.end_token + at.token,
        )
        for e in p.entities
    ]
    return replace(p, stream=stream, entities=entities)


def _shift_rows(rows: TokenRows, at: _Offsets) -> TokenRows:
    return replace(
        rows,
        first_token=rows.first_token + at.token,
        first_document=rows.first_document + at.document,
        documents=[_shift_view(v, at) for v in rows.documents],
        token_document=rows.token_document + at.document,
        word_ids=rows.word_ids + at.word,
    )


def _shift_view(v: DocumentView, at: _Offsets) -> DocumentView:
    return replace(
        v,
        start=v.start + at.char,
        end=v.end + at.char,
        first_token=v.first_token + at.token,
        end_token=v.end_token + at.token,
        first_word=v.first_word + at.word,
        end_word=v.end_word + at.word,
    )


def _joined(corpus: Corpus, parts: list[Prediction], hidden: np.ndarray) -> Prediction:
    """One prediction of shifted ``parts``: lists and arrays laid end to end."""
    streams = [p.stream for p in parts]
    firsts = [(int(s.char_starts[0]), int(s.word_starts[0])) for s in streams]  # shifted by _shifted
    chars, words = (np.asarray(column) for column in zip(*firsts, strict=True))
    tokens = join_tokens([s.tokens for s in streams], chars, words)
    document_counts = [s.token_starts.size - 1 for s in streams]
    stream = DocumentTokens(
        tokens,
        no_windows(),  # read where the shards were
        _run_on([s.token_starts for s in streams]),
        _run_on([s.char_starts for s in streams]),
        _run_on([s.word_starts for s in streams]),
        np.cumsum([0, *document_counts]),  # a segment per shard
    )
    entities: list[Entity] = [e for p in parts for e in p.entities]
    types = parts[0].entity_types
    token_entity = token_entity_index(tokens.ids.size, entities)
    return Prediction(
        DOCUMENT_SEPARATOR.join(p.text for p in parts),
        stream,
        hidden,
        parts[0].layer_numbers,
        ShownTokens(
            [t for p in parts for t in p.shown.labels], [t for p in parts for t in p.shown.link_texts]
        ),
        [label for p in parts for label in p.labels],
        np.concatenate([p.scores for p in parts]),
        entities,
        types,
        token_entity,
        token_classes(entities, token_entity, types),
        _joined_gold(corpus.documents, [p.gold for p in parts], tokens.word_ids),
    )


def _run_on(starts: list[np.ndarray]) -> np.ndarray:
    """Shifted (k + 1,) start arrays of consecutive shards as one: each shard's total is the next
    shard's first start."""
    return np.concatenate([starts[0][:1], *[s[1:] for s in starts]])


def _joined_gold(
    docs: list[Document], golds: list[GoldComparison | None], word_ids: np.ndarray
) -> GoldComparison | None:
    """The gold comparison of the whole corpus: the shards' words laid end to end, and the metrics
    (which count over every sentence) computed again over all of them."""
    if any(g is None for g in golds):
        return None
    shards = [g for g in golds if g is not None]
    gold_tags = [t for g in shards for t in g.gold_tags]
    predicted_tags = [t for g in shards for t in g.predicted_tags]
    word_sentence = global_sentences(docs)
    evaluation = evaluate(gold_tags, predicted_tags, word_sentence)
    per_word = [g.word_probabilities for g in shards]
    return GoldComparison(
        gold_tags,
        predicted_tags,
        word_sentence,
        evaluation,
        np.concatenate([g.gold_class_ids for g in shards]),
        evaluation.word_kinds[word_ids],
        None if any(w is None for w in per_word) else np.concatenate(per_word),  # type: ignore[arg-type]
    )
