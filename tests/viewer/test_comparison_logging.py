"""A comparison as the user makes it, on the command line, read back from the .rrd."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.comparison import compare
from llm_embedding_ner.inputs.corpus import read_corpus
from llm_embedding_ner.model.model_list import expand_models
from llm_embedding_ner.model.model_loading import load_model
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer.blueprint import blueprint_for

from ..test_cli import read_rrd, read_timeline, run_cli
from ..test_pipeline import conll_text


@pytest.fixture(scope="module")
def gold_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gold") / "dev.conll"
    path.write_text(conll_text(seed=5, iob1=False, n_documents=2), encoding="utf-8")
    return path


def test_checkpoints_on_the_model_and_step_timelines(
    dslim_model_dir: Path, trainer_run: Path, gold_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "models.rrd"
    result = run_cli(
        "--model",
        str(dslim_model_dir),
        "--model",
        str(trainer_run),
        "--file",
        str(gold_file),
        "--save",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"--model {trainer_run}: checkpoint-10, checkpoint-20" in result.stderr

    by_model = read_timeline(out, "model")
    by_step = read_timeline(out, "step")
    cloud = by_model["/umap_embeddings"]
    assert sorted(cloud) == [0, 1, 2]
    assert sorted(by_step["/umap_embeddings"]) == [10, 20]  # the first model is no checkpoint
    corpus = read_corpus(None, str(gold_file), "")
    n_points = len(cloud[0]["Token"])
    paths = [dslim_model_dir, trainer_run / "checkpoint-10", trainer_run / "checkpoint-20"]
    for index, path in enumerate(paths):
        frame = cloud[index]
        assert len(frame["Points3D:positions"]) == len(frame["Points3D:class_ids"]) == n_points
        # Each model's own labels and scores, and F1 equal to its own metrics when run alone.
        alone = analyze(corpus, load_model(str(path), "cpu"))
        assert frame["Label"] == alone.labels
        f1 = by_model["/f1/micro"][index]["Scalars:scalars"][0]
        assert f1 == pytest.approx(alone.gold.evaluation.micro.f1, abs=1e-12)
        assert f"model {index} of 0 to 2" in by_model["/text"][index]["TextDocument:text"][0]
    # Changed: what each point's label was at the model before, where it changed.
    for index in (1, 2):
        before, after = cloud[index - 1]["Label"], cloud[index]["Label"]
        expected = ["" if a == b else f"{a} -> {b}" for a, b in zip(before, after, strict=True)]
        assert cloud[index]["Changed"] == expected
    assert set(cloud[0]["Changed"]) == {""}
    assert sorted(by_model["/umap_embeddings_changed"]) == [0, 1, 2]
    comparison_document = read_rrd(out)["/comparison"]["TextDocument:text"][0]
    assert "Entity-level F1" in comparison_document and "checkpoint\\-20" in comparison_document
    assert "separation of entity types" in result.stderr and "F1" in result.stderr


def test_documents_layers_and_models_together(
    dslim_model_dir: Path, trainer_run: Path, gold_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "all.rrd"
    result = run_cli(
        "--model", str(trainer_run), "--file", str(gold_file), "--layers", "all", "--save", str(out)
    )
    assert result.returncode == 0, result.stderr

    by_model, by_layer, by_document = (read_timeline(out, t) for t in ("model", "layer", "document"))
    # Scores: never along documents. By model on the model timeline, one series per model by layer.
    for series in ("/separation/hidden_space", "/f1/micro"):
        assert sorted(by_model[series]) == [0, 1]
        assert series not in by_document and series not in by_layer
    for index in (0, 1):
        assert sorted(by_layer[f"/separation_by_layer/{index}"]) == [0, 1, 2]
        assert f"/separation_by_layer/{index}" not in by_model
    # The cloud: every model and layer; on the document timeline the last model's deepest layer.
    assert sorted(by_model["/umap_embeddings"]) == [0, 1]
    assert sorted(by_layer["/umap_embeddings"]) == [0, 1, 2]
    assert sorted(by_document["/umap_embeddings"]) == [0]
    # Texts: every document of every model (their entities differ).
    assert sorted(by_document["/text"]) == [0, 1]
    assert sorted(by_model["/text"]) == [0, 1]

    entries, _ = expand_models([str(trainer_run)])
    comparison = compare(read_corpus(None, str(gold_file), ""), entries, device="cpu", layers="all")
    last = comparison.models[-1].analysis
    np.testing.assert_allclose(
        by_document["/umap_embeddings"][0]["Points3D:positions"], last.coordinates, rtol=1e-5, atol=1e-5
    )
    blueprint = blueprint_for(comparison)
    assert blueprint.time_panel.timeline == "model"


def test_a_base_encoder_joins_with_a_warning_and_word_points_for_other_tokenizers(
    encoder_dir: Path, dslim_model_dir: Path, roberta_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mixed.rrd"
    text = "Ada Lovelace met Charles Babbage in London."
    result = run_cli(
        "--model", str(encoder_dir), "--model", str(dslim_model_dir), "--model", str(roberta_dir),
        "--text", text, "--save", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "one point per word" in result.stderr
    assert "warning: encoder" in result.stderr and "no token-classification head" in result.stderr
    cloud = read_timeline(out, "model")["/umap_embeddings"]
    words = [*text.rstrip(".").split(), "."]
    for index in (0, 1, 2):
        assert cloud[index]["Token"] == words
        assert len(cloud[index]["Points3D:positions"]) == len(words)
    assert set(cloud[0]["Label"]) == {""}
    assert cloud[0]["Points3D:class_ids"] == cloud[1]["Points3D:class_ids"]


def test_errors_come_before_any_model_runs(dslim_model_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoint-10").mkdir(parents=True)
    result = run_cli("--model", str(run), "--text", "Ada", "--save", str(tmp_path / "x.rrd"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "load model" not in result.stderr

    result = run_cli(
        "--model", str(dslim_model_dir), "--model", str(tmp_path / "missing"), "--text", "Ada",
        "--save", str(tmp_path / "x.rrd"),
    )  # fmt: skip
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "load model" not in result.stderr


@pytest.mark.parametrize("damage", ["truncated", "pickle only", "no weights"])
def test_a_checkpoint_whose_weights_cannot_load_fails_before_any_model_runs(
    trainer_run: Path, tmp_path: Path, damage: str
) -> None:
    run = Path(shutil.copytree(trainer_run, tmp_path / "run"))
    weights = run / "checkpoint-20" / "model.safetensors"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:-10])
    elif damage == "pickle only":
        weights.rename(weights.with_name("pytorch_model.bin"))
    else:
        weights.unlink()
        (run / "checkpoint-20" / "model.safetensors.index.json").write_text(
            '{"weight_map": {"a": "x.safetensors"}}'
        )
    result = run_cli("--model", str(run), "--text", "Ada", "--save", str(tmp_path / "x.rrd"))
    assert result.returncode == 2, result.stderr
    *said, error = result.stderr.splitlines()  # what the directory expanded to, then the error
    assert error.startswith("error: ") and "checkpoint-20" in error
    assert said == [f"--model {run}: checkpoint-10, checkpoint-20"]


def test_a_final_model_beside_a_half_saved_checkpoint_runs_alone(
    dslim_model_dir: Path, tmp_path: Path
) -> None:
    run = Path(shutil.copytree(dslim_model_dir, tmp_path / "run"))
    (run / "checkpoint-5").mkdir()
    result = run_cli("--model", str(run), "--text", "Ada Lovelace", "--save", str(tmp_path / "x.rrd"))
    assert result.returncode == 0, result.stderr
    assert "warning: --model" in result.stderr and "skipped checkpoint-5 " in result.stderr


def test_checkpoints_without_a_tokenizer_borrow_the_runs(trainer_run: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(trainer_run, tmp_path / "run"))
    for checkpoint in ("checkpoint-10", "checkpoint-20"):
        for tokenizer_file in (run / checkpoint).glob("tokenizer*"):
            tokenizer_file.replace(run / tokenizer_file.name)  # saved at the top, as scripts often do
    result = run_cli("--model", str(run), "--text", "Ada Lovelace", "--save", str(tmp_path / "x.rrd"))
    assert result.returncode == 0, result.stderr
    assert f"--model {run}: checkpoint-10, checkpoint-20" in result.stderr
