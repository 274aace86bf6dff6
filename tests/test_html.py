"""Every built page is valid HTML, by the Nu Html Checker (vnu.jar).

The checker comes from the npm package ``vnu-jar`` (pinned in
package-lock.json, installed by ``make``) and runs on the system's Java.
Upstream markup it rejected (fixed ids in sphinx-proof and sphinx-exercise,
paragraphs inside ``<summary>`` in myst-nb) is mended by the book's
extension; see ``_valid_html`` in ``book/_ext/m4ml_book.py``. Errors fail
the test; the checker's advisory warnings (sections without a heading in
the theorem boxes, redundant ARIA roles in the theme) are upstream markup
and do not.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from booktools import ROOT

pytestmark = pytest.mark.build

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _pages(outdir) -> list[str]:
    return [
        str(p)
        for p in sorted(outdir.rglob("*.html"))
        if not p.relative_to(outdir).parts[0].startswith("_")
    ]


def test_every_page_is_valid_html(html_build):
    proc, outdir = html_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    java = shutil.which("java")
    if java is None:
        pytest.fail(
            "no Java found: install a Java runtime (.ci/require "
            "default-jre-headless) for the HTML validator"
        )
    assert VNU.is_file(), "vnu.jar missing: run `npm ci` (make does)"
    pages = _pages(outdir)
    assert len(pages) > 10
    result = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--exit-zero-always",
            *pages,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(result.stderr)["messages"]
    problems = [
        f"{m['url'].split('/_build/html/')[-1]}:{m.get('lastLine')}: "
        f"{m['type']}: {m['message']}"
        for m in messages
        if m["type"] in {"error", "non-document-error"}
    ]
    assert not problems, "\n".join(problems[:50])


def test_the_validator_catches_invalid_html(tmp_path):
    """The check above can fail: a duplicate id is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html lang=en><head><title>t</title></head>"
        "<body><p id=a>x</p><p id=a>y</p></body></html>"
    )
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--exit-zero-always",
            str(page),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(result.stderr)["messages"]
    assert any("Duplicate ID" in m["message"] for m in messages)
