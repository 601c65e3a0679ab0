"""How well the suspect ranking finds wrong gold labels: planted errors in a real CoNLL-2003 split.

    python benchmarks/suspects.py                              # test split, docs/.demo-model
    python benchmarks/suspects.py --split valid --tune         # choose suspects.WEIGHTS
    python benchmarks/suspects.py --cleanconll cleanconll.dev  # real errors (real_errors.py)

A seeded few per cent of the split's gold entities are corrupted in the proportions real
annotation noise has (type swaps among LOC/ORG/MISC most often, then missed entities, boundary
shifts and spurious entities), the tool analyses the corrupted split once with the demo model
(trained on the training split only, ``docs/demo_model.py``), and four rankings of the same
analysis are scored by precision and recall at 50, 100, 200 and 500 of recovering the planted
errors:

- cleanlab alone: cleanlab's own ranking of words (``get_label_quality_scores`` on word-level
  classes, then ``issues_from_scores``), as a user of cleanlab gets it: one item per word;
- model disagreement alone: every span where the model's entities and the gold ones differ,
  most confident prediction first;
- cleanlab's scores on spans: the shipped candidates and span logic, model evidence only;
- the shipped ranking (``analysis.suspects``).

An item recovers a planted error when it overlaps the error's words (for a boundary shift, the
old and new span together) in the same sentence. The split's own annotation errors are not
planted, so every ranking's precision is a lower bound. ``--tune`` tries weight triples and
prints the best by precision at 100 and 200; it is meant for the validation split, so that the
test split's figures are not tuned to. Writes benchmarks/suspects.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "docs"))

import bench  # noqa: E402
from conll2003 import conll2003  # noqa: E402

CUTS = (50, 100, 200, 500)
SHARE_PLANTED = 0.05  # of the gold entities
# Real noise: CleanCoNLL's corrections are mostly type changes, then missed entities, boundaries.
KINDS = {"type swap": 0.5, "missed entity": 0.2, "boundary shift": 0.15, "spurious entity": 0.15}
CONFUSABLE = ("LOC", "ORG", "MISC")

Span = tuple[int, int, int]  # (global sentence, first word, end word)


def plant(docs, seed: int) -> tuple[list, list[tuple[str, Span]]]:
    """Documents with a seeded share of their gold entities corrupted, and the planted errors."""
    from llm_embedding_ner.analysis.evaluation import chunks
    from llm_embedding_ner.analysis.gold import global_sentences
    from llm_embedding_ner.inputs.tag_schemes import tags_from_chunks

    rng = np.random.default_rng(seed)
    tags = [t for d in docs for t in d.gold_tags]
    words = [d.text[a:b] for d in docs for a, b in d.words]
    sentence = global_sentences(docs)
    gold = chunks(tags, sentence)
    n_planted = round(SHARE_PLANTED * len(gold))
    picked = rng.permutation(len(gold))
    kinds = rng.choice(list(KINDS), size=n_planted, p=list(KINDS.values()))
    result = list(gold)
    taken = np.zeros(len(tags), dtype=bool)
    planted: list[tuple[str, Span]] = []
    used = 0
    for kind in kinds:
        while used < len(picked):
            index = int(picked[used])
            used += 1
            t, s, e = gold[index]
            if taken[max(0, s - 1) : e + 1].any():
                continue
            break
        else:
            break
        if kind == "type swap":
            choices = [c for c in CONFUSABLE if c != t] if t in CONFUSABLE else list(CONFUSABLE)
            result[index] = (str(rng.choice(choices)), s, e)
            span = (s, e)
        elif kind == "missed entity":
            result[index] = None
            span = (s, e)
        elif kind == "boundary shift":
            grow = e - s == 1 or rng.random() < 0.5
            if grow and e < len(tags) and sentence[e] == sentence[s] and tags[e] == "O":
                result[index], span = (t, s, e + 1), (s, e + 1)
            elif grow and s > 0 and sentence[s - 1] == sentence[s] and tags[s - 1] == "O":
                result[index], span = (t, s - 1, e), (s - 1, e)
            elif e - s > 1:
                result[index], span = (t, s, e - 1), (s, e)
            else:
                continue
        else:  # spurious: a capitalised word outside every entity, the kind annotators mark
            free = [
                i
                for i in rng.choice(len(tags), size=200, replace=False).tolist()
                if tags[i] == "O" and not taken[max(0, i - 1) : i + 2].any() and words[i][:1].isupper()
            ]
            if not free:
                continue
            i = free[0]
            result.append((str(rng.choice((*CONFUSABLE, "PER"))), i, i + 1))
            span = (i, i + 1)
        taken[span[0] : span[1]] = True
        planted.append((str(kind), (int(sentence[span[0]]), *span)))
    new_tags = tags_from_chunks(len(tags), [c for c in result if c is not None])
    out, at = [], 0
    for d in docs:
        out.append(replace(d, gold_tags=new_tags[at : at + len(d.words)]))
        at += len(d.words)
    return out, planted


def score(items: list[Span], planted: list[tuple[str, Span]]) -> dict[str, float]:
    """Precision and recall at each cut: items that overlap a planted error, errors overlapped."""
    by_sentence: dict[int, list[tuple[int, int, int]]] = {}
    for number, (_, (sentence, s, e)) in enumerate(planted):
        by_sentence.setdefault(sentence, []).append((s, e, number))
    out: dict[str, float] = {}
    for cut in CUTS:
        hits, found = 0, set()
        for sentence, s, e in items[:cut]:
            matched = [n for a, b, n in by_sentence.get(sentence, []) if s < b and a < e]
            hits += bool(matched)
            found.update(matched)
        out[f"P@{cut}"] = hits / cut
        out[f"R@{cut}"] = len(found) / len(planted)
    return out


def cleanlab_words(analysis) -> list[Span]:
    """cleanlab's own ranking of words, one item per word, worst label quality first."""
    from cleanlab.token_classification.rank import get_label_quality_scores, issues_from_scores

    from llm_embedding_ner.analysis.suspects import OUTSIDE, Words, gold_class_ids

    g = analysis.gold
    classes = [OUTSIDE, *analysis.entity_types]
    probabilities = np.nan_to_num(g.word_probabilities, nan=1.0 / len(classes))
    words = Words(
        [""] * len(g.gold_tags), g.gold_tags, g.predicted_tags, g.word_sentence, classes, probabilities, None
    )
    given = gold_class_ids(words)
    starts = np.r_[np.flatnonzero(np.r_[True, np.diff(g.word_sentence) != 0]), len(given)]
    sentences = [np.arange(a, b) for a, b in itertools.pairwise(starts)]
    sentence_scores, token_scores = get_label_quality_scores(
        [given[s] for s in sentences], [probabilities[s] for s in sentences]
    )
    issues = issues_from_scores(sentence_scores, token_scores=token_scores, threshold=1.0)
    return [
        (int(g.word_sentence[sentences[i][j]]), int(sentences[i][j]), int(sentences[i][j]) + 1)
        for i, j in issues
    ]


