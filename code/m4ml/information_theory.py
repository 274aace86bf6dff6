"""Entropy, divergence and mutual information, written out in numpy.

Chapter *Information theory* explains these functions and checks them
against :func:`scipy.stats.entropy`, numerical integration and Monte Carlo.

Conventions. A discrete distribution is an array of non-negative entries
that sum to one along its last axis; functions of one distribution accept a
batch of them stacked along the leading axes and return one value for each.
Logarithms are natural (the unit is the *nat*) unless ``base`` is given:
``base=2`` gives bits. The convention ``0 log 0 = 0`` (the limit of
``t log t`` as ``t -> 0``) is applied exactly, so a zero entry of ``p``
contributes nothing, whatever ``q`` is there. A zero entry of ``q`` where
``p`` is positive makes ``KL(p || q)`` and the cross-entropy infinite;
rather than return ``inf`` silently, the functions raise a ValueError that
says where.

A joint distribution of two discrete variables is a 2-D table whose entry
``(i, j)`` is ``P(X = i, Y = j)``: rows index ``X`` and columns ``Y``.
Gaussians are given by a mean vector and a covariance matrix, or by two
scalars (a mean and a variance) in one dimension; covariances are used
through their Cholesky factors, never through explicit inverses.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "binary_entropy",
    "categorical_nll",
    "conditional_entropy",
    "cross_entropy",
    "empirical_distribution",
    "entropy",
    "gaussian_entropy",
    "gaussian_kl",
    "grid_kl",
    "joint_entropy",
    "kl_divergence",
    "mutual_information",
]

#: How far the entries of a distribution may sum from one (round-off).
SUM_TOL = 1e-8
#: The relative asymmetry a covariance matrix may have (round-off).
SYMMETRY_RTOL = 1e-10


# ---------------------------------------------------------------- helpers


def _log_base(base) -> float:
    """The natural log of ``base`` (1 for nats), or a ValueError."""
    if base is None:
        return 1.0
    b = float(base)
    if not (math.isfinite(b) and b > 0 and b != 1):
        raise ValueError(
            f"base must be a positive number other than 1, got {base!r}"
        )
    return math.log(b)


def _distribution(p, name: str = "p") -> np.ndarray:
    """Validate a (batch of) probability vector(s) along the last axis."""
    a = np.asarray(p, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(
            f"{name} must be a non-empty array of probabilities, got "
            f"shape {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    if np.any(a < 0):
        raise ValueError(
            f"{name} has negative entries (smallest {a.min():.3g}); "
            "probabilities must be non-negative"
        )
    total = a.sum(axis=-1)
    worst = float(np.max(np.abs(total - 1.0)))
    if worst > SUM_TOL:
        raise ValueError(
            f"the entries of {name} must sum to 1 along the last axis "
            f"(within {SUM_TOL:g}); they are off by up to {worst:.3g}"
        )
    return a


def _pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    """Validate two distributions of the same shape."""
    a, b = _distribution(p, "p"), _distribution(q, "q")
    if a.shape != b.shape:
        raise ValueError(
            f"p and q must have the same shape, got {a.shape} and {b.shape}"
        )
    bad = (a > 0) & (b == 0)
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"q is zero where p is positive (at index {where}), so the "
            "divergence is infinite: q must be positive wherever p is"
        )
    return a, b


def _joint(joint) -> np.ndarray:
    """Validate a 2-D joint probability table."""
    P = np.asarray(joint, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(
            f"joint must be a 2-D table P[x, y], got {P.ndim} dims"
        )
    return _distribution(P.reshape(-1), "joint").reshape(P.shape)


def _scalar_or_array(a: np.ndarray):
    return float(a) if a.ndim == 0 else a


def _neg_xlogx(p: np.ndarray) -> np.ndarray:
    """``-p log p`` entrywise, with ``0 log 0 = 0``."""
    safe = np.where(p > 0, p, 1.0)
    return np.where(p > 0, -p * np.log(safe), 0.0)


# ---------------------------------------------------------------- entropy


def entropy(p, base=None):
    """Shannon entropy ``H(p) = -sum_i p_i log p_i`` of a distribution.

    Parameters
    ----------
    p : array_like, shape (..., n)
        One probability vector, or a batch of them along the last axis.
    base : float, optional
        Base of the logarithm: None for nats (natural log), 2 for bits.

    Returns
    -------
    float or ndarray of shape (...)
        The entropy, between 0 and ``log n``.

    Raises
    ------
    ValueError
        If an entry is negative or not finite, or the entries do not sum
        to one within :data:`SUM_TOL`.

    Examples
    --------
    >>> entropy([0.5, 0.5], base=2)
    1.0
    >>> round(entropy([0.25] * 4), 6)  # log 4 nats
    1.386294
    >>> entropy([1.0, 0.0])  # certainty: 0 log 0 counts as 0
    0.0
    """
    a = _distribution(p)
    h = _neg_xlogx(a).sum(axis=-1) / _log_base(base)
    return _scalar_or_array(h + 0.0)  # + 0.0 turns -0.0 into 0.0


def binary_entropy(p, base=None):
    """Entropy of a coin that lands heads with probability ``p``.

    ``H_b(p) = -p log p - (1 - p) log(1 - p)``, entrywise for an array.

    Parameters
    ----------
    p : float or array_like
        Probabilities in ``[0, 1]``.
    base : float, optional
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    float or ndarray
        The binary entropy, of the shape of ``p``.

    Examples
    --------
    >>> binary_entropy(0.5, base=2)
    1.0
    >>> binary_entropy([0.0, 1.0])
    array([0., 0.])
    """
    a = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any((a < 0) | (a > 1)):
        raise ValueError("p must hold probabilities between 0 and 1")
    h = (_neg_xlogx(a) + _neg_xlogx(1.0 - a)) / _log_base(base)
    return _scalar_or_array(h + 0.0)


def joint_entropy(joint, base=None) -> float:
    """Joint entropy ``H(X, Y)`` of a 2-D table ``P[x, y]``.

    It is the entropy of the table read as one distribution over pairs.

    Examples
    --------
    >>> joint_entropy([[0.25, 0.25], [0.25, 0.25]], base=2)
    2.0
    """
    P = _joint(joint)
    return entropy(P.reshape(-1), base=base)


def conditional_entropy(joint, base=None) -> float:
    """Conditional entropy ``H(Y | X)`` from a 2-D table ``P[x, y]``.

    Computed from the definition, as the average over ``x`` of the entropy
    of the conditional distribution ``P(Y | X = x)``, weighted by
    ``P(X = x)``; rows with ``P(X = x) = 0`` contribute nothing.

    Parameters
    ----------
    joint : array_like, shape (n_x, n_y)
        The joint distribution; rows index ``X``, columns ``Y``.
    base : float, optional
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    float

    Examples
    --------
    >>> conditional_entropy([[0.5, 0.0], [0.0, 0.5]])  # Y is a copy of X
    0.0
    >>> conditional_entropy([[0.25, 0.25], [0.25, 0.25]], base=2)
    1.0
    """
    P = _joint(joint)
    px = P.sum(axis=1)
    h = 0.0
    for p_x, row in zip(px, P, strict=True):
        if p_x > 0:
            h += p_x * float(_neg_xlogx(row / p_x).sum())
    return float(h) / _log_base(base) + 0.0


# ------------------------------------------------------------- divergences


def kl_divergence(p, q, base=None):
    """Kullback-Leibler divergence ``KL(p || q) = sum_i p_i log(p_i/q_i)``.

    Terms with ``p_i = 0`` are zero, whatever ``q_i`` is.

    Parameters
    ----------
    p, q : array_like, shape (..., n)
        Two distributions (or batches of them) of the same shape.
    base : float, optional
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    float or ndarray of shape (...)
        The divergence; non-negative, and zero exactly when ``p = q``.

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a distribution, the shapes differ, or
        ``q_i = 0`` for some ``i`` with ``p_i > 0`` (the divergence would
        be infinite).

    Examples
    --------
    >>> round(kl_divergence([0.5, 0.5], [0.9, 0.1]), 6)
    0.510826
    >>> round(kl_divergence([0.9, 0.1], [0.5, 0.5]), 6)  # not symmetric
    0.368064
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: q is zero where p is positive (at index (1,)), so the ...
    """
    a, b = _pair(p, q)
    pos = a > 0
    ratio = np.where(pos, a, 1.0) / np.where(pos, b, 1.0)
    d = np.where(pos, a * np.log(ratio), 0.0).sum(axis=-1)
    return _scalar_or_array(d / _log_base(base) + 0.0)


def cross_entropy(p, q, base=None):
    """Cross-entropy ``H(p, q) = -sum_i p_i log q_i``.

    It is the average code length, or the average surprise, when outcomes
    come from ``p`` but are coded (or predicted) with ``q``; it equals
    ``H(p) + KL(p || q)``.

    Parameters
    ----------
    p, q : array_like, shape (..., n)
        Two distributions (or batches of them) of the same shape.
    base : float, optional
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    float or ndarray of shape (...)

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    Examples
    --------
    >>> cross_entropy([0.5, 0.5], [0.5, 0.5], base=2)
    1.0
    >>> round(cross_entropy([1.0, 0.0], [0.8, 0.2]), 6)  # -log 0.8
    0.223144
    """
    a, b = _pair(p, q)
    pos = a > 0
    h = -np.where(pos, a * np.log(np.where(pos, b, 1.0)), 0.0).sum(axis=-1)
    return _scalar_or_array(h / _log_base(base) + 0.0)


def mutual_information(joint, base=None) -> float:
    """Mutual information ``I(X; Y)`` of a 2-D table ``P[x, y]``.

    Computed as the divergence of the joint from the product of its
    marginals, ``KL(P(X, Y) || P(X) P(Y))``.

    Parameters
    ----------
    joint : array_like, shape (n_x, n_y)
        The joint distribution; rows index ``X``, columns ``Y``.
    base : float, optional
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    float
        Non-negative; zero exactly when ``X`` and ``Y`` are independent.

    Examples
    --------
    >>> mutual_information([[0.5, 0.0], [0.0, 0.5]], base=2)  # a copy
    1.0
    >>> independent = np.outer([0.3, 0.7], [0.6, 0.4])
    >>> abs(mutual_information(independent)) < 1e-15  # round-off only
    True
    """
    P = _joint(joint)
    product = np.outer(P.sum(axis=1), P.sum(axis=0))
    return kl_divergence(P.reshape(-1), product.reshape(-1), base=base)


# ---------------------------------------------------------- data and models


def empirical_distribution(labels, n_classes: int) -> np.ndarray:
    """Relative frequencies of integer labels ``0, ..., n_classes - 1``.

    Examples
    --------
    >>> empirical_distribution([0, 2, 2, 1], 3)
    array([0.25, 0.25, 0.5 ])
    """
    y = _labels(labels, n_classes)
    return np.bincount(y, minlength=n_classes) / y.size


def categorical_nll(labels, q) -> float:
    """Average negative log-likelihood ``-(1/N) sum_n log q[y_n]``.

    The loss of a categorical model ``q`` on labels ``y_1, ..., y_N``; it
    equals the cross-entropy of ``q`` relative to the empirical
    distribution of the labels.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Observed classes, each in ``0, ..., len(q) - 1``.
    q : array_like, shape (n,)
        The model's class probabilities.

    Returns
    -------
    float
        In nats.

    Raises
    ------
    ValueError
        If ``q`` is not a distribution, a label is out of range, or the
        model gives probability zero to an observed label.

    Examples
    --------
    >>> round(categorical_nll([0, 0, 1], [0.5, 0.5]), 6)  # log 2
    0.693147
    """
    b = _distribution(q, "q")
    if b.ndim != 1:
        raise ValueError(f"q must be 1-D, got shape {b.shape}")
    y = _labels(labels, b.size)
    probs = b[y]
    if np.any(probs == 0):
        raise ValueError(
            "q gives probability zero to an observed label, so the "
            "negative log-likelihood is infinite"
        )
    return float(-np.mean(np.log(probs)))


def _labels(labels, n_classes) -> np.ndarray:
    if (
        isinstance(n_classes, bool)
        or int(n_classes) != n_classes
        or (n_classes < 1)
    ):
        raise ValueError(
            f"n_classes must be a positive integer, got {n_classes!r}"
        )
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(
            f"labels must be a non-empty 1-D array, got shape {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"labels must lie in 0, ..., {int(n_classes) - 1}; got values "
            f"from {int(y.min())} to {int(y.max())}"
        )
    return y.astype(np.intp)


# --------------------------------------------------------------- densities


def grid_kl(log_p, log_q, dx: float) -> float:
    """``KL(p || q)`` for densities tabulated on a uniform grid.

    The integral ``int p(x) log(p(x) / q(x)) dx`` is approximated by the
    Riemann sum ``sum_k p(x_k) (log p(x_k) - log q(x_k)) dx``. Working with
    log-densities keeps the integrand finite where a density underflows:
    where ``p`` underflows the term is zero; where ``q`` underflows but
    ``log q`` is finite the term is large but finite, as it should be.

    Parameters
    ----------
    log_p, log_q : array_like, shape (K,)
        Log-densities at equally spaced points ``x_k``.
    dx : float
        The grid spacing.

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.linspace(-10, 10, 2001)
    >>> log_n01 = -0.5 * x**2 - 0.5 * np.log(2 * np.pi)
    >>> round(grid_kl(log_n01, log_n01 - 0.5 * ((x - 1)**2 - x**2),
    ...               x[1] - x[0]), 6)  # KL(N(0,1) || N(1,1)) = 1/2
    0.5
    """
    lp = np.asarray(log_p, dtype=np.float64)
    lq = np.asarray(log_q, dtype=np.float64)
    if lp.ndim != 1 or lp.shape != lq.shape:
        raise ValueError(
            "log_p and log_q must be 1-D arrays of the same length, got "
            f"shapes {lp.shape} and {lq.shape}"
        )
    if not (math.isfinite(dx) and dx > 0):
        raise ValueError(f"dx must be positive, got {dx!r}")
    if np.any(np.isnan(lp)) or np.any(np.isnan(lq)) or np.any(lp == np.inf):
        raise ValueError("log_p and log_q must not be NaN or +inf")
    p = np.exp(lp)
    live = p > 0
    if np.any(live & ~np.isfinite(lq)):
        raise ValueError(
            "q is zero where p is positive, so the divergence is infinite"
        )
    return float(np.sum(p[live] * (lp[live] - lq[live])) * dx)


def _gaussian(mean, cov, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a mean and covariance; scalars mean a 1-D Gaussian."""
    mu = np.asarray(mean, dtype=np.float64)
    S = np.asarray(cov, dtype=np.float64)
    if mu.ndim == 0:
        mu = mu.reshape(1)
    if S.ndim == 0:
        S = S.reshape(1, 1)
    if mu.ndim != 1:
        raise ValueError(
            f"mean{name} must be a scalar or a 1-D array, got shape {mu.shape}"
        )
    D = mu.size
    if S.shape != (D, D):
        raise ValueError(
            f"cov{name} must have shape ({D}, {D}) to match mean{name} of "
            f"shape ({D},), got shape {S.shape}"
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(S))):
        raise ValueError(f"mean{name} and cov{name} must be finite")
    scale = float(np.max(np.abs(S)))
    if float(np.max(np.abs(S - S.T))) > SYMMETRY_RTOL * scale:
        raise ValueError(f"cov{name} is not symmetric")
    return mu, 0.5 * (S + S.T)


