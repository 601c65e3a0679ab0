"""``analyze``: the whole flow from text to an ``Analysis``, ready to log or inspect.

read input -> tokenize into windows -> one forward pass -> decode entities -> project to 3D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .entities import Entity, decode_entities, entity_types, token_entity_index
from .model_loading import DEFAULT_MODEL, LoadedModel, load_model
from .progress import Stopwatch, throttled
from .projection import ProjectionSettings, project_to_3d


@dataclass(frozen=True)
class Analysis:
    """Everything the viewer shows, as plain data. Token arrays exclude special tokens."""

    text: str
    model_name: str
    tokens: list[str]  # wordpieces
    offsets: np.ndarray  # (n, 2) character spans into ``text``
    word_ids: np.ndarray  # (n,)
    labels: list[str]  # (n,) each token's own predicted label
    scores: np.ndarray  # (n,) probability of that label
    entities: list[Entity]  # word-level, in text order
    entity_types: list[str]  # class id i + 1 is entity_types[i]; 0 is "no entity"
    token_entity: np.ndarray  # (n,) index into ``entities``, -1 if none
    class_ids: np.ndarray  # (n,) class of the token's entity, 0 if none
    hidden: np.ndarray  # (n, hidden_size) last-layer hidden states
    coordinates: np.ndarray  # (n, 3) projection of ``hidden``
    projection_method: str  # "umap", or "pca" for very short texts
    timings: dict[str, float]  # seconds per stage


def analyze(
    text: str,
    model: str | LoadedModel = DEFAULT_MODEL,
    *,
    device: str = "auto",
    projection: ProjectionSettings | None = None,
    batch_size: int | None = None,
) -> Analysis:
    """Run the NER model over ``text`` and project its token embeddings to 3D.

    ``model`` is a Hub id, a local directory, or a ``LoadedModel`` to reuse across calls.
    """
    from .forward import DEFAULT_BATCH_SIZE, run_model
    from .windows import make_windows, special_frame, tokenize

    watch = Stopwatch()
    if isinstance(model, LoadedModel):
        loaded = model
    else:
        with watch.stage("load model") as note:
            loaded = load_model(model, device)
            note.append(f"{loaded.name} on {loaded.device}")
    with watch.stage("tokenize") as note:
        tokens = tokenize(loaded.tokenizer, text)
        prefix, suffix = special_frame(loaded.tokenizer)
        windows = make_windows(tokens, prefix, suffix, loaded.max_length)
        n_windows = windows.input_ids.shape[0]
        note.append(f"{tokens.ids.size} tokens, {n_windows} window{'' if n_windows == 1 else 's'}")
    with watch.stage("forward"):
        progress = throttled("forward: {done}/{total} windows")
        output = run_model(loaded.model, windows, loaded.device, batch_size or DEFAULT_BATCH_SIZE, progress)
    with watch.stage("decode") as note:
        predicted = output.probabilities.argmax(axis=1)
        labels = [loaded.labels[i] for i in predicted]
        scores = output.probabilities[np.arange(predicted.size), predicted]
        entities = decode_entities(text, tokens.offsets, tokens.word_ids, labels, scores)
        types = entity_types(loaded.labels)
        token_entity = token_entity_index(len(tokens.tokens), entities)
        entity_class = np.asarray([types.index(e.type) + 1 for e in entities] + [0], dtype=np.uint16)
        note.append(f"{len(entities)} entities")
    with watch.stage("projection") as note:
        projected = project_to_3d(output.hidden, projection or ProjectionSettings())
        note.append(projected.method)

    return Analysis(
        text=text,
        model_name=loaded.name,
        tokens=tokens.tokens,
        offsets=tokens.offsets,
        word_ids=tokens.word_ids,
        labels=labels,
        scores=scores,
        entities=entities,
        entity_types=types,
        token_entity=token_entity,
        class_ids=entity_class[token_entity],  # index -1 picks the trailing 0
        hidden=output.hidden,
        coordinates=projected.coordinates,
        projection_method=projected.method,
        timings=watch.seconds,
    )
