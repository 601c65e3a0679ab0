"""What a run writes besides the recording: the ``--suspects`` list, the ``--save-map`` map and
the ``--table`` folder.

Both are checked before any work (a new file in a folder that exists; options that make sense
together) and written after the recording is delivered, so a write that fails then costs
nothing else: one ``error:`` line says why, exit code 2, and the recording is where it went.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from ..analysis.changes import Comparison
    from ..analysis.reference_map import ReferenceMap
    from ..analysis.result import Analysis
    from .table import TableWriter


def check_new_file(option: str, path: str, example: str) -> None:
    """Fail before the model loads when ``path`` could not be written as a new file: a file
    is never overwritten."""
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{option} {path} is a directory; name a file, such as {target / example}")
    if target.exists():
        raise UserError(f"{option} {path} already exists; remove it or name another file")
    check_parent_folder(option, path)


def check_parent_folder(option: str, path: str) -> None:
    """Fail when the folder ``path`` would be made in does not exist or cannot be written in."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} {path}: cannot write in {folder}")


def check_table_folder(path: str) -> None:
    """Fail before any work when ``path`` is a file, a folder with files in it, or has no
    writable parent folder."""
    target = Path(path)
    if target.is_dir():
        if any(target.iterdir()):
            raise UserError(f"--table {path} is a folder with files in it; name a new or empty folder")
        return
    if target.exists():
        raise UserError(f"--table {path} is a file; name a new or empty folder")
    check_parent_folder("--table", path)


def file_key(path: Path) -> tuple[int, int] | str:
    """What makes two names one file: device and inode where it exists (a link, ``./x`` and
    ``x``), else the absolute path with its links resolved."""
    try:
        stat = path.stat()
        return (stat.st_dev, stat.st_ino)
    except OSError:
        return str(path.resolve())


def check_distinct(outputs: list[tuple[str, str]], inputs: list[tuple[str, str]]) -> None:
    """Refuse two outputs naming one file, and an output naming an input or an existing file
    inside an input folder (a model directory, a dataset): a run never writes over what it reads
    or over what it writes. Each list holds (option, path) pairs."""
    seen: dict[tuple[int, int] | str, str] = {}
    for option, path in outputs:
        key = file_key(Path(path))
        if key in seen:
            raise UserError(f"{seen[key]} and {option} name one file, {path}: give each its own file")
        seen[key] = option
    for input_option, input_path in inputs:
        source = Path(input_path)
        for option, path in outputs:
            target = Path(path)
            if file_key(target) == file_key(source):
                raise UserError(f"{option} {path} is the input {input_option} {input_path}: name a new file")
            if source.is_dir() and target.exists() and target.resolve().is_relative_to(source.resolve()):
                raise UserError(
                    f"{option} {path} is a file of the input {input_option} {input_path}: "
                    "name a file outside it"
                )


