"""Small random models of every popular NER family, with tokenizers trained here.

Each tokenizer is made the way transformers 5 makes that family's tokenizer (its own class,
given a vocabulary trained on a few sentences: WordPiece's by our own deterministic merges,
see ``wordpiece_vocabulary``; the others by the ``tokenizers`` library's trainers), so it has
the family's real normaliser, pre-tokenizer, decoder and special tokens:

    bert-cased, bert-uncased, distilbert, electra   WordPiece, [CLS] ... [SEP]
    roberta                                         byte-level BPE, <s> ... </s>, positions from 2
    xlm-roberta                                     Unigram + Metaspace, <s> ... </s>, positions from 2
    deberta-v3                                      Unigram + Metaspace, [CLS] ... [SEP], relative positions

Nothing touches the network.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

FAMILIES = ("bert-cased", "bert-uncased", "distilbert", "electra", "roberta", "xlm-roberta", "deberta-v3")
WORDPIECE_FAMILIES = ("bert-cased", "bert-uncased", "distilbert", "electra")
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # pad is id 1, as in RoBERTa and XLM-R


def _training_text() -> list[str]:
    from .conftest import CORPUS

    return CORPUS * 3


def wordpiece_vocabulary(words: list[str], alphabet: list[str], size: int) -> dict[str, int]:
    """WordPiece's vocabulary as the ``tokenizers`` trainer builds it (BPE merges over the words,
    "##" before a piece inside a word), with ties broken by the pieces themselves: the library's
    trainer breaks them by ids given in hash-map order, so its vocabulary, and every test model
    built on it, changed from one process to the next (huggingface/tokenizers#1794)."""
    counts: dict[tuple[str, ...], int] = {}
    for word in words:
        pieces = (word[0], *("##" + c for c in word[1:]))
        counts[pieces] = counts.get(pieces, 0) + 1
    vocabulary = [*BERT_SPECIALS, *alphabet]
    vocabulary += sorted({p for pieces in counts for p in pieces} - set(vocabulary))
    while len(vocabulary) < size:
        pairs: dict[tuple[str, str], int] = {}
        for pieces, count in counts.items():
            for pair in itertools.pairwise(pieces):
                pairs[pair] = pairs.get(pair, 0) + count
        if not pairs:
            break
        a, b = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merged = a + b.removeprefix("##")
        counts = {_merge(pieces, a, b, merged): count for pieces, count in counts.items()}
        if merged not in vocabulary:
            vocabulary.append(merged)
    return {piece: i for i, piece in enumerate(vocabulary)}


def _merge(pieces: tuple[str, ...], a: str, b: str, merged: str) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(pieces):
        if i + 1 < len(pieces) and pieces[i] == a and pieces[i + 1] == b:
            out.append(merged)
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return tuple(out)


def wordpiece_tokenizer(lowercase: bool, model_max_length: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    from .conftest import ALPHABET

    backend = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    # Uncased BERT lowercases and strips accents: "Zoë" is read as "zoe".
    backend.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece()
    alphabet = sorted({c.lower() for c in ALPHABET}) if lowercase else ALPHABET
    words = [
        word
        for text in _training_text()
        for word, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(text))
    ]
    backend.model = models.WordPiece(wordpiece_vocabulary(words, alphabet, 600), unk_token="[UNK]")
    cls, sep = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return BertTokenizerFast(
        tokenizer_object=backend,
        do_lower_case=lowercase,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=model_max_length,
    )


def byte_level_bpe_tokenizer() -> Any:
    """RoBERTa's: byte-level BPE, no space before the first word. Saved without a
    ``model_max_length``, as many RoBERTa-family tokenizers are."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import RobertaTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=ROBERTA_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_training_text(), trainer)
    model = json.loads(backend.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return RobertaTokenizerFast(vocab=model["vocab"], merges=merges)


def unigram_vocabulary(specials: list[str], unk: str) -> list[tuple[str, float]]:
    """A SentencePiece-style Unigram vocabulary: pieces with their log probabilities, ``▁`` for
    the space before a word. Characters it never saw become the unknown piece."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.Unigram())
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=400, special_tokens=specials, unk_token=unk, show_progress=False
    )
    backend.train_from_iterator(_training_text(), trainer)
    return [(piece, score) for piece, score in json.loads(backend.to_str())["model"]["vocab"]]


def build_tokenizer(family: str, max_positions: int) -> Any:
    from transformers import DebertaV2TokenizerFast, XLMRobertaTokenizerFast

    if family in WORDPIECE_FAMILIES:
        return wordpiece_tokenizer(family == "bert-uncased", max_positions)
    if family == "roberta":
        return byte_level_bpe_tokenizer()
    if family == "xlm-roberta":
        return XLMRobertaTokenizerFast(vocab=unigram_vocabulary(ROBERTA_SPECIALS, "<unk>"))
    if family == "deberta-v3":
        vocabulary = unigram_vocabulary(BERT_SPECIALS, "[UNK]")
        return DebertaV2TokenizerFast(vocab=vocabulary, model_max_length=max_positions)
    raise ValueError(f"unknown family {family!r}")


def build_model(family: str, vocab_size: int, labels: list[str], max_positions: int, hidden_size: int) -> Any:
    """A random-weight ``*ForTokenClassification`` of ``family`` for ``max_positions`` tokens."""
    import transformers as t

    label_maps = {"id2label": dict(enumerate(labels)), "label2id": {x: i for i, x in enumerate(labels)}}
    shape = {
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 2 * hidden_size,
        **label_maps,
    }
    if family in ("bert-cased", "bert-uncased"):
        return t.BertForTokenClassification(t.BertConfig(max_position_embeddings=max_positions, **shape))
    if family == "electra":
        config = t.ElectraConfig(
            embedding_size=hidden_size // 2, max_position_embeddings=max_positions, **shape
        )
        return t.ElectraForTokenClassification(config)
    if family == "distilbert":
        config = t.DistilBertConfig(
            vocab_size=vocab_size,
            dim=hidden_size,
            n_layers=2,
            n_heads=2,
            hidden_dim=2 * hidden_size,
            max_position_embeddings=max_positions,
            **label_maps,
        )
        return t.DistilBertForTokenClassification(config)
    if family in ("roberta", "xlm-roberta"):
        # Positions are numbered from pad_token_id + 1 = 2: two more than the tokens they hold.
        config_class = t.RobertaConfig if family == "roberta" else t.XLMRobertaConfig
        config = config_class(
            max_position_embeddings=max_positions + 2, pad_token_id=1, bos_token_id=0, eos_token_id=2, **shape
        )
        model_class = (
            t.RobertaForTokenClassification if family == "roberta" else t.XLMRobertaForTokenClassification
        )
        return model_class(config)
    if family == "deberta-v3":
        config = t.DebertaV2Config(
            max_position_embeddings=max_positions,
            relative_attention=True,
            position_biased_input=False,
            pos_att_type=["p2c", "c2p"],
            position_buckets=64,
            norm_rel_ebd="layer_norm",
            share_att_key=True,
            pad_token_id=0,
            **shape,
        )
        return t.DebertaV2ForTokenClassification(config)
    raise ValueError(f"unknown family {family!r}")
