"""Gaussian mixture models, the EM algorithm and k-means.

Chapter *Density estimation with Gaussian mixtures* explains these
functions and checks them against scikit-learn and closed forms.

* The mixture density: the matrix of log joint densities
  ``log pi_k + log N(x_n | mu_k, Sigma_k)`` (:func:`log_joint`), the
  log-density of each point (:func:`gmm_logpdf`) and the log-likelihood of
  a data set (:func:`gmm_log_likelihood`), all through a stable
  log-sum-exp (:func:`logsumexp`). Sampling by first drawing the latent
  component (:func:`sample_gmm`).
* The EM algorithm: the E-step (:func:`e_step`), the M-step
  (:func:`m_step`), the evidence lower bound (:func:`elbo`) and the loop
  that alternates them (:func:`fit_gmm`, returning a :class:`GMMResult`).
* Model selection: the number of free parameters (:func:`n_parameters`)
  and the Bayesian information criterion (:func:`bic`).
* Hard clustering: Lloyd's k-means (:func:`kmeans`) and EM for a mixture
  with equal weights and a fixed shared covariance ``sigma2 I``
  (:func:`soft_kmeans`), which becomes k-means as ``sigma2 -> 0``.

Conventions. A data set of ``N`` points in ``R^D`` is an array ``X`` of
shape ``(N, D)``. A mixture of ``K`` components has ``weights`` of shape
``(K,)`` (non-negative, summing to one), ``means`` of shape ``(K, D)`` and
``covs`` of shape ``(K, D, D)``. Responsibilities ``resp`` have shape
``(N, K)``. Log-likelihoods are sums over the data set, in nats.
Randomness comes only from an ``rng`` argument, a
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping

import numpy as np

from m4ml.probability import gaussian_logpdf, gaussian_sample
from m4ml.validation import check_generator

__all__ = [
    "GMMResult",
    "KMeansResult",
    "bic",
    "e_step",
    "elbo",
    "fit_gmm",
    "gmm_log_likelihood",
    "gmm_logpdf",
    "kmeans",
    "log_joint",
    "logsumexp",
    "m_step",
    "n_parameters",
    "sample_gmm",
    "soft_kmeans",
]

#: Added to each ``N_k`` in the M-step so that a component that is
#: responsible for no point does not divide by zero (scikit-learn does
#: the same).
NK_FLOOR = 10 * np.finfo(np.float64).eps

#: How far the weights may sum from one, and the rows of ``resp``.
SUM_TOL = 1e-8


# ---------------------------------------------------------------- helpers


def _count(n, name: str, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n}")
    return int(n)


def _nonneg(value, name: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return value


def _data(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            "X must be a non-empty 2-D array of shape (N, D), one point "
            f"per row; got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    return X


def _mixture(weights, means, covs, D: int | None = None):
    """Validate the parameters of a mixture; return them as float arrays."""
    w = np.asarray(weights, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    S = np.asarray(covs, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(
            f"weights must be a non-empty 1-D array, got shape {w.shape}"
        )
    K = w.size
    if mu.ndim != 2 or mu.shape[0] != K:
        raise ValueError(
            f"means must have shape ({K}, D) to match {K} weights, got "
            f"shape {mu.shape}"
        )
    if D is not None and mu.shape[1] != D:
        raise ValueError(
            f"means must have shape ({K}, {D}) to match X with {D} "
            f"columns, got shape {mu.shape}"
        )
    D = mu.shape[1]
    if S.shape != (K, D, D):
        raise ValueError(
            f"covs must have shape ({K}, {D}, {D}), got shape {S.shape}"
        )
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValueError("weights must be finite and non-negative")
    if abs(w.sum() - 1.0) > SUM_TOL:
        raise ValueError(f"weights must sum to 1, they sum to {w.sum()!r}")
    return w, mu, S


def _resp(resp, N: int | None = None) -> np.ndarray:
    R = np.asarray(resp, dtype=np.float64)
    if R.ndim != 2 or R.shape[1] == 0:
        raise ValueError(
            f"resp must be a 2-D array of shape (N, K), got shape {R.shape}"
        )
    if N is not None and R.shape[0] != N:
        raise ValueError(
            f"resp must have one row per point: shape ({N}, K), got shape "
            f"{R.shape}"
        )
    if not (np.all(np.isfinite(R)) and np.all(R >= 0)):
        raise ValueError("resp must be finite and non-negative")
    if np.max(np.abs(R.sum(axis=1) - 1.0)) > SUM_TOL:
        raise ValueError("each row of resp must sum to 1")
    return R


# ---------------------------------------------------------------- density


def logsumexp(a, axis: int = -1) -> np.ndarray:
    """``log sum_k exp(a_k)`` along an axis, without overflow or underflow.

    With ``m = max_k a_k``, ``log sum_k exp(a_k) = m + log sum_k
    exp(a_k - m)``; every exponent is now at most zero, and the largest
    term is ``exp(0) = 1``, so the sum neither overflows nor underflows to
    zero. Entries equal to ``-inf`` (probability zero) are allowed; a
    slice that is all ``-inf`` gives ``-inf``.

    Parameters
    ----------
    a : array_like
        Log-values.
    axis : int
        The axis to sum over.

    Returns
    -------
    numpy.ndarray
        The array with ``axis`` removed (a 0-d array for 1-D input).

    Examples
    --------
    >>> round(float(logsumexp([1000.0, 1000.0])) - 1000.0, 6)  # naive: inf
    0.693147
    >>> float(logsumexp([-1000.0, -np.inf]))  # naive: -inf
    -1000.0
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        raise ValueError("logsumexp needs a non-empty array")
    if np.any(np.isnan(a)) or np.any(a == np.inf):
        raise ValueError("logsumexp needs values that are not NaN or +inf")
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice: shift by 0
    with np.errstate(divide="ignore"):  # log 0 = -inf is the right answer
        out = m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


