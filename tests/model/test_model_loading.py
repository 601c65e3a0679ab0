"""Loading models from a directory or the Hub cache, and the errors users see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.model.model_loading import load_model


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


def pickle_only_model(tmp_path: Path, source: Path) -> Path:
    """A copy of ``source`` whose weights are a pickle file instead of safetensors."""
    import shutil

    import torch
    from safetensors.torch import load_file

    target = tmp_path / "pickle-only"
    shutil.copytree(source, target)
    weights = load_file(target / "model.safetensors")
    (target / "model.safetensors").unlink()
    torch.save(weights, target / "pytorch_model.bin")
    return target


def test_pickle_weights_are_refused_unless_allowed(tmp_path: Path, dslim_model_dir: Path) -> None:
    model_dir = pickle_only_model(tmp_path, dslim_model_dir)
    with pytest.raises(UserError, match=r"only pickle .* --allow-pickle"):
        load_model(str(model_dir), device="cpu")
    loaded = load_model(str(model_dir), device="cpu", allow_pickle=True)
    assert loaded.labels[0] == "O"


def test_config_without_id2label_gives_each_label_its_own_class(
    tmp_path: Path, dslim_model_dir: Path
) -> None:
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from llm_embedding_ner.pipeline import analyze

    config = BertConfig(
        vocab_size=600,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
    )
    BertForTokenClassification(config).save_pretrained(tmp_path / "plain")
    AutoTokenizer.from_pretrained(dslim_model_dir).save_pretrained(tmp_path / "plain")
    analysis = analyze(
        "Ada Lovelace met Charles Babbage in London in 1843.", str(tmp_path / "plain"), device="cpu"
    )
    assert analysis.entity_types == ["LABEL_0", "LABEL_1", "LABEL_2"]
    # No label means "outside", so every word belongs to some entity.
    assert (analysis.class_ids > 0).all()


def test_tokenizer_without_offsets_is_refused() -> None:
    from llm_embedding_ner.model.windows import tokenize, tokenize_documents

    class SlowTokenizer:
        is_fast = False

    with pytest.raises(UserError, match="not a fast"):
        tokenize(SlowTokenizer(), "text")
    with pytest.raises(UserError, match="not a fast"):
        tokenize_documents(SlowTokenizer(), ["text"], [None], 512, "\n\n")


def fake_hub_cache(hf_home: Path, repo_id: str, files: Path) -> None:
    """Lay ``files`` out as huggingface_hub's cache holds a downloaded model repository."""
    import shutil

    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(files, repo / "snapshots" / commit)


def closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_cached_hub_model_loads_without_any_network_call(tmp_path: Path, dslim_model_dir: Path) -> None:
    fake_hub_cache(tmp_path / "hf", "someone/cached-ner", dslim_model_dir)
    out = tmp_path / "out.rrd"
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": closed_port_url()}
    for offline in ("1", "0"):  # offline, and online with a hub that would refuse every connection
        env["HF_HUB_OFFLINE"] = offline
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "llm_embedding_ner",
                "--model",
                "someone/cached-ner",
                "--headless",
                "--save",
                str(out),
                "--text",
                "Ada Lovelace met Charles Babbage in London.",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "downloading" not in result.stderr
        assert out.exists()


def load_uncached(tmp_path: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
    """The command line asked for a model that is not cached, with the Hub at ``endpoint``."""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0"}
    return subprocess.run(
        [sys.executable, "-m", "llm_embedding_ner", "--model", "someone/not-cached", "--headless", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unreachable_hub_names_the_model_and_the_way_to_run_offline(tmp_path: Path) -> None:
    result = load_uncached(tmp_path, closed_port_url())
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "someone/not-cached" in line
    assert "--model DIR" in line and "HF_HUB_OFFLINE=1" in line


def test_a_hub_that_never_answers_is_given_up_on_after_one_short_try(tmp_path: Path) -> None:
    """A firewall that drops packets, a captive portal: the connection opens, no answer comes.
    The Hub client alone would wait and retry for minutes; the error comes after one short try."""
    import socket

    with socket.socket() as silent:  # listens (the kernel completes connections) but never reads
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        result = load_uncached(tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "cannot be reached" in line and "HF_HUB_OFFLINE=1" in line


def test_directory_without_tokenizer_files_is_refused(tmp_path: Path, dslim_model_dir: Path) -> None:
    """transformers makes up an empty tokenizer when its files are missing: every word [UNK]."""
    import shutil

    model_only = tmp_path / "checkpoint-10"
    model_only.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(dslim_model_dir / name, model_only / name)
    with pytest.raises(UserError, match=r"checkpoint-10: its files for a tokenizer are missing"):
        load_model(str(model_only))


@pytest.mark.parametrize(
    ("positions", "padding_index", "tokenizer_max", "expected"),
    [
        (512, None, 512, 512),  # BERT
        (514, 1, 512, 512),  # roberta-large: the tokenizer knows
        (514, 1, int(1e30), 512),  # saved without model_max_length: positions 2..513 hold 512 tokens
        (130, 1, int(1e30), 128),
        (512, None, int(1e30), 512),  # DeBERTa-v3: relative positions, trained on 512
        (512, None, 256, 256),  # a tokenizer that asks for less
    ],
)
def test_usable_length_leaves_out_reserved_positions(
    positions: int, padding_index: int | None, tokenizer_max: int, expected: int
) -> None:
    from types import SimpleNamespace

    import torch

    from llm_embedding_ner.model.model_loading import usable_length

    table = torch.nn.Embedding(positions, 4, padding_idx=padding_index)
    model = SimpleNamespace(base_model=SimpleNamespace(embeddings=SimpleNamespace(position_embeddings=table)))
    config = SimpleNamespace(max_position_embeddings=positions)
    assert usable_length(config, model, SimpleNamespace(model_max_length=tokenizer_max)) == expected


def test_every_family_gets_its_usable_length(family_models: dict) -> None:
    # All are built for 64 tokens; RoBERTa and XLM-R have 66 positions and no model_max_length.
    assert {family: model.max_length for family, model in family_models.items()} == dict.fromkeys(
        family_models, 64
    )
    assert family_models["roberta"].tokenizer.model_max_length > 1_000_000
    assert family_models["roberta"].model.config.max_position_embeddings == 66


def test_damaged_or_missing_weights_end_in_one_line_naming_the_file(
    tmp_path: Path, dslim_model_dir: Path
) -> None:
    import shutil

    model = Path(shutil.copytree(dslim_model_dir, tmp_path / "damaged"))
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(UserError, match=r"model\.safetensors cannot be read"):
        load_model(str(model), device="cpu")
    weights.unlink()
    with pytest.raises(UserError, match="has no weights file"):
        load_model(str(model), device="cpu", allow_pickle=True)
