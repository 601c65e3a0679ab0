"""Several models over one input: corresponding points, shared classes, aligned layouts."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner import comparison
from llm_embedding_ner.analysis.changes import GAINED, LOST, NOT_COMPARED, OTHER_TYPE, SAME_NONE, SAME_TYPE
from llm_embedding_ner.analysis.entities import split_label
from llm_embedding_ner.comparison import compare
from llm_embedding_ner.errors import UserError
from llm_embedding_ner.inputs.documents import Corpus, Document
from llm_embedding_ner.model.model_list import ModelEntry, expand_models
from llm_embedding_ner.model.model_loading import load_model
from llm_embedding_ner.pipeline import analyze

TEXT = (
    "Angela Merkel met Emmanuel Macron in Paris to discuss the European Union budget. "
    "Ada Lovelace wrote about the Analytical Engine of Charles Babbage in London in 1843."
)


def entries(*paths: Path) -> list[ModelEntry]:
    return expand_models([str(p) for p in paths])[0]


def text_corpus(text: str = TEXT) -> Corpus:
    return Corpus([Document(text)], "text", False)


def test_checkpoints_give_one_point_per_token_and_the_last_model_is_fitted_alone(
    dslim_model_dir: Path, trainer_run: Path
) -> None:
    models = entries(dslim_model_dir, trainer_run)
    result = compare(text_corpus(), models, device="cpu")

    assert not result.per_word
    assert [m.entry.label for m in result.models] == [dslim_model_dir.name, "checkpoint-10", "checkpoint-20"]
    assert [m.entry.step for m in result.models] == [None, 10, 20]
    analyses = [m.analysis for m in result.models]
    n = len(analyses[0].tokens)
    for a in analyses:
        assert a.tokens == analyses[0].tokens
        assert a.coordinates.shape == (n, 3)
    alone = analyze(TEXT, load_model(str(trainer_run / "checkpoint-20"), "cpu"))
    np.testing.assert_allclose(analyses[-1].coordinates, alone.coordinates, rtol=1e-5, atol=1e-5)
    assert analyses[-1].labels == alone.labels
    # Each model's own predictions, not the others'.
    assert analyses[0].labels != analyses[1].labels


def test_changed_labels_say_what_each_point_was_before(dslim_model_dir: Path, trainer_run: Path) -> None:
    result = compare(text_corpus(), entries(dslim_model_dir, trainer_run), device="cpu")
    first = result.models[0]
    assert (first.change == NOT_COMPARED).all() and set(first.changed_from) == {""}
    for before, after in zip(result.models, result.models[1:], strict=False):
        old, new = before.analysis.class_ids, after.analysis.class_ids
        expected = np.where(
            (old == 0) & (new == 0),
            SAME_NONE,
            np.where(old == new, SAME_TYPE, np.where(old == 0, GAINED, np.where(new == 0, LOST, OTHER_TYPE))),
        )
        np.testing.assert_array_equal(after.change, expected)
        for a, b, said in zip(before.analysis.labels, after.analysis.labels, after.changed_from, strict=True):
            assert said == ("" if a == b else f"{a} -> {b}")
    assert any(after.changed_from != [""] * len(after.changed_from) for after in result.models[1:])
    assert 0.0 <= result.agreement[0] <= 1.0


def test_different_tokenizers_give_one_point_per_shared_word(
    dslim_model_dir: Path, roberta_dir: Path
) -> None:
    result = compare(text_corpus(), entries(dslim_model_dir, roberta_dir), device="cpu")
    assert result.per_word
    bert, roberta = (m.analysis for m in result.models)
    assert bert.tokens == roberta.tokens
    np.testing.assert_array_equal(bert.offsets, roberta.offsets)
    assert "Lovelace" in bert.tokens and "Merkel" in bert.tokens
    assert bert.coordinates.shape == roberta.coordinates.shape == (len(bert.tokens), 3)


SPLIT_WORDS = "I don't think New-York's mayor-elect visited São Paulo. (Kraków)! Zoë's re-run, didn't it?"


@pytest.mark.parametrize("other", ["roberta", "xlm-roberta", "deberta-v3"])
def test_a_shared_words_label_class_and_entity_come_from_the_piece_that_decides_it(
    family_model_dirs: dict[str, Path], other: str
) -> None:
    # BERT splits "don't" and "New-York's" into several words, each of which may start an
    # entity; XLM-R and DeBERTa may read a lone "▁" before a word, RoBERTa a lone "Ġ". Whatever
    # a word holds, what it shows must be one token's: its label's type is its class's and its
    # entity's, and that entity holds the word.
    models = entries(family_model_dirs["bert-cased"], family_model_dirs[other])
    result = compare(text_corpus(SPLIT_WORDS), models, device="cpu")
    assert result.per_word
    for model in result.models:
        a = model.analysis
        for i, (label, cls, e) in enumerate(
            zip(a.labels, a.class_ids.tolist(), a.token_entity.tolist(), strict=True)
        ):
            shown = a.entity_types[cls - 1] if cls else None
            assert split_label(label)[1] == shown, (model.entry.label, a.tokens[i], label, shown)
            assert (a.entities[e].type if e >= 0 else None) == shown
            assert e < 0 or a.entities[e].first_token <= i < a.entities[e].end_token
        # The entity list keeps every entity, also those that start inside a word.
        alone = analyze(SPLIT_WORDS, load_model(model.entry.name, device="cpu"))
        assert [x.text for x in a.entities] == [x.text for x in alone.entities]


def test_label_sets_are_joined_by_type_name(dslim_model_dir: Path, ontonotes_model_dir: Path) -> None:
    result = compare(text_corpus(), entries(dslim_model_dir, ontonotes_model_dir), device="cpu")
    types = result.entity_types
    assert types[:4] == ["LOC", "PER", "ORG", "MISC"]
    assert set(types) == {"LOC", "PER", "ORG", "MISC", "PERSON", "GPE", "DATE"}
    for model in result.models:
        a = model.analysis
        for e in a.entities:
            assert set(a.class_ids[e.first_token : e.end_token].tolist()) == {types.index(e.type) + 1}


def test_label_map_applies_to_each_model_that_has_the_type(
    dslim_model_dir: Path, ontonotes_model_dir: Path
) -> None:
    result = compare(
        text_corpus(),
        entries(dslim_model_dir, ontonotes_model_dir),
        device="cpu",
        label_map={"PERSON": "PER"},
    )
    assert "PERSON" not in result.entity_types
    with pytest.raises(UserError, match="no model has such a type"):
        compare(
            text_corpus(), entries(dslim_model_dir, ontonotes_model_dir), device="cpu", label_map={"X": "Y"}
        )


def test_a_model_without_a_head_takes_the_next_models_classes(
    encoder_dir: Path, dslim_model_dir: Path, trainer_run: Path
) -> None:
    with pytest.warns(UserWarning, match="no token-classification head.*classes of"):
        result = compare(text_corpus(), entries(encoder_dir, dslim_model_dir), device="cpu")
    encoder, model = result.models
    assert not encoder.has_head and model.has_head
    assert set(encoder.analysis.labels) == {""} and encoder.analysis.entities == []
    np.testing.assert_array_equal(encoder.analysis.class_ids, model.analysis.class_ids)
    assert (model.change == NOT_COMPARED).all()  # nothing to compare with a model without labels
    assert np.isnan(result.agreement[0])

    # Alone it is still refused, as before comparisons existed.
    with pytest.raises(UserError, match="no trained token-classification head"):
        load_model(str(encoder_dir), "cpu")


def test_no_head_anywhere_and_no_gold_labels_is_refused_before_any_model_runs(encoder_dir: Path) -> None:
    two = [ModelEntry(str(encoder_dir), "a"), ModelEntry(str(encoder_dir), "b")]
    with pytest.raises(UserError, match="none of the models has a token-classification head"):
        compare(text_corpus(), two, load=refuse_to_load)


def refuse_to_load(*args: object, **kwargs: object) -> None:
    raise AssertionError("a model was loaded before every model was checked")


def test_a_layer_one_model_lacks_fails_before_any_model_runs(
    dslim_model_dir: Path, trainer_run: Path
) -> None:
    with pytest.raises(UserError, match=r"dslim-like\w*: --layers 40: this model has layers 0"):
        compare(text_corpus(), entries(dslim_model_dir, trainer_run), layers=(0, 40), load=refuse_to_load)


def test_a_tokenizer_without_offsets_fails_before_any_model_runs(
    dslim_model_dir: Path, trainer_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = comparison.inspect_model

    def slow_second(
        name: str, tokenizer_from: str | None = None, allow_pickle: bool = False
    ) -> tuple[object, object]:
        config, tokenizer = real(name, tokenizer_from, allow_pickle)
        if name.endswith("checkpoint-10"):
            tokenizer = type("SlowTokenizer", (), {"is_fast": False})()
        return config, tokenizer

    monkeypatch.setattr(comparison, "inspect_model", slow_second)
    with pytest.raises(UserError, match="checkpoint-10's tokenizer is a slow"):
        compare(text_corpus(), entries(dslim_model_dir, trainer_run), load=refuse_to_load)


def test_models_are_loaded_one_at_a_time(dslim_model_dir: Path, trainer_run: Path) -> None:
    alive: list[weakref.ref] = []

    def load_one(*args: object, **kwargs: object):  # -> LoadedModel
        gc.collect()
        assert all(ref() is None for ref in alive), "an earlier model is still in memory"
        loaded = load_model(*args, **kwargs)  # type: ignore[arg-type]
        alive.append(weakref.ref(loaded.model))
        return loaded

    compare(text_corpus(), entries(dslim_model_dir, trainer_run), device="cpu", load=load_one)
    assert len(alive) == 3


def test_many_models_of_a_long_input_warn_after_the_first(
    dslim_model_dir: Path, trainer_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(comparison, "HEAVY_LAYERS_GIB", 1e-6)  # the default text is far below 1 GiB
    with pytest.warns(UserWarning, match="3 models will keep .* GiB of hidden states"):
        compare(text_corpus(), entries(dslim_model_dir, trainer_run), device="cpu")
