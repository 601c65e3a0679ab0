"""Progress lines: throttled, with an estimate of the time left."""

from __future__ import annotations

import logging

import pytest

from llm_embedding_ner import progress
from llm_embedding_ner.progress import duration, throttled


def test_progress_says_how_much_is_left_at_the_rate_so_far(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Created at 100 s; the counted work starts at 120 s; calls at 130, 131 and 145.
    clock = iter([100.0, 120.0, 130.0, 131.0, 145.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    report = throttled("forward: {done}/{total} windows")
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"):
        report(0, 40)  # the first call starts the clock
        report(10, 40)  # 10 s for 10: about 30 s for the other 30
        report(11, 40)  # within 10 s of the last line: quiet
        report(20, 40)
    assert caplog.messages == [
        "forward: 10/40 windows (about 30 s left)",
        "forward: 20/40 windows (about 25 s left)",
    ]


def test_time_left_is_within_a_half_of_the_truth_after_a_long_start(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UMAP builds its graph and its start (here 20 s) before the first of 200 epochs (0.1 s
    each): the time before the first step must not count in the rate."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    report = throttled("epoch {done}/{total}")
    now[0] = 20.0
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"):
        for epoch in range(201):
            report(epoch, 200)
            now[0] += 0.1
    assert caplog.messages, "a 40 s stage says how far it is"
    for line in caplog.messages:
        done = int(line.split()[1].split("/")[0])
        said = float(line.split("about ")[1].split(" s")[0])
        truth = (200 - done) * 0.1
        assert truth / 1.5 <= said <= truth * 1.5, line


def test_every_umap_fit_and_exact_search_says_how_far_it_is(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small fits and the exact neighbour search say how far they are too, once they take long
    (here: at once)."""
    import numpy as np

    from llm_embedding_ner.analysis import neighbours, projection
    from llm_embedding_ner.analysis.neighbours import nearest_neighbours
    from llm_embedding_ner.analysis.projection import ProjectionSettings, project_to_3d

    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)
    monkeypatch.setattr(projection.EpochProgress, "redraw_seconds", 0.0)
    monkeypatch.setattr(neighbours, "BLOCK_BYTES", 4 * 5000 * 1000)  # blocks of 1,000 rows
    vectors = np.random.default_rng(0).normal(size=(5000, 16)).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"):
        nearest_neighbours(vectors, 14)  # above EXACT_BELOW: blocks of matrix products
        project_to_3d(vectors[:300], ProjectionSettings(n_epochs=20))
    assert any("nearest neighbours of" in m and "left" in m for m in caplog.messages), caplog.messages
    assert any("UMAP on 300 points, epoch" in m for m in caplog.messages), caplog.messages


def test_durations_read_as_a_person_reads_them() -> None:
    assert [duration(s) for s in (0.4, 45, 59.6, 200, 3725)] == [
        "0 s",
        "45 s",
        "1 min 00 s",
        "3 min 20 s",
        "62 min 05 s",
    ]