def log_joint(X, weights, means, covs) -> np.ndarray:
    """The matrix of ``log pi_k + log N(x_n | mu_k, Sigma_k)``.

    Entry ``(n, k)`` is the log of the joint density ``p(x_n, z_n = k)``
    of a point and its component. Summing the exponentials of a row over
    ``k`` gives the mixture density of ``x_n`` (the sum rule); dividing
    them by that sum gives the responsibilities (Bayes' theorem).

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : array_like, shape (K,)
        Mixture weights, non-negative and summing to one.
    means : array_like, shape (K, D)
    covs : array_like, shape (K, D, D)
        Symmetric positive definite covariances.

    Returns
    -------
    numpy.ndarray, shape (N, K)

    Examples
    --------
    >>> L = log_joint([[0.0]], [0.5, 0.5], [[0.0], [1.0]], [[[1.0]]] * 2)
    >>> np.round(L, 4)
    array([[-1.6121, -2.1121]])
    """
    X = _data(X)
    w, mu, S = _mixture(weights, means, covs, X.shape[1])
    with np.errstate(divide="ignore"):  # a weight of 0 has log -inf
        log_w = np.log(w)
    cols = [gaussian_logpdf(X, mu[k], S[k]) for k in range(w.size)]
    return log_w + np.column_stack(cols)


def gmm_logpdf(X, weights, means, covs) -> np.ndarray:
    """Log-density of the mixture at each point.

    ``log p(x_n) = log sum_k pi_k N(x_n | mu_k, Sigma_k)``, computed as a
    log-sum-exp over the rows of :func:`log_joint`.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> lp = gmm_logpdf([[0.0], [5.0]], [1.0], [[0.0]], [[[1.0]]])
    >>> np.round(lp, 4)
    array([ -0.9189, -13.4189])
    """
    return logsumexp(log_joint(X, weights, means, covs), axis=1)


