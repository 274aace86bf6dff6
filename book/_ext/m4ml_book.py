"""The book's own Sphinx extension.

It keeps the build honest and self-contained:

* **Notation**: ``book/macros.tex`` is the one source of math macros; it is
  turned into MathJax macros for HTML and included in the LaTeX preamble.
* **Offline math**: MathJax 4 and its font are copied from ``node_modules``
  (installed by ``npm ci`` from the lock file) into the site, so that no
  page loads anything from a CDN.
* **Execution cache key**: myst-nb's cache key covers only a notebook's code
  cells. We append one hidden code cell holding a hash of the ``m4ml``
  modules the chapter imports (transitively), of ``requirements.lock``, of
  ``m4ml_kernel.py`` (the kernels' environment) and of the Python
  version, so that a change in any of them re-executes the
  chapter; the same files are Sphinx dependencies, so that the chapter is
  re-read at all.
* **Check count**: the records displayed by :mod:`m4ml.checks` become
  ``m4ml-check`` containers; this extension collects them per document and
  the role ``{check-count}`all``` (or a docname) prints how many ran.
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import importlib.metadata
import logging as logging_module
import platform
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors import EnvironmentCollector
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "code" / "m4ml"
KERNEL_ENV = Path(__file__).with_name("m4ml_kernel.py")
LOCK_FILE = ROOT / "requirements.lock"
MACRO_FILE = ROOT / "book" / "macros.tex"
NODE_MODULES = ROOT / "node_modules"

# --------------------------------------------------------------------------
# Notation: one macro file for MathJax and LaTeX
# --------------------------------------------------------------------------

_NEWCOMMAND = re.compile(
    r"^\\newcommand\{\\(?P<name>[A-Za-z]+)\}(?:\[(?P<nargs>\d)\])?"
    r"\{(?P<body>.*)\}\s*$"
)


def read_macros(path: Path = MACRO_FILE) -> dict[str, str | list]:
    """Parse ``\\newcommand`` lines into MathJax's macro format.

    Raises
    ------
    sphinx.errors.ExtensionError
        For a line that is neither a comment nor a one-line ``\\newcommand``,
        naming the file and line.
    """
    macros: dict[str, str | list] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("%"):
            continue
        match = _NEWCOMMAND.match(stripped)
        if not match:
            raise ExtensionError(
                f"{path}:{lineno}: expected a one-line "
                f"\\newcommand{{\\name}}[n]{{body}}, got: {stripped}"
            )
        name, nargs, body = match["name"], match["nargs"], match["body"]
        if name in macros:
            raise ExtensionError(f"{path}:{lineno}: \\{name} defined twice")
        macros[name] = [body, int(nargs)] if nargs else body
    return macros


def _configure_math(app: Sphinx, config) -> None:
    macros = read_macros()
    mj = dict(config.mathjax4_config or {})
    tex = dict(mj.get("tex", {}))
    tex["macros"] = {**macros, **tex.get("macros", {})}
    mj["tex"] = tex
    loader = dict(mj.get("loader", {}))
    loader["paths"] = {**loader.get("paths", {}), "fonts": "[mathjax]/fonts"}
    mj["loader"] = loader
    config.mathjax4_config = mj
    config.mathjax_path = "mathjax/tex-chtml.js"
    preamble = config.latex_elements.get("preamble", "")
    config.latex_elements["preamble"] = (
        preamble + "\n% book/macros.tex\n" + MACRO_FILE.read_text()
    )


# --------------------------------------------------------------------------
# Offline math: copy a trimmed MathJax into the site
# --------------------------------------------------------------------------

MATHJAX_FILES = (
    "tex-chtml.js",
    "input",
    "output",
    "ui",
    "a11y",
    "adaptors",
    "sre/speech-worker.js",
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
    "sre/mathmaps/nemeth.json",  # braille, which the speech worker builds too
    "LICENSE",
)
FONT_FILES = ("chtml", "chtml.js", "package.json")


def _mathjax_sources() -> tuple[Path, Path]:
    mathjax = NODE_MODULES / "mathjax"
    font = NODE_MODULES / "@mathjax" / "mathjax-newcm-font"
    missing = [p for p in (mathjax, font) if not p.is_dir()]
    if missing:
        raise ExtensionError(
            "MathJax is not installed (missing "
            + ", ".join(str(p) for p in missing)
            + "). Run `make html`, which runs `npm ci`, or run `npm ci` in "
            + str(ROOT)
            + " (needs Node.js and npm)."
        )
    return mathjax, font


def _check_mathjax(app: Sphinx) -> None:
    if app.builder.format == "html":
        _mathjax_sources()


def _copy_tree(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _install_mathjax(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    mathjax, font = _mathjax_sources()
    target = Path(app.outdir) / "_static" / "mathjax"
    stamp = target / ".version"
    version = (mathjax / "package.json").read_text() + (
        font / "package.json"
    ).read_text()
    if stamp.is_file() and stamp.read_text() == version:
        return
    shutil.rmtree(target, ignore_errors=True)
    for name in MATHJAX_FILES:
        _copy_tree(mathjax / name, target / name)
    for name in FONT_FILES:
        _copy_tree(font / name, target / "fonts" / "mathjax-newcm-font" / name)
    stamp.write_text(version)


# --------------------------------------------------------------------------
# Execution cache key
# --------------------------------------------------------------------------

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+m4ml(?:\.(?P<from>\w+))?[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|[\w \t,]+)"
    r"|import[ \t]+m4ml(?:\.(?P<mod>\w+))?)",
    re.MULTILINE,
)
_CODE_CELL = re.compile(
    r"^(?P<fence>`{3,}|~{3,})\{code-cell\}.*?^(?P=fence)\s*$",
    re.MULTILINE | re.DOTALL,
)


def _module_imports(module: str) -> set[str]:
    """The ``m4ml`` modules that ``m4ml.<module>`` imports (not recursive)."""
    path = PACKAGE / f"{module}.py"
    if not path.is_file():
        return set()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.add(node.module or "")
            elif node.module and node.module.startswith("m4ml"):
                parts = node.module.split(".")
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "m4ml" and len(parts) > 1:
                    found.add(parts[1])
    return {m for m in found if (PACKAGE / f"{m}.py").is_file()}


def chapter_modules(source: str) -> list[str]:
    """The ``m4ml`` modules a chapter's code cells use, transitively.

    ``m4ml/__init__.py`` is always included.
    """
    direct: set[str] = set()
    for cell in _CODE_CELL.finditer(source):
        for match in _IMPORT.finditer(cell.group(0)):
            if match["from"]:
                direct.add(match["from"])
            elif match["mod"]:
                direct.add(match["mod"])
            elif match["names"]:
                names = re.findall(r"\w+", match["names"])
                direct.update(n for n in names if n != "as")
    seen: set[str] = set()
    todo = [m for m in direct if (PACKAGE / f"{m}.py").is_file()]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_module_imports(module) - seen)
    return ["__init__", *sorted(seen)]


def chapter_dependencies(source: str) -> list[Path]:
    """Files whose change must re-execute a chapter with this source."""
    files = [PACKAGE / f"{m}.py" for m in chapter_modules(source)]
    files += [PACKAGE / "book.mplstyle", LOCK_FILE, KERNEL_ENV]
    return [f for f in files if f.is_file()]


def cache_key(source: str) -> str:
    """A hash of everything besides its code cells that a chapter runs on."""
    digest = hashlib.sha256(sys.version.encode())
    for path in chapter_dependencies(source):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _add_cache_key(app: Sphinx, docname: str, source: list[str]) -> None:
    text = source[0]
    if "{code-cell}" not in text:
        return
    for path in chapter_dependencies(text):
        app.env.note_dependency(str(path))
    source[0] = (
        text.rstrip("\n")
        + "\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n"
        + f"# m4ml execution cache key {cache_key(text)}\n```\n"
    )


# --------------------------------------------------------------------------
# Counting the checks
# --------------------------------------------------------------------------


class check_count(nodes.Inline, nodes.TextElement):
    """Placeholder for a number of checks, filled in when written."""


class CheckCountRole(SphinxRole):
    """``{check-count}`all``` or ``{check-count}`<docname>```."""

    def run(self):
        target = self.text.strip()
        if target != "all" and target not in self.env.found_docs:
            msg = f"check-count: unknown document {target!r}"
            logger.warning(msg, location=self.get_location())
        self.env.m4ml_count_pages = getattr(
            self.env, "m4ml_count_pages", set()
        )
        self.env.m4ml_count_pages.add(self.env.docname)
        return [check_count(target=target)], []


class CheckCollector(EnvironmentCollector):
    """Collects each document's check records into ``env.m4ml_checks``.

    Every check container gets an anchor (``check-1``, ``check-2``, ...) so
    that the ledger can link to it; the rendered claim and reference are
    copied so that the ledger shows them exactly as the chapter does.
    """

    def clear_doc(self, app, env, docname):
        getattr(env, "m4ml_checks", {}).pop(docname, None)
        getattr(env, "m4ml_count_pages", set()).discard(docname)

    def merge_other(self, app, env, docnames, other):
        env.m4ml_checks = getattr(env, "m4ml_checks", {})
        for docname in docnames:
            if docname in getattr(other, "m4ml_checks", {}):
                env.m4ml_checks[docname] = other.m4ml_checks[docname]
        pages = getattr(other, "m4ml_count_pages", set()) & set(docnames)
        env.m4ml_count_pages = getattr(env, "m4ml_count_pages", set()) | pages

    def process_doc(self, app, doctree):
        env = app.env
        env.m4ml_checks = getattr(env, "m4ml_checks", {})
        records = []
        for node in doctree.findall(nodes.container):
            if "m4ml_check" not in node:
                continue
            anchor = f"check-{len(records) + 1}"
            node["ids"].append(anchor)
            record = dict(node["m4ml_check"], anchor=anchor)
            for cls in ("m4ml-claim", "m4ml-ref"):
                found = [
                    n
                    for n in node.findall(nodes.inline)
                    if cls in n["classes"]
                ]
                record[cls] = found[0].deepcopy() if found else None
            records.append(record)
        env.m4ml_checks[env.docname] = records

    def get_updated_docs(self, app, env):
        # pages that print counts are rewritten whenever anything changed
        return sorted(getattr(env, "m4ml_count_pages", set()))


def count_checks(env: BuildEnvironment, target: str = "all") -> int:
    checks = getattr(env, "m4ml_checks", {})
    if target == "all":
        return sum(len(v) for v in checks.values())
    return len(checks.get(target, []))


def _resolve_counts(app: Sphinx, doctree, docname: str) -> None:
    for node in list(doctree.findall(check_count)):
        node.replace_self(
            nodes.Text(f"{count_checks(app.env, node['target']):,}")
        )


# --------------------------------------------------------------------------
# Glossary and index: every term a chapter defines in bold
# --------------------------------------------------------------------------

GLOSSARY_DOC = "appendices/glossary"
PART_FOLDERS = ("foundations", "classical_ml", "deep_learning", "appendices")
_NOT_DEFINITIONS = re.compile(
    r"exercise|solution|objectives|m4ml-check|cell_output"
)


def _defines_a_term(node: nodes.strong) -> bool:
    """Bold text in running prose: the house style's mark of a definition.

    Not bold in titles, captions, exercises and solutions, the learning
    objectives (bold verbs), check records or cell outputs, nor run-in
    headings such as "**Prerequisites:**".
    """
    if not isinstance(node.parent, nodes.paragraph):
        return False
    text = node.astext().strip()
    if not text or text[-1] in ":.!?" or len(text) > 60:
        return False
    for ancestor in _ancestors(node):
        if isinstance(ancestor, (nodes.title, nodes.caption, nodes.table)):
            return False
        names = " ".join(ancestor.get("classes", [])) + type(ancestor).__name__
        if _NOT_DEFINITIONS.search(names):
            return False
    return True


def _ancestors(node: nodes.Node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


_TEX_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "chi": "χ",
    "omega": "ω",
    "Sigma": "Σ",
    "Lambda": "Λ",
    "nabla": "∇",
    "ell": "ℓ",
    "infty": "∞",
    "top": "T",
    "le": "≤",
    "ge": "≥",
    "in": "∈",
}


def index_text(term: str) -> str:
    """A term as plain text for the index: math markup becomes symbols.

    >>> index_text(r"$\\sigma$-algebra")
    'σ-algebra'
    >>> index_text(r"$\\nabla f$ is parallel to $\\nabla g$")
    '∇ f is parallel to ∇ g'
    """
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_SYMBOLS.get(m[1], ""), term)
    text = re.sub(r"[${}^_]", "", text)
    return " ".join(text.split())


def glossary_key(term: str) -> str:
    """A term as listed: as written, with its white space normalised."""
    return " ".join(term.split())


class TermTransform(SphinxTransform):
    """Give each defined term an anchor and an index entry, while reading.

    Runs before the index domain collects entries, so the terms reach the
    general index (HTML) and the printed index (LaTeX, via xindy).
    """

    default_priority = 700

    def apply(self, **kwargs) -> None:
        docname = self.env.docname
        if docname.split("/")[0] not in PART_FOLDERS:
            return
        source = Path(self.env.doc2path(docname))
        if "{code-cell}" not in source.read_text(encoding="utf-8"):
            return  # the ledger, the report, the glossary itself
        for n, node in enumerate(
            [
                s
                for s in self.document.findall(nodes.strong)
                if _defines_a_term(s)
            ],
            start=1,
        ):
            term = glossary_key(node.astext())
            anchor = f"term-{n}"
            node["ids"].append(anchor)
            node["m4ml_term"] = term
            entry = addnodes.index(
                entries=[("single", index_text(term), anchor, "", None)],
                inline=True,
            )
            node.parent.insert(node.parent.index(node), entry)


class TermCollector(EnvironmentCollector):
    """Collects each chapter's defined terms into ``env.m4ml_terms``."""

    def clear_doc(self, app, env, docname):
        getattr(env, "m4ml_terms", {}).pop(docname, None)

    def merge_other(self, app, env, docnames, other):
        env.m4ml_terms = getattr(env, "m4ml_terms", {})
        for docname in docnames:
            if docname in getattr(other, "m4ml_terms", {}):
                env.m4ml_terms[docname] = other.m4ml_terms[docname]

    def process_doc(self, app, doctree):
        env = app.env
        env.m4ml_terms = getattr(env, "m4ml_terms", {})
        env.m4ml_terms[env.docname] = [
            (node["m4ml_term"], node["ids"][-1], node.deepcopy())
            for node in doctree.findall(nodes.strong)
            if "m4ml_term" in node
        ]

    def get_updated_docs(self, app, env):
        return [GLOSSARY_DOC] if GLOSSARY_DOC in env.found_docs else []


