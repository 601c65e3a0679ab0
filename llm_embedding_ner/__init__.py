"""See how a BERT named-entity-recognition model sees a text, in the Rerun viewer.

    from llm_embedding_ner import analyze, log_to_rerun
    analysis = analyze("Ada Lovelace was born in London.")
    log_to_rerun(analysis)

Heavy libraries (torch, transformers, umap, rerun) load on first use, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .comparison import Comparison, compare
    from .comparison_logging import log_comparison
    from .pipeline import Analysis, analyze, map_of
    from .reference_map import ReferenceMap, load_map, save_map
    from .rerun_logging import log_to_rerun

__all__ = [
    "Analysis",
    "Comparison",
    "ReferenceMap",
    "__version__",
    "analyze",
    "compare",
    "load_map",
    "log_comparison",
    "log_to_rerun",
    "map_of",
    "save_map",
]


def __getattr__(name: str) -> Any:
    if name in ("Analysis", "analyze", "map_of"):
        from . import pipeline

        return getattr(pipeline, name)
    if name in ("Comparison", "compare"):
        from . import comparison

        return getattr(comparison, name)
    if name in ("ReferenceMap", "load_map", "save_map"):
        from . import reference_map

        return getattr(reference_map, name)
    if name == "log_to_rerun":
        from .rerun_logging import log_to_rerun

        return log_to_rerun
    if name == "log_comparison":
        from .comparison_logging import log_comparison

        return log_comparison
    raise AttributeError(f"module 'llm_embedding_ner' has no attribute {name!r}")
