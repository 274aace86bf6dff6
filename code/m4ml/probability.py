"""Gaussians, conjugate updates, sampling and the exponential family.

Chapter *Probability and distributions* explains these functions and
checks them against :mod:`scipy.stats` and closed forms.

* The multivariate Gaussian: its log-density through a Cholesky
  factorisation (:func:`gaussian_logpdf`), its conditionals through the
  Schur complement (:func:`gaussian_condition`), its image under an affine
  map (:func:`affine_gaussian`) and sampling (:func:`gaussian_sample`).
  None of them forms a matrix inverse: every ``Sigma^{-1} v`` is a pair of
  triangular solves with the Cholesky factor, which is cheaper and more
  accurate than multiplying by an explicit inverse.
* The Beta-Bernoulli model (:func:`beta_bernoulli_posterior`).
* The exponential family (:func:`exp_family_logpdf`) and the Gaussian in
  natural parameters (:func:`gaussian_to_natural`,
  :func:`natural_to_gaussian`, :func:`gaussian_log_partition`).
* Densities of transformed variables (:func:`change_of_variables_pdf`),
  inverse-transform sampling (:func:`inverse_transform_sample`,
  :func:`categorical_inverse_cdf`) and the tools that test a sampler: the
  Kolmogorov-Smirnov statistic (:func:`ks_statistic`) and the
  Dvoretzky-Kiefer-Wolfowitz bound (:func:`dkw_bound`).

Conventions. A data set of ``N`` points in ``R^D`` is an array of shape
``(N, D)``, one point per row; a single point may be given with shape
``(D,)``. Randomness comes only from an ``rng`` argument, a
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from m4ml.validation import check_generator

__all__ = [
    "affine_gaussian",
    "beta_bernoulli_posterior",
    "categorical_inverse_cdf",
    "change_of_variables_pdf",
    "dkw_bound",
    "exp_family_logpdf",
    "gaussian_condition",
    "gaussian_log_partition",
    "gaussian_logpdf",
    "gaussian_sample",
    "gaussian_to_natural",
    "inverse_transform_sample",
    "ks_statistic",
    "natural_to_gaussian",
]

#: Relative asymmetry ``max|S - S^T| / max|S|`` above which a covariance
#: matrix is rejected as not symmetric. Covariances computed in float64
#: (``np.cov``, ``A @ S @ A.T``) are symmetric to about ``D * eps``.
SYMMETRY_RTOL = 1e-10


# ---------------------------------------------------------------- helpers


def _count(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _mean_and_cov(mean, cov) -> tuple[np.ndarray, np.ndarray]:
    """Validate a mean vector and a symmetric covariance matrix."""
    mu = np.asarray(mean, dtype=np.float64)
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(
            f"mean must be a non-empty 1-D array, got shape {mu.shape}"
        )
    D = mu.size
    S = np.asarray(cov, dtype=np.float64)
    if S.shape != (D, D):
        raise ValueError(
            f"cov must have shape ({D}, {D}) to match mean of shape "
            f"({D},), got shape {S.shape}"
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(S))):
        raise ValueError("mean and cov must be finite")
    scale = float(np.max(np.abs(S)))
    asym = float(np.max(np.abs(S - S.T)))
    if asym > SYMMETRY_RTOL * scale:
        raise ValueError(
            "cov is not symmetric: max |cov - cov.T| = "
            f"{asym:.2e} relative to max |cov| = {scale:.2e}"
        )
    return mu, 0.5 * (S + S.T)


def _cholesky(S: np.ndarray, name: str = "cov") -> np.ndarray:
    """The lower Cholesky factor of a symmetric matrix, or a ValueError."""
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(S)[0])
        raise ValueError(
            f"{name} is not positive definite (smallest eigenvalue "
            f"{smallest:.3e}); a Gaussian density needs a symmetric "
            "positive definite covariance"
        ) from None


def _forward_substitution(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L Z = B`` for lower-triangular ``L`` (n, n) and ``B`` (n, k).

    Row ``i`` of ``Z`` depends only on rows ``0..i-1``, which are already
    known: ``z_i = (b_i - L[i, :i] @ Z[:i]) / L[i, i]``. The cost is about
    ``n^2 k`` flops.
    """
    Z = np.empty_like(B, dtype=np.float64)
    for i in range(L.shape[0]):
        Z[i] = (B[i] - L[i, :i] @ Z[:i]) / L[i, i]
    return Z


