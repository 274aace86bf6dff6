"""Helpers shared by the tests that build the book."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))  # the book's extension

from m4ml_book import find_chromium  # noqa: E402, F401 (re-exported)


def sphinx_build(
    root: Path,
    builder: str,
    outdir: Path,
    *extra: str,
    environ: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the book's Sphinx build (as `make` does) on the tree at ``root``."""
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-c",
        str(root),
        "-W",
        "--keep-going",
        "-n",
        "--no-color",  # plain logs even where CI sets FORCE_COLOR or CI=true
        "-b",
        builder,
        str(root / "book"),
        str(outdir),
        *extra,
    ]
    dropped = {"PYTHONPATH", "FORCE_COLOR", "FORCE_COLOUR", "M4ML_CHAPTER"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    # Sphinx's progress lines still emit ANSI "erase line" codes under
    # --no-color when it believes the terminal supports colour (CI=true does);
    # NO_COLOR is the switch it honours first.
    env["NO_COLOR"] = "1"
    env.update(environ or {})
    return subprocess.run(
        cmd, cwd=root, capture_output=True, text=True, env=env, timeout=3000
    )


@pytest.fixture(scope="session")
def html_build() -> tuple[subprocess.CompletedProcess, Path]:
    """The real HTML build in ``_build/html`` (incremental, cached)."""
    outdir = ROOT / "_build" / "html"
    return sphinx_build(ROOT, "html", outdir), outdir


def copy_book(dest: Path, warm: bool = True) -> Path:
    """A throw-away copy of the book's sources.

    With ``warm`` it starts from a copy of the execution cache (only the
    chapters a test changes re-execute); without, it is a clean build.
    """
    for name in ("book", "code"):
        shutil.copytree(
            ROOT / name,
            dest / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"),
        )
    for name in ("conf.py", "requirements.lock", "package.json"):
        shutil.copy2(ROOT / name, dest / name)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    cache = ROOT / "_build" / ".jupyter_cache"
    if warm and cache.is_dir():
        shutil.copytree(cache, dest / "_build" / ".jupyter_cache")
    return dest
