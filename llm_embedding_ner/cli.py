"""Command line: parse options, run the analysis, log it to Rerun.

Errors the user can fix end as one ``error: ...`` line on stderr with exit code 2, before
anything is logged.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from .analysis.projection import ProjectionSettings
from .errors import UserError
from .inputs.default_text import DEFAULT_TEXT
from .model.layer_selection import resolve_layers
from .model.model_list import ModelEntry
from .model.model_loading import DEFAULT_MODEL
from .options import build_parser
from .progress import Stopwatch
from .viewer.delivery import check_sink, discard_partial, named_file_line, prepare_spawn
from .viewer.outputs import check_outputs, write_outputs
from .viewer.table import TableWriter

if TYPE_CHECKING:
    from .analysis.changes import Comparison
    from .analysis.projection import Projector
    from .analysis.reference_map import ReferenceMap
    from .analysis.result import Analysis
    from .inputs.corpus import Corpus
    from .model.model_loading import LoadedModel


def source_name(file: str | None) -> str:
    """The gold data's name in the metrics' title."""
    if file is None:
        return "the gold labels"
    return "standard input" if file == "-" else Path(file).name


def main(argv: list[str] | None = None) -> int:
    # Rerun's own log lines (a lost viewer connection, retried at shutdown) would follow our one
    # line about it; RUST_LOG set by the user still shows them. Read when rerun starts logging.
    os.environ.setdefault("RUST_LOG", "off")
    args = build_parser().parse_args(argv)
    _setup_output(quiet=args.quiet)
    settings = ProjectionSettings(args.n_neighbors, args.min_dist, args.metric, args.seed)
    projector = None
    table: TableWriter | None = None
    try:
        check_sink(args)
        from .model.model_list import expand_models, one_run

        entries, expanded = expand_models(args.model or [DEFAULT_MODEL])
        run = one_run(entries) if args.suspects else None  # suspects from its training dynamics
        check_outputs(args, len(entries), args.model or [], one_run=run is not None)
        for line in expanded:
            logging.getLogger("llm_embedding_ner").info(line)
        no_viewer = prepare_spawn(args)
        from .analysis.reference_map import load_map

        reference = load_map(args.map) if args.map else None  # a bad map fails before the model loads
        from .analysis.projection_process import ProjectionProcess

        # Started first: UMAP imports (and compiles) in that process while this one loads the
        # model. Tokens placed in a map need no UMAP.
        projector = ProjectionProcess(settings) if reference is None else None
        project = projector.project if projector is not None else None
        if args.interactive:
            from .interactive import prompt

            model = load_one(args, entries[0], reference)
            return prompt(args, model, settings, project, reference, no_viewer)
        from .inputs.corpus import read_corpus

        corpus = read_corpus(
            args.text, args.file, DEFAULT_TEXT, args.format, args.split, args.scheme, args.label_names
        )
        if args.suspects and not corpus.has_gold:
            given = (
                source_name(args.file)
                if args.file
                else "--text"
                if args.text is not None
                else "the default text"
            )
            raise UserError(
                f"--suspects checks gold labels, and {given} has none: give a --file with gold labels "
                "(CoNLL, JSON Lines with tokens and ner_tags, a dataset)"
            )
        table = TableWriter(args.table) if args.table else None  # written as the run reads
        result, new_map = run_models(args, run or entries, corpus, settings, project, reference, table)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = table.kept() if table is not None else ""
        said = f"; {kept}" if kept else ", nothing was saved or sent"
        print(f"interrupted: stopped before logging{said}", file=sys.stderr)
        return 130
    finally:
        if projector is not None:
            projector.close()

    import rerun as rr

    from .viewer.delivery import deliver, save_after_failure

    source = source_name(args.file)
    try:
        with Stopwatch().stage("logging"):
            closing_line = deliver(result, args, source, no_viewer)
    except KeyboardInterrupt:
        print(f"interrupted while logging: {discard_partial(args)}", file=sys.stderr)
        return 130
    except Exception as e:  # the viewer closed, crashed or never listened; a flush failed
        print(save_after_failure(result, source, e), file=sys.stderr)
        return write_outputs(args, result, new_map, table) or 1  # they do not depend on the recording
    from .viewer.report import summary

    log = logging.getLogger("llm_embedding_ner")
    for line in summary(result, args.suspects):
        log.info(line)
    if saved := named_file_line(args):
        log.info(saved)
    if closing_line:
        print(closing_line, file=sys.stderr)  # where the recording went, or where it is served
    code = write_outputs(args, result, new_map, table)
    if not no_viewer:
        rr.script_teardown(args)  # with --serve: keeps serving until Ctrl-C
    return code


def run() -> NoReturn:
    """The command's entry point: ``main``, then an exit without the interpreter's teardown.

    Tearing down torch and transformers (their operator registrations, thousands of modules)
    takes 1.5 to 2 seconds after the work is done, on every run. Nothing of ours needs it: the
    exit handlers still run (Rerun's flush of the recording, logging's), then the process ends.
    """
    code = main()
    # Ctrl-C while the exit handlers run (Rerun's flush, torch's and others' own) would end in a
    # traceback printed by the interpreter ("Exception ignored in atexit callback"): the user
    # wants out, so the process ends at once, quietly, as an interrupted run does.
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_models(
    args: argparse.Namespace,
    entries: list[ModelEntry],
    corpus: Corpus,
    settings: ProjectionSettings,
    project: Projector | None,
    reference: ReferenceMap | None = None,
    table: TableWriter | None = None,
) -> tuple[Analysis | Comparison, ReferenceMap | None]:
    """One model's analysis, or, for several, their comparison (comparison.py); and, with
    ``--save-map``, the map of the analysis to write once it is delivered. ``table`` receives
    each segment's token rows as it is read (one model only: check_outputs)."""
    options = dict(
        projection=settings, batch_size=args.batch_size, layers=args.layers, label_map=args.label_map
    )
    dynamics = None
    if args.suspects and len(entries) > 1:  # one training run (check_outputs): its final model
        from .training_run import read_checkpoints

        dynamics = read_checkpoints(
            corpus,
            entries[:-1],
            entries[-1].label,
            device=args.device,
            batch_size=args.batch_size,
            label_map=args.label_map,
            allow_pickle=args.allow_pickle,
        )
        entries = entries[-1:]
    if len(entries) > 1:
        from .comparison import compare

        comparison = compare(
            corpus, entries, device=args.device, allow_pickle=args.allow_pickle, project=project, **options
        )
        return comparison, None
    from .pipeline import analyze, map_of
    from .reading import predict

    read = predict
    if args.ray:  # the model is read on the cluster's actors; here it only says what it is
        from .ray_reading import RayReader, RaySettings

        read = RayReader(RaySettings(args.ray, entries[0], args.device, args.allow_pickle, args.ray_actors))
    model = load_one(args, entries[0], reference, device="cpu" if args.ray else args.device)
    analysis = analyze(
        corpus,
        model,
        project=project,
        reference_map=reference,
        dynamics=dynamics,
        on_segment=table,
        read=read,
        **options,
    )
    return analysis, map_of(analysis, model, settings, source_name(args.file)) if args.save_map else None


