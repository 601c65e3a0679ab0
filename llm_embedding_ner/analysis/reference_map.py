"""Reference maps: one run's 3D picture kept, so that later runs place their tokens in it.

A map holds one layer's hidden states of a reference run (every token, or a seeded sample of
``MAX_MAP_TOKENS`` of them), their 3D coordinates and what the viewer says about them (token,
predicted label, gold tag, document), with the model's and tokenizer's fingerprints. A new
token is placed at the mean of its ``k`` nearest reference tokens' coordinates (cosine, exact),
weighted by inverse distance: the same token lands in the same place whatever else is placed
with it, near-duplicates land together, and a reference token placed again lands next to
where it was. (UMAP's own ``transform`` depends on the batch and moves duplicates apart.)

The file is one ``.npz`` (numpy's zip of arrays, read with ``allow_pickle=False``, so loading
runs no code): ``hidden`` (n, d) float16 (float32 when a value is beyond float16's range),
``coordinates`` (n, 3) float32, ``document`` and ``class_ids`` (n,) int32, and ``meta``, UTF-8
JSON as bytes, with ``format``, ``version``, ``model``, ``model_fingerprint``,
``tokenizer_fingerprint``, ``layer``, ``settings`` (the projection's), ``entity_types``,
``tokens``, ``labels``, ``gold_tags`` (or null), ``total_tokens`` and ``source``. Loading
checks every field (types, shapes, lengths, finite values): a map is a file anyone can hand on.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import zipfile
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UserError
from .projection import Projection, ProjectionSettings

if TYPE_CHECKING:
    from ..model.model_loading import LoadedModel

MAP_FORMAT = "llm_embedding_ner map"
MAP_VERSION = 1
# Beyond this many tokens a map keeps a seeded sample: 50,000 tokens of a 768-wide model are
# 77 MB in float16, and placing a token compares it with every one of them.
MAX_MAP_TOKENS = 50_000
# Distances are cosine (0 for the same direction). This keeps a token that is in the map from
# dividing by zero, and is ten times the distance float16 storage puts between a vector and its
# stored copy (about 1e-7): a token of the map outweighs its other neighbours (cosine distances
# of 0.01 and more) ten thousand times over, so it lands on its own point.
DISTANCE_FLOOR = 1e-6
ARRAYS = ("hidden", "coordinates", "document", "class_ids", "meta")
META_FIELDS = (
    "model", "model_fingerprint", "tokenizer_fingerprint", "layer", "settings", "entity_types",
    "tokens", "labels", "gold_tags", "total_tokens", "source",
)  # fmt: skip
# float16's largest finite value: hidden states beyond it are kept in float32 (they would be inf).
FLOAT16_MAX = 65504.0


@dataclass(frozen=True)
class ReferenceMap:
    """One run's picture kept to place later runs' tokens in (``map_of``, ``save_map``, ``load_map``):
    its tokens' hidden states and 3D coordinates, what each token was, and fingerprints of the
    model and tokenizer that made it, so a map is only used with them."""

    model: str  # the model's id or directory, as given
    model_fingerprint: str
    tokenizer_fingerprint: str
    layer: int  # the hidden layer the map was drawn from (0 is the embedding output)
    settings: ProjectionSettings
    hidden: np.ndarray  # (n, d) float16, or float32 for values beyond float16's range
    coordinates: np.ndarray  # (n, 3) float32
    tokens: list[str]  # as shown
    labels: list[str]  # predicted
    gold_tags: list[str] | None  # the token's word's gold tag, with gold labels only
    document: np.ndarray  # (n,) the token's document in the reference input
    class_ids: np.ndarray  # (n,) predicted entity class (0: none), numbered by entity_types
    entity_types: list[str]
    total_tokens: int  # tokens of the reference run (more than n when sampled)
    source: str  # the reference input's name

    @cached_property
    def index(self) -> Any:
        """faiss's exact inner-product index of the hidden states as rows of length 1 (cosine
        from a product), made once: on the CoNLL-2003 test split against a 50,000-token map it
        searches in 12 s what numpy's products and partial sorts took 48 s for."""
        import faiss

        unit = _unit(self.hidden)
        index = faiss.IndexFlatIP(unit.shape[1])
        index.add(unit)
        return index

    def describe(self, index: int) -> str:
        """A reference token as ``Nearest tokens`` lists it: text, document, gold tag."""
        gold = f", gold {self.gold_tags[index]}" if self.gold_tags is not None else ""
        return f"{self.tokens[index]} (doc {int(self.document[index])}{gold})"


