"""The book as a reader meets it: every page in a real browser.

Headless Chromium (the distribution's package, driven by Playwright) loads
every built page from a server on 127.0.0.1 with every other request
blocked, and checks what a reader would notice: requests leaving the site,
console errors, untypeset or broken math, missing figures, accessibility
violations, the search, dark mode and a phone-sized screen.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading

import pytest

from booktools import ROOT, find_chromium

pytestmark = pytest.mark.build

BOOK = ROOT / "book"
EXCLUDED = {"pdf"}


def _docnames() -> list[str]:
    names = []
    for path in sorted(BOOK.rglob("*.md")):
        rel = path.relative_to(BOOK).with_suffix("").as_posix()
        if rel.startswith("_") or rel in EXCLUDED:
            continue
        names.append(rel)
    return names


PAGES = _docnames()
CHAPTERS = [
    p for p in PAGES if "{code-cell}" in (BOOK / f"{p}.md").read_text()
]


def _chromium() -> str:
    binary = find_chromium()  # the one the build measures page weight with
    if binary is None:
        pytest.fail(
            "no Chromium found: install the 'chromium' package (.ci/require "
            "chromium) or set M4ML_CHROMIUM to a Chrome or Chromium binary"
        )
    return binary


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(html_build):
    proc, outdir = html_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    handler = functools.partial(_QuietHandler, directory=str(outdir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Visit:
    """One page load, with everything the browser reported on the way."""

    def __init__(self, browser, base: str, path: str, **context):
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []

        def route(r):
            if r.request.url.startswith(base):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text) if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(base + path, wait_until="load")
        # Wait until every formula is rendered (with its assistive MathML).
        self.page.wait_for_function(
            """() => !window.MathJax || [...document.querySelectorAll('.math')]
                .every(m => m.querySelector('mjx-container'))""",
            timeout=120_000,
        )

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def open_page(docname: str, **context) -> Visit:
        v = Visit(browser, server, f"{docname}.html", **context)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


@pytest.mark.parametrize("docname", PAGES)
def test_page_loads_offline_cleanly(visit, docname):
    v = visit(docname)
    assert not v.outside, f"requests outside the site: {v.outside}"
    assert not v.errors, f"console errors: {v.errors}"
    report = v.page.evaluate(
        """() => {
            const math = [...document.querySelectorAll('.math')];
            return {
                untypeset: math.filter(m => !m.querySelector('mjx-container'))
                               .map(m => m.textContent.slice(0, 80)),
                errors: [...document.querySelectorAll('mjx-merror')]
                            .map(e => e.getAttribute('data-mjx-error')
                                      || e.textContent),
                unlabelled: [...document.querySelectorAll('mjx-container')]
                    .filter(c => !c.querySelector('mjx-assistive-mml math'))
                    .length,
                broken: [...document.images]
                    .filter(i => !i.complete || i.naturalWidth === 0)
                    .map(i => i.src),
                noalt: [...document.querySelectorAll(
                    'figure img, .cell_output img')]
                    .filter(i => !(i.getAttribute('alt') || '').trim())
                    .map(i => i.src),
            };
        }"""
    )
    assert not report["untypeset"], f"raw TeX left: {report['untypeset']}"
    assert not report["errors"], f"MathJax errors: {report['errors']}"
    assert report["unlabelled"] == 0, "math a screen reader cannot read"
    assert not report["broken"], (
        f"images that did not load: {report['broken']}"
    )
    assert not report["noalt"], f"figures without alt text: {report['noalt']}"


@pytest.mark.parametrize("docname", PAGES)
def test_no_serious_accessibility_violations(visit, docname):
    v = visit(docname)
    v.page.add_script_tag(path=str(ROOT / "node_modules/axe-core/axe.min.js"))
    violations = v.page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
                .filter(x => ['serious', 'critical'].includes(x.impact))
                .map(x => `${x.id} (${x.impact}): ${x.nodes.length} nodes, `
                          + x.nodes[0].target.join(' '));
        }"""
    )
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_phone_width_does_not_overflow(visit, docname):
    v = visit(docname, viewport={"width": 390, "height": 844})
    widths = v.page.evaluate(
        """() => ({page: document.documentElement.scrollWidth,
                   view: window.innerWidth})"""
    )
    assert widths["page"] <= widths["view"], widths


