"""Which hidden layers to show: ``--layers last|all|LIST``, where 0 is the embedding output.

Parsing needs no model; checking a list against the model's depth happens once it is loaded.
"""

from __future__ import annotations

import warnings

from ..errors import UserError

LayerSpec = str | tuple[int, ...]  # "last", "all", or explicit layer numbers
HEAVY_LAYERS_GIB = 1.0  # hidden states of the selected layers above this: warn before the work


def parse_layers(spec: str) -> LayerSpec:
    """``"last"``, ``"all"``, or a comma-separated list such as ``"0,4,8,12"`` (sorted, deduplicated)."""
    word = spec.strip().lower()
    if word in ("last", "all"):
        return word
    parts = [part.strip() for part in word.split(",")]
    if not all(part.isdigit() for part in parts):
        raise UserError(
            f"--layers {spec!r}: give last, all, or layer numbers separated by commas, such as 0,4,8,12"
        )
    return tuple(sorted({int(part) for part in parts}))


def resolve_layers(spec: LayerSpec, n_layers: int) -> tuple[int, ...]:
    """The layer numbers ``spec`` means for a model with ``n_layers`` transformer layers."""
    if spec == "last":
        return (n_layers,)
    if spec == "all":
        return tuple(range(n_layers + 1))
    assert isinstance(spec, tuple)
    too_deep = [layer for layer in spec if layer > n_layers]
    if too_deep:
        raise UserError(
            f"--layers {','.join(map(str, too_deep))}: this model has layers 0 (embeddings) to {n_layers}"
        )
    return spec


def warn_if_heavy(n_tokens: int, layer_numbers: tuple[int, ...], hidden_size: int) -> None:
    """Several layers of a long text cost memory and one UMAP fit each: say so before the wait."""
    gib = n_tokens * len(layer_numbers) * hidden_size * 4 / 2**30
    if len(layer_numbers) > 1 and gib >= HEAVY_LAYERS_GIB:
        warnings.warn(
            f"{len(layer_numbers)} layers of {n_tokens:,} tokens hold {gib:.1f} GiB of hidden states and "
            "take one UMAP fit each; for long texts pick a few layers, such as --layers 0,6,12",
            stacklevel=3,
        )
