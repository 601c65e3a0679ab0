"""Benchmark a comparison of models: two models against one, on the default text.

    python benchmarks/models.py                 # 5 rounds; prints a table, writes benchmarks/models.json
    python benchmarks/models.py --repeats 9

Each run is a new process running the command line (``--headless --save``) with a warm numba
cache: one model (``--model A``), two models (``--model A --model B``), and one model with
``--layers all`` for scale, interleaved round by round so that a noisy machine slows all alike.
A and B are bert-base-shaped with random weights (bert_base_model.py, seeds 0 and 1, one
tokenizer: two checkpoints of one run). Reported: medians of end to end (process start to
exit) and of the work after the imports (the command line's ``main``, with torch, transformers
and rerun already imported: model loading, forward, projection, logging), their per-round
ratios to one model, and the peak RSS of the main process and of the projection process.
Issue 13's target: two models at most 2.2x one model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402
import bert_base_model  # noqa: E402

CASES = {
    "one model": ["--model", "{a}"],
    "two models": ["--model", "{a}", "--model", "{b}"],
    "one model, --layers all": ["--model", "{a}", "--layers", "all"],
}


def child(argv: list[str]) -> None:
    """One measured run of the command line; prints a JSON object last on stdout. torch,
    transformers and rerun are imported before the clock of ``work`` starts, so that ``work``
    is what the models cost (one run imports them inside its model loading, the other before)."""
    import rerun  # noqa: F401
    import torch  # noqa: F401
    import transformers.models.bert.modeling_bert  # noqa: F401

    from llm_embedding_ner import cli

    started = time.perf_counter()
    code = cli.main(argv)
    assert code == 0, f"run failed with exit code {code}"
    print(
        json.dumps(
            {
                "work": time.perf_counter() - started,
                "end_to_end": time.time() - float(os.environ["BENCH_SPAWNED"]),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def run_once(args: list[str], cache: Path, out: Path) -> dict:
    return bench.run_child(Path(__file__), [*args, "--headless", "--save", str(out)], cache)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    a = bert_base_model.build(HERE / ".model")
    b = bert_base_model.build(HERE / ".model-b", seed=1)
    cache = Path(tempfile.mkdtemp(prefix="bench-models-"))
    out = Path(tempfile.mkdtemp(prefix="bench-models-out-")) / "out.rrd"
    cases = {name: [part.format(a=a, b=b) for part in case] for name, case in CASES.items()}
    run_once(cases["two models"], cache, out)  # fill the numba cache, not counted
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for round_ in range(args.repeats):
        for name, case in cases.items():
            runs[name].append(run_once(case, cache, out))
        print(f"round {round_ + 1}/{args.repeats} done", file=sys.stderr)
    results = {
        name: {
            "end_to_end": statistics.median(r["end_to_end"] for r in rs),
            "work": statistics.median(r["work"] for r in rs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "child_peak_rss_mb": max(r["child_peak_rss_mb"] for r in rs),
            "all_end_to_end": [r["end_to_end"] for r in rs],
        }
        for name, rs in runs.items()
    }
    one = runs["one model"]
    for name, rs in runs.items():  # per-round ratios, so a slow round slows both sides alike
        results[name]["ratio_end_to_end"] = statistics.median(
            r["end_to_end"] / o["end_to_end"] for r, o in zip(rs, one, strict=True)
        )
        results[name]["ratio_work"] = statistics.median(
            r["work"] / o["work"] for r, o in zip(rs, one, strict=True)
        )
    rows = [
        [
            name,
            f"{r['end_to_end']:.1f} s",
            f"{r['ratio_end_to_end']:.2f}",
            f"{r['work']:.1f} s",
            f"{r['ratio_work']:.2f}",
            bench.peak_rss_cell(r),
        ]
        for name, r in results.items()
    ]
    header = [
        "run (default text, warm)",
        "end to end",
        "/ one",
        "work after imports",
        "/ one",
        bench.PEAK_RSS_HEADER,
    ]
    print(f"{bench.machine()}, {args.repeats} rounds, medians\n")
    print(bench.markdown_table(header, rows))
    (HERE / "models.json").write_text(
        json.dumps({"machine": bench.machine(), "repeats": args.repeats, "results": results}, indent=2) + "\n"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
