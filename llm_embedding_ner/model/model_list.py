"""Which models a run compares: the ``--model`` arguments, with Trainer output directories
expanded to their checkpoints.

transformers' ``Trainer`` saves ``checkpoint-<step>/`` subdirectories in its output directory
and, at the end, the final model in the directory itself. Such a directory stands for its
checkpoints in step order, then the final model. Nothing is loaded here: the checks look at
files only, so a wrong argument fails before any model runs.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import UserError
from .weights import WEIGHT_FILES

CHECKPOINT = re.compile(r"checkpoint-(\d+)")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spm.model", "vocab.json")


@dataclass(frozen=True)
class ModelEntry:
    name: str  # what load_model is given: a Hub id or a directory
    label: str  # short, for the viewer: "checkpoint-20", "bert-base-NER"
    step: int | None = None  # training step, for a Trainer checkpoint (or a final model that says it)
    tokenizer_from: str | None = None  # where its tokenizer is, when not beside it


def expand_models(names: list[str]) -> tuple[list[ModelEntry], list[str]]:
    """The models ``names`` stand for, in order, and one line per expanded directory saying
    what it expanded to. Raises ``UserError`` for a Trainer directory without a loadable
    checkpoint, and when a Trainer directory alone yields one checkpoint and nothing else. A
    Trainer directory alone whose checkpoints are all half-saved is its final model, alone."""
    entries: list[ModelEntry] = []
    lines: list[str] = []
    for name in names:
        expanded = trainer_checkpoints(name)
        if expanded is None:
            entries.append(ModelEntry(name, short_label(name), tokenizer_from=_run_tokenizer(name)))
            continue
        if len(names) == 1 and len(expanded) == 1 and expanded[0].name == name:
            entries.append(replace(expanded[0], label=short_label(name), step=None))
            continue
        entries += expanded
        lines.append(f"--model {name}: {', '.join(e.label for e in expanded)}")
        if len(names) == 1 and len(expanded) < 2:
            raise UserError(
                f"--model {name} holds only {expanded[0].label}: nothing to compare it with; "
                f"pass --model {expanded[0].name} to see it alone, or add another --model"
            )
    return entries, lines


def one_run(entries: list[ModelEntry]) -> list[ModelEntry] | None:
    """``entries`` in step order, the final model last, when they are the checkpoints of one
    training run (``checkpoint-N`` directories of one parent, and that parent as the final
    model): what a Trainer output directory expands to, or its checkpoints given one by one.
    None for one model, or for models of different runs."""
    paths = [_absolute(e.name) for e in entries]
    parents = {p.parent for p in paths if CHECKPOINT.fullmatch(p.name)}
    if len(entries) < 2 or len(parents) != 1:
        return None
    (parent,) = parents
    if any(not CHECKPOINT.fullmatch(p.name) and p != parent for p in paths):
        return None
    if len(set(paths)) < len(paths):
        return None  # one checkpoint twice is not a run's history

    def order(item: tuple[ModelEntry, Path]) -> tuple[int, int]:
        match = CHECKPOINT.fullmatch(item[1].name)
        return (0, int(match.group(1))) if match else (1, 0)

    return [entry for entry, _ in sorted(zip(entries, paths, strict=True), key=order)]


def trainer_checkpoints(name: str) -> list[ModelEntry] | None:
    """A Trainer output directory's checkpoints in step order, then its final model if it has
    one; None if ``name`` is not such a directory."""
    directory = Path(name).expanduser()
    if not directory.is_dir():
        return None
    found = sorted(
        (int(match.group(1)), path)
        for path in directory.iterdir()
        if path.is_dir() and (match := CHECKPOINT.fullmatch(path.name))
    )
    if not found:
        return None
    usable = [(step, path) for step, path in found if _has_model(path)]
    final = _has_model(directory)
    if not usable and not final:
        raise UserError(
            f"--model {name} has {len(found)} checkpoint directories ({found[0][1].name}...) but none holds "
            "a model (config.json and weights); was the training interrupted while saving?"
        )
    if len(usable) < len(found):
        skipped = [path.name for _, path in found if not _has_model(path)]
        warnings.warn(
            f"--model {name}: skipped {', '.join(skipped)} (no config.json and weights: saved only in "
            "part, or still being saved)",
            stacklevel=3,
        )
    # Trainer saves the tokenizer only when it was given one; a checkpoint without it borrows
    # the run directory's (a script may save it there first), or another checkpoint's (one run
    # has one tokenizer).
    with_tokenizer = [path for _, path in usable if _has_tokenizer(path)]
    if _has_tokenizer(directory):
        with_tokenizer.insert(0, directory)
    if not with_tokenizer:
        raise UserError(f"--model {name}: neither its checkpoints nor the final model have tokenizer files")
    shared = str(with_tokenizer[0])

    def tokenizer_for(path: Path) -> str | None:
        return None if _has_tokenizer(path) else shared

    entries = [ModelEntry(str(path), path.name, step, tokenizer_for(path)) for step, path in usable]
    if final:
        entries.append(
            ModelEntry(
                str(directory),
                f"{short_label(name)} (final)",
                _final_step(directory),
                tokenizer_for(directory),
            )
        )
    return entries


GENERIC_NAMES = {"model", "models", "final", "best", "output", "outputs", "checkpoint"}
SNAPSHOT = re.compile(r"[0-9a-f]{40}")  # a Hugging Face cache snapshot's directory


def short_label(name: str) -> str:
    """The last part of a Hub id or a path: ``dslim/bert-base-NER`` -> ``bert-base-NER``; with
    its parent where the last part says nothing (``.../all-MiniLM/model``, a cache snapshot)."""
    path = Path(name.rstrip("/\\") or name)
    if path.expanduser().is_dir():
        path = _absolute(str(path))
    repo = path.parent.parent.name  # .../models--dslim--bert-base-NER/snapshots/<commit>
    if SNAPSHOT.fullmatch(path.name) and path.parent.name == "snapshots" and repo.startswith("models--"):
        return repo.removeprefix("models--").split("--")[-1]
    if (path.name.lower() in GENERIC_NAMES or SNAPSHOT.fullmatch(path.name)) and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name or name


def _run_tokenizer(name: str) -> str | None:
    """For a checkpoint passed on its own without tokenizer files: its run directory, when the
    tokenizer was saved there."""
    path = _absolute(name)
    borrows = CHECKPOINT.fullmatch(path.name) and _has_model(path) and not _has_tokenizer(path)
    return str(path.parent) if borrows and _has_tokenizer(path.parent) else None


def _absolute(name: str) -> Path:
    """A directory's path made absolute, without following links (whose targets are often
    named by hash or step, not as the user named them): ``.`` becomes the directory's name."""
    return Path(os.path.abspath(Path(name).expanduser()))


def _has_model(path: Path) -> bool:
    return (path / "config.json").is_file() and any((path / f).is_file() for f in WEIGHT_FILES)


def _has_tokenizer(path: Path) -> bool:
    return any((path / f).is_file() for f in TOKENIZER_FILES)


def _final_step(directory: Path) -> int | None:
    """The final model's step, from the trainer_state.json that ``Trainer.save_state`` writes."""
    try:
        return int(json.loads((directory / "trainer_state.json").read_text())["global_step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