def disagreements(analysis) -> list[Span]:
    """Every span where the model's entities and the gold ones differ, the model's most confident
    first (its mean probability of its own word-level class over the span)."""
    from llm_embedding_ner.analysis.evaluation import chunks

    g = analysis.gold
    gold, predicted = chunks(g.gold_tags, g.word_sentence), chunks(g.predicted_tags, g.word_sentence)
    spans = {(s, e) for _, s, e in set(gold) ^ set(predicted)}
    confidence = np.nan_to_num(g.word_probabilities, nan=0.0).max(axis=1)
    ranked = sorted(spans, key=lambda se: (-confidence[se[0] : se[1]].mean(), se))
    return [(int(g.word_sentence[s]), s, e) for s, e in ranked]


def spans_of(suspects) -> list[Span]:
    return [(s.first_word, s.first_word, s.end_word) for s in suspects]


def ranked_with(analysis, docs, weights) -> list[Span]:
    from llm_embedding_ner.analysis.gold import rank_suspects

    word_starts = np.asarray([d.first_word for d in analysis.documents] + [analysis.documents[-1].end_word])
    found = rank_suspects(
        docs,
        analysis.word_ids,
        word_starts,
        analysis.gold,
        analysis.entity_types,
        analysis.layers[-1].nearest,
        weights,
    )
    return [(int(analysis.gold.word_sentence[s.first_word]), s.first_word, s.end_word) for s in found]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", default="test", choices=["test", "valid"])
    parser.add_argument("--model", default=str(HERE.parent / "docs" / ".demo-model"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tune", action="store_true", help="try weight triples (use on the valid split)")
    parser.add_argument(
        "--out", default=None, help="default benchmarks/suspects.json (--cleanconll: suspects_real.json)"
    )
    parser.add_argument(
        "--cleanconll",
        type=Path,
        help="CleanCoNLL's relabelling of the validation split (real_errors.py says how to build it): "
        "measure against its real errors instead of planted ones",
    )
    parser.add_argument(
        "--run",
        default=str(HERE.parent / "docs" / ".demo-model-valid" / "checkpoints"),
        help="with --cleanconll: the checkpoints of a run trained on train + valid "
        "(python docs/demo_model.py docs/.demo-model-valid --splits train valid)",
    )
    args = parser.parse_args()
    if args.cleanconll:
        return real(args)
    args.out = args.out or str(HERE / "suspects.json")
    if not Path(args.model, "config.json").exists():
        sys.exit(f"error: no model at {args.model}; train it with python docs/demo_model.py docs/.demo-model")

    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.inputs.documents import Corpus
    from llm_embedding_ner.pipeline import analyze

    clean = read_corpus(None, str(conll2003(args.split)), "")
    docs, planted = plant(clean.documents, args.seed)
    counts = {k: sum(kind == k for kind, _ in planted) for k in KINDS}
    print(f"{args.split}: {len(planted)} planted errors {counts}", file=sys.stderr)
    start = time.perf_counter()
    analysis = analyze(Corpus(docs, clean.format, clean.split), args.model)
    total = time.perf_counter() - start
    rankings = {
        "cleanlab alone (words)": cleanlab_words(analysis),
        "model disagreement alone": disagreements(analysis),
        "cleanlab's scores on spans": ranked_with(analysis, docs, (1.0, 0.0, 0.0)),
        "shipped ranking": [
            (int(analysis.gold.word_sentence[s.first_word]), s.first_word, s.end_word)
            for s in analysis.suspects
        ],
    }
    results = {name: score(items, planted) for name, items in rankings.items()}
    for name, items in rankings.items():
        results[name]["items"] = len(items)
    tuned = {}
    if args.tune:
        grid = [
            w for w in itertools.product((0.4, 0.6, 0.8, 1.0), (0.0, 0.1, 0.2, 0.4), (0.0, 0.1, 0.2, 0.4))
        ]
        for w in grid:
            s = score(ranked_with(analysis, docs, w), planted)
            tuned[str(w)] = s
        best = sorted(tuned.items(), key=lambda kv: -(kv[1]["P@100"] + kv[1]["P@200"]))[:8]
        for w, s in best:
            print(w, {k: round(v, 3) for k, v in s.items()}, file=sys.stderr)
    header = ["ranking", *[f"P@{c}" for c in CUTS], *[f"R@{c}" for c in CUTS]]
    rows = [[name, *[f"{r[h]:.2f}" for h in header[1:]]] for name, r in results.items()]
    print(bench.markdown_table(header, rows))
    suspects_seconds = analysis.timings.get("suspects", 0.0)
    print(
        f"\n{len(planted)} planted errors in {len(analysis.gold.gold_tags):,} words ({counts}); "
        f"{len(analysis.suspects):,} suspects. Suspect ranking {suspects_seconds:.1f} s of a {total:.0f} s "
        f"analysis ({100 * suspects_seconds / total:.1f} %). Model: {args.model}. Machine: {bench.machine()}."
    )
    Path(args.out).write_text(
        json.dumps(
            {
                "split": args.split,
                "machine": bench.machine(),
                "when": time.strftime("%Y-%m-%d %H:%M"),
                "planted": counts,
                "seed": args.seed,
                "results": results,
                "suspects_seconds": suspects_seconds,
                "analysis_seconds": total,
                "timings": analysis.timings,
                "tuned": tuned,
            },
            indent=2,
        )
        + "\n"
    )


def real(args: argparse.Namespace) -> None:
    """The tables against CleanCoNLL (real_errors.py), printed and written as JSON."""
    import real_errors

    models = {"--model": args.model, "--run": args.run}
    missing = [f"{k} {v}" for k, v in models.items() if not Path(v).is_dir()]
    if missing:
        sys.exit(f"error: no model at {', '.join(missing)} (docs/demo_model.py trains them)")
    results = real_errors.measure(conll2003("valid"), args.cleanconll, args.model, args.run)
    print(real_errors.table(results))
    print(
        f"\n{results['confirmed errors']:,} of {results['words']:,} words of the validation split change "
        f"type in CleanCoNLL. Machine: {bench.machine()}."
    )
    out = Path(args.out or HERE / "suspects_real.json")
    results |= {"machine": bench.machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