def gmm_log_likelihood(X, weights, means, covs) -> float:
    """Log-likelihood ``sum_n log p(x_n)`` of a data set under a mixture.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : array_like, shape (K,)
    means : array_like, shape (K, D)
    covs : array_like, shape (K, D, D)

    Returns
    -------
    float
        The log-likelihood in nats (a sum, not an average, over points).

    Examples
    --------
    >>> X = [[-1.0], [1.0]]
    >>> ll = gmm_log_likelihood(X, [1.0], [[0.0]], [[[1.0]]])
    >>> round(ll, 6)  # 2 * (-log(2 pi) / 2 - 1 / 2)
    -2.837877
    """
    return float(np.sum(gmm_logpdf(X, weights, means, covs)))


def sample_gmm(weights, means, covs, n: int, rng: np.random.Generator):
    """Draw ``n`` points from a mixture by ancestral sampling.

    First draw the component ``z ~ Categorical(weights)``, then the point
    ``x | z = k ~ N(mu_k, Sigma_k)``; the pair has the joint density
    ``pi_k N(x | mu_k, Sigma_k)``, so ``x`` alone has the mixture density.

    Returns
    -------
    X : numpy.ndarray, shape (n, D)
    z : numpy.ndarray of int, shape (n,)
        The component of each point (the latent variable).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, z = sample_gmm([0.5, 0.5], [[0.0], [9.0]], [[[1.0]]] * 2, 4, rng)
    >>> X.shape, z.shape
    ((4, 1), (4,))
    """
    w, mu, S = _mixture(weights, means, covs)
    n = _count(n, "n")
    rng = check_generator(rng)
    z = rng.choice(w.size, size=n, p=w / w.sum())
    X = np.empty((n, mu.shape[1]))
    for k in range(w.size):
        idx = np.flatnonzero(z == k)
        if idx.size:
            X[idx] = gaussian_sample(mu[k], S[k], idx.size, rng)
    return X, z


# ---------------------------------------------------------------- EM


def e_step(X, weights, means, covs) -> tuple[np.ndarray, float]:
    """The E-step: responsibilities by Bayes' theorem, and the likelihood.

    ``r_nk = pi_k N(x_n | mu_k, Sigma_k) / sum_j pi_j N(x_n | mu_j,
    Sigma_j)``, the posterior probability ``p(z_n = k | x_n)``. It is
    computed in logs, ``log r_nk = log_joint[n, k] - logsumexp_k(...)``,
    so that points far from every component (whose densities all
    underflow) still get well-defined responsibilities. The denominator
    is the density of ``x_n``, so the log-likelihood comes for free.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : array_like, shape (K,)
    means : array_like, shape (K, D)
    covs : array_like, shape (K, D, D)

    Returns
    -------
    resp : numpy.ndarray, shape (N, K)
        Non-negative, each row summing to one.
    log_likelihood : float
        ``sum_n log p(x_n)`` at the given parameters.

    Examples
    --------
    >>> resp, ll = e_step([[0.0], [0.5]], [0.5, 0.5], [[0.0], [1.0]],
    ...                   [[[1.0]]] * 2)
    >>> np.round(resp, 4)
    array([[0.6225, 0.3775],
           [0.5   , 0.5   ]])
    """
    L = log_joint(X, weights, means, covs)
    log_px = logsumexp(L, axis=1)
    resp = np.exp(L - log_px[:, None])
    return resp, float(np.sum(log_px))


