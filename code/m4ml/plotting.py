"""The book's figure style, applied by one function.

Every chapter calls :func:`use_book_style` once in its setup cell. Figure
sizes come from the named constants below rather than ad-hoc ``figsize``
values, so that figures line up on the page and in print.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.style

STYLE_FILE = Path(__file__).with_name("book.mplstyle")

#: A full-width figure: one wide panel or two panels side by side.
WIDE = (6.4, 3.2)
#: A full-width figure with three panels side by side.
TRIPLE = (7.2, 2.6)
#: A single square panel, for geometry where equal axes matter.
SQUARE = (3.6, 3.6)
#: A full-width figure tall enough for two rows of panels.
GRID = (6.4, 5.6)


def use_book_style(formats=("svg", "pdf")):
    """Apply the book's matplotlib style and choose vector output formats.

    In a Jupyter kernel the inline backend is asked for SVG (used by the
    HTML book) and PDF (used by the LaTeX book); outside a kernel only the
    style is applied.

    Parameters
    ----------
    formats : tuple of str
        Formats the inline backend emits for each figure.

    Returns
    -------
    pathlib.Path
        The style file that was applied.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> path = use_book_style()
    >>> mpl.rcParams["svg.hashsalt"]
    'm4ml'
    """
    mpl.style.use(STYLE_FILE)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the book
        return STYLE_FILE
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats(*formats)
    return STYLE_FILE
