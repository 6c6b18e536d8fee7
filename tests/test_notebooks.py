"""The Colab notebooks run top to bottom without error (on CPU, as CI runs them), and every cell that
plots shows its figure."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "colab").glob("*.ipynb"))

# a call that draws: pyplot, an Axes' or a range test's .plot(...), imshow, optax_lrs.plot
PLOTS = re.compile(r"\bplt\.|\.plot\(|\bimshow\(|^\s*(lrs\.)?plot\(|\boptax_lrs\.plot\b", re.M)


def plotting_cells_without_image(nb) -> list[int]:
    """The indices of the code cells that plot but have no `image/png` among their outputs."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and PLOTS.search(cell.source)
        and not any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    ]


def _cell(source, outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


PNG = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}
TEXT = {"output_type": "stream", "name": "stdout", "text": "0.0731\n"}


def test_the_image_check_finds_a_plotting_cell_without_a_figure():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("plt.plot(x) in a markdown cell draws nothing"),
        _cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])", [PNG]),
        _cell("x = 37 * 0.0731\nprint(x)", [TEXT]),  # no plot, no image needed
        _cell("fig, ax = plt.subplots()\nax.plot([1, 2])", [TEXT]),  # plotted, but no figure came out
        _cell("result.plot(ax=ax)"),
        _cell("im = ax.imshow(grid)", [PNG]),
        _cell("lrs.plot({'cosine': sched}, 37)"),
    ]
    assert plotting_cells_without_image(nb) == [3, 4, 6]
    nb.cells[3].outputs.append(nbformat.from_dict(PNG))
    assert plotting_cells_without_image(nb) == [4, 6]


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
def test_notebook_executes_and_shows_every_figure(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    missing = plotting_cells_without_image(nb)
    assert not missing, [nb.cells[i].source.splitlines()[0] for i in missing]