class term_glossary(nodes.General, nodes.Element):
    """Placeholder for the glossary."""


class TermGlossaryDirective(SphinxDirective):
    """``{term-glossary}``: every defined term, linked to its definition."""

    def run(self):
        return [term_glossary()]


# --------------------------------------------------------------------------
# The verification ledger, the chapter headers and the build report
# --------------------------------------------------------------------------

LEDGER_DOC = "appendices/verification_ledger"
REPORT_DOC = "appendices/build_report"
# Filled in after the HTML is written (_page_weight), when it can be measured.
PAGE_WEIGHT_MARK = '<p class="m4ml-page-weight">Not measured.</p>'


class check_ledger(nodes.General, nodes.Element):
    """Placeholder for the verification ledger."""


class build_report(nodes.General, nodes.Element):
    """Placeholder for the build report."""


class _PlaceholderDirective(SphinxDirective):
    node_class: type = nodes.Element

    def run(self):
        self.env.m4ml_count_pages = getattr(
            self.env, "m4ml_count_pages", set()
        )
        self.env.m4ml_count_pages.add(self.env.docname)
        return [self.node_class()]


class CheckLedgerDirective(_PlaceholderDirective):
    """``{check-ledger}``: every check of the book, one row each."""

    node_class = check_ledger


class BuildReportDirective(_PlaceholderDirective):
    """``{build-report}``: execution times, statuses and versions."""

    node_class = build_report