# ---------------------------------------------------------------- Gaussian


def gaussian_logpdf(x, mean, cov) -> np.ndarray | float:
    """Log-density of the multivariate Gaussian ``N(mean, cov)``.

    With the Cholesky factorisation ``cov = L L^T`` and
    ``z = L^{-1} (x - mean)`` (one triangular solve),

    ``log N(x | mean, cov) = -|z|^2 / 2 - sum_i log L_ii - D log(2 pi) / 2``,

    because ``(x - mean)^T cov^{-1} (x - mean) = |z|^2`` and
    ``det cov = prod_i L_ii^2``. No inverse and no determinant is formed,
    so nothing overflows or underflows in high dimension.

    Parameters
    ----------
    x : array_like, shape (N, D) or (D,)
        ``N`` points, one per row, or a single point.
    mean : array_like, shape (D,)
        The mean vector.
    cov : array_like, shape (D, D)
        The covariance matrix, symmetric positive definite.

    Returns
    -------
    numpy.ndarray of shape (N,), or float
        The log-density at each row of ``x`` (a float for a single point).

    Raises
    ------
    ValueError
        If the shapes do not match, an input is not finite, or ``cov`` is
        not symmetric or not positive definite.

    Examples
    --------
    >>> float(gaussian_logpdf([0.0, 0.0], [0.0, 0.0], np.eye(2)))
    -1.8378770664093453
    >>> bad = [[1.0, 2.0], [2.0, 1.0]]  # symmetric, eigenvalues 3 and -1
    >>> gaussian_logpdf([0.0, 0.0], [0.0, 0.0], bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cov is not positive definite (smallest eigenvalue -1.0...
    """
    mu, S = _mean_and_cov(mean, cov)
    D = mu.size
    X = np.asarray(x, dtype=np.float64)
    if X.ndim not in (1, 2) or X.shape[-1] != D:
        raise ValueError(
            f"x must have shape (N, {D}) or ({D},) to match mean of shape "
            f"({D},), got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("x must be finite")
    L = _cholesky(S)
    Z = _forward_substitution(L, np.atleast_2d(X - mu).T)  # (D, N)
    mahalanobis_sq = np.sum(Z**2, axis=0)
    half_logdet = np.sum(np.log(np.diag(L)))
    logp = -0.5 * mahalanobis_sq - half_logdet - 0.5 * D * np.log(2 * np.pi)
    return float(logp[0]) if X.ndim == 1 else logp


def gaussian_condition(
    mean, cov, idx_given, value
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional distribution of a Gaussian given some coordinates.

    Split ``x ~ N(mean, cov)`` into the given coordinates ``b`` (indices
    ``idx_given``) and the remaining ones ``a`` (in increasing order). Then
    ``x_a | x_b = value`` is Gaussian with

    ``mean_a + cov_ab cov_bb^{-1} (value - mean_b)`` and
    ``cov_aa - cov_ab cov_bb^{-1} cov_ba`` (the Schur complement).

    With ``cov_bb = L L^T``, ``W = L^{-1} cov_ba`` and
    ``r = L^{-1} (value - mean_b)`` these are ``mean_a + W^T r`` and
    ``cov_aa - W^T W``: two triangular solves, no inverse, and a
    conditional covariance that is symmetric by construction.

    Parameters
    ----------
    mean : array_like, shape (D,)
    cov : array_like, shape (D, D)
        Symmetric positive definite.
    idx_given : sequence of int
        Distinct indices in ``0, ..., D - 1`` of the observed coordinates;
        at least one, and at least one coordinate must remain.
    value : array_like, shape (len(idx_given),)
        The observed values, in the order of ``idx_given``.

    Returns
    -------
    mean_cond : numpy.ndarray, shape (D - len(idx_given),)
    cov_cond : numpy.ndarray, shape (D - len(idx_given),) * 2
        For the remaining coordinates, in increasing index order.

    Raises
    ------
    ValueError
        For a covariance that is not symmetric positive definite, indices
        that are out of range, repeated, not integers, empty or all of
        them, or a ``value`` of the wrong shape.

    Examples
    --------
    >>> m, C = gaussian_condition([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]],
    ...                           [1], [2.0])
    >>> m, C
    (array([1.]), array([[0.75]]))
    """
    mu, S = _mean_and_cov(mean, cov)
    D = mu.size
    _cholesky(S)  # the joint covariance must be positive definite
    idx = np.asarray(idx_given)
    if (
        idx.ndim != 1
        or idx.size == 0
        or not (np.issubdtype(idx.dtype, np.integer))
    ):
        raise ValueError(
            "idx_given must be a non-empty 1-D sequence of integers, got "
            f"{idx_given!r}"
        )
    if np.any(idx < 0) or np.any(idx >= D):
        raise ValueError(
            f"idx_given must lie in 0..{D - 1}, got {idx.tolist()}"
        )
    if np.unique(idx).size != idx.size:
        raise ValueError(f"idx_given has repeated indices: {idx.tolist()}")
    rest = np.setdiff1d(np.arange(D), idx)
    if rest.size == 0:
        raise ValueError("idx_given names every coordinate: none remain")
    v = np.asarray(value, dtype=np.float64)
    if v.shape != idx.shape:
        raise ValueError(
            f"value must have shape {idx.shape} to match idx_given, "
            f"got shape {v.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError("value must be finite")
    L_b = np.linalg.cholesky(S[np.ix_(idx, idx)])
    W = _forward_substitution(L_b, S[np.ix_(idx, rest)])
    r = _forward_substitution(L_b, (v - mu[idx])[:, None])[:, 0]
    mean_cond = mu[rest] + W.T @ r
    cov_cond = S[np.ix_(rest, rest)] - W.T @ W
    return mean_cond, cov_cond


def affine_gaussian(mean, cov, A, b) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of ``y = A x + b`` for ``x`` with moments given.

    ``E[y] = A mean + b`` and ``Cov[y] = A cov A^T``. These hold for any
    random vector with that mean and covariance; if ``x`` is Gaussian,
    so is ``y``, with exactly these parameters.

    Parameters
    ----------
    mean : array_like, shape (D,)
    cov : array_like, shape (D, D)
        Symmetric (positive semidefinite suffices here).
    A : array_like, shape (M, D)
    b : array_like, shape (M,)

    Returns
    -------
    mean_y : numpy.ndarray, shape (M,)
    cov_y : numpy.ndarray, shape (M, M)

    Examples
    --------
    >>> m, C = affine_gaussian([1.0, 2.0], np.eye(2), [[1.0, 1.0]], [0.5])
    >>> m, C
    (array([3.5]), array([[2.]]))
    """
    mu, S = _mean_and_cov(mean, cov)
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] != mu.size:
        raise ValueError(
            f"A must have shape (M, {mu.size}), got shape {A.shape}"
        )
    if b.shape != (A.shape[0],):
        raise ValueError(
            f"b must have shape ({A.shape[0]},), got shape {b.shape}"
        )
    cov_y = A @ S @ A.T
    return A @ mu + b, 0.5 * (cov_y + cov_y.T)