def m_step(
    X, resp, reg_covar: float = 1e-6
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The M-step: weighted maximum likelihood for every component.

    With ``N_k = sum_n r_nk``, the maximisers of the expected complete-data
    log-likelihood are

    * ``pi_k = N_k / N``,
    * ``mu_k = sum_n r_nk x_n / N_k`` (a weighted mean),
    * ``Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k``
      (a weighted covariance) ``+ reg_covar I``.

    The floor ``reg_covar`` on the diagonal keeps every covariance
    positive definite even if a component collapses onto a single point,
    where the likelihood is unbounded. A tiny ``N_k`` floor
    (:data:`NK_FLOOR`) avoids 0 / 0 for a component with no points.

    Parameters
    ----------
    X : array_like, shape (N, D)
    resp : array_like, shape (N, K)
        Responsibilities: non-negative, rows summing to one.
    reg_covar : float
        Non-negative number added to the diagonal of each covariance.

    Returns
    -------
    weights : numpy.ndarray, shape (K,)
    means : numpy.ndarray, shape (K, D)
    covs : numpy.ndarray, shape (K, D, D)

    Examples
    --------
    >>> X = [[0.0], [2.0], [10.0]]
    >>> w, mu, S = m_step(X, [[1, 0], [1, 0], [0, 1]], reg_covar=0.0)
    >>> np.round(w, 4), np.round(mu.ravel(), 4), np.round(S.ravel(), 4)
    (array([0.6667, 0.3333]), array([ 1., 10.]), array([1., 0.]))
    """
    X = _data(X)
    R = _resp(resp, X.shape[0])
    reg_covar = _nonneg(reg_covar, "reg_covar")
    N, D = X.shape
    Nk = R.sum(axis=0) + NK_FLOOR
    weights = Nk / Nk.sum()
    means = (R.T @ X) / Nk[:, None]
    covs = np.empty((R.shape[1], D, D))
    for k in range(R.shape[1]):
        diff = X - means[k]
        covs[k] = (R[:, k] * diff.T) @ diff / Nk[k]
        covs[k] = 0.5 * (covs[k] + covs[k].T)
        covs[k].flat[:: D + 1] += reg_covar
    return weights, means, covs


def elbo(X, resp, weights, means, covs) -> float:
    """The evidence lower bound for a distribution ``q`` over components.

    ``ELBO(q, theta) = sum_n sum_k q_nk (log pi_k + log N(x_n | mu_k,
    Sigma_k) - log q_nk)``, with ``0 log 0 = 0``. It equals
    ``log p(X | theta) - sum_n KL(q_n || p(z_n | x_n, theta))``, so it is
    at most the log-likelihood, with equality exactly when ``q`` holds the
    responsibilities of :func:`e_step`.

    Parameters
    ----------
    X : array_like, shape (N, D)
    resp : array_like, shape (N, K)
        The distribution ``q``: row ``n`` is a distribution over the
        components of point ``n``.
    weights, means, covs
        The mixture parameters ``theta``.

    Returns
    -------
    float

    Examples
    --------
    >>> X, w, mu, S = [[0.0]], [0.5, 0.5], [[0.0], [1.0]], [[[1.0]]] * 2
    >>> resp, ll = e_step(X, w, mu, S)
    >>> bool(np.isclose(elbo(X, resp, w, mu, S), ll))
    True
    >>> bool(elbo(X, [[0.5, 0.5]], w, mu, S) < ll)
    True
    """
    L = log_joint(X, weights, means, covs)
    Q = _resp(resp, L.shape[0])
    if Q.shape != L.shape:
        raise ValueError(
            f"resp must have shape {L.shape} to match X and {L.shape[1]} "
            f"components, got shape {Q.shape}"
        )
    pos = Q > 0  # terms with q = 0 contribute 0 (0 log 0 = 0)
    return float(np.sum(Q[pos] * (L[pos] - np.log(Q[pos]))))


@dataclasses.dataclass
class GMMResult:
    """A Gaussian mixture fitted by EM.

    Attributes
    ----------
    weights : numpy.ndarray, shape (K,)
    means : numpy.ndarray, shape (K, D)
    covs : numpy.ndarray, shape (K, D, D)
        The final parameters.
    log_likelihoods : numpy.ndarray, shape (n_iter + 1,)
        The log-likelihood ``sum_n log p(x_n)`` at the initial parameters
        (entry 0) and after each EM iteration (entry ``t``).
    resp : numpy.ndarray, shape (N, K)
        The responsibilities at the final parameters.
    n_iter : int
        The number of EM iterations run.
    converged : bool
        Whether the stopping rule on ``tol`` was met.
    history : list of tuple
        ``(weights, means, covs)`` at the start and after every
        iteration, if ``keep_history`` was set; otherwise empty.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    log_likelihoods: np.ndarray
    resp: np.ndarray
    n_iter: int
    converged: bool
    history: list = dataclasses.field(default_factory=list)

    @property
    def log_likelihood(self) -> float:
        """The log-likelihood at the final parameters."""
        return float(self.log_likelihoods[-1])


def _initial_parameters(X, k, rng, reg_covar, init):
    """Initial weights, means and covariances for EM."""
    N, D = X.shape
    init = {} if init is None else init
    if not isinstance(init, Mapping):
        raise ValueError(
            "init must be None or a mapping with some of the keys "
            "'weights', 'means', 'covs'"
        )
    unknown = set(init) - {"weights", "means", "covs"}
    if unknown:
        raise ValueError(f"unknown keys in init: {sorted(unknown)}")
    if "means" in init:
        means = np.array(init["means"], dtype=np.float64)
    else:  # k distinct data points, chosen at random
        means = X[rng.choice(N, size=k, replace=False)].copy()
    if "covs" in init:
        covs = np.array(init["covs"], dtype=np.float64)
    else:  # the covariance of the whole data set, for every component
        S = np.atleast_2d(np.cov(X, rowvar=False, bias=True))
        S.flat[:: D + 1] += reg_covar
        covs = np.repeat(S[None], k, axis=0)
    if "weights" in init:
        weights = np.array(init["weights"], dtype=np.float64)
    else:
        weights = np.full(k, 1.0 / k)
    if weights.shape != (k,):
        raise ValueError(
            f"init['weights'] must have shape ({k},), got {weights.shape}"
        )
    _mixture(weights, means, covs, D)
    return weights, means, covs


def fit_gmm(
    X,
    k: int,
    rng: np.random.Generator,
    n_iter: int = 100,
    tol: float = 1e-6,
    reg_covar: float = 1e-6,
    init: Mapping | None = None,
    n_init: int = 1,
    keep_history: bool = False,
) -> GMMResult:
    """Fit a Gaussian mixture with full covariances by EM.

    Each iteration runs :func:`e_step` (responsibilities at the current
    parameters) and then :func:`m_step` (new parameters from the
    responsibilities). The log-likelihood never decreases from one
    iteration to the next; the loop stops when the average log-likelihood
    per point increases by less than ``tol``, or after ``n_iter``
    iterations.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data, one point per row.
    k : int
        The number of components, ``1 <= k <= N``.
    rng : numpy.random.Generator
        Chooses the initial means (``k`` distinct data points) unless
        ``init`` gives them.
    n_iter : int
        The largest number of EM iterations (``>= 0``).
    tol : float
        Stop when the gain in ``log-likelihood / N`` is below ``tol``.
    reg_covar : float
        Added to the diagonal of every covariance in the M-step.
    init : mapping, optional
        Initial ``'weights'``, ``'means'`` and/or ``'covs'``. Missing
        entries default to uniform weights, random data points as means
        and the data covariance (plus ``reg_covar I``) for every component.
    n_init : int
        Run EM from this many random initialisations and keep the one
        with the largest final log-likelihood. Needs ``init`` to leave
        out the means.
    keep_history : bool
        Keep the parameters of every iteration in ``result.history``.

    Returns
    -------
    GMMResult

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array, ``k`` is not an integer in
        ``[1, N]``, an option is out of range, or ``init`` has the wrong
        shapes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (50, 1)),
    ...                     rng.normal(3, 1, (50, 1))])
    >>> res = fit_gmm(X, 2, rng)
    >>> np.round(np.sort(res.means.ravel()))
    array([-3.,  3.])
    >>> bool(np.all(np.diff(res.log_likelihoods) >= -1e-9))
    True
    """
    X = _data(X)
    N = X.shape[0]
    k = _count(k, "k")
    if k > N:
        raise ValueError(
            f"k = {k} components need at least {k} points, but X has {N}"
        )
    n_iter = _count(n_iter, "n_iter", minimum=0)
    n_init = _count(n_init, "n_init")
    tol = _nonneg(tol, "tol")
    reg_covar = _nonneg(reg_covar, "reg_covar")
    rng = check_generator(rng)
    if n_init > 1 and init is not None and "means" in init:
        raise ValueError("n_init > 1 needs random initial means")
    best = None
    for _ in range(n_init):
        w, mu, S = _initial_parameters(X, k, rng, reg_covar, init)
        history = [(w, mu, S)] if keep_history else []
        resp, ll = e_step(X, w, mu, S)
        lls = [ll]
        converged = False
        for _ in range(n_iter):
            w, mu, S = m_step(X, resp, reg_covar)
            resp, ll = e_step(X, w, mu, S)
            lls.append(ll)
            if keep_history:
                history.append((w, mu, S))
            if abs(lls[-1] - lls[-2]) / N < tol:
                converged = True
                break
        result = GMMResult(
            w, mu, S, np.array(lls), resp, len(lls) - 1, converged, history
        )
        if best is None or result.log_likelihood > best.log_likelihood:
            best = result
    return best


# ---------------------------------------------------------------- choosing K


def n_parameters(k: int, d: int) -> int:
    """Free parameters of a ``k``-component full-covariance mixture in R^d.

    ``k - 1`` weights (they sum to one), ``k d`` mean entries and
    ``k d (d + 1) / 2`` covariance entries (each covariance is symmetric).

    Examples
    --------
    >>> n_parameters(1, 2)  # a mean (2) and a symmetric 2 x 2 matrix (3)
    5
    """
    k, d = _count(k, "k"), _count(d, "d")
    return (k - 1) + k * d + k * d * (d + 1) // 2


def bic(log_likelihood: float, k: int, d: int, n: int) -> float:
    """The Bayesian information criterion ``-2 log L + p log N``.

    Smaller is better. ``p = n_parameters(k, d)`` is the number of free
    parameters and ``n`` the number of points the likelihood was computed
    on; the penalty ``p log N`` grows with the data, unlike AIC's ``2 p``.

    Examples
    --------
    >>> round(bic(-100.0, 1, 1, 100), 4)  # 200 + 2 log 100
    209.2103
    """
    n = _count(n, "n")
    if not math.isfinite(log_likelihood):
        raise ValueError("log_likelihood must be finite")
    return -2.0 * float(log_likelihood) + n_parameters(k, d) * math.log(n)


# ---------------------------------------------------------------- k-means


@dataclasses.dataclass
class KMeansResult:
    """The outcome of k-means.

    Attributes
    ----------
    centres : numpy.ndarray, shape (K, D)
    labels : numpy.ndarray of int, shape (N,)
        The index of the closest centre of each point.
    inertia : float
        ``sum_n |x_n - centre[label_n]|^2``.
    inertias : numpy.ndarray
        The inertia after each assignment step; it never increases.
    n_iter : int
        The number of assignment-update rounds.
    converged : bool
        Whether the assignments stopped changing.
    """

    centres: np.ndarray
    labels: np.ndarray
    inertia: float
    inertias: np.ndarray
    n_iter: int
    converged: bool


def _sq_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, shape (N, K), from rows of X to C."""
    D2 = (X**2).sum(1)[:, None] - 2.0 * X @ C.T + (C**2).sum(1)[None, :]
    return np.maximum(D2, 0.0)


def _initial_centres(X, k, rng, init) -> np.ndarray:
    N, D = X.shape
    if init is None:
        return X[check_generator(rng).choice(N, size=k, replace=False)].copy()
    C = np.array(init, dtype=np.float64)
    if C.shape != (k, D):
        raise ValueError(
            f"init must have shape ({k}, {D}), got shape {C.shape}"
        )
    if not np.all(np.isfinite(C)):
        raise ValueError("init must be finite")
    return C


def kmeans(
    X,
    k: int,
    rng: np.random.Generator | None = None,
    n_iter: int = 300,
    init=None,
) -> KMeansResult:
    """Lloyd's algorithm for k-means.

    Alternate the **assignment step**, each point to its closest centre,
    and the **update step**, each centre to the mean of its points, until
    the assignments stop changing. Each step lowers (or keeps) the
    inertia ``sum_n |x_n - c_{label_n}|^2``, so the algorithm stops after
    finitely many rounds, at a local minimum. A centre that loses all its
    points stays where it is.

    Parameters
    ----------
    X : array_like, shape (N, D)
    k : int
        The number of clusters, ``1 <= k <= N``.
    rng : numpy.random.Generator, optional
        Chooses ``k`` distinct data points as initial centres; needed
        unless ``init`` is given.
    n_iter : int
        The largest number of rounds.
    init : array_like, shape (k, D), optional
        Initial centres.

    Returns
    -------
    KMeansResult

    Examples
    --------
    >>> X = [[0.0], [1.0], [10.0], [11.0]]
    >>> res = kmeans(X, 2, init=[[0.0], [1.0]])
    >>> res.centres.ravel(), res.labels
    (array([ 0.5, 10.5]), array([0, 0, 1, 1]))
    """
    X = _data(X)
    N = X.shape[0]
    k = _count(k, "k")
    if k > N:
        raise ValueError(
            f"k = {k} clusters need at least {k} points, but X has {N}"
        )
    n_iter = _count(n_iter, "n_iter")
    if init is None and rng is None:
        raise ValueError("give rng (random initial centres) or init")
    C = _initial_centres(X, k, rng, init)
    labels = np.full(N, -1)
    inertias = []
    converged = False
    for _ in range(n_iter):
        D2 = _sq_distances(X, C)
        new_labels = np.argmin(D2, axis=1)
        inertias.append(float(D2[np.arange(N), new_labels].sum()))
        if np.array_equal(new_labels, labels):
            converged = True
            break
        labels = new_labels
        for j in range(k):
            members = labels == j
            if members.any():
                C[j] = X[members].mean(axis=0)
    D2 = _sq_distances(X, C)
    inertia = float(D2[np.arange(N), labels].sum())
    return KMeansResult(
        C, labels, inertia, np.array(inertias), len(inertias), converged
    )


def soft_kmeans(
    X, means_init, sigma2: float, n_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """EM for a mixture with equal weights and fixed covariances sigma2 I.

    Only the means are learned. The E-step gives ``r_nk`` proportional to
    ``exp(-|x_n - mu_k|^2 / (2 sigma2))``, a softmax of negative scaled
    squared distances, and the M-step sets each mean to the
    ``r``-weighted average of the data. As ``sigma2 -> 0`` the softmax
    becomes the indicator of the closest mean and the algorithm becomes
    Lloyd's k-means. Stops early when the means stop moving.

    Parameters
    ----------
    X : array_like, shape (N, D)
    means_init : array_like, shape (K, D)
    sigma2 : float
        The shared variance, positive.
    n_iter : int
        The largest number of EM iterations.

    Returns
    -------
    means : numpy.ndarray, shape (K, D)
    resp : numpy.ndarray, shape (N, K)
        The responsibilities at the final means.

    Examples
    --------
    >>> X = [[0.0], [1.0], [10.0], [11.0]]
    >>> mu, r = soft_kmeans(X, [[0.0], [1.0]], sigma2=1e-3)
    >>> mu.ravel(), r.round(3)[:, 0]
    (array([ 0.5, 10.5]), array([1., 1., 0., 0.]))
    """
    X = _data(X)
    mu = np.array(means_init, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[1] != X.shape[1] or mu.shape[0] == 0:
        raise ValueError(
            f"means_init must have shape (K, {X.shape[1]}), got shape "
            f"{mu.shape}"
        )
    sigma2 = float(sigma2)
    if not (math.isfinite(sigma2) and sigma2 > 0):
        raise ValueError(f"sigma2 must be positive, got {sigma2}")
    n_iter = _count(n_iter, "n_iter")

    def responsibilities(means):
        logits = -_sq_distances(X, means) / (2.0 * sigma2)
        return np.exp(logits - logsumexp(logits, axis=1)[:, None])

    for _ in range(n_iter):
        resp = responsibilities(mu)
        Nk = resp.sum(axis=0)
        new = np.where(
            Nk[:, None] > 0, resp.T @ X / np.maximum(Nk, NK_FLOOR)[:, None], mu
        )
        if np.array_equal(new, mu):
            break
        mu = new
    return mu, responsibilities(mu)
