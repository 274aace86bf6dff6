"""Fixtures shared by the tests (the helpers live in booktools.py)."""

from booktools import html_build  # noqa: F401  (a pytest fixture)
