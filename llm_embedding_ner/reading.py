"""``predict``: a corpus read by the model, segment by segment, before anything corpus-wide.

documents -> tokenize into windows -> per segment of documents (windows.SEGMENT_CHARACTERS): the
forward pass, its hidden states sent to disk for a corpus (model/hidden_store.py), then the
segment's entities and, for a ``--table``, its rows (``on_segment``) -> the gold comparison of
the whole. Each segment's work is a function of its documents, so a long run hands on what it
has read as it goes, and the same steps can run elsewhere on other segments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .analysis.entities import (
    Entity,
    check_label_map,
    decode_documents,
    entity_types,
    renamed_types,
    token_classes,
    token_entity_index,
)
from .analysis.gold import compare_with_gold
from .analysis.result import DocumentView, Prediction, TokenRows
from .inputs.documents import Corpus, Document
from .memory import release_freed_memory
from .model.hidden_store import HiddenStore
from .model.layer_selection import LayerSpec, resolve_layers, warn_if_heavy
from .model.model_loading import LoadedModel
from .model.token_display import ShownTokens, show_tokens
from .model.windows import DocumentTokens
from .progress import Stopwatch, throttled

DOCUMENT_SEPARATOR = "\n\n"


def predict(
    corpus: Corpus,
    loaded: LoadedModel,
    *,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
    label_map: dict[str, str] | None = None,
    watch: Stopwatch | None = None,
    on_segment: Callable[[TokenRows], None] | None = None,
    types: list[str] | None = None,
    first_document: int = 0,
) -> Prediction:
    """Tokenize, run the model once and decode: everything ``analyze`` does before projecting.
    ``watch`` times the stages (a new one if not given). A corpus's hidden states go to disk
    (``Prediction.hidden`` maps them); a text's stay in memory. ``on_segment`` receives each
    segment's ``TokenRows`` as soon as it is read. For a shard of a larger corpus (shards.py):
    ``types`` are the whole corpus's (``analysis_types``), and its documents are numbered in
    messages from ``first_document``."""
    from .model.forward import DEFAULT_BATCH_SIZE, read_batches
    from .model.windows import tokenize_documents

    docs = corpus.documents
    watch = watch or Stopwatch()
    layer_numbers = resolve_layers(layers, loaded.n_layers)
    shard = types is not None  # a part of a corpus: it may hold no token (shards.py)
    rename, all_types = analysis_types(docs, loaded, label_map)
    types = all_types if types is None else types
    with watch.stage("tokenize") as note:
        stream = tokenize_documents(
            loaded.tokenizer,
            [d.text for d in docs],
            [d.words for d in docs],
            loaded.max_length,
            DOCUMENT_SEPARATOR,
            first_document,
            shard=shard,
        )
        tokens, n_windows = stream.tokens, stream.windows.input_ids.shape[0]
        documents = f"{len(docs):,} documents, " if corpus.split else ""
        note.append(
            f"{documents}{tokens.ids.size:,} tokens, {n_windows:,} window{'' if n_windows == 1 else 's'}"
        )
    n = tokens.ids.size
    width = loaded.model.config.hidden_size
    store = HiddenStore(len(layer_numbers), n, width) if corpus.split else None
    if store is None:
        warn_if_heavy(n, layer_numbers, width)
    hidden = None if store is not None else np.empty((len(layer_numbers), n, width), dtype=np.float32)
    probabilities = np.empty((n, loaded.model.config.num_labels if loaded.has_head else 0), np.float32)
    joined_text = DOCUMENT_SEPARATOR.join(d.text for d in docs)
    labels: list[str] = []
    scores = np.full(n, np.nan, np.float32)
    entities: list[Entity] = []
    shown_parts: list[ShownTokens] = []
    progress = throttled("forward: {done}/{total} windows")
    spent = {"forward": 0.0, "decode": 0.0}
    window_bounds = stream.windows.segment_bounds
    for segment, (a, b) in enumerate(stream.segments):
        started = time.perf_counter()
        window_range = (int(window_bounds[segment]), int(window_bounds[segment + 1]))
        for batch in read_batches(
            loaded.model,
            stream.windows,
            loaded.device,
            batch_size or DEFAULT_BATCH_SIZE,
            progress,
            layer_numbers,
            loaded.has_head,
            window_range,
        ):
            if store is not None:
                store.write(batch.tokens, batch.hidden)
            else:
                hidden[:, batch.tokens] = batch.hidden  # type: ignore[index]
            probabilities[batch.tokens] = batch.probabilities
        decoding = time.perf_counter()
        spent["forward"] += decoding - started
        t0, t1 = int(stream.token_starts[a]), int(stream.token_starts[b])
        shown_parts.append(
            show_tokens(
                joined_text,
                tokens.pieces[t0:t1],
                tokens.offsets[t0:t1],
                tokens.word_ids[t0:t1],
                tokens.readings.part(t0, t1),
            )
        )
        if loaded.has_head:
            predicted = probabilities[t0:t1].argmax(axis=1)
            labels += [loaded.labels[i] for i in predicted.tolist()]
            scores[t0:t1] = probabilities[t0:t1][np.arange(t1 - t0), predicted]
            found = decode_documents(joined_text, docs, stream, labels, scores, range(a, b))
        else:  # an encoder alone: no labels, no entities (see comparison.py)
            labels += [""] * (t1 - t0)
            found = []
        found = [replace(e, type=rename.get(e.type, e.type)) for e in found]
        entities += found
        if on_segment is not None:
            on_segment(token_rows(docs, stream, a, b, shown_parts[-1], labels, scores, found, types))
        spent["decode"] += time.perf_counter() - decoding
        release_freed_memory()  # the segment's activations and rows: else the pass creeps up
    segments = len(stream.segments)
    watch.add("forward", spent["forward"], [f"{segments:,} segment{'' if segments == 1 else 's'}"])
    decoding, note = time.perf_counter(), []
    shown = ShownTokens(
        [t for part in shown_parts for t in part.labels],
        [t for part in shown_parts for t in part.link_texts],
    )
    token_entity = token_entity_index(n, entities)
    class_ids = token_classes(entities, token_entity, types)
    gold = None
    if corpus.has_gold:
        with_head = probabilities if loaded.has_head else None
        word_ids, n_words = tokens.word_ids, int(stream.word_starts[-1])
        gold = compare_with_gold(docs, word_ids, n_words, entities, types, with_head, loaded.labels, rename)
    note.append(f"{len(entities):,} entities")
    if gold is not None:
        note.append(f"micro F1 {gold.evaluation.micro.f1:.3f} against {gold.evaluation.micro.support:,} gold")
    watch.add("decode", spent["decode"] + time.perf_counter() - decoding, note)
    return Prediction(
        joined_text,
        stream,
        store.hidden if store is not None else hidden,  # type: ignore[arg-type]
        layer_numbers,
        shown,
        labels,
        scores,
        entities,
        types,
        token_entity,
        class_ids,
        gold,
    )


def analysis_types(
    docs: list[Document], loaded: LoadedModel, label_map: dict[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """The model's types renamed by ``label_map`` (checked), then the gold types it lacks: class
    id i + 1 is the i-th. Returns the renaming too."""
    model_types = entity_types(loaded.labels)
    # A model without a head has no types to rename; the others of a comparison have.
    rename = check_label_map(label_map or {}, model_types) if loaded.has_head else {}
    gold_types = [t for d in docs if d.gold_tags for t in entity_types(d.gold_tags)]
    types = renamed_types(model_types, rename)
    return rename, types + [t for t in dict.fromkeys(gold_types) if t not in types]


def token_rows(
    docs: list[Document],
    stream: DocumentTokens,
    a: int,
    b: int,
    shown: ShownTokens,
    labels: list[str],
    scores: np.ndarray,
    entities: list[Entity],
    types: list[str],
) -> TokenRows:
    """The per-document columns of documents ``a:b`` (their ``entities`` found), compared with
    their gold labels on their own: an error kind needs only its sentence."""
    t0, t1 = int(stream.token_starts[a]), int(stream.token_starts[b])
    w0 = int(stream.word_starts[a])
    word_ids = stream.tokens.word_ids[t0:t1]
    token_document = np.repeat(np.arange(a, b), np.diff(stream.token_starts[a : b + 1]))
    part = docs[a:b]
    token_sentence = gold_tags = error_kinds = None
    if part and all(d.gold_tags is not None for d in part):
        local = [replace(e, first_token=e.first_token - t0, end_token=e.end_token - t0) for e in entities]
        gold = compare_with_gold(part, word_ids - w0, int(stream.word_starts[b]) - w0, local, types)
        per_word = np.concatenate([d.word_sentence for d in part if d.word_sentence is not None])
        token_sentence = per_word[word_ids - w0]
        gold_tags = [gold.gold_tags[w] for w in (word_ids - w0).tolist()]
        error_kinds = gold.error_kinds
    return TokenRows(
        first_token=t0,
        first_document=a,
        documents=[document_view(d, stream, i) for i, d in enumerate(part, start=a)],
        token_document=token_document,
        token_sentence=token_sentence,
        word_ids=word_ids,
        tokens=shown.labels,
        pieces=stream.tokens.pieces[t0:t1],
        labels=labels[t0:t1],
        scores=scores[t0:t1],
        gold_tags=gold_tags,
        error_kinds=error_kinds,
    )


def document_view(d: Document, stream: DocumentTokens, i: int) -> DocumentView:
    """Where document ``i`` (``d``) sits in the run's joined text, tokens and words."""
    return DocumentView(
        int(stream.char_starts[i]),
        int(stream.char_starts[i]) + len(d.text),
        int(stream.token_starts[i]),
        int(stream.token_starts[i + 1]),
        int(stream.word_starts[i]),
        int(stream.word_starts[i + 1]),
        d.metadata,
        d.sentence_origins,
    )
