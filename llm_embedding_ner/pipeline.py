"""``analyze``: the whole flow from text to an ``Analysis``, ready to log or inspect.

read input -> tokenize into windows -> one forward pass -> decode entities -> per layer:
nearest neighbours, project to 3D, score how well entity types separate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .entities import Entity, decode_entities, entity_types, token_entity_index
from .layer_selection import LayerSpec, resolve_layers
from .model_loading import DEFAULT_MODEL, LoadedModel, load_model
from .progress import Stopwatch, throttled
from .projection import ProjectionSettings

HEAVY_LAYERS_GIB = 1.0  # hidden states of the selected layers above this: warn before the work


@dataclass(frozen=True)
class LayerView:
    """One hidden layer as the viewer shows it."""

    layer: int  # 0 is the embedding output
    hidden: np.ndarray  # (n, hidden_size) the tokens' hidden states at this layer
    coordinates: np.ndarray  # (n, 3) their projection
    nearest: np.ndarray  # (n, k) indices of each token's nearest tokens in ``hidden``, nearest first
    separation: float  # neighbour agreement of entity classes in ``hidden`` (0..1, NaN if undefined)
    separation_3d: float  # the same, in ``coordinates``


@dataclass(frozen=True)
class Analysis:
    """Everything the viewer shows, as plain data. Token arrays exclude special tokens."""

    text: str
    model_name: str
    n_layers: int  # the model's transformer layers; hidden states run from 0 to n_layers
    tokens: list[str]  # wordpieces
    offsets: np.ndarray  # (n, 2) character spans into ``text``
    word_ids: np.ndarray  # (n,)
    labels: list[str]  # (n,) each token's own predicted label
    scores: np.ndarray  # (n,) probability of that label
    entities: list[Entity]  # word-level, in text order
    entity_types: list[str]  # class id i + 1 is entity_types[i]; 0 is "no entity"
    token_entity: np.ndarray  # (n,) index into ``entities``, -1 if none
    class_ids: np.ndarray  # (n,) class of the token's entity, 0 if none
    layers: list[LayerView]  # the selected layers, shallowest first
    projection_method: str  # "umap", or "pca" for very short texts
    timings: dict[str, float]  # seconds per stage

    @property
    def hidden(self) -> np.ndarray:
        """Hidden states of the deepest selected layer (the last layer by default)."""
        return self.layers[-1].hidden

    @property
    def coordinates(self) -> np.ndarray:
        return self.layers[-1].coordinates

    @property
    def last_layer_only(self) -> bool:
        """True when only the model's last layer was asked for: the picture has no layer axis."""
        return [view.layer for view in self.layers] == [self.n_layers]


def analyze(
    text: str,
    model: str | LoadedModel = DEFAULT_MODEL,
    *,
    device: str = "auto",
    projection: ProjectionSettings | None = None,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
) -> Analysis:
    """Run the NER model over ``text`` and project its token embeddings to 3D.

    ``model`` is a Hub id, a local directory, or a ``LoadedModel`` to reuse across calls.
    ``layers`` is "last", "all", or a tuple of layer numbers (0 is the embedding output).
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
    layer_numbers = resolve_layers(layers, loaded.n_layers)
    with watch.stage("tokenize") as note:
        tokens = tokenize(loaded.tokenizer, text)
        prefix, suffix = special_frame(loaded.tokenizer)
        windows = make_windows(tokens, prefix, suffix, loaded.max_length)
        n_windows = windows.input_ids.shape[0]
        note.append(f"{tokens.ids.size} tokens, {n_windows} window{'' if n_windows == 1 else 's'}")
    warn_if_heavy(tokens.ids.size, layer_numbers, loaded.model.config.hidden_size)
    with watch.stage("forward"):
        progress = throttled("forward: {done}/{total} windows")
        output = run_model(
            loaded.model, windows, loaded.device, batch_size or DEFAULT_BATCH_SIZE, progress, layer_numbers
        )
    with watch.stage("decode") as note:
        predicted = output.probabilities.argmax(axis=1)
        labels = [loaded.labels[i] for i in predicted]
        scores = output.probabilities[np.arange(predicted.size), predicted]
        entities = decode_entities(text, tokens.offsets, tokens.word_ids, labels, scores)
        types = entity_types(loaded.labels)
        token_entity = token_entity_index(len(tokens.tokens), entities)
        entity_class = np.asarray([types.index(e.type) + 1 for e in entities] + [0], dtype=np.uint16)
        class_ids = entity_class[token_entity]  # index -1 picks the trailing 0
        note.append(f"{len(entities)} entities")
    with watch.stage("projection") as note:
        settings = projection or ProjectionSettings()
        views, method = view_layers(layer_numbers, output.hidden, class_ids, settings)
        note.append(method if len(views) == 1 else f"{method}, {len(views)} layers")

    return Analysis(
        text=text,
        model_name=loaded.name,
        n_layers=loaded.n_layers,
        tokens=tokens.tokens,
        offsets=tokens.offsets,
        word_ids=tokens.word_ids,
        labels=labels,
        scores=scores,
        entities=entities,
        entity_types=types,
        token_entity=token_entity,
        class_ids=class_ids,
        layers=views,
        projection_method=method,
        timings=watch.seconds,
    )


def warn_if_heavy(n_tokens: int, layer_numbers: tuple[int, ...], hidden_size: int) -> None:
    """Several layers of a long text cost memory and one UMAP fit each: say so before the wait."""
    gib = n_tokens * len(layer_numbers) * hidden_size * 4 / 2**30
    if len(layer_numbers) > 1 and gib >= HEAVY_LAYERS_GIB:
        warnings.warn(
            f"{len(layer_numbers)} layers of {n_tokens:,} tokens hold {gib:.1f} GiB of hidden states and "
            "take one UMAP fit each; for long texts pick a few layers, such as --layers 0,6,12",
            stacklevel=3,
        )


def view_layers(
    layer_numbers: tuple[int, ...], hidden: np.ndarray, class_ids: np.ndarray, settings: ProjectionSettings
) -> tuple[list[LayerView], str]:
    """Neighbours, 3D layout and separation scores of each layer in ``hidden`` (one slice per
    entry of ``layer_numbers``). The deepest layer is projected on its own, exactly as when it is
    shown alone; each shallower layer follows the layout of the one after it, so points move
    smoothly along the layer axis."""
    from .neighbours import NEAREST_SHOWN, nearest_neighbours
    from .projection import project_to_3d
    from .separation import neighbour_agreement

    views: list[LayerView] = []
    method = "umap"
    follow = None
    progress = throttled("projection: {done}/{total} layers")
    for step, i in enumerate(reversed(range(len(layer_numbers))), start=1):
        k = max(settings.n_neighbors - 1, NEAREST_SHOWN)
        neighbours = nearest_neighbours(hidden[i], k, settings.metric, settings.seed)
        projected = project_to_3d(hidden[i], settings, neighbours, follow=follow)
        nearest = neighbours.indices[:, :NEAREST_SHOWN]
        nearest_3d = nearest_neighbours(projected.coordinates, NEAREST_SHOWN, "euclidean").indices
        views.append(
            LayerView(
                layer=layer_numbers[i],
                hidden=hidden[i],
                coordinates=projected.coordinates,
                nearest=nearest,
                separation=neighbour_agreement(nearest, class_ids),
                separation_3d=neighbour_agreement(nearest_3d, class_ids),
            )
        )
        method, follow = projected.method, projected.coordinates
        progress(step, len(layer_numbers))
    return views[::-1], method
