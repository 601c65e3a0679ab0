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
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
        suffix = f"  ({', '.join(details)})" if details else ""
        log.info("%-10s %7.2f s%s", name, elapsed, suffix)


def throttled(message: str, every_seconds: float = 10.0) -> Callable[[int, int], None]:
    """A ``(done, total)`` callback that logs ``message.format(done=..., total=...)`` at most
    every ``every_seconds``, with an estimate of the time left at the rate so far, so long
    stages show they are alive, and for how long, without flooding stderr."""
    start = last = time.perf_counter()

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= every_seconds and 0 < done < total:
            last = now
            left = (now - start) / done * (total - done)
            log.info("%s (about %s left)", message.format(done=done, total=total), duration(left))

    return report


def duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min 20 s"``: seconds as a person reads them."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
