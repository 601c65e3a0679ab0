"""--layers: last, all, or a list, checked against the model's depth."""

from __future__ import annotations

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.model.layer_selection import parse_layers, resolve_layers


def test_words_and_lists() -> None:
    assert parse_layers("last") == "last" and parse_layers(" ALL ") == "all"
    assert parse_layers("12,0,4, 8,4") == (0, 4, 8, 12)
    assert resolve_layers("last", 12) == (12,)
    assert resolve_layers("all", 2) == (0, 1, 2)
    assert resolve_layers((0, 4), 12) == (0, 4)


@pytest.mark.parametrize("spec", ["", "first", "1,,2", "-1", "1.5", "0;4"])
def test_bad_specs_are_user_errors(spec: str) -> None:
    with pytest.raises(UserError, match="give last, all, or layer numbers"):
        parse_layers(spec)


def test_layers_deeper_than_the_model_are_refused() -> None:
    with pytest.raises(UserError, match=r"--layers 13,20: this model has layers 0 \(embeddings\) to 12"):
        resolve_layers((0, 13, 20), 12)
