"""Memory the process has freed, given back to the system between the stages of a large run."""

from __future__ import annotations

import contextlib
import ctypes
import sys


def release_freed_memory() -> None:
    """Give the pages of freed memory back to the system (glibc's ``malloc_trim``; nothing
    elsewhere). The forward pass's activations are freed, but glibc keeps their pages: on the
    CoNLL-2003 test split with a bert-base model the process stayed at 1.50 GiB after the pass
    and fell to 1.03 GiB with them returned, and the run's peak (in the projection) went from
    1.98 to 1.89 GiB. Called after each segment of a corpus and each stage: without it, a stage's
    freed pages stayed with the process and every later stage started higher (500,000 tokens:
    the run's peak 1.82 GiB, 1.58 with them given back)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # another C library (musl): nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
