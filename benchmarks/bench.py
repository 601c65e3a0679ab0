"""Benchmark llm_embedding_ner end to end and per stage, cold and warm.

    python benchmarks/bench.py                      # every size, prints a table, writes results.json
    python benchmarks/bench.py --sizes default,1k --repeats 5

Each run is a new Python process that does what ``python -m llm_embedding_ner --file F --headless
--save out.rrd`` does (it calls the same ``main``), with timestamps around each stage:

- startup: interpreter start to the first line of the script;
- imports: torch, transformers (with its BERT modules), rerun (umap-learn is imported, and on a
  cold run compiled, by the command line's projection process, beside the model's loading);
- load model, tokenize, forward, decode, projection: the pipeline's own stage timings;
- logging: rr.script_setup, logging every entity path, rr.script_teardown (the .rrd written);
- end to end: process start to the end of ``main``; peak RSS: the process's maximum.

After ``main`` the same process times a bare ``model(input_ids=batch)`` loop over the same windows
and batch size, so the forward stage's overhead is a ratio. "cold" runs start with an empty numba
cache (UMAP compiles), "warm" runs reuse it. The model is bert-base-shaped with random weights
(see bert_base_model.py): exactly the cost of dslim/bert-base-NER.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {"default": 0, "1k": 1_000, "10k": 10_000, "100k": 100_000}
STAGES = [
    "startup",
    "imports",
    "load model",
    "tokenize",
    "forward",
    "decode",
    "projection",
    "suspects",
    "logging",
]


def synthetic_text(n_tokens: int, tokenizer) -> str:
    """News-like sentences, deterministic, grown until the tokenizer counts ``n_tokens``."""
    import random

    rng = random.Random(0)
    people = [
        "Angela Merkel",
        "Ada Lovelace",
        "Kofi Annan",
        "Marie Curie",
        "Nelson Mandela",
        "Li Wei",
        "Gabriel García Márquez",
        "Ngozi Okonjo-Iweala",
        "Jacinda Ardern",
        "Yuri Gagarin",
    ]
    places = [
        "Paris",
        "Nairobi",
        "São Paulo",
        "Kraków",
        "the Vistula",
        "New York",
        "Geneva",
        "Osaka",
        "Buenos Aires",
        "the Sahara",
        "Lake Baikal",
        "Reykjavík",
    ]
    groups = [
        "the United Nations",
        "Microsoft",
        "the World Health Organization",
        "Siemens",
        "the European Central Bank",
        "Reuters",
        "the University of Cape Town",
        "FIFA",
    ]
    things = [
        "the Nobel Prize",
        "the Olympic Games",
        "the Paris Agreement",
        "Brazilian",
        "Japanese",
        "the Tour de France",
        "Christmas",
        "the Apollo programme",
    ]
    templates = [
        "{p} arrived in {l} on Monday to meet officials from {o}.",
        "According to {o}, {p} will speak about {m} in {l} next week.",
        "In {l}, {p} said that {m} had changed the way people think about {o}.",
        "Reporters from {o} followed {p} from {l} to {l2}, where {m} was discussed.",
        "The {m} exhibition in {l} drew visitors who had read about {p} and {o}.",
    ]
    sentences: list[str] = []
    text = ""
    while True:
        for _ in range(200):
            sentences.append(
                rng.choice(templates).format(
                    p=rng.choice(people),
                    l=rng.choice(places),
                    l2=rng.choice(places),
                    o=rng.choice(groups),
                    m=rng.choice(things),
                )
            )
        text = " ".join(sentences)
        if len(tokenizer(text, add_special_tokens=False, verbose=False).input_ids) >= n_tokens:
            break
    # Trim to about n_tokens: cut at the sentence whose end passes the target.
    ids = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    end = ids["offset_mapping"][n_tokens - 1][1]
    stop = text.find(".", end)
    return text[: stop + 1 if stop >= 0 else len(text)]


def child(args: argparse.Namespace) -> None:
    """One measured run; prints a JSON object on stdout."""
    first_line = time.time()
    spawned = float(os.environ["BENCH_SPAWNED"])
    import resource

    marks: dict[str, float] = {"startup": first_line - spawned}
    start = time.perf_counter()
    import rerun  # noqa: F401
    import torch
    import transformers
    import transformers.models.bert.modeling_bert  # noqa: F401

    # umap-learn is not imported here: the command line imports it in its projection process,
    # beside the model's loading (see projection_process.py).
    marks["imports"] = time.perf_counter() - start

    from llm_embedding_ner import cli, pipeline
    from llm_embedding_ner.model import model_loading

    captured: dict[str, object] = {}
    real_analyze, real_load = pipeline.analyze, model_loading.load_model

    def load_and_keep(*a, **k):
        started = time.perf_counter()
        captured["model"] = real_load(*a, **k)
        marks["load model"] = time.perf_counter() - started
        return captured["model"]

    def analyze_and_time(*a, **k):
        result = real_analyze(*a, **k)
        captured["analysis"], captured["analyzed_at"] = result, time.perf_counter()
        return result

    model_loading.load_model, pipeline.analyze = load_and_keep, analyze_and_time
    code = cli.main(
        [
            "--model",
            args.model,
            "--file",
            args.file,
            "--layers",
            args.layers,
            "--headless",
            "--save",
            args.save,
            *(["--table", args.table] if args.table else []),
            "-q",
        ]
    )
    ended = time.perf_counter()
    end_to_end = time.time() - spawned
    assert code == 0, f"run failed with exit code {code}"
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The projection process has ended (the command line stops it after the analysis): its peak.
    child_peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    analysis = captured["analysis"]
    marks.update(analysis.timings)  # type: ignore[attr-defined]
    marks["logging"] = ended - captured["analyzed_at"]  # type: ignore[operator]

    # The bare loop: the same windows (a corpus: each document's own, padded and masked) and batch
    # size, straight through the model.
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.model.forward import DEFAULT_BATCH_SIZE
    from llm_embedding_ner.model.windows import tokenize_documents
    from llm_embedding_ner.pipeline import DOCUMENT_SEPARATOR

    loaded = captured["model"]
    documents = read_corpus(None, args.file, "").documents
    windows = tokenize_documents(
        loaded.tokenizer,  # type: ignore[attr-defined]
        [d.text for d in documents],
        [d.words for d in documents],
        loaded.max_length,  # type: ignore[attr-defined]
        DOCUMENT_SEPARATOR,
    ).windows
    start = time.perf_counter()
    with torch.inference_mode():
        for first in range(0, windows.input_ids.shape[0], DEFAULT_BATCH_SIZE):
            lengths = torch.from_numpy(windows.lengths[first : first + DEFAULT_BATCH_SIZE])
            batch = torch.from_numpy(
                windows.input_ids[first : first + DEFAULT_BATCH_SIZE, : int(lengths.max())]
            )
            mask = (torch.arange(batch.shape[1])[None, :] < lengths[:, None]).long()
            loaded.model(input_ids=batch, attention_mask=mask)  # type: ignore[attr-defined]
    bare_forward = time.perf_counter() - start

    print(
        json.dumps(
            {
                **picture_quality(analysis),
                "stages": marks,
                "end_to_end": end_to_end,
                "peak_rss_mb": peak_rss_mb,
                "child_peak_rss_mb": child_peak_rss_mb,
                "bare_forward": bare_forward,
                "tokens": len(analysis.tokens),  # type: ignore[attr-defined]
                "windows": int(windows.input_ids.shape[0]),
            }
        )
    )


QUALITY_SAMPLE = 2_000  # tokens whose exact hidden-space neighbours are found for the figure


def picture_quality(analysis) -> dict:
    """How faithful the 3D picture is: the separation of entity types in 3D (each token's 5
    nearest in 3D, as the tool reports it), and the share of each token's 15 nearest in hidden
    space (cosine, exact) that are among its 15 nearest in 3D, over a fixed sample of tokens."""
    import numpy as np
    from scipy.spatial import cKDTree

    view = analysis.layers[-1]
    hidden = np.asarray(view.hidden, dtype=np.float32)  # a corpus's are float16 on disk
    n = hidden.shape[0]
    rows = np.sort(np.random.default_rng(0).choice(n, min(QUALITY_SAMPLE, n), replace=False))
    unit = hidden / np.maximum(np.linalg.norm(hidden, axis=1, keepdims=True), 1e-12)
    hidden_nearest = np.empty((rows.size, 15), dtype=np.int64)
    for start in range(0, rows.size, 200):  # 200 rows of similarities at a time
        block = rows[start : start + 200]
        similarity = unit[block] @ unit.T
        similarity[np.arange(block.size), block] = -np.inf
        hidden_nearest[start : start + 200] = np.argpartition(-similarity, 15, axis=1)[:, :15]
    nearest_3d = cKDTree(view.coordinates).query(view.coordinates[rows], 16)[1][:, 1:]
    kept = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(hidden_nearest, nearest_3d, strict=True)])
    return {"separation_3d": view.separation_3d, "neighbours_kept": float(kept)}


def run_once(
    model: Path,
    text_file: Path,
    cache_home: Path,
    workdir: Path,
    layers: str = "last",
    table: Path | None = None,
) -> dict:
    args = ["--model", str(model), "--file", str(text_file), "--save", str(workdir / "out.rrd")]
    more = ["--table", str(table)] if table is not None else []
    return run_child(Path(__file__), [*args, "--layers", layers, *more], cache_home)


def run_child(script: Path, args: list[str], cache_home: Path) -> dict:
    """``script --child ARGS`` in a new process, offline, with ``cache_home`` as its cache and
    its spawn time in BENCH_SPAWNED; the JSON object it prints last."""
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache_home),
        "HF_HUB_OFFLINE": "1",
        "BENCH_SPAWNED": repr(time.time()),
    }
    command = [sys.executable, str(script), "--child", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    stages = {s: statistics.median(r["stages"].get(s, 0.0) for r in runs) for s in STAGES}
    return {
        "runs": len(runs),
        "tokens": runs[0]["tokens"],
        "windows": runs[0]["windows"],
        "stages": stages,
        "end_to_end": statistics.median(r["end_to_end"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "child_peak_rss_mb": max(r.get("child_peak_rss_mb", 0.0) for r in runs),
        "bare_forward": statistics.median(r["bare_forward"] for r in runs),
        "forward_ratio": statistics.median(r["stages"]["forward"] / r["bare_forward"] for r in runs),
        "all_end_to_end": [r["end_to_end"] for r in runs],
        "separation_3d": runs[0].get("separation_3d"),  # one seed: the same picture in every run
        "neighbours_kept": runs[0].get("neighbours_kept"),
    }


def help_time(repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "llm_embedding_ner", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    threads = torch.get_num_threads()
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, torch {torch.__version__} ({threads} threads)"


PEAK_RSS_HEADER = "peak RSS (+ UMAP process)"


def peak_rss_cell(run: dict) -> str:
    """The command line's peak and, beside it, its projection process's (they need not overlap)."""
    return f"{run['peak_rss_mb'] / 1024:.2f} (+ {run.get('child_peak_rss_mb', 0.0) / 1024:.2f}) GiB"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(row) + " |" for row in [header, ["---"] * len(header), *rows])


def table(results: dict) -> str:
    header = ["text", "mode", "tokens", *STAGES, "end to end", PEAK_RSS_HEADER, "fwd / bare"]
    rows = []
    for key, r in results["cases"].items():
        size, mode = key.split("/")
        rows.append(
            [
                size,
                mode,
                f"{r['tokens']:,}",
                *(f"{r['stages'][s]:.2f}" for s in STAGES),
                f"{r['end_to_end']:.1f} s",
                peak_rss_cell(r),
                f"{r['forward_ratio']:.2f}",
            ]
        )
    lines = [markdown_table(header, rows), ""]
    lines.append(f"Stage times in seconds, medians of the runs; `--help`: {results['help_seconds']:.2f} s.")
    lines.append(f"Machine: {results['machine']}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: default,1k,10k,100k")
    parser.add_argument("--cold-sizes", default=None, help="sizes to also run cold (default: all of --sizes)")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per size (100k: one)")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    parser.add_argument("--layers", default="last", help=argparse.SUPPRESS)
    parser.add_argument("--table", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    sys.path.insert(0, str(HERE))
    import bert_base_model
    from transformers import AutoTokenizer

    from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    model = bert_base_model.build(HERE / ".model")
    tokenizer = AutoTokenizer.from_pretrained(model)
    sizes = args.sizes.split(",")
    cold_sizes = sizes if args.cold_sizes is None else [s for s in args.cold_sizes.split(",") if s]

    results: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"), "cases": {}}
    results["help_seconds"] = help_time(args.repeats)
    warm_cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    for size in sizes:
        text_file = work / f"text_{size}.txt"
        text = DEFAULT_TEXT if size == "default" else synthetic_text(SIZES[size], tokenizer)
        text_file.write_text(text, encoding="utf-8")
        if size in cold_sizes:
            cold_cache = Path(tempfile.mkdtemp(prefix="bench-cold-"))
            results["cases"][f"{size}/cold"] = median_run([run_once(model, text_file, cold_cache, work)])
            shutil.rmtree(cold_cache, ignore_errors=True)
            print(f"{size}/cold done", file=sys.stderr)
        large = SIZES[size] >= 100_000
        if not large:  # fill the warm cache (not counted); 100k reuses what 10k compiled (NN-descent)
            run_once(model, text_file, warm_cache, work)
        repeats = 1 if large else args.repeats
        results["cases"][f"{size}/warm"] = median_run(
            [run_once(model, text_file, warm_cache, work) for _ in range(repeats)]
        )
        print(f"{size}/warm done", file=sys.stderr)
    shutil.rmtree(warm_cache, ignore_errors=True)

    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
