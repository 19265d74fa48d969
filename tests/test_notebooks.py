"""The notebooks in notebooks/: committed without outputs, and executed top to bottom against a
small store the tests build (so a broken notebook fails CI).

    python -m pytest tests/test_notebooks.py -q

Each notebook reads its store path from the cell tagged `parameters` (papermill's convention);
the test replaces that cell's `STORE = ...` line with the test store, as papermill would.
"""

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_two_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS][:2] == ["01_ranking.ipynb", "02_one_shot.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nbformat = pytest.importorskip("nbformat", reason="needs the dev extra: pip install -e '.[dev]'")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs; clear them before committing"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].source.startswith("STORE = "), f"{path.name}: one `parameters` cell setting STORE"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_against_a_trained_store(path, trained_store, tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="needs the dev extra: pip install -e '.[dev]'")
    nbclient = pytest.importorskip("nbclient", reason="needs the dev extra: pip install -e '.[dev]'")
    root, _, _ = trained_store
    nb = nbformat.read(path, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = params.source.splitlines()
    params.source = "\n".join([f"STORE = {str(root)!r}"] + lines[1:])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    expected = {"01_ranking.ipynb": 3, "02_one_shot.ipynb": 3}.get(path.name, 1)
    assert len(images) >= expected, f"{path.name}: {len(images)} figures shown, expected {expected}"
