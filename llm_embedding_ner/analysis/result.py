"""What a run hands on: ``Prediction`` (the model's reading, before any projection) and
``Analysis`` (everything the viewer shows), as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model.token_display import ShownTokens
from ..model.windows import DocumentTokens
from .entities import Entity
from .gold import GoldComparison
from .layers import LayerView
from .mentions import MentionCloud
from .reference_map import ReferenceMap
from .suspects import Suspect


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
    # Where each of its sentences is in the input (Document.sentence_origins), gold input only.
    sentence_origins: list[dict[str, object]] | None = None


@dataclass(frozen=True)
class TokenRows:
    """What the documents of one segment say of their tokens, known as soon as the segment has
    been read (see reading.py): the per-document columns of a ``--table``. Token, word and
    document indices are the run's."""

    first_token: int
    first_document: int
    documents: list[DocumentView]  # the segment's documents; their token ranges are the run's
    token_document: np.ndarray  # (m,) the run's document index of each token
    token_sentence: np.ndarray | None  # (m,) sentence within its document (gold input)
    word_ids: np.ndarray  # (m,)
    tokens: list[str]  # as shown (see Analysis.tokens)
    pieces: list[str]
    labels: list[str]
    scores: np.ndarray  # (m,) probability of the label
    gold_tags: list[str] | None  # (m,) each token's word's gold tag (gold input)
    error_kinds: np.ndarray | None  # (m,) each token's word's error kind (gold input)


@dataclass(frozen=True)
class Analysis:
    """Everything the viewer shows, as plain data. Token arrays exclude special tokens (in a
    comparison of models whose tokenizers differ, their rows are words: see word_points.py).

    Several documents are analysed as one: ``text`` is them joined by blank lines, and token,
    word and entity indices run on from one document to the next (see ``documents``)."""

    text: str
    model_name: str
    n_layers: int  # the model's transformer layers; hidden states run from 0 to n_layers
    tokens: list[str]  # each token as shown: " Merkel", "##kel", "␣" (see model/token_display.py)
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
    hidden: np.ndarray  # (n_selected_layers, n_tokens, hidden_size); a corpus's float16 on disk
    layer_numbers: tuple[int, ...]
    shown: ShownTokens
    labels: list[str]
    scores: np.ndarray
    entities: list[Entity]
    entity_types: list[str]
    token_entity: np.ndarray
    class_ids: np.ndarray
    gold: GoldComparison | None
