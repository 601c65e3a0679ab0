"""What is logged where, read back from a recording written in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rerun as rr
import rerun.blueprint as rrb

from llm_embedding_ner.pipeline import analyze
from llm_embedding_ner.viewer.blueprint import blueprint_for, default_blueprint
from llm_embedding_ner.viewer.rerun_logging import PALETTE, class_color, log_to_rerun, nearest_texts

from ..test_cli import read_rrd, read_timeline


def test_log_to_rerun_writes_every_entity_path_to_the_given_recording(
    ontonotes_model, tmp_path: Path
) -> None:
    analysis = analyze("Ada Lovelace met Charles Babbage in London in 1843.", ontonotes_model)
    recording = rr.RecordingStream("test_llm_embedding_ner")
    path = tmp_path / "rec.rrd"
    recording.save(str(path), default_blueprint=default_blueprint())
    log_to_rerun(analysis, recording=recording)
    recording.flush()
    del recording

    logged = read_rrd(path)
    (context,) = logged["/"]["AnnotationContext:context"]
    labels = [c["class_description"]["info"]["label"] for c in context]
    assert labels == ["no entity", "PERSON", "GPE", "DATE", "ORG"]
    points = logged["/umap_embeddings"]
    assert points["Points3D:class_ids"] == analysis.class_ids.tolist()
    assert len(points["Points3D:positions"]) == len(analysis.tokens)
    assert {"Token", "Named Entity", "Label", "Score"} <= set(points)
    # Tokens of no entity are drawn smaller (radii in screen points are stored negative).
    radii = np.asarray(points["Points3D:radii"])
    assert radii.shape == (len(analysis.tokens),) and (radii < 0).all()
    assert (radii[analysis.class_ids == 0] > radii[analysis.class_ids > 0].max()).all()


def test_nearest_tokens_read_as_the_tokens_they_name_in_order() -> None:
    import pyarrow as pa

    names = pa.array(["Ada", " Love", "##lace", "é", ""])
    nearest = np.array([[1, 2, 4], [0, 0, 3], [3, 2, 1]], dtype=np.int32)
    assert nearest_texts(names, nearest).to_pylist() == [" Love, ##lace, ", "Ada, Ada, é", "é, ##lace,  Love"]
    # A text of one token has no neighbours: an empty text, not an error.
    assert nearest_texts(names, np.zeros((2, 0), np.int32)).to_pylist() == ["", ""]


def test_class_colours_are_distinct() -> None:
    colours = [class_color(i) for i in range(40)]
    assert colours[0] == (30, 30, 30) and colours[1 : len(PALETTE) + 1] == PALETTE
    assert len(set(colours)) == len(colours)


def view_types(blueprint: rrb.Blueprint) -> list[str]:
    return [type(part).__name__ for part in blueprint.root_container.contents]


def test_one_chosen_layer_goes_on_the_timeline_without_a_score_plot(dslim_model, tmp_path: Path) -> None:
    analysis = analyze("Ada Lovelace met Charles Babbage in London in 1843.", dslim_model, layers=(1,))
    blueprint = blueprint_for(analysis)
    assert view_types(blueprint) == ["Vertical", "Spatial3DView"]
    assert blueprint.time_panel.timeline == "layer"  # the slider shows which layer this is

    recording = rr.RecordingStream("test_llm_embedding_ner")
    path = tmp_path / "rec.rrd"
    recording.save(str(path))
    log_to_rerun(analysis, recording=recording)
    recording.flush()
    del recording
    frames = read_timeline(path, "layer")
    assert sorted(frames["/umap_embeddings"]) == [1]
    assert "Points3D:positions" not in read_rrd(path)["/umap_embeddings"]  # never static as well


def test_several_layers_plot_their_scores_beside_the_cloud(dslim_model) -> None:
    analysis = analyze("Ada Lovelace met Charles Babbage in London in 1843.", dslim_model, layers="all")
    assert view_types(blueprint_for(analysis)) == ["Vertical", "Spatial3DView", "TimeSeriesView"]
    assert not hasattr(default_blueprint(), "time_panel")  # last layer alone: panels stay collapsed


def test_the_camera_frames_every_point_of_every_layer() -> None:
    from llm_embedding_ner.viewer.blueprint import camera_for

    points = np.array([[0.0, 0.0, 0.0], [10.0, 2.0, 1.0], [-5.0, 30.0, 4.0]])
    camera = camera_for(points)
    target = np.asarray(camera.look_target.as_arrow_array().to_pylist()[0])
    position = np.asarray(camera.position.as_arrow_array().to_pylist()[0])
    np.testing.assert_allclose(target, [2.5, 15.0, 2.0])
    # Far enough back that the bounding sphere of the cloud fits in the view.
    assert np.linalg.norm(position - target) > 2 * np.linalg.norm(points.max(0) - points.min(0)) / 2
    assert camera_for(np.empty((0, 3))) is None


def test_the_blueprint_can_open_on_the_errors_tab() -> None:
    from llm_embedding_ner.viewer.blueprint import default_blueprint

    blueprint = default_blueprint(corpus=True, gold=True, active_cloud="Errors")
    tabs = blueprint.root_container.contents[1]  # documents, then the clouds
    assert tabs.active_tab == "Errors"


def save_in_process(analysis, path: Path) -> None:
    recording = rr.RecordingStream("test_llm_embedding_ner")
    recording.save(str(path))
    log_to_rerun(analysis, recording=recording)
    recording.flush()
    del recording


def test_documents_and_layers_each_go_on_their_own_timeline(dslim_model, tmp_path: Path) -> None:
    from llm_embedding_ner.inputs.documents import Corpus, Document

    texts = ["Ada Lovelace met Charles Babbage in London.", "Angela Merkel visited Paris.", "Nairobi is big."]
    corpus = Corpus([Document(t) for t in texts], "jsonl", True)
    analysis = analyze(corpus, dslim_model, layers="all")
    path = tmp_path / "rec.rrd"
    save_in_process(analysis, path)
    layers = [view.layer for view in analysis.layers]

    by_layer = read_timeline(path, "layer")
    by_document = read_timeline(path, "document")
    # Scores vary by layer only: a plot along documents would draw them all at one x.
    for series in ("/separation/hidden_space", "/separation/projection_3d"):
        assert sorted(by_layer[series]) == layers
        assert series not in by_document
    # The cloud moves along layers; on the document timeline it shows the deepest layer.
    assert sorted(by_layer["/umap_embeddings"]) == layers
    assert sorted(by_document["/umap_embeddings"]) == [0]
    np.testing.assert_allclose(
        by_document["/umap_embeddings"][0]["Points3D:positions"], analysis.coordinates, rtol=1e-6
    )
    # The texts page along documents; on the layer timeline they show the first document.
    assert sorted(by_document["/text"]) == [0, 1, 2]
    for index in range(len(texts)):
        assert f"Document {index} of 3" in by_document["/text"][index]["TextDocument:text"][0]
    assert sorted(by_layer["/text"]) == [layers[0]]
    assert "Document 0 of 3" in by_layer["/text"][layers[0]]["TextDocument:text"][0]
    # The user asked for layers: the time panel opens on them, where the plot is drawn.
    assert blueprint_for(analysis).time_panel.timeline == "layer"


def test_the_cloud_tabs_are_those_with_something_to_show(
    dslim_model, tmp_path: Path, uncapped_suspects: None
) -> None:
    """Gold labels: three colourings and the suspects; a corpus: its mentions, unless its tokens
    were placed in a map (no mention cloud then, so no empty tab)."""
    from llm_embedding_ner.pipeline import map_of

    from ..test_pipeline import read_conll

    def tabs(analysis) -> list[str]:
        return [str(view.name) for view in blueprint_for(analysis).root_container.contents[1].contents]

    corpus = read_conll(tmp_path, 3, iob1=False)
    analysis = analyze(corpus, dslim_model)
    assert tabs(analysis) == ["Predicted types", "Gold types", "Errors", "Suspects", "Entity mentions"]
    placed = analyze(corpus, dslim_model, reference_map=map_of(analysis, dslim_model))
    assert tabs(placed) == ["Predicted types", "Gold types", "Errors", "Suspects"]
