"""Derivatives, Taylor polynomials and integrals of functions of one variable.

Chapter *Calculus* explains these functions and checks them against
closed forms, :mod:`sympy` and :mod:`scipy.integrate`. They are the book's
scalar, one-variable toolbox: finite differences for a derivative, Taylor
polynomials and the Lagrange bound on their error, the trapezoid and
Simpson rules, plain Monte Carlo integration, a logistic sigmoid that is
stable for large arguments, and a least-squares fit of a power law
``y = C x**p`` on log-log axes, with which the book measures orders of
convergence. Gradients and Jacobians of functions of several variables
live in :mod:`m4ml.vector_calculus`.

A function argument ``f`` must act elementwise on numpy arrays, as
``np.sin`` does: the finite differences and the integration rules call it
on arrays of points.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from m4ml.validation import check_generator

__all__ = [
    "MonteCarloEstimate",
    "PowerLawFit",
    "central_difference",
    "forward_difference",
    "monte_carlo_integral",
    "power_law_fit",
    "sigmoid",
    "simpson",
    "taylor_polynomial",
    "taylor_remainder_bound",
    "trapezoid",
]


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo estimate and its estimated standard error."""

    estimate: float
    standard_error: float


class PowerLawFit(NamedTuple):
    """The exponent ``p`` and coefficient ``C`` of a fit ``y = C x**p``."""

    exponent: float
    coefficient: float


# ---------------------------------------------------------------- helpers


