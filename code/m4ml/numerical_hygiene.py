"""Small tools for computing with floating-point numbers, and for testing.

Appendix *Numerical hygiene* explains and checks these functions. They
measure errors (:func:`relative_error`, :func:`symmetric_relative_error`,
:func:`ulp_distance`), sum accurately (:func:`kahan_sum`), choose the step
of a finite-difference derivative (:func:`optimal_step`), and generate
least-squares problems of a prescribed condition number on which the
normal equations and QR can be compared (:func:`ill_conditioned_matrix`,
:func:`least_squares_problem`, :func:`least_squares_errors`). The stable
``logsumexp``, ``softmax``, ``sigmoid`` and ``softplus`` live where they
were introduced: :mod:`m4ml.logistic_regression`, :mod:`m4ml.calculus` and
:mod:`m4ml.losses`.
"""

from __future__ import annotations

import numpy as np

from m4ml.analytic_geometry import least_squares
from m4ml.calculus import _finite_array as _finite
from m4ml.validation import check_generator

__all__ = [
    "EPS",
    "ill_conditioned_matrix",
    "kahan_sum",
    "least_squares_errors",
    "least_squares_problem",
    "optimal_step",
    "relative_error",
    "symmetric_relative_error",
    "ulp_distance",
]

#: The machine epsilon of float64, ``2**-52``.
EPS = float(np.finfo(np.float64).eps)


# ---------------------------------------------------------------- errors


def relative_error(computed, exact) -> float:
    """The norm-wise relative error ``||computed - exact|| / ||exact||``.

    The norm is the Euclidean norm of all entries (the Frobenius norm for
    matrices), so a single number summarises an array.

    Parameters
    ----------
    computed, exact : array_like
        Arrays of the same shape, finite; ``exact`` must not be zero.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, an entry is not finite or ``exact`` is zero.

    Examples
    --------
    >>> round(relative_error([1.0, 2.001], [1.0, 2.0]), 8)  # 0.001/sqrt(5)
    0.00044721
    """
    c = _finite(computed, "computed")
    e = _finite(exact, "exact")
    if c.shape != e.shape:
        raise ValueError(f"shapes differ: {c.shape} and {e.shape}")
    scale = float(np.linalg.norm(e))
    if scale == 0:
        raise ValueError("the exact value is zero: relative error undefined")
    return float(np.linalg.norm(c - e)) / scale


def symmetric_relative_error(a, b, floor: float = 1e-30) -> float:
    """The relative error ``||a - b|| / max(||a||, ||b||, floor)``.

    This is the measure for a gradient check, where neither the analytic
    nor the numerical gradient is known to be the right one: it treats
    both alike, is at most 2 whenever the denominator is not the floor,
    and the ``floor`` keeps it finite when both gradients vanish.

    Parameters
    ----------
    a, b : array_like
        Arrays of the same shape, finite.
    floor : float
        A positive lower bound on the denominator.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, an entry is not finite or ``floor <= 0``.

    Examples
    --------
    >>> symmetric_relative_error([3.0, 4.0], [3.0, 4.0])
    0.0
    >>> symmetric_relative_error([1.0, 0.0], [-1.0, 0.0])  # opposite signs
    2.0
    """
    a = _finite(a, "a")
    b = _finite(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if not floor > 0:
        raise ValueError(f"floor must be positive, got {floor!r}")
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), floor)
    return float(np.linalg.norm(a - b)) / scale


def _ordered(x: np.ndarray) -> np.ndarray:
    """Map float64 bit patterns to integers that increase with the value."""
    bits = x.view(np.int64)
    # Negative floats have the sign bit set, and their bit patterns grow as
    # the value falls: reflect them so that -0.0 and +0.0 both map to 0.
    return np.where(bits < 0, np.int64(-(2**63)) - bits, bits)


def ulp_distance(a, b):
    """How many steps apart ``a`` and ``b`` are in the list of float64s.

    Counts the steps of :func:`numpy.nextafter` that lead from ``a`` to
    ``b``: 0 for equal numbers (``-0.0`` equals ``0.0``), 1 for
    neighbours. It is the natural unit for "correct to the last bit".

    Parameters
    ----------
    a, b : float or array_like
        Finite float64 values; they broadcast together.

    Returns
    -------
    int or numpy.ndarray of int64
        An int when both inputs are scalars.

    Raises
    ------
    ValueError
        If an entry is NaN or infinite.

    Examples
    --------
    >>> ulp_distance(1.0, np.nextafter(1.0, 2.0))
    1
    >>> ulp_distance(0.1 + 0.2, 0.3)
    1
    >>> ulp_distance(-0.0, 0.0)
    0
    """
    a, b = np.broadcast_arrays(_finite(a, "a"), _finite(b, "b"))
    ia = _ordered(np.array(a))  # copies: views of broadcast arrays
    ib = _ordered(np.array(b))
    # The ordered integers of finite floats lie within +-(2**63 - 2**52),
    # so the difference is computed exactly as a Python int when scalar.
    if ia.ndim == 0:
        return abs(int(ia) - int(ib))
    return np.abs(ia - ib)


