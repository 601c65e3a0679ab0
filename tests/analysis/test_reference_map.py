"""Reference maps: the file format (and what is not one), and placement: a reference token lands
where it was, a token lands in the same place alone or in a batch, and a sentence's entity
tokens land among map tokens of their type."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from llm_embedding_ner.analysis.projection import ProjectionSettings
from llm_embedding_ner.analysis.reference_map import (
    check_compatible,
    load_map,
    make_map,
    model_fingerprint,
    place,
    save_map,
    tokenizer_fingerprint,
    type_agreement,
)
from llm_embedding_ner.errors import UserError
from llm_embedding_ner.pipeline import analyze, map_of

from ..test_pipeline import read_conll


def synthetic_map(n: int = 600, dims: int = 32, seed: int = 0):
    """Three clusters of hidden states, their 3D coordinates three clusters too."""
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 3, n)
    centres, places = rng.normal(size=(3, dims)) * 4, rng.normal(size=(3, 3)) * 10
    hidden = (centres[cluster] + rng.normal(size=(n, dims))).astype(np.float32)
    coordinates = (places[cluster] + rng.normal(size=(n, 3))).astype(np.float32)
    return make_map(
        hidden,
        coordinates,
        model="m",
        fingerprints=("w" * 16, "t" * 16),
        layer=6,
        settings=ProjectionSettings(),
        tokens=[f"t{i}" for i in range(n)],
        labels=["O"] * n,
        gold_tags=["O"] * n,
        document=np.zeros(n, dtype=np.int32),
        class_ids=cluster,
        entity_types=["LOC", "PER"],
        source="synthetic",
    )


def size(coordinates: np.ndarray) -> float:
    """Root-mean-square distance of the points from their centre."""
    return float(np.sqrt(((coordinates - coordinates.mean(axis=0)) ** 2).sum(axis=1).mean()))


def test_the_python_api_has_maps_at_the_top() -> None:
    import llm_embedding_ner
    from llm_embedding_ner import ReferenceMap, load_map, map_of, save_map

    assert {"load_map", "save_map", "map_of", "ReferenceMap"} <= set(llm_embedding_ner.__all__)
    assert callable(load_map) and callable(save_map) and callable(map_of) and ReferenceMap.__name__


def test_a_map_survives_saving_and_loading(tmp_path: Path) -> None:
    m = synthetic_map()
    save_map(m, tmp_path / "m.npz")
    back = load_map(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.hidden, m.hidden)
    np.testing.assert_array_equal(back.coordinates, m.coordinates)
    assert (back.tokens, back.labels, back.gold_tags, back.layer, back.settings) == (
        m.tokens,
        m.labels,
        m.gold_tags,
        m.layer,
        m.settings,
    )
    assert back.hidden.dtype == np.float16
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # nothing partial left beside it
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert (tmp_path / "m.npz").stat().st_mode == plain.stat().st_mode  # as any new file is


def test_saving_a_map_never_replaces_a_file(tmp_path: Path) -> None:
    taken = tmp_path / "suspects.jsonl"
    taken.write_text('{"rank": 1}\n', encoding="utf-8")
    with pytest.raises(FileExistsError):
        save_map(synthetic_map(), taken)
    assert taken.read_text(encoding="utf-8") == '{"rank": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suspects.jsonl"]


def test_a_reference_token_placed_again_lands_where_it_was() -> None:
    m = synthetic_map()
    coordinates, nearest = place(m, m.hidden.astype(np.float32))
    assert (nearest[:, 0] == np.arange(len(m.tokens))).mean() > 0.99  # its own nearest, bar exact twins
    moved = np.linalg.norm(coordinates - m.coordinates, axis=1)
    # Its own point outweighs the other 14 ten thousand to one: a thousandth of the cloud at most
    # (here 5e-5 in the median, 1.6e-4 at most).
    assert np.median(moved) / size(m.coordinates) < 1e-3
    assert moved.max() / size(m.coordinates) < 5e-3


def test_a_token_lands_in_the_same_place_alone_or_among_a_thousand() -> None:
    m = synthetic_map()
    batch = np.random.default_rng(1).normal(size=(1000, 32)).astype(np.float32) * 4
    together, _ = place(m, batch)
    for i in (0, 17, 999):
        alone, _ = place(m, batch[i : i + 1])
        np.testing.assert_allclose(alone[0], together[i], rtol=0, atol=1e-5)
    # Near-duplicates land together (UMAP's transform moves them apart).
    twins, _ = place(m, np.stack([batch[0], batch[0] * (1 + 1e-6)]))
    assert np.linalg.norm(twins[0] - twins[1]) < 1e-4 * size(m.coordinates)


def test_a_sentences_entity_tokens_land_among_their_type(dslim_model, tmp_path) -> None:
    """A map of a small corpus, then another corpus placed in it: its entity tokens find their
    predicted type among their nearest map tokens at least as often as the map's own entity
    tokens do in its picture (the separation the map shows)."""
    reference = analyze(read_conll(tmp_path, 1, iob1=False), dslim_model)
    m = map_of(reference, dslim_model)
    tree = cKDTree(m.coordinates)
    own = tree.query(m.coordinates, 6)[1][:, 1:]
    expected = type_agreement(own, m.class_ids, m.class_ids)
    placed = analyze(read_conll(tmp_path, 2, iob1=False), dslim_model, reference_map=m)
    assert placed.projection_method == "map" and placed.reference is m
    nearest = tree.query(placed.coordinates, 5)[1]
    assert type_agreement(nearest, placed.class_ids, m.class_ids) >= expected - 0.05


def test_placed_tokens_name_their_nearest_map_tokens(dslim_model) -> None:
    m = map_of(
        analyze("Ada Lovelace met Charles Babbage in London and Paris last June.", dslim_model), dslim_model
    )
    placed = analyze("Charles Babbage visited London.", dslim_model, reference_map=m)
    view = placed.layers[-1]
    coordinates, nearest = place(m, view.hidden)
    np.testing.assert_array_equal(view.coordinates, coordinates)
    np.testing.assert_array_equal(view.nearest_reference, nearest)
    assert placed.mentions is None


def test_maps_of_other_models_or_tokenizers_are_refused(dslim_model, ontonotes_model) -> None:
    m = map_of(analyze("Ada Lovelace met Charles Babbage in London.", dslim_model), dslim_model)
    own = (model_fingerprint(dslim_model.model), tokenizer_fingerprint(dslim_model.tokenizer))
    check_compatible(m, "m.npz", own, "dslim")  # the same model: fine
    other = (model_fingerprint(ontonotes_model.model), tokenizer_fingerprint(ontonotes_model.tokenizer))
    with pytest.raises(UserError, match="has other weights"):
        check_compatible(m, "m.npz", other, "onto")
    with pytest.raises(UserError, match="another tokenizer"):
        check_compatible(m, "m.npz", (own[0], "x" * 16), "dslim")


def test_what_is_not_a_map_is_one_error_line(tmp_path: Path) -> None:
    save_map(synthetic_map(), tmp_path / "good.npz")
    whole = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "text.npz").write_text("not a map\n")
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    with (
        zipfile.ZipFile(tmp_path / "good.npz") as source,
        zipfile.ZipFile(tmp_path / "meta.npz", "w") as damaged,
    ):
        for item in source.namelist():
            data = source.read(item)
            if item == "meta.npy":
                data = data[:-40] + b"x" * 40  # the description's JSON, cut short
            damaged.writestr(item, data)
    cases = {
        "truncated.npz": "not a readable map",
        "text.npz": "not a readable map",
        "foreign.npz": "not a map of this tool",
        "meta.npz": "damaged description",
        "missing.npz": "does not exist",
        ".": "is a directory",
    }
    for name, said in cases.items():
        with pytest.raises(UserError, match=said) as caught:
            load_map(tmp_path / name)
        assert "\n" not in str(caught.value)


def test_save_map_then_map_from_the_command_line(dslim_model_dir: Path, tmp_path: Path) -> None:
    from ..test_cli import read_rrd, run_cli
    from ..test_pipeline import conll_text

    source = tmp_path / "train.conll"
    source.write_text(conll_text(seed=4, iob1=False), encoding="utf-8")
    saved = tmp_path / "train.map.npz"
    model = ["--model", str(dslim_model_dir)]
    made = run_cli(
        *model,
        "--file",
        str(source),
        "--save-map",
        str(saved),
        "--headless",
        "--save",
        str(tmp_path / "a.rrd"),
    )
    assert made.returncode == 0, made.stderr
    assert f"to {saved}: place other texts in it with --map {saved}" in made.stderr
    m = load_map(saved)
    assert m.gold_tags is not None and m.source == "train.conll" and m.total_tokens == len(m.tokens)

    out = tmp_path / "b.rrd"
    text = "Ada Lovelace visited London."
    placed = run_cli(*model, "--text", text, "--map", str(saved), "--headless", "--save", str(out))
    assert placed.returncode == 0, placed.stderr
    logged = read_rrd(out)
    background = logged["/umap_embeddings/reference"]
    np.testing.assert_allclose(background["Points3D:positions"], m.coordinates)
    assert background["Token"] == m.tokens and background["Gold tag"] == m.gold_tags
    from llm_embedding_ner.model.model_loading import load_model

    expected = analyze(text, load_model(str(dslim_model_dir), "cpu"), reference_map=m)
    np.testing.assert_allclose(
        logged["/umap_embeddings"]["Points3D:positions"], expected.coordinates, atol=1e-5
    )
    # Among the map's points the placed tokens are drawn twice the usual size, and named.
    points = logged["/umap_embeddings"]
    radii = np.abs(np.asarray(points["Points3D:radii"]))
    np.testing.assert_allclose(radii, np.where(expected.class_ids == 0, 4.0, 8.0))
    assert points["Points3D:show_labels"] in (True, [True])
    first = points["Nearest tokens"][0].split("; ")
    assert first[0] == m.describe(int(expected.layers[-1].nearest_reference[0, 0]))
    assert "(doc " in first[0] and ", gold " in first[0]


def test_maps_that_do_not_fit_the_run_are_refused_before_any_work(
    dslim_model_dir: Path, ontonotes_model_dir: Path, tmp_path: Path
) -> None:
    from ..test_cli import run_cli

    saved = tmp_path / "m.npz"
    model = ["--model", str(dslim_model_dir)]
    made = run_cli(
        *model,
        "--text",
        "Ada Lovelace met Charles Babbage in London.",
        "--save-map",
        str(saved),
        "--headless",
    )
    assert made.returncode == 0, made.stderr
    (tmp_path / "bad.npz").write_bytes(saved.read_bytes()[:100])
    cases = [
        (["--model", str(ontonotes_model_dir), "--map", str(saved)], "has other weights"),
        ([*model, "--map", str(saved), "--layers", "1"], "drawn at layer 2"),
        ([*model, "--map", str(tmp_path / "bad.npz")], "not a readable map"),
        ([*model, "--save-map", str(saved)], "already exists"),
        ([*model, "--save-map", str(tmp_path / "n.npz"), "--map", str(saved)], "give one of them"),
        ([*model, *model, "--map", str(saved)], "one model"),
    ]
    for args, said in cases:
        result = run_cli(*args, "--text", "Paris.", "--headless", "--save", str(tmp_path / "r.rrd"))
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()[-1:]
        assert line.startswith("error: ") and said in line, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.rrd").exists()


def rewritten(path: Path, target: Path, meta: object = None, **arrays: np.ndarray) -> Path:
    """The map at ``path`` with its description (``meta``, a change to apply or a whole new
    value) and some arrays replaced, written to ``target``."""
    import json

    with np.load(path, allow_pickle=False) as data:
        fields = {name: data[name] for name in data.files}
    description = json.loads(fields["meta"].tobytes().decode())
    if callable(meta):
        meta(description)
    elif meta is not None:
        description = meta
    fields["meta"] = np.frombuffer(json.dumps(description).encode(), dtype=np.uint8)
    np.savez(target, **(fields | arrays))
    return target


def test_every_field_of_a_map_is_checked_when_it_loads(tmp_path: Path) -> None:
    """A map changed in one field, as a damaged or crafted file would be: one UserError line
    when loading, never an exception from faiss, scipy or the viewer later on."""
    good = tmp_path / "good.npz"
    save_map(synthetic_map(), good)
    n = len(load_map(good).tokens)

    def setting(name: str, value: object):
        return lambda meta: meta["settings"].__setitem__(name, value)

    cases = {
        "a list": ({"meta": ["llm_embedding_ner map"]}, "not a map of this tool"),
        "n_neighbors text": ({"meta": setting("n_neighbors", "15")}, "n_neighbors '15' is not a whole"),
        "n_neighbors 0": ({"meta": setting("n_neighbors", 0)}, "n_neighbors 0 is not a whole"),
        "n_neighbors negative": ({"meta": setting("n_neighbors", -3)}, "n_neighbors -3"),
        "min_dist": ({"meta": setting("min_dist", 7)}, "min_dist 7 is not a number from 0 to 1"),
        "layer": ({"meta": lambda meta: meta.__setitem__("layer", "six")}, "layer 'six'"),
        "tokens": ({"meta": lambda meta: meta.__setitem__("tokens", meta["tokens"][:-1])}, "tokens has"),
        "document 2-D": ({"document": np.zeros((n, 2), np.int32)}, "document is not"),
        "coordinates NaN": ({"coordinates": np.full((n, 3), np.nan, np.float32)}, "coordinates are not"),
        "hidden inf": ({"hidden": np.full((n, 32), np.inf, np.float16)}, "hidden states are not finite"),
        "hidden 1-D": ({"hidden": np.zeros(n, np.float16)}, "hidden states of shape"),
        "class ids": ({"class_ids": np.full(n, 9, np.int32)}, "class_ids outside 0 to 2"),
    }
    for name, (change, said) in cases.items():
        meta = change.pop("meta", None)
        path = rewritten(good, tmp_path / f"{name}.npz", meta, **change)
        with pytest.raises(UserError, match=re.escape(said)) as caught:
            load_map(path)
        assert "\n" not in str(caught.value), name


def test_hidden_states_beyond_float16_are_kept_exactly(tmp_path: Path) -> None:
    m = synthetic_map()
    hidden = np.random.default_rng(0).normal(size=(600, 32)).astype(np.float32) * 1e5
    large = make_map(
        hidden, m.coordinates, model="m", fingerprints=("w" * 16, "t" * 16), layer=6,
        settings=ProjectionSettings(), tokens=m.tokens, labels=m.labels, gold_tags=m.gold_tags,
        document=m.document, class_ids=m.class_ids, entity_types=m.entity_types, source="large",
    )  # fmt: skip
    save_map(large, tmp_path / "large.npz")
    back = load_map(tmp_path / "large.npz")
    assert np.isfinite(back.hidden).all()
    np.testing.assert_array_equal(back.hidden, hidden)
    _, nearest = place(back, hidden[:5])
    assert nearest[:, 0].tolist() == [0, 1, 2, 3, 4]


def test_analyze_refuses_a_map_that_does_not_fit_the_model(dslim_model, ontonotes_model, tmp_path) -> None:
    """The Python API checks what the command line checks: another model's map, or a map whose
    hidden states are of another width, is a UserError, not a faiss assertion."""
    text = "Ada Lovelace met Charles Babbage in London."
    m = map_of(analyze(text, dslim_model), dslim_model)
    with pytest.raises(UserError, match="has other weights"):
        analyze(text, ontonotes_model, reference_map=m)
    narrow = replace(m, hidden=m.hidden[:, :16])
    with pytest.raises(UserError, match="its hidden states are 16 wide"):
        analyze(text, dslim_model, reference_map=narrow)
