"""The suspect ranking against real annotation errors: CleanCoNLL's relabelling of the CoNLL-2003
validation split (Rücker & Akbik, EMNLP 2023). Run through ``benchmarks/suspects.py --cleanconll
FILE``; build FILE with ``../shared/data/cleanconll-dev/build.sh VALID_TXT FILE`` (its README).

A word is a confirmed error when CleanCoNLL gives it another entity type than the split does
(B-/I- ignored; the two token sequences aligned with difflib, as CleanCoNLL's token patch changes a
few tokens). Each ranking is read as words in rank order, each word once (a suspect's span gives
all its words), and scored by precision at 50, 100, 200 and 500 words and average precision (each
confirmed error found, the precision at its rank, averaged over all confirmed errors; one not
ranked counts 0). Two models:

- one that did not see the split (trained on the training split): the tool's suspects, the same
  with string consistency (every occurrence alike, as before contexts), and cleanlab's ranking of
  all words by label quality from the same model;
- one trained on it (training + validation split), given as its run's checkpoints: the tool's
  suspects with the run's training dynamics, the final model's alone, and cleanlab's ranking
  from the final model.
"""

from __future__ import annotations

import difflib
import time
from pathlib import Path

import numpy as np

CUTS = (50, 100, 200, 500)


def tags_by_word(path: Path) -> list[tuple[str, str]]:
    """(word, entity type or O) of every word, -DOCSTART- lines left out."""
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields and fields[0] != "-DOCSTART-":
            words.append((fields[0], fields[-1].partition("-")[2] or "O"))
    return words


def confirmed_errors(split: Path, relabelled: Path) -> np.ndarray:
    """(n_words,) True where ``relabelled`` gives the split's word another entity type."""
    original, clean = tags_by_word(split), tags_by_word(relabelled)
    changed = np.zeros(len(original), dtype=bool)
    matcher = difflib.SequenceMatcher(None, [w for w, _ in original], [w for w, _ in clean], autojunk=False)
    for a, b, n in matcher.get_matching_blocks():
        for k in range(n):
            changed[a + k] = original[a + k][1] != clean[b + k][1]
    return changed


def precision(order: list[int], changed: np.ndarray) -> dict[str, float]:
    """Precision at each cut of the words in ``order`` (each once) and average precision."""
    ranked = list(dict.fromkeys(order))
    hits = changed[np.asarray(ranked, dtype=np.int64)] if ranked else np.zeros(0, dtype=bool)
    out = {f"P@{c}": float(hits[:c].sum()) / c for c in CUTS}
    found = np.flatnonzero(hits)
    out["AP"] = float(((np.arange(found.size) + 1) / (found + 1)).sum() / changed.sum())
    out["words"] = len(ranked)
    return out


def suspect_words(suspects) -> list[int]:
    return [w for s in suspects for w in range(s.first_word, s.end_word)]


def cleanlab_words(analysis) -> list[int]:
    """Every word, worst cleanlab label quality of its gold class first."""
    from llm_embedding_ner.analysis.suspects import OUTSIDE, Words, gold_class_ids, label_quality

    g = analysis.gold
    classes = [OUTSIDE, *analysis.entity_types]
    words = Words([""] * len(g.gold_tags), g.gold_tags, g.predicted_tags, g.word_sentence, classes,
                  g.word_probabilities, np.full((len(g.gold_tags), 1), -1))  # fmt: skip
    quality = label_quality(words, gold_class_ids(words))
    return np.argsort(quality, kind="stable").tolist()


def reranked(analysis, docs, **evidence) -> list:
    """The analysis' suspects ranked again with other evidence (``hidden=None``: no contexts;
    ``dynamics=None``: the final model alone)."""
    from llm_embedding_ner.analysis.gold import rank_suspects

    word_starts = np.asarray([d.first_word for d in analysis.documents] + [analysis.documents[-1].end_word])
    return rank_suspects(
        docs, analysis.word_ids, word_starts, analysis.gold, analysis.entity_types,
        analysis.layers[-1].nearest, **evidence,
    )  # fmt: skip


def measure(split: Path, relabelled: Path, unseen: str | None, run: str | None) -> dict[str, object]:
    """Each ranking's precision for the model that did not see ``split`` and for the run trained
    on it (either may be None: left out)."""
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.model.model_list import expand_models, one_run
    from llm_embedding_ner.pipeline import analyze
    from llm_embedding_ner.training_run import read_checkpoints

    changed = confirmed_errors(split, relabelled)
    corpus = read_corpus(None, str(split), "")
    out: dict[str, object] = {"words": len(changed), "confirmed errors": int(changed.sum())}

    def scored(a, seconds: float, names: tuple[str, str, str], again: list) -> dict[str, object]:
        """The analysis' own suspects, ``again`` (reranked), and cleanlab's words, scored."""
        orders = (suspect_words(a.suspects), suspect_words(again), cleanlab_words(a))
        return {
            "F1": a.gold.evaluation.micro.f1,
            "seconds": seconds,
            "suspects": len(a.suspects),
            "rankings": {n: precision(o, changed) for n, o in zip(names, orders, strict=True)},
        }

    if unseen:
        start = time.perf_counter()
        a = analyze(corpus, unseen)
        names = ("the tool's suspects", "string consistency (no contexts)", "cleanlab alone")
        again = reranked(a, corpus.documents, hidden=None)
        out["unseen"] = {"model": unseen, **scored(a, time.perf_counter() - start, names, again)}
    if run:
        entries = one_run(expand_models([run])[0])
        if entries is None:
            raise SystemExit(f"error: {run} is not one training run's checkpoints")
        start = time.perf_counter()
        dynamics = read_checkpoints(corpus, entries[:-1], entries[-1].label)
        a = analyze(corpus, entries[-1].name, dynamics=dynamics)
        names = (
            "the tool's suspects, with the run's dynamics",
            "the tool's suspects, final model alone",
            "cleanlab alone, final model",
        )
        again = reranked(a, corpus.documents, hidden=a.layers[-1].hidden)
        out["trained on it"] = {
            "run": run,
            "checkpoints": [e.label for e in entries],
            **scored(a, time.perf_counter() - start, names, again),
        }
    return out


def table(results: dict[str, object]) -> str:
    """Markdown rows: ranking, P@50..P@500, AP."""
    lines = ["| ranking | P@50 | P@100 | P@200 | P@500 | AP |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in (
        ("unseen", "model that did not see the split"),
        ("trained on it", "model trained on it"),
    ):
        part = results.get(key)
        if not isinstance(part, dict):
            continue
        for name, r in part["rankings"].items():
            cells = " | ".join(f"{r[h]:.3f}" for h in (*[f"P@{c}" for c in CUTS], "AP"))
            lines.append(f"| {label} (F1 {part['F1']:.3f}): {name} | {cells} |")
    return "\n".join(lines)
