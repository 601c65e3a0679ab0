"""A model directory's weights files, checked before anything loads: there, in a format the user
allows, and readable.

Loading a model takes seconds to minutes, and a comparison runs earlier models first; a damaged
or missing file should fail at once, named, instead of as the loader's traceback when its turn
comes. The check reads headers only: a safetensors header is a few kilobytes and says where
every tensor lies, so a file cut short shows without reading its tensors.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ..errors import UserError, first_line

SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")  # one file, or shards and their index
PICKLE = ("pytorch_model.bin", "pytorch_model.bin.index.json")
WEIGHT_FILES = (*SAFETENSORS, *PICKLE)


def check_weights(name: str, directory: Path, allow_pickle: bool, complete: bool = True) -> None:
    """Raise ``UserError`` when ``name``'s weights in ``directory`` cannot load: none there (when
    ``complete``: a Hub cache may still lack files it will download), only pickle files without
    ``allow_pickle``, a shard its index names missing, or a file whose header cannot be read."""
    safetensors = weight_files(name, directory, *SAFETENSORS, complete)
    pickles = weight_files(name, directory, *PICKLE, complete)
    if safetensors is None and pickles is None and complete:
        raise UserError(
            f"{name} has no weights file: neither {SAFETENSORS[0]} nor {PICKLE[0]} (nor a sharded "
            "index of either); was the model saved with save_pretrained?"
        )
    if safetensors is None and not allow_pickle and complete:
        raise UserError(pickle_only(name))
    for path in safetensors if safetensors is not None else pickles or []:
        problem = _safetensors_problem(path) if path.suffix == ".safetensors" else _pickle_problem(path)
        if problem:
            raise UserError(
                f"{name}: its weights file {path.name} cannot be read ({problem}); save the model again"
            )


def pickle_only(name: str) -> str:
    """The refusal of a model whose only weights are pickle files (also said after a download)."""
    return (
        f"{name} has no safetensors weights, only pickle (.bin) files, which can run code when "
        "loaded; pass --allow-pickle if you trust this model"
    )


def weight_files(name: str, directory: Path, single: str, index: str, complete: bool) -> list[Path] | None:
    """The files of one format: ``single``, else the shards ``index`` names; None if neither is
    there. A shard missing from a complete directory is an error."""
    if (directory / single).is_file():
        return [directory / single]
    if not (directory / index).is_file():
        return None
    try:
        shards = sorted(
            set(json.loads((directory / index).read_text(encoding="utf-8"))["weight_map"].values())
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise UserError(f"{name}: its shard index {index} cannot be read ({first_line(e)})") from None
    paths = [directory / shard for shard in shards]
    missing = [p.name for p in paths if not p.is_file()]
    if missing and complete:
        raise UserError(f"{name}: {index} names {len(missing)} missing shard(s), the first {missing[0]}")
    return [p for p in paths if p.is_file()]


def _safetensors_problem(path: Path) -> str | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt"):  # parses the header and checks that it fits the file
            return None
    except Exception as e:  # the library's SafetensorError, or OSError
        return first_line(e)


def _pickle_problem(path: Path) -> str | None:
    """torch.save writes a zip archive, whose directory sits at the end: a file cut short has none.
    Its older format is a bare pickle (protocol 2: it starts with 0x80)."""
    try:
        with path.open("rb") as handle:
            start = handle.read(2)
        if not start:
            return "it is empty"
        if start == b"PK":
            with zipfile.ZipFile(path):
                return None
        return None if start[:1] == b"\x80" else "neither a zip archive nor a pickle"
    except (OSError, zipfile.BadZipFile) as e:
        return first_line(e)
