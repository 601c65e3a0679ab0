"""Keep umap-learn's compiled code between runs.

umap-learn jit-compiles a few hundred numba functions the first time a process uses them, which
takes longer than everything else this tool does for a paragraph, and it does not ask numba to
keep the result. Numba can: a function compiled with caching on writes its machine code to disk
and later processes load it in milliseconds. ``import_umap`` turns caching on for the functions
umap-learn (and pynndescent) define while they are imported, and points numba's cache at a user
cache directory, so a read-only site-packages is no obstacle.

Set LLM_EMBEDDING_NER_NUMBA_CACHE=0 to compile in memory as umap-learn normally does. If numba's
API ever changes under us, this falls back to that, silently.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("llm_embedding_ner")

SWITCH = "LLM_EMBEDDING_NER_NUMBA_CACHE"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "llm_embedding_ner" / "numba"


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def compiled_before() -> bool:
    """Whether an earlier run left compiled code in the cache (else this run compiles)."""
    directory = cache_dir()
    return directory.is_dir() and any(directory.rglob("*.nbi"))


def import_umap() -> ModuleType:
    """``import umap``, with numba's on-disk cache for its jitted functions when enabled."""
    if "umap" in sys.modules:
        return sys.modules["umap"]
    if enabled():
        try:
            return _import_with_cache(cache_dir())
        except Exception as error:  # numba internals moved, cache dir unwritable, ...: plain compilation
            log.debug("numba cache unavailable (%s); compiling in memory", error)
            for name in [m for m in sys.modules if m == "umap" or m.startswith("umap.")]:
                del sys.modules[name]  # a half-imported umap would fail later; start over plainly
    return _import_plain()


def _import_plain() -> ModuleType:
    with warnings.catch_warnings():
        # umap-learn announces that its optional TensorFlow model is unavailable; we never use it.
        warnings.filterwarnings("ignore", message="Tensorflow not installed")
        import umap

    return umap


def _import_with_cache(directory: Path) -> ModuleType:
    import numba
    from numba.core.errors import NumbaWarning

    directory.mkdir(parents=True, exist_ok=True)
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"{directory} is not writable")
    if not compiled_before():
        log.info("compiling UMAP's numba code once; later runs load it from %s", directory)

    # pynndescent (which umap imports) asks numba to cache its own functions, beside its sources
    # or in numba's user-wide cache: imported first, before CACHE_DIR moves, it finds them there.
    import pynndescent  # noqa: F401

    numba.config.CACHE_DIR = str(directory)
    # Functions that cannot be cached (closures over runtime values) still compile; numba only warns.
    warnings.filterwarnings("ignore", message=r"(?s).*[Cc]annot cache", category=NumbaWarning)
    originals = numba.njit, numba.jit
    numba.njit, numba.jit = _caching(numba.njit), _caching(numba.jit)
    try:
        return _import_plain()
    finally:
        numba.njit, numba.jit = originals


def _caching(decorator: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(decorator)
    def with_cache(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cache", True)
        return decorator(*args, **kwargs)

    return with_cache
