"""The command line's options: the parser, its help text and examples, and the checks of single
values (a whole number, a fraction, a layer list). What the options mean is ``cli.main``'s job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from . import __version__
from .analysis.entities import OUTSIDE, OUTSIDE_NAME_REASON
from .analysis.projection import ProjectionSettings
from .errors import UserError
from .inputs.corpus import FORMATS, SPLITS
from .inputs.tag_schemes import SCHEMES
from .model.layer_selection import LayerSpec, parse_layers
from .model.model_loading import DEFAULT_MODEL, DEVICES

METRICS = ("cosine", "euclidean", "correlation", "manhattan", "chebyshev", "canberra", "braycurtis")

EXAMPLES = """\
examples:
  python -m llm_embedding_ner                          the built-in paragraph, in a new viewer
  python -m llm_embedding_ner --text "Ada Lovelace was born in London."
  python -m llm_embedding_ner --file article.txt --save article.rrd
  cat notes.txt | python -m llm_embedding_ner --file - --serve
  python -m llm_embedding_ner --model ./my-ner-model --device cpu --headless --save out.rrd
  python -m llm_embedding_ner --layers all           every layer on the viewer's time slider
  python -m llm_embedding_ner --file test.conll      score against gold labels, errors in 3D
  python -m llm_embedding_ner --model base-model --model runs/ner --file dev.conll
                                                     a base model, then each checkpoint of a run
  python -m llm_embedding_ner --file notes.txt --split paragraphs    one document per paragraph
  HF_HUB_OFFLINE=1 python -m llm_embedding_ner      use only models already in the local cache

Viewer options (--headless, --connect, --serve, --url, --save, --stdout) are Rerun's own:
with none of them a viewer window is spawned.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        return number

    return parse


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {number}")
    return number


def _layers(value: str) -> LayerSpec:
    try:
        return parse_layers(value)
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix(f"--layers {value!r}: ")) from None


def _label_names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",")]
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{value!r} is not a list of distinct names such as O,B-PER,I-PER")
    return names