def test_search_finds_a_defined_term(visit):
    v = visit("search")
    v.page.goto(v.page.url + "?q=pivot")
    link = v.page.wait_for_selector(
        "#search-results a[href*='linear_algebra']", timeout=20000
    )
    assert link is not None


def test_dark_mode_toggle_keeps_figures_readable(visit):
    v = visit(CHAPTERS[0], color_scheme="light")
    page = v.page
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    # the colour-mode menu in the header: open it, choose "Dark"
    page.click(".theme-switch-button >> visible=true")
    page.click(".theme-change-button[data-mode='dark'] >> visible=true")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    backgrounds = page.evaluate(
        """() => [...document.querySelectorAll('.cell_output img')]
                 .map(i => getComputedStyle(i).backgroundColor)"""
    )
    assert backgrounds and set(backgrounds) == {"rgb(255, 255, 255)"}


def test_a_chapter_page_weighs_under_a_megabyte_gzipped(
    browser, server, html_build
):
    """Everything a reader downloads for a chapter, math assets included."""
    import gzip

    # the page the build measured for its report (a chapter), measured again
    report = (html_build[1] / "appendices" / "build_report.html").read_text()
    measured = re.search(r'chapter page <a href="\.\./([^"]+)\.html">', report)
    assert measured, "the build report does not state the page weight"
    chapter = measured.group(1)
    assert chapter in CHAPTERS
    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, int] = {}

    def record(response):
        if response.url.startswith(server) and response.ok:
            sizes[response.url] = len(gzip.compress(response.body(), 9))

    page.on("response", record)
    page.goto(server + f"{chapter}.html", wait_until="networkidle")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.math')]
            .every(m => m.querySelector('mjx-container'))""",
        timeout=120_000,
    )
    # MathJax fetches its fonts after typesetting: wait for them, then until
    # no response has arrived for a second
    page.evaluate(
        "async () => { await MathJax.startup.promise; "
        "await document.fonts.ready; }"
    )
    seen = -1
    while seen != len(sizes):
        seen = len(sizes)
        page.wait_for_timeout(1000)
    context.close()
    total = sum(sizes.values())
    heaviest = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    print(f"page weight of {chapter}: {total / 1e6:.2f} MB gzipped")
    assert total <= 1_000_000, f"{total} bytes gzipped; heaviest {heaviest}"
    # the build report states the same measurement, made by the build
    stated = re.search(r"<strong>([\d,]+) kB gzipped</strong>", report)
    kb = int(stated.group(1).replace(",", ""))
    assert abs(kb - total / 1000) <= 0.05 * total / 1000, (kb, total)


def test_a_printed_chapter_has_no_navigation_chrome(browser, server, tmp_path):
    """Printing from the browser gives the text alone, full width."""
    import subprocess

    chapter = CHAPTERS[-1]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + f"{chapter}.html", wait_until="networkidle")
    page.emulate_media(media="print")
    shown = page.evaluate(
        """() => {
          const shown = e => {
            const s = getComputedStyle(e), r = e.getBoundingClientRect();
            return s.display !== 'none' && s.visibility !== 'hidden'
                   && r.width > 0 && r.height > 0;
          };
          const chrome = ['.bd-header', '.bd-sidebar-primary',
            '.bd-sidebar-secondary', '.bd-header-article', '.prev-next-area',
            '.bd-footer', '#pst-back-to-top', '.search-button-field',
            '.theme-switch-button', '.article-header-buttons'];
          const article = document.querySelector('.bd-article');
          return {
            chrome: chrome.filter(
              c => [...document.querySelectorAll(c)].some(shown)),
            article: article.getBoundingClientRect().width,
            page: document.documentElement.clientWidth,
          };
        }"""
    )
    assert shown["chrome"] == [], shown
    assert shown["article"] >= 0.7 * shown["page"], shown
    pdf = tmp_path / "printed.pdf"
    page.pdf(path=str(pdf), format="A4")
    context.close()
    first = subprocess.run(
        ["pdftotext", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    title = re.search(
        r"^# (.+)$", (BOOK / f"{chapter}.md").read_text(), re.M
    ).group(1)
    assert title.split()[0] in first
    for chrome in ("Skip to main content", "Ctrl+K", "Back to top"):
        assert chrome not in first, chrome
