"""Loading models from a directory or the Hub cache, and the errors users see."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.model_loading import load_model


def test_local_directory_loads(dslim_model_dir: Path) -> None:
    loaded = load_model(str(dslim_model_dir), device="cpu")
    assert loaded.labels[:3] == ["O", "B-MISC", "I-MISC"]
    assert loaded.max_length == 256
    assert loaded.tokenizer.is_fast and not loaded.model.training


def test_missing_directory() -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_model("./no/such/model-dir", device="cpu")


def test_unknown_hub_id_offline_names_the_model_and_the_way_out() -> None:
    with pytest.raises(UserError) as error:
        load_model("nobody-here/no-such-ner-model", device="cpu")
    message = str(error.value)
    assert "nobody-here/no-such-ner-model" in message
    assert "--model DIR" in message and "HF_HUB_OFFLINE" in message


def test_model_without_token_classification_head_is_refused(tmp_path: Path, dslim_model_dir: Path) -> None:
    from transformers import AutoTokenizer, BertConfig, BertModel

    config = BertConfig(
        vocab_size=600, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    BertModel(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(dslim_model_dir).save_pretrained(tmp_path)
    with pytest.raises(UserError, match="no trained token-classification head"):
        load_model(str(tmp_path), device="cpu")


def test_directory_without_a_model_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(UserError, match="cannot be loaded as a model configuration"):
        load_model(str(tmp_path), device="cpu")


def test_unavailable_device_is_a_user_error(dslim_model_dir: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UserError, match="no cuda device"):
        load_model(str(dslim_model_dir), device="cuda")
