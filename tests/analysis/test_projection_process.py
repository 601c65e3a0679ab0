"""UMAP in a process of its own gives what project_to_3d gives here, and is never needed."""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from llm_embedding_ner.analysis.neighbours import nearest_neighbours
from llm_embedding_ner.analysis.projection import ProjectionSettings, project_to_3d
from llm_embedding_ner.analysis.projection_process import ProjectionProcess


def cloud(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 24)).astype(np.float32)


def children() -> set[int]:
    """This process's child processes, from Linux's /proc."""
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids.update(int(pid) for pid in (task / "children").read_text().split())
    return pids


@pytest.fixture
def process() -> ProjectionProcess:
    started = ProjectionProcess(ProjectionSettings(), unless_loaded_here=False)
    yield started
    started.close()


def test_same_coordinates_as_in_this_process(process: ProjectionProcess) -> None:
    settings = ProjectionSettings()
    vectors = cloud(60)
    neighbours = nearest_neighbours(vectors, 14, settings.metric)
    follow = project_to_3d(cloud(60, seed=1), settings).coordinates
    for args in (
        (vectors, settings),
        (vectors, settings, neighbours),
        (vectors, settings, neighbours, follow),
    ):
        there = process.project(*args)
        here = project_to_3d(*args)
        assert there.method == here.method == "umap"
        np.testing.assert_array_equal(there.coordinates, here.coordinates)
    assert process.child is not None  # all of it ran there


def test_warnings_come_back_and_errors_are_raised_here(process: ProjectionProcess) -> None:
    with pytest.warns(UserWarning, match="only 10 tokens: UMAP uses 9 neighbours"):
        process.project(cloud(10), ProjectionSettings())
    with pytest.raises(ValueError):
        project_to_3d(cloud(20), ProjectionSettings(metric="no-such-metric"))
    with pytest.raises(ValueError):
        process.project(cloud(20), ProjectionSettings(metric="no-such-metric"))
    assert process.child is not None  # an error in a projection does not end the process


def test_a_process_that_died_is_replaced_by_this_one(process: ProjectionProcess) -> None:
    assert process.child is not None
    os.kill(process.child.pid, signal.SIGKILL)
    process.child.wait()
    projected = process.project(cloud(40), ProjectionSettings())
    np.testing.assert_array_equal(projected.coordinates, project_to_3d(cloud(40)).coordinates)
    assert process.child is None


def test_a_process_that_cannot_start_is_not_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    process = ProjectionProcess(ProjectionSettings(), unless_loaded_here=False)
    assert process.child is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and it says nothing about it
        projected = process.project(cloud(40), ProjectionSettings())
    assert projected.coordinates.shape == (40, 3)


def test_close_leaves_no_process_behind_even_while_it_works() -> None:
    before = children()
    process = ProjectionProcess(ProjectionSettings(), unless_loaded_here=False)
    assert process.child is not None and process.child.pid in children()
    process.close()  # still importing UMAP: stopped all the same
    assert children() == before
    process.close()  # twice is harmless


def test_no_process_when_umap_is_loaded_here_already() -> None:
    project_to_3d(cloud(20))  # imports umap-learn in this process
    process = ProjectionProcess(ProjectionSettings())
    assert process.child is None
    assert process.project(cloud(20)).coordinates.shape == (20, 3)


def test_large_inputs_are_projected_here_and_the_process_stops(
    process: ProjectionProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_embedding_ner.analysis import projection_process

    vectors = cloud(40)
    monkeypatch.setattr(projection_process, "IN_PROCESS_FROM_BYTES", vectors.nbytes)
    pid = process.child.pid if process.child is not None else None
    projected = process.project(vectors, ProjectionSettings())
    np.testing.assert_array_equal(projected.coordinates, project_to_3d(vectors).coordinates)
    assert process.child is None and pid not in children()
