"""Suspects on the split a model was trained on: ``--model RUN_DIR --suspects FILE`` with a
Trainer output directory whose checkpoints come from a real (tiny) training run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from .conftest import DSLIM_LABELS, build_model_dir
from .test_cli import run_cli

NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eve", "Finn"]
CITIES = ["Paris", "London", "Berlin", "Nairobi", "Geneva", "Oslo"]
ORGS = ["Siemens", "Google", "Reuters", "Microsoft"]
PLANTED = ("Ada", "met", "Ben", "in", "Zorbo", ".")  # Zorbo, where a city goes, gold ORG


def sentences(seed: int = 0) -> list[tuple[list[str], list[str]]]:
    """Forty "<name> met <name> in <city> ." sentences with their (correct) tags, and the
    planted one: "in Zorbo" tagged ORG where every other word after "in" is a LOC."""
    rng = random.Random(seed)
    found = []
    for _ in range(40):
        a, b = rng.sample(NAMES, 2)
        found.append(
            ([a, "met", b, "in", rng.choice(CITIES), "."], ["B-PER", "O", "B-PER", "O", "B-LOC", "O"])
        )
        found.append(([b, "joined", rng.choice(ORGS), "."], ["B-PER", "O", "B-ORG", "O"]))
    found.insert(17, (list(PLANTED), ["B-PER", "O", "B-PER", "O", "B-ORG", "O"]))
    return found


def train_run(base: Path, run: Path, checkpoints: tuple[int, ...], final_steps: int) -> None:
    """Fine-tune ``base`` on ``sentences()`` (every word's first piece), saving a Trainer-style
    ``checkpoint-N`` at each of ``checkpoints`` and the final model in ``run`` itself. The
    planted sentence joins the training after the last checkpoint: a wrong label learnt last,
    by memorising it, which is what a real run's checkpoints show of one (a model this small
    memorises a lone sentence within a few steps, before it has learnt anything else)."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForTokenClassification.from_pretrained(base)
    data = sentences()

    def batch_of(chosen: list[tuple[list[str], list[str]]]) -> dict:
        batch = tokenizer([w for w, _ in chosen], is_split_into_words=True, return_tensors="pt", padding=True)
        labels = torch.full(batch["input_ids"].shape, -100)
        for row, (_, tags) in enumerate(chosen):
            previous = None
            for i, word in enumerate(batch.word_ids(row)):
                if word is not None and word != previous:
                    labels[row, i] = DSLIM_LABELS.index(tags[word])
                previous = word
        return {**batch, "labels": labels}

    def packed(chosen: list[tuple[list[str], list[str]]]) -> list[tuple[list[str], list[str]]]:
        """Consecutive sentences joined up to the model's 64 positions, as the tool reads the
        file (one document, in windows): a model trained on lone sentences never trains the
        positions past a sentence's length and misreads the words it finds there."""
        out: list[tuple[list[str], list[str]]] = [([], [])]
        for words, tags in chosen:
            joined = out[-1][0] + words
            if len(tokenizer(joined, is_split_into_words=True, verbose=False).input_ids) > 64:
                out.append(([], []))
            out[-1][0].extend(words)
            out[-1][1].extend(tags)
        return out

    clean = batch_of(packed([s for s in data if tuple(s[0]) != PLANTED]))
    everything = batch_of(packed(data))
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    last = max(checkpoints)
    for step in range(1, last + final_steps + 1):
        model(**(clean if step <= last else everything)).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step in checkpoints or step == last + final_steps:
            target = run / f"checkpoint-{step}" if step in checkpoints else run
            model.save_pretrained(target)
            tokenizer.save_pretrained(target)
            (target / "trainer_state.json").write_text(json.dumps({"global_step": step}))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import DSLIM_LABELS as labels

    root = tmp_path_factory.mktemp("tiny-run")
    base = build_model_dir(root / "base", labels, max_positions=64, seed=5)
    run = root / "run"
    train_run(base, run, checkpoints=(5, 10, 15, 20), final_steps=600)
    return run


def conll_file(tmp_path: Path) -> Path:
    lines = ["-DOCSTART- -X- -X- O", ""]
    for words, tags in sentences():
        lines += [f"{w} NN {t}" for w, t in zip(words, tags, strict=True)] + [""]
    path = tmp_path / "train.conll"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_run_directory_ranks_the_label_its_checkpoints_never_learnt_first(
    tiny_run: Path, tmp_path: Path
) -> None:
    listed = tmp_path / "suspects.jsonl"
    out = tmp_path / "run.rrd"
    result = run_cli(
        "--model", str(tiny_run), "--file", str(conll_file(tmp_path)), "--suspects", str(listed),
        "--headless", "--save", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"--model {tiny_run}: checkpoint-5, checkpoint-10, checkpoint-15, checkpoint-20, run (final)" in (
        result.stderr
    )
    assert "with the training dynamics of 5 checkpoints" in result.stderr
    rows = [json.loads(line) for line in listed.read_text(encoding="utf-8").splitlines()]
    first = rows[0]
    assert (first["text"], first["gold"]) == ("Zorbo", "ORG") and first["suggested"] != "ORG", rows[:3]
    dynamics = first["evidence"]["dynamics"]
    assert dynamics["checkpoints"] == [
        "checkpoint-5",
        "checkpoint-10",
        "checkpoint-15",
        "checkpoint-20",
        "run (final)",
    ]
    assert len(dynamics["gold_probability"]) == 5
    assert max(dynamics["gold_probability"][:-1]) < 0.5 < dynamics["gold_probability"][-1]  # learnt last
    assert out.is_file()  # the recording: the final model's analysis


def test_suspects_with_models_of_different_runs_are_refused(tiny_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    build_model_dir(other, DSLIM_LABELS, max_positions=64, seed=6)
    result = run_cli(
        "--model", str(tiny_run), "--model", str(other), "--file", str(conll_file(tmp_path)),
        "--suspects", str(tmp_path / "s.jsonl"),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "error: --suspects works with one model, or the checkpoints of one training run; give one --model\n"
    )


def test_the_final_model_alone_has_memorised_the_planted_label(tiny_run: Path, tmp_path: Path) -> None:
    """Why the run's checkpoints are read: its final model agrees with the planted label."""
    from llm_embedding_ner.inputs.corpus import read_corpus
    from llm_embedding_ner.model.model_loading import load_model
    from llm_embedding_ner.pipeline import analyze

    a = analyze(read_corpus(None, str(conll_file(tmp_path)), ""), load_model(str(tiny_run), "cpu"))
    assert "Zorbo" not in [s.text for s in a.suspects]