def model_fingerprint(model: Any) -> str:
    """A short hash of the model's weights: every tensor's name and shape, and a thousand of
    its values evenly spread (two checkpoints of one run differ in them; reading all would
    take seconds for a large model)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().reshape(-1)
        step = max(1, flat.numel() // 1000)
        digest.update(f"{name}{tuple(tensor.shape)}".encode())
        digest.update(flat[::step].float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A short hash of the tokenizer: its whole definition (vocabulary, normaliser, pre-
    tokenizer) where it is a fast tokenizer, else its vocabulary."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        definition = json.loads(backend.to_str())
        # Truncation and padding are settings of the last call, not of the tokenizer.
        definition.pop("truncation", None)
        definition.pop("padding", None)
        text = json.dumps(definition, sort_keys=True)
    else:
        text = json.dumps(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprints(model: Any, tokenizer: Any) -> tuple[str, str]:
    """The (weights, tokenizer) fingerprints a map is drawn with and later checked against."""
    return model_fingerprint(model), tokenizer_fingerprint(tokenizer)


def make_map(
    hidden: np.ndarray,
    coordinates: np.ndarray,
    *,
    model: str,
    fingerprints: tuple[str, str],
    layer: int,
    settings: ProjectionSettings,
    tokens: list[str],
    labels: list[str],
    gold_tags: list[str] | None,
    document: np.ndarray,
    class_ids: np.ndarray,
    entity_types: list[str],
    source: str,
) -> ReferenceMap:
    """A map of these tokens: every one, or ``MAX_MAP_TOKENS`` of them drawn with the seed."""
    n = hidden.shape[0]
    kept = np.arange(n)
    if n > MAX_MAP_TOKENS:
        kept = np.sort(np.random.default_rng(settings.seed).choice(n, MAX_MAP_TOKENS, replace=False))
    return ReferenceMap(
        model,
        fingerprints[0],
        fingerprints[1],
        layer,
        settings,
        _compact(hidden[kept]),
        coordinates[kept].astype(np.float32),
        [tokens[i] for i in kept],
        [labels[i] for i in kept],
        None if gold_tags is None else [gold_tags[i] for i in kept],
        np.asarray(document)[kept].astype(np.int32),
        np.asarray(class_ids)[kept].astype(np.int32),
        list(entity_types),
        n,
        source,
    )


def _compact(hidden: np.ndarray) -> np.ndarray:
    """The hidden states in float16 (half the file), or in float32 where a value is beyond
    float16's range (it would become inf, then NaN distances)."""
    largest = float(np.abs(hidden).max()) if hidden.size else 0.0
    return hidden.astype(np.float16 if largest < FLOAT16_MAX else np.float32)


def save_map(m: ReferenceMap, path: str | Path) -> None:
    """Write ``m`` to ``path`` as one ``.npz`` file (numpy's zip of arrays, no pickles): ``hidden``,
    ``coordinates``, ``document``, ``class_ids`` and ``meta``, UTF-8 JSON with the rest; a file
    already at ``path`` is never replaced (FileExistsError)."""
    meta = {
        "format": MAP_FORMAT,
        "version": MAP_VERSION,
        "model": m.model,
        "model_fingerprint": m.model_fingerprint,
        "tokenizer_fingerprint": m.tokenizer_fingerprint,
        "layer": m.layer,
        "settings": asdict(m.settings),
        "entity_types": m.entity_types,
        "tokens": m.tokens,
        "labels": m.labels,
        "gold_tags": m.gold_tags,
        "total_tokens": m.total_tokens,
        "source": m.source,
    }
    encoded = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8)
    # Written as a new file of its own (not mkstemp's, which is private), then linked to ``path``:
    # a map is never half there, and a file at ``path`` is never replaced (FileExistsError).
    temporary = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    try:
        with open(temporary, "xb") as out:
            np.savez(
                out,
                hidden=m.hidden,
                coordinates=m.coordinates,
                document=m.document,
                class_ids=m.class_ids,
                meta=encoded,
            )
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: copied into a new file instead
            with open(temporary, "rb") as source, open(path, "xb") as target:
                shutil.copyfileobj(source, target)
    finally:
        temporary.unlink(missing_ok=True)


