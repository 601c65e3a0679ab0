"""Hidden states on disk: what is written is what is read, and reading holds no memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.model.hidden_store import (
    HiddenParts,
    HiddenStore,
    blocks,
    gather_rows,
    range_means,
    read_rows,
)


def stored(n_layers: int = 3, n: int = 1000, width: int = 7) -> tuple[HiddenStore, np.ndarray]:
    """A store written as the forward pass writes it: batches of windows out of order."""
    values = np.random.default_rng(0).normal(size=(n_layers, n, width)).astype(np.float32)
    store = HiddenStore(n_layers, n, width)
    order = np.r_[np.arange(500, 600), np.arange(0, 500), np.arange(600, n)]
    for batch in np.array_split(order, 7):
        store.write(batch, values[:, batch])
    return store, values


def test_every_row_reads_back_as_written_to_float16_precision() -> None:
    store, values = stored()
    assert store.hidden.dtype == np.float16 and store.hidden.shape == values.shape
    for layer in range(3):
        view = store.hidden[layer]
        whole = np.concatenate([block for _, block in blocks(view, 97)])
        np.testing.assert_allclose(whole, values[layer], rtol=1e-3, atol=1e-3)
        rows = np.array([999, 5, 500, 3])
        np.testing.assert_allclose(gather_rows(view, rows), values[layer][rows], rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(read_rows(view, 10, 20), values[layer, 10:20], rtol=1e-3, atol=1e-3)
        starts, ends = np.array([0, 3, 10, 990]), np.array([3, 10, 400, 1000])
        means = range_means(view, starts, ends, rows=64)
        expected = [values[layer, a:b].mean(axis=0) for a, b in zip(starts, ends, strict=True)]
        np.testing.assert_allclose(means, expected, rtol=1e-3, atol=1e-3)


def test_values_beyond_float16_are_clipped_not_infinite() -> None:
    store = HiddenStore(1, 2, 2)
    store.write(np.arange(2), np.array([[[1e6, -1e6], [1.0, 2.0]]], dtype=np.float32))
    assert np.isfinite(store.hidden).all() and store.hidden[0, 0, 0] == np.finfo(np.float16).max


def test_the_file_leaves_nothing_in_the_temporary_folder(tmp_path: Path) -> None:
    """Anonymous from the start: nothing to clean after Ctrl-C, a crash or a kill."""
    store = HiddenStore(1, 10, 4, parent=str(tmp_path))
    store.write(np.arange(10), np.ones((1, 10, 4), np.float32))
    assert store.hidden.sum() == 40 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n_layers", [1, 3])
def test_parts_appended_in_order_read_back_as_one_store(tmp_path: Path, n_layers: int) -> None:
    """A cluster's shards arrive in order, their total unknown until the last (shards.py)."""
    values = np.random.default_rng(1).normal(size=(n_layers, 50, 6)).astype(np.float16)
    parts = HiddenParts(n_layers, 6, parent=str(tmp_path))
    for a, b in [(0, 7), (7, 7), (7, 31), (31, 50)]:  # an empty part too
        parts.append(values[:, a:b])
    hidden = parts.finish().hidden
    assert hidden.shape == values.shape and np.array_equal(hidden, values)
    assert list(tmp_path.iterdir()) == []  # anonymous files, as the store's


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_reading_every_row_leaves_nothing_resident() -> None:
    def resident_mb() -> float:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS"))
        return int(line.split()[1]) / 1024

    n, width = 200_000, 384  # 150 MiB of float16
    store = HiddenStore(1, n, width)
    chunk = np.ones((1, 20_000, width), np.float32)
    for first in range(0, n, 20_000):
        store.write(np.arange(first, first + 20_000), chunk)
    before = resident_mb()
    total = sum(float(block.sum()) for _, block in blocks(store.hidden[0]))
    range_means(store.hidden[0], np.array([0]), np.array([n]))
    gather_rows(store.hidden[0], np.arange(0, n, 3))
    assert total == n * width
    assert resident_mb() - before < 80, "pages of the file stayed mapped in this process"
