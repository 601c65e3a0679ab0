"""``analyze``: the whole flow from text to an ``Analysis``, ready to log or inspect.

documents -> tokenize into windows -> one forward pass -> decode entities (-> compare with
gold labels) -> per layer: nearest neighbours, project to 3D, score how well types separate.
``predict`` is the part before the projection, for callers that want only the model's output.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .documents import Corpus, Document
from .entities import Entity, decode_entities, entity_types, token_entity_index
from .errors import UserError
from .gold import GoldComparison, compare_with_gold, rank_suspects, token_sentences
from .layer_selection import LayerSpec, resolve_layers
from .mentions import MentionCloud, mention_cloud
from .model_loading import DEFAULT_MODEL, LoadedModel, load_model
from .progress import Stopwatch, throttled
from .projection import ProjectionSettings, Projector
from .reference_map import MapProjector, ReferenceMap, make_map, model_fingerprint, tokenizer_fingerprint
from .suspects import Suspect
from .token_display import ShownTokens, show_tokens
from .windows import DocumentTokens

DOCUMENT_SEPARATOR = "\n\n"
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
    nearest_reference: np.ndarray | None = None  # (n, k) placed in a map: the nearest map tokens


@dataclass(frozen=True)
class DocumentView:
    """Where one document sits in the analysis' joined text, tokens and words."""

    start: int  # characters of ``Analysis.text``, end exclusive
    end: int
    first_token: int
    end_token: int
    first_word: int
    end_word: int
    metadata: dict[str, object]


@dataclass(frozen=True)
class Analysis:
    """Everything the viewer shows, as plain data. Token arrays exclude special tokens (in a
    comparison of models whose tokenizers differ, their rows are words: see word_points.py).

    Several documents are analysed as one: ``text`` is them joined by blank lines, and token,
    word and entity indices run on from one document to the next (see ``documents``)."""

    text: str
    model_name: str
    n_layers: int  # the model's transformer layers; hidden states run from 0 to n_layers
    tokens: list[str]  # each token as shown: " Merkel", "##kel", "␣" (see token_display.py)
    pieces: list[str]  # the vocabulary's own pieces: "ĠMerkel", "##kel", "▁"
    link_texts: list[str]  # each token's part of its word in the tokenized text
    space_only: np.ndarray  # (n,) bool: the piece stands only for whitespace
    offsets: np.ndarray  # (n, 2) character spans into ``text``, whitespace around them excluded
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
    documents: list[DocumentView] = field(default_factory=list)
    is_corpus: bool = False  # input meant as several documents: shown one at a time
    token_document: np.ndarray | None = None  # (n,) document index of each token
    token_sentence: np.ndarray | None = None  # (n,) sentence within its document (CoNLL input)
    gold: GoldComparison | None = None  # CoNLL input only
    mentions: MentionCloud | None = None  # corpus input only
    suspects: list[Suspect] = field(default_factory=list)  # gold input only, most suspect first
    reference: ReferenceMap | None = None  # the map the tokens were placed in, if any

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


@dataclass(frozen=True)
class Prediction:
    """What the model read and predicted, before any projection: tokens, labels, entities and,
    with gold labels, the comparison."""

    text: str  # the documents joined by DOCUMENT_SEPARATOR
    stream: DocumentTokens
    hidden: np.ndarray  # (n_selected_layers, n_tokens, hidden_size)
    layer_numbers: tuple[int, ...]
    shown: ShownTokens
    labels: list[str]
    scores: np.ndarray
    entities: list[Entity]
    entity_types: list[str]
    token_entity: np.ndarray
    class_ids: np.ndarray
    gold: GoldComparison | None


def analyze(
    text: str | Corpus,
    model: str | LoadedModel = DEFAULT_MODEL,
    *,
    device: str = "auto",
    projection: ProjectionSettings | None = None,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
    label_map: dict[str, str] | None = None,
    project: Projector | None = None,
    reference_map: ReferenceMap | None = None,
) -> Analysis:
    """Run the NER model over ``text`` (or every document of a ``Corpus``) and project its
    token embeddings to 3D, or place them in ``reference_map`` (see reference_map.py; its
    layer is the one shown, and its model must be this one: ``check_compatible``).

    ``model`` is a Hub id, a local directory, or a ``LoadedModel`` to reuse across calls.
    ``layers`` is "last", "all", or a tuple of layer numbers (0 is the embedding output).
    ``label_map`` renames the model's entity types to the gold data's (``{"PER": "PERSON"}``).
    ``project`` stands in for ``projection.project_to_3d`` (the command line runs it in a
    process of its own, see projection_process).
    """
    corpus = text if isinstance(text, Corpus) else Corpus([Document(text)], "text", False)
    watch = Stopwatch()
    if isinstance(model, LoadedModel):
        loaded = model
    else:
        with watch.stage("load model") as note:
            loaded = load_model(model, device)
            note.append(f"{loaded.name} on {loaded.device}")
    if reference_map is not None:
        layers, project = (reference_map.layer,), MapProjector(reference_map)
    p = predict(corpus, loaded, batch_size=batch_size, layers=layers, label_map=label_map, watch=watch)
    with watch.stage("projection") as note:
        settings = projection or ProjectionSettings()
        views, method = view_layers(p.layer_numbers, p.hidden, p.class_ids, settings, project)
        note.append(method if len(views) == 1 else f"{method}, {len(views)} layers")
        # Mentions placed among a map's tokens would mean nothing: a map has no mention cloud.
        mentions = None
        if corpus.split and reference_map is None:
            mentions = mention_cloud(views[-1].hidden, p.entities, p.entity_types, settings, project)
    suspects = []
    if p.gold is not None and p.gold.word_probabilities is not None:
        with watch.stage("suspects") as note:
            stream, nearest = p.stream, views[-1].nearest
            args = (stream.tokens.word_ids, stream.word_starts, p.gold, p.entity_types, nearest)
            suspects = rank_suspects(corpus.documents, *args)
            note.append(f"{len(suspects):,} suspect gold labels")
    analysis = assemble(p, corpus, loaded.name, loaded.n_layers, views, method, watch.seconds, mentions)
    return replace(analysis, suspects=suspects, reference=reference_map)