def _chapters(env: BuildEnvironment) -> list[str]:
    """Chapters in reading order: the numbered ones, then the appendices.

    An appendix (unnumbered) counts when it executes code, so that its
    checks reach the ledger and the build report like any chapter's.
    """
    numbered = [
        (env.toc_secnumbers[doc][""], doc)
        for doc in env.found_docs
        if env.toc_secnumbers.get(doc, {}).get("")
    ]
    appendices = sorted(
        doc
        for doc in env.found_docs
        if doc.startswith("appendices/")
        and getattr(env, "m4ml_checks", {}).get(doc)
    )
    return [doc for _, doc in sorted(numbered)] + appendices


def _chapter_name(env: BuildEnvironment, doc: str) -> str:
    number = ".".join(map(str, env.toc_secnumbers.get(doc, {}).get("", ())))
    title = env.titles[doc].astext() if doc in env.titles else doc
    return f"{number}. {title}" if number else title


def _para(*children) -> nodes.paragraph:
    para = nodes.paragraph()
    for child in children:
        para += nodes.Text(child) if isinstance(child, str) else child
    return para


def _table(headers, rows, widths, classes=()) -> nodes.table:
    # colwidths-given: LaTeX uses the widths below instead of guessing
    table = nodes.table(classes=["m4ml-table", "colwidths-given", *classes])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for target, cells in ((head, [headers]), (body, rows)):
        for cells_of_row in cells:
            row = nodes.row()
            for cell in cells_of_row:
                entry = nodes.entry()
                entry += (
                    cell if isinstance(cell, nodes.paragraph) else _para(cell)
                )
                row += entry
            target += row
    return table


def _doc_link(fromdoc: str, target: str, text: str) -> addnodes.pending_xref:
    xref = addnodes.pending_xref(
        "",
        refdomain="std",
        reftype="doc",
        reftarget="/" + target,
        refdoc=fromdoc,
        refexplicit=True,
        refwarn=True,
    )
    xref += nodes.inline("", text)
    return xref


def _retarget(node: nodes.Node, fromdoc: str) -> nodes.Node:
    """A copy of rendered nodes, with its references resolved from fromdoc."""
    node = node.deepcopy()
    for xref in node.findall(addnodes.pending_xref):
        xref["refdoc"] = fromdoc
    return node