def load_map(path: str | Path) -> ReferenceMap:
    """The map in ``path``; a file that is not one (truncated, foreign, of another version)
    is a UserError naming what is wrong."""
    try:
        # Opened here: numpy leaves a file it could not read open.
        with open(path, "rb") as handle:
            data = np.load(handle, allow_pickle=False)
            files = getattr(data, "files", [])  # a lone .npy array has none
            missing = [name for name in ARRAYS if name not in files]
            if missing:
                raise UserError(f"--map {path} is not a map of this tool (it has no {', '.join(missing)})")
            arrays = {name: data[name] for name in ARRAYS}
    except FileNotFoundError:
        raise UserError(f"--map {path} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"--map {path} is a directory; name a map file") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise UserError(f"--map {path} is not a readable map (truncated or not a map file: {e})") from None
    try:
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"--map {path} has a damaged description ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict) or meta.get("format") != MAP_FORMAT:
        raise UserError(f"--map {path} is not a map of this tool")
    if meta.get("version") != MAP_VERSION:
        raise UserError(f"--map {path} is a version {meta.get('version')} map; this tool reads {MAP_VERSION}")
    try:
        return _validated(meta, arrays)
    except _Damaged as e:
        raise UserError(f"--map {path} is damaged: {e}") from None


class _Damaged(Exception):
    """One field of a map that is not what this tool writes."""


def _validated(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> ReferenceMap:
    """The map of these fields, each checked: types, shapes, lengths, finite values. A map is
    a file anyone can hand over; every field is checked here so that none fails later, deep in
    faiss or the viewer, after the model has loaded."""
    missing = [name for name in META_FIELDS if name not in meta]
    if missing:
        raise _Damaged(f"its description has no {', '.join(missing)}")
    hidden, coordinates = arrays["hidden"], arrays["coordinates"]
    if hidden.ndim != 2 or hidden.shape[0] == 0 or hidden.shape[1] == 0:
        raise _Damaged(f"hidden states of shape {hidden.shape}, not (tokens, width)")
    n = hidden.shape[0]
    if hidden.dtype not in (np.float16, np.float32) or not np.isfinite(hidden).all():
        raise _Damaged("its hidden states are not finite 16- or 32-bit floats")
    if coordinates.shape != (n, 3) or coordinates.dtype.kind != "f" or not np.isfinite(coordinates).all():
        raise _Damaged(f"its coordinates are not {n:,} finite 3D points")
    for name in ("document", "class_ids"):
        if arrays[name].shape != (n,) or arrays[name].dtype.kind not in "iu":
            raise _Damaged(f"{name} is not {n:,} whole numbers")
    entity_types = _strings(meta["entity_types"], "entity_types")
    class_ids = arrays["class_ids"]
    if class_ids.min() < 0 or class_ids.max() > len(entity_types):
        raise _Damaged(f"class_ids outside 0 to {len(entity_types)}, its entity types")
    lists = {name: _strings(meta[name], name) for name in ("tokens", "labels")}
    gold_tags = None if meta["gold_tags"] is None else _strings(meta["gold_tags"], "gold_tags")
    for name, values in (*lists.items(), ("gold_tags", gold_tags)):
        if values is not None and len(values) != n:
            raise _Damaged(f"{name} has {len(values):,} entries for {n:,} tokens")
    total = _whole(meta["total_tokens"], "total_tokens", n)
    settings = meta["settings"]
    if not isinstance(settings, dict) or set(settings) != {f.name for f in fields(ProjectionSettings)}:
        raise _Damaged("its projection settings are not this tool's")
    min_dist = settings["min_dist"]
    if isinstance(min_dist, bool) or not isinstance(min_dist, int | float) or not 0 <= min_dist <= 1:
        raise _Damaged(f"min_dist {min_dist!r} is not a number from 0 to 1")
    if not isinstance(settings["metric"], str):
        raise _Damaged(f"metric {settings['metric']!r} is not a name")
    projection = ProjectionSettings(
        _whole(settings["n_neighbors"], "n_neighbors", 1),
        float(min_dist),
        settings["metric"],
        _whole(settings["seed"], "seed", 0),
        None if settings["n_epochs"] is None else _whole(settings["n_epochs"], "n_epochs", 1),
    )
    text = {name: meta[name] for name in ("model", "model_fingerprint", "tokenizer_fingerprint", "source")}
    for name, value in text.items():
        if not isinstance(value, str):
            raise _Damaged(f"{name} {value!r} is not text")
    return ReferenceMap(
        text["model"],
        text["model_fingerprint"],
        text["tokenizer_fingerprint"],
        _whole(meta["layer"], "layer", 0),
        projection,
        hidden,
        coordinates.astype(np.float32),
        lists["tokens"],
        lists["labels"],
        gold_tags,
        arrays["document"].astype(np.int64),
        class_ids.astype(np.int64),
        entity_types,
        total,
        text["source"],
    )


def _whole(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _Damaged(f"{name} {value!r} is not a whole number of at least {minimum:,}")
    return value


def _strings(value: object, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Damaged(f"{name} is not a list of texts")
    return value


def check_compatible(
    m: ReferenceMap,
    path: str,
    fingerprints: tuple[str, str],
    model_name: str,
    width: int | None = None,
) -> None:
    """Refuse to place a run's tokens in a map drawn by another model or tokenizer, or whose
    hidden states are not ``width`` wide (the model's hidden size)."""
    if fingerprints[0] != m.model_fingerprint:
        raise UserError(
            f"--map {path} was made with {m.model} (weights {m.model_fingerprint}); {model_name} has other "
            f"weights ({fingerprints[0]}): make a map with this model (--save-map)"
        )
    if fingerprints[1] != m.tokenizer_fingerprint:
        raise UserError(
            f"--map {path} was made with another tokenizer than {model_name}'s "
            f"({m.tokenizer_fingerprint}, this one {fingerprints[1]})"
        )
    if width is not None and m.hidden.shape[1] != width:
        raise UserError(
            f"--map {path} is damaged: its hidden states are {m.hidden.shape[1]} wide, {model_name}'s {width}"
        )


def check_fits(m: ReferenceMap, loaded: LoadedModel, path: str = "(the reference map)") -> None:
    """``check_compatible`` for a loaded model: its weights, its tokenizer, its hidden size."""
    width = getattr(loaded.model.config, "hidden_size", None)
    check_compatible(m, path, fingerprints(loaded.model, loaded.tokenizer), loaded.name, width)


def place(m: ReferenceMap, vectors: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (n, 3), nearest (n, k)): each vector at the inverse-distance-weighted mean of
    its ``k`` nearest reference tokens' coordinates (cosine, exact), and those tokens, nearest
    first. Each vector is placed on its own: the result does not depend on the others (faiss
    computes a product per pair and keeps the ``k`` best of each row)."""
    k = min(k or m.settings.n_neighbors, m.hidden.shape[0])
    similarity, nearest = m.index.search(_unit(vectors), k)
    distances = np.maximum(1.0 - similarity.astype(np.float64), 0.0)
    weights = 1.0 / (distances + DISTANCE_FLOOR)
    coordinates = (weights[:, :, None] * m.coordinates[nearest].astype(np.float64)).sum(axis=1)
    coordinates /= weights.sum(axis=1, keepdims=True)
    return coordinates.astype(np.float32), nearest


def type_agreement(nearest: np.ndarray, classes: np.ndarray, reference_classes: np.ndarray) -> float:
    """How often entity tokens (class > 0) have their own type among their ``nearest`` map tokens
    (indices into ``reference_classes``): the share of those with their class, averaged within
    each class and then over classes, as the separation score is. NaN with no entity tokens."""
    same = (reference_classes[nearest] == classes[:, None]).mean(axis=1)
    per_class = [float(same[classes == c].mean()) for c in np.unique(classes) if c > 0]
    return float(np.mean(per_class)) if per_class else float("nan")


def _unit(vectors: np.ndarray) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class MapProjector:
    """Stands in for ``project_to_3d``: places vectors in a map instead of fitting a projection;
    the nearest map tokens come with the coordinates, for the viewer's ``Nearest tokens``."""

    def __init__(self, reference: ReferenceMap) -> None:
        self.reference = reference

    def __call__(
        self,
        vectors: np.ndarray,
        settings: ProjectionSettings | None = None,
        neighbours: object = None,
        follow: np.ndarray | None = None,
    ) -> Projection:
        coordinates, nearest = place(self.reference, vectors)
        return Projection(coordinates, "map", nearest)