# ---------------------------------------------------------------- sums


def kahan_sum(x) -> float:
    """The sum of a 1-D array by Kahan's compensated summation.

    Each addition ``t = s + y`` loses a low-order part, which is recovered
    exactly as ``(t - s) - y`` and subtracted from the next term. The
    error is at most about ``2 u sum |x_i|`` (``u = eps / 2``), whatever
    the length, against ``(n - 1) u sum |x_i|`` for the plain loop
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 4.3).

    Parameters
    ----------
    x : array_like, shape (n,)
        Finite values.

    Returns
    -------
    float
        The sum; 0.0 for an empty array.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or an entry is not finite.

    Examples
    --------
    >>> x = [1.0, 1e-16, 1e-16, 1e-16, 1e-16]
    >>> sum(x), kahan_sum(x)  # the plain loop loses every small term
    (1.0, 1.0000000000000004)
    """
    x = _finite(x, "x")
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    s = 0.0
    c = 0.0  # the running compensation: what the sum has lost so far
    for xi in x.tolist():
        y = xi - c
        t = s + y
        c = (t - s) - y
        s = t
    return s


# ---------------------------------------------------------------- steps


def optimal_step(
    f_scale: float = 1.0,
    deriv_scale: float = 1.0,
    method: str = "central",
    eps: float = EPS,
) -> float:
    """The step that minimises the error model of a finite difference.

    For the central difference the error is modelled as
    ``h**2 M / 6 + eps F / h`` with ``F = |f(x)|`` and ``M = |f'''|``,
    minimised at ``h = (3 eps F / M) ** (1/3)``. For the forward
    difference the model is ``h M / 2 + 2 eps F / h`` with ``M = |f''|``,
    minimised at ``h = 2 sqrt(eps F / M)``. With unit scales these are
    about ``8.7e-6`` and ``3.0e-8`` in float64.

    Parameters
    ----------
    f_scale : float
        The size ``F`` of the function values, positive.
    deriv_scale : float
        The size ``M`` of the third (central) or second (forward)
        derivative, positive.
    method : {"central", "forward"}
        Which difference quotient.
    eps : float
        The machine epsilon of the arithmetic, positive.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a non-positive scale or epsilon, or an unknown method.

    Examples
    --------
    >>> f"{optimal_step():.2e}, {optimal_step(method='forward'):.2e}"
    '8.73e-06, 2.98e-08'
    """
    for name, value in [
        ("f_scale", f_scale),
        ("deriv_scale", deriv_scale),
        ("eps", eps),
    ]:
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive, got {value!r}")
    if method == "central":
        return float((3 * eps * f_scale / deriv_scale) ** (1 / 3))
    if method == "forward":
        return float(2 * np.sqrt(eps * f_scale / deriv_scale))
    raise ValueError(f"method must be 'central' or 'forward', got {method!r}")


# ------------------------------------------------ conditioning experiments


