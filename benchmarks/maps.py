"""Reference maps and the live prompt, measured.

    python benchmarks/maps.py                      # demo model, CoNLL-2003 train as the map
    python benchmarks/maps.py --prompt-only        # only the prompt's latency (bert-base-shaped)

Part 1, the map (``docs/.demo-model``, trained on CoNLL-2003): the training split analysed as
``--save-map`` would (252,043 tokens, a seeded sample of 50,000 kept), then
- reference tokens placed again: how far from their own coordinate, relative to the cloud's
  size (root-mean-square distance from its centre), over 2,000 of them;
- batch independence: 1,000 tokens of the test split placed together, and 50 of them alone;
- type agreement: the test split placed in the map; for its entity tokens, how often their 5
  nearest map tokens in 3D have their predicted type, against the same figure for the map's
  own entity tokens among their nearest (what the map's picture shows);
- the time to place the test split's 57,924 tokens.
Part 2, the prompt: a bert-base-shaped random model (dslim's compute), 30-token sentences, each
analysed and logged as ``--interactive`` does, warm (three first), with and without a map (a map
of the test split's first 40 documents by the same model): seconds from the line read to the
recording sent, median and 90th percentile of 20.

Prints the tables and writes benchmarks/maps.json; ``--keep-map PATH`` also saves the training
split's map (docs/screenshots.py now makes the maps tutorial's picture itself).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "docs"))

import bench  # noqa: E402
import bert_base_model  # noqa: E402
from conll2003 import conll2003  # noqa: E402

SENTENCE = (
    "Angela Merkel met Emmanuel Macron in Berlin on Monday to discuss the European Union budget "
    "and the future of Airbus before flying to Washington ."
)


def map_quality(model_dir: Path, keep: Path | None) -> dict:
    from scipy.spatial import cKDTree

    from llm_embedding_ner.analysis.reference_map import place, save_map, type_agreement
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.pipeline import analyze, map_of

    model = load_model(str(model_dir), "cpu")
    start = time.perf_counter()
    train = analyze(read_corpus(None, str(conll2003("train")), ""), model)
    m = map_of(train, model, source="train.txt")
    made = time.perf_counter() - start
    if keep is not None:
        save_map(m, keep)
    centred = m.coordinates - m.coordinates.mean(axis=0)
    size = float(np.sqrt((centred**2).sum(axis=1).mean()))

    rows = np.random.default_rng(0).choice(len(m.tokens), 2000, replace=False)
    again, _ = place(m, m.hidden[rows].astype(np.float32))
    moved = np.linalg.norm(again - m.coordinates[rows], axis=1) / size

    test = analyze(read_corpus(None, str(conll2003("test")), ""), model, reference_map=m)
    hidden = test.layers[-1].hidden
    batch = hidden[:1000]
    together, _ = place(m, batch)
    alone = np.stack([place(m, batch[i : i + 1])[0][0] for i in range(0, 1000, 20)])
    start = time.perf_counter()
    place(m, hidden)
    placing = time.perf_counter() - start

    tree = cKDTree(m.coordinates)
    own = type_agreement(tree.query(m.coordinates, 6)[1][:, 1:], m.class_ids, m.class_ids)
    placed = type_agreement(tree.query(test.coordinates, 5)[1], test.class_ids, m.class_ids)
    return {
        "map_tokens": len(m.tokens),
        "reference_tokens": m.total_tokens,
        "make_map_seconds": made,
        "cloud_size": size,
        "placed_again_median": float(np.median(moved)),
        "placed_again_p99": float(np.percentile(moved, 99)),
        "placed_again_max": float(moved.max()),
        "alone_vs_batch_max": float(np.abs(alone - together[::20]).max() / size),
        "type_agreement_map": own,
        "type_agreement_placed": placed,
        "test_tokens": int(hidden.shape[0]),
        "place_test_seconds": placing,
    }


def prompt_latency(repeats: int = 20) -> dict:
    import rerun as rr

    from llm_embedding_ner.analysis.projection import ProjectionSettings
    from llm_embedding_ner.analysis.projection_process import ProjectionProcess
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.inputs.documents import Corpus
    from llm_embedding_ner.interactive import SentenceOptions, show_sentence
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.pipeline import analyze, map_of

    model_dir = bert_base_model.build(HERE / ".model")
    model = load_model(str(model_dir), "cpu")
    n_tokens = len(model.tokenizer(SENTENCE, add_special_tokens=False).input_ids)
    test = read_corpus(None, str(conll2003("test")), "")
    small = Corpus(test.documents[:40], test.format, test.split)
    reference = map_of(analyze(small, model), model)
    settings = ProjectionSettings()
    results = {"sentence_tokens": n_tokens, "map_tokens": len(reference.tokens)}
    with tempfile.TemporaryDirectory() as folder:
        for name, m in (("without a map", None), ("with a map", reference)):
            projector = ProjectionProcess(settings, unless_loaded_here=False) if m is None else None
            project = projector.project if projector is not None else None
            recording = rr.RecordingStream("llm_embedding_ner_bench")
            recording.save(str(Path(folder) / f"{len(results)}.rrd"))
            seconds = []
            for index in range(repeats + 3):
                start = time.perf_counter()
                show_sentence(SENTENCE, index, model, SentenceOptions(settings), project, m, recording)
                seconds.append(time.perf_counter() - start)
            recording.flush()
            if projector is not None:
                projector.close()
            warm = seconds[3:]
            results[name] = {
                "median": statistics.median(warm),
                "p90": float(np.percentile(warm, 90)),
                "first": seconds[0],
            }
    return results


AGAIN = ("placed_again_median", "placed_again_p99", "placed_again_max")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(HERE.parent / "docs" / ".demo-model"))
    parser.add_argument("--prompt-only", action="store_true")
    parser.add_argument("--keep-map", type=Path, default=None)
    parser.add_argument("--out", default=str(HERE / "maps.json"))
    args = parser.parse_args()
    results: dict = {"machine": bench.machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    if not args.prompt_only:
        q = map_quality(Path(args.model), args.keep_map)
        results["map"] = q
        print(
            bench.markdown_table(
                ["map", "placed again (median / 99th pct / max, share of the cloud's size)", "alone vs batch",
                 "type agreement: test split placed / map's own", "placing the test split"],
                [[f"{q['map_tokens']:,} of {q['reference_tokens']:,} tokens",
                  " / ".join(f"{q[k]:.5f}" for k in AGAIN),
                  f"{q['alone_vs_batch_max']:.1e}",
                  f"{q['type_agreement_placed']:.3f} / {q['type_agreement_map']:.3f}",
                  f"{q['test_tokens']:,} tokens in {q['place_test_seconds']:.1f} s"]],
            )
        )  # fmt: skip
    p = prompt_latency()
    results["prompt"] = p
    print()
    print(
        bench.markdown_table(
            ["prompt, bert-base-shaped", "sentence", "median", "90th percentile", "first"],
            [[name, f"{p['sentence_tokens']} tokens", f"{p[name]['median']:.3f} s", f"{p[name]['p90']:.3f} s",
              f"{p[name]['first']:.3f} s"] for name in ("without a map", "with a map")],
        )
    )  # fmt: skip
    print(f"\nMachine: {results['machine']}.")
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