class BookPostTransform(SphinxPostTransform):
    """Fill in the ledger, the build report and the chapter headers.

    Runs before references are resolved (priority 10) and before the LaTeX
    builder turns equation references into ``math_reference`` nodes
    (priority 5), so the links it creates resolve like any other.
    """

    default_priority = 4

    def run(self, **kwargs) -> None:
        docname = self.env.docname
        for node in list(self.document.findall(check_ledger)):
            node.replace_self(self._ledger(docname))
        for node in list(self.document.findall(build_report)):
            node.replace_self(self._report(docname))
        for node in list(self.document.findall(term_glossary)):
            node.replace_self(self._glossary(docname))
        self._chapter_header(docname)

    def _check_link(self, fromdoc, doc, record, number):
        if self.app.builder.format != "html":
            return _para(str(number))
        uri = self.app.builder.get_relative_uri(fromdoc, doc)
        ref = nodes.reference(
            "", str(number), refuri=f"{uri}#{record['anchor']}", internal=True
        )
        return _para(ref)

    def _glossary(self, fromdoc: str) -> list[nodes.Node]:
        env = self.env
        # one entry per term whatever its case ("Pivot" opening a sentence,
        # "pivot" elsewhere), shown in lower case if it is ever written so
        places: dict[str, list[tuple[str, str]]] = {}
        shown: dict[str, nodes.Node] = {}
        for doc in _chapters(env):
            terms = getattr(env, "m4ml_terms", {}).get(doc, [])
            for term, anchor, node in terms:
                # sorted by their letters: "$\sigma$-algebra" under s
                key = re.sub(r"[^\w\s-]", "", term).strip()
                key = key.casefold() or term
                places.setdefault(key, []).append((doc, anchor))
                if key not in shown or term[:1].islower():
                    shown[key] = node
        # a plural defined in one place, its singular in another: one entry
        for key in sorted(places):
            for stem in (key[:-1], key[:-2]) if key.endswith("s") else ():
                if stem in places and stem != key:
                    places[stem] += places.pop(key)
                    break
        items = nodes.definition_list(classes=["m4ml-glossary"])
        for key in sorted(places):
            where = _para()
            for i, (doc, anchor) in enumerate(places[key]):
                if i:
                    where += nodes.Text("; ")
                name = _chapter_name(env, doc)
                if self.app.builder.format == "html":
                    uri = self.app.builder.get_relative_uri(fromdoc, doc)
                    where += nodes.reference(
                        "", name, refuri=f"{uri}#{anchor}", internal=True
                    )
                else:
                    where += nodes.Text(name)
            items += nodes.definition_list_item(
                "",
                nodes.term("", "", *_retarget(shown[key], fromdoc).children),
                nodes.definition("", where),
            )
        count = _para(
            f"{len(places):,} terms, defined in "
            f"{len({d for v in places.values() for d, _ in v})} chapters."
        )
        return [count, items]

    def _ledger(self, fromdoc: str) -> list[nodes.Node]:
        env = self.env
        checks = getattr(env, "m4ml_checks", {})
        chapters = [doc for doc in _chapters(env) if checks.get(doc)]
        total = sum(len(checks[doc]) for doc in chapters)
        out: list[nodes.Node] = [
            _para(
                f"This build executed {total:,} checks in {len(chapters)} "
                f"chapter{'s' * (len(chapters) != 1)}, and every one passed: "
                "a check that fails stops "
                "the build, so it can never appear below as failed."
            )
        ]
        for doc in chapters:
            records = checks[doc]
            out.append(
                nodes.rubric(
                    "",
                    "",
                    _doc_link(fromdoc, doc, _chapter_name(env, doc)),
                    nodes.Text(f" ({len(records)} checks)"),
                )
            )
            rows = []
            for number, record in enumerate(records, start=1):
                claim = record.get("m4ml-claim")
                ref = record.get("m4ml-ref")
                rows.append(
                    [
                        self._check_link(fromdoc, doc, record, number),
                        _para(_retarget(claim, fromdoc))
                        if claim
                        else record["claim"],
                        _para(_retarget(ref, fromdoc)) if ref else "",
                        record["method"],
                        _fmt(record["tolerance"]),
                        _fmt(record["error"]),
                    ]
                )
            out.append(
                _table(
                    ["#", "Claim", "Verifies", "Method", "Tolerance", "Error"],
                    rows,
                    [4, 46, 14, 14, 11, 11],
                    classes=["m4ml-ledger"],
                )
            )
        return out

    def _report(self, fromdoc: str) -> list[nodes.Node]:
        from myst_nb.sphinx_ import NbMetadataCollector

        env = self.env
        checks = getattr(env, "m4ml_checks", {})
        rows, total = [], 0.0
        for doc in _chapters(env):
            try:
                data = NbMetadataCollector.get_exec_data(env, doc) or {}
            except KeyError:
                data = {}
            if not data:
                continue
            runtime = data.get("runtime") or 0.0
            total += runtime
            status = "passed" if data.get("succeeded") else "FAILED"
            rows.append(
                [
                    _para(_doc_link(fromdoc, doc, _chapter_name(env, doc))),
                    f"{runtime:.1f}",
                    status,
                    str(len(checks.get(doc, []))),
                ]
            )
        commit = _git("log", "-1", "--format=%h, %cd", "--date=short")
        out = [
            _para(
                f"Built on {datetime.date.today().isoformat()} from commit "
                f"{commit or 'unknown'} with Python "
                f"{platform.python_version()} on {platform.machine()} "
                f"{platform.system()}."
            ),
            nodes.rubric("", "Chapters"),
            _para(
                "The execution time is that of the chapter's last execution "
                "(a cached chapter is not re-executed); the total is "
                f"{total:.1f} s."
            ),
            _table(
                ["Chapter", "Execution (s)", "Status", "Checks"],
                rows,
                [55, 15, 15, 15],
                classes=["m4ml-report"],
            ),
            nodes.rubric("", "Versions"),
            _table(
                ["Package", "Version"],
                [[name, _version(name)] for name in REPORT_PACKAGES],
                [50, 50],
                classes=["m4ml-report"],
            ),
        ]
        if self.app.builder.format == "html":
            out += [
                nodes.rubric("", "Page weight"),
                nodes.raw("", PAGE_WEIGHT_MARK, format="html"),
            ]
        return out

    def _chapter_header(self, docname: str) -> None:
        n = count_checks(self.env, docname)
        if not n or docname == LEDGER_DOC:
            return
        section = next(iter(self.document.findall(nodes.section)), None)
        if section is None or not isinstance(section[0], nodes.title):
            return
        kind = "appendix" if docname.startswith("appendices/") else "chapter"
        words = f"This {kind} makes {n} checks; all passed when it was built"
        if LEDGER_DOC in self.env.found_docs:
            note = _para(
                words + " (see the ",
                _doc_link(docname, LEDGER_DOC, "verification ledger"),
                ").",
            )
        else:
            note = _para(words + ".")
        section.insert(
            1, nodes.container("", note, classes=["m4ml-chapter-checks"])
        )


REPORT_PACKAGES = (
    "numpy",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "sympy",
    "sphinx",
    "myst-nb",
    "myst-parser",
    "jupyter-cache",
    "ipykernel",
    "sphinx-book-theme",
    "sphinx-proof",
    "sphinx-exercise",
    "sphinxcontrib-bibtex",
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.1e}"


def _warn_on_tracebacks(app: Sphinx, doctree) -> None:
    """A traceback printed into an output fails the build.

    IPython catches some errors itself, for instance when matplotlib cannot
    render a figure label, and prints the traceback as ordinary output, so
    the cell does not fail. Such a page would show a traceback instead of a
    figure; we turn it into a warning, which ``-W`` makes an error.
    """
    for node in doctree.findall(nodes.literal_block):
        if "output" in node[
            "classes"
        ] and "Traceback (most recent call last)" in (node.astext()):
            logger.warning(
                "a cell output contains a traceback: %s",
                node.astext()[-300:].strip(),
                location=node,
            )


def _continue_chapter_numbers(app: Sphinx, env: BuildEnvironment) -> list:
    """Number chapters continuously across the parts' toctrees.

    Each part has a toctree of its own (for its caption), and Sphinx numbers
    every numbered toctree from 1. After Sphinx has assigned the numbers, we
    shift the chapters of each later part by the number of chapters before
    it: their section numbers, the numbers of their figures, equations,
    theorems and exercises, and the numbers shown in the tables of contents.
    Idempotent: a chapter already shifted is left alone.
    """
    root = app.config.root_doc
    if root not in env.found_docs:
        return []
    shifted, offset = [], 0
    for toctree in env.get_doctree(root).findall(addnodes.toctree):
        if not toctree.get("numbered"):
            continue
        entries = [
            ref for _, ref in toctree["entries"] if ref in env.found_docs
        ]
        for local, doc in enumerate(entries, start=1):
            top = env.toc_secnumbers.get(doc, {}).get("")
            if offset and top and top[0] == local:
                _shift_numbers(env, doc, offset)
                shifted.append(doc)
        offset += len(entries)
    return shifted