def _cholesky(S: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"cov{name} is not symmetric positive definite (smallest "
            f"eigenvalue {float(np.linalg.eigvalsh(S)[0]):.3e})"
        ) from None


def gaussian_entropy(cov) -> float:
    """Differential entropy of ``N(mu, cov)``, ``(1/2) log det(2 pi e cov)``.

    In nats. It does not depend on the mean, and it is negative when the
    covariance is small enough (``det cov < (2 pi e)^-D``).

    Parameters
    ----------
    cov : float or array_like, shape (D, D)
        A variance, or a symmetric positive definite covariance matrix.

    Returns
    -------
    float

    Examples
    --------
    >>> round(gaussian_entropy(1.0), 6)  # (1/2) log(2 pi e)
    1.418939
    >>> gaussian_entropy(0.01) < 0
    True
    """
    S = np.asarray(cov, dtype=np.float64)
    D = 1 if S.ndim == 0 else S.shape[0]
    _, S = _gaussian(np.zeros(D), S, "")
    L = _cholesky(S, "")
    log_det = 2.0 * float(np.sum(np.log(np.diag(L))))
    return 0.5 * D * math.log(2 * math.pi * math.e) + 0.5 * log_det


def gaussian_kl(mean0, cov0, mean1, cov1) -> float:
    """``KL(N0 || N1)`` for Gaussians ``N0 = N(mean0, cov0)``, ``N1``.

    The closed form is ::

        KL = (1/2) [ tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - D
                     + log det S1 - log det S0 ].

    With Cholesky factors ``S0 = L0 L0^T`` and ``S1 = L1 L1^T`` the trace
    is ``||L1^-1 L0||_F^2``, the quadratic form is ``||L1^-1 (m1 - m0)||^2``
    and ``log det S = 2 sum_i log L_ii``; ``L1^-1`` is applied by solving
    with ``L1``, never formed.

    Parameters
    ----------
    mean0, mean1 : float or array_like, shape (D,)
        The means.
    cov0, cov1 : float or array_like, shape (D, D)
        Symmetric positive definite covariances; in one dimension scalars
        (variances, not standard deviations) are accepted.

    Returns
    -------
    float
        In nats.

    Raises
    ------
    ValueError
        If the shapes do not match, or a covariance is not symmetric
        positive definite.

    Examples
    --------
    >>> gaussian_kl(0.0, 1.0, 1.0, 1.0)  # (m1 - m0)^2 / (2 s^2)
    0.5
    >>> gaussian_kl([0.0, 0.0], np.eye(2), [0.0, 0.0], np.eye(2))
    0.0
    """
    m0, S0 = _gaussian(mean0, cov0, "0")
    m1, S1 = _gaussian(mean1, cov1, "1")
    if m0.size != m1.size:
        raise ValueError(
            f"the Gaussians have different dimensions, {m0.size} and {m1.size}"
        )
    L0, L1 = _cholesky(S0, "0"), _cholesky(S1, "1")
    A = np.linalg.solve(L1, L0)  # L1^-1 L0, by a (triangular) solve
    z = np.linalg.solve(L1, m1 - m0)
    trace = float(np.sum(A**2))
    maha = float(z @ z)
    log_det_ratio = 2.0 * float(
        np.sum(np.log(np.diag(L1))) - np.sum(np.log(np.diag(L0)))
    )
    kl = 0.5 * (trace + maha - m0.size + log_det_ratio)
    return kl + 0.0
