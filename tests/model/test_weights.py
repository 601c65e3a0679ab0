"""A model directory's weights files, checked before anything loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llm_embedding_ner.errors import UserError
from llm_embedding_ner.model.weights import check_weights

from .test_model_loading import pickle_only_model


def copy_of(source: Path, tmp_path: Path, name: str = "copy") -> Path:
    return Path(shutil.copytree(source, tmp_path / name))


def test_a_saved_model_passes(dslim_model_dir: Path) -> None:
    check_weights("m", dslim_model_dir, allow_pickle=False)


@pytest.mark.parametrize(
    "keep", [0, 7, 100, -1]
)  # empty, less than a header, cut in the header, short by one byte
def test_a_damaged_safetensors_file_is_named(dslim_model_dir: Path, tmp_path: Path, keep: int) -> None:
    model = copy_of(dslim_model_dir, tmp_path)
    weights = model / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:keep])
    with pytest.raises(UserError, match=r"model\.safetensors cannot be read"):
        check_weights(str(model), model, allow_pickle=False)


def test_no_weights_at_all_is_not_called_pickle_only(dslim_model_dir: Path, tmp_path: Path) -> None:
    model = copy_of(dslim_model_dir, tmp_path)
    (model / "model.safetensors").unlink()
    for allow_pickle in (False, True):
        with pytest.raises(UserError, match="has no weights file") as error:
            check_weights(str(model), model, allow_pickle=allow_pickle)
        assert "pickle" not in str(error.value).split(";")[0].replace("pytorch_model.bin", "")


def test_pickle_weights_need_permission_and_a_readable_archive(dslim_model_dir: Path, tmp_path: Path) -> None:
    model = pickle_only_model(tmp_path, dslim_model_dir)
    with pytest.raises(UserError, match="only pickle"):
        check_weights(str(model), model, allow_pickle=False)
    check_weights(str(model), model, allow_pickle=True)
    weights = model / "pytorch_model.bin"
    weights.write_bytes(weights.read_bytes()[:-100])  # a zip archive without its directory
    with pytest.raises(UserError, match=r"pytorch_model\.bin cannot be read"):
        check_weights(str(model), model, allow_pickle=True)
    weights.write_bytes(b"")
    with pytest.raises(UserError, match="it is empty"):
        check_weights(str(model), model, allow_pickle=True)


def test_shards_are_checked_through_their_index(dslim_model_dir: Path, tmp_path: Path) -> None:
    model = copy_of(dslim_model_dir, tmp_path)
    (model / "model.safetensors").rename(model / "model-00001-of-00002.safetensors")
    shutil.copy(model / "model-00001-of-00002.safetensors", model / "model-00002-of-00002.safetensors")
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    (model / "model.safetensors.index.json").write_text(json.dumps(index))
    check_weights(str(model), model, allow_pickle=False)
    (model / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(UserError, match=r"missing shard.*model-00002-of-00002"):
        check_weights(str(model), model, allow_pickle=False)
    # A Hub cache may lack files it will download: only what is there is checked.
    check_weights(str(model), model, allow_pickle=False, complete=False)
    (model / "model.safetensors.index.json").write_text("{")
    with pytest.raises(UserError, match=r"shard index .* cannot be read"):
        check_weights(str(model), model, allow_pickle=False)