def _number_chapters_continuously(app: Sphinx) -> None:
    """Hook the continuous numbering into Sphinx's own numbering step.

    Sphinx's toctree collector assigns section and figure numbers afresh on
    every build and asks for the pages whose numbers differ from the last
    build's to be rewritten; we wrap its handler, shift the numbers right
    after it and compare the final numbers, so that a no-op build rewrites
    nothing.
    """
    from sphinx.environment.collectors.toctree import TocTreeCollector

    listeners = app.events.listeners["env-get-updated"]
    for i, listener in enumerate(listeners):
        collector = getattr(listener.handler, "__self__", None)
        if not isinstance(collector, TocTreeCollector):
            continue
        original = listener.handler

        def get_updated_docs(app, env, _original=original):
            if not getattr(app, "m4ml_docs_changed", True):
                # nothing was read or removed: the numbers cannot change, and
                # Sphinx would unpickle every doctree to recount the figures
                return []
            sec = {d: dict(v) for d, v in env.toc_secnumbers.items()}
            fig = {
                d: {t: dict(n) for t, n in v.items()}
                for d, v in env.toc_fignumbers.items()
            }
            changed = set(_original(app, env))
            changed.update(_continue_chapter_numbers(app, env))
            return [
                doc
                for doc in sorted(changed)
                if env.toc_secnumbers.get(doc) != sec.get(doc)
                or env.toc_fignumbers.get(doc) != fig.get(doc)
            ]

        listeners[i] = listener._replace(handler=get_updated_docs)

        def note_reads(app, env, docnames):  # after removed docs are purged
            purged = getattr(app, "m4ml_docs_purged", False)
            app.m4ml_docs_changed = purged or bool(docnames)

        def note_purge(app, env, docname):
            app.m4ml_docs_purged = app.m4ml_docs_changed = True

        app.connect("env-before-read-docs", note_reads)
        app.connect("env-purge-doc", note_purge, priority=900)
        return
    raise ExtensionError("m4ml_book: Sphinx's toctree collector not found")


def _shift_numbers(env: BuildEnvironment, doc: str, offset: int) -> None:
    def shift(number):
        return (number[0] + offset, *number[1:]) if number else number

    env.toc_secnumbers[doc] = {
        k: shift(v) for k, v in env.toc_secnumbers[doc].items()
    }
    # Sphinx counts figures, equations and theorems per chapter number, so a
    # later part's chapter 6 continued the count of the first part's chapter
    # 6: number them afresh from 1, in their order, under the new number.
    for figtype, numbers in env.toc_fignumbers.get(doc, {}).items():
        order = sorted(numbers, key=lambda k: numbers[k])
        env.toc_fignumbers[doc][figtype] = {
            k: (*shift(numbers[k])[:-1], i)
            for i, k in enumerate(order, start=1)
        }
    for ref in env.tocs[doc].findall(nodes.reference):
        if ref.get("secnumber"):
            ref["secnumber"] = shift(ref["secnumber"])


