"""Matrix decompositions, written out in numpy.

Chapter *Matrix decompositions* explains these functions and checks them
against :mod:`numpy.linalg`. They favour clarity over speed:

* :func:`cholesky` is the column-by-column Cholesky factorisation of a
  symmetric positive definite matrix, ``A = L L^T``;
* :func:`gaussian_samples` uses it to draw samples from a multivariate
  Gaussian;
* :func:`power_iteration` finds the eigenvalue of largest modulus by
  multiplying a vector by ``A`` again and again;
* :func:`orbit_norms` records how the length of ``A^k x`` grows or decays;
* :func:`low_rank_approximation` and :func:`pinv` are built on the
  singular value decomposition (SVD) of :func:`numpy.linalg.svd`.

Tolerances. A float64 computation cannot tell an exact zero from round-off
of size ``eps * scale``, where ``eps`` is the machine epsilon (about
``2.2e-16``). :func:`pinv` therefore treats singular values up to
``rtol * sigma_1`` as zero, with numpy's array-API default
``rtol = max(m, n) * eps``; :func:`cholesky` accepts a matrix as symmetric
when ``max |A - A^T| <= sym_rtol * max |A|``.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from m4ml.linear_algebra import _as_matrix
from m4ml.validation import check_generator

__all__ = [
    "cholesky",
    "gaussian_samples",
    "low_rank_approximation",
    "orbit_norms",
    "pinv",
    "power_iteration",
]

EPS = np.finfo(np.float64).eps


def _as_square(A, name: str = "A") -> np.ndarray:
    M = _as_matrix(A, name)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} is not square: shape {M.shape}")
    return M


def cholesky(A, sym_rtol: float = 1e-10) -> np.ndarray:
    """Cholesky factor of a symmetric positive definite matrix.

    Returns the lower-triangular ``L`` with positive diagonal such that
    ``A = L @ L.T``. Column ``j`` of ``L`` follows from the entries of
    ``A`` in column ``j`` and the columns of ``L`` already computed::

        L[j, j] = sqrt(A[j, j] - sum_{k<j} L[j, k]**2)
        L[i, j] = (A[i, j] - sum_{k<j} L[i, k] L[j, k]) / L[j, j],  i > j

    The number under the square root is the ``j``-th pivot of Gaussian
    elimination without row exchanges; it is positive for every ``j``
    exactly when ``A`` is positive definite. The cost is about ``n^3 / 3``
    flops, half that of an LU factorisation. Like LAPACK, only the lower
    triangle of ``A`` is read once ``A`` has passed the symmetry test.

    Parameters
    ----------
    A : array_like, shape (n, n)
        A symmetric positive definite matrix.
    sym_rtol : float
        ``A`` counts as symmetric when ``max |A - A^T| <= sym_rtol *
        max |A|``. The default allows for round-off in a product such as
        ``B @ B.T`` while catching a matrix that is not symmetric.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        The lower-triangular Cholesky factor ``L``.

    Raises
    ------
    ValueError
        If ``A`` is not a finite non-empty 2-D array, is not square, is not
        symmetric within the tolerance, or is not positive definite; the
        last message names the first pivot (counted from 0) that is not
        positive.

    Examples
    --------
    >>> cholesky([[4.0, 2.0], [2.0, 5.0]])
    array([[2., 0.],
           [1., 2.]])
    >>> cholesky([[1.0, 2.0], [2.0, 1.0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: A is not positive definite: pivot 1 (counted from 0) is -3 ...
    """
    if not (sym_rtol >= 0 and math.isfinite(sym_rtol)):
        raise ValueError(f"sym_rtol must be finite and >= 0, got {sym_rtol}")
    M = _as_matrix(A)
    if M.shape[0] != M.shape[1]:
        raise ValueError(
            f"A is not square: shape {M.shape}; the Cholesky factorisation "
            "needs a symmetric positive definite matrix"
        )
    n = M.shape[0]
    asym = float(np.max(np.abs(M - M.T)))
    scale = float(np.max(np.abs(M)))
    if asym > sym_rtol * scale:
        raise ValueError(
            f"A is not symmetric within tolerance: max |A - A^T| = "
            f"{asym:.1e} > {sym_rtol * scale:.1e}"
        )
    L = np.zeros_like(M)
    for j in range(n):
        pivot = M[j, j] - L[j, :j] @ L[j, :j]
        if not pivot > 0.0:
            raise ValueError(
                f"A is not positive definite: pivot {j} (counted from 0) is "
                f"{pivot:.3g} <= 0"
            )
        L[j, j] = math.sqrt(pivot)
        L[j + 1 :, j] = (M[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    return L


def gaussian_samples(mean, cov, size: int, rng) -> np.ndarray:
    """Draw samples from a multivariate Gaussian with the Cholesky factor.

    If ``z`` has independent standard normal entries and ``cov = L L^T``,
    then ``x = mean + L z`` has mean ``mean`` and covariance
    ``L E[z z^T] L^T = cov``.

    Parameters
    ----------
    mean : array_like, shape (n,)
        The mean vector.
    cov : array_like, shape (n, n)
        A symmetric positive definite covariance matrix.
    size : int
        The number of samples, at least 1.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    numpy.ndarray, shape (size, n)
        One sample per row.

    Raises
    ------
    ValueError
        If the shapes do not match, ``size < 1``, or ``cov`` is not
        symmetric positive definite (see :func:`cholesky`).
    TypeError
        If ``rng`` is not a :class:`numpy.random.Generator`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = gaussian_samples([1.0, -1.0], [[2.0, 0.5], [0.5, 1.0]], 5, rng)
    >>> X.shape
    (5, 2)
    """
    check_generator(rng)
    mu = np.array(mean, dtype=np.float64)
    L = cholesky(cov)
    n = L.shape[0]
    if mu.shape != (n,):
        raise ValueError(
            f"mean must have shape ({n},) to match cov, got {mu.shape}"
        )
    if not np.all(np.isfinite(mu)):
        raise ValueError("mean contains NaN or infinite entries")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise ValueError(f"size must be an integer, got {size!r}")
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    Z = rng.standard_normal((int(size), n))
    return mu + Z @ L.T


def power_iteration(
    A,
    rng,
    tol: float = 1e-10,
    max_iter: int = 1000,
    *,
    x0=None,
    return_history: bool = False,
    on_fail: str = "raise",
):
    """Dominant eigenvalue and eigenvector by power iteration.

    Starting from a random unit vector ``x_0``, repeat ``x_{k+1} = A x_k /
    ||A x_k||`` and estimate the eigenvalue by the Rayleigh quotient
    ``lam_k = x_k^T A x_k``. Iteration stops at the first ``x_k`` whose
    residual is small relative to ``||A x_k||``::

        ||A x_k - lam_k x_k|| <= tol * ||A x_k||.

    Assumptions. ``A`` has a unique eigenvalue ``lam_1`` of largest
    modulus, ``|lam_1| > |lam_2| >= ... >= |lam_n|`` (for a real matrix
    such an eigenvalue is real, since complex eigenvalues come in
    conjugate pairs of equal modulus), and ``x_0`` has a nonzero component
    along its eigenvector (true with probability one for a random start).
    For diagonalisable ``A`` the direction of ``x_k`` then converges to
    the eigenvector with error ``O(|lam_2 / lam_1|^k)``; for symmetric
    ``A`` the eigenvalue estimate converges twice as fast, with error
    ``O(|lam_2 / lam_1|^(2k))``. If two eigenvalues share the largest
    modulus (``lam`` and ``-lam``, or a complex pair) the iterates need not
    converge at all.

    Parameters
    ----------
    A : array_like, shape (n, n)
        A real square matrix.
    rng : numpy.random.Generator
        Draws the starting vector (ignored if ``x0`` is given).
    tol : float
        Relative residual at which to stop; must be positive.
    max_iter : int
        The largest number of matrix-vector products.
    x0 : array_like, shape (n,), optional
        A nonzero starting vector instead of a random one.
    return_history : bool
        Also return the history of the iteration.
    on_fail : {"raise", "warn"}
        What to do if the residual test fails after ``max_iter`` products:
        raise a :class:`RuntimeError`, or issue a :class:`RuntimeWarning`
        and return the last iterate.

    Returns
    -------
    lam : float
        The Rayleigh quotient of the final vector: the estimate of the
        eigenvalue of largest modulus.
    v : numpy.ndarray, shape (n,)
        A unit eigenvector estimate, signed so that its entry of largest
        modulus is positive.
    history : dict, only if ``return_history``
        ``"eigenvalues"`` (the Rayleigh quotients ``lam_0, lam_1, ...``),
        ``"residuals"`` (the relative residuals) and ``"vectors"`` (the
        iterates ``x_0, x_1, ...`` as rows).

    Raises
    ------
    ValueError
        If ``A`` is not a finite non-empty square matrix, ``x0`` has the
        wrong shape or is zero, ``tol <= 0``, ``max_iter < 1`` or
        ``on_fail`` is unknown.
    TypeError
        If ``rng`` is not a :class:`numpy.random.Generator`.
    RuntimeError
        If the iteration has not converged after ``max_iter`` products and
        ``on_fail == "raise"``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> lam, v = power_iteration([[2.0, 1.0], [1.0, 2.0]], rng)
    >>> round(lam, 12), np.round(v, 6)
    (3.0, array([0.707107, 0.707107]))
    """
    M = _as_square(A)
    n = M.shape[0]
    if not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be positive and finite, got {tol}")
    if isinstance(max_iter, bool) or not isinstance(
        max_iter, numbers.Integral
    ):
        raise ValueError(f"max_iter must be an integer, got {max_iter!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    if on_fail not in ("raise", "warn"):
        raise ValueError(f"on_fail must be 'raise' or 'warn', got {on_fail!r}")
    if x0 is None:
        check_generator(rng)
        x = rng.standard_normal(n)
    else:
        x = np.array(x0, dtype=np.float64)
        if x.shape != (n,):
            raise ValueError(f"x0 must have shape ({n},), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x0 contains NaN or infinite entries")
    x_norm = np.linalg.norm(x)
    if x_norm == 0.0:
        raise ValueError("the starting vector x0 must not be zero")
    x = x / x_norm

    lams, residuals, vectors = [], [], [x]
    converged = False
    for it in range(max_iter):
        y = M @ x
        lam = float(x @ y)
        y_norm = float(np.linalg.norm(y))
        res = float(np.linalg.norm(y - lam * x))
        lams.append(lam)
        residuals.append(res / y_norm if y_norm > 0 else 0.0)
        if res <= tol * y_norm:
            converged = True
            break
        if it + 1 == max_iter:
            break  # keep the x that lam and the residual refer to
        x = y / y_norm
        vectors.append(x)
    if not converged:
        message = (
            f"power iteration did not converge in {max_iter} iterations: "
            f"relative residual {residuals[-1]:.1e} > tol {tol:.1e}. Either "
            "A has no unique eigenvalue of largest modulus (e.g. lam and "
            "-lam, or a complex pair) or |lam_2 / lam_1| is close to 1 "
            "(then increase max_iter)"
        )
        if on_fail == "raise":
            raise RuntimeError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    v = x if x[np.argmax(np.abs(x))] > 0 else -x
    if not return_history:
        return lam, v
    history = {
        "eigenvalues": np.array(lams),
        "residuals": np.array(residuals),
        "vectors": np.array(vectors),
    }
    return lam, v, history


def orbit_norms(A, x, n_steps: int) -> np.ndarray:
    """The lengths ``||A^k x||`` for ``k = 0, 1, ..., n_steps``.

    Each step multiplies the previous vector by ``A``, as an iterated map
    ``x_{k+1} = A x_k`` does; no power of ``A`` is formed.

    Parameters
    ----------
    A : array_like, shape (n, n)
        The matrix of the map.
    x : array_like, shape (n,)
        The starting vector ``x_0``.
    n_steps : int
        The number of steps, at least 0.

    Returns
    -------
    numpy.ndarray, shape (n_steps + 1,)
        The Euclidean norms of ``x_0, x_1, ..., x_{n_steps}``.

    Raises
    ------
    ValueError
        If ``A`` is not square, ``x`` does not match, or ``n_steps < 0``.

    Examples
    --------
    >>> orbit_norms([[0.5, 0.0], [0.0, 0.5]], [3.0, 4.0], 2)
    array([5.  , 2.5 , 1.25])
    """
    M = _as_square(A)
    v = np.array(x, dtype=np.float64)
    if v.shape != (M.shape[0],):
        raise ValueError(
            f"x must have shape ({M.shape[0]},) to match A, got {v.shape}"
        )
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
        raise ValueError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 0:
        raise ValueError(f"n_steps must be at least 0, got {n_steps}")
    norms = np.empty(int(n_steps) + 1)
    norms[0] = np.linalg.norm(v)
    for k in range(1, int(n_steps) + 1):
        v = M @ v
        norms[k] = np.linalg.norm(v)
    return norms


def low_rank_approximation(A, k: int) -> np.ndarray:
    """Best approximation of rank at most ``k``, by the truncated SVD.

    With the SVD ``A = sum_i sigma_i u_i v_i^T`` (singular values in
    decreasing order), the result is ``A_k = sum_{i<=k} sigma_i u_i
    v_i^T``. By the Eckart-Young-Mirsky theorem no matrix of rank at most
    ``k`` is closer to ``A``, in the Frobenius norm or in the spectral
    norm: ``||A - A_k||_F^2 = sum_{i>k} sigma_i^2`` and ``||A - A_k||_2 =
    sigma_{k+1}``.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Any finite matrix.
    k : int
        The rank, ``0 <= k <= min(m, n)``; ``k = 0`` gives the zero matrix
        and ``k = min(m, n)`` gives ``A`` back (up to round-off).

    Returns
    -------
    numpy.ndarray, shape (m, n)
        The truncated SVD ``A_k``.

    Raises
    ------
    ValueError
        If ``A`` is not a finite non-empty 2-D array, or ``k`` is not an
        integer between 0 and ``min(m, n)``.

    Examples
    --------
    >>> A = np.diag([3.0, 2.0, 1.0])
    >>> low_rank_approximation(A, 2)
    array([[3., 0., 0.],
           [0., 2., 0.],
           [0., 0., 0.]])
    """
    M = _as_matrix(A)
    p = min(M.shape)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k must be an integer, got {k!r}")
    if not 0 <= k <= p:
        raise ValueError(
            f"k must satisfy 0 <= k <= min(m, n) = {p} for A of shape "
            f"{M.shape}, got k = {k}"
        )
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    return (U[:, :k] * s[:k]) @ Vt[:k]


def pinv(A, rtol: float | None = None) -> np.ndarray:
    """Moore-Penrose pseudoinverse by the SVD, with a relative cutoff.

    With the thin SVD ``A = U diag(sigma) V^T``, the pseudoinverse is
    ``A^+ = V diag(sigma^+) U^T``, where ``sigma_i^+ = 1 / sigma_i`` for
    the singular values kept and 0 for the others. A singular value is
    kept when ``sigma_i > rtol * sigma_1``; smaller ones are treated as
    round-off of an exact zero, because inverting them would amplify noise
    by ``1 / sigma_i``.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Any finite matrix.
    rtol : float, optional
        Relative cutoff. The default ``max(m, n) * eps`` is numpy's
        ``np.linalg.pinv(A, rtol=None)`` (the array-API standard); numpy's
        own default without ``rtol`` is the fixed ``1e-15``.

    Returns
    -------
    numpy.ndarray, shape (n, m)
        The pseudoinverse. It satisfies the four Moore-Penrose conditions
        ``A X A = A``, ``X A X = X``, ``(A X)^T = A X`` and ``(X A)^T = X
        A`` for the matrix whose small singular values were set to zero.

    Raises
    ------
    ValueError
        If ``A`` is not a finite non-empty 2-D array or ``rtol`` is
        negative or not finite.

    Examples
    --------
    >>> pinv([[1.0, 1.0], [1.0, 1.0]])
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    M = _as_matrix(A)
    m, n = M.shape
    if rtol is None:
        rtol = max(m, n) * EPS
    elif not (rtol >= 0 and math.isfinite(rtol)):
        raise ValueError(f"rtol must be finite and >= 0, got {rtol}")
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    keep = s > rtol * s[0]
    s_plus = np.zeros_like(s)
    s_plus[keep] = 1.0 / s[keep]
    return (Vt.T * s_plus) @ U.T