def gaussian_sample(mean, cov, n: int, rng: np.random.Generator):
    """Draw ``n`` samples of ``N(mean, cov)`` as ``mean + L z``.

    With ``cov = L L^T`` and ``z`` standard normal, ``mean + L z`` has
    mean ``mean`` and covariance ``L I L^T = cov``.

    Parameters
    ----------
    mean : array_like, shape (D,)
    cov : array_like, shape (D, D)
        Symmetric positive definite.
    n : int
        Number of samples.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, D)
        One sample per row.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> gaussian_sample([0.0, 10.0], np.eye(2), 3, rng).shape
    (3, 2)
    """
    mu, S = _mean_and_cov(mean, cov)
    n = _count(n, "n")
    L = _cholesky(S)
    Z = check_generator(rng).standard_normal((n, mu.size))
    return mu + Z @ L.T


# ---------------------------------------------------------------- conjugacy


def beta_bernoulli_posterior(alpha, beta, flips) -> tuple[float, float]:
    """Posterior ``Beta(alpha + h, beta + t)`` after Bernoulli observations.

    With the prior ``theta ~ Beta(alpha, beta)`` and ``flips`` i.i.d.
    ``Bernoulli(theta)`` given ``theta``, the posterior is again a Beta
    distribution; ``h`` is the number of ones (heads) and ``t`` the
    number of zeros (tails).

    Parameters
    ----------
    alpha, beta : float
        Prior parameters, positive.
    flips : array_like of 0/1 (or bool), shape (n,)
        The observations; may be empty.

    Returns
    -------
    (float, float)
        The posterior parameters ``(alpha + h, beta + t)``.

    Examples
    --------
    >>> beta_bernoulli_posterior(1.0, 1.0, [1, 0, 1, 1])
    (4.0, 2.0)
    """
    a, b = float(alpha), float(beta)
    if not (math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0):
        raise ValueError(
            f"alpha and beta must be positive and finite, got {alpha!r}, "
            f"{beta!r}"
        )
    x = np.asarray(flips)
    if x.ndim != 1:
        raise ValueError(f"flips must be 1-D, got shape {x.shape}")
    if x.size and not np.all((x == 0) | (x == 1)):
        raise ValueError("flips must contain only 0 and 1 (or booleans)")
    heads = int(np.count_nonzero(x))
    return a + heads, b + (x.size - heads)