def find_chromium() -> str | None:
    """A Chromium or Chrome binary: $M4ML_CHROMIUM, else one on the PATH."""
    import os

    for candidate in (
        os.environ.get("M4ML_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate:
            return candidate
    return None


def measure_page_weight(outdir: Path, page: str, attempts: int = 3) -> dict:
    """What a reader's browser downloads for ``page``, gzipped.

    The built site is served on 127.0.0.1 and opened in headless Chromium
    (Playwright) with every other address blocked; once MathJax has typeset
    every formula and the network is idle, each response's body is
    gzipped (level 9, as a server would send it) and summed by kind.
    Returns ``{"error": reason}`` when no browser is available.
    """
    import functools
    import gzip
    import http.server
    import threading

    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"error": "Playwright is not installed"}
    binary = find_chromium()
    if binary is None:
        return {
            "error": "no Chromium found (install it, or set M4ML_CHROMIUM)"
        }

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(outdir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    files: dict[str, tuple[int, int]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=binary, args=["--no-sandbox", "--disable-gpu"]
            )
            page_ = browser.new_page()
            page_.route(
                "**/*",
                lambda r: (
                    r.continue_()
                    if r.request.url.startswith(base)
                    else r.abort()
                ),
            )

            def record(response):
                if response.url.startswith(base) and response.ok:
                    body = response.body()
                    files[response.url[len(base) :]] = (
                        len(body),
                        len(gzip.compress(body, 9)),
                    )

            page_.on("response", record)
            page_.goto(base + page, wait_until="networkidle")
            page_.wait_for_function(
                """() => [...document.querySelectorAll('.math')]
                    .every(m => m.querySelector('mjx-container'))""",
                timeout=120_000,
            )
            # MathJax fetches its font files after typesetting: wait for
            # them, then until no response has arrived for a second
            page_.evaluate(
                """async () => { await MathJax.startup.promise;
                                 await document.fonts.ready; }"""
            )
            seen = -1
            while seen != len(files):
                seen = len(files)
                page_.wait_for_timeout(1000)
            browser.close()
    except PlaywrightError as err:
        if attempts > 1:  # a loaded machine can time the browser out
            return measure_page_weight(outdir, page, attempts - 1)
        return {"error": f"the browser failed: {str(err).splitlines()[0]}"}
    finally:
        httpd.shutdown()
        httpd.server_close()
    kinds: dict[str, list[int]] = {}
    for name, (raw, packed) in files.items():
        path = name.split("?")[0]
        kind = (
            "page (HTML)"
            if path == page
            else "MathJax and its fonts"
            if "/mathjax/" in path
            else "fonts"
            if path.endswith((".woff2", ".woff", ".ttf"))
            else "figures"
            if path.startswith("_images/")
            else "scripts"
            if path.endswith(".js")
            else "style sheets"
            if path.endswith(".css")
            else "other"
        )
        kinds.setdefault(kind, [0, 0, 0])
        kinds[kind][0] += 1
        kinds[kind][1] += raw
        kinds[kind][2] += packed
    return {"page": page, "kinds": kinds}


def _page_weight(app: Sphinx, exception) -> None:
    """Measure a chapter page's weight and write it into the build report.

    The browser's measurement is kept with the doctrees and reused while
    what it depends on stays the same: the static files, the figures the
    page shows (their names are content hashes) and the page's compressed
    size to within 10 kB. Editing a sentence of the chapter does not start
    a browser; the page's own row is then brought up to date exactly.
    """
    import gzip
    import json

    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    report = outdir / f"{REPORT_DOC}.html"
    chapters = _chapters(app.env)
    if not chapters or not report.is_file():
        return
    text = report.read_text(encoding="utf-8")
    if PAGE_WEIGHT_MARK not in text:
        return
    page = f"{chapters[0]}.html"
    if not (outdir / page).is_file():
        return
    body = (outdir / page).read_bytes()
    packed = len(gzip.compress(body, 9))
    digest = hashlib.sha256(f"{packed // 10_000}".encode())
    for image in sorted(set(re.findall(rb'<img[^>]* src="([^"]+)"', body))):
        digest.update(image)
    for path in sorted((outdir / "_static").rglob("*")):
        digest.update(
            f"{path.relative_to(outdir)}:{path.stat().st_size}".encode()
        )
    cache = Path(app.doctreedir) / "m4ml-page-weight.json"
    try:
        saved = json.loads(cache.read_text())
    except (OSError, ValueError):
        saved = {}
    if saved.get("key") == digest.hexdigest() and saved.get("page") == page:
        result = saved["result"]
        result["kinds"]["page (HTML)"] = [1, len(body), packed]
    else:
        logger.info("m4ml: measuring the page weight of %s in Chromium", page)
        result = measure_page_weight(outdir, page)
        if "error" not in result:
            cache.write_text(
                json.dumps(
                    {"key": digest.hexdigest(), "page": page, "result": result}
                )
            )
    report.write_text(
        text.replace(
            PAGE_WEIGHT_MARK, _page_weight_html(app.env, chapters[0], result)
        ),
        encoding="utf-8",
    )


def _page_weight_html(env: BuildEnvironment, doc: str, result: dict) -> str:
    import html

    name = html.escape(_chapter_name(env, doc))
    if "error" in result:
        return (
            f'<p class="m4ml-page-weight">Not measured in this build: '
            f"{html.escape(result['error'])}.</p>"
        )
    kinds = result["kinds"]
    total = [sum(v[i] for v in kinds.values()) for i in range(3)]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{n}</td><td>{raw / 1000:,.0f}</td>"
        f"<td>{packed / 1000:,.0f}</td></tr>"
        for k, (n, raw, packed) in sorted(
            kinds.items(), key=lambda kv: -kv[1][2]
        )
    )
    return (
        '<p class="m4ml-page-weight">Everything a reader\'s browser '
        f'downloads to show the chapter page <a href="../{doc}.html">'
        f"<em>{name}</em></a>, measured in "
        f"headless Chromium when this site was built: {total[0]} files, "
        f"<strong>{total[2] / 1000:,.0f} kB gzipped</strong> "
        f"({total[1] / 1000:,.0f} kB uncompressed). Later pages reuse the "
        f"cached style sheets, scripts and fonts.</p>"
        '<div class="pst-scrollable-table-container"><table class="table '
        'm4ml-report m4ml-page-weight-table"><thead><tr><th>Kind</th>'
        "<th>Files</th><th>kB</th><th>kB gzipped</th></tr></thead>"
        f"<tbody>{rows}<tr><td>total</td><td>{total[0]}</td>"
        f"<td>{total[1] / 1000:,.0f}</td><td>{total[2] / 1000:,.0f}</td></tr>"
        "</tbody></table></div>"
    )


def _forget_failed_builds(app: Sphinx, exception) -> None:
    """After a build with warnings, make the next build re-read everything.

    Sphinx keeps a document it has read, warnings and all, and does not read
    it again until it changes, so a second build after a failed one (say, a
    chapter whose cell raised) would pass without running anything. Sphinx
    deletes its saved environment after an exception; we do the same after
    warnings, which ``-W`` turns into failures.
    """
    if getattr(app, "_warncount", 0) and exception is None:
        envfile = Path(app.doctreedir) / "environment.pickle"
        envfile.unlink(missing_ok=True)


def _report(app: Sphinx, exception) -> None:
    if exception is None:
        total = count_checks(app.env)
        chapters = sum(
            1 for v in getattr(app.env, "m4ml_checks", {}).values() if v
        )
        logger.info(f"m4ml: {total} checks passed in {chapters} chapters")


# --------------------------------------------------------------------------
# One chapter at a time (make chapter CH=<slug>)
# --------------------------------------------------------------------------


class _OnlyChapterFilter(logging_module.Filter):
    """Drop warnings located outside the chapter being built.

    ``make chapter`` executes one chapter and reads the others without
    running them, so their glued numbers are missing; those warnings are not
    the contributor's concern while editing this chapter. Warnings without a
    location are kept.
    """

    def __init__(self, app: Sphinx, docname: str):
        super().__init__()
        self.app, self.docname = app, docname
        self.path = str(app.env.doc2path(docname))

    def filter(self, record) -> bool:
        location = getattr(record, "location", None)
        if location is None:
            return True
        if isinstance(location, tuple):
            return location[0] in (None, self.docname)
        if isinstance(location, nodes.Node):
            source = location.source or ""
            return not source or source.split(":")[0] == self.path
        text = str(location)
        return text.startswith(self.path) or text == self.docname


def _only_chapter(app: Sphinx) -> None:
    docname = app.config.m4ml_only_chapter
    if not docname:
        return
    if docname not in app.env.found_docs:
        raise ExtensionError(f"make chapter: no chapter {docname!r}")
    for handler in logging_module.getLogger("sphinx").handlers:
        if type(handler).__name__ == "WarningStreamHandler":
            handler.filters.insert(0, _OnlyChapterFilter(app, docname))


def _parallel_safe_proofs() -> None:
    """Let ``sphinx-build -j`` work with sphinx-proof 0.4.0.

    Its ProofDomain lacks ``merge_domaindata``, so a parallel build crashes;
    its data lives in ``env.proof_list``, which sphinx-proof merges itself
    on ``env-merge-info``, so a no-op merge is the correct one.
    """
    from sphinx.domains import Domain
    from sphinx_proof.domain import ProofDomain

    if ProofDomain.merge_domaindata is Domain.merge_domaindata:
        ProofDomain.merge_domaindata = lambda self, docnames, otherdata: None


def _latex_exercise_labels(app: Sphinx) -> None:
    """Make "Solution to Exercise N" links resolve in the PDF.

    sphinx-exercise 1.2.1 labels an exercise ``exercise:<label>`` in LaTeX
    while Sphinx points the solution's title at ``<docname>:<label>``; we
    add the second label, so that the PDF has no undefined references.
    """
    handlers = app.registry.translation_handlers.get("latex", {})
    for name in ("exercise_node", "exercise_enumerable_node"):
        if name not in handlers:
            continue
        visit, depart = handlers[name]

        def labelled_visit(self, node, _visit=visit):
            label = node.attributes.get("label")
            registry = getattr(
                self.builder.env, "sphinx_exercise_registry", {}
            )
            docname = registry.get(label, {}).get("docname")
            if label and docname:
                self.body.append(
                    rf"\phantomsection\label{{\detokenize{{{docname}:{label}}}}}"
                )
            _visit(self, node)

        handlers[name] = (labelled_visit, depart)


# --------------------------------------------------------------------------
# Downloads: each chapter as a Jupyter notebook, and an erratum link
# --------------------------------------------------------------------------


def _chapter_notebook(app, pagename, templatename, context, doctree) -> None:
    """Write the page's source as ``_sources/<page>.ipynb`` (jupytext).

    Only pages with code cells (the chapters) get a notebook. It has no
    outputs: it is the chapter to run and change, with ``m4ml`` installed
    (tests/test_notebooks.py executes every one). Setting ``ipynb_source``
    makes sphinx-book-theme offer it in the page's download menu.
    """
    if app.builder.format != "html" or doctree is None:
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md" or "{code-cell}" not in source.read_text(
        encoding="utf-8"
    ):
        return
    import jupytext

    notebook = jupytext.read(source, fmt="md:myst")
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"  # not random: builds are reproducible
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def _erratum_button(app, pagename, templatename, context, doctree) -> None:
    """Turn the theme's "Open issue" button into "Report an erratum".

    It opens the repository's erratum issue form with the page's title
    filled in as the chapter.
    """
    repo = app.config.html_theme_options.get("repository_url", "")
    title = re.sub(r"<[^>]+>", "", context.get("title", pagename))
    query = urllib.parse.urlencode(
        {
            "template": "erratum.yml",
            "title": f"Erratum: {title}",
            "chapter": title,
        },
        quote_via=urllib.parse.quote,
    )
    for group in context.get("header_buttons", []):
        for button in [group, *group.get("buttons", [])]:
            # the GitHub logo is the only glyph of Font Awesome's brands
            # font on the page: 110 kB gzipped for one icon
            if button.get("icon") == "fab fa-github":
                button["icon"] = "fas fa-code-branch"
            if button.get("label") == "source-issues-button":
                button["url"] = f"{repo}/issues/new?{query}"
                button["text"] = "Report an erratum"
                button["tooltip"] = "Report a mistake on this page"


