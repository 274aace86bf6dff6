"""Tests of the book's Sphinx extension (book/_ext/m4ml_book.py)."""

import re

import pytest
from sphinx.errors import ExtensionError

import m4ml_book
from booktools import ROOT


def test_macro_file_parses_into_mathjax_macros():
    macros = m4ml_book.read_macros()
    assert macros["R"] == r"\mathbb{R}"
    assert macros["norm"] == [r"\left\lVert #1 \right\rVert", 1]
    assert len(macros) > 40


@pytest.mark.parametrize(
    "line, match",
    [
        (r"\def\R{\mathbb{R}}", "expected a one-line"),
        (r"\newcommand{\R}{\mathbb{R}}", "defined twice"),
    ],
)
def test_malformed_macro_file_names_file_and_line(tmp_path, line, match):
    path = tmp_path / "macros.tex"
    path.write_text(
        "% comment\n\\newcommand{\\R}{\\mathbb{R}}\n" + line + "\n"
    )
    with pytest.raises(ExtensionError, match=match) as info:
        m4ml_book.read_macros(path)
    assert f"{path}:3" in str(info.value)


CHAPTER = """
Some prose that mentions m4ml.plotting without importing it.

```{code-cell} ipython3
import numpy as np
from m4ml.checks import check_close
from m4ml import plotting
```
"""


def test_chapter_modules_follow_imports_transitively():
    # checks imports vector_calculus inside check_gradient
    assert m4ml_book.chapter_modules(CHAPTER) == [
        "__init__",
        "checks",
        "plotting",
        "vector_calculus",
    ]


def test_prose_mentions_are_not_imports():
    prose_only = "We use m4ml.linear_algebra later.\n"
    assert m4ml_book.chapter_modules(prose_only) == ["__init__"]


def test_cache_key_changes_with_imported_modules_only(tmp_path, monkeypatch):
    package = tmp_path / "m4ml"
    package.mkdir()
    for name in ("__init__", "checks", "plotting", "vector_calculus", "other"):
        source = ROOT / "code" / "m4ml" / f"{name}.py"
        text = source.read_text() if source.exists() else "x = 1\n"
        (package / f"{name}.py").write_text(text)
    monkeypatch.setattr(m4ml_book, "PACKAGE", package)
    key = m4ml_book.cache_key(CHAPTER)
    (package / "other.py").write_text("x = 2\n")
    assert m4ml_book.cache_key(CHAPTER) == key  # not imported: same key
    (package / "vector_calculus.py").write_text("# changed\n")
    assert m4ml_book.cache_key(CHAPTER) != key  # imported via checks


def test_cache_key_covers_the_lock_file(tmp_path, monkeypatch):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.4.6\n")
    monkeypatch.setattr(m4ml_book, "LOCK_FILE", lock)
    key = m4ml_book.cache_key(CHAPTER)
    lock.write_text("numpy==2.4.7\n")
    assert m4ml_book.cache_key(CHAPTER) != key


def test_missing_mathjax_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(m4ml_book, "NODE_MODULES", tmp_path)
    with pytest.raises(ExtensionError, match="npm ci"):
        m4ml_book._mathjax_sources()


def test_every_macro_is_documented_on_the_notation_page():
    notation = (ROOT / "book" / "notation.md").read_text()
    generic = re.compile(r"[vm][A-Za-z]")  # covered by the letter rule
    missing = [
        name
        for name in m4ml_book.read_macros()
        if not re.search(rf"`\\{name}(?![A-Za-z])", notation)
        and not generic.fullmatch(name)
    ]
    assert not missing, f"document these macros in notation.md: {missing}"


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("pivot", "pivot"),
        (r"\sigma-algebra", "σ-algebra"),
        (r"$\nabla f$ is parallel to $\nabla g$", "∇ f is parallel to ∇ g"),
        (r"level $1 - \alpha$", "level 1 - α"),
        (r"$\mathrm{KL}$ divergence", "KL divergence"),
    ],
)
def test_index_entries_are_plain_text(term, text):
    assert m4ml_book.index_text(term) == text