def run_paths(
    args: argparse.Namespace, model_names: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The run's output files, and its input files and folders (local ``--model`` directories
    among them), as (option, path) pairs."""
    from .delivery import chosen_sink

    outputs = [
        ("--save", args.save if chosen_sink(args) == "save" else None),
        ("--suspects", args.suspects),
        ("--save-map", args.save_map),
    ]
    inputs = [("--file", None if args.file == "-" else args.file), ("--map", args.map)]
    inputs += [("--model", name) for name in model_names if name and Path(name).is_dir()]
    return [(o, p) for o, p in outputs if p], [(o, p) for o, p in inputs if p]


def check_no_projection(args: argparse.Namespace) -> None:
    """With ``--map`` no projection is fitted: each token is placed among its map neighbours
    (the map's count, cosine), so the projection's options would be silently ignored."""
    from ..analysis.projection import ProjectionSettings

    defaults = ProjectionSettings()
    given = [
        option
        for option, value, default in (
            ("--n-neighbors", args.n_neighbors, defaults.n_neighbors),
            ("--min-dist", args.min_dist, defaults.min_dist),
            ("--metric", args.metric, defaults.metric),
            ("--seed", args.seed, defaults.seed),
        )
        if value != default
    ]
    if given:
        raise UserError(
            f"--map places tokens among their nearest map tokens (the map's count, by cosine distance) "
            f"and fits no projection: leave out {', '.join(given)}"
        )


def check_outputs(
    args: argparse.Namespace, n_models: int, model_names: list[str] | None = None, one_run: bool = False
) -> None:
    """The options that choose outputs and inputs of a run, against each other and the files;
    ``model_names``: the ``--model`` values as given (a directory's files are inputs);
    ``one_run``: the models are the checkpoints of one training run (suspects read them all)."""
    one_model = {
        "--suspects": args.suspects,
        "--save-map": args.save_map,
        "--table": args.table,
        "--map": args.map,
        "--interactive": args.interactive,
    }
    if getattr(args, "ray", None) and n_models > 1:  # checked first: it is why the others would fail
        raise UserError("--ray works with one model; give one --model")
    for option, value in one_model.items():
        if value and n_models > 1:
            if option in ("--suspects", "--table") and one_run:  # the final model's analysis
                continue
            also = ", or the checkpoints of one training run" if option == "--suspects" else ""
            raise UserError(f"{option} works with one model{also}; give one --model")
    if args.map:
        check_no_projection(args)
    if args.save_map and args.map:
        raise UserError("--save-map draws a new map and --map places tokens in one: give one of them")
    if args.interactive and getattr(args, "ray", None):
        raise UserError("--ray reads a corpus on a cluster, --interactive one sentence at a time: give one")
    if args.interactive and (
        args.text is not None or args.file is not None or args.suspects or args.save_map or args.table
    ):
        raise UserError(
            "--interactive reads sentences from the prompt: not with --text, --file, --suspects, "
            "--save-map or --table"
        )
    check_distinct(*run_paths(args, model_names or []))
    if args.suspects:
        check_new_file("--suspects", args.suspects, "suspects.jsonl")
    if args.save_map:
        check_new_file("--save-map", args.save_map, "reference.map.npz")
    if args.table:
        check_table_folder(args.table)


def write_outputs(
    args: argparse.Namespace,
    result: Analysis | Comparison,
    new_map: ReferenceMap | None,
    table: TableWriter | None = None,
) -> int:
    """Write the requested files after delivery; 2 (and one ``error:`` line) if one fails.
    ``table``: the --table writer that wrote each segment's tokens during the run."""
    code = 0
    if args.suspects:  # one model's analysis: checked before the run
        from .suspects_file import write_suspects

        try:
            print(write_suspects(args.suspects, getattr(result, "suspects", [])), file=sys.stderr)
        except OSError as e:
            print(f"error: cannot write --suspects {args.suspects}: {e.strerror or e}", file=sys.stderr)
            code = 2
    if args.table:  # one model's analysis: checked before the run
        from .table import TableWriter

        try:
            writer = table or TableWriter(args.table)
            print(writer.finish(result), file=sys.stderr)  # type: ignore[arg-type]
        except OSError as e:
            print(f"error: cannot write --table {args.table}: {e.strerror or e}", file=sys.stderr)
            code = 2
    if new_map is not None:
        from ..analysis.reference_map import save_map

        try:
            save_map(new_map, args.save_map)
            n, total = len(new_map.tokens), new_map.total_tokens
            tokens = f"{n:,} tokens" if n == total else f"{n:,} of {total:,} tokens (a seeded sample)"
            print(
                f"saved a reference map of {tokens}, layer {new_map.layer}, to {args.save_map}: "
                f"place other texts in it with --map {args.save_map}",
                file=sys.stderr,
            )
        except OSError as e:
            print(f"error: cannot write --save-map {args.save_map}: {e.strerror or e}", file=sys.stderr)
            code = 2
    return code
