"""The suspect ranking on small corpora with planted annotation errors: each kind of error is
found, above the correct spans, with the right gold and suggested labels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_embedding_ner.analysis.evaluation import chunks
from llm_embedding_ner.analysis.suspects import Words, find_suspects, word_probabilities
from llm_embedding_ner.inputs.tag_schemes import to_iob2

CLASSES = ["O", "LOC", "PER", "ORG", "MISC"]


def sentence_words(sentences: list[list[tuple[str, str]]]) -> tuple[list[str], list[str], np.ndarray]:
    words = [w for s in sentences for w, _ in s]
    tags = [t for s in sentences for _, t in s]
    sentence = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
    return words, tags, sentence


def model_probabilities(true_tags: list[str], confidence: float = 0.9) -> np.ndarray:
    """A model that knows the true labels: ``confidence`` on each word's true class."""
    rows = np.full((len(true_tags), len(CLASSES)), (1 - confidence) / (len(CLASSES) - 1), np.float32)
    for i, tag in enumerate(true_tags):
        rows[i, CLASSES.index(tag.partition("-")[2] or "O")] = confidence
    return rows


def words_for(true: list[str], gold: list[str], words: list[str], sentence: np.ndarray) -> Words:
    """The model predicts ``true``; gold says ``gold``; neighbours vote for the true classes."""
    true_ids = np.asarray([CLASSES.index(t.partition("-")[2] or "O") for t in true])
    votes = np.repeat(true_ids[:, None], 5, axis=1)
    return Words(words, gold, true, sentence, CLASSES, model_probabilities(true), votes)


# Sentences with correct entities, each repeated so that consistency has something to count.
CLEAN = [
    [("Ada", "B-PER"), ("Lovelace", "I-PER"), ("lived", "O"), ("in", "O"), ("London", "B-LOC"), (".", "O")],
    [("Siemens", "B-ORG"), ("opened", "O"), ("an", "O"), ("office", "O"), ("in", "O"), ("Paris", "B-LOC")],
    [("The", "O"), ("Olympics", "B-MISC"), ("came", "O"), ("to", "O"), ("London", "B-LOC"), ("again", "O")],
    [("Grace", "B-PER"), ("Hopper", "I-PER"), ("joined", "O"), ("the", "O"), ("Navy", "B-ORG"), (".", "O")],
]


def corpus_with(errors: dict[tuple[int, int], str]) -> tuple[Words, list[str]]:
    """CLEAN three times over, with gold tags replaced at (sentence, word) by ``errors``."""
    sentences = [list(s) for s in CLEAN * 3]
    words, true, sentence = sentence_words(sentences)
    gold = list(true)
    starts = np.r_[0, np.cumsum([len(s) for s in sentences])]
    for (s, w), tag in errors.items():
        gold[starts[s] + w] = tag
    return words_for(true, gold, words, sentence), gold


def test_each_kind_of_planted_error_is_found_above_every_correct_span() -> None:
    errors = {
        (0, 4): "B-ORG",  # London: LOC -> ORG, a type swap
        (5, 5): "O",  # Paris: missed
        (6, 2): "B-PER",  # "came": a spurious entity
        (7, 2): "I-PER",  # "Hopper joined": the entity runs one word too far
    }
    w, _ = corpus_with(errors)
    found = find_suspects(w)
    top = {(s.first_word, s.end_word): s for s in found[:4]}
    starts = np.r_[0, np.cumsum([len(s) for s in CLEAN * 3])]
    london = (starts[0] + 4, starts[0] + 5)
    paris = (starts[5] + 5, starts[5] + 6)
    came = (starts[6] + 2, starts[6] + 3)
    hopper = (starts[7] + 0, starts[7] + 3)  # the gold entity, "Grace Hopper joined"
    assert set(top) == {london, paris, came, hopper}, [(s.first_word, s.end_word, s.kind) for s in found]
    assert (top[london].gold, top[london].suggested, top[london].kind) == ("ORG", "LOC", "wrong type")
    assert (top[paris].gold, top[paris].suggested, top[paris].kind) == ("O", "LOC", "missed entity")
    assert (top[came].gold, top[came].suggested, top[came].kind) == ("PER", "O", "spurious entity")
    assert (top[hopper].gold, top[hopper].suggested, top[hopper].kind) == ("PER", "PER", "boundaries")
    assert top[hopper].evidence["model_entities"] == [["PER", hopper[0], hopper[0] + 2]]
    # Correct spans are not suspects at all: a model, neighbours and consistency that agree.
    assert len(found) == 4


