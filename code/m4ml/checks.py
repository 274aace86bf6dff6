"""Checks: the build-time verification of the book's claims.

Every claim the book verifies in code goes through one of these functions.
Each compares what was computed with what the mathematics says, within a
stated tolerance, and then

* raises an :class:`AssertionError` that says what failed and by how much,
  so that a wrong derivation fails the build; or
* records a :class:`CheckResult` and, inside a Jupyter kernel, displays it,
  so that the build can count and list every check it executed.

The displayed record carries a plain-text line (what a notebook shows) and
a JSON payload under :data:`MIME_TYPE`, which the book renders through
:class:`CheckMimeRenderer` and collects into its verification count.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

#: The MIME type of a check record in a notebook output.
MIME_TYPE = "application/vnd.m4ml.check+json"

#: The methods a check can name, as they appear in the book.
METHODS = (
    "exact",
    "finite differences",
    "reference implementation",
    "symbolic",
    "Monte Carlo",
    "closed form",
    "inequality",
)

#: Every check run in this Python process, in order.
LEDGER: list[CheckResult] = []


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes
    ----------
    claim : str
        The claim in words (Markdown, math in ``$...$`` allowed).
    method : str
        How it was checked; one of :data:`METHODS`.
    error : float
        The measured discrepancy (its meaning depends on the check).
    tolerance : float
        The largest discrepancy the check accepts.
    ref : str or None
        A MyST cross-reference to what is verified, for example
        ``"{prf:ref}`thm-linear-algebra-rank-nullity`"``.
    """

    claim: str
    method: str
    error: float
    tolerance: float
    ref: str | None = None

    def summary(self) -> str:
        """One line of plain text describing the check."""
        return (
            f"Check passed: {self.claim} [{self.method}; "
            f"error {_fmt(self.error)} <= tolerance {_fmt(self.tolerance)}]"
        )

    def _ipython_display_(self) -> None:
        """Show nothing: the record was displayed once, when the check ran."""

    def to_json(self) -> dict:
        """The JSON payload displayed under :data:`MIME_TYPE`."""
        return dataclasses.asdict(self)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.1e}"


def _validate(claim: str, method: str) -> None:
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("a check needs a claim: a sentence saying what holds")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")


def _record(result: CheckResult) -> CheckResult:
    LEDGER.append(result)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with the book
        return result
    if get_ipython() is not None:  # pragma: no cover - needs a kernel
        bundle = {"text/plain": result.summary(), MIME_TYPE: result.to_json()}
        display(bundle, raw=True)
    return result


def check_close(
    actual,
    expected,
    *,
    claim: str,
    rtol: float = 1e-10,
    atol: float = 0.0,
    method: str = "reference implementation",
    ref: str | None = None,
) -> CheckResult:
    """Check that two arrays agree elementwise within a tolerance.

    Passes when ``|actual - expected| <= atol + rtol * |expected|`` holds for
    every element (the rule of :func:`numpy.allclose`), the shapes are
    equal and nothing is NaN. The recorded error and tolerance are those of
    the element that comes closest to failing.

    Parameters
    ----------
    actual, expected : array_like
        The computed value and the value the mathematics predicts.
    claim : str
        The claim in words.
    rtol, atol : float
        Relative and absolute tolerance; say in the text why they fit.
    method : str
        How the expected value was obtained; one of :data:`METHODS`.
    ref : str, optional
        A MyST cross-reference to the equation or theorem checked.

    Returns
    -------
    CheckResult

    Raises
    ------
    AssertionError
        If the shapes differ or any element is outside the tolerance.

    Examples
    --------
    >>> r = check_close(0.1 + 0.2, 0.3, rtol=1e-15, claim="0.1 + 0.2 = 0.3")
    >>> r.error <= r.tolerance
    True
    >>> check_close([1.0, 2.0], [1.0, 2.1], claim="a wrong claim")
    Traceback (most recent call last):
    ...
    AssertionError: Check failed: a wrong claim: |actual - expected| = 1.0e-01
    > tolerance 2.1e-10 at index (1,) (actual 2.0, expected 2.1)
    """
    _validate(claim, method)
    if rtol < 0 or atol < 0:
        raise ValueError("tolerances must be non-negative")
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise AssertionError(
            f"Check failed: {claim}: shape {a.shape} of the computed value "
            f"differs from shape {e.shape} of the expected value"
        )
    if np.isnan(a).any() or np.isnan(e).any():
        raise AssertionError(f"Check failed: {claim}: NaN in the values")
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(a == e, 0.0, np.abs(a - e))  # equal infinities agree
        tol = atol + rtol * np.abs(e)
        ratio = np.where(diff == 0, 0.0, diff / tol)
    if a.size == 0:
        return _record(CheckResult(claim, method, 0.0, atol, ref))
    idx = np.unravel_index(int(np.argmax(ratio)), a.shape)
    err, tol_at = float(diff[idx]), float(tol[idx])
    tol_at = tol_at if math.isfinite(tol_at) else atol  # e.g. inf * rtol 0
    if not ratio[idx] <= 1.0:
        where = f" at index {tuple(int(i) for i in idx)}" if a.ndim else ""
        raise AssertionError(
            f"Check failed: {claim}: |actual - expected| = {_fmt(err)} > "
            f"tolerance {_fmt(tol_at)}{where} "
            f"(actual {float(a[idx])!r}, expected {float(e[idx])!r})"
        )
    return _record(CheckResult(claim, method, err, tol_at, ref))


