"""Stage timings and progress lines, on the ``llm_embedding_ner`` logger.

The command line shows them on stderr (``--quiet`` hides them); a library user sees nothing
unless they configure logging. Timings are also kept, so callers (and the benchmark) can read
them without parsing text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("llm_embedding_ner")


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[list[str]]:
        """Time the ``with`` block as stage ``name``; append to the yielded list to add a detail."""
        details: list[str] = []
        start = time.perf_counter()
        yield details
        elapsed = time.perf_counter() - start
        self.add(name, elapsed, details)

    def add(self, name: str, seconds: float, details: list[str] | None = None) -> None:
        """Count ``seconds`` as stage ``name`` (timed elsewhere, a piece at a time) and log it."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        suffix = f"  ({', '.join(details)})" if details else ""
        log.info("%-10s %7.2f s%s", name, seconds, suffix)


# How often a long stage says how far it is.
EVERY_SECONDS = 10.0


def throttled(message: str, every_seconds: float | None = None) -> Callable[[int, int], None]:
    """A ``(done, total)`` callback that logs ``message.format(done=..., total=...)`` at most
    every ``every_seconds`` (``EVERY_SECONDS``), with an estimate of the time left, so long
    stages show they are alive, and for how long, without flooding stderr.

    The rate is measured from the first call on, not from when the callback was made: work
    before the counted steps (UMAP builds its graph and its start before the first epoch)
    would otherwise make every estimate too long (2.2x on UMAP's epochs, measured)."""
    every = EVERY_SECONDS if every_seconds is None else every_seconds
    origin: tuple[float, int] | None = None
    last = time.perf_counter()

    def report(done: int, total: int) -> None:
        nonlocal origin, last
        now = time.perf_counter()
        if origin is None:
            origin = (now, done)
            return
        if now - last >= every and 0 < done < total and done > origin[1]:
            last = now
            left = (now - origin[0]) / (done - origin[1]) * (total - done)
            log.info("%s (about %s left)", message.format(done=done, total=total), duration(left))

    return report


def duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min 20 s"``: seconds as a person reads them."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