def test_a_clean_corpus_has_no_suspects() -> None:
    w, _ = corpus_with({})
    assert find_suspects(w) == []


def test_the_same_words_labelled_otherwise_elsewhere_make_a_suspect_without_a_model() -> None:
    """With a model that knows nothing (uniform probabilities) and no neighbours, the one place
    where "London" is gold O among ten LOCs is still found, by consistency alone."""
    sentences = [[("in", "O"), ("London", "B-LOC"), ("today", "O")]] * 10 + [[("in", "O"), ("London", "O")]]
    words, gold, sentence = sentence_words(sentences)
    uniform = np.full((len(words), len(CLASSES)), 1 / len(CLASSES), np.float32)
    none = np.full((len(words), 5), -1)
    found = find_suspects(Words(words, gold, gold, sentence, CLASSES, uniform, none), weights=(0.0, 0.0, 1.0))
    assert [(s.first_word, s.gold, s.suggested, s.kind) for s in found] == [(31, "O", "LOC", "missed entity")]
    assert found[0].evidence["consistency"] == {"LOC": 10}


def test_the_evidence_says_why() -> None:
    w, _ = corpus_with({(0, 4): "B-ORG"})
    (suspect,) = find_suspects(w)
    model = suspect.evidence["model"]
    assert model["gold_probability"] < 0.1 < 0.8 < model["suggested_probability"]
    assert model["predicted"] == "LOC"
    assert suspect.evidence["neighbours"]["disagree"] == suspect.evidence["neighbours"]["total"] == 5
    # London is LOC in the five other sentences that have it (the remaining copies of CLEAN).
    assert suspect.evidence["consistency"] == {"LOC": 5}


