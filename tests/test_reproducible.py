"""Two clean builds of the book give byte-identical pages and figures.

Each build starts from a fresh copy of the sources with no execution cache
and executes one chapter (the mode of ``make chapter``: the other chapters
are read without running their cells), so the test costs two chapter
executions, not two books. Only the build report differs between
builds, by design: it records the date and the execution times.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from booktools import copy_book, sphinx_build

pytestmark = pytest.mark.build

CHAPTER = "foundations/calculus"  # several figures, a few seconds to run
DIFFERS_BY_DESIGN = {"appendices/build_report.html", ".buildinfo"}


def _clean_build(dest: Path) -> Path:
    copy_book(dest, warm=False)
    outdir = dest / "_build" / "html"
    proc = sphinx_build(
        dest, "html", outdir, environ={"M4ML_CHAPTER": CHAPTER.split("/")[1]}
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return outdir


def _files(outdir: Path) -> set[str]:
    return {
        p.relative_to(outdir).as_posix()
        for p in outdir.rglob("*")
        if p.is_file() and ".doctrees" not in p.parts
    }


def test_two_clean_builds_are_byte_identical(tmp_path):
    first = _clean_build(tmp_path / "first")
    second = _clean_build(tmp_path / "second")
    files = _files(first)
    assert files == _files(second), "the builds wrote different files"
    figures = [f for f in files if f.startswith("_images/")]
    assert figures, "the executed chapter produced no figures"
    compared = sorted(files - DIFFERS_BY_DESIGN)
    _, mismatch, errors = filecmp.cmpfiles(
        first, second, compared, shallow=False
    )
    assert not errors
    assert not mismatch, f"files that differ between builds: {mismatch}"
