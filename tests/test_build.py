"""The book builds: warning-free, offline, and failing loudly when it should.

These tests run the real Sphinx build (HTML into _build/html, sharing the
execution cache with `make html`) and, in throw-away copies, builds that
must fail: a wrong derivation, a broken cross-reference, a malformed
chapter.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from booktools import ROOT, copy_book, sphinx_build

pytestmark = pytest.mark.build

CHAPTER = "foundations/linear_algebra"


def test_html_build_succeeds_without_warnings(html_build):
    proc, outdir = html_build
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, (
        proc.stderr
    )
    assert (outdir / f"{CHAPTER}.html").is_file()


def _check_ids(page: Path) -> list[str]:
    """The anchors of the check records rendered on a page."""
    return re.findall(
        r'<div class="[^"]*\bm4ml-check\b[^"]*" id="(check-\d+)"',
        page.read_text(),
    )


def test_landing_page_counts_the_checks_on_the_pages(html_build):
    _, outdir = html_build
    landing = (outdir / "index.html").read_text()
    match = re.search(r"executed and passed <strong>([\d,]+) checks", landing)
    assert match, "the landing page does not state the number of checks"
    stated = int(match.group(1).replace(",", ""))
    on_pages = sum(len(_check_ids(p)) for p in outdir.rglob("*.html"))
    assert stated == on_pages > 0


class _Resources(HTMLParser):
    """Collects every URL a browser would fetch to show a page."""

    LOADS = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "audio": "src",
        "video": "src",
        "embed": "src",
        "object": "data",
    }

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.urls.append(attrs[self.LOADS[tag]])
        if tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if rel in {
                "stylesheet",
                "preload",
                "icon",
                "modulepreload",
                "prefetch",
                "manifest",
                "shortcut icon",
            }:
                self.urls.append(attrs["href"])
        for value in attrs.values():
            if value and "url(" in value:
                self.urls += re.findall(r"url\(([^)]+)\)", value)


def _external(url: str) -> bool:
    url = url.strip("'\" ")
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I))


def test_no_page_loads_anything_from_outside_the_site(html_build):
    _, outdir = html_build
    outside = []
    for page in outdir.rglob("*.html"):
        parser = _Resources()
        parser.feed(page.read_text())
        outside += [(page.name, u) for u in parser.urls if _external(u)]
    for css in outdir.rglob("*.css"):
        for url in re.findall(r"url\(([^)]+)\)", css.read_text()):
            if _external(url):
                outside.append((css.name, url))
    assert not outside


def test_math_assets_are_served_with_the_site(html_build):
    _, outdir = html_build
    page = (outdir / f"{CHAPTER}.html").read_text()
    assert re.search(r'src="(\.\./)*_static/mathjax/tex-chtml\.js', page)
    fonts = outdir / "_static" / "mathjax" / "fonts" / "mathjax-newcm-font"
    assert list((fonts / "chtml" / "woff2").glob("*.woff2"))
    assert '"fonts": "[mathjax]/fonts"' in page  # no CDN fallback


def _failing_build(tmp_path: Path) -> str:
    proc = sphinx_build(tmp_path, "html", tmp_path / "_build" / "html")
    assert proc.returncode != 0, "the build should have failed"
    return proc.stdout + proc.stderr


def test_a_wrong_derivation_fails_the_build(tmp_path, html_build):
    copy_book(tmp_path)
    module = tmp_path / "code" / "m4ml" / "linear_algebra.py"
    # flip a sign in a package function the chapter checks
    module.write_text(
        module.read_text()
        + "\n\n_solve = solve\n\n\n"
        + "def solve(A, b):\n    return -_solve(A, b)\n"
    )
    log = _failing_build(tmp_path)
    assert "linear_algebra.md" in log and "Executing notebook failed" in log
    assert "Check failed" in log  # the failing check says what and by how much
    assert "\x1b[" not in log  # a plain traceback, readable in any CI log
    # and it stays failed: a rebuild must not pass on the stored result
    assert "Check failed" in _failing_build(tmp_path)


def test_a_broken_cross_reference_fails_the_build(tmp_path, html_build):
    copy_book(tmp_path)
    chapter = tmp_path / "book" / f"{CHAPTER}.md"
    chapter.write_text(
        chapter.read_text() + "\nSee {ref}`sec-no-such-section`.\n"
    )
    log = _failing_build(tmp_path)
    assert re.search(
        r"linear_algebra\.md:\d+: WARNING: undefined label: "
        r"'sec-no-such-section'",
        log,
    ), log[-3000:]


def test_a_malformed_chapter_fails_the_build(tmp_path, html_build):
    copy_book(tmp_path)
    chapter = tmp_path / "book" / f"{CHAPTER}.md"
    chapter.write_text(
        chapter.read_text() + "\n:::{prf:theorem}\n:label: thm-broken\n"
        "An unclosed theorem with an unknown option.\n:colour: red\n"
    )
    log = _failing_build(tmp_path)
    assert "linear_algebra.md" in log and "WARNING" in log


@pytest.fixture(scope="module")
def latex_sources(html_build) -> Path:
    """The LaTeX sources of the book and of every chapter (``make latex``)."""
    outdir = ROOT / "_build" / "latex"
    proc = sphinx_build(ROOT, "latex", outdir, "-t", "pdf")
    assert proc.returncode == 0, proc.stderr[-5000:]
    return outdir


def _latexmk(outdir: Path, name: str) -> str:
    """Compile ``<name>.tex`` as ``make pdf`` does; return its LaTeX log."""
    latex = subprocess.run(
        [
            "make",
            "-C",
            str(outdir),
            f"{name}.pdf",
            "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert latex.returncode == 0, latex.stdout[-5000:]
    log = (outdir / f"{name}.log").read_text(errors="replace")
    assert not re.search(
        r"(Reference|Citation) `[^']*' on page \d+ undefined", log
    )
    assert "There were undefined references" not in log
    return log


def _pdf_text(pdf: Path, *pages: str) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _pdf_chapters() -> list[tuple[str, str]]:
    """(docname, title) of the PDF's numbered chapters, in order."""
    text = (ROOT / "book" / "pdf.md").read_text()
    chapters = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", text, re.S):
        if ":numbered:" in block:
            for doc in re.findall(r"^([a-z_]+/[a-z_]+)$", block, re.M):
                source = (ROOT / "book" / f"{doc}.md").read_text()
                chapters.append(
                    (doc, re.search(r"^# (.+)$", source, re.M).group(1))
                )
    return chapters