def ill_conditioned_matrix(m: int, n: int, cond: float, rng) -> np.ndarray:
    """A random ``m x n`` matrix with 2-norm condition number ``cond``.

    It is ``U diag(s) V^T`` with ``U`` and ``V`` random orthonormal (from
    QR factorisations of Gaussian matrices) and singular values ``s``
    spaced geometrically from 1 down to ``1 / cond``. Rounding perturbs
    the singular values by about ``eps``, so the computed condition number
    is ``cond`` to a relative accuracy of about ``cond * eps``.

    Parameters
    ----------
    m, n : int
        The shape, ``m >= n >= 2``.
    cond : float
        The condition number, at least 1.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (m, n)

    Raises
    ------
    ValueError
        For a bad shape or ``cond < 1``.
    TypeError
        If ``rng`` is not a :class:`numpy.random.Generator`.

    Examples
    --------
    >>> X = ill_conditioned_matrix(5, 3, 100.0, np.random.default_rng(0))
    >>> round(float(np.linalg.cond(X)), 8)
    100.0
    """
    check_generator(rng)
    if not (int(n) == n and int(m) == m and m >= n >= 2):
        raise ValueError(f"need integers m >= n >= 2, got m={m}, n={n}")
    if not (np.isfinite(cond) and cond >= 1):
        raise ValueError(f"cond must be a finite number >= 1, got {cond!r}")
    m, n = int(m), int(n)
    U, _ = np.linalg.qr(rng.standard_normal((m, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = np.geomspace(1.0, 1.0 / cond, n)
    return (U * s) @ V.T


def least_squares_problem(
    m: int, n: int, cond: float, rng, residual: float = 0.0
):
    """A least-squares problem with known solution and condition number.

    Returns ``X`` from :func:`ill_conditioned_matrix`, a random solution
    ``w`` with standard normal entries, and targets ``y = X w + r`` where
    ``r`` is orthogonal to the columns of ``X`` with
    ``||r|| = residual * ||X w||``. Since ``X^T r = 0``, ``w`` is the exact
    least-squares solution; ``residual`` is ``tan`` of the angle between
    ``y`` and the column space.

    Parameters
    ----------
    m, n : int
        The shape of ``X``, ``m > n >= 2`` when ``residual > 0``.
    cond : float
        The condition number of ``X``, at least 1.
    rng : numpy.random.Generator
    residual : float
        The relative size of the residual, non-negative.

    Returns
    -------
    X : numpy.ndarray, shape (m, n)
    y : numpy.ndarray, shape (m,)
    w : numpy.ndarray, shape (n,)

    Raises
    ------
    ValueError
        As :func:`ill_conditioned_matrix`, for a negative residual, or a
        positive residual with ``m == n``.

    Examples
    --------
    >>> X, y, w = least_squares_problem(6, 3, 10.0, np.random.default_rng(1),
    ...                                 residual=0.5)
    >>> r = y - X @ w
    >>> bool(np.allclose(X.T @ r, 0, atol=1e-12))
    True
    >>> round(float(np.linalg.norm(r) / np.linalg.norm(X @ w)), 12)
    0.5
    """
    if not (np.isfinite(residual) and residual >= 0):
        raise ValueError(f"residual must be >= 0, got {residual!r}")
    X = ill_conditioned_matrix(m, n, cond, rng)
    if residual > 0 and m == n:
        raise ValueError("a square X leaves no room for a residual: m > n")
    w = rng.standard_normal(n)
    b = X @ w
    y = b.copy()
    if residual > 0:
        Q, _ = np.linalg.qr(X, mode="complete")
        r = Q[:, n:] @ rng.standard_normal(m - n)  # orthogonal to col(X)
        y += residual * np.linalg.norm(b) / np.linalg.norm(r) * r
    return X, y, w


def least_squares_errors(
    conds, rng, m: int = 40, n: int = 8, residual: float = 0.0
) -> np.ndarray:
    """Relative errors of the normal equations and of QR, per condition.

    For each condition number it draws a problem with
    :func:`least_squares_problem` and solves it twice: by the normal
    equations ``X^T X w = X^T y`` (forming ``X^T X`` and solving with
    :func:`numpy.linalg.solve`) and by QR with
    :func:`m4ml.analytic_geometry.least_squares`.

    Parameters
    ----------
    conds : array_like, shape (k,)
        Condition numbers, each at least 1.
    rng : numpy.random.Generator
    m, n : int
        The shape of each design matrix.
    residual : float
        The relative size of the residual, as in
        :func:`least_squares_problem`.

    Returns
    -------
    numpy.ndarray, shape (k, 2)
        Column 0: relative error of the normal equations; column 1: of QR.

    Raises
    ------
    ValueError
        As :func:`least_squares_problem`, or if ``conds`` is not 1-D.

    Examples
    --------
    >>> err = least_squares_errors([1e2, 1e6], np.random.default_rng(0))
    >>> bool(err[1, 0] > 100 * err[1, 1])  # QR wins when cond is large
    True
    """
    conds = _finite(conds, "conds")
    if conds.ndim != 1:
        raise ValueError(f"conds must be 1-D, got shape {conds.shape}")
    out = np.empty((conds.size, 2))
    for i, cond in enumerate(conds.tolist()):
        X, y, w = least_squares_problem(m, n, cond, rng, residual)
        w_ne = np.linalg.solve(X.T @ X, X.T @ y)
        w_qr = least_squares(X, y)
        out[i] = relative_error(w_ne, w), relative_error(w_qr, w)
    return out
