"""Tests of m4ml.plotting: the one book style."""

import matplotlib as mpl
import pytest

from m4ml import plotting


@pytest.fixture(autouse=True)
def _restore_rc():
    with mpl.rc_context():
        yield


def test_style_sets_book_defaults():
    assert plotting.use_book_style() == plotting.STYLE_FILE
    assert mpl.rcParams["svg.hashsalt"] == "m4ml"  # deterministic SVG ids
    assert mpl.rcParams["text.usetex"] is False
    assert mpl.rcParams["figure.facecolor"] == "white"  # readable in dark mode
    colours = [c["color"].lower() for c in mpl.rcParams["axes.prop_cycle"]]
    assert colours[:3] == ["#0072b2", "#e69f00", "#009e73"]  # Okabe-Ito


@pytest.mark.parametrize("name", ["WIDE", "TRIPLE", "SQUARE", "GRID"])
def test_size_constants_fit_the_printed_page(name):
    width, height = getattr(plotting, name)
    assert 3 <= width <= 7.5 and 2 <= height <= 7
