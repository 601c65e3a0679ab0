"""--model arguments and Trainer output directories, checked by their files alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.model.model_list import ModelEntry, expand_models, one_run, short_label


def fake_model(path: Path, tokenizer: bool = True) -> Path:
    """The files of a saved model (empty: nothing here loads them)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(b"")
    if tokenizer:
        (path / "tokenizer.json").write_text("{}")
    return path


def test_a_trainer_directory_stands_for_its_checkpoints_in_step_order_then_the_final_model(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    for step in (100, 20, 3):  # 3 < 20 < 100: by number, not by name
        fake_model(run / f"checkpoint-{step}", tokenizer=False)
    (run / "config.json").write_text("{}")
    (run / "model.safetensors").write_bytes(b"")
    (run / "tokenizer.json").write_text("{}")
    (run / "trainer_state.json").write_text(json.dumps({"global_step": 120}))
    (run / "runs").mkdir()  # TensorBoard logs: not a checkpoint

    entries, lines = expand_models([str(run)])

    assert [(e.label, e.step) for e in entries] == [
        ("checkpoint-3", 3),
        ("checkpoint-20", 20),
        ("checkpoint-100", 100),
        ("run (final)", 120),
    ]
    assert entries[-1].name == str(run)
    # Checkpoints saved without a tokenizer borrow the final model's.
    assert all(e.tokenizer_from == str(run) for e in entries[:-1])
    assert entries[-1].tokenizer_from is None
    assert lines == [f"--model {run}: checkpoint-3, checkpoint-20, checkpoint-100, run (final)"]


def test_models_keep_their_order_and_ordinary_names_are_not_expanded(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fake_model(run / "checkpoint-10")
    fake_model(run / "checkpoint-20")
    plain = fake_model(tmp_path / "plain")

    entries, lines = expand_models(["dslim/bert-base-NER", str(run), str(plain)])

    assert entries == [
        ModelEntry("dslim/bert-base-NER", "bert-base-NER"),
        ModelEntry(str(run / "checkpoint-10"), "checkpoint-10", 10),
        ModelEntry(str(run / "checkpoint-20"), "checkpoint-20", 20),
        ModelEntry(str(plain), "plain"),
    ]
    assert len(lines) == 1  # only the Trainer directory is said
    assert short_label("runs/ner/") == "ner"
    assert short_label("/site-packages/all_minilm/model") == "all_minilm/model"  # not just "model"
    snapshot = "~/.cache/huggingface/hub/models--dslim--bert-base-NER/snapshots/" + "0123456789" * 4
    assert short_label(snapshot) == "bert-base-NER"


def test_a_final_model_without_trainer_state_has_no_step(tmp_path: Path) -> None:
    run = fake_model(tmp_path / "run")
    fake_model(run / "checkpoint-5")
    entries, _ = expand_models([str(run)])
    assert [e.step for e in entries] == [5, None]


def test_checkpoint_directories_without_a_model_are_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoint-10").mkdir(parents=True)
    (run / "checkpoint-10" / "optimizer.pt").write_bytes(b"")
    with pytest.raises(UserError, match="none holds a model"):
        expand_models([str(run)])


def test_half_saved_checkpoints_are_skipped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fake_model(run / "checkpoint-10")
    fake_model(run / "checkpoint-20")
    (run / "checkpoint-30").mkdir()  # interrupted while saving
    with pytest.warns(UserWarning, match="skipped checkpoint-30 "):
        entries, _ = expand_models([str(run)])
    assert [e.label for e in entries] == ["checkpoint-10", "checkpoint-20"]


def test_one_checkpoint_alone_is_not_a_comparison(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fake_model(run / "checkpoint-10")
    with pytest.raises(UserError, match="nothing to compare"):
        expand_models([str(run)])
    # With another model it is.
    entries, _ = expand_models([str(run), "dslim/bert-base-NER"])
    assert len(entries) == 2


def test_a_run_without_any_tokenizer_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fake_model(run / "checkpoint-10", tokenizer=False)
    fake_model(run / "checkpoint-20", tokenizer=False)
    with pytest.raises(UserError, match="tokenizer"):
        expand_models([str(run)])


def test_a_final_model_beside_half_saved_checkpoints_is_shown_alone(tmp_path: Path) -> None:
    run = fake_model(tmp_path / "run")
    (run / "checkpoint-5").mkdir()  # interrupted while saving
    with pytest.warns(UserWarning, match="skipped checkpoint-5"):
        entries, lines = expand_models([str(run)])
    assert entries == [ModelEntry(str(run), "run")]  # the directory itself, as if given alone
    assert lines == []


def test_checkpoints_borrow_a_tokenizer_saved_at_the_top_of_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fake_model(run / "checkpoint-1", tokenizer=False)
    fake_model(run / "checkpoint-2", tokenizer=False)
    (run / "tokenizer.json").write_text("{}")  # saved first, before any checkpoint; no final model yet
    entries, _ = expand_models([str(run)])
    assert [(e.label, e.tokenizer_from) for e in entries] == [
        ("checkpoint-1", str(run)),
        ("checkpoint-2", str(run)),
    ]
    # One of them passed on its own borrows it too, so the advice for a lone checkpoint works.
    alone, _ = expand_models([str(run / "checkpoint-1")])
    assert alone == [ModelEntry(str(run / "checkpoint-1"), "checkpoint-1", tokenizer_from=str(run))]


def test_the_current_directory_is_named_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = fake_model(tmp_path / "ner-run")
    fake_model(run / "checkpoint-5")
    monkeypatch.chdir(run)
    entries, lines = expand_models(["."])
    assert [e.label for e in entries] == ["checkpoint-5", "ner-run (final)"]
    assert lines == ["--model .: checkpoint-5, ner-run (final)"]
    assert short_label(".") == "ner-run" and short_label("./") == "ner-run"


def test_the_demo_models_training_run_is_laid_out_as_trainer_lays_it_out(
    dslim_model: object, tmp_path: Path
) -> None:
    """docs/demo_model.py's checkpoints are one --model (OUT/checkpoints), as the documentation's
    comparison of them says, and its final model another (OUT)."""
    import importlib.util
    import sys

    docs = Path(__file__).parents[2] / "docs"
    sys.path.insert(0, str(docs))
    try:
        spec = importlib.util.spec_from_file_location("demo_model", docs / "demo_model.py")
        assert spec is not None and spec.loader is not None
        demo = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(demo)
    finally:
        sys.path.remove(str(docs))
    out = tmp_path / "demo-run"
    model, tokenizer = dslim_model.model, dslim_model.tokenizer  # type: ignore[attr-defined]
    for step in (40, 80, 120):
        demo.save(model, tokenizer, out / "checkpoints" / f"checkpoint-{step}", step)
    demo.save(model, tokenizer, out, 120)
    entries, _ = expand_models([str(out / "checkpoints")])
    assert [(e.label, e.step) for e in entries] == [
        ("checkpoint-40", 40),
        ("checkpoint-80", 80),
        ("checkpoint-120", 120),
    ]
    (final,), _ = expand_models([str(out)])
    assert final.name == str(out)


def test_checkpoints_of_one_run_are_one_run_in_step_order_and_other_models_are_not(tmp_path: Path) -> None:
    """What --suspects reads as a training run: a Trainer directory, or its checkpoints given one
    by one in any order (the final model last); not models of different runs, nor one alone."""
    run = tmp_path / "run"
    for step in (100, 20):
        fake_model(run / f"checkpoint-{step}")
    fake_model(run / "final-model")  # an ordinary subdirectory: not the run's final model
    other = fake_model(tmp_path / "other" / "checkpoint-5")
    (run / "config.json").write_text("{}")
    (run / "model.safetensors").write_bytes(b"")

    expanded, _ = expand_models([str(run)])
    assert [e.label for e in one_run(expanded) or []] == ["checkpoint-20", "checkpoint-100", "run (final)"]
    given, _ = expand_models([str(run), str(run / "checkpoint-100"), str(run / "checkpoint-20")])
    assert one_run(given) is None  # the run's checkpoints twice
    given, _ = expand_models([str(run / "checkpoint-100"), str(run / "checkpoint-20")])
    assert [e.label for e in one_run(given) or []] == ["checkpoint-20", "checkpoint-100"]
    for names in (
        [str(run / "checkpoint-20"), str(other)],
        [str(run / "checkpoint-20"), str(run / "final-model")],
    ):
        assert one_run(expand_models(names)[0]) is None
    assert one_run(expand_models([str(run / "checkpoint-20")])[0]) is None
