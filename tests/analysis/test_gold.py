"""Gold comparison and the suspects' place in the input, through ``analyze`` on a random-weight
model (whose suspects are many and arbitrary: what is checked is where they point)."""

from __future__ import annotations

import numpy as np
import pytest

from llm_embedding_ner.analysis.evaluation import chunks
from llm_embedding_ner.pipeline import analyze

from ..test_pipeline import read_conll


def test_word_probabilities_are_the_first_tokens_merged_by_type(dslim_model, tmp_path) -> None:
    a = analyze(read_conll(tmp_path, 5, iob1=False), dslim_model)
    probabilities = a.gold.word_probabilities
    assert probabilities.shape == (len(a.gold.gold_tags), 1 + len(a.entity_types))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # The first token of every word decides it: its label's type is the word's likeliest class
    # whenever that label is the token's own most probable one (it always is: argmax).
    first = np.flatnonzero(np.r_[True, np.diff(a.word_ids) != 0])
    for token in first[:50]:
        label = a.labels[token]
        name = "O" if label == "O" else label.partition("-")[2]
        row = probabilities[a.word_ids[token]]
        assert row[["O", *a.entity_types].index(name)] >= a.scores[token] - 1e-6


def test_each_suspect_points_at_its_document_sentence_and_words(
    dslim_model, tmp_path, uncapped_suspects
) -> None:
    corpus = read_conll(tmp_path, 6, iob1=True)
    a = analyze(corpus, dslim_model)
    assert a.suspects, "a random model doubts many gold labels"
    for s in a.suspects:
        doc = corpus.documents[s.document]
        in_sentence = np.flatnonzero(doc.word_sentence == s.sentence)
        words = [doc.text[x:y] for x, y in (doc.words[i] for i in in_sentence)]
        assert s.context == " ".join(words)
        assert s.text == " ".join(words[s.words[0] : s.words[1]])
        first = a.documents[s.document].first_word + int(in_sentence[0])
        assert (s.first_word, s.end_word) == (first + s.words[0], first + s.words[1])
        tags = doc.gold_tags[in_sentence[0] : in_sentence[-1] + 1]
        # The gold label is the annotation's: the span is exactly a gold entity, or all gold O.
        exact = [t for t, x, y in chunks(tags) if (x, y) == tuple(s.words)]
        inside = [t for t, x, y in chunks(tags) if x < s.words[1] and s.words[0] < y]
        assert s.gold == (exact[0] if exact else "O") and (exact or not inside)
    records = [s.record(rank) for rank, s in enumerate(a.suspects, start=1)]
    assert [r["rank"] for r in records] == list(range(1, len(records) + 1))
    assert [r["score"] for r in records] == sorted((r["score"] for r in records), reverse=True)
    assert list(records[0]) == [
        "rank", "document", "sentence", "words", "text", "gold", "suggested", "score", "evidence", "context",
        "origin",
    ]  # fmt: skip


def test_text_without_gold_labels_has_no_suspects(dslim_model) -> None:
    a = analyze("Ada Lovelace met Charles Babbage in London.", dslim_model)
    assert a.gold is None and a.suspects == []


def test_gold_types_the_model_cannot_predict_are_not_judged(
    ontonotes_model, tmp_path, uncapped_suspects
) -> None:
    """An OntoNotes model on CoNLL gold labels without --label-map: LOC, PER and MISC exist only
    in gold. Their entities are not suspects (every one would look wrong), and a warning says so."""
    import warnings

    corpus = read_conll(tmp_path, 5, iob1=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = analyze(corpus, ontonotes_model)
    said = [str(w.message) for w in caught if "cannot predict the gold types" in str(w.message)]
    assert len(said) == 1 and "LOC" in said[0] and "PER" in said[0] and "ORG" not in said[0]
    assert a.suspects, "ORG and the model's own types are still judged"
    assert {s.gold for s in a.suspects} <= {"O", "ORG"}


def test_a_weak_model_says_so_and_ranks_only_the_suspects_it_can_back(
    dslim_model, tmp_path, monkeypatch
) -> None:
    """A random model (F1 near 0) doubts nearly every label: one warning with its F1, and the
    list cut to F1 x (1 - F1) x the gold entities, the first of the full ranking."""
    from llm_embedding_ner.analysis import gold as gold_module
    from llm_embedding_ner.analysis.suspects import supported_count

    corpus = read_conll(tmp_path, 6, iob1=True)
    with pytest.warns(UserWarning) as caught:
        a = analyze(corpus, dslim_model)
    said = [str(w.message) for w in caught if "micro F1 on this input" in str(w.message)]
    f1 = a.gold.evaluation.micro.f1
    n_gold = len(chunks(a.gold.gold_tags, a.gold.word_sentence))
    assert len(said) == 1 and f"is {f1:.2f} (below 0.5)" in said[0]
    monkeypatch.setattr(gold_module, "WEAK_F1", 0.0)
    every = analyze(corpus, dslim_model).suspects
    assert len(a.suspects) == supported_count(f1, n_gold) < len(every)
    assert f"kept the first {len(a.suspects):,} of {len(every):,}" in said[0]
    assert [s.record(1) for s in a.suspects] == [s.record(1) for s in every[: len(a.suspects)]]


def test_a_run_whose_checkpoints_could_not_be_read_ranks_with_its_final_model(
    dslim_model, tmp_path, uncapped_suspects
) -> None:
    """Every earlier checkpoint left out (no head, other labels): the final model's suspects."""
    from llm_embedding_ner.analysis.dynamics import TrainingDynamics

    corpus = read_conll(tmp_path, 6, iob1=True)
    alone = analyze(corpus, dslim_model).suspects
    empty = TrainingDynamics((), (), (), "final")
    assert [s.record(1) for s in analyze(corpus, dslim_model, dynamics=empty).suspects] == [
        s.record(1) for s in alone
    ]