def _label_map(value: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in value.split(","):
        model_type, sep, gold_type = (part.strip() for part in pair.partition("="))
        if not (sep and model_type and gold_type):
            raise argparse.ArgumentTypeError(f"{pair!r} is not MODEL=GOLD; write e.g. PER=PERSON,LOC=GPE")
        if gold_type == OUTSIDE:
            raise argparse.ArgumentTypeError(f"{pair!r}: {OUTSIDE_NAME_REASON}")
        mapping[model_type] = gold_type
    return mapping


def build_parser() -> argparse.ArgumentParser:
    import rerun as rr

    defaults = ProjectionSettings()
    parser = _Parser(
        prog="llm_embedding_ner",
        description=(
            "Show how a named-entity-recognition model sees a text: its tokens, the entities "
            "it finds, and each token's last-layer hidden state projected to 3D with UMAP, "
            "coloured by entity type, in the Rerun viewer."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    source = parser.add_argument_group("input")
    source.add_argument(
        "--text",
        help="the text to analyse (default: a built-in paragraph with persons, places, organizations, "
        "nationalities and an event, ending on an entity)",
    )
    source.add_argument(
        "--file",
        metavar="PATH",
        help="read from a UTF-8 file: plain text, JSON Lines or CoNLL, or a Hugging Face dataset as "
        "JSON Lines, Parquet or a save_to_disk directory (see --format); '-' reads standard input; "
        "not together with --text",
    )
    source.add_argument(
        "--format",
        default="auto",
        choices=FORMATS,
        help='how to read --file: text, jsonl (one {"text": ...} object per line, other fields kept '
        'as metadata, or one {"tokens": [...], "ner_tags": [...]} sentence per line), conll (token '
        "first, tag last), parquet, dataset (a save_to_disk directory); gold labels are scored. auto "
        "goes by the content (a JSON object on the first line, columns ending in a tag), then the "
        "extension, and says what it chose and why (default: auto)",
    )
    source.add_argument(
        "--split",
        default="none",
        choices=SPLITS,
        help="plain text only: paragraphs makes each blank-line-separated paragraph its own "
        "document (default: none)",
    )
    source.add_argument(
        "--scheme",
        default="auto",
        choices=("auto", *SCHEMES),
        help="the gold tags' scheme; auto (default) reads S-/E- tags as IOBES, U-/L- as BILOU, and "
        "B-/I- as IOB1 or IOB2 (the same entities either way)",
    )
    source.add_argument(
        "--label-names",
        type=_label_names,
        default=None,
        metavar="O,B-PER,...",
        help="names of integer ner_tags, in order, for a dataset that does not name them",
    )
    source.add_argument(
        "--label-map",
        type=_label_map,
        default=None,
        metavar="MODEL=GOLD,...",
        help="rename the model's entity types to the gold data's before scoring, e.g. PER=PERSON,LOC=GPE",
    )
    source.add_argument(
        "--interactive",
        action="store_true",
        help="load the model once, then read sentences one per line (a prompt on a terminal, or "
        "standard input) and add each to the recording as it comes, on a 'sentence' timeline, "
        "with --layers, --label-map and --batch-size applied to each; Ctrl-D ends",
    )
    source.add_argument(
        "--map",
        metavar="PATH",
        help="place the tokens in this reference map (made with --save-map, by the same model) "
        "instead of fitting a new projection (so the projection options are refused with it); the map's "
        "tokens show behind them",
    )
    source.add_argument(
        "--save-map",
        metavar="PATH",
        help="save this run's deepest layer as a reference map (a new .npz file) that later runs "
        "place their tokens in with --map",
    )
    source.add_argument(
        "--table",
        metavar="DIR",
        help="one model (or one training run with --suspects): write every token of the run as Parquet "
        "(tokens/, written as the corpus is read, and corpus.parquet, joined by token_id) into this "
        "new or empty folder (a folder with files in it is refused), for pandas, polars or DuckDB",
    )
    source.add_argument(
        "--suspects",
        metavar="FILE.jsonl",
        help="input with gold labels, one model or the checkpoints of one training run (ranked with "
        "its training dynamics): write the suspect gold labels (spans whose annotation is probably "
        "wrong) to this new JSON Lines file, most suspect first (an existing file is refused, never "
        "overwritten)",
    )

    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="ID_OR_DIR",
        help=f"Hub id or local directory of a token-classification model (default: {DEFAULT_MODEL}); "
        "give it several times to compare models on a 'model' timeline. A Trainer output directory "
        "(checkpoint-* inside) stands for its checkpoints in step order, then its final model",
    )
    model.add_argument(
        "--allow-pickle",
        action="store_true",
        help="also load pickle (.bin) weights, which can run code when loaded; by default only "
        "safetensors weights are loaded",
    )
    model.add_argument(
        "--device",
        default="auto",
        choices=DEVICES,
        help="where the model runs; auto takes a GPU when there is one (default: auto)",
    )
    model.add_argument(
        "--batch-size",
        type=_at_least(1),
        default=8,
        metavar="N",
        help="windows of 512 tokens per forward pass, for long texts (default: 8)",
    )
    model.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="read the corpus on a Ray cluster (pip install 'llm_embedding_ner[ray]'), one model per "
        "actor, shard by shard; the rest of the run, and its outputs, as without it. No ADDRESS: a "
        "cluster of this machine's cores for this run; auto, HOST:PORT or ray://HOST:PORT: join a "
        "running one. One model only",
    )
    model.add_argument(
        "--ray-actors",
        type=_at_least(1),
        default=None,
        metavar="N",
        help="with --ray: how many actors read (default: one per CPU of the cluster, or one per GPU "
        "when the model runs on GPUs)",
    )

    model.add_argument(
        "--layers",
        type=_layers,
        default="last",
        metavar="last|all|LIST",
        help="hidden layers to show: last, all, or numbers such as 0,4,8,12 (0 is the embedding "
        "output); more than the last layer puts them on a 'layer' timeline in the viewer "
        "(default: last)",
    )

    umap = parser.add_argument_group(
        "projection (UMAP)",
        "Defaults suit clouds of a few hundred tokens; very short texts fall back to PCA.",
    )
    umap.add_argument(
        "--n-neighbors",
        type=_at_least(2),
        default=defaults.n_neighbors,
        metavar="K",
        help="neighbours per token: lower keeps small entity clusters apart, higher shows "
        f"the global shape (default: {defaults.n_neighbors})",
    )
    umap.add_argument(
        "--min-dist",
        type=_fraction,
        default=defaults.min_dist,
        metavar="D",
        help="how tightly points may pack, 0 to 1: lower gives denser clusters "
        f"(default: {defaults.min_dist})",
    )
    umap.add_argument(
        "--metric",
        default=defaults.metric,
        choices=METRICS,
        help=f"distance between hidden states; cosine ignores their length (default: {defaults.metric})",
    )
    umap.add_argument(
        "--seed",
        type=_at_least(0),
        default=defaults.seed,
        help="random seed; the same seed gives identical coordinates on every run "
        f"(default: {defaults.seed})",
    )

    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress lines, stage timings or separation table on stderr (warnings and "
        "errors still show)",
    )
    # Rerun's own options: they only choose where the recording goes.
    rr.script_add_args(parser.add_argument_group("viewer (Rerun)"))  # type: ignore[arg-type]
    return parser
