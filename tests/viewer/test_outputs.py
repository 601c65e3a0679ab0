"""The run's output files against each other and against its inputs: checked before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.options import build_parser
from llm_embedding_ner.viewer.outputs import check_outputs


def check(*argv: str) -> None:
    args = build_parser().parse_args(list(argv))
    check_outputs(args, 1, args.model or [])


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    conll = tmp_path / "in.conll"
    conll.write_text("EU B-ORG\nrejects O\n", encoding="utf-8")
    reference = tmp_path / "m.npz"
    reference.write_bytes(b"a map")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    return {"file": conll, "map": reference, "model": model}


def test_two_outputs_naming_one_file_are_refused(tmp_path: Path) -> None:
    x = str(tmp_path / "x")
    cases = [
        ("--suspects", x, "--save-map", x),
        ("--save", x, "--save-map", x),
        ("--save", x, "--suspects", x),
        ("--save", x, "--suspects", os.path.join(str(tmp_path), ".", "x")),  # one file, two spellings
    ]
    for case in cases:
        with pytest.raises(UserError, match="name one file"):
            check("--file", "in.conll", *case)


def test_an_output_naming_an_input_is_refused(inputs: dict[str, Path], tmp_path: Path) -> None:
    cases = [
        (["--file", str(inputs["file"]), "--save", str(inputs["file"])], "is the input --file"),
        (["--map", str(inputs["map"]), "--save", str(inputs["map"])], "is the input --map"),
        (["--model", str(inputs["model"]), "--save", str(inputs["model"] / "config.json")], "a file of"),
        (["--file", str(inputs["file"]), "--suspects", str(inputs["file"])], "is the input --file"),
    ]
    for argv, said in cases:
        with pytest.raises(UserError, match=said):
            check(*argv)
    # A hard link is the same file under another name.
    link = tmp_path / "link.conll"
    os.link(inputs["file"], link)
    with pytest.raises(UserError, match="is the input --file"):
        check("--file", str(inputs["file"]), "--save", str(link))
    # A new file in a model directory overwrites nothing: allowed.
    check("--model", str(inputs["model"]), "--save", str(inputs["model"] / "new.rrd"))


def test_with_stdout_the_save_option_writes_nothing_and_is_not_checked(inputs: dict[str, Path]) -> None:
    check("--file", str(inputs["file"]), "--save", str(inputs["file"]), "--stdout")


def test_clashing_paths_end_the_command_before_the_model_loads(inputs: dict[str, Path]) -> None:
    from ..test_cli import run_cli

    before = inputs["file"].read_bytes()
    # A model that cannot be loaded: the clash is found first, so its error is the one shown.
    result = run_cli(
        "--model", "nobody/no-such-model", "--file", str(inputs["file"]), "--headless",
        "--save", str(inputs["file"]),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: --save {inputs['file']} is the input --file {inputs['file']}: name a new file"
    ]
    assert inputs["file"].read_bytes() == before


def test_projection_options_with_a_map_are_refused_not_ignored(inputs: dict[str, Path]) -> None:
    """Tokens placed in a map are placed among the map's nearest tokens by cosine: --metric and
    the other projection options would do nothing."""
    for option, value in (("--metric", "euclidean"), ("--n-neighbors", "30"), ("--seed", "7")):
        with pytest.raises(UserError, match=f"fits no projection: leave out {option}"):
            check("--map", str(inputs["map"]), option, value)
    check("--map", str(inputs["map"]), "--metric", "cosine")  # the defaults say nothing new
