"""Models the tests build themselves: small BERTs with random weights and a WordPiece
tokenizer trained here on a few sentences. Nothing touches the network."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported anywhere
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

from llm_embedding_ner.default_text import DEFAULT_TEXT

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


def build_tokenizer(model_max_length: int):  # -> transformers tokenizer
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    backend = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(
        vocab_size=600, special_tokens=specials, initial_alphabet=ALPHABET, show_progress=False
    )
    backend.train_from_iterator(CORPUS * 3, trainer)
    cls, sep = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return BertTokenizerFast(
        tokenizer_object=backend,
        do_lower_case=False,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=model_max_length,
    )


def build_model_dir(
    path: Path, labels: list[str], max_positions: int = 128, seed: int = 0, hidden_size: int = 32
) -> Path:
    """Save a random-weight BertForTokenClassification and its tokenizer to ``path``."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    tokenizer = build_tokenizer(max_positions)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=max_positions,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(seed)
    model = BertForTokenClassification(config)
    # Random BERT logits are nearly flat and dominated by one label. Sharpen them and centre
    # them on the corpus, so labels change from token to token and about half the words are O:
    # that exercises every decoding path (B after I, I after O, an entity at the very end, ...).
    model.eval()
    with torch.no_grad():
        batch = tokenizer(CORPUS, return_tensors="pt", padding=True, truncation=True)
        hidden = model.bert(**batch).last_hidden_state[batch["attention_mask"].bool()]
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
    from llm_embedding_ner.model_loading import load_model

    return load_model(str(dslim_model_dir), device="cpu")


@pytest.fixture(scope="session")
def ontonotes_model(ontonotes_model_dir: Path):  # -> LoadedModel
    from llm_embedding_ner.model_loading import load_model

    return load_model(str(ontonotes_model_dir), device="cpu")
