"""The chapter standard of STYLE.md, enforced for every chapter.

A chapter is a MyST file under a part folder of book/ with code cells. These
tests read the sources only (no build), so they are fast and say exactly
which chapter breaks which rule.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from booktools import ROOT

BOOK = ROOT / "book"
PARTS = ("foundations", "classical_ml", "deep_learning", "appendices")
CODE_CELL = re.compile(
    r"^(`{3,})\{code-cell\}[^\n]*\n(.*?)^\1\s*$", re.MULTILINE | re.DOTALL
)
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CHECK_CALL = re.compile(r"\bcheck_(close|equal|leq|within_se|gradient)\s*\(")


def chapters() -> list[Path]:
    return sorted(
        p
        for part in PARTS
        for p in (BOOK / part).glob("*.md")
        if "{code-cell}" in p.read_text()
    )


def code_cells(text: str) -> list[str]:
    return [m.group(2) for m in CODE_CELL.finditer(text)]


def prose_words(text: str) -> int:
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.DOTALL)
    text = FENCE.sub(" ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)  # roles
    text = re.sub(r"^:[\w-]+:.*$", " ", text, flags=re.MULTILINE)  # options
    return len(re.findall(r"[A-Za-z][A-Za-z'-]+", text))


def toctree_entries(path: Path) -> list[str]:
    entries = []
    for match in re.finditer(
        r"^```\{toctree\}\n(.*?)^```", path.read_text(), re.M | re.S
    ):
        for line in match.group(1).splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                entries.append(line)
    return entries


CHAPTERS = chapters()
IDS = [p.stem for p in CHAPTERS]


def test_there_are_chapters():
    assert CHAPTERS, "no chapter found under book/<part>/"


@pytest.fixture(params=CHAPTERS, ids=IDS)
def chapter(request) -> tuple[Path, str]:
    return request.param, request.param.read_text()


def _slug(path: Path) -> str:
    return path.stem.replace("_", "-")


def test_header_label_and_title(chapter):
    path, text = chapter
    assert text.startswith("---\njupytext:"), "missing the jupytext header"
    assert re.search(r"^kernelspec:\n(  .*\n)*  name: python3$", text, re.M)
    body = text.split("\n---\n", 1)[1].lstrip()
    assert body.startswith(f"({'ch-' + _slug(path)})=\n# "), (
        f"{path.name} must start with the label (ch-{_slug(path)})= "
        "and then the title"
    )


def test_skeleton_in_order(chapter):
    path, text = chapter
    heads = [h for h in re.findall(r"^## (.+)$", FENCE.sub("", text), re.M)]
    assert heads[-3:] == ["Summary", "Exercises", "Further reading"], (
        f"{path.name}: the last sections must be Summary, Exercises, "
        f"Further reading; found {heads[-3:]}"
    )
    objectives = text.find(":::{admonition} Learning objectives")
    first_cell = text.find("{code-cell}")
    first_section = text.find("\n## ")
    assert 0 < objectives < first_cell < first_section, (
        f"{path.name}: objectives, then the setup cell, then the sections"
    )
    box = text[objectives : text.find("\n:::\n", objectives)]
    bullets = re.findall(r"^- \*\*(\w+)\*\*", box, re.M)
    assert 3 <= len(bullets) <= 5, f"{path.name}: 3-5 objectives, each a verb"
    assert "**Prerequisites:**" in box


def test_setup_cell(chapter):
    path, text = chapter
    setup = code_cells(text)[0]
    assert "use_book_style()" in setup
    assert "np.random.default_rng(" in setup


def test_chapter_standard_counts(chapter):
    path, text = chapter
    cells = code_cells(text)
    n_checks = sum(len(CHECK_CALL.findall(c)) for c in cells)
    n_figures = len(re.findall(r"^  figure:\n", text, re.M))
    n_alt = len(re.findall(r"^    alt: \S", text, re.M))
    words = prose_words(text)
    assert words >= 3000, f"{path.name}: {words} words of prose, need 3,000"
    assert n_checks >= 8, f"{path.name}: {n_checks} checks, need 8"
    assert n_figures >= 3, f"{path.name}: {n_figures} figures, need 3"
    assert n_alt >= n_figures, f"{path.name}: every figure needs alt text"


def test_figures_have_caption_name_and_alt(chapter):
    path, text = chapter
    for meta in re.findall(r"^---\n(.*?)^---\n", text, re.M | re.S)[1:]:
        if "figure:" not in meta:
            continue
        assert "caption:" in meta and "name: fig-" in meta, meta
        assert re.search(r"^\s+alt: \S", meta, re.M), meta


def test_exercises_have_solutions(chapter):
    path, text = chapter
    labels = re.findall(r"^:::\{exercise\}[^\n]*\n:label: (\S+)", text, re.M)
    solved = re.findall(r"\{solution(?:-start)?\} (\S+)", text)
    assert len(labels) >= 6, f"{path.name}: {len(labels)} exercises, need 6"
    assert sorted(labels) == sorted(solved), (
        f"{path.name}: exercises without a solution: "
        f"{sorted(set(labels) - set(solved))}"
    )
    prefix = f"ex-{_slug(path)}-"
    assert all(label.startswith(prefix) for label in labels)
    code_solutions = re.findall(
        r"\{solution-start\}.*?\{solution-end\}", text, re.S
    )
    n_code = sum("{code-cell}" in s for s in code_solutions)
    assert n_code >= 2, f"{path.name}: {n_code} code exercises, need 2"


def test_labels_follow_the_house_scheme(chapter):
    path, text = chapter
    slug = _slug(path)
    body = text.split("\n---\n", 1)[1]  # after the jupytext header
    labels = re.findall(r"^:label: (\S+)", body, re.M)
    labels += re.findall(r"^\$\$ \((\S+)\)$", body, re.M)
    labels += re.findall(r"^\s+name: (\S+)$", body, re.M)
    for label in labels:
        assert re.fullmatch(
            rf"(def|thm|lem|cor|prop|ex|eq|fig|alg|rem|exm|tab)-{slug}-[a-z0-9-]+",
            label,
        ), f"{path.name}: label {label!r} is not kind-{slug}-name"


def test_house_rules_in_code_cells(chapter):
    path, text = chapter
    for cell in code_cells(text):
        assert not re.search(
            r"np\.random\.(seed|rand|randn|randint|normal|"
            r"uniform|choice|permutation|shuffle)\(",
            cell,
        ), (
            f"{path.name}: use rng = np.random.default_rng(seed), not the "
            "legacy np.random functions"
        )
        assert "set_title" not in cell, (
            f"{path.name}: captions go in the cell metadata, not set_title"
        )
        assert not re.search(r"figsize\s*=\s*\(", cell), (
            f"{path.name}: use the size constants of m4ml.plotting"
        )
        assert not re.search(r"^\s*assert\b|np\.testing\.", cell, re.M), (
            f"{path.name}: verify claims with m4ml.checks so they are counted"
        )
    assert "```{literalinclude} ../../code/m4ml/" in text, (
        f"{path.name}: show the package code with literalinclude"
    )


def test_one_slug_in_three_places(chapter):
    path, _ = chapter
    assert (ROOT / "code" / "m4ml" / f"{path.stem}.py").is_file()
    assert (ROOT / "tests" / f"test_{path.stem}.py").is_file()


def test_every_module_has_a_test_file():
    modules = [
        p.stem
        for p in (ROOT / "code" / "m4ml").glob("*.py")
        if not p.stem.startswith("_")
    ]
    missing = [
        m for m in modules if not (ROOT / "tests" / f"test_{m}.py").is_file()
    ]
    assert not missing, f"modules without tests/test_<module>.py: {missing}"


def test_no_notebooks_or_outputs_committed_in_book():
    tracked = subprocess.run(
        ["git", "ls-files", "book"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    stray = [
        p
        for p in tracked
        if Path(p).suffix in {".ipynb", ".png", ".svg", ".pdf", ".jpg"}
        and "_static" not in Path(p).parts
    ]
    assert not stray, f"generated files committed under book/: {stray}"


def test_html_and_pdf_list_the_same_chapters_in_order():
    html = toctree_entries(BOOK / "index.md")
    pdf = toctree_entries(BOOK / "pdf.md")
    names = {p.relative_to(BOOK).with_suffix("").as_posix() for p in CHAPTERS}
    assert [e for e in html if e in names] == [e for e in pdf if e in names]
    listed = set(html)
    for path in CHAPTERS:
        entry = path.relative_to(BOOK).with_suffix("").as_posix()
        assert entry in listed, f"{entry} is in no toctree of index.md"
