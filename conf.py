"""Sphinx configuration for *Mathematics for Machine Learning*.

Build with ``make html`` (or ``sphinx-build -c . book _build/html``);
``make pdf`` builds the PDF. Sources live in ``book/``; the book's own
Sphinx extension is ``book/_ext/m4ml_book.py``.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

# The environment every chapter's kernel runs in (book/_ext/m4ml_kernel.py;
# the execution cache key hashes that file, not this one).
import m4ml_book  # noqa: E402
import m4ml_kernel  # noqa: E402

m4ml_kernel.configure(ROOT)

project = "Mathematics for Machine Learning"
author = "The m4ml authors"
copyright = "2026, the m4ml authors. Text and figures CC BY 4.0; code MIT"
version = release = "0.1"
# The date on the title page: that of the last commit, so that two builds of
# one commit agree (SOURCE_DATE_EPOCH is fixed below for the figures).
try:
    today = subprocess.run(
        ["git", "log", "-1", "--format=%cd", "--date=format:%d %B %Y"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
except (OSError, subprocess.CalledProcessError):
    today = ""
repository_url = "https://github.com/m4ml-book/m4ml"
# Where the site is published (the deploy workflow): canonical page links,
# and the target of links from a chapter's own PDF to the rest of the book.
html_baseurl = "https://m4ml-book.github.io/m4ml/"

extensions = [
    "myst_nb",
    "sphinx.ext.mathjax",
    "sphinx_proof",
    "sphinx_exercise",
    "sphinxcontrib.bibtex",
    "sphinx_design",
    "sphinx_copybutton",
    "sphinx_togglebutton",
    "m4ml_book",
]

# The PDF has its own root document (book/pdf.md), chosen by `-t pdf`.
root_doc = "pdf" if tags.has("pdf") else "index"  # noqa: F821 (Sphinx)
exclude_patterns = ["_templates", "_ext", "**/.ipynb_checkpoints", "_static"]
exclude_patterns += ["**/*.ipynb"]  # notebooks paired with chapters are local
# The bibliography page is HTML-only: the PDF root prints the bibliography.
exclude_patterns += (
    ["index.md", "appendices/bibliography.md"]
    if tags.has(  # noqa: F821
        "pdf"
    )
    else ["pdf.md"]
)
templates_path = ["book/_templates/html"]  # overrides of theme templates
nitpicky = True
numfig = True
math_numfig = True
numfig_secnum_depth = 1
math_eqref_format = "({number})"
numfig_format = {
    "figure": "Figure %s",
    "table": "Table %s",
    "code-block": "Listing %s",
    "section": "Section %s",
}
suppress_warnings = []

# --- MyST and notebooks -----------------------------------------------------
myst_enable_extensions = [
    "amsmath",
    "colon_fence",
    "deflist",
    "dollarmath",
    "substitution",
]
myst_dmath_double_inline = True
myst_heading_anchors = 0

nb_execution_mode = "cache"
nb_execution_cache_path = str(ROOT / "_build" / ".jupyter_cache")
nb_execution_timeout = 120  # seconds per cell; chapters aim for well under 20
nb_execution_raise_on_error = False  # with -W every failing chapter is listed
nb_execution_show_tb = True  # ...with its traceback in the build log
nb_execution_allow_errors = False
nb_merge_streams = True
nb_output_stderr = "warn"  # a stray warning printed by a cell fails the build
nb_render_markdown_format = "myst"  # check records carry math and references
nb_execution_excludepatterns = []

# `make chapter CH=<slug>` executes one chapter and reads the rest without
# running them; m4ml_book then reports only that chapter's warnings.
m4ml_only_chapter = ""
if os.environ.get("M4ML_CHAPTER"):
    _slug = os.environ["M4ML_CHAPTER"]
    _matches = sorted((ROOT / "book").glob(f"*/{_slug}.md"))
    if len(_matches) != 1:
        raise ValueError(f"make chapter: no single book/<part>/{_slug}.md")
    m4ml_only_chapter = _matches[0].relative_to(ROOT / "book").with_suffix("")
    m4ml_only_chapter = m4ml_only_chapter.as_posix()
    nb_execution_excludepatterns = [
        p.relative_to(ROOT / "book").as_posix()
        for p in (ROOT / "book").glob("*/*.md")
        if p != _matches[0]
    ]

# --- Bibliography -----------------------------------------------------------
bibtex_bibfiles = ["book/references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# --- Proofs and exercises ---------------------------------------------------
prf_realtyp_to_countertyp = {
    "axiom": "theorem",
    "theorem": "theorem",
    "lemma": "theorem",
    "algorithm": "algorithm",
    "definition": "theorem",
    "remark": "theorem",
    "conjecture": "theorem",
    "corollary": "theorem",
    "criterion": "theorem",
    "example": "theorem",
    "property": "theorem",
    "observation": "theorem",
    "proposition": "theorem",
    "assumption": "theorem",
    "notation": "theorem",
}

# --- Math -------------------------------------------------------------------
# m4ml_book fills in the macros (from book/macros.tex), the local MathJax
# path and its font path; nothing is loaded from a CDN.
# Screen readers read the hidden MathML that MathJax renders with every
# formula (assistive MathML). The speech and Braille generation of MathJax 4
# stay off by default: they run a worker over every formula of the page,
# which takes minutes on a long chapter and a phone; a reader can switch
# them on in MathJax's menu (right-click a formula), the files are served.
mathjax4_config = {
    "tex": {"tags": "none"},
    "options": {
        "menuOptions": {
            "settings": {
                "assistiveMml": True,
                "enrich": False,
                "speech": False,
                "braille": False,
            }
        }
    },
}

# --- HTML -------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["book/_static"]
html_css_files = ["m4ml.css"]
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = False
# Follow the reader's system colours (an empty mode logs a console error).
html_context = {"default_mode": "auto"}
html_theme_options = {
    "repository_url": repository_url,
    "repository_branch": "main",
    "path_to_docs": "book",
    "use_repository_button": True,
    "use_edit_page_button": True,
    "use_issues_button": True,
    "use_download_button": True,
    "use_source_button": True,
    "navbar_persistent": [],
    "show_toc_level": 2,
    "home_page_in_toc": True,
}

# --- LaTeX (make pdf) ---------------------------------------------------------
latex_engine = "xelatex"
latex_documents = [
    ("pdf", "m4ml.tex", project, author, "manual", False),
]
# ... and every chapter as its own PDF (make pdfs), by the same pipeline
latex_documents += m4ml_book.chapter_latex_documents(
    ROOT / "book", rf"From \emph{{{project}}}\\ {author}"
)
latex_domain_indices = False
latex_docclass = {
    "manual": "book"
}  # for \\frontmatter, \\mainmatter, \\backmatter
latex_toplevel_sectioning = "chapter"
latex_show_urls = "footnote"
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "10pt",
    "figure_align": "htbp",
    "fontpkg": r"""
\usepackage{fontspec}
\setmainfont{FreeSerif}
\setsansfont{FreeSans}
\setmonofont{FreeMono}[Scale=0.9]
""",
    "preamble": r"""
\usepackage{amsmath,amssymb,bm}
% index entries in the text face (Sphinx sets them in typewriter)
\makeatletter\def\sphinxstyleindexentry#1{#1}\makeatother
""",
    "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true",
}