# ------------------------------------------------------ exponential family


def exp_family_logpdf(
    x,
    eta,
    sufficient_stats: Callable[[np.ndarray], np.ndarray],
    log_partition: Callable[[np.ndarray], float],
    log_base_measure: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Log-density ``log h(x) + eta^T T(x) - A(eta)`` of an exponential family.

    Parameters
    ----------
    x : array_like, shape (N,)
        Points (scalar observations).
    eta : array_like, shape (K,)
        Natural parameters.
    sufficient_stats : callable
        ``T``: maps ``x`` of shape (N,) to an array of shape (N, K).
    log_partition : callable
        ``A``: maps ``eta`` to a float.
    log_base_measure : callable
        ``log h``: maps ``x`` to an array of shape (N,).

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    A Bernoulli variable with ``eta = log(p / (1 - p))``:

    >>> lp = exp_family_logpdf(
    ...     [0.0, 1.0], [np.log(3.0)],
    ...     lambda x: x[:, None],
    ...     lambda e: float(np.logaddexp(0.0, e[0])),
    ...     np.zeros_like)
    >>> np.exp(lp)
    array([0.25, 0.75])
    """
    xs = np.asarray(x, dtype=np.float64)
    e = np.asarray(eta, dtype=np.float64)
    if xs.ndim != 1 or e.ndim != 1:
        raise ValueError(
            f"x and eta must be 1-D, got shapes {xs.shape} and {e.shape}"
        )
    T = np.asarray(sufficient_stats(xs), dtype=np.float64)
    if T.shape != (xs.size, e.size):
        raise ValueError(
            f"sufficient_stats(x) must have shape ({xs.size}, {e.size}), "
            f"got shape {T.shape}"
        )
    return (
        np.asarray(log_base_measure(xs), dtype=np.float64)
        + T @ e
        - float(log_partition(e))
    )


def gaussian_to_natural(mu, var) -> np.ndarray:
    """Natural parameters ``(mu / var, -1 / (2 var))`` of ``N(mu, var)``.

    Examples
    --------
    >>> gaussian_to_natural(1.0, 0.5)
    array([ 2., -1.])
    """
    mu, var = float(mu), float(var)
    if not (math.isfinite(mu) and math.isfinite(var) and var > 0):
        raise ValueError(
            f"mu must be finite and var positive, got {mu!r}, {var!r}"
        )
    return np.array([mu / var, -0.5 / var])


def natural_to_gaussian(eta) -> tuple[float, float]:
    """Mean and variance ``(-eta1 / (2 eta2), -1 / (2 eta2))``.

    Examples
    --------
    >>> natural_to_gaussian([2.0, -1.0])
    (1.0, 0.5)
    """
    eta1, eta2 = _gaussian_eta(eta)
    return -eta1 / (2 * eta2), -1 / (2 * eta2)


def gaussian_log_partition(eta) -> float:
    """Log-partition ``A(eta) = -eta1^2 / (4 eta2) - log(-2 eta2) / 2``.

    This is the ``A`` of the univariate Gaussian written as an exponential
    family with ``T(x) = (x, x^2)`` and ``h(x) = 1 / sqrt(2 pi)``; it is
    finite exactly when ``eta2 < 0``.

    Examples
    --------
    >>> gaussian_log_partition([0.0, -0.5])  # N(0, 1): A = 0
    0.0
    """
    eta1, eta2 = _gaussian_eta(eta)
    return -(eta1**2) / (4 * eta2) - 0.5 * math.log(-2 * eta2)


def _gaussian_eta(eta) -> tuple[float, float]:
    e = np.asarray(eta, dtype=np.float64)
    if e.shape != (2,) or not np.all(np.isfinite(e)):
        raise ValueError(f"eta must be two finite numbers, got {eta!r}")
    if not e[1] < 0:
        raise ValueError(
            f"the Gaussian needs eta2 < 0 (a positive variance), got {e[1]}"
        )
    return float(e[0]), float(e[1])


# ------------------------------------------- transformations and sampling


def change_of_variables_pdf(
    pdf_x: Callable[[np.ndarray], np.ndarray],
    g_inv: Callable[[np.ndarray], np.ndarray],
    g_inv_prime: Callable[[np.ndarray], np.ndarray],
) -> Callable[[np.ndarray], np.ndarray]:
    """Density of ``Y = g(X)`` for a smooth, strictly monotone ``g``.

    ``p_Y(y) = p_X(g^{-1}(y)) |(g^{-1})'(y)|`` for ``y`` in the range of
    ``g``. The caller supplies the inverse and its derivative, and must
    return zero (or pass only points) outside the range of ``g``.

    Parameters
    ----------
    pdf_x : callable
        The density of ``X``, acting elementwise on arrays.
    g_inv, g_inv_prime : callable
        ``g^{-1}`` and its derivative, acting elementwise.

    Returns
    -------
    callable
        ``y -> p_Y(y)``, acting elementwise.

    Examples
    --------
    ``Y = 2 X`` for ``X`` uniform on (0, 1) is uniform on (0, 2):

    >>> p = change_of_variables_pdf(
    ...     lambda x: ((0 < x) & (x < 1)).astype(float),
    ...     lambda y: y / 2, lambda y: np.full_like(y, 0.5))
    >>> p(np.array([0.5, 1.5, 2.5]))
    array([0.5, 0.5, 0. ])
    """

    def pdf_y(y):
        y = np.asarray(y, dtype=np.float64)
        return pdf_x(g_inv(y)) * np.abs(g_inv_prime(y))

    return pdf_y


def inverse_transform_sample(
    inv_cdf: Callable[[np.ndarray], np.ndarray],
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw ``n`` samples as ``F^{-1}(U)`` with ``U`` uniform on [0, 1).

    If ``inv_cdf`` is the generalised inverse
    ``F^{-1}(u) = inf {x : F(x) >= u}`` of a cdf ``F``, the samples have
    cdf ``F``.

    Parameters
    ----------
    inv_cdf : callable
        The (generalised) inverse cdf, acting elementwise on an array of
        uniforms in [0, 1).
    n : int
        Number of samples, positive.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    Exponential samples with rate 2, ``F^{-1}(u) = -log(1 - u) / 2``:

    >>> rng = np.random.default_rng(0)
    >>> x = inverse_transform_sample(lambda u: -np.log1p(-u) / 2, 5, rng)
    >>> x.shape, bool(np.all(x >= 0))
    ((5,), True)
    """
    n = _count(n, "n")
    u = check_generator(rng).random(n)
    x = np.asarray(inv_cdf(u))
    if x.shape != (n,):
        raise ValueError(
            f"inv_cdf must map an array of shape ({n},) to the same shape, "
            f"got shape {x.shape}"
        )
    return x


def categorical_inverse_cdf(p) -> Callable[[np.ndarray], np.ndarray]:
    """Generalised inverse cdf of a categorical distribution on 0..K-1.

    ``F^{-1}(u)`` is the smallest ``k`` with ``p_0 + ... + p_k >= u``.

    Parameters
    ----------
    p : array_like, shape (K,)
        Probabilities, non-negative and summing to 1 (within 1e-12).

    Returns
    -------
    callable
        ``u -> k``, mapping an array of uniforms to integer labels.

    Examples
    --------
    >>> inv = categorical_inverse_cdf([0.2, 0.5, 0.3])
    >>> inv(np.array([0.1, 0.2, 0.21, 0.7, 0.99]))
    array([0, 0, 1, 1, 2])
    """
    probs = np.asarray(p, dtype=np.float64)
    if probs.ndim != 1 or probs.size == 0:
        raise ValueError(f"p must be a non-empty 1-D array, got {p!r}")
    if np.any(~np.isfinite(probs)) or np.any(probs < 0):
        raise ValueError("p must be finite and non-negative")
    if abs(probs.sum() - 1.0) > 1e-12:
        raise ValueError(f"p must sum to 1, got sum {probs.sum()!r}")
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0  # no label K from round-off in the sum

    def inv(u):
        return np.searchsorted(cdf, np.asarray(u), side="left")

    return inv


def ks_statistic(samples, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """Kolmogorov-Smirnov distance ``sup_x |F_n(x) - F(x)|``.

    ``F_n`` is the empirical cdf of the samples. For a continuous ``F`` the
    supremum is attained next to a sample point, so with the sorted
    samples ``x_(1) <= ... <= x_(n)`` it equals
    ``max_i max(i / n - F(x_(i)), F(x_(i)) - (i - 1) / n)``.

    Parameters
    ----------
    samples : array_like, shape (n,)
    cdf : callable
        The continuous target cdf, acting elementwise.

    Returns
    -------
    float

    Examples
    --------
    >>> ks_statistic([0.5], lambda x: x)  # uniform on (0, 1)
    0.5
    """
    x = np.sort(np.asarray(samples, dtype=np.float64))
    if x.ndim != 1 or x.size == 0:
        raise ValueError("samples must be a non-empty 1-D array")
    n = x.size
    F = np.asarray(cdf(x), dtype=np.float64)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))


def dkw_bound(n: int, alpha: float) -> float:
    """Radius ``eps`` with ``P(sup |F_n - F| > eps) <= alpha``.

    The Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant,
    ``P(sup_x |F_n(x) - F(x)| > eps) <= 2 exp(-2 n eps^2)``, holds for
    every ``n`` and every cdf ``F``; solving ``2 exp(-2 n eps^2) = alpha``
    gives ``eps = sqrt(log(2 / alpha) / (2 n))``.

    Examples
    --------
    >>> round(dkw_bound(10_000, 0.001), 5)
    0.01949
    """
    n = _count(n, "n")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return math.sqrt(math.log(2 / alpha) / (2 * n))