def check_equal(
    actual,
    expected,
    *,
    claim: str,
    method: str = "exact",
    ref: str | None = None,
) -> CheckResult:
    """Check that two values (integers, booleans, arrays) are exactly equal.

    The recorded error is the number of entries that differ.

    Examples
    --------
    >>> check_equal(2 + 2, 4, claim="2 + 2 = 4").error
    0.0
    >>> check_equal([1, 2], [1, 3], claim="a wrong claim")
    Traceback (most recent call last):
    ...
    AssertionError: Check failed: a wrong claim: 1 of 2 entries differ
    (actual [1 2], expected [1 3])
    """
    _validate(claim, method)
    a, e = np.asarray(actual), np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(
            f"Check failed: {claim}: shape {a.shape} of the computed value "
            f"differs from shape {e.shape} of the expected value"
        )
    n_diff = int(np.count_nonzero(a != e))
    if n_diff:
        raise AssertionError(
            f"Check failed: {claim}: {n_diff} of {a.size} entries differ "
            f"(actual {a}, expected {e})"
        )
    return _record(CheckResult(claim, method, 0.0, 0.0, ref))


def check_leq(
    smaller,
    larger,
    *,
    claim: str,
    atol: float = 0.0,
    method: str = "inequality",
    ref: str | None = None,
) -> CheckResult:
    """Check an inequality ``smaller <= larger + atol`` elementwise.

    The recorded error is the largest ``smaller - larger`` (negative when
    the inequality holds with room to spare).

    Examples
    --------
    >>> check_leq([1.0, 2.0], [1.5, 2.0], claim="a <= b").error
    0.0
    >>> check_leq(3.0, 2.0, claim="a wrong claim")
    Traceback (most recent call last):
    ...
    AssertionError: Check failed: a wrong claim: smaller - larger = 1.0e+00
    > tolerance 0 (smaller 3.0, larger 2.0)
    """
    _validate(claim, method)
    s, g = np.broadcast_arrays(
        np.asarray(smaller, dtype=float), np.asarray(larger, dtype=float)
    )
    if np.isnan(s).any() or np.isnan(g).any():
        raise AssertionError(f"Check failed: {claim}: NaN in the values")
    gap = s - g
    idx = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.size else ()
    worst = float(gap[idx]) if gap.size else -math.inf
    if worst > atol:
        raise AssertionError(
            f"Check failed: {claim}: smaller - larger = {_fmt(worst)} > "
            f"tolerance {_fmt(atol)} "
            f"(smaller {float(s[idx])!r}, larger {float(g[idx])!r})"
        )
    return _record(CheckResult(claim, method, worst, atol, ref))


