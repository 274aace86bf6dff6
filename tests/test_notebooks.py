"""Every chapter's notebook download runs outside the book.

The build writes each chapter as ``_sources/<chapter>.ipynb`` (see
``_chapter_notebook`` in ``book/_ext/m4ml_book.py``) and links it from the
page's download menu. Here each notebook is executed by a fresh Jupyter
kernel in an empty directory, with ``m4ml`` imported from the installed
package (no ``PYTHONPATH`` pointing into the repository): what a reader who
downloaded it and ran ``pip install`` would do.
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from booktools import ROOT

pytestmark = pytest.mark.build

BOOK = ROOT / "book"
CHAPTERS = sorted(
    p.relative_to(BOOK).with_suffix("").as_posix()
    for p in BOOK.glob("*/*.md")
    if not p.parent.name.startswith("_")
    and "{code-cell}" in p.read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def outdir(html_build):
    proc, outdir = html_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    return outdir


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_notebook_executes_outside_the_book(
    outdir, chapter, tmp_path, monkeypatch
):
    path = outdir / "_sources" / f"{chapter}.ipynb"
    assert path.is_file(), f"no notebook download for {chapter}"
    page = (outdir / f"{chapter}.html").read_text(encoding="utf-8")
    assert f"{chapter.split('/')[-1]}.ipynb" in page, "not linked"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert any(c.cell_type == "code" for c in notebook.cells)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    checks = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "application/vnd.m4ml.check+json" in out.get("data", {})
    ]
    assert checks, "the notebook ran none of the chapter's checks"
