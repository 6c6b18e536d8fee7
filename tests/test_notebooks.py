"""The Colab notebooks run top to bottom without error (on CPU, as CI runs them)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "colab").glob("*.ipynb"))


def test_there_are_three_notebooks_with_a_badge_and_an_install_cell():
    assert len(NOTEBOOKS) >= 3
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert "colab.research.google.com/assets/colab-badge.svg" in nb.cells[0].source
        assert path.name in nb.cells[0].source
        install = next(c for c in nb.cells if c.cell_type == "code")
        assert '"google.colab" in sys.modules' in install.source and "pip" in install.source
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "stale outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
