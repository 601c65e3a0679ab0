"""A newcomer's run of the main command, against the seed's: first run (empty caches) and later runs.

    python benchmarks/first_run.py                  # 5 rounds, prints a table, writes first_run.json
    python benchmarks/first_run.py --rounds 9

Each round runs, one after the other in fresh processes, with the default text and the
bert-base-shaped model (bert_base_model.py; the cost of dslim/bert-base-NER), saving to an .rrd:

- seed: the seed's own command line (commit SEED_COMMIT, extracted with ``git archive``), which
  imports umap-learn plainly, so numba compiles UMAP's code in every run;
- first: this tool with an empty cache directory (XDG_CACHE_HOME), as right after ``pip install``;
- later: this tool again with the cache the first run left.

Alternating the three in each round keeps a noisy machine's drift out of the ratios. Times are
wall clock from process start to exit, as the user waits; medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import machine, markdown_table
from bert_base_model import build

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEED_COMMIT = "427bee2"  # the first commit: the flow the issue compares against


def extract_seed(into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", SEED_COMMIT, "llm_embedding_ner"], capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "first_run.json"))
    args = parser.parse_args()

    model = build(HERE / ".model")
    work = Path(tempfile.mkdtemp(prefix="first-run-"))
    seed = extract_seed(work / "seed")
    base_env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    base_env.pop("PYTHONPATH", None)
    save = ["--headless", "--save", str(work / "out.rrd")]
    arguments = ["-m", "llm_embedding_ner", "--model", str(model), *save]
    times: dict[str, list[float]] = {"seed": [], "first": [], "later": []}
    try:
        for round_ in range(args.rounds):
            cache = work / f"cache-{round_}"
            cache.mkdir()
            env = {**base_env, "XDG_CACHE_HOME": str(cache)}
            # The seed's package shadows the installed one when run from its own directory.
            times["seed"].append(timed([sys.executable, *arguments], env, cwd=seed))
            times["first"].append(timed([sys.executable, *arguments], env, cwd=work))
            times["later"].append(timed([sys.executable, *arguments], env, cwd=work))
            said = ", ".join(f"{run} {seconds[-1]:.1f} s" for run, seconds in times.items())
            print(f"round {round_ + 1}: {said}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {k: statistics.median(v) for k, v in times.items()}

    def over_seed(run: str) -> float:  # per round, then the median: each round's runs sat side by side
        return statistics.median(t / s for t, s in zip(times[run], times["seed"], strict=True))

    results = {
        "machine": machine(),
        "rounds": args.rounds,
        "seconds": times,
        "median_seconds": medians,
        "first_over_seed": over_seed("first"),
        "later_over_seed": over_seed("later"),
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        ["seed's flow (compiles UMAP every run)", f"{medians['seed']:.1f} s", "1.00"],
        [
            "this tool, first run (empty caches)",
            f"{medians['first']:.1f} s",
            f"{results['first_over_seed']:.2f}",
        ],
        ["this tool, later runs", f"{medians['later']:.1f} s", f"{results['later_over_seed']:.2f}"],
    ]
    print(markdown_table(["run", "wall time (median)", "/ seed (median of rounds)"], rows))
    print(f"\nDefault text, bert-base-shaped model, {args.rounds} rounds. Machine: {results['machine']}.")


if __name__ == "__main__":
    main()
