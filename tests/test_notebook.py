"""The example notebook runs from top to bottom in a headless Jupyter kernel, and is kept in the
repository without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebook.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


def test_example_notebook_runs_in_a_headless_kernel(
    dslim_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    monkeypatch.setenv("LLM_EMBEDDING_NER_MODEL", str(dslim_model_dir))  # the kernel inherits it
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert errors == []
    printed = "".join(o.get("text", "") for o in code[2].outputs if o.output_type == "stream")
    assert "tokens, projected with umap" in printed
    shown = [
        o.data["text/plain"] for o in code[-1].outputs if o.output_type == "display_data" and WIDGET in o.data
    ]
    assert any("rerun_notebook.Viewer" in widget for widget in shown)  # Rerun's viewer, in the cell


def test_example_notebook_is_kept_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
