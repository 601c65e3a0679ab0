"""How well entity types separate in a space, as one number from 0 to 1.

Neighbour agreement: for each token, the share of its k nearest neighbours that have its entity
class, out of as many as its class could supply (min(k, class size - 1)); averaged within each
class, then over classes, so the many "no entity" tokens count as one class among others. 1 means
every class forms its own neighbourhoods; with classes mixed at random a class scores about its
share of all tokens, or less. Classes with a single token cannot have neighbours of their
own and are left out; with fewer than two classes left there is nothing to separate (NaN).
"""

from __future__ import annotations

import numpy as np


def neighbour_agreement(neighbour_indices: np.ndarray, class_ids: np.ndarray) -> float:
    """``neighbour_indices``: (n, k) nearest other tokens; ``class_ids``: (n,) entity class per token."""
    if neighbour_indices.shape[1] == 0:
        return float("nan")
    _, index, sizes = np.unique(class_ids, return_inverse=True, return_counts=True)
    k = neighbour_indices.shape[1]
    same = (class_ids[neighbour_indices] == class_ids[:, None]).sum(axis=1)
    possible = np.minimum(k, sizes[index] - 1)
    per_class = [float(np.mean(same[index == c] / possible[index == c])) for c in np.flatnonzero(sizes > 1)]
    return float(np.mean(per_class)) if len(per_class) >= 2 else float("nan")