def load_one(
    args: argparse.Namespace, entry: ModelEntry, reference: ReferenceMap | None, device: str | None = None
) -> LoadedModel:
    """The one model of a run, its ``--layers`` checked (against the map's, with ``--map``);
    on ``device`` (default: ``--device``)."""
    from .analysis.reference_map import check_fits
    from .model.model_loading import load_model, load_tokenizer, loading_stage

    with loading_stage(Stopwatch()) as note:
        tokenizer = load_tokenizer(entry.tokenizer_from) if entry.tokenizer_from else None
        model = load_model(
            entry.name, device or args.device, allow_pickle=args.allow_pickle, tokenizer=tokenizer
        )
        chosen = resolve_layers(args.layers, model.n_layers)  # a wrong --layers fails before any work
        note.append(f"{model.name} on {model.device}")
    if reference is not None:  # checked before any input is read or sentence typed
        check_fits(reference, model, args.map)
        if args.layers != "last" and chosen != (reference.layer,):
            raise UserError(
                f"--map {args.map} was drawn at layer {reference.layer}, and tokens are placed at the "
                f"map's layer: leave out --layers or give --layers {reference.layer}"
            )
    return model


def _setup_output(quiet: bool) -> None:
    """Progress and timings as plain lines on stderr; Python warnings as one ``warning:`` line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("llm_embedding_ner")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    warnings.showwarning = _show_warning


_shown_warnings: set[str] = set()


def _show_warning(message: Warning | str, category: type[Warning], *_args: object, **_kwargs: object) -> None:
    # One line each, once each: libraries repeat multi-line warnings (UMAP once per graph component).
    line = " ".join(str(message).split())
    if line not in _shown_warnings:
        _shown_warnings.add(line)
        print(f"warning: {line}", file=sys.stderr)
