"""The environment the chapters' kernels run in.

``conf.py`` calls :func:`configure` before Sphinx starts any kernel; the
kernels inherit the process environment. This file is one of the inputs of
every chapter's execution cache key (see ``chapter_dependencies`` in
``m4ml_book.py``): changing it re-executes every chapter, while the rest of
``conf.py`` (themes, templates, LaTeX) can change without re-running code.
"""

from __future__ import annotations

import os
from pathlib import Path


def configure(root: Path) -> None:
    """Set the kernels' environment for the book rooted at ``root``."""
    # Kernels import m4ml from code/ even without an installed package, and
    # matplotlib writes no timestamps into figures.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(root / "code"), os.environ.get("PYTHONPATH")])
    )
    # A fixed date (2026-01-01), not 0: fontTools warns about a 1970 timestamp.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    os.environ.setdefault(
        "MPLBACKEND", "module://matplotlib_inline.backend_inline"
    )
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # Chapters execute in parallel (-j auto); one BLAS thread per kernel
    # avoids oversubscribing the cores (small products ran 100x slower).
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    # ipykernel 7 logs "running over TCP without encryption" for every kernel:
    # a build-local IPython profile quietens the kernels' own logging.
    _ipython = root / "_build" / ".ipython"
    (_ipython / "profile_default").mkdir(parents=True, exist_ok=True)
    (_ipython / "profile_default" / "ipython_kernel_config.py").write_text(
        'c.IPKernelApp.log_level = "ERROR"\n'
        # plain tracebacks in build logs
        'c.InteractiveShell.colors = "nocolor"\n'
    )
    os.environ["IPYTHONDIR"] = str(_ipython)
