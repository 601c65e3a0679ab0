"""``analyze`` end to end on random-weight models, checked against transformers' own pipeline."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from llm_embedding_ner.default_text import DEFAULT_TEXT
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.projection import ProjectionSettings, mean_displacement, project_to_3d

from .conftest import CORPUS

WORDS = [
    "Angela",
    "Merkel",
    "Paris",
    "London",
    "New",
    "York",
    "European",
    "Union",
    "Microsoft",
    "Google",
    "the",
    "a",
    "of",
    "in",
    "and",
    "met",
    "visited",
    "said",
    "Monday",
    "Ada",
    "Lovelace",
    "Charles",
    "Babbage",
    "engine",
    "United",
    "Nations",
    "Geneva",
    "Berlin",
    "radioactivity",
    "physicist",
    "enrolled",
    "Skłodowska",
    "Kraków",
    "Vistula",
    "1891",
    "2024",
    "unimpressed",
]
PUNCTUATION = [",", ".", ";", "(", ")", "-", "'s", '"', "!", "?"]


def random_texts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 35)):
            word = rng.choice(WORDS)
            if rng.random() < 0.2:
                word = (
                    rng.choice(PUNCTUATION) + word if rng.random() < 0.3 else word + rng.choice(PUNCTUATION)
                )
            parts.append(word)
        texts.append(rng.choice(["", " ", "\n"]) + " ".join(parts) + rng.choice(["", ".", " ", "!"]))
    return texts


def hf_first_aggregation(model, texts: list[str]) -> list[list[tuple[str, int, int]]]:
    from transformers import pipeline

    ner = pipeline(
        "token-classification", model=model.model, tokenizer=model.tokenizer, aggregation_strategy="first"
    )
    return [[(e["entity_group"], e["start"], e["end"]) for e in ner(text)] for text in texts]


@pytest.mark.parametrize("model_fixture", ["dslim_model", "ontonotes_model"])
def test_entities_equal_transformers_first_aggregation(
    model_fixture: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(model_fixture)
    texts = [DEFAULT_TEXT, *CORPUS[1:], *random_texts(120)]
    expected = hf_first_aggregation(model, texts)
    mismatches = []
    n_entities = 0
    for text, want in zip(texts, expected, strict=True):
        got = [(e.type, e.start, e.end) for e in analyze(text, model).entities]
        n_entities += len(got)
        if got != want:
            mismatches.append((text, got, want))
    assert not mismatches, mismatches[:3]
    assert n_entities > 200  # the random model's labels really exercised the decoder


def test_analysis_is_consistent(dslim_model) -> None:
    a = analyze(DEFAULT_TEXT, dslim_model)
    n = len(dslim_model.tokenizer(DEFAULT_TEXT, add_special_tokens=False).input_ids)
    assert len(a.tokens) == n and a.coordinates.shape == (n, 3) and a.hidden.shape[0] == n
    assert a.entity_types == ["LOC", "PER", "ORG", "MISC"]
    assert all(a.text[e.start : e.end] == e.text for e in a.entities)
    # The cloud and the text agree: a token's class is its entity's type.
    for token, entity_index in enumerate(a.token_entity.tolist()):
        want = 0 if entity_index < 0 else a.entity_types.index(a.entities[entity_index].type) + 1
        assert a.class_ids[token] == want
    assert set(a.class_ids.tolist()) - {0}  # some entities were found
    assert a.entities[-1].end == len(DEFAULT_TEXT) or a.token_entity[-1] == -1


def test_same_seed_gives_identical_coordinates(dslim_model) -> None:
    first = analyze(DEFAULT_TEXT, dslim_model).coordinates
    second = analyze(DEFAULT_TEXT, dslim_model).coordinates
    np.testing.assert_array_equal(first, second)


def test_other_label_sets_keep_their_names(ontonotes_model) -> None:
    a = analyze(DEFAULT_TEXT, ontonotes_model)
    assert a.entity_types == ["PERSON", "GPE", "DATE", "ORG"]
    assert {e.type for e in a.entities} <= set(a.entity_types)


def test_few_tokens_fall_back_with_a_warning(dslim_model) -> None:
    with pytest.warns(UserWarning, match="too few for UMAP"):
        a = analyze("Hi", dslim_model)
    assert a.coordinates.shape == (len(a.tokens), 3)
    assert a.projection_method == "pca"
    assert np.isfinite(a.coordinates).all()


def test_every_layer_gets_its_own_view_and_the_last_matches_the_default(dslim_model) -> None:
    default = analyze(DEFAULT_TEXT, dslim_model)
    layered = analyze(DEFAULT_TEXT, dslim_model, layers="all")
    n = len(default.tokens)
    assert [view.layer for view in layered.layers] == [0, 1, 2] and not layered.last_layer_only
    assert default.last_layer_only and [view.layer for view in default.layers] == [2]
    # The deepest layer is projected on its own, so it looks exactly as when shown alone.
    np.testing.assert_array_equal(layered.coordinates, default.coordinates)
    for view in layered.layers:
        assert view.hidden.shape == (n, 32) and view.coordinates.shape == (n, 3)
        assert 0.0 <= view.separation <= 1.0 and 0.0 <= view.separation_3d <= 1.0
    assert not np.allclose(layered.layers[0].hidden, layered.layers[2].hidden)


def test_nearest_tokens_are_the_cosine_nearest_in_that_layer(dslim_model) -> None:
    from scipy.spatial.distance import cdist

    for view in analyze(DEFAULT_TEXT, dslim_model, layers=(0, 1)).layers:
        distances = cdist(view.hidden, view.hidden, "cosine")
        np.fill_diagonal(distances, np.inf)
        np.testing.assert_array_equal(view.nearest, np.argsort(distances, axis=1, kind="stable")[:, :5])


def test_aligned_layers_move_far_less_than_independent_fits(dslim_model) -> None:
    """The measure the layer view is built for: points move smoothly from layer to layer."""
    settings = ProjectionSettings()
    text = " ".join(CORPUS)
    layered = analyze(text, dslim_model, layers="all", projection=settings)
    aligned = mean_displacement([view.coordinates for view in layered.layers])
    independent = mean_displacement(
        [project_to_3d(view.hidden, settings).coordinates for view in layered.layers]
    )
    assert aligned < 0.6 * independent, (aligned, independent)


def test_many_layers_of_a_long_text_warn_before_the_work(
    dslim_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llm_embedding_ner.pipeline as pipeline

    monkeypatch.setattr(pipeline, "HEAVY_LAYERS_GIB", 1e-5)  # ~10 KiB: any multi-layer run here
    with pytest.warns(UserWarning, match=r"3 layers of \d+ tokens hold .* --layers 0,6,12"):
        analyze(DEFAULT_TEXT, dslim_model, layers="all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the last layer alone never warns
        analyze(DEFAULT_TEXT, dslim_model)
