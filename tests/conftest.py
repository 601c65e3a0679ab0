"""Models the tests build themselves: small models with random weights and tokenizers trained
here on a few sentences (families.py has one of each family). Nothing touches the network."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported anywhere
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT

DSLIM_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
ONTONOTES_LABELS = ["O", "B-PERSON", "I-PERSON", "B-GPE", "I-GPE", "B-DATE", "I-DATE", "B-ORG", "I-ORG"]

CORPUS = [
    DEFAULT_TEXT,
    "Angela Merkel met Emmanuel Macron in Paris to discuss the European Union budget.",
    "Microsoft and Google opened offices in Berlin, Nairobi and São Paulo last year.",
    "The quick brown fox jumps over the lazy dog; the dog, unimpressed, went back to sleep.",
    "On Monday the United Nations said that the World Health Organization would meet in Geneva.",
    'Tokens, words and punctuation (brackets, quotes "like these", dashes - and slashes /) all count.',
    "Ada Lovelace wrote about the Analytical Engine of Charles Babbage in London in 1843.",
]
ALPHABET = list(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ßäöüéèáóíúñçłżśćęąÄÖÜÉŁŚŻ"
)


def build_model_dir(
    path: Path,
    labels: list[str],
    max_positions: int = 128,
    seed: int = 0,
    hidden_size: int = 32,
    family: str = "bert-cased",
    tokenizer_from: Path | None = None,
) -> Path:
    """Save a random-weight token-classification model of ``family`` (see families.py) and its
    tokenizer to ``path``; ``tokenizer_from``: take that model's tokenizer instead of training
    one (checkpoints of one run share it)."""
    import torch
    from transformers import AutoTokenizer

    from .families import build_model, build_tokenizer

    if tokenizer_from is None:
        tokenizer = build_tokenizer(family, max_positions)
    else:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_from)
    torch.manual_seed(seed)
    model = build_model(family, len(tokenizer), labels, max_positions, hidden_size)
    # Random logits are nearly flat and dominated by one label. Sharpen them and centre them on
    # the corpus, so labels change from token to token and about half the words are O: that
    # exercises every decoding path (B after I, I after O, an entity at the very end, ...).
    model.eval()
    with torch.no_grad():
        batch = tokenizer(
            CORPUS, return_tensors="pt", padding=True, truncation=True, max_length=max_positions
        )
        mask = batch["attention_mask"]
        hidden = model.base_model(input_ids=batch["input_ids"], attention_mask=mask).last_hidden_state
        hidden = hidden[mask.bool()]
        model.classifier.weight.mul_(50.0)
        model.classifier.bias.copy_(-model.classifier(hidden).mean(0) + model.classifier.bias)
        model.classifier.bias[0] += 5.0
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def dslim_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("dslim-like"), DSLIM_LABELS, max_positions=256)


@pytest.fixture(scope="session")
def ontonotes_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(
        tmp_path_factory.mktemp("ontonotes-like"), ONTONOTES_LABELS, max_positions=256, seed=1
    )


@pytest.fixture(scope="session")
def short_window_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Windows of 32 positions (30 text tokens), so long-text tests stay fast."""
    return build_model_dir(tmp_path_factory.mktemp("short-window"), DSLIM_LABELS, max_positions=32, seed=2)


@pytest.fixture(scope="session")
def dslim_model(dslim_model_dir: Path):  # -> LoadedModel
    from llm_embedding_ner.model.model_loading import load_model

    return load_model(str(dslim_model_dir), device="cpu")


@pytest.fixture(scope="session")
def ontonotes_model(ontonotes_model_dir: Path):  # -> LoadedModel
    from llm_embedding_ner.model.model_loading import load_model

    return load_model(str(ontonotes_model_dir), device="cpu")


@pytest.fixture(scope="session")
def family_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small model of each family in families.FAMILIES, windows of 64 positions."""
    from .families import FAMILIES

    return {
        family: build_model_dir(
            tmp_path_factory.mktemp(family), DSLIM_LABELS, max_positions=64, seed=3 + i, family=family
        )
        for i, family in enumerate(FAMILIES)
    }


@pytest.fixture(scope="session")
def family_models(family_model_dirs: dict[str, Path]) -> dict[str, object]:
    from llm_embedding_ner.model.model_loading import load_model

    return {family: load_model(str(path), device="cpu") for family, path in family_model_dirs.items()}


@pytest.fixture(scope="session")
def trainer_run(dslim_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Trainer output directory: checkpoint-10 and checkpoint-20, the tokenizer of dslim_model_dir."""
    run = tmp_path_factory.mktemp("trainer-run")
    for step, seed in ((10, 11), (20, 12)):
        build_model_dir(
            run / f"checkpoint-{step}",
            DSLIM_LABELS,
            max_positions=256,
            seed=seed,
            tokenizer_from=dslim_model_dir,
        )
    return run


@pytest.fixture(scope="session")
def encoder_dir(dslim_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pretrained encoder without a token-classification head (BertModel), same tokenizer."""
    from transformers import AutoModel, AutoTokenizer

    path = tmp_path_factory.mktemp("encoder")
    AutoModel.from_pretrained(dslim_model_dir).save_pretrained(path)
    AutoTokenizer.from_pretrained(dslim_model_dir).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def roberta_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(
        tmp_path_factory.mktemp("roberta"), DSLIM_LABELS, max_positions=256, seed=13, family="roberta"
    )


@pytest.fixture
def uncapped_suspects(monkeypatch: pytest.MonkeyPatch) -> None:
    """A random model's suspects all kept (its F1 would cut them to a handful): for tests of
    where suspects point and how they are written, not of how many a weak model may rank."""
    monkeypatch.setattr("llm_embedding_ner.analysis.gold.WEAK_F1", 0.0)