def _finite_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a float64 array, or raise if it has NaN or inf."""
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return arr


def _steps(h) -> np.ndarray:
    arr = np.asarray(h, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError(f"the step h must be positive and finite, got {h!r}")
    return arr


def _scalar(value, name: str) -> float:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 0 or not np.isfinite(arr):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(arr)


def _count(n, name: str, minimum: int) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n}")
    return int(n)


def _values(f: Callable, x: np.ndarray) -> np.ndarray:
    """Evaluate a vectorised ``f`` at the points ``x`` and validate."""
    y = np.asarray(f(x), dtype=np.float64)
    try:
        y = np.broadcast_to(y, x.shape)
    except ValueError:
        raise ValueError(
            f"f must act elementwise: for {x.shape[0]} points it returned "
            f"shape {y.shape}"
        ) from None
    if not np.all(np.isfinite(y)):
        raise ValueError("f returned NaN or infinite values")
    return y


def _out(value):
    """A 0-d result as a Python float, anything else as an array."""
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


# ------------------------------------------------------------- derivatives


def forward_difference(f: Callable, x, h):
    """Forward-difference estimate ``(f(x + h) - f(x)) / h`` of ``f'(x)``.

    By Taylor's theorem the truncation error is ``h f''(xi) / 2`` for some
    ``xi`` between ``x`` and ``x + h``, so it is ``O(h)``; rounding the two
    values of ``f`` adds an error of about ``eps |f(x)| / h``, which grows
    as ``h`` shrinks.

    Parameters
    ----------
    f : callable
        A function of one variable that acts elementwise on arrays.
    x : float or array_like
        The point(s) at which to differentiate.
    h : float or array_like
        The step(s), positive; ``x`` and ``h`` broadcast together.

    Returns
    -------
    float or numpy.ndarray
        The estimate(s); a float when ``x`` and ``h`` are scalars.

    Examples
    --------
    >>> import numpy as np
    >>> d = forward_difference(np.exp, 0.0, 1e-3)
    >>> round(d, 6)  # exp'(0) = 1, off by about h / 2
    1.0005
    """
    x = _finite_array(x, "x")
    h = _steps(h)
    return _out((np.asarray(f(x + h), float) - np.asarray(f(x), float)) / h)


def central_difference(f: Callable, x, h):
    """Central-difference estimate ``(f(x + h) - f(x - h)) / (2 h)``.

    By Taylor's theorem the truncation error is ``h**2 f'''(xi) / 6`` for
    some ``xi`` in ``(x - h, x + h)``, so it is ``O(h**2)``; round-off adds
    about ``eps |f(x)| / h``.

    Parameters
    ----------
    f : callable
        A function of one variable that acts elementwise on arrays.
    x : float or array_like
        The point(s) at which to differentiate.
    h : float or array_like
        The step(s), positive; ``x`` and ``h`` broadcast together.

    Returns
    -------
    float or numpy.ndarray
        The estimate(s); a float when ``x`` and ``h`` are scalars.

    Examples
    --------
    >>> import numpy as np
    >>> d = central_difference(np.exp, 0.0, 1e-3)
    >>> abs(d - 1.0) < 1e-6  # the error is about h**2 / 6
    True
    """
    x = _finite_array(x, "x")
    h = _steps(h)
    up = np.asarray(f(x + h), float)
    down = np.asarray(f(x - h), float)
    return _out((up - down) / (2 * h))


def sigmoid(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``x``.

    For ``x >= 0`` it uses ``1 / (1 + exp(-x))`` and for ``x < 0`` the
    equal ``exp(x) / (1 + exp(x))``, so ``exp`` is only ever applied to
    ``-|x| <= 0`` and never overflows.

    Parameters
    ----------
    x : float or array_like
        The argument(s).

    Returns
    -------
    float or numpy.ndarray
        Values in ``[0, 1]``; a float for a scalar argument.

    Examples
    --------
    >>> sigmoid(0.0)
    0.5
    >>> sigmoid([-1000.0, 1000.0])  # no overflow warning
    array([0., 1.])
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return _out(np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


# ---------------------------------------------------------------- Taylor


def taylor_polynomial(derivatives, a, x):
    """Evaluate the Taylor polynomial with given derivatives at ``a``.

    With ``derivatives = [f(a), f'(a), ..., f^(n)(a)]`` this returns
    ``sum_k f^(k)(a) (x - a)**k / k!``, evaluated by a nested (Horner)
    scheme, ``d_0 + t (d_1 + t/2 (d_2 + t/3 (d_3 + ...)))`` with
    ``t = x - a``, which never forms a factorial and so cannot overflow.

    Parameters
    ----------
    derivatives : array_like, shape (n + 1,)
        The values of ``f`` and its first ``n`` derivatives at ``a``.
    a : float
        The centre of the expansion.
    x : float or array_like
        The point(s) at which to evaluate.

    Returns
    -------
    float or numpy.ndarray
        The value(s) of the degree-``n`` Taylor polynomial.

    Examples
    --------
    >>> import numpy as np
    >>> p = taylor_polynomial(np.ones(18), 0.0, 1.0)  # exp at 0
    >>> bool(abs(p - np.e) < 1e-15)
    True
    """
    d = _finite_array(derivatives, "derivatives")
    if d.ndim != 1 or d.size == 0:
        raise ValueError(
            f"derivatives must be a non-empty 1-D array, got shape {d.shape}"
        )
    t = _finite_array(x, "x") - _scalar(a, "a")
    p = np.full(t.shape, d[-1])
    for k in range(d.size - 1, 0, -1):
        p = d[k - 1] + (t / k) * p
    return _out(p)


def taylor_remainder_bound(max_derivative, a, x, degree):
    """Lagrange bound ``M |x - a|**(n + 1) / (n + 1)!`` on a Taylor error.

    If ``|f^(n+1)| <= M`` between ``a`` and ``x``, Taylor's theorem with
    the Lagrange remainder says that the degree-``n`` Taylor polynomial at
    ``a`` is within this bound of ``f(x)``.

    Parameters
    ----------
    max_derivative : float or array_like
        ``M``, a bound on ``|f^(n+1)|`` between ``a`` and ``x``
        (non-negative; it may vary with ``x`` and broadcasts with it).
    a : float
        The centre of the expansion.
    x : float or array_like
        The point(s).
    degree : int
        ``n``, the degree of the Taylor polynomial, at least 0.

    Returns
    -------
    float or numpy.ndarray
        The bound(s).

    Examples
    --------
    >>> round(taylor_remainder_bound(1.0, 0.0, 0.5, 3), 6)  # 0.5**4 / 24
    0.002604
    """
    M = _finite_array(max_derivative, "max_derivative")
    if np.any(M < 0):
        raise ValueError("max_derivative must be non-negative")
    n = _count(degree, "degree", minimum=0)
    t = np.abs(_finite_array(x, "x") - _scalar(a, "a"))
    bound = M * np.ones_like(t)
    for k in range(1, n + 2):
        bound = bound * (t / k)
    return _out(bound)


# -------------------------------------------------------------- integrals


def trapezoid(f: Callable, a, b, n: int) -> float:
    """Composite trapezoid rule for ``int_a^b f(x) dx`` with ``n`` panels.

    With ``h = (b - a) / n`` and ``x_i = a + i h`` it returns
    ``h (f(x_0) / 2 + f(x_1) + ... + f(x_{n-1}) + f(x_n) / 2)``. For ``f``
    twice continuously differentiable the error is
    ``-(b - a) h**2 f''(xi) / 12`` for some ``xi`` in ``[a, b]``.

    Parameters
    ----------
    f : callable
        The integrand; it must act elementwise on arrays.
    a, b : float
        The limits of integration (``b < a`` gives minus the integral
        from ``b`` to ``a``, as for the integral itself).
    n : int
        The number of panels, at least 1.

    Returns
    -------
    float
        The approximation of the integral.

    Examples
    --------
    >>> import numpy as np
    >>> trapezoid(lambda x: x, 0.0, 2.0, 1)  # exact for straight lines
    2.0
    >>> round(trapezoid(np.sin, 0.0, np.pi, 100), 6)  # exact value 2
    1.999836
    """
    a, b = _scalar(a, "a"), _scalar(b, "b")
    n = _count(n, "n", minimum=1)
    x = np.linspace(a, b, n + 1)
    y = _values(f, x)
    h = (b - a) / n
    return float(h * (0.5 * y[0] + y[1:-1].sum() + 0.5 * y[-1]))


def simpson(f: Callable, a, b, n: int) -> float:
    """Composite Simpson rule for ``int_a^b f(x) dx`` with ``n`` panels.

    ``n`` must be even: each pair of panels ``[x_{2j}, x_{2j+2}]`` is
    integrated by the parabola through its three points, giving
    ``h / 3 (f_0 + 4 f_1 + 2 f_2 + 4 f_3 + ... + 4 f_{n-1} + f_n)``. For
    ``f`` four times continuously differentiable the error is
    ``-(b - a) h**4 f''''(xi) / 180`` for some ``xi`` in ``[a, b]``.

    Parameters
    ----------
    f : callable
        The integrand; it must act elementwise on arrays.
    a, b : float
        The limits of integration.
    n : int
        The number of panels, even and at least 2.

    Returns
    -------
    float
        The approximation of the integral.

    Examples
    --------
    >>> simpson(lambda x: x**3, 0.0, 2.0, 2)  # exact for cubics: 2**4 / 4
    4.0
    """
    a, b = _scalar(a, "a"), _scalar(b, "b")
    n = _count(n, "n", minimum=2)
    if n % 2:
        raise ValueError(f"Simpson's rule needs an even n, got {n}")
    x = np.linspace(a, b, n + 1)
    y = _values(f, x)
    h = (b - a) / n
    odd, even = y[1:-1:2].sum(), y[2:-1:2].sum()
    return float(h / 3 * (y[0] + 4 * odd + 2 * even + y[-1]))


def monte_carlo_integral(
    f: Callable, a, b, n: int, rng: np.random.Generator
) -> MonteCarloEstimate:
    """Monte Carlo estimate of ``int_a^b f(x) dx`` and its standard error.

    With ``U_1, ..., U_n`` independent and uniform on the interval, the
    estimate is the sample mean of ``(b - a) f(U_i)``, whose expectation is
    the integral. Its standard error is estimated by the sample standard
    deviation of those values (with ``n - 1`` in the denominator) divided
    by ``sqrt(n)``; it shrinks like ``n ** -0.5``.

    Parameters
    ----------
    f : callable
        The integrand; it must act elementwise on arrays.
    a, b : float
        The limits of integration.
    n : int
        The number of samples, at least 2.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    MonteCarloEstimate
        A named tuple ``(estimate, standard_error)`` of floats.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> est, se = monte_carlo_integral(np.sin, 0.0, np.pi, 10_000, rng)
    >>> bool(abs(est - 2.0) < 4 * se)  # exact value 2
    True
    """
    a, b = _scalar(a, "a"), _scalar(b, "b")
    n = _count(n, "n", minimum=2)
    check_generator(rng)
    u = a + (b - a) * rng.random(n)
    y = (b - a) * _values(f, u)
    se = float(np.std(y, ddof=1)) / np.sqrt(n)
    return MonteCarloEstimate(float(np.mean(y)), float(se))


# ------------------------------------------------------ orders of accuracy


def power_law_fit(x, y) -> PowerLawFit:
    """Fit ``y = C x**p`` by least squares on log-log axes.

    Fits the straight line ``log y = p log x + log C``. When ``y`` is an
    error and ``x`` a step ``h`` (or a sample size ``N``), ``p`` is the
    observed order of convergence: about 1 for forward differences, 2 for
    central ones, -1/2 for Monte Carlo in ``N``.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        Positive, finite values, at least two distinct ``x``.

    Returns
    -------
    PowerLawFit
        A named tuple ``(exponent, coefficient)`` of floats.

    Examples
    --------
    >>> fit = power_law_fit([1.0, 2.0, 4.0], [3.0, 12.0, 48.0])
    >>> round(fit.exponent, 12), round(fit.coefficient, 12)
    (2.0, 3.0)
    """
    x = _finite_array(x, "x")
    y = _finite_array(y, "y")
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"x and y must be 1-D of equal length, got {x.shape}, {y.shape}"
        )
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("a power law needs positive x and y")
    if np.unique(x).size < 2:
        raise ValueError("a power law fit needs at least two distinct x")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return PowerLawFit(float(slope), float(np.exp(intercept)))
