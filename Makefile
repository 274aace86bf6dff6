# Mathematics for Machine Learning: build and test.
#   make html    build the site into _build/html (creates .venv on first use)
#   make test    run the whole test suite (unit, structure, build, PDF)
#   make pdf     build the book as one PDF: _build/latex/m4ml.pdf
#   make pdfs    the book's PDF and one PDF per chapter (_build/latex/<slug>.pdf)
#   make chapter CH=<slug>   build one chapter quickly (_build/chapter/<slug>)
#   make lint    the pre-commit house rules (ruff, codespell, pattern checks)
#   make bench   time cold, warm and incremental builds, the PDF and the tests
#   make site    the site with the PDFs and the notebooks, as deployed
#   make serve   serve _build/html on http://127.0.0.1:8000
#   make clean   remove _build (the execution cache too)

SHELL := /bin/bash
.DEFAULT_GOAL := html

# The first Python between 3.11 and 3.13 on the PATH, unless PYTHON is set.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; \
  sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
  && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := node_modules/.package-lock.json
SPHINXOPTS ?=
# -j auto: chapters are read, and so executed, in parallel on every core.
SPHINXBUILD = $(BIN)/sphinx-build -c . -W --keep-going -n -j auto $(SPHINXOPTS)

.PHONY: html pdf pdfs latex test serve clean venv assets chapter lint bench site linkcheck

venv: $(STAMP)
$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Python 3.11, 3.12 or 3.13 is needed; install one or set PYTHON=/path/to/python" >&2; \
	  exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON) and installing the pinned toolchain..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

assets: $(ASSETS)
$(ASSETS): package.json package-lock.json
	@.ci/require npm
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

html: venv assets
	$(SPHINXBUILD) -b html book _build/html
	@echo "The book is in _build/html: open _build/html/index.html (or run make serve)."

# One chapter, executed, in seconds; the other chapters are read unexecuted.
chapter: venv assets
	@test -n "$(CH)" || { echo "usage: make chapter CH=<slug>, e.g. CH=linear_algebra" >&2; exit 1; }
	M4ML_CHAPTER=$(CH) $(SPHINXBUILD) -b html book _build/chapter/$(CH)
	@echo "Open _build/chapter/$(CH)/$$(cd book && ls */$(CH).md | sed 's/\.md$$/.html/')"

# LaTeX sources for the book and for each chapter; latexmk on the given PDFs.
LATEXMK = $(MAKE) -C _build/latex -j2 LATEXMKOPTS="-silent -interaction=nonstopmode -halt-on-error"
define latex_to_pdf
	@$(LATEXMK) $(1) >_build/latex/build.log 2>&1 \
	  || { tail -n 40 _build/latex/build.log; grep -n -A3 '^!' _build/latex/*.log | head -n 40; \
	       echo "error: LaTeX failed; the logs are _build/latex/*.log" >&2; exit 1; }
endef

latex: venv
	@.ci/require latexmk xelatex xindy
	$(SPHINXBUILD) -t pdf -b latex book _build/latex

pdf: latex
	$(call latex_to_pdf,m4ml.pdf)
	@echo "The PDF is _build/latex/m4ml.pdf."

# The book and every chapter as its own PDF (_build/latex/<slug>.pdf).
pdfs: latex
	$(call latex_to_pdf,$$(cd _build/latex && ls *.tex | sed 's/\.tex$$/.pdf/'))
	@echo "The PDFs are in _build/latex: m4ml.pdf and one per chapter, <slug>.pdf."

test: venv assets lint
	@.ci/require latexmk xelatex xindy pdftotext pdftoppm chromium java
	$(BIN)/python -m pytest

lint: venv assets
	@$(BIN)/pre-commit run --all-files --show-diff-on-failure

bench: venv assets
	$(BIN)/python benchmarks/bench_build.py $(BENCHOPTS)

# What the deploy workflow publishes: the site, with the PDFs inside it
# (every page links the book's PDF, each chapter its own, from pdf/).
site: html pdfs
	@mkdir -p _build/html/pdf
	@cp _build/latex/*.pdf _build/html/pdf/
	@echo "The site, PDFs included, is in _build/html."

linkcheck: venv
	$(BIN)/sphinx-build -c . -b linkcheck book _build/linkcheck

serve:
	@test -f _build/html/index.html || { echo "error: build first with make html" >&2; exit 1; }
	$(or $(wildcard $(BIN)/python),$(PYTHON)) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean:
	rm -rf _build
