"""UMAP's compiled code is cached on disk once, in the user's cache directory, and can be
switched off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIT_SMALL_CLOUD = (
    "import logging, sys, numpy as np;"
    "logging.basicConfig(level=logging.INFO, stream=sys.stderr, format='%(message)s');"
    "from llm_embedding_ner.analysis.projection import project_to_3d;"
    "x = np.random.default_rng(0).normal(size=(40, 16)).astype(np.float32);"
    "print(project_to_3d(x).coordinates.sum())"
)


def fit(cache_home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FIT_SMALL_CLOUD],
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


def test_first_run_compiles_once_and_later_runs_reuse_the_cache(tmp_path: Path) -> None:
    first = fit(tmp_path)
    assert "compiling UMAP's numba code once" in first.stderr
    cache = tmp_path / "llm_embedding_ner" / "numba"
    assert any(cache.rglob("*.nbi")) and any(cache.rglob("*.nbc"))

    second = fit(tmp_path)
    assert "compiling" not in second.stderr
    assert second.stdout == first.stdout  # same coordinates from cached code


def test_switch_turns_the_cache_off(tmp_path: Path) -> None:
    result = fit(tmp_path, LLM_EMBEDDING_NER_NUMBA_CACHE="0")
    assert "compiling" not in result.stderr
    assert not (tmp_path / "llm_embedding_ner").exists()


def test_unwritable_cache_falls_back_quietly(tmp_path: Path) -> None:
    blocker = tmp_path / "llm_embedding_ner"
    blocker.write_text("a file where the cache directory should be")
    result = fit(tmp_path)
    assert result.stdout.strip()  # UMAP still ran
    assert "Traceback" not in result.stderr
