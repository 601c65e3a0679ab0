"""Benchmark the layer view (``--layers all``): its cost against the single-layer run, and how
smoothly points move from layer to layer with each way of aligning the projections.

    python benchmarks/layers.py                  # prints two tables, writes benchmarks/layers.json
    python benchmarks/layers.py --aligned-umap   # also umap-learn's AlignedUMAP (about a minute more)

Time: new processes running the command line (``bench.py``'s measured child) on the default
text with the bert-base-shaped model and a warm numba cache, ``--layers last`` and
``--layers all`` interleaved; medians of end to end and of the projection stage.

Alignment: the hidden states of all 13 layers (embeddings + 12), for the default text and a
1,000-token text, projected by
- independent: each layer fitted alone from a spectral start, as if shown one at a time;
- independent + Procrustes: the same, each layer rotated and scaled onto the next deeper one;
- following (what the tool does): the deepest layer alone, each shallower layer started from the
  layout of the one after it with a gentler, shorter optimisation, then rotated onto it;
- AlignedUMAP (optional).
For each: mean displacement of points between consecutive layers after scaling each layer's cloud
to unit size; neighbour preservation, the share of each token's 15 nearest neighbours in hidden
space that are among its 15 nearest in 3D (mean over layers; higher means a truer picture); and
the time to project all 13 layers, neighbours included.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402
import bert_base_model  # noqa: E402


def time_runs(model: Path, text_file: Path, repeats: int) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="bench-layers-"))
    work = HERE / ".work"
    bench.run_once(model, text_file, cache, work, "all")  # fill the numba cache, not counted
    runs: dict[str, list[dict]] = {"last": [], "all": []}
    for _ in range(repeats):
        for layers in runs:
            runs[layers].append(bench.run_once(model, text_file, cache, work, layers))
    result = {
        layers: {
            "end_to_end": statistics.median(r["end_to_end"] for r in rs),
            "projection": statistics.median(r["stages"]["projection"] for r in rs),
            "all_end_to_end": [r["end_to_end"] for r in rs],
        }
        for layers, rs in runs.items()
    }
    result["ratio"] = result["all"]["end_to_end"] / result["last"]["end_to_end"]
    return result


def hidden_states(loaded, text: str) -> np.ndarray:  # -> (13, n, 768)
    from llm_embedding_ner.model.forward import run_model
    from llm_embedding_ner.model.windows import make_windows, special_frame, tokenize

    tokens = tokenize(loaded.tokenizer, text)
    windows = make_windows(tokens, *special_frame(loaded.tokenizer), loaded.max_length)
    return run_model(loaded.model, windows, loaded.device, layers=range(loaded.n_layers + 1)).hidden


def preservation(hidden: np.ndarray, layouts: list[np.ndarray]) -> float:
    from llm_embedding_ner.analysis.neighbours import nearest_neighbours

    shares = []
    for vectors, layout in zip(hidden, layouts, strict=True):
        true = nearest_neighbours(vectors, 15, "cosine").indices
        shown = nearest_neighbours(layout, 15, "euclidean").indices
        shares.append(np.mean([len(set(a) & set(b)) / 15 for a, b in zip(true, shown, strict=True)]))
    return float(np.mean(shares))


def compare_alignment(hidden: np.ndarray, aligned_umap: bool) -> dict:
    from llm_embedding_ner.analysis.layers import view_layers
    from llm_embedding_ner.analysis.neighbours import nearest_neighbours
    from llm_embedding_ner.analysis.projection import (
        ProjectionSettings,
        align_to,
        mean_displacement,
        project_to_3d,
    )

    settings = ProjectionSettings()
    layers = tuple(range(hidden.shape[0]))
    classes = np.zeros(hidden.shape[1], dtype=np.uint16)
    methods: dict[str, tuple[list[np.ndarray], float]] = {}

    start = time.perf_counter()
    independent = [
        project_to_3d(
            h, settings, nearest_neighbours(h, settings.n_neighbors - 1, settings.metric)
        ).coordinates
        for h in hidden
    ]
    methods["independent"] = (independent, time.perf_counter() - start)

    rotated = list(independent)
    for i in reversed(range(len(rotated) - 1)):
        rotated[i] = align_to(rotated[i], rotated[i + 1])
    methods["independent + Procrustes"] = (rotated, methods["independent"][1])

    start = time.perf_counter()
    views, _ = view_layers(layers, hidden, classes, settings)
    methods["following (shipped)"] = ([v.coordinates for v in views], time.perf_counter() - start)

    if aligned_umap:
        from llm_embedding_ner.analysis.numba_cache import import_umap

        umap = import_umap()
        identity = [{i: i for i in range(hidden.shape[1])}] * (len(layers) - 1)
        start = time.perf_counter()
        reducer = umap.AlignedUMAP(
            n_components=3, n_neighbors=15, min_dist=0.1, metric="cosine", random_state=42
        )
        reducer.fit(list(hidden), relations=identity)
        methods["AlignedUMAP"] = (list(reducer.embeddings_), time.perf_counter() - start)

    return {
        name: {
            "mean_displacement": mean_displacement(layouts),
            "neighbour_preservation": preservation(hidden, layouts),
            "seconds": seconds,
        }
        for name, (layouts, seconds) in methods.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each mode (default: 5)")
    parser.add_argument("--aligned-umap", action="store_true", help="also time umap-learn's AlignedUMAP")
    parser.add_argument("--out", default=str(HERE / "layers.json"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from transformers import AutoTokenizer

    from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT
    from llm_embedding_ner.model.model_loading import load_model

    (HERE / ".work").mkdir(exist_ok=True)
    model = bert_base_model.build(HERE / ".model")
    text_file = HERE / ".work" / "text_default.txt"
    text_file.write_text(DEFAULT_TEXT, encoding="utf-8")
    results: dict = {"machine": bench.machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    results["time"] = time_runs(model, text_file, args.repeats)

    loaded = load_model(str(model), "cpu")
    texts = {"default": DEFAULT_TEXT, "1k": bench.synthetic_text(1_000, AutoTokenizer.from_pretrained(model))}
    from llm_embedding_ner.analysis.projection import project_to_3d

    project_to_3d(np.random.default_rng(0).normal(size=(50, 8)))  # compile before timing
    results["alignment"] = {}
    for name, text in texts.items():
        hidden = hidden_states(loaded, text)
        results["alignment"][name] = {
            "tokens": hidden.shape[1],
            **compare_alignment(hidden, args.aligned_umap),
        }

    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))


def report(results: dict) -> str:
    t = results["time"]
    lines = [
        "| default text, warm | end to end | projection stage |",
        "| --- | --- | --- |",
        f"| --layers last | {t['last']['end_to_end']:.2f} s | {t['last']['projection']:.2f} s |",
        f"| --layers all | {t['all']['end_to_end']:.2f} s | {t['all']['projection']:.2f} s |",
        "",
        f"`--layers all` / `--layers last`: {t['ratio']:.2f}x end to end (medians).",
        "",
        "| text | tokens | method | mean displacement | neighbour preservation | time (13 layers) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for text, methods in results["alignment"].items():
        tokens = methods.pop("tokens")
        for name, m in methods.items():
            lines.append(
                f"| {text} | {tokens:,} | {name} | {m['mean_displacement']:.2f} "
                f"| {m['neighbour_preservation']:.3f} | {m['seconds']:.2f} s |"
            )
        methods["tokens"] = tokens
    lines += ["", f"Machine: {results['machine']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
