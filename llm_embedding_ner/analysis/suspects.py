"""Suspect gold labels: spans of words whose annotation is probably wrong, ranked by evidence.

A suspect is a span of words in one sentence: a gold entity of the wrong type, an entity the
annotators missed (gold ``O``), a spurious one, or one with the wrong boundaries. Candidates are
the gold entities, and the spans of gold ``O`` words that are a model's entity or, elsewhere in
the input, a gold entity. So a suspect's span and gold label are always what the annotation
says: a gold entity (wrong type, spurious, boundaries) or words it leaves outside (missed); a
model entity that only partly covers gold entities is evidence about those, both spans named.
Three kinds of evidence score each one, each in [0, 1]:

- **model**: cleanlab's label quality of each word's gold class (``cleanlab.token_classification``,
  on word-level classes: ``O`` and the entity types, B-/I- probabilities summed), averaged over
  the span's words: a model that gives the gold class little probability doubts the label. For a
  training run (``Words.checkpoints``), the lower of the final model's and that of the
  probabilities averaged over the run (training dynamics, see dynamics.py).
- **neighbours**: the gold classes of each word's nearest tokens in hidden space, tokens of the
  same sentence left out (they share its annotator's decision): the share that disagree with the
  word's own gold class.
- **consistency**: the same words elsewhere in the input, labelled otherwise: the share of other
  occurrences whose gold label differs from this one's, each occurrence weighed by how alike its
  context is (``Words.contexts``: its document's; a city is a team in league tables and a place in
  datelines, so those two kinds of documents do not argue with each other).

The score is their weighted sum (``WEIGHTS``: model and consistency; the neighbours' votes are
reported with every suspect but, measured, did not improve the ranking); the suggested label is
the class the same weights favour. A candidate is a suspect when the suggestion differs from the
gold annotation (another label, or the model's entity with other boundaries); suspects whose
words or model entities overlap in one sentence are one error and keep the highest-scoring one.
Gold types the model cannot predict are not judged (every entity of them would look wrong), and
a model below ``WEAK_F1`` backs only ``supported_count`` suspects (gold.py cuts the list). Pure
functions over plain arrays: no model, no viewer.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from ..inputs.tag_schemes import Chunk
from ..progress import throttled
from .consistency import OccurrenceVotes
from .entities import split_label
from .evaluation import chunks

OUTSIDE = "O"
# Weights of the model, neighbour and consistency evidence, in the score and in the suggestion;
# they sum to 1, so scores lie in [0, 1]. Chosen on the CoNLL-2003 validation split with 297
# planted errors (benchmarks/suspects.py --tune), never on the test split the documentation reports:
# model and consistency equally gave the best precision at 100, 200 and 500 (0.99, 0.925,
# 0.55). Neighbours are measured and reported for every suspect, but any weight for them
# (0.1 to 0.3, with 5 or 14 neighbours) left precision at 100 and 200 as it was and cut it at
# 500 to 0.50: a token's neighbours carry its context's type as much as its own, so they
# doubt correct labels as often as wrong ones.
WEIGHTS = (0.5, 0.0, 0.5)
MAX_ENTITY_WORDS = 8  # longer gold entities are not looked for elsewhere (rare, and slow to match)
MIN_SCORE = 0.05  # below this a suggestion is noise, not a suspect
# How fast another occurrence's say fades as its context differs: weight exp((cos - 1) / scale)
# for the cosine of the two contexts (gold.document_contexts: their documents). Chosen on
# CleanCoNLL's relabelling of the validation split (benchmarks/suspects.py --cleanconll), never the
# test split, with a model that did not see it: precision at 50/100/200/500 words 0.58/0.48/0.31/
# 0.20 (average precision 0.090) where every occurrence alike gave 0.56/0.47/0.30/0.20 (0.088);
# scales 0.25 to 2 are within 0.06 at 50 words and 0.01 beyond. A sentence, or the word's own
# hidden state, as its context did worse than none (precision at 100 words 0.19 to 0.45 against
# 0.46, with the span's worst word as its model evidence). Small, because most of the split's
# real errors are systematic (national teams tagged LOC everywhere): no context argues for them.
CONTEXT_SCALE = 0.5
# Below this micro F1 on the input the model's doubts are mostly its own mistakes: a warning
# says so and the list is cut (supported_count).
WEAK_F1 = 0.5


@dataclass(frozen=True)
class Words:
    """What the ranking reads, one row per word of the input (word ids as in the analysis)."""

    words: list[str]  # each word's text
    gold_tags: list[str]  # IOB2
    predicted_tags: list[str]  # IOB2, the model's entities spelled out
    sentence: np.ndarray  # (n_words,) sentence index, running on across documents
    classes: list[str]  # "O", then the entity types
    probabilities: np.ndarray  # (n_words, n_classes); NaN rows where the model read no token
    neighbour_classes: np.ndarray  # (n_words, k) gold class ids of nearest tokens, -1 for none
    # Each word's context (gold.document_contexts: its document): (n_contexts, d) unit vectors,
    # and (n_words,) the row of each word's. None: every other occurrence of a span's words
    # counts alike.
    contexts: np.ndarray | None = None
    word_context: np.ndarray | None = None
    # Training dynamics: (n_checkpoints, n_words, n_classes), the probabilities of the same
    # classes from earlier checkpoints of the run ``probabilities`` comes from, in step order.
    checkpoints: np.ndarray | None = None
    checkpoint_names: tuple[str, ...] = ()  # theirs, then the final model's


@dataclass(frozen=True)
class Suspect:
    first_word: int  # word ids, end exclusive, within one sentence
    end_word: int
    gold: str  # an entity type or "O"
    suggested: str
    kind: str  # "wrong type", "missed entity", "spurious entity" or "boundaries"
    score: float
    evidence: dict[str, object] = field(default_factory=dict)
    # Where it is, for people (set by gold.locate): document (from 0, in input order), sentence
    # within it (from 0), [start, end) word positions within that sentence, and its words.
    document: int = -1
    sentence: int = -1
    words: tuple[int, int] = (0, 0)
    sentence_words: tuple[str, ...] = ()
    origin: dict[str, object] = field(default_factory=dict)  # the sentence's place in the input file
    # The words the disagreement covers: the span, and the model's entities over it. Two
    # suspects whose extents overlap are one error (the lower-ranked is dropped).
    extent: tuple[int, int] | None = None

    @property
    def text(self) -> str:
        return " ".join(self.sentence_words[self.words[0] : self.words[1]])

    @property
    def context(self) -> str:
        return " ".join(self.sentence_words)

    def record(self, rank: int) -> dict[str, object]:
        """The JSON Lines object of this suspect at ``rank`` (from 1); other tools read these fields."""
        return {
            "rank": rank,
            "document": self.document,
            "sentence": self.sentence,
            "words": list(self.words),
            "text": self.text,
            "gold": self.gold,
            "suggested": self.suggested,
            "score": self.score,
            "evidence": {"kind": self.kind, **self.evidence},
            "context": self.context,
            **({"origin": self.origin} if self.origin else {}),
        }


def word_probabilities(
    probabilities: np.ndarray, labels: list[str], rename: dict[str, str], classes: list[str]
) -> np.ndarray:
    """(n, len(classes)) each row's probability of ``O`` and of each entity type: the model's
    labels of one type (B-, I-, E-, S-...) summed, renamed as ``rename`` says."""
    merge = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for i, label in enumerate(labels):
        _, entity_type = split_label(label)
        name = OUTSIDE if entity_type is None else rename.get(entity_type, entity_type)
        merge[i, classes.index(name)] = 1.0
    return probabilities.astype(np.float32) @ merge


def label_quality(w: Words, given: np.ndarray) -> np.ndarray:
    """(n_words,) cleanlab's label quality of each word's gold class (``given``, from
    ``gold_class_ids``), by sentence; 1 where the model read no token (no evidence either way)."""
    # Importing it imports cleanlab.datalab, which silences every warning of the process
    # (``warnings.filterwarnings("ignore")`` in spurious_correlation.py): keep the filters as
    # they were, so that warnings said after the suspects (the weak model's) still reach the user.
    with warnings.catch_warnings():
        from cleanlab.token_classification.rank import get_label_quality_scores

    known = ~np.isnan(w.probabilities).any(axis=1)
    quality = np.ones(len(w.words), dtype=np.float64)
    rows = np.flatnonzero(known)
    if rows.size == 0:
        return quality
    cuts = np.flatnonzero(np.diff(w.sentence[rows])) + 1
    sentences = np.split(rows, cuts)
    _, scores = get_label_quality_scores(
        [given[s] for s in sentences], [w.probabilities[s] for s in sentences]
    )
    quality[rows] = np.concatenate([np.asarray(s, dtype=np.float64) for s in scores])
    return quality


def unpredictable_classes(w: Words) -> list[str]:
    """Classes the model gives no probability anywhere: types only the gold labels have."""
    read = w.probabilities[~np.isnan(w.probabilities).any(axis=1)]
    if read.size == 0:
        return []
    return [c for c, top in zip(w.classes, read.max(axis=0), strict=True) if top <= 0.0]


def gold_class_ids(w: Words, gold_chunks: list[Chunk] | None = None) -> np.ndarray:
    """(n_words,) index into ``w.classes`` of each word's gold entity type, 0 for ``O``;
    ``gold_chunks``: the gold entities where already found."""
    ids = np.zeros(len(w.words), dtype=np.int64)
    for entity_type, start, end in chunks(w.gold_tags, w.sentence) if gold_chunks is None else gold_chunks:
        ids[start:end] = w.classes.index(entity_type)
    return ids


def supported_count(f1: float, n_gold_entities: int) -> int:
    """How many suspects a model of micro F1 ``f1`` on the input can back, below ``WEAK_F1``:
    of its disagreements with gold (a share 1 - F1 of the entities), those it is right about
    (a share F1 of them), F1 x (1 - F1) x the gold entities."""
    return int(f1 * (1.0 - f1) * n_gold_entities)


def find_suspects(w: Words, weights: tuple[float, float, float] = WEIGHTS) -> list[Suspect]:
    """The suspects of ``w``, most suspect first (see the module's docstring)."""
    if not w.words:
        return []
    final = w
    gold_chunks = chunks(w.gold_tags, w.sentence)
    gold_ids = gold_class_ids(w, gold_chunks)
    quality = label_quality(w, gold_ids)
    if w.checkpoints is not None:
        # A training run's model evidence: each class's probability averaged over its checkpoints
        # and final model (data maps' confidence), so a label learnt late or never is doubted
        # even where the final model has memorised it; a label the final model doubts stays
        # doubted (the lower label quality of the two). Measured on CleanCoNLL's validation
        # split with two runs trained on it: the final model's precision at 50 to 500 words or
        # more (but one word in 500, once), where the average alone lost up to 0.08 at 50.
        w = replace(w, probabilities=np.concatenate([w.checkpoints, w.probabilities[None]]).mean(axis=0))
        quality = np.minimum(quality, label_quality(w, gold_ids))
    predicted = chunks(w.predicted_tags, w.sentence)
    gold_at = {(s, e): t for t, s, e in gold_chunks}
    occurrences = _occurrences(w, gold_at, gold_ids)
    # Candidates: each gold entity, and each span of gold O words that the model or another
    # place in the corpus makes an entity. A model entity that only partly covers gold entities
    # is not a candidate of its own: it is evidence about the gold entities it touches (their
    # boundaries or type), so that a suspect's gold label is always what the annotation says.
    spans = {(s, e) for _, s, e in predicted} | {span for found in occurrences.values() for span in found}
    candidates = dict(gold_at)
    candidates |= {span: OUTSIDE for span in spans if not gold_ids[span[0] : span[1]].any()}
    # A gold type the model cannot predict (no --label-map to its own name) gets probability 0
    # everywhere: every entity of it would look wrong, so none is judged (gold.py says so).
    unknown = set(unpredictable_classes(w))
    candidates = {span: label for span, label in candidates.items() if label not in unknown}
    elsewhere = OccurrenceVotes(occurrences, w.classes, w.contexts, w.word_context, CONTEXT_SCALE)
    predicted_at: dict[int, list[Chunk]] = defaultdict(list)  # by sentence
    for chunk in predicted:
        predicted_at[int(w.sentence[chunk[1]])].append(chunk)
    # 25,000 candidates (a random model on the test split) take seconds: say how far it is.
    progress = throttled("suspects: {done:,}/{total:,} candidate spans judged")
    progress(0, len(candidates))
    found = []
    for done, ((start, end), gold) in enumerate(sorted(candidates.items()), start=1):
        suspect = _judge(w, start, end, gold, quality, gold_ids, gold_at, predicted_at, elsewhere, weights)
        if suspect is not None:
            found.append(suspect)
        if done % 1000 == 0:
            progress(done, len(candidates))
    found.sort(key=lambda s: (-s.score, s.first_word))
    found = _without_overlaps(found, w.sentence)
    if final.checkpoints is not None:
        found = [_with_dynamics(s, final, gold_ids) for s in found]
    return found


def _with_dynamics(s: Suspect, w: Words, gold_ids: np.ndarray) -> Suspect:
    """``s`` with the gold label's probability at each checkpoint of the run (the span's word
    least sure of it at the end, the final model last) in its evidence."""
    assert w.checkpoints is not None
    words = np.arange(s.first_word, s.end_word)
    run = np.concatenate([w.checkpoints[:, words], w.probabilities[None, words]])  # (c, span, classes)
    gold = run[:, np.arange(words.size), gold_ids[words]]  # (c, span)
    worst = int(np.nanargmin(gold[-1])) if not np.isnan(gold[-1]).all() else 0
    trace = [None if np.isnan(p) else round(float(p), 4) for p in gold[:, worst]]
    dynamics = {"checkpoints": list(w.checkpoint_names), "gold_probability": trace}
    return replace(s, evidence={**s.evidence, "dynamics": dynamics})


def _judge(
    w: Words,
    start: int,
    end: int,
    gold: str,
    quality: np.ndarray,
    gold_ids: np.ndarray,
    gold_at: dict[tuple[int, int], str],
    predicted_at: dict[int, list[Chunk]],
    occurrence_votes: OccurrenceVotes,
    weights: tuple[float, float, float],
) -> Suspect | None:
    """The candidate span [start, end), labelled ``gold``, as a suspect, or None when the evidence
    agrees with gold."""
    n_classes = len(w.classes)
    span_gold = gold_at.get((start, end))  # None: the span is not exactly a gold entity
    rows = w.probabilities[start:end]
    rows = rows[~np.isnan(rows).any(axis=1)]
    model_share = rows.mean(axis=0) if rows.size else np.zeros(n_classes)
    # The span's words on average: the worst word alone let long spans (where some word is
    # always doubted) crowd out the rest; measured on CleanCoNLL's validation split, the mean
    # gave precision 0.31 and 0.20 at 200 and 500 words where the worst gave 0.26 and 0.18.
    model_doubt = float(1.0 - quality[start:end].mean())

    votes = w.neighbour_classes[start:end]
    own = np.repeat(gold_ids[start:end], votes.shape[1]).reshape(votes.shape)
    counted = votes >= 0
    total = int(counted.sum())
    vote_counts = np.bincount(votes[counted], minlength=n_classes)[:n_classes]
    neighbour_share = vote_counts / (total + 1)
    disagree = int(((votes != own) & counted).sum())
    neighbour_doubt = disagree / (total + 1)

    # The label this span has in gold, if it has one: a gold entity, or O on every word.
    this_label = span_gold or (OUTSIDE if gold == OUTSIDE else None)
    # Other occurrences count as much as their context is like this one's (a city is a place in
    # datelines and a team in league tables); this occurrence itself counts 1.
    alike, elsewhere = occurrence_votes.votes(tuple(w.words[start:end]), (start, end))
    consistency_share = alike / (alike.sum() + 1.0)
    differing = alike.sum() - (alike[w.classes.index(this_label)] if this_label is not None else 0.0)
    consistency_doubt = float(differing / (alike.sum() + 1.0)) if this_label is not None else 0.0

    a, b, c = weights
    support = a * model_share + b * neighbour_share + c * consistency_share
    suggested = w.classes[int(np.argmax(support))]
    score = a * model_doubt + b * neighbour_doubt + c * consistency_doubt
    model_entities: list[list[object]] = [
        [t, s, e] for t, s, e in predicted_at.get(int(w.sentence[start]), []) if s < end and start < e
    ]
    kind = _kind(gold, suggested, span_gold, model_entities, (start, end))
    if kind is None or score < MIN_SCORE:
        return None
    evidence: dict[str, object] = {
        "model": {
            "label_quality": round(float(quality[start:end].mean()), 4),
            "gold_probability": round(float(model_share[w.classes.index(gold)]), 4),
            "suggested_probability": round(float(model_share[w.classes.index(suggested)]), 4),
            "predicted": _predicted_label(w, start, end),
        },
        "neighbours": {
            "disagree": disagree,
            "total": total,
            "classes": {w.classes[k]: int(v) for k, v in enumerate(vote_counts) if v},
        },
        "consistency": {w.classes[k]: int(n) for k, n in enumerate(elsewhere) if n > 0},
    }
    if w.contexts is not None and elsewhere.any():
        # How much those occurrences counted, their contexts being more or less like this one's.
        evidence["consistency_in_context"] = {
            w.classes[k]: round(float(alike[k]), 3) for k, n in enumerate(elsewhere) if n > 0
        }
    if model_entities and span_gold is not None:
        # The model's own entities over this gold entity: both spans, for boundaries and for a
        # type the model reads over other words.
        first = min(start, *(int(m[1]) for m in model_entities))
        last = max(end, *(int(m[2]) for m in model_entities))
        evidence["gold_entities"] = _gold_entities_inside(w, first, last)
        evidence["model_entities"] = model_entities
        extent = (first, last)
    else:
        extent = (start, end)
    return Suspect(start, end, gold, suggested, kind, round(score, 6), evidence, extent=extent)


def _kind(
    gold: str,
    suggested: str,
    span_gold: str | None,
    model_entities: list[list[object]],
    span: tuple[int, int],
) -> str | None:
    """What is wrong with the gold annotation of ``span`` if the evidence is right, or None."""
    if span_gold is not None:  # exactly a gold entity
        if suggested != span_gold:
            return "spurious entity" if suggested == OUTSIDE else "wrong type"
        # Confirmed, unless the model's own entity of that type here has other boundaries.
        other_bounds = [m for m in model_entities if m[0] == span_gold and (m[1], m[2]) != span]
        exact = any((m[1], m[2]) == span for m in model_entities)
        return "boundaries" if other_bounds and not exact else None
    # Every word gold O.
    return None if suggested == OUTSIDE else "missed entity"


def _predicted_label(w: Words, start: int, end: int) -> str:
    types = {split_label(t)[1] for t in w.predicted_tags[start:end]}
    types.discard(None)
    return OUTSIDE if not types else "/".join(sorted(t for t in types if t))


def _gold_entities_inside(w: Words, start: int, end: int) -> list[list[object]]:
    """Gold entities (or their parts) inside [start, end), as [type, first word, end word]."""
    found = chunks(w.gold_tags[start:end], w.sentence[start:end])
    return [[t, s + start, e + start] for t, s, e in found]


def _occurrences(
    w: Words, gold_at: dict[tuple[int, int], str], gold_ids: np.ndarray
) -> dict[tuple[str, ...], dict[tuple[int, int], str]]:
    """Every place where the words of a gold entity occur within one sentence, and how they are
    labelled there: the entity type when exactly a gold entity, O when every word is gold O
    (other places, partly inside an entity, say nothing clear and are left out)."""
    strings = {tuple(w.words[s:e]) for s, e in gold_at if e - s <= MAX_ENTITY_WORDS}
    firsts = {s[0] for s in strings}
    lengths = sorted({len(s) for s in strings})
    found: dict[tuple[str, ...], dict[tuple[int, int], str]] = defaultdict(dict)
    n = len(w.words)
    sentence = w.sentence
    for length in lengths:
        for start in range(n - length + 1):
            if w.words[start] not in firsts:
                continue
            end = start + length
            if sentence[start] != sentence[end - 1]:
                continue
            key = tuple(w.words[start:end])
            if key not in strings:
                continue
            label = gold_at.get((start, end))
            if label is None and not gold_ids[start:end].any():
                label = OUTSIDE
            if label is not None:
                found[key][start, end] = label
    return found


def _without_overlaps(ranked: list[Suspect], sentence: np.ndarray) -> list[Suspect]:
    """``ranked`` without any suspect whose extent overlaps a higher-ranked one's (one error,
    one suspect)."""
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    kept: list[Suspect] = []
    for s in ranked:
        first, end = s.extent or (s.first_word, s.end_word)
        spans = taken[int(sentence[s.first_word])]
        if any(first < e and b < end for b, e in spans):
            continue
        spans.append((first, end))
        kept.append(s)
    return kept
