"""Progress lines: throttled, with an estimate of the time left."""

from __future__ import annotations

import logging

import pytest

from llm_embedding_ner import progress
from llm_embedding_ner.progress import duration, throttled


def test_progress_says_how_much_is_left_at_the_rate_so_far(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([100.0, 130.0, 131.0, 145.0])  # created at 100 s; calls at 130, 131 and 145
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    report = throttled("forward: {done}/{total} windows")
    with caplog.at_level(logging.INFO, logger="llm_embedding_ner"):
        report(10, 40)  # 30 s for 10: about 90 s for the other 30
        report(11, 40)  # within 10 s of the last line: quiet
        report(20, 40)
    assert caplog.messages == [
        "forward: 10/40 windows (about 1 min 30 s left)",
        "forward: 20/40 windows (about 45 s left)",
    ]


def test_durations_read_as_a_person_reads_them() -> None:
    assert [duration(s) for s in (0.4, 45, 59.6, 200, 3725)] == [
        "0 s",
        "45 s",
        "1 min 00 s",
        "3 min 20 s",
        "62 min 05 s",
    ]