def test_words_the_model_never_read_carry_no_model_evidence() -> None:
    w, _ = corpus_with({(0, 4): "B-ORG"})
    unread = w.probabilities.copy()
    unread[4] = np.nan  # the swapped London yields no token
    found = find_suspects(
        Words(w.words, w.gold_tags, w.predicted_tags, w.sentence, CLASSES, unread, w.neighbour_classes)
    )
    (suspect,) = found
    assert suspect.evidence["model"]["label_quality"] == 1.0  # no doubt from the model
    assert suspect.suggested == "LOC"  # neighbours and consistency still say so


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_suspects_stay_in_one_sentence_and_never_overlap(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 40))
    tags = data.draw(
        st.lists(st.sampled_from(["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "I-ORG"]), min_size=n, max_size=n)
    )
    predicted = data.draw(
        st.lists(st.sampled_from(["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]), min_size=n, max_size=n)
    )
    sentence = np.cumsum([0, *data.draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))]).astype(
        np.int64
    )
    words = data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    probabilities = rng.dirichlet(np.ones(len(CLASSES)), size=n).astype(np.float32)
    votes = rng.integers(-1, len(CLASSES), size=(n, 5))
    # Gold tags as the readers hand them on: IOB2, as chunks() reads them.
    found = find_suspects(Words(words, tags, predicted, sentence, CLASSES, probabilities, votes))
    taken: dict[int, list[tuple[int, int]]] = {}
    for s in found:
        assert 0 <= s.first_word < s.end_word <= n
        assert sentence[s.first_word] == sentence[s.end_word - 1]
        for a, b in taken.get(int(sentence[s.first_word]), []):
            assert s.end_word <= a or b <= s.first_word
        taken.setdefault(int(sentence[s.first_word]), []).append((s.first_word, s.end_word))
        assert s.gold != s.suggested or s.kind == "boundaries"
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert all(0 <= s.score <= 1 for s in found)
    assert chunks(tags, sentence) is not None


def test_word_probabilities_sum_each_types_labels_and_rename() -> None:
    labels = ["O", "B-PER", "I-PER", "S-LOC", "E-LOC", "B-ORG"]
    p = np.asarray([[0.1, 0.2, 0.3, 0.1, 0.1, 0.2]], np.float32)
    merged = word_probabilities(p, labels, {"ORG": "MISC"}, ["O", "PER", "LOC", "MISC"])
    np.testing.assert_allclose(merged, [[0.1, 0.5, 0.2, 0.2]], rtol=1e-6)


def test_a_model_entity_over_more_words_than_the_gold_one_names_the_gold_entity() -> None:
    """Gold ``Bitar`` PER, the model's ``said Bitar Club`` ORG: the suspect is the gold entity,
    PER -> ORG, with the model's span in the evidence, not a span whose gold label is made up."""
    sentence = [("Mr", "O"), ("Hatem", "O"), ("said", "O"), ("Bitar", "B-PER"), ("Club", "O"), ("won", "O")]
    words, gold, sentence_ids = sentence_words([sentence, *CLEAN])
    predicted = ["O", "O", "B-ORG", "I-ORG", "I-ORG", "O", *gold[6:]]
    probabilities = model_probabilities(predicted, confidence=0.95)
    votes = np.full((len(words), 5), -1)
    found = find_suspects(Words(words, gold, predicted, sentence_ids, CLASSES, probabilities, votes))
    (suspect,) = [s for s in found if sentence_ids[s.first_word] == 0]
    assert (suspect.first_word, suspect.end_word, suspect.gold) == (3, 4, "PER")
    assert (suspect.suggested, suspect.kind) == ("ORG", "wrong type")
    assert suspect.evidence["model_entities"] == [["ORG", 2, 5]]
    assert suspect.evidence["gold_entities"] == [["PER", 3, 4]]


def test_a_gold_entity_the_model_splits_is_one_suspect_naming_it() -> None:
    """Gold ``New York`` LOC, the model's ``New`` PER and ``York`` LOC: one suspect, the gold
    span, both spans in its evidence."""
    york = [("in", "O"), ("New", "B-LOC"), ("York", "I-LOC"), ("today", "O")]
    sentences = [york, [("New", "B-LOC"), ("York", "I-LOC")], *CLEAN]
    words, gold, sentence_ids = sentence_words(sentences)
    predicted = ["O", "B-PER", "B-LOC", "O", *gold[4:]]
    probabilities = model_probabilities(predicted, confidence=0.95)
    votes = np.full((len(words), 5), -1)
    found = find_suspects(Words(words, gold, predicted, sentence_ids, CLASSES, probabilities, votes))
    (suspect,) = [s for s in found if sentence_ids[s.first_word] == 0]
    assert (suspect.first_word, suspect.end_word, suspect.gold) == (1, 3, "LOC")
    assert suspect.kind in ("boundaries", "wrong type")
    assert suspect.evidence["model_entities"] == [["PER", 1, 2], ["LOC", 2, 3]]
    assert suspect.evidence["gold_entities"] == [["LOC", 1, 3]]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_a_suspect_states_the_gold_annotation_exactly(data: st.DataObject) -> None:
    """Whatever the model predicts: a wrong type, spurious entity or boundaries suspect is a
    gold entity with its gold type; a missed entity is words that are all gold O."""
    n = data.draw(st.integers(1, 30))
    tag = st.sampled_from(["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-ORG"])
    tags = data.draw(st.lists(tag, min_size=n, max_size=n))
    predicted = data.draw(st.lists(tag, min_size=n, max_size=n))
    sentence = np.zeros(n, dtype=np.int64)
    words = data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    probabilities = rng.dirichlet(np.ones(len(CLASSES)) * 0.3, size=n).astype(np.float32)
    votes = rng.integers(-1, len(CLASSES), size=(n, 5))
    gold_tags = to_iob2(tags)
    gold_entities = {(s, e): t for t, s, e in chunks(gold_tags, sentence)}
    for s in find_suspects(
        Words(words, gold_tags, to_iob2(predicted), sentence, CLASSES, probabilities, votes)
    ):
        if s.kind == "missed entity":
            assert s.gold == "O" and all(t == "O" for t in gold_tags[s.first_word : s.end_word])
        else:
            assert gold_entities.get((s.first_word, s.end_word)) == s.gold, s


def wednesday_corpus(planted_o: bool) -> tuple[Words, int]:
    """Football reports where "Wednesday" is the club (ORG) and news where it is the weekday (O):
    each kind of document its own context vector. With ``planted_o``, one report misses the
    club (gold O). Returns the words and the planted word's id."""
    report = [("Wednesday", "B-ORG"), ("beat", "O"), ("Udinese", "B-ORG"), ("2-1", "O")]
    news = [("on", "O"), ("Wednesday", "O"), ("the", "O"), ("minister", "O"), ("said", "O")]
    sentences = [report] * 4 + [news] * 10
    if planted_o:
        sentences.append([("Wednesday", "O"), ("drew", "O"), ("with", "O"), ("Udinese", "B-ORG")])
    words, gold, sentence = sentence_words(sentences)
    football, weekday = 0, 1  # rows of the context vectors, np.eye(2)
    kinds = [football] * 4 + [weekday] * 10 + ([football] if planted_o else [])
    word_context = np.repeat(kinds, [len(s) for s in sentences])
    uniform = np.full((len(words), len(CLASSES)), 1 / len(CLASSES), np.float32)
    none = np.full((len(words), 5), -1)
    w = Words(words, gold, gold, sentence, CLASSES, uniform, none, np.eye(2, dtype=np.float32), word_context)
    return w, len(words) - 4


def test_consistency_compares_a_name_with_its_own_kind_of_context() -> None:
    """The club "Wednesday" (ORG in football reports) is not doubted because the weekday is O
    in ten news sentences; by string alone, every report's label is flagged."""
    from dataclasses import replace

    w, _ = wednesday_corpus(planted_o=False)
    consistency_only = (0.0, 0.0, 1.0)
    assert find_suspects(w, weights=consistency_only) == []
    by_string = find_suspects(replace(w, contexts=None, word_context=None), weights=consistency_only)
    assert {(s.gold, s.suggested) for s in by_string} == {("ORG", "O")} and len(by_string) == 4


def test_a_name_labelled_against_its_own_kind_of_context_is_found() -> None:
    """One report with the club left O is a missed ORG: the reports say so, the news do not."""
    w, planted = wednesday_corpus(planted_o=True)
    found = find_suspects(w, weights=(0.0, 0.0, 1.0))
    assert [(s.first_word, s.gold, s.suggested, s.kind) for s in found[:1]] == [
        (planted, "O", "ORG", "missed entity")
    ]
    assert found[0].evidence["consistency"] == {"ORG": 4, "O": 10}
    assert found[0].evidence["consistency_in_context"]["ORG"] == 4.0


def test_a_label_the_checkpoints_never_learnt_ranks_first_though_the_final_model_agrees() -> None:
    """The final model has memorised every gold label, the planted one too; the earlier
    checkpoints gave the planted label little probability where the others were learnt early.
    Alone the final model doubts nothing; with its run's checkpoints the planted label is first
    and its evidence traces its probability."""
    from dataclasses import replace

    sentences = [list(s) for s in CLEAN * 3]
    words, true, sentence = sentence_words(sentences)
    gold = list(true)
    starts = np.r_[0, np.cumsum([len(s) for s in sentences])]
    planted = int(starts[8] + 4)  # "London": LOC -> ORG
    gold[planted] = "B-ORG"
    none = np.full((len(words), 5), -1)
    final = model_probabilities(gold, confidence=0.95)  # memorised
    w = Words(words, gold, gold, sentence, CLASSES, final, none)
    assert find_suspects(w, weights=(1.0, 0.0, 0.0)) == []
    early = [model_probabilities(true, confidence=c) for c in (0.6, 0.8, 0.9)]  # learnt the truth first
    with_run = replace(
        w,
        checkpoints=np.stack(early),
        checkpoint_names=("checkpoint-1", "checkpoint-2", "checkpoint-3", "final"),
    )
    found = find_suspects(with_run, weights=(1.0, 0.0, 0.0))
    assert (found[0].first_word, found[0].gold, found[0].suggested) == (planted, "ORG", "LOC")
    trace = found[0].evidence["dynamics"]
    assert trace["checkpoints"] == ["checkpoint-1", "checkpoint-2", "checkpoint-3", "final"]
    assert trace["gold_probability"] == [0.1, 0.05, 0.025, 0.95]


def test_warnings_said_after_the_ranking_still_reach_the_user() -> None:
    """cleanlab's datalab, imported with its token ranking, silences every warning of the process;
    the ranking imports it without letting that last (a fresh process: the import runs once)."""
    import subprocess
    import sys

    script = (
        "import warnings, numpy as np\n"
        "from llm_embedding_ner.analysis.suspects import Words, label_quality\n"
        "w = Words(['a'], ['O'], ['O'], np.zeros(1, int), ['O', 'LOC'], np.array([[0.9, 0.1]], np.float32),"
        " np.full((1, 1), -1))\n"
        "label_quality(w, np.zeros(1, int))\n"
        "warnings.warn('still heard')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "UserWarning: still heard" in done.stderr
