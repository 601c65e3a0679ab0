"""See how a BERT named-entity-recognition model sees a text, in the Rerun viewer.

    from llm_embedding_ner import analyze, log_to_rerun
    analysis = analyze("Ada Lovelace was born in London.")
    log_to_rerun(analysis)

Heavy libraries (torch, transformers, umap, rerun) load on first use, not on import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API: each name and the module it lives in. The package is four folders in the order
# data flows through them (inputs -> model -> analysis -> viewer), with the runs that chain them
# (pipeline, comparison) and the command line at the top; see docs/design/how-it-works.md.
_PUBLIC = {
    "Analysis": "analysis.result",
    "Comparison": "analysis.changes",
    "Corpus": "inputs.documents",
    "Document": "inputs.documents",
    "LoadedModel": "model.model_loading",
    "ReferenceMap": "analysis.reference_map",
    "analyze": "pipeline",
    "blueprint_for": "viewer.blueprint",
    "compare": "comparison",
    "expand_models": "model.model_list",
    "load_map": "analysis.reference_map",
    "load_model": "model.model_loading",
    "log_comparison": "viewer.comparison_logging",
    "log_to_rerun": "viewer.rerun_logging",
    "map_of": "pipeline",
    "read_corpus": "inputs.corpus",
    "save_map": "analysis.reference_map",
}

if TYPE_CHECKING:
    from .analysis.changes import Comparison
    from .analysis.reference_map import ReferenceMap, load_map, save_map
    from .analysis.result import Analysis
    from .comparison import compare
    from .inputs.corpus import read_corpus
    from .inputs.documents import Corpus, Document
    from .model.model_list import expand_models
    from .model.model_loading import LoadedModel, load_model
    from .pipeline import analyze, map_of
    from .viewer.blueprint import blueprint_for
    from .viewer.comparison_logging import log_comparison
    from .viewer.rerun_logging import log_to_rerun

__all__ = [
    "Analysis",
    "Comparison",
    "Corpus",
    "Document",
    "LoadedModel",
    "ReferenceMap",
    "__version__",
    "analyze",
    "blueprint_for",
    "compare",
    "expand_models",
    "load_map",
    "load_model",
    "log_comparison",
    "log_to_rerun",
    "map_of",
    "read_corpus",
    "save_map",
]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'llm_embedding_ner' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)


def __dir__() -> list[str]:
    return [*globals(), *_PUBLIC]