def map_of(
    analysis: Analysis, loaded: LoadedModel, settings: ProjectionSettings | None = None, source: str = ""
) -> ReferenceMap:
    """A reference map of ``analysis``'s deepest layer, to save (``reference_map.save_map``) and
    place later runs in; ``loaded`` is the model it came from, ``settings`` its projection's."""
    view = analysis.layers[-1]
    gold = analysis.gold
    return make_map(
        view.hidden,
        view.coordinates,
        model=loaded.name,
        fingerprints=(model_fingerprint(loaded.model), tokenizer_fingerprint(loaded.tokenizer)),
        layer=view.layer,
        settings=settings or ProjectionSettings(),
        tokens=analysis.tokens,
        labels=analysis.labels,
        gold_tags=None if gold is None else [gold.gold_tags[w] for w in analysis.word_ids.tolist()],
        document=np.zeros(len(analysis.tokens))
        if analysis.token_document is None
        else analysis.token_document,
        class_ids=analysis.class_ids,
        entity_types=analysis.entity_types,
        source=source,
    )


def assemble(
    p: Prediction,
    corpus: Corpus,
    model_name: str,
    n_layers: int,
    views: list[LayerView],
    method: str,
    timings: dict[str, float],
    mentions: MentionCloud | None = None,
) -> Analysis:
    """The ``Analysis`` of a prediction and its projected layers."""
    docs, stream, tokens = corpus.documents, p.stream, p.stream.tokens
    token_document = np.repeat(np.arange(len(docs)), np.diff(stream.token_starts))
    return Analysis(
        text=p.text,
        model_name=model_name,
        n_layers=n_layers,
        tokens=p.shown.labels,
        pieces=tokens.pieces,
        link_texts=p.shown.link_texts,
        space_only=tokens.space_only,
        offsets=tokens.offsets,
        word_ids=tokens.word_ids,
        labels=p.labels,
        scores=p.scores,
        entities=p.entities,
        entity_types=p.entity_types,
        token_entity=p.token_entity,
        class_ids=p.class_ids,
        layers=views,
        projection_method=method,
        timings=timings,
        documents=[
            DocumentView(
                int(stream.char_starts[i]),
                int(stream.char_starts[i]) + len(d.text),
                int(stream.token_starts[i]),
                int(stream.token_starts[i + 1]),
                int(stream.word_starts[i]),
                int(stream.word_starts[i + 1]),
                d.metadata,
            )
            for i, d in enumerate(docs)
        ],
        is_corpus=corpus.split,
        token_document=token_document,
        token_sentence=token_sentences(docs, stream) if corpus.has_gold else None,
        gold=p.gold,
        mentions=mentions,
    )


