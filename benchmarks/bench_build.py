"""Time the book's builds: `make bench`.

Every scenario runs in a throw-away clone of the committed HEAD (sharing this
checkout's .venv and node_modules), so the benchmark never touches your
_build folder or your uncommitted work. It prints a Markdown table and writes
it to _build/bench.md.

Scenarios: a cold HTML build (empty cache), a warm no-op rebuild, a rebuild
after a prose edit in one chapter, after a code-cell edit in one chapter,
after a change in one m4ml module, the PDF, the chapters' own PDFs, and the
test suite (skipped with --no-test: `make bench BENCHOPTS=--no-test`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "book/foundations/linear_algebra.md"
MODULE = "code/m4ml/linear_algebra.py"
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(
            f"benchmark step failed: {' '.join(cmd)}\n{proc.stdout[-3000:]}"
            f"\n{proc.stderr[-3000:]}"
        )
    return elapsed, proc.stdout + proc.stderr


def html(cwd: Path) -> tuple[float, str]:
    # the flags of `make html`, with -v for the execution log
    return run(
        [
            PYTHON,
            "-m",
            "sphinx",
            "-c",
            ".",
            "-W",
            "--keep-going",
            "-n",
            "-j",
            "auto",
            "-v",
            "-b",
            "html",
            "book",
            "_build/html",
        ],
        cwd,
    )


def executed(log: str) -> list[str]:
    return sorted(set(re.findall(r"book/(\S+)\.md: Executed notebook", log)))


def execution_seconds(log: str) -> dict[str, float]:
    return {
        doc: float(sec)
        for doc, sec in re.findall(
            r"book/(\S+)\.md: Executed notebook in ([\d.]+) seconds", log
        )
    }


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="m4ml-bench-") as tmp:
        clone = Path(tmp) / "book"
        subprocess.run(
            ["git", "clone", "--quiet", str(ROOT), str(clone)], check=True
        )
        (clone / ".venv").symlink_to(ROOT / ".venv")
        (clone / "node_modules").symlink_to(ROOT / "node_modules")

        t, log = html(clone)
        seconds = execution_seconds(log)
        rows.append(
            (
                "cold HTML build (no cache)",
                t,
                f"{len(seconds)} chapters executed; their execution times add "
                f"up to {sum(seconds.values()):.1f} s",
            )
        )

        t, log = html(clone)
        rows.append(("warm no-op rebuild", t, f"executed: {executed(log)}"))

        chapter = clone / CHAPTER
        text = chapter.read_text()
        chapter.write_text(
            text.replace("\n## Summary", "\nA sentence added.\n\n## Summary")
        )
        t, log = html(clone)
        rows.append(
            ("prose edit in one chapter", t, f"executed: {executed(log)}")
        )

        text = chapter.read_text()
        chapter.write_text(
            text.replace("use_book_style()", "use_book_style()  # edit", 1)
        )
        t, log = html(clone)
        secs = execution_seconds(log)
        rows.append(
            (
                "code-cell edit in one chapter",
                t,
                f"executed: {executed(log)} in {sum(secs.values()):.1f} s",
            )
        )

        module = clone / MODULE
        module.write_text(module.read_text() + "\n# an edit\n")
        t, log = html(clone)
        rows.append((f"change in {MODULE}", t, f"executed: {executed(log)}"))

        t, _ = run(
            [
                PYTHON,
                "-m",
                "sphinx",
                "-c",
                ".",
                "-W",
                "--keep-going",
                "-n",
                "-t",
                "pdf",
                "-b",
                "latex",
                "book",
                "_build/latex",
            ],
            clone,
        )
        latexmk = [
            "make",
            "-C",
            "_build/latex",
            "-j2",
            "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error",
        ]
        t2, _ = run([*latexmk, "m4ml.pdf"], clone)
        rows.append(
            (
                "PDF (LaTeX sources + xelatex)",
                t + t2,
                f"sources {t:.1f} s (the book's and every chapter's), "
                f"xelatex {t2:.1f} s",
            )
        )
        chapters = sorted(
            p.with_suffix(".pdf").name
            for p in (clone / "_build" / "latex").glob("*.tex")
            if p.stem != "m4ml"
        )
        t3, _ = run([*latexmk, *chapters], clone)
        rows.append(
            (
                "every chapter's own PDF (xelatex, 2 at a time)",
                t3,
                f"{len(chapters)} PDFs",
            )
        )

        # the test suite runs on the committed sources, edits undone
        subprocess.run(["git", "checkout", "--", "."], cwd=clone, check=True)
        if "--no-test" in sys.argv:
            rows.append(("make test (warm caches)", float("nan"), "skipped"))
            return _write(rows)
        t, log = run(
            [
                "make",
                "test",
                "-o",
                ".venv/.installed",
                "-o",
                "node_modules/.package-lock.json",
            ],
            clone,
        )
        summary = re.findall(r"=+ (.*? in [\d.]+s.*?) =+", log)
        rows.append(
            ("make test (warm caches)", t, summary[-1] if summary else "")
        )

    _write(rows)


def _write(rows: list[tuple[str, float, str]]) -> None:
    table = ["| scenario | seconds | notes |", "|---|---:|---|"]
    table += [f"| {name} | {t:.1f} | {note} |" for name, t, note in rows]
    text = "\n".join(table) + "\n"
    print(text)
    out = ROOT / "_build" / "bench.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    if shutil.which("git") is None:
        sys.exit("make bench needs git")
    main()
