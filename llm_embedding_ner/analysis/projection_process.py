"""UMAP in a second process, started before the model loads, so that the two waits overlap.

Importing umap-learn (with scikit-learn, scipy, numba and pynndescent) takes seconds, and a first
run compiles its numba code for seconds more. The main process spends that time importing torch
and transformers and loading the model, on one core. Started first, a process of its own
imports (and, when numba's cache is cold, compiles) UMAP on another core, then answers
``project_to_3d`` calls: the same function, so the same coordinates for the same seed.

The protocol is pickles over the child's stdin and stdout: a request is the call's arguments; a
reply is ``("ok", projection, warnings)`` or ``("error", exception)``. Anything wrong with the
process itself (it could not start, it died) makes ``project`` fall back to running in this
process: the child saves time and is never needed.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import warnings
from typing import Any, BinaryIO

import numpy as np

from . import numba_cache
from .neighbours import Neighbours
from .projection import Projection, ProjectionSettings, project_to_3d

log = logging.getLogger("llm_embedding_ner")

# Enough points for UMAP's usual path (not the PCA fallback), few enough to fit in milliseconds.
WARM_UP_POINTS = 64
# From this size (about 22,000 tokens of a 768-wide model) UMAP takes a minute or more: the
# seconds the child saves no longer count, while the copy of the vectors and the child's own
# libraries would (0.9 GiB at the peak for the CoNLL-2003 test set). Such calls run here.
IN_PROCESS_FROM_BYTES = 64 << 20


class ProjectionProcess:
    """A started child process; ``project`` has ``project_to_3d``'s signature."""

    def __init__(self, settings: ProjectionSettings, *, unless_loaded_here: bool = True) -> None:
        """``unless_loaded_here``: start no process when this one has imported umap-learn already
        (a second run in one Python process): there is no wait left to hide."""
        self.child: subprocess.Popen[bytes] | None = None
        if unless_loaded_here and "umap" in sys.modules:
            return
        try:
            # Its progress lines (that it compiles UMAP once; UMAP on many points taking minutes)
            # go to our stderr as they happen; its warnings come back with each answer, as ours.
            self.child = subprocess.Popen(
                [sys.executable, "-m", __name__, settings.metric, str(log.getEffectiveLevel())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as error:
            log.debug("no projection process (%s); projecting in this process", error)

    def project(
        self,
        vectors: np.ndarray,
        settings: ProjectionSettings | None = None,
        neighbours: Neighbours | None = None,
        follow: np.ndarray | None = None,
    ) -> Projection:
        if vectors.nbytes >= IN_PROCESS_FROM_BYTES:
            self.close()
        reply = self._ask((vectors, settings, neighbours, follow))
        if reply is None:
            return project_to_3d(vectors, settings, neighbours, follow)
        if reply[0] == "error":
            raise reply[1]
        _, projection, caught = reply
        for category, message in caught:
            warnings.warn(message, category, stacklevel=2)
        return projection

    def close(self) -> None:
        """Stop the child, busy or not: it holds nothing to keep (numba writes its cache files
        whole, through a temporary name)."""
        if self.child is not None:
            self.child.kill()
            self.child.wait()
            for pipe in (self.child.stdin, self.child.stdout):
                if pipe is not None:
                    pipe.close()
            self.child = None

    def _ask(self, request: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if self.child is None:
            return None
        assert self.child.stdin is not None and self.child.stdout is not None
        try:
            pickle.dump(request, self.child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.child.stdin.flush()
            return pickle.load(self.child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            log.debug("the projection process is gone (%s); projecting in this process", error)
            self.close()
            return None


def serve(metric: str, log_level: int, requests: BinaryIO, replies: BinaryIO) -> None:
    """The child's side: import UMAP, compile it if this is the first run, answer until stdin ends."""
    # Ctrl-C reaches the whole process group; the main process decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(log_level)
    log.propagate = False
    warnings.simplefilter("ignore")  # the warnings of a projection are caught below and sent back
    if numba_cache.enabled() and not numba_cache.compiled_before():
        # Compile now, while the main process is still loading the model; the import says so.
        vectors = np.random.default_rng(0).normal(size=(WARM_UP_POINTS, 16)).astype(np.float32)
        project_to_3d(vectors, ProjectionSettings(metric=metric))
    else:
        numba_cache.import_umap()
    while True:
        try:
            vectors, settings, neighbours, follow = pickle.load(requests)
        except EOFError:
            return
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                projection = project_to_3d(vectors, settings, neighbours, follow)
            said = [(_picklable(w.category), str(w.message)) for w in caught]
            reply: tuple[Any, ...] = ("ok", projection, said)
        except Exception as error:  # the main process raises it, as if it had run here
            reply = ("error", error)
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


def _picklable(category: type[Warning]) -> type[Warning]:
    # numba's and umap's own warning classes would make the main process import them.
    return category if category.__module__ == "builtins" else UserWarning


if __name__ == "__main__":
    # Replies get their own copy of stdout; anything a library prints goes where stderr goes.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.argv[1], int(sys.argv[2]), sys.stdin.buffer, replies)