def _pdf_buttons(app, pagename, templatename, context, doctree) -> None:
    """Offer the book's PDF on every page, and each chapter's own PDF.

    They replace the theme's ".pdf" entry, which only opens the browser's
    print dialog. ``make site`` puts the PDFs in ``pdf/`` beside the pages.
    """
    if app.builder.format != "html":
        return
    pathto = context["pathto"]
    buttons = [
        {
            "type": "link",
            "url": pathto("pdf/m4ml.pdf", 1),
            "text": "book .pdf",
            "tooltip": "The whole book as a PDF",
            "icon": "fas fa-book",
            "label": "download-book-pdf-button",
        }
    ]
    chapters = {
        doc: Path(target).with_suffix(".pdf").name
        for doc, target, *_ in app.config.latex_documents
        if doc not in {"pdf", "index"}
    }
    if pagename in chapters:
        buttons.insert(
            0,
            {
                "type": "link",
                "url": pathto(f"pdf/{chapters[pagename]}", 1),
                "text": "chapter .pdf",
                "tooltip": "This chapter as a PDF",
                "icon": "fas fa-file-pdf",
                "label": "download-chapter-pdf-button",
            },
        )
    groups = context.setdefault("header_buttons", [])
    group = next(
        (g for g in groups if g.get("label") == "download-buttons"), None
    )
    if group is None:  # pages without a source (the index, the search page)
        group = {
            "type": "group",
            "tooltip": "Download",
            "icon": "fas fa-download",
            "buttons": [],
            "label": "download-buttons",
        }
        groups.insert(0, group)
    group["buttons"] = [
        b for b in group["buttons"] if b.get("label") != "download-pdf-button"
    ] + buttons


# Upstream markup that the Nu Html Checker rejects, mended in each page body:
# sphinx-proof and sphinx-exercise give every proof, definition, exercise
# and solution the same fixed id (id="proof", id="proof-content", ...), and
# myst-nb puts <p> elements (flow content) inside the <summary> of a hidden
# cell, where only phrasing content is allowed. The ids become classes and
# the paragraphs spans; m4ml.css restyles them as the upstream CSS did.
# The bibliography's entries become list items (see below).
_FIXED_IDS = re.compile(
    r'(<(?:div|section) class=")([^"]*)(") id="'
    r'(proof|proof-content|exercise-content|solution-content)"'
)
_SUMMARY_P = re.compile(
    r'(<summary[^>]*>\s*)<p class="(collapsed|expanded) admonition-title">'
    r"(.*?)</p>\s*<p class=\"(collapsed|expanded) admonition-title\">"
    r"(.*?)</p>",
    re.S,
)