@pytest.mark.pdf
def test_pdf_builds_with_every_chapter_and_no_undefined_reference(
    latex_sources,
):
    outdir = latex_sources
    _latexmk(outdir, "m4ml")
    text = _pdf_text(outdir / "m4ml.pdf")
    titles = []
    for entry in re.findall(
        r"^([a-z_]+/[a-z_]+)$", (ROOT / "book" / "pdf.md").read_text(), re.M
    ):
        source = (ROOT / "book" / f"{entry}.md").read_text()
        titles.append(re.search(r"^# (.+)$", source, re.M).group(1))
    assert titles
    flat = re.sub(r"\s+", " ", text).lower()
    for title in titles + ["Contents", "Bibliography", "Foundations"]:
        assert re.sub(r"\s+", " ", title).lower() in flat, title
    # the solutions of the exercises are gathered in an appendix at the back
    tex = (outdir / "m4ml.tex").read_text()
    appendix = tex.find(r"\chapter{Solutions to the exercises}")
    assert 0 < tex.find(r"\appendix") < appendix
    assert tex.find("Solution to{") > appendix
    assert tex.count("Solution to{") >= 6 * len(titles) // 2
    # the printed index (xindy) holds the terms the chapters define
    index = (outdir / "m4ml.ind").read_text(errors="replace")
    assert "pivot" in index and "condition number" in index
    shutil.copy2(outdir / "m4ml.pdf", ROOT / "_build" / "m4ml.pdf")


@pytest.mark.pdf
def test_each_chapter_has_its_own_pdf(latex_sources, html_build):
    outdir = latex_sources
    chapters = _pdf_chapters()
    slugs = [doc.split("/")[1] for doc, _ in chapters]
    assert sorted(p.stem for p in outdir.glob("*.tex")) == sorted(
        [*slugs, "m4ml"]
    )
    # a chapter of Part II: it keeps its number in the book, links the
    # chapters it cites to the web book, and carries its own bibliography
    # and the solutions of its exercises
    doc, title = next(c for c in chapters if c[0].endswith("/pca"))
    number = slugs.index("pca") + 1
    _latexmk(outdir, "pca")
    front = re.sub(r"\s+", " ", _pdf_text(outdir / "pca.pdf", "-l", "1"))
    assert (
        f"{number}. {title}" in front
        and "Mathematics for Machine Learning" in front
    )
    text = _pdf_text(outdir / "pca.pdf")
    assert f"Chapter {number}" in text and f"({number}.1)" in text
    tex = (outdir / "pca.tex").read_text()
    assert tex.find(r"\section{Further reading}") < tex.find(
        r"\section{Solutions to the exercises}"
    )
    assert tex.count("Solution to{") >= 6
    book_tex = (outdir / "m4ml.tex").read_text()
    cited = tex.count(r"\bibitem")
    assert 0 < cited < book_tex.count(r"\bibitem")
    for source in outdir.glob("*.tex"):  # no dangling reference in any
        tex_ = source.read_text()
        labels = set(
            re.findall(r"\\label\{(?:\\detokenize\{)?([^}]+)\}", tex_)
        )
        labels |= {
            f"cite.{key}"
            for key in re.findall(r"\\bibitem\[[^\]]*\]\{([^}]+)\}", tex_)
        }
        refs = re.findall(
            r"\\(?:hyperref\[|ref\{|hyperlink\{)(?:\\detokenize\{)?([^\]}]+)",
            tex_,
        )
        assert refs and not set(refs) - labels, (
            source.name,
            set(refs) - labels,
        )
    _, html = html_build
    links = re.findall(
        r"\\sphinxhref\{https://m4ml-book\.github\.io/m4ml/([^}]+)\}", tex
    )
    assert len(links) > 10
    for link in links:  # every link lands on a page and an anchor of the site
        page, _, anchor = link.replace("\\", "").partition("#")
        target = html / page
        assert target.is_file(), link
        assert not anchor or f'id="{anchor}"' in target.read_text(), link


