"""Past the cap, the recording holds every token that matters and a seeded sample of the rest."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.analysis.evaluation import CORRECT, NO_ENTITY
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer import point_sample
from llm_embedding_ner.viewer.blueprint import blueprint_for
from llm_embedding_ner.viewer.point_sample import kept_tokens, sampled

from ..test_cli import read_rrd, read_timeline
from ..test_pipeline import read_conll
from .test_rerun_logging import save_in_process


@pytest.fixture
def corpus_analysis(dslim_model, tmp_path: Path, uncapped_suspects: None):  # -> Analysis
    return analyze(read_conll(tmp_path, 6, iob1=True), dslim_model, layers=(1, 2))


def test_the_sample_keeps_every_entity_error_and_suspect_token_and_is_seeded(corpus_analysis) -> None:
    a = corpus_analysis
    n = len(a.tokens)
    assert kept_tokens(a, cap=n) is None  # at the cap: every token
    must = (
        (a.class_ids > 0) | (a.gold.gold_class_ids > 0) | ~np.isin(a.gold.error_kinds, (NO_ENTITY, CORRECT))
    )
    for s in a.suspects:
        must |= (a.word_ids >= s.first_word) & (a.word_ids < s.end_word)
    cap = int(must.sum()) + 10
    kept = kept_tokens(a, cap=cap)
    assert kept is not None and kept.size == cap and np.all(np.diff(kept) > 0)
    assert set(np.flatnonzero(must)) <= set(kept.tolist())
    np.testing.assert_array_equal(kept, kept_tokens(a, cap=cap))  # one seed, one sample
    assert not np.array_equal(kept, kept_tokens(a, cap=cap, seed=1))


def test_a_sampled_analysis_points_at_the_same_tokens(corpus_analysis) -> None:
    a = corpus_analysis
    kept = kept_tokens(a, cap=len(a.tokens) // 2 + int((a.class_ids > 0).sum()) // 2)
    shown = sampled(a, kept)
    assert len(shown.tokens) == kept.size == shown.layers[-1].coordinates.shape[0]
    for before, after in zip(a.entities, shown.entities, strict=True):
        assert (
            shown.tokens[after.first_token : after.end_token]
            == a.tokens[before.first_token : before.end_token]
        )
    for before, after in zip(a.documents, shown.documents, strict=True):
        inside = kept[(kept >= before.first_token) & (kept < before.end_token)]
        assert shown.tokens[after.first_token : after.end_token] == [a.tokens[i] for i in inside]
    np.testing.assert_array_equal(shown.layers[0].coordinates, a.layers[0].coordinates[kept])


def test_a_capped_recording_holds_the_sample_and_says_so(
    corpus_analysis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = corpus_analysis
    cap = len(a.tokens) * 3 // 4
    monkeypatch.setattr(point_sample, "POINT_CAP", cap)
    monkeypatch.setattr(point_sample.kept_tokens, "__defaults__", (cap, point_sample.SEED))
    monkeypatch.setattr(point_sample.sample_note, "__defaults__", (cap,))
    kept = kept_tokens(a)
    path = tmp_path / "capped.rrd"
    save_in_process(a, path)
    logged = read_rrd(path)
    for cloud in ("/umap_embeddings", "/umap_embeddings_gold", "/umap_embeddings_errors"):
        assert logged[cloud]["Token"] == [a.tokens[i] for i in kept.tolist()]
    names = [v.name for v in blueprint_for(a).root_container.contents[1].contents]
    note = (
        f" ({kept.size:,} of {len(a.tokens):,} tokens: all entities, errors and suspects, the rest sampled)"
    )
    assert names[:3] == [f"Predicted types{note}", f"Gold types{note}", f"Errors{note}"]
    # Links in the tokenized text reach only points that exist.
    by_document = read_timeline(path, "document")["/tokenized_text"].values()
    pages = [row["TextDocument:text"][0] for row in by_document]
    links = [int(i) for page in pages for i in re.findall(r"\[#(\d+)\]", page)]
    assert links and max(links) < kept.size

    # ... and the tokens left out stay in it as plain text: every page reads its whole document.
    def words_of(markdown: str) -> list[str]:
        shown = re.sub(r"\[((?:\\.|[^\]\\])*)\]\(recording://[^)]*\)", r"\1", markdown)  # links to text
        return re.sub(r"\\(.)", r"\1", shown, flags=re.DOTALL).split()  # escapes, line breaks

    documents = sorted(read_timeline(path, "document")["/tokenized_text"].items())
    for index, row in documents:
        view = a.documents[index]
        assert words_of(row["TextDocument:text"][0]) == a.text[view.start : view.end].split()