def predict(
    corpus: Corpus,
    loaded: LoadedModel,
    *,
    batch_size: int | None = None,
    layers: LayerSpec = "last",
    label_map: dict[str, str] | None = None,
    watch: Stopwatch | None = None,
) -> Prediction:
    """Tokenize, run the model once and decode: everything ``analyze`` does before projecting.
    ``watch`` times the stages (a new one if not given)."""
    from .forward import DEFAULT_BATCH_SIZE, run_model
    from .windows import tokenize_documents

    docs = corpus.documents
    watch = watch or Stopwatch()
    layer_numbers = resolve_layers(layers, loaded.n_layers)
    model_types = entity_types(loaded.labels)
    # A model without a head has no types to rename; the others of a comparison have.
    rename = check_label_map(label_map or {}, model_types) if loaded.has_head else {}
    with watch.stage("tokenize") as note:
        stream = tokenize_documents(
            loaded.tokenizer,
            [d.text for d in docs],
            [d.words for d in docs],
            loaded.max_length,
            DOCUMENT_SEPARATOR,
        )
        tokens, n_windows = stream.tokens, stream.windows.input_ids.shape[0]
        documents = f"{len(docs):,} documents, " if corpus.split else ""
        note.append(
            f"{documents}{tokens.ids.size:,} tokens, {n_windows:,} window{'' if n_windows == 1 else 's'}"
        )
    warn_if_heavy(tokens.ids.size, layer_numbers, loaded.model.config.hidden_size)
    with watch.stage("forward"):
        progress = throttled("forward: {done}/{total} windows")
        output = run_model(
            loaded.model,
            stream.windows,
            loaded.device,
            batch_size or DEFAULT_BATCH_SIZE,
            progress,
            layer_numbers,
            with_labels=loaded.has_head,
        )
    joined_text = DOCUMENT_SEPARATOR.join(d.text for d in docs)
    with watch.stage("decode") as note:
        shown = show_tokens(
            joined_text, tokens.pieces, tokens.offsets, tokens.word_ids, tokens.space_only, stream.style
        )
        if loaded.has_head:
            predicted = output.probabilities.argmax(axis=1)
            labels = [loaded.labels[i] for i in predicted]
            scores = output.probabilities[np.arange(predicted.size), predicted]
            entities = decode_documents(joined_text, docs, stream, labels, scores)
        else:  # an encoder alone: no labels, no entities (see comparison.py)
            labels, entities = [""] * tokens.ids.size, []
            scores = np.full(tokens.ids.size, np.nan, np.float32)
        entities = [replace(e, type=rename.get(e.type, e.type)) for e in entities]
        gold_types = [t for d in docs if d.gold_tags for t in entity_types(d.gold_tags)]
        types = list(dict.fromkeys(rename.get(t, t) for t in model_types))  # two may map to one
        types += [t for t in dict.fromkeys(gold_types) if t not in types]
        token_entity = token_entity_index(tokens.ids.size, entities)
        class_ids = token_classes(entities, token_entity, types)
        gold = None
        if corpus.has_gold:
            probabilities = output.probabilities if loaded.has_head else None
            gold = compare_with_gold(docs, stream, entities, types, probabilities, loaded.labels, rename)
        note.append(f"{len(entities):,} entities")
        if gold is not None:
            note.append(
                f"micro F1 {gold.evaluation.micro.f1:.3f} against {gold.evaluation.micro.support:,} gold"
            )
    return Prediction(
        joined_text,
        stream,
        output.hidden,
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


def token_classes(entities: list[Entity], token_entity: np.ndarray, types: list[str]) -> np.ndarray:
    """(n,) each token's class: 1 + its entity's index in ``types``, 0 outside entities."""
    entity_class = np.asarray([types.index(e.type) + 1 for e in entities] + [0], dtype=np.uint16)
    return entity_class[token_entity]  # index -1 picks the trailing 0


def check_label_map(label_map: dict[str, str], model_types: list[str]) -> dict[str, str]:
    unknown = [name for name in label_map if name not in model_types]
    if unknown:
        raise UserError(
            f"--label-map names {', '.join(unknown)}, but the model's entity types are "
            f"{', '.join(model_types)}"
        )
    return label_map


def decode_documents(
    text: str, docs: list[Document], stream: DocumentTokens, labels: list[str], scores: np.ndarray
) -> list[Entity]:
    """Entities of each document, and of each sentence where the input has sentences (CoNLL):
    an entity never runs from one into the next."""
    entities: list[Entity] = []
    for i, doc in enumerate(docs):
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
    layer_numbers: tuple[int, ...],
    hidden: np.ndarray,
    class_ids: np.ndarray,
    settings: ProjectionSettings,
    project: Projector | None = None,
    follow: np.ndarray | None = None,
) -> tuple[list[LayerView], str]:
    """Neighbours, 3D layout and separation scores of each layer in ``hidden`` (one slice per
    entry of ``layer_numbers``). The deepest layer is projected on its own, exactly as when it is
    shown alone, or follows ``follow`` (another model's layout of the same points); each
    shallower layer follows the layout of the one after it, so points move smoothly along the
    layer axis."""
    from .neighbours import NEAREST_SHOWN, nearest_neighbours
    from .projection import project_to_3d
    from .separation import neighbour_agreement

    project = project or project_to_3d
    views: list[LayerView] = []
    method = "umap"
    progress = throttled("projection: {done}/{total} layers")
    for step, i in enumerate(reversed(range(len(layer_numbers))), start=1):
        k = max(settings.n_neighbors - 1, NEAREST_SHOWN)
        neighbours = nearest_neighbours(hidden[i], k, settings.metric, settings.seed)
        projected = project(hidden[i], settings, neighbours, follow)
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
                nearest_reference=projected.nearest_reference,
            )
        )
        method, follow = projected.method, projected.coordinates
        progress(step, len(layer_numbers))
    return views[::-1], method
