"""Estimators, intervals, tests and a naive Bayes classifier, in numpy.

Chapter *Statistics* explains these functions and checks them against
:mod:`scipy.stats` and scikit-learn. They cover the chapter's path from
data to conclusions:

* summarising an estimator by its bias, variance and mean squared error
  (:func:`bias_variance_mse`);
* maximum likelihood and maximum a posteriori estimates for a Gaussian
  (:func:`mle_gaussian`, :func:`gaussian_log_likelihood`,
  :func:`map_gaussian_mean`);
* Student's t distribution (:func:`t_cdf`, :func:`t_ppf`), with which we
  build the t-interval (:func:`t_confidence_interval`) and the one-sample
  t-test (:func:`t_test`);
* the percentile bootstrap (:func:`bootstrap_distribution`,
  :func:`bootstrap_ci`) and the coverage of intervals
  (:func:`interval_coverage`);
* Gaussian naive Bayes (:func:`fit_gaussian_naive_bayes`, which returns a
  :class:`GaussianNaiveBayes`).

The package depends on numpy alone, so the t distribution is computed here
from the regularised incomplete beta function (a continued fraction), and
its quantiles by bisection; both agree with :mod:`scipy.stats` to a
relative error of about ``1e-15 * max(1, df)`` (round-off in the
log-gamma normalising constant grows with the degrees of freedom).
Functions that work on samples accept a batch of samples as an array of
shape ``(..., n)`` and work along the last axis, so that a simulation
with thousands of repetitions is one call.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from m4ml.validation import check_generator

__all__ = [
    "EstimatorSummary",
    "GaussianNaiveBayes",
    "bias_variance_mse",
    "bootstrap_ci",
    "bootstrap_distribution",
    "fit_gaussian_naive_bayes",
    "gaussian_log_likelihood",
    "interval_coverage",
    "map_gaussian_mean",
    "mle_gaussian",
    "t_cdf",
    "t_confidence_interval",
    "t_ppf",
    "t_test",
]

EPS = np.finfo(np.float64).eps
_FPMIN = np.finfo(np.float64).tiny / EPS
_MAXIT = 10_000


class EstimatorSummary(NamedTuple):
    """Bias, variance and mean squared error of an estimator."""

    bias: float
    variance: float
    mse: float


# ---------------------------------------------------------------- helpers


def _finite(x, name: str) -> np.ndarray:
    """Return ``x`` as a float64 array, or raise if it has NaN or inf."""
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _sample(x, name: str = "x", min_size: int = 1) -> np.ndarray:
    """A float64 array of samples along the last axis, of length >= min."""
    arr = _finite(x, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array of observations")
    if arr.shape[-1] < min_size:
        raise ValueError(
            f"{name} needs at least {min_size} observation"
            f"{'s' if min_size > 1 else ''}, got {arr.shape[-1]}"
        )
    return arr


def _positive(value, name: str) -> float:
    if not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _level(level) -> float:
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(
            f"level must lie strictly between 0 and 1, got {level!r}"
        )
    return float(level)


def _scalar_or_array(a: np.ndarray):
    """A Python float for a 0-d array, the array otherwise."""
    return float(a) if a.ndim == 0 else a


# ------------------------------------------------------------- estimators


def bias_variance_mse(estimates, true_value: float) -> EstimatorSummary:
    """Monte Carlo bias, variance and mean squared error of an estimator.

    Given ``M`` estimates ``theta_hat_1, ..., theta_hat_M``, each computed
    from an independent data set drawn with the true parameter
    ``theta``, return the bias ``mean(theta_hat) - theta``, the variance
    ``mean((theta_hat - mean(theta_hat))**2)`` and the mean squared error
    ``mean((theta_hat - theta)**2)``. With the variance taken with divisor
    ``M`` (not ``M - 1``) the decomposition ``mse = bias**2 + variance``
    holds for these empirical quantities exactly, up to round-off.

    Parameters
    ----------
    estimates : array_like, shape (M,)
        The estimates from ``M`` simulated data sets.
    true_value : float
        The parameter the estimator aims at.

    Returns
    -------
    EstimatorSummary
        The named tuple ``(bias, variance, mse)`` of Python floats.

    Examples
    --------
    >>> s = bias_variance_mse([0.0, 1.0, 2.0, 3.0], true_value=1.0)
    >>> s.bias, s.variance, s.mse
    (0.5, 1.25, 1.5)
    """
    est = _finite(estimates, "estimates")
    if est.ndim != 1 or est.size == 0:
        raise ValueError("estimates must be a non-empty 1-D array")
    theta = float(_finite(true_value, "true_value"))
    mean = est.mean()
    return EstimatorSummary(
        bias=float(mean - theta),
        variance=float(np.mean((est - mean) ** 2)),
        mse=float(np.mean((est - theta) ** 2)),
    )


def mle_gaussian(x) -> tuple[float, float]:
    """Maximum likelihood estimates of the mean and variance of a Gaussian.

    For observations ``x_1, ..., x_n`` assumed i.i.d. ``N(mu, sigma^2)``,
    the likelihood is maximised by the sample mean and by the average
    squared deviation from it, with divisor ``n``:

    ``mu_hat = sum(x) / n``, ``sigma2_hat = sum((x - mu_hat)**2) / n``.

    The variance estimate is biased: its expectation is
    ``(n - 1) / n * sigma^2``.

    Parameters
    ----------
    x : array_like, shape (n,)
        At least one finite observation.

    Returns
    -------
    (float, float)
        ``(mu_hat, sigma2_hat)``.

    Examples
    --------
    >>> mle_gaussian([1.0, 2.0, 3.0, 6.0])
    (3.0, 3.5)
    """
    arr = _sample(x)
    if arr.ndim != 1:
        raise ValueError(f"x must be 1-D, got {arr.ndim} dimensions")
    mu = arr.mean()
    return float(mu), float(np.mean((arr - mu) ** 2))


def gaussian_log_likelihood(x, mu: float, var: float) -> float:
    """The log-likelihood of i.i.d. Gaussian observations.

    ``log p(x | mu, var) = -n/2 log(2 pi var) - sum((x - mu)**2) / (2 var)``.

    Parameters
    ----------
    x : array_like, shape (n,)
        The observations.
    mu : float
        The mean.
    var : float
        The variance, positive.

    Returns
    -------
    float

    Examples
    --------
    >>> round(gaussian_log_likelihood([0.0], 0.0, 1.0), 6)
    -0.918939
    """
    arr = _sample(x)
    var = _positive(var, "var")
    mu = float(_finite(mu, "mu"))
    n = arr.size
    return float(
        -0.5 * n * math.log(2 * math.pi * var)
        - np.sum((arr - mu) ** 2) / (2 * var)
    )


def map_gaussian_mean(
    x, noise_var: float, prior_mean: float, prior_var: float
) -> tuple[float, float]:
    """Posterior of a Gaussian mean under a Gaussian prior (known variance).

    Model: ``mu ~ N(prior_mean, prior_var)`` and, given ``mu``, the
    observations are i.i.d. ``N(mu, noise_var)``. The posterior is Gaussian
    with precision ``1/prior_var + n/noise_var`` and mean

    ``w * xbar + (1 - w) * prior_mean``, ``w = n prior_var /
    (n prior_var + noise_var)``,

    a weighted average of the sample mean and the prior mean. Because the
    posterior is Gaussian, its mean is also its mode: the MAP estimate.

    Parameters
    ----------
    x : array_like, shape (n,)
        The observations; may be empty, and then the posterior is the
        prior.
    noise_var : float
        The known variance of one observation, positive.
    prior_mean, prior_var : float
        Mean and (positive) variance of the prior on ``mu``.

    Returns
    -------
    (float, float)
        The posterior mean (the MAP estimate) and the posterior variance.

    Examples
    --------
    >>> map_gaussian_mean([2.0, 4.0], noise_var=2.0, prior_mean=0.0,
    ...                   prior_var=1.0)
    (1.5, 0.5)
    """
    arr = _sample(x, min_size=0)
    if arr.ndim != 1:
        raise ValueError(f"x must be 1-D, got {arr.ndim} dimensions")
    noise_var = _positive(noise_var, "noise_var")
    prior_var = _positive(prior_var, "prior_var")
    prior_mean = float(_finite(prior_mean, "prior_mean"))
    n = arr.size
    post_var = 1.0 / (1.0 / prior_var + n / noise_var)
    post_mean = post_var * (prior_mean / prior_var + arr.sum() / noise_var)
    return float(post_mean), float(post_var)


# --------------------------------------------------------- t distribution


def _betacf(a: float, b: float, x: np.ndarray) -> np.ndarray:
    """Continued fraction of the incomplete beta function (modified Lentz).

    Converges quickly for ``x < (a + 1) / (a + b + 2)``; the caller uses
    the symmetry ``I_x(a, b) = 1 - I_{1-x}(b, a)`` to stay in that range.
    """
    qab, qap, qam = a + b, a + 1.0, a - 1.0

    def guard(v):
        return np.where(np.abs(v) < _FPMIN, _FPMIN, v)

    c = np.ones_like(x)
    d = 1.0 / guard(1.0 - qab * x / qap)
    h = d.copy()
    done = np.zeros(x.shape, dtype=bool)
    for m in range(1, _MAXIT + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / guard(1.0 + aa * d)
        c = guard(1.0 + aa / c)
        factor = d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / guard(1.0 + aa * d)
        c = guard(1.0 + aa / c)
        delta = d * c
        h = np.where(done, h, h * factor * delta)  # freeze converged ones
        done |= np.abs(delta - 1.0) <= EPS
        if np.all(done):
            return h
    raise RuntimeError(  # pragma: no cover - needs df far beyond 1e8
        "the incomplete beta continued fraction did not converge"
    )


def _incomplete_beta(
    a: float, b: float, x: np.ndarray, y: np.ndarray, log_x, log_y
) -> np.ndarray:
    """Regularised incomplete beta ``I_x(a, b)``, given ``y = 1 - x``.

    Passing ``y`` and the logarithms separately keeps full relative
    accuracy when ``x`` is close to 0 or to 1.
    """
    log_front = (
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + a * log_x
        + b * log_y
    )
    front = np.exp(log_front)
    direct = x < (a + 1.0) / (a + b + 2.0)
    out = np.empty_like(x)
    if np.any(direct):
        xd = x[direct]
        out[direct] = front[direct] * _betacf(a, b, xd) / a
    if np.any(~direct):
        yr = y[~direct]
        out[~direct] = 1.0 - front[~direct] * _betacf(b, a, yr) / b
    return out


def _t_tail(t, df: float) -> np.ndarray:
    """``P(T > |t|)`` for Student's t with ``df`` degrees of freedom.

    Uses ``P(T > |t|) = I_x(df / 2, 1 / 2) / 2`` with
    ``x = df / (df + t**2)``, accurate far into the tail.
    """
    t = np.abs(np.asarray(t, dtype=np.float64))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        t2 = t * t
        x = df / (df + t2)
        y = t2 / (df + t2)
        y = np.where(np.isinf(t2), 1.0, y)
        log_x = -np.log1p(t2 / df)
        log_y = 2.0 * np.log(t) - np.log(df + t2)
        log_y = np.where(np.isinf(t2), 0.0, log_y)
    flat = _incomplete_beta(
        df / 2.0,
        0.5,
        np.atleast_1d(x),
        np.atleast_1d(y),
        np.atleast_1d(log_x),
        np.atleast_1d(log_y),
    )
    return 0.5 * flat.reshape(t.shape)


def _t_pdf(t: np.ndarray, df: float) -> np.ndarray:
    log_c = (
        math.lgamma((df + 1) / 2)
        - math.lgamma(df / 2)
        - 0.5 * math.log(df * math.pi)
    )
    return np.exp(log_c - (df + 1) / 2 * np.log1p(t * t / df))


def t_cdf(t, df: float):
    """Cumulative distribution function of Student's t distribution.

    Computed from the regularised incomplete beta function, so that both
    ``t_cdf(t)`` and ``1 - t_cdf(t)`` keep their relative accuracy in the
    tails (for a tail probability use ``t_cdf(-abs(t), df)``).

    Parameters
    ----------
    t : array_like
        Points at which to evaluate; ``+-inf`` allowed.
    df : float
        Degrees of freedom, positive (need not be an integer).

    Returns
    -------
    float or numpy.ndarray
        ``P(T <= t)``, with the shape of ``t``.

    Examples
    --------
    >>> t_cdf(0.0, 5)
    0.5
    >>> round(t_cdf(1.0, 1), 12)  # the Cauchy distribution: 1/2 + 1/4
    0.75
    """
    df = _positive(df, "df")
    t = np.asarray(t, dtype=np.float64)
    if np.any(np.isnan(t)):
        raise ValueError("t contains NaN")
    tail = _t_tail(t, df)
    return _scalar_or_array(np.where(t < 0, tail, 1.0 - tail))


def t_ppf(q, df: float):
    """Quantile function (inverse cdf) of Student's t distribution.

    Solves ``t_cdf(t, df) = q`` by bisection on the tail probability,
    bracketing the root by doubling, and finishes with one Newton step.

    Parameters
    ----------
    q : array_like
        Probabilities, strictly between 0 and 1.
    df : float
        Degrees of freedom, positive.

    Returns
    -------
    float or numpy.ndarray
        The quantiles, with the shape of ``q``.

    Examples
    --------
    >>> round(t_ppf(0.975, 10), 6)
    2.228139
    >>> round(t_ppf(0.75, 1), 12)  # Cauchy: tan(pi / 4)
    1.0
    """
    df = _positive(df, "df")
    q = np.asarray(q, dtype=np.float64)
    if not np.all((q > 0) & (q < 1)):
        raise ValueError("probabilities q must lie strictly between 0 and 1")
    shape = q.shape
    q = np.atleast_1d(q).ravel()
    target = np.minimum(q, 1.0 - q)  # the tail P(T > t) of |quantile|
    hi = np.ones_like(target)
    for _ in range(2100):  # doubling reaches the float64 range
        too_low = _t_tail(hi, df) > target
        if not np.any(too_low):
            break
        hi = np.where(too_low, 2.0 * hi, hi)
    lo = np.zeros_like(target)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        right = _t_tail(mid, df) > target  # the root lies right of mid
        lo = np.where(right, mid, lo)
        hi = np.where(right, hi, mid)
        if np.all(hi - lo <= 2 * EPS * hi):
            break
    t = 0.5 * (lo + hi)
    # One Newton step on tail(t) = target, where tail'(t) = -pdf(t).
    with np.errstate(divide="ignore", invalid="ignore"):
        step = (_t_tail(t, df) - target) / _t_pdf(t, df)
    t = np.where(np.isfinite(step), t + step, t)
    t = np.where(q == 0.5, 0.0, t)
    out = np.where(q < 0.5, -t, t).reshape(shape)
    return _scalar_or_array(out)


# ------------------------------------------------- intervals and t-tests


def t_confidence_interval(x, level: float = 0.95):
    """Student's t confidence interval for the mean of a normal sample.

    ``xbar -+ t_{n-1, (1 + level) / 2} * s / sqrt(n)``, where ``s`` is the
    sample standard deviation (divisor ``n - 1``). If the observations are
    i.i.d. normal, the interval covers the true mean with probability
    ``level`` exactly; otherwise only approximately, for large ``n``.

    Parameters
    ----------
    x : array_like, shape (..., n)
        One sample of ``n >= 2`` observations, or a batch of samples along
        the last axis.
    level : float
        The confidence level, strictly between 0 and 1.

    Returns
    -------
    (low, high)
        Python floats for one sample, arrays of shape ``x.shape[:-1]`` for
        a batch.

    Examples
    --------
    >>> low, high = t_confidence_interval([1.0, 2.0, 3.0], level=0.95)
    >>> round(low, 4), round(high, 4)
    (-0.4841, 4.4841)
    """
    arr = _sample(x, min_size=2)
    level = _level(level)
    n = arr.shape[-1]
    mean = arr.mean(axis=-1)
    se = arr.std(axis=-1, ddof=1) / math.sqrt(n)
    half = t_ppf((1.0 + level) / 2.0, n - 1) * se
    return _scalar_or_array(mean - half), _scalar_or_array(mean + half)


def interval_coverage(low, high, value: float) -> float:
    """The fraction of intervals ``[low_i, high_i]`` that contain ``value``.

    Parameters
    ----------
    low, high : array_like, same shape
        Interval end points, with ``low <= high``.
    value : float
        The true parameter.

    Returns
    -------
    float

    Examples
    --------
    >>> interval_coverage([0.0, 1.5, -1.0], [2.0, 3.0, 0.5], 1.0)
    0.3333333333333333
    """
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    if lo.shape != hi.shape or lo.size == 0:
        raise ValueError("low and high must be non-empty with equal shapes")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("interval end points contain NaN")
    if np.any(lo > hi):
        raise ValueError("every interval needs low <= high")
    value = float(value)
    return float(np.mean((lo <= value) & (value <= hi)))


def t_test(x, mu0: float = 0.0, alternative: str = "two-sided"):
    """One-sample t-test of ``H0: mean = mu0``.

    The statistic is ``T = (xbar - mu0) / (s / sqrt(n))``, which under
    ``H0`` (i.i.d. normal observations) has Student's t distribution with
    ``n - 1`` degrees of freedom. The p-value is the probability, under
    ``H0``, of a statistic at least as extreme as the one observed:
    ``P(|T| >= |t|)`` for ``"two-sided"``, ``P(T >= t)`` for
    ``"greater"`` and ``P(T <= t)`` for ``"less"``.

    Parameters
    ----------
    x : array_like, shape (..., n)
        One sample of ``n >= 2`` observations, or a batch along the last
        axis; each sample must have positive variance.
    mu0 : float
        The mean under the null hypothesis.
    alternative : {"two-sided", "greater", "less"}
        The alternative hypothesis.

    Returns
    -------
    (statistic, pvalue)
        Floats for one sample, arrays for a batch.

    Examples
    --------
    >>> t, p = t_test([1.0, 2.0, 3.0, 4.0], mu0=1.0)
    >>> round(t, 6), round(p, 6)
    (2.32379, 0.102728)
    """
    arr = _sample(x, min_size=2)
    mu0 = float(_finite(mu0, "mu0"))
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(
            f"alternative must be 'two-sided', 'greater' or 'less', "
            f"got {alternative!r}"
        )
    n = arr.shape[-1]
    s = arr.std(axis=-1, ddof=1)
    if np.any(s == 0):
        raise ValueError(
            "a sample has zero variance; the t statistic is undefined"
        )
    stat = (arr.mean(axis=-1) - mu0) / (s / math.sqrt(n))
    tail = _t_tail(stat, n - 1)  # P(T > |t|)
    if alternative == "two-sided":
        p = 2.0 * tail
    elif alternative == "greater":
        p = np.where(stat > 0, tail, 1.0 - tail)
    else:
        p = np.where(stat < 0, tail, 1.0 - tail)
    return _scalar_or_array(stat), _scalar_or_array(np.asarray(p))


# -------------------------------------------------------------- bootstrap


def bootstrap_distribution(
    x,
    statistic: Callable,
    rng: np.random.Generator,
    n_resamples: int = 2000,
    vectorized: bool = True,
) -> np.ndarray:
    """The bootstrap distribution of a statistic.

    Draws ``n_resamples`` resamples of size ``n`` from ``x`` with
    replacement (each is a row of indices from
    ``rng.integers(0, n, size=(n_resamples, n))``) and evaluates the
    statistic on each.

    Parameters
    ----------
    x : array_like, shape (n,)
        The observed sample, ``n >= 1``.
    statistic : callable
        If ``vectorized``, called once as ``statistic(resamples, axis=-1)``
        on the ``(n_resamples, n)`` array of resamples (``np.mean``,
        ``np.median``, ``np.max`` work); otherwise called on each resample.
    rng : numpy.random.Generator
        The source of randomness.
    n_resamples : int
        The number of bootstrap resamples, positive.
    vectorized : bool
        Whether ``statistic`` accepts ``axis=-1``.

    Returns
    -------
    numpy.ndarray, shape (n_resamples,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reps = bootstrap_distribution([1.0, 2.0, 3.0], np.mean, rng, 5)
    >>> reps.shape, bool(np.all((reps >= 1) & (reps <= 3)))
    ((5,), True)
    """
    arr = _sample(x)
    if arr.ndim != 1:
        raise ValueError(f"x must be 1-D, got {arr.ndim} dimensions")
    check_generator(rng)
    if (
        not isinstance(n_resamples, numbers.Integral)
        or isinstance(n_resamples, bool)
        or n_resamples < 1
    ):
        raise ValueError(
            f"n_resamples must be a positive integer, got {n_resamples!r}"
        )
    n = arr.size
    resamples = arr[rng.integers(0, n, size=(n_resamples, n))]
    if vectorized:
        reps = np.asarray(statistic(resamples, axis=-1), dtype=np.float64)
    else:
        reps = np.array([statistic(r) for r in resamples], dtype=np.float64)
    if reps.shape != (n_resamples,):
        raise ValueError(
            f"statistic must return one number per resample; got shape "
            f"{reps.shape} for {n_resamples} resamples"
        )
    return reps


def bootstrap_ci(
    x,
    statistic: Callable,
    rng: np.random.Generator,
    n_resamples: int = 2000,
    level: float = 0.95,
    vectorized: bool = True,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval for a statistic.

    The interval runs between the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles (linear interpolation, numpy's default)
    of the bootstrap distribution from :func:`bootstrap_distribution`.
    With the same generator state it reproduces
    ``scipy.stats.bootstrap(..., method="percentile")``.

    Parameters
    ----------
    x : array_like, shape (n,)
        The observed sample.
    statistic : callable
        As in :func:`bootstrap_distribution`.
    rng : numpy.random.Generator
        The source of randomness.
    n_resamples : int
        The number of bootstrap resamples.
    level : float
        The confidence level, strictly between 0 and 1.
    vectorized : bool
        Whether ``statistic`` accepts ``axis=-1``.

    Returns
    -------
    (float, float)
        ``(low, high)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=50)
    >>> low, high = bootstrap_ci(x, np.mean, rng)
    >>> bool(low < x.mean() < high)
    True
    """
    level = _level(level)
    reps = bootstrap_distribution(x, statistic, rng, n_resamples, vectorized)
    alpha = 1.0 - level
    low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


# ----------------------------------------------------- Gaussian naive Bayes


@dataclasses.dataclass(frozen=True)
class GaussianNaiveBayes:
    """A fitted Gaussian naive Bayes classifier.

    Given the class ``y = k``, the features are modelled as independent
    Gaussians, ``x_d ~ N(means[k, d], variances[k, d])``, and the class
    itself has prior probability ``priors[k]``. Bayes' theorem then gives
    the posterior probability of each class.

    Attributes
    ----------
    classes : numpy.ndarray, shape (K,)
        The class labels, sorted.
    means, variances : numpy.ndarray, shape (K, D)
        Per-class feature means and variances (smoothing included).
    priors : numpy.ndarray, shape (K,)
        Class prior probabilities.
    epsilon : float
        The variance added to every entry of ``variances`` when fitting.
    """

    classes: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    priors: np.ndarray
    epsilon: float

    def _check_X(self, X) -> np.ndarray:
        X = _finite(X, "X")
        if X.ndim != 2 or X.shape[1] != self.means.shape[1]:
            raise ValueError(
                f"X must have shape (N, {self.means.shape[1]}), got {X.shape}"
            )
        return X

    def joint_log_likelihood(self, X) -> np.ndarray:
        """``log p(y = k) + log p(x | y = k)`` for every row and class.

        Returns an array of shape ``(N, K)``.
        """
        X = self._check_X(X)
        diff = X[:, None, :] - self.means[None, :, :]
        log_lik = -0.5 * (
            np.sum(np.log(2 * np.pi * self.variances), axis=1)[None, :]
            + np.sum(diff**2 / self.variances[None, :, :], axis=2)
        )
        return np.log(self.priors)[None, :] + log_lik

    def predict_log_proba(self, X) -> np.ndarray:
        """Log posterior probabilities ``log p(y = k | x)``, shape (N, K).

        Normalises the joint log-likelihood with a stable log-sum-exp.
        """
        jll = self.joint_log_likelihood(X)
        top = jll.max(axis=1, keepdims=True)
        log_norm = top + np.log(
            np.sum(np.exp(jll - top), axis=1, keepdims=True)
        )
        return jll - log_norm

    def predict_proba(self, X) -> np.ndarray:
        """Posterior probabilities ``p(y = k | x)``, shape (N, K)."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """The class of largest posterior probability for each row."""
        return self.classes[np.argmax(self.joint_log_likelihood(X), axis=1)]


def fit_gaussian_naive_bayes(
    X, y, var_smoothing: float = 1e-9
) -> GaussianNaiveBayes:
    """Fit a Gaussian naive Bayes classifier by maximum likelihood.

    For each class ``k`` with ``N_k`` of the ``N`` examples, the maximum
    likelihood estimates are the class frequency ``N_k / N``, and per
    feature the class mean and the class variance with divisor ``N_k``.
    As in scikit-learn's ``GaussianNB``, ``epsilon = var_smoothing *
    max_d Var(X[:, d])`` is added to every variance, which keeps them
    positive when a feature is constant within a class.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Training inputs.
    y : array_like, shape (N,)
        Class labels (any sortable values).
    var_smoothing : float
        Non-negative; the fraction of the largest feature variance added
        to all variances.

    Returns
    -------
    GaussianNaiveBayes

    Examples
    --------
    >>> X = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> model = fit_gaussian_naive_bayes(X, [0, 0, 1, 1], var_smoothing=0)
    >>> model.means.ravel(), model.variances.ravel(), model.priors
    (array([ 1., 11.]), array([1., 1.]), array([0.5, 0.5]))
    >>> model.predict(np.array([[3.0], [8.0]]))
    array([0, 1])
    """
    X = _finite(X, "X")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"X must be a non-empty 2-D array, got shape {X.shape}"
        )
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if (
        not isinstance(var_smoothing, numbers.Real)
        or not var_smoothing >= 0
        or not math.isfinite(var_smoothing)
    ):
        raise ValueError(
            f"var_smoothing must be a non-negative number, "
            f"got {var_smoothing!r}"
        )
    classes, index = np.unique(y, return_inverse=True)
    epsilon = float(var_smoothing * np.var(X, axis=0).max())
    means = np.stack([X[index == k].mean(axis=0) for k in range(classes.size)])
    variances = (
        np.stack([np.var(X[index == k], axis=0) for k in range(classes.size)])
        + epsilon
    )
    if np.any(variances <= 0):
        raise ValueError(
            "a feature has zero variance within a class; use var_smoothing > 0"
        )
    priors = np.bincount(index) / X.shape[0]
    return GaussianNaiveBayes(classes, means, variances, priors, epsilon)
