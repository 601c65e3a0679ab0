"""Benchmark a CoNLL corpus the size of a standard NER test set, end to end, warm.

    python benchmarks/corpus.py              # prints a table, writes benchmarks/corpus.json

The corpus is synthetic (never a third-party dataset): 3,500 news-like sentences from
``bench.synthetic_text`` in 234 documents (15 sentences each, like CoNLL-2003's test set), one
word per line (about 50,000 words), with random gold entities (IOB1, as CoNLL-2003 ships).
Each run is ``bench.py``'s measured child: a new process doing what ``python -m
llm_embedding_ner --file corpus.conll --headless --save out.rrd`` does, with the bert-base-shaped
model. A smaller corpus runs first to fill the numba cache (not counted).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402
import bert_base_model  # noqa: E402

TYPES = ["PER", "LOC", "ORG", "MISC"]


def synthetic_conll(n_sentences: int, tokenizer, sentences_per_document: int = 15, seed: int = 0) -> str:
    text = bench.synthetic_text(25 * n_sentences, tokenizer)
    sentences = [s for s in text.replace(". ", ".\n").splitlines() if s.strip()][:n_sentences]
    if len(sentences) < n_sentences:
        raise SystemExit(f"only {len(sentences)} sentences generated; raise the token target")
    rng = random.Random(seed)
    lines: list[str] = []
    for index, sentence in enumerate(sentences):
        if index % sentences_per_document == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
        # Punctuation split off as in CoNLL; sentences cut to CoNLL-2003's ~14 words on average.
        words = [*re.findall(r"\w[\w'-]*|[^\w\s]", sentence.removesuffix("."))[: rng.randint(6, 22)], "."]
        i = 0
        while i < len(words):
            if rng.random() < 0.1:
                entity_type, length = rng.choice(TYPES), rng.randint(1, 3)
                lines += [f"{w} NN I-NP I-{entity_type}" for w in words[i : i + length]]
                i += length
            else:
                lines.append(f"{words[i]} NN O O")
                i += 1
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=3_500)
    parser.add_argument("--repeats", type=int, default=1, help="measured runs (default: 1)")
    parser.add_argument("--out", default=str(HERE / "corpus.json"))
    args = parser.parse_args()

    from transformers import AutoTokenizer

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    model = bert_base_model.build(HERE / ".model")
    tokenizer = AutoTokenizer.from_pretrained(model)
    corpus = work / "corpus.conll"
    corpus.write_text(synthetic_conll(args.sentences, tokenizer), encoding="utf-8")
    warmup = work / "warmup.conll"
    warmup.write_text(synthetic_conll(500, tokenizer, seed=1), encoding="utf-8")
    lines = corpus.read_text(encoding="utf-8").splitlines()
    words = sum(1 for line in lines if line and not line.startswith("-DOCSTART-"))

    cache = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    bench.run_once(model, warmup, cache, work)
    runs = [bench.run_once(model, corpus, cache, work) for _ in range(args.repeats)]
    result = {
        "machine": bench.machine(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "sentences": args.sentences,
        "documents": sum(1 for line in lines if line.startswith("-DOCSTART-")),
        "words": words,
        **bench.median_run(runs),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    header = ["sentences", "documents", "words", "tokens", *bench.STAGES, "end to end", bench.PEAK_RSS_HEADER]
    row = [
        f"{result['sentences']:,}",
        f"{result['documents']:,}",
        f"{words:,}",
        f"{result['tokens']:,}",
        *(f"{result['stages'][s]:.1f}" for s in bench.STAGES),
        f"{result['end_to_end']:.0f} s",
        bench.peak_rss_cell(result),
    ]
    print(bench.markdown_table(header, [row]))
    print(f"\nStage times in seconds, median of {len(runs)} warm run(s). Machine: {result['machine']}.")


if __name__ == "__main__":
    main()
