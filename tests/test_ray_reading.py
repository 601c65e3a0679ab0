"""``--ray``: a corpus read on a Ray cluster gives the single process's answers, survives an
actor's death, and an address that does not answer is one ``error:`` line.

Each test starts a Ray of its own on this machine (``--ray`` without an address: as many CPUs
as the machine has, two in CI) and stops it; nothing is sent anywhere else."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'llm_embedding_ner[ray]'")

from llm_embedding_ner.model.model_list import ModelEntry
from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.ray_reading import LOCAL, RayReader, RaySettings, ShardReader

from .test_cli import run_cli
from .test_pipeline import agreeing_conll_text, read_conll


def settings(model_dir: Path, **more) -> RaySettings:
    return RaySettings(LOCAL, ModelEntry(str(model_dir), "test"), "cpu", **{"actors": 2, **more})


def test_the_cluster_gives_the_single_process_answers_shard_by_shard(
    dslim_model, dslim_model_dir: Path, tmp_path: Path, uncapped_suspects: None
) -> None:
    from llm_embedding_ner.inputs.corpus import read_corpus

    source = tmp_path / "dev.conll"
    source.write_text(agreeing_conll_text(dslim_model, tmp_path, seed=7), encoding="utf-8")
    corpus = read_corpus(None, str(source), "")
    alone = analyze(corpus, dslim_model)
    rows: list = []
    reader = RayReader(settings(dslim_model_dir, shard_characters=100))
    on_ray = analyze(corpus, dslim_model, read=reader, on_segment=rows.append)
    assert len(rows) == len(corpus.documents) == 3  # a shard a document, read by two actors
    assert len(alone.suspects) > 3
    assert on_ray.labels == alone.labels and on_ray.tokens == alone.tokens
    assert on_ray.gold.evaluation.micro == alone.gold.evaluation.micro
    assert on_ray.gold.evaluation.per_type == alone.gold.evaluation.per_type
    assert np.array_equal(on_ray.class_ids, alone.class_ids)
    assert [(s.document, s.words, s.gold, s.suggested) for s in on_ray.suspects] == [
        (s.document, s.words, s.gold, s.suggested) for s in alone.suspects
    ]
    assert abs(on_ray.layers[-1].separation_3d - alone.layers[-1].separation_3d) < 0.05
    assert np.concatenate([r.word_ids for r in rows]).tolist() == alone.word_ids.tolist()


def test_an_actor_that_dies_is_replaced_and_its_shard_read_again(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    corpus = read_conll(tmp_path, seed=8, iob1=False)
    died = tmp_path / "died"

    class DiesOnce(ShardReader):  # defined here, so Ray sends it whole, ``died`` with it
        def __call__(self, batch: dict) -> dict:
            if not died.exists():
                died.touch()
                os._exit(1)  # the process ends as a killed one does: no exception, no cleanup
            return super().__call__(batch)

    on_ray = analyze(
        corpus, dslim_model, read=RayReader(settings(dslim_model_dir, shard_characters=250), DiesOnce)
    )
    alone = analyze(corpus, dslim_model)
    assert died.exists()
    assert on_ray.labels == alone.labels
    assert len(on_ray.documents) == len(corpus.documents)
    assert on_ray.gold.evaluation.micro == alone.gold.evaluation.micro


def test_a_shard_that_kills_every_actor_ends_the_run_after_the_retries(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    from llm_embedding_ner.errors import UserError
    from llm_embedding_ner.ray_reading import RETRIES

    corpus = read_conll(tmp_path, seed=9, iob1=False)
    tries = tmp_path / "tries"
    tries.mkdir()

    class AlwaysDies(ShardReader):
        def __call__(self, batch: dict) -> dict:
            (tries / str(os.getpid())).touch()
            os._exit(1)

    reader = RayReader(settings(dslim_model_dir, actors=1), AlwaysDies)
    with pytest.raises(UserError, match=r"^the Ray cluster stopped reading after 0 of 1 shards: "):
        analyze(corpus, dslim_model, read=reader)
    assert len(list(tries.iterdir())) == 1 + RETRIES  # the first actor, then each one started again


def test_a_document_an_actor_cannot_read_is_the_error_it_is_without_ray(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    from llm_embedding_ner.errors import UserError
    from llm_embedding_ner.inputs.documents import Document

    corpus = read_conll(tmp_path, seed=10, iob1=False)
    nothing = Document(
        "", words=np.zeros((0, 2), np.int64), gold_tags=[], word_sentence=np.zeros(0, np.int64)
    )
    corpus = replace(corpus, documents=[*corpus.documents, nothing])
    with pytest.raises(UserError) as alone:
        analyze(corpus, dslim_model)
    with pytest.raises(UserError) as on_ray:
        analyze(corpus, dslim_model, read=RayReader(settings(dslim_model_dir, shard_characters=100)))
    assert str(on_ray.value) == str(alone.value) == "document 3: the document has no words"


def test_the_command_line_writes_the_same_files_with_and_without_ray(
    dslim_model, dslim_model_dir: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    source = tmp_path / "dev.conll"
    source.write_text(agreeing_conll_text(dslim_model, tmp_path, seed=12), encoding="utf-8")
    outputs = {}
    for name, more in [("alone", []), ("ray", ["--ray"])]:
        out = tmp_path / name
        result = run_cli(
            *["--model", str(dslim_model_dir), "--file", str(source), "--headless", *more],
            *["--save", f"{out}.rrd", "--suspects", f"{out}.jsonl", "--table", str(out)],
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        outputs[name] = result
    assert "1 shard on 1 actor (cpu)" in outputs["ray"].stderr
    said = [
        [line for line in r.stderr.splitlines() if line.startswith("entity-level")] for r in outputs.values()
    ]
    assert len(said[0]) == 1 and said[0] == said[1]
    alone, ray = ([json.loads(line) for line in (tmp_path / f"{n}.jsonl").open()] for n in ("alone", "ray"))
    assert len(alone) > 0 and [s["words"] for s in ray] == [s["words"] for s in alone]
    for part in ("tokens", "corpus.parquet"):
        a, b = (pq.read_table(tmp_path / n / part).sort_by("token_id") for n in ("alone", "ray"))
        assert a.schema == b.schema
        for column in ("token_id", "document", "token", "label", "gold_tag"):
            if column in a.schema.names:
                assert a[column].equals(b[column]), column


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free once closed: nothing listens there


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("127.0.0.1:{port}", "error: --ray 127.0.0.1:{port}: nothing answers at 127.0.0.1:{port}"),
        (
            "ray://127.0.0.1:{port}",
            "error: --ray ray://127.0.0.1:{port}: nothing answers at 127.0.0.1:{port}",
        ),
        ("nowhere", "error: --ray nowhere: give host:port, ray://host:port, auto, or no address"),
    ],
)
def test_an_address_that_does_not_answer_is_one_error_line(
    dslim_model_dir: Path, tmp_path: Path, address: str, said: str
) -> None:
    port = closed_port()
    source = tmp_path / "dev.conll"
    source.write_text("-DOCSTART- O\n\nAda B-PER\nLovelace I-PER\n", encoding="utf-8")
    result = run_cli(
        *[
            "--model",
            str(dslim_model_dir),
            "--file",
            str(source),
            "--headless",
            "--save",
            str(tmp_path / "r.rrd"),
        ],
        *["--ray", address.format(port=port)],
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(said.format(port=port)), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r.rrd").exists()


def test_ray_with_several_models_or_the_prompt_is_refused(dslim_model_dir: Path) -> None:
    model = ["--model", str(dslim_model_dir)]
    both = run_cli(*model, *model, "--text", "Ada", "--ray", "--headless")
    assert both.returncode == 2 and both.stderr == "error: --ray works with one model; give one --model\n"
    prompt = run_cli(*model, "--interactive", "--ray", "--headless", stdin=b"")
    assert prompt.returncode == 2
    assert (
        prompt.stderr
        == "error: --ray reads a corpus on a cluster, --interactive one sentence at a time: give one\n"
    )
