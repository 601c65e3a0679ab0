"""One forward pass per window: hidden states of the chosen layers and label probabilities per token."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..memory import release_freed_memory
from .windows import Windows

DEFAULT_BATCH_SIZE = 8


@dataclass(frozen=True)
class ForwardOutput:
    """Per text token (special tokens dropped), read from the token's owning window."""

    hidden: np.ndarray  # (n_layers, n_tokens, hidden_size) float32, one slice per requested layer
    probabilities: np.ndarray  # (n_tokens, n_labels) float32, softmax of the logits; no columns
    # for a model without a classification head


@dataclass(frozen=True)
class Batch:
    """One batch's reading: the text tokens it owns, their hidden states and probabilities."""

    tokens: np.ndarray  # (m,) token indices: a run of consecutive tokens per window
    hidden: np.ndarray  # (n_layers, m, hidden_size) float32
    probabilities: np.ndarray  # (m, n_labels) float32


def run_model(
    model: Any,
    windows: Windows,
    device: Any,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    layers: Sequence[int] = (-1,),
    with_labels: bool = True,
) -> ForwardOutput:
    """Run ``model`` once over every window, in batches, and keep each token's row from
    its owning window only. The hidden states of every layer in ``layers`` (0 is the
    embedding output, -1 the last layer) and the logits come from the same pass.
    ``with_labels=False``: the model has no head (or one not to be trusted); no probabilities."""
    n_tokens = windows.owner.size
    hidden = np.empty((len(layers), n_tokens, model.config.hidden_size), dtype=np.float32)
    probabilities = np.empty((n_tokens, model.config.num_labels if with_labels else 0), dtype=np.float32)
    for batch in read_batches(model, windows, device, batch_size, progress, layers, with_labels):
        hidden[:, batch.tokens] = batch.hidden
        probabilities[batch.tokens] = batch.probabilities
    release_freed_memory()
    return ForwardOutput(hidden, probabilities)


def read_batches(
    model: Any,
    windows: Windows,
    device: Any,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    layers: Sequence[int] = (-1,),
    with_labels: bool = True,
    window_range: tuple[int, int] | None = None,
) -> Iterator[Batch]:
    """``run_model`` one batch at a time, over the windows of ``window_range`` (all by default),
    so a caller can send each batch's hidden states on (to disk) instead of holding them all.
    ``progress`` counts windows of all ranges: (windows done, all windows)."""
    import torch

    n_windows = windows.input_ids.shape[0]
    first_window, end_window = window_range or (0, n_windows)
    n_tokens = windows.owner.size
    # Row of each token inside its owning window.
    row = np.arange(n_tokens) - windows.starts[windows.owner] + windows.prefix_length
    # Tokens grouped by owning window, so each batch finds its tokens by two binary searches
    # instead of a pass over every token (thousands of batches for a long text).
    by_window = np.argsort(windows.owner, kind="stable")
    owners = windows.owner[by_window]
    with torch.inference_mode():
        for first in range(first_window, end_window, batch_size):
            last = min(first + batch_size, end_window)
            # Padded rows (several documents): cut the batch to its longest row and mask the rest.
            lengths = windows.lengths[first:last]
            width = int(lengths.max())
            ids = torch.from_numpy(windows.input_ids[first:last, :width]).to(device)
            mask = torch.from_numpy(np.arange(width)[None, :] < lengths[:, None]).to(
                device=device, dtype=ids.dtype
            )
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            in_batch = by_window[np.searchsorted(owners, first) : np.searchsorted(owners, last)]
            b = torch.from_numpy(windows.owner[in_batch] - first).to(device)
            r = torch.from_numpy(row[in_batch]).to(device)
            hidden = np.stack([out.hidden_states[layer][b, r].float().cpu().numpy() for layer in layers])
            probabilities = np.empty((in_batch.size, 0), dtype=np.float32)
            if with_labels:
                probabilities = out.logits[b, r].float().softmax(-1).cpu().numpy()
            yield Batch(in_batch, hidden, probabilities)
            if progress is not None:
                progress(last, n_windows)