def _valid_html(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if not body:
        return
    body = _FIXED_IDS.sub(r"\1\2 \4\3", body)
    body = re.sub(
        r'<section id="(exercise-content|solution-content)">',
        r'<section class="\1">',
        body,
    )
    body = _SUMMARY_P.sub(
        r'\1<span class="\2 admonition-title">\3</span>'
        r'<span class="\4 admonition-title">\5</span>',
        body,
    )
    # myst-nb labels each hidden cell's toggle "Toggle hidden content", a
    # name that does not contain its visible text ("Show code cell source"):
    # axe-core's label-content-name-mismatch. The visible text names it.
    body = body.replace(
        '<summary aria-label="Toggle hidden content">', "<summary>"
    )
    # docutils marks bibliography entries role="doc-biblioentry", a role
    # deprecated in DPUB-ARIA 1.1 that is not a list item, inside a
    # role="list": axe-core reports the list as critical
    # (aria-required-children). They are list items.
    body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    context["body"] = body


# --------------------------------------------------------------------------
# Each chapter as its own PDF, by the book's LaTeX pipeline
# --------------------------------------------------------------------------

# Links from a chapter's PDF to pages it does not contain go to the web book.
_WEB = "m4ml-web:"


def chapter_latex_documents(book: Path, author: str) -> list[tuple]:
    """``latex_documents`` entries for every numbered chapter of the PDF.

    The chapters and their order come from the numbered toctrees of
    ``book/pdf.md``; each PDF is named after the chapter's slug and titled
    with its number (the book's numbering) and title.
    """
    documents = []
    text = (book / "pdf.md").read_text(encoding="utf-8")
    for block in re.findall(r"```\{toctree\}\n(.*?)```", text, re.S):
        if ":numbered:" not in block:
            continue
        for line in block.splitlines():
            doc = line.strip()
            if not doc or doc.startswith(":"):
                continue
            source = (book / f"{doc}.md").read_text(encoding="utf-8")
            title = re.search(r"^# (.+)$", source, re.M).group(1).strip()
            number = len(documents) + 1
            documents.append(
                (
                    doc,
                    f"{doc.rsplit('/', 1)[-1]}.tex",
                    f"{number}. {title}",
                    author,
                    "manual",
                    False,
                )
            )
    return documents


def _is_chapter_pdf(app: Sphinx, docname: str) -> bool:
    return app.builder.name == "latex" and docname != app.config.root_doc


def _link_other_pages_to_the_web(app: Sphinx) -> None:
    """In the LaTeX build, a page outside the PDF being written is a web page.

    Sphinx drops the link (keeping only its text) when a reference points
    into a document that the PDF does not include, as in a chapter's own
    PDF citing another chapter. Such links go to the page on the web
    instead (``html_baseurl``); ``_chapter_pdf`` writes their addresses.
    """
    if app.builder.name != "latex":
        return
    builder = app.builder
    original = builder.get_target_uri

    def get_target_uri(docname: str, typ: str | None = None) -> str:
        if docname not in builder.docnames and docname in builder.env.all_docs:
            return _WEB + docname
        return original(docname, typ)

    builder.get_target_uri = get_target_uri


class ChapterBibliography(SphinxPostTransform):
    """Give a chapter's own PDF the bibliography of the works it cites.

    (And give each PDF of the build fresh bibliography entries.)

    The book's bibliography lives in the PDF's root document. A copy of
    it goes at the end of the chapter before sphinxcontrib-bibtex fills
    it in (priority 5), so that the citations of the chapter link to
    entries in the same PDF; ``_chapter_pdf`` keeps only those it cites.
    """

    default_priority = 1
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        # sphinxcontrib-bibtex fills in the citation nodes it keeps in its
        # domain data, in place: writing several PDFs in one build would
        # repeat every entry once per PDF. Each PDF gets fresh copies.
        domain = self.env.get_domain("cite")
        if not hasattr(self.app, "m4ml_pristine_citations"):
            self.app.m4ml_pristine_citations = {}
        pristine = self.app.m4ml_pristine_citations
        for key, bib in domain.bibliographies.items():
            saved = pristine.setdefault(
                key, {k: n.deepcopy() for k, n in bib.citation_nodes.items()}
            )
            bib.citation_nodes.update(
                {k: n.deepcopy() for k, n in saved.items()}
            )
        if not _is_chapter_pdf(self.app, self.env.docname):
            return
        from sphinxcontrib.bibtex.nodes import bibliography

        root = self.env.get_doctree(self.config.root_doc)
        for node in root.findall(bibliography):
            self.document += node.deepcopy()


def _chapter_pdf(app: Sphinx, doctree, docname: str) -> None:
    """Finish a chapter's own PDF: numbering, web links, its bibliography.

    The chapter keeps its number in the book (equations and figures are
    numbered by chapter), its title becomes a chapter under a document
    title (a root document's own title is the document title in LaTeX),
    links to other pages go to the web book, and the bibliography keeps
    the works this chapter cites.
    """
    if app.builder.name != "latex":
        return
    base = app.config.html_baseurl.rstrip("/") + "/"
    for ref in list(doctree.findall(nodes.reference)):
        uri = ref.get("refuri", "")
        if uri.startswith(_WEB):
            page, _, anchor = uri[len(_WEB) :].partition("#")
            uri = f"{base}{page}.html" + (f"#{anchor}" if anchor else "")
            if isinstance(ref, addnodes.number_reference):
                # LaTeX would number it with \ref; keep the book's number
                ref.replace_self(nodes.reference("", ref.astext(), refuri=uri))
            else:
                ref["refuri"] = uri
    if not _is_chapter_pdf(app, docname):
        return
    from sphinx.builders.latex.nodes import math_reference, thebibliography

    # an equation of another chapter: its number, linked to the web book
    for ref in list(doctree.findall(math_reference)):
        page = ref["docname"]
        if page in app.builder.docnames:
            continue
        anchor = f"equation-{ref['target']}"
        numbers = app.env.toc_fignumbers.get(page, {}).get("displaymath", {})
        number = ".".join(map(str, numbers.get(anchor, ())))
        if not number:
            logger.warning(
                "no number for equation %r of %s",
                ref["target"],
                page,
                location=ref,
            )
        text = app.config.math_eqref_format.format(number=number)
        ref.replace_self(
            nodes.reference("", text, refuri=f"{base}{page}.html#{anchor}")
        )

    domain = app.env.get_domain("cite")
    cited = {
        target.key
        for ref in domain.citation_refs
        if ref.docname == docname
        for target in ref.targets
    }
    keys = {c.citation_id: c.key for c in domain.citations}
    for bib in list(doctree.findall(thebibliography)):
        for citation in list(bib.findall(nodes.citation)):
            if keys.get(citation["ids"][0]) not in cited:
                citation.parent.remove(citation)
        if not list(bib.findall(nodes.citation)):
            bib.parent.remove(bib)
    # sphinx-proof labels a theorem with the docname of the nearest section
    # that carries one; in a book, each chapter's section does
    next(iter(doctree.findall(nodes.section)))["docname"] = docname
    number = app.env.toc_secnumbers.get(docname, {}).get("", (1,))[0]
    outer = nodes.section(ids=["m4ml-book"])
    outer += nodes.title("", app.config.project)
    outer += nodes.raw(
        "", f"\\setcounter{{chapter}}{{{number - 1}}}\n", format="latex"
    )
    for child in list(doctree.children):
        doctree.remove(child)
        outer += child
    doctree += outer


# --------------------------------------------------------------------------
# The PDF gathers the exercise solutions in an appendix
# --------------------------------------------------------------------------


def _solutions_to_appendix(app: Sphinx, doctree, docname: str) -> None:
    """Move every solution of the assembled PDF into a closing appendix.

    A printed book used in a class keeps its solutions at the back. The
    LaTeX builder resolves the whole book as one tree (``docname`` is its
    root); the solutions leave their chapters for a new appendix chapter,
    grouped by chapter, placed before the back matter. The HTML keeps each
    solution in a dropdown beside its exercise.
    """
    if app.builder.name != "latex":
        return
    from sphinx_exercise.nodes import solution_node

    solutions = list(doctree.findall(solution_node))
    backmatter = next(
        (
            n
            for n in doctree.findall(nodes.raw)
            if "\\backmatter" in n.astext()
        ),
        None,
    )
    chapter_pdf = _is_chapter_pdf(app, docname)
    if not solutions or (backmatter is None and not chapter_pdf):
        return
    registry = getattr(app.env, "sphinx_exercise_registry", {})
    section = nodes.section(ids=["m4ml-solutions"], names=["m4ml-solutions"])
    section += nodes.title("", "Solutions to the exercises")
    section += _para(
        "The solutions of "
        + ("this chapter's" if chapter_pdf else "every chapter's")
        + " exercises, in the order of the exercises; each title links back "
        "to its exercise."
    )
    # each chapter's solutions in a start_of_file node of that chapter, so
    # that the LaTeX writer resolves their local references in its scope
    group = None
    for solution in solutions:
        doc = registry.get(solution.get("label"), {}).get("docname", docname)
        if group is None or group["docname"] != doc:
            group = addnodes.start_of_file(docname=doc)
            if not chapter_pdf:
                group += nodes.rubric("", _chapter_name(app.env, doc))
            section += group
        solution.parent.remove(solution)
        group += solution
    if chapter_pdf:  # a chapter's own PDF: a last section of the chapter
        next(iter(doctree.findall(nodes.section))).append(section)
    else:
        backmatter.parent.insert(backmatter.parent.index(backmatter), section)


def setup(app: Sphinx) -> dict:
    _parallel_safe_proofs()
    _number_chapters_continuously(app)
    _latex_exercise_labels(app)
    app.add_config_value(
        "m4ml_only_chapter", "", "env", types=frozenset({str})
    )
    app.connect("builder-inited", _only_chapter)
    app.connect("config-inited", _configure_math)
    app.connect("builder-inited", _check_mathjax)
    app.connect("source-read", _add_cache_key)
    app.connect("doctree-read", _warn_on_tracebacks)
    app.connect("doctree-resolved", _resolve_counts)
    app.connect("doctree-resolved", _solutions_to_appendix)
    app.connect("doctree-resolved", _chapter_pdf)
    app.connect("builder-inited", _link_other_pages_to_the_web)
    app.connect("html-page-context", _valid_html)
    app.connect("html-page-context", _chapter_notebook, priority=400)
    app.connect("html-page-context", _erratum_button, priority=600)
    app.connect("html-page-context", _pdf_buttons, priority=600)
    app.connect("build-finished", _install_mathjax)
    app.connect("build-finished", _page_weight)
    app.connect("build-finished", _report)
    app.connect("build-finished", _forget_failed_builds)
    app.add_node(check_count)
    app.add_node(check_ledger)
    app.add_node(build_report)
    app.add_role("check-count", CheckCountRole())
    app.add_directive("check-ledger", CheckLedgerDirective)
    app.add_directive("build-report", BuildReportDirective)
    app.add_post_transform(BookPostTransform)
    app.add_post_transform(ChapterBibliography)
    app.add_transform(TermTransform)
    app.add_env_collector(TermCollector)
    app.add_node(term_glossary)
    app.add_directive("term-glossary", TermGlossaryDirective)
    app.add_env_collector(CheckCollector)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
