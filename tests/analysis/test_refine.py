"""The refinement's fuzzy union: UMAP's a + b - ab for each pair, held once."""

from __future__ import annotations

import numpy as np

from llm_embedding_ner.analysis.refine import fuzzy_union


def test_each_pair_once_with_the_union_of_its_two_memberships() -> None:
    rng = np.random.default_rng(1)
    n, k = 600, 6
    rows = []
    for i in range(n):  # odd points: random neighbours; even: the next ones (many mutual pairs)
        others = (
            rng.choice(np.delete(np.arange(n), i), k - 1, replace=False)
            if i % 2
            else (i + 1 + np.arange(k - 1)) % n
        )
        rows.append([i, *others])
    indices = np.asarray(rows, dtype=np.int32)
    indices[5, 3] = -1  # a neighbour the search did not find
    memberships = rng.random((n, k)).astype(np.float32)
    memberships[:, 0] = 0.0  # itself, as umap-learn gives it
    memberships[7, 2] = 0.0
    expected: dict[tuple[int, int], list[float]] = {}
    for i in range(n):
        for m in range(k):
            j = int(indices[i, m])
            if j >= 0 and j != i and memberships[i, m] > 0:
                expected.setdefault((min(i, j), max(i, j)), []).append(float(memberships[i, m]))
    union = {p: v[0] if len(v) == 1 else v[0] + v[1] - v[0] * v[1] for p, v in expected.items()}
    head, tail, weight = fuzzy_union(indices, memberships, block=70)  # several blocks
    got = dict(zip(zip(head.tolist(), tail.tolist(), strict=True), weight.tolist(), strict=True))
    assert len(got) == head.size  # each pair once
    assert got.keys() == union.keys()
    assert max(abs(got[p] - union[p]) for p in union) < 1e-6
    assert (np.diff(head.astype(np.int64) * n + tail) > 0).all()  # by point, as UMAP's graph
    assert any(len(v) == 2 for v in expected.values())  # mutual pairs were there to unite
