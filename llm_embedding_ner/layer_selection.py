"""Which hidden layers to show: ``--layers last|all|LIST``, where 0 is the embedding output.

Parsing needs no model; checking a list against the model's depth happens once it is loaded.
"""

from __future__ import annotations

from .errors import UserError

LayerSpec = str | tuple[int, ...]  # "last", "all", or explicit layer numbers


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
