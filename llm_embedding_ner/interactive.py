"""``--interactive``: the model (and a map) loaded once, then one sentence after another.

Each line typed at the prompt (or read from standard input) is analysed and added to the same
recording at the next step of the ``sentence`` timeline, so the viewer, open all along, shows
each sentence as it comes and the slider goes back to earlier ones. With ``--map`` every
sentence lands in the map's coordinates, among its tokens; without, each gets its own layout.
Ctrl-D (the end of the input) ends the session; Ctrl-C too, with exit code 130. Either way the
recording is complete where it went.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from .analysis.projection import ProjectionSettings
from .model.layer_selection import LayerSpec

if TYPE_CHECKING:
    import rerun as rr

    from .analysis.projection import Projector
    from .analysis.reference_map import ReferenceMap
    from .analysis.result import Analysis
    from .model.model_loading import LoadedModel

SENTENCE_TIMELINE = "sentence"
PROMPT = "> "

log = logging.getLogger("llm_embedding_ner")


def prompt(
    args: argparse.Namespace,
    model: LoadedModel,
    settings: ProjectionSettings,
    project: Projector | None,
    reference: ReferenceMap | None,
    no_viewer: str | None,
) -> int:
    """Read sentences until the input ends; 0, or 130 after Ctrl-C. ``args`` brings the options
    every sentence is analysed with (``--layers``, ``--label-map``, ``--batch-size``)."""
    from .analysis.entities import check_label_map, entity_types, renamed_types
    from .errors import UserError
    from .viewer.blueprint import camera_for, default_blueprint
    from .viewer.delivery import chosen_sink, named_file_line, open_recording
    from .viewer.rerun_logging import log_annotation_context, log_reference_map

    options = SentenceOptions(settings, args.layers, args.label_map, args.batch_size)
    if args.label_map:  # a wrong name fails now, not at the first sentence
        check_label_map(args.label_map, entity_types(model.labels))
    types = renamed_types(entity_types(model.labels), args.label_map or {})
    camera = camera_for(reference.coordinates) if reference is not None else None
    blueprint = default_blueprint(
        layer_timeline=args.layers != "last" and reference is None,
        camera=camera,
        timeline=SENTENCE_TIMELINE,
    )
    recording, where = open_recording(args, no_viewer, blueprint)
    log_annotation_context(types, recording)
    if reference is not None:
        log_reference_map(reference, recording)
    if where and chosen_sink(args) == "serve":
        print(where, file=sys.stderr)  # a served recording's address is needed before typing
    if sys.stdin.isatty():
        print("type a sentence and press Enter; Ctrl-D ends", file=sys.stderr)

    code, count = 0, 0
    try:
        for text in sentences(sys.stdin):
            start = time.perf_counter()
            try:
                analysis = show_sentence(text, count, model, options, project, reference, recording)
            except UserError as e:  # one line the model cannot read ends nothing
                print(f"warning: sentence skipped: {e}", file=sys.stderr)
                continue
            count += 1  # counted before it is said, so that a Ctrl-C after the line counts it
            found = ", ".join(f"{e.text} ({e.type})" for e in analysis.entities) or "no entities"
            took = time.perf_counter() - start
            log.info("sentence %d: %d tokens, %s (%.2f s)", count - 1, len(analysis.tokens), found, took)
    except KeyboardInterrupt:
        code = 130
    recording.flush()
    print(
        f"{count:,} sentence{'' if count == 1 else 's'} on the '{SENTENCE_TIMELINE}' timeline",
        file=sys.stderr,
    )
    if where and chosen_sink(args) != "serve":
        print(where, file=sys.stderr)  # where the recording is, once it holds the sentences
    if saved := named_file_line(args):
        log.info(saved)
    if not no_viewer and code == 0:
        import rerun as rr

        rr.script_teardown(args)  # with --serve: keeps serving until Ctrl-C
    return code


def sentences(stream: TextIO) -> Iterator[str]:
    """Non-blank lines of ``stream``, with a prompt where a person types them. The prompt goes
    to standard error unless standard output is the terminal too: with ``--stdout`` standard
    output is the recording. A line that is not UTF-8 comes with its bytes escaped (lone
    surrogates), for the analysis to refuse it alone."""
    typing = stream.isatty()
    while True:
        if typing:
            try:
                if sys.stdout.isatty():
                    line = input(PROMPT)  # with line editing
                else:
                    print(PROMPT, end="", file=sys.stderr, flush=True)
                    line = stream.readline()
                    if not line:
                        raise EOFError
            except EOFError:
                print(file=sys.stderr)
                return
            except UnicodeDecodeError as e:  # a terminal in another encoding
                print(f"warning: sentence skipped: it is not valid UTF-8 ({e.reason})", file=sys.stderr)
                continue
        else:
            buffer = getattr(stream, "buffer", None)
            raw = buffer.readline() if buffer is not None else stream.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
        if line.strip():
            yield line.rstrip("\r\n")


@dataclass(frozen=True)
class SentenceOptions:
    """How each sentence is analysed: the command line's projection, layers, label map and batch size."""

    settings: ProjectionSettings
    layers: LayerSpec = "last"
    label_map: dict[str, str] | None = None
    batch_size: int | None = None


def show_sentence(
    text: str,
    index: int,
    model: LoadedModel,
    options: SentenceOptions,
    project: Projector | None,
    reference: ReferenceMap | None,
    recording: rr.RecordingStream | None,
) -> Analysis:
    """Analyse ``text`` and log it at step ``index`` of the sentence timeline."""
    from .pipeline import analyze
    from .viewer.rerun_logging import log_at

    level = log.level
    log.setLevel(max(level, logging.WARNING))  # no stage timings for every sentence
    try:
        analysis = analyze(
            text,
            model,
            projection=options.settings,
            batch_size=options.batch_size,
            layers=options.layers,
            label_map=options.label_map,
            project=project,
            reference_map=reference,
        )
        log_at(analysis, {SENTENCE_TIMELINE: index}, recording)
    finally:
        log.setLevel(level)
    return analysis