def test_every_page_offers_the_pdfs(html_build):
    _, outdir = html_build
    chapters = dict(_pdf_chapters())
    pages = sorted(outdir.rglob("*.html"))
    assert len(pages) > len(chapters)
    for page in pages:
        rel = page.relative_to(outdir).as_posix()
        if rel.startswith(("_", "reports/")):
            continue
        text = page.read_text()
        up = "../" * rel.count("/")
        assert f'href="{up}pdf/m4ml.pdf"' in text, rel
        assert "window.print()" not in text, rel  # not the browser's dialog
        doc = rel.removesuffix(".html")
        if doc in chapters:
            slug = doc.split("/")[1]
            assert f'href="{up}pdf/{slug}.pdf"' in text, rel


def _from_appendices(href: str) -> str:
    """A link on a page in appendices/, as a path from the site's root."""
    return posixpath.normpath(posixpath.join("appendices", href))


def test_ledger_lists_every_check_once(html_build):
    _, outdir = html_build
    ledger = (outdir / "appendices" / "verification_ledger.html").read_text()
    rows = [
        _from_appendices(href)
        for href in re.findall(
            r'<a class="reference internal" href="([^"]+#check-\d+)"', ledger
        )
    ]
    on_pages = []
    for page in outdir.rglob("*.html"):
        ids = _check_ids(page)
        rel = page.relative_to(outdir).as_posix()
        on_pages += [f"{rel}#{i}" for i in ids]
    assert sorted(rows) == sorted(on_pages) and rows
    stated = re.search(r"This build executed ([\d,]+) checks", ledger)
    assert int(stated.group(1).replace(",", "")) == len(rows)


def test_glossary_and_index_list_every_defined_term(html_build):
    _, outdir = html_build
    glossary = (outdir / "appendices" / "glossary.html").read_text()
    links = {
        _from_appendices(href)
        for href in re.findall(r'href="([^"]+#term-\d+)"', glossary)
    }
    genindex = (outdir / "genindex.html").read_text()
    anchors = []
    for page in sorted(outdir.glob("*/*.html")):
        rel = page.relative_to(outdir).as_posix()
        ids = re.findall(r'<strong id="(term-\d+)"', page.read_text())
        anchors += [f"{rel}#{i}" for i in ids]
        for i in ids:  # the general index links the same place
            assert f'href="{rel}#{i}"' in genindex, (rel, i)
    assert len(anchors) > 500
    assert sorted(links) == sorted(anchors)
    # a term defined in chapter 1, and no bold verb from the objectives
    page = (outdir / f"{CHAPTER}.html").read_text()
    assert re.search(r'<strong id="term-\d+">pivot</strong>', page)
    assert "<dt>Solve</dt>" not in glossary and "<dt>pivot</dt>" in glossary


def test_chapter_header_states_its_count(html_build):
    _, outdir = html_build
    page = (outdir / f"{CHAPTER}.html").read_text()
    n = len(_check_ids(outdir / f"{CHAPTER}.html"))
    assert f"This chapter makes {n} checks; all passed" in page


def test_build_report_lists_chapters_and_versions(html_build):
    _, outdir = html_build
    report = (outdir / "appendices" / "build_report.html").read_text()
    assert "passed" in report and "FAILED" not in report
    assert re.search(r"<td><p>numpy</p></td>\s*<td><p>\d+\.\d+", report)


def test_chapters_are_numbered_continuously_across_parts(html_build):
    _, outdir = html_build
    landing = (outdir / "index.html").read_text()
    found = re.findall(r'toctree-l1"><a [^>]*>(\d+)\. ', landing)
    numbers = list(dict.fromkeys(int(n) for n in found))  # sidebar + body
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 9
    # a later part's chapter counts its equations and theorems from 1 too
    for page in (outdir / "classical_ml").glob("*.html"):
        text = page.read_text()
        chapter = re.search(r'<h1><span class="section-number">(\d+)\.', text)
        eqnos = re.findall(r'<span class="eqno">\((\d+)\.(\d+)\)', text)
        if chapter and eqnos:
            assert eqnos[0] == (chapter.group(1), "1"), (page.name, eqnos[0])


def test_a_traceback_printed_by_a_cell_fails_the_build(tmp_path, html_build):
    copy_book(tmp_path)
    chapter = tmp_path / "book" / f"{CHAPTER}.md"
    chapter.write_text(
        chapter.read_text()
        + "\n```{code-cell} ipython3\n"
        + "print('Traceback (most recent call last):\\n  oops')\n```\n"
    )
    log = _failing_build(tmp_path)
    assert "a cell output contains a traceback" in log
