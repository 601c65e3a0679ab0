"""Hidden states on disk, so that a corpus's memory does not grow with its hidden states.

The forward pass writes each batch's rows as it reads them: float16, one file holding every
chosen layer, shape (n_layers, n_tokens, width). The file is anonymous (``tempfile.TemporaryFile``:
unlinked as soon as it is made, in TMPDIR), so the system frees it however the run ends, Ctrl-C
or a kill included, and no folder is left to clean. Rows are written as they come; ``hidden``
maps the file read-only, and ``blocks``, ``gather_rows`` and ``range_means`` hand pages back
(``madvise(MADV_DONTNEED)``) as soon as they are read, so reading every row leaves nothing
counted in this process's memory: the data stays in the system's file cache, which it reclaims.

float16 keeps the direction of a hidden state to about 1e-3, far inside what separates two
tokens' neighbours; values beyond its range (65,504) are clipped to it.
"""

from __future__ import annotations

import mmap
import shutil
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

FLOAT16_MAX = float(np.finfo(np.float16).max)
BLOCK_BYTES = 64 << 20  # float32 rows handed out at once by ``blocks``
GATHER_ROWS = 4096  # rows gathered between two hand-backs by ``gather_rows``


class HiddenStore:
    """(n_layers, n_tokens, width) float16 hidden states in an anonymous temporary file."""

    def __init__(
        self,
        n_layers: int,
        n_tokens: int,
        width: int,
        parent: str | None = None,
        file: BinaryIO | None = None,
    ) -> None:
        """``parent``: the folder for the file (the system's temporary folder by default);
        ``file``: an anonymous file already holding every row (``HiddenParts``)."""
        self.shape = (n_layers, n_tokens, width)
        self._file = file or _temporary_file(parent)
        if file is None:
            self._file.truncate(2 * n_layers * n_tokens * width)  # sparse until written
        self._hidden: np.ndarray | None = None

    def write(self, tokens: np.ndarray, hidden: np.ndarray) -> None:
        """Store ``hidden`` (n_layers, m, width) as the rows of ``tokens`` (m,), which come in
        runs of consecutive indices (one per window of a batch): one write per run and layer."""
        if tokens.size == 0:
            return
        values = np.clip(hidden, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
        breaks = np.flatnonzero(np.diff(tokens) != 1) + 1
        starts, ends = np.r_[0, breaks], np.r_[breaks, tokens.size]
        n_layers, n_tokens, width = self.shape
        for layer in range(n_layers):
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                self._file.seek(2 * width * (layer * n_tokens + int(tokens[a])))
                self._file.write(values[layer, a:b].tobytes())

    @property
    def hidden(self) -> np.ndarray:
        """Every layer, (n_layers, n_tokens, width) float16, read-only, mapped from the file."""
        if self._hidden is None:
            size = 2 * int(np.prod(self.shape))
            if size == 0:
                return np.zeros(self.shape, dtype=np.float16)
            self._file.flush()
            mapped = mmap.mmap(self._file.fileno(), size, access=mmap.ACCESS_READ)
            self._hidden = np.frombuffer(mapped, dtype=np.float16).reshape(self.shape)
        return self._hidden


class HiddenParts:
    """Hidden states that arrive in token order a part at a time, their total known only after
    the last (a cluster's shards, see shards.py): each layer appended to a file of its own, then
    made one ``HiddenStore`` (the file itself for one layer; for several, copied into one file)."""

    def __init__(self, n_layers: int, width: int, parent: str | None = None) -> None:
        self.width, self.n_tokens, self._parent = width, 0, parent
        self._files = [_temporary_file(parent) for _ in range(n_layers)]

    def append(self, hidden: np.ndarray) -> None:
        """The next tokens' rows, (n_layers, m, width) float16."""
        if hidden.shape[1] == 0:
            return
        for file, layer in zip(self._files, hidden, strict=True):
            file.write(memoryview(np.ascontiguousarray(layer, dtype=np.float16)).cast("B"))
        self.n_tokens += hidden.shape[1]

    def finish(self) -> HiddenStore:
        """The store of every part appended; this object is spent."""
        files, self._files = self._files, []
        if len(files) == 1:
            return HiddenStore(1, self.n_tokens, self.width, file=files[0])
        whole = _temporary_file(self._parent)
        for part in files:  # layer after layer, as a HiddenStore lays them out
            part.seek(0)
            shutil.copyfileobj(part, whole, 16 << 20)
            part.close()
        return HiddenStore(len(files), self.n_tokens, self.width, file=whole)


def _temporary_file(parent: str | None) -> BinaryIO:
    # Open for the store's life, not a block: a context manager cannot hold it.
    return tempfile.TemporaryFile(prefix="llm-embedding-ner-hidden-", dir=parent)


def blocks(vectors: np.ndarray, rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(first_row, float32 block)`` over the rows of ``vectors`` (n, d), a block at a time;
    the pages of a mapped file (a ``HiddenStore``'s) are handed back after each block."""
    n, width = vectors.shape
    step = rows or max(1, BLOCK_BYTES // (4 * max(width, 1)))
    for first in range(0, n, step):
        yield first, read_rows(vectors, first, min(first + step, n))


def read_rows(vectors: np.ndarray, first: int, end: int) -> np.ndarray:
    """Rows ``first:end`` of ``vectors`` as a float32 array of their own (see ``blocks``)."""
    rows = np.array(vectors[first:end], dtype=np.float32)  # a copy, even of float32 rows
    release(vectors[first:end])
    return rows


def gather_rows(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``vectors[rows]`` as float32; a mapped file's pages are handed back afterwards."""
    if not _mapped(vectors):
        return np.asarray(vectors[rows], dtype=np.float32)
    order = np.argsort(rows, kind="stable")
    found = np.empty((rows.size, vectors.shape[1]), dtype=np.float32)
    for a in range(0, rows.size, GATHER_ROWS):  # in order, handing back the pages passed
        chosen = rows[order[a : a + GATHER_ROWS]]
        found[order[a : a + GATHER_ROWS]] = vectors[chosen]
        release(vectors[int(chosen[0]) : int(chosen[-1]) + 1])
    return found


def on_disk(view: np.ndarray) -> bool:
    """Whether ``view`` reads a mapped file (a ``HiddenStore``'s), not memory."""
    return _mapped(view) is not None


def _mapped(view: np.ndarray) -> mmap.mmap | None:
    """The file map ``view`` reads, or None for an array in memory."""
    mapped = view
    while isinstance(mapped, np.ndarray):
        mapped = mapped.base
    if isinstance(mapped, memoryview):  # np.frombuffer's hold on the map
        mapped = mapped.obj
    return mapped if isinstance(mapped, mmap.mmap) else None


def release(view: np.ndarray) -> None:
    """Hand back the pages of a mapped file that ``view`` (a C-contiguous slice of an array
    mapped by ``HiddenStore.hidden``) has read: the data stays in the file and the system's
    cache, and is read from there again if asked for. Nothing for an array in memory."""
    mapped = _mapped(view)
    if mapped is None or view.size == 0 or not view.flags.c_contiguous or not hasattr(mmap, "MADV_DONTNEED"):
        return  # in memory, or a system without madvise (Windows): its pages stay until unmapped
    mapping_start = np.frombuffer(mapped, np.uint8).__array_interface__["data"][0]
    start = view.__array_interface__["data"][0] - mapping_start
    aligned = start - start % mmap.PAGESIZE
    mapped.madvise(mmap.MADV_DONTNEED, aligned, start + view.nbytes - aligned)


def range_means(vectors: np.ndarray, starts: np.ndarray, ends: np.ndarray, rows: int = 8192) -> np.ndarray:
    """(k, d) float32: the mean of rows ``starts[i]:ends[i]`` of ``vectors`` for each of k
    ranges, which are sorted and do not overlap (documents, entity mentions). Read block by
    block (see ``blocks``); an empty range's mean is zero."""
    # Each block's sums are taken in float64 and added here in float32 (a range gets one
    # addition per block it spans): the result is all this holds, with no float64 copy of it
    # (a million tokens' mentions, 384 wide: 145 MB, where the float64 sums and their quotient
    # made 580 MB more).
    sums = np.zeros((starts.size, vectors.shape[1]), dtype=np.float32)
    for first, block in blocks(vectors, rows):
        last = first + block.shape[0]
        i, j = int(np.searchsorted(ends, first, side="right")), int(np.searchsorted(starts, last))
        if i >= j:
            continue
        running = np.zeros((block.shape[0] + 1, block.shape[1]), dtype=np.float64)
        np.cumsum(block, axis=0, dtype=np.float64, out=running[1:])
        a = np.clip(starts[i:j] - first, 0, block.shape[0])
        b = np.clip(ends[i:j] - first, 0, block.shape[0])
        sums[i:j] += running[b] - running[a]
    sums /= np.maximum(ends - starts, 1)[:, None].astype(np.float32)
    return sums