def check_within_se(
    estimate: float,
    expected: float,
    standard_error: float,
    *,
    claim: str,
    n_se: float = 4.0,
    ref: str | None = None,
) -> CheckResult:
    """Check a Monte Carlo estimate against its expected value.

    Passes when ``|estimate - expected| <= n_se * standard_error``. With a
    fixed seed the check is deterministic; ``n_se = 4`` makes a correct
    formula fail for fewer than 1 in 15,000 seeds, while an error larger
    than a few standard errors is caught.

    Examples
    --------
    >>> check_within_se(0.49, 0.5, 0.01, claim="a fair coin").tolerance
    0.04
    """
    _validate(claim, "Monte Carlo")
    if not standard_error > 0:
        raise ValueError("the standard error must be positive")
    err = abs(float(estimate) - float(expected))
    tol = n_se * float(standard_error)
    if not err <= tol:
        raise AssertionError(
            f"Check failed: {claim}: |estimate - expected| = {_fmt(err)} "
            f"> {n_se:g} standard errors = {_fmt(tol)} "
            f"(estimate {estimate!r}, expected {expected!r})"
        )
    return _record(CheckResult(claim, "Monte Carlo", err, tol, ref))


def check_gradient(
    f: Callable[[np.ndarray], float],
    grad,
    x,
    *,
    claim: str,
    h: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    ref: str | None = None,
) -> CheckResult:
    """Check a gradient against central finite differences.

    Parameters
    ----------
    f : callable
        A scalar function of an array ``x``.
    grad : callable or array_like
        The claimed gradient, as a function of ``x`` or already evaluated
        at ``x``; it must have the shape of ``x``.
    x : array_like
        The point at which to compare.
    h : float
        Step of the central differences, whose truncation error is
        ``O(h^2)`` and round-off error ``O(eps / h)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, -2.0])
    >>> r = check_gradient(lambda v: v @ v, lambda v: 2 * v, x,
    ...                    claim="grad of |x|^2 is 2x")
    >>> r.method
    'finite differences'
    """
    from m4ml.vector_calculus import numerical_gradient

    x = np.asarray(x, dtype=float)
    claimed = grad(x) if callable(grad) else grad
    numeric = numerical_gradient(f, x, h=h)
    return check_close(
        claimed,
        numeric,
        claim=claim,
        rtol=rtol,
        atol=atol,
        method="finite differences",
        ref=ref,
    )


class CheckMimeRenderer:
    """Render check records in the book (a myst-nb mime-renderer plugin).

    myst-nb finds this class through the ``myst_nb.mime_renderers`` entry
    point declared in ``pyproject.toml``. It turns a record into one short
    paragraph, "Check passed. <claim> (verifies <ref>). <Method>: error ...
    within tolerance ...", in a container of class ``m4ml-check`` that keeps
    the payload in its ``m4ml_check`` attribute. The claim and the reference
    are parsed as MyST (so math and cross-references render) into inline
    nodes of classes ``m4ml-claim`` and ``m4ml-ref``, which the book's
    Sphinx extension copies into the verification ledger.
    """

    mime_priority_overrides = [("*", MIME_TYPE, 1)]

    @staticmethod
    def handle_mime(renderer, data, inline):  # pragma: no cover - in build
        if inline or data.mime_type != MIME_TYPE:
            return None
        from docutils import nodes
        from myst_nb.core.render import MimeData

        record = dict(data.content)

        def myst_inline(text: str, cls: str) -> nodes.inline:
            md = MimeData(
                "text/markdown",
                text,
                cell_metadata=data.cell_metadata,
                output_metadata=data.output_metadata,
                cell_index=data.cell_index,
                output_index=data.output_index,
                line=data.line,
            )
            return nodes.inline(
                "", "", *renderer.render_markdown_inline(md), classes=[cls]
            )

        para = nodes.paragraph()
        para += nodes.strong("", "Check passed.")
        para += nodes.Text(" ")
        para += myst_inline(record["claim"], "m4ml-claim")
        if record.get("ref"):
            para += nodes.Text(" (verifies ")
            para += myst_inline(record["ref"], "m4ml-ref")
            para += nodes.Text(")")
        para += nodes.Text(". ")
        para += nodes.emphasis("", record["method"].capitalize())
        para += nodes.Text(
            f": error {_fmt(record['error'])} within tolerance "
            f"{_fmt(record['tolerance'])}."
        )
        container = nodes.container(classes=["m4ml-check"])
        container["m4ml_check"] = record
        container += para
        return [container]
