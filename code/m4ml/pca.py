"""Principal component analysis, classical and probabilistic.

Chapter *Dimensionality reduction with PCA* derives these functions and
checks them against :mod:`numpy.linalg` and scikit-learn.

* :func:`pca` finds the principal components from the singular value
  decomposition (SVD) of the centred data, without forming the covariance
  matrix; :func:`project` and :func:`reconstruct` map data to principal
  coordinates and back.
* :func:`pca_gram` gets the same components from the ``N x N`` Gram
  matrix of the centred data, which is cheaper when ``N << D``.
* :func:`choose_k` returns the smallest number of components that
  explains a given fraction of the variance.
* :func:`ppca_mle`, :func:`ppca_log_likelihood`, :func:`ppca_sample` and
  :func:`ppca_posterior` implement probabilistic PCA: the closed-form
  maximum-likelihood estimate of Tipping and Bishop, the Gaussian
  log-likelihood of the model, sampling from it and the posterior of the
  latent variables.

Conventions. A data set of ``N`` points in ``R^D`` is an array ``X`` of
shape ``(N, D)``, one point per row. The sample covariance is
``S = Xc^T Xc / (N - ddof)`` with the centred data ``Xc = X - mean``;
``ddof = 0`` (the default, the maximum-likelihood estimate) is the book's
convention, and ``ddof = 1`` gives the unbiased estimate used by
:func:`numpy.cov` and by scikit-learn's ``PCA.explained_variance_``.
Components are returned as the rows of a ``(k, D)`` array, orthonormal,
in order of decreasing variance.

Signs. An eigenvector is determined only up to its sign. To make results
reproducible, every component returned here is flipped, if necessary, so
that its entry of largest absolute value is positive (the first such
entry, if several tie). scikit-learn (1.5 and later) uses the same rule.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from m4ml.probability import gaussian_logpdf
from m4ml.validation import check_generator

__all__ = [
    "PCAResult",
    "choose_k",
    "pca",
    "pca_gram",
    "ppca_log_likelihood",
    "ppca_mle",
    "ppca_posterior",
    "ppca_sample",
    "project",
    "reconstruct",
]

EPS = np.finfo(np.float64).eps


class PCAResult(NamedTuple):
    """The output of :func:`pca` and :func:`pca_gram`.

    Attributes
    ----------
    components : numpy.ndarray, shape (k, D)
        The principal directions, one unit vector per row, orthogonal to
        each other, in order of decreasing variance.
    explained_variance : numpy.ndarray, shape (k,)
        The variance of the data along each component, an eigenvalue of
        the sample covariance ``S``.
    mean : numpy.ndarray, shape (D,)
        The mean of the data, subtracted before projecting.
    explained_variance_ratio : numpy.ndarray, shape (k,)
        Each variance divided by the total variance ``tr S``.
    """

    components: np.ndarray
    explained_variance: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray


# ---------------------------------------------------------------- helpers
def _as_data(X, name: str = "X", min_rows: int = 2) -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape (N, D), or raise."""
    A = np.asarray(X, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (N, D), one example per "
            f"row; got {A.ndim} dimension(s)"
        )
    if A.shape[0] < min_rows or A.shape[1] < 1:
        raise ValueError(
            f"{name} needs at least {min_rows} rows and 1 column, got shape "
            f"{A.shape}"
        )
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return A


def _check_k(k, k_max: int, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k must be an integer, got {k!r}")
    if not 1 <= k <= k_max:
        raise ValueError(f"k must satisfy 1 <= k <= {k_max} ({what}); got {k}")
    return int(k)


def _check_ddof(ddof, N: int) -> int:
    if ddof not in (0, 1) or isinstance(ddof, bool):
        raise ValueError(f"ddof must be 0 or 1, got {ddof!r}")
    return int(ddof)


def _flip_signs(V: np.ndarray) -> np.ndarray:
    """Flip each row so that its entry of largest absolute value is > 0."""
    idx = np.argmax(np.abs(V), axis=1)
    signs = np.sign(V[np.arange(V.shape[0]), idx])
    signs[signs == 0] = 1.0
    return V * signs[:, None]


def _check_components(components, mean) -> tuple[np.ndarray, np.ndarray]:
    V = np.asarray(components, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    if V.ndim != 2 or V.shape[0] < 1:
        raise ValueError(
            "components must be a 2-D array of shape (k, D), one component "
            f"per row; got shape {V.shape}"
        )
    if mu.shape != (V.shape[1],):
        raise ValueError(
            f"mean must have shape ({V.shape[1]},) to match components of "
            f"shape {V.shape}; got shape {mu.shape}"
        )
    if not (np.all(np.isfinite(V)) and np.all(np.isfinite(mu))):
        raise ValueError("components and mean must be finite")
    return V, mu


# ---------------------------------------------------------------- PCA
def pca(X, k: int, ddof: int = 0) -> PCAResult:
    """Principal component analysis by the SVD of the centred data.

    With the centred data ``Xc = X - mean = U diag(s) V^T`` (thin SVD),
    the sample covariance is ``S = V diag(s**2 / (N - ddof)) V^T``. So the
    right singular vectors are the eigenvectors of ``S`` and the
    variances are ``s**2 / (N - ddof)``. ``S`` itself is never formed,
    which would square the condition number of ``Xc``.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data, one example per row; ``N >= 2``.
    k : int
        The number of components, ``1 <= k <= min(N, D)``.
    ddof : {0, 1}
        The covariance divides by ``N - ddof``: 0 for the
        maximum-likelihood estimate (the book's convention), 1 to match
        :func:`numpy.cov` and scikit-learn.

    Returns
    -------
    PCAResult
        ``(components, explained_variance, mean,
        explained_variance_ratio)``: the components as the rows of a
        ``(k, D)`` array, each with its largest-magnitude entry positive.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array with at least two rows, ``k``
        is out of range or ``ddof`` is not 0 or 1.

    Examples
    --------
    >>> X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> res = pca(X, 1)
    >>> res.components, res.explained_variance
    (array([[1., 0.]]), array([2.]))
    >>> res.explained_variance_ratio
    array([0.8])
    """
    A = _as_data(X)
    N, D = A.shape
    k = _check_k(k, min(N, D), "k <= min(N, D)")
    ddof = _check_ddof(ddof, N)
    mean = A.mean(axis=0)
    _, s, Vt = np.linalg.svd(A - mean, full_matrices=False)
    variances = s**2 / (N - ddof)
    total = float(np.sum(variances))
    ratio = variances[:k] / total if total > 0 else np.zeros(k)
    return PCAResult(_flip_signs(Vt[:k]), variances[:k], mean, ratio)


def project(X, components, mean) -> np.ndarray:
    """Coordinates of data in a principal subspace: ``(X - mean) V^T``.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data, one example per row.
    components : array_like, shape (k, D)
        Orthonormal directions, one per row, as returned by :func:`pca`.
    mean : array_like, shape (D,)
        The centre of the data.

    Returns
    -------
    numpy.ndarray, shape (N, k)
        The code ``z_n = V (x_n - mean)`` of each example.

    Raises
    ------
    ValueError
        If the shapes do not match or an input is not finite.

    Examples
    --------
    >>> project([[3.0, 4.0]], [[0.0, 1.0]], [1.0, 1.0])
    array([[3.]])
    """
    V, mu = _check_components(components, mean)
    A = _as_data(X, min_rows=1)
    if A.shape[1] != V.shape[1]:
        raise ValueError(
            f"X has {A.shape[1]} columns but the components have "
            f"{V.shape[1]} entries"
        )
    return (A - mu) @ V.T


def reconstruct(Z, components, mean) -> np.ndarray:
    """Map principal coordinates back to data space: ``mean + Z V``.

    For ``Z = project(X, components, mean)`` this is the orthogonal
    projection of each example onto the affine subspace through ``mean``
    spanned by the components.

    Parameters
    ----------
    Z : array_like, shape (N, k)
        Coordinates, one example per row.
    components : array_like, shape (k, D)
        Orthonormal directions, one per row.
    mean : array_like, shape (D,)

    Returns
    -------
    numpy.ndarray, shape (N, D)

    Raises
    ------
    ValueError
        If the shapes do not match or an input is not finite.

    Examples
    --------
    >>> reconstruct([[3.0]], [[0.0, 1.0]], [1.0, 1.0])
    array([[1., 4.]])
    """
    V, mu = _check_components(components, mean)
    C = _as_data(Z, "Z", min_rows=1)
    if C.shape[1] != V.shape[0]:
        raise ValueError(
            f"Z has {C.shape[1]} columns but there are {V.shape[0]} components"
        )
    return mu + C @ V


def pca_gram(X, k: int, ddof: int = 0, rtol: float = 1e-10) -> PCAResult:
    """PCA from the ``N x N`` Gram matrix, for data with ``N << D``.

    If ``Xc Xc^T u = lam u`` with ``lam > 0`` and ``|u| = 1``, then
    ``v = Xc^T u / sqrt(lam)`` is a unit eigenvector of ``Xc^T Xc`` with
    the same eigenvalue. One eigendecomposition of the ``N x N`` matrix
    ``Xc Xc^T`` (cost ``O(N^2 D + N^3)``) therefore replaces one of the
    ``D x D`` matrix ``Xc^T Xc`` (cost ``O(N D^2 + D^3)``).

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data, one example per row; ``N >= 2``.
    k : int
        The number of components, ``1 <= k <= min(N - 1, D)``: the
        centred data have rank at most ``N - 1``.
    ddof : {0, 1}
        As in :func:`pca`.
    rtol : float
        Eigenvalues of the Gram matrix below ``rtol`` times the largest
        are treated as zero; asking for a component with such an
        eigenvalue raises a ``ValueError``. Forming the Gram matrix
        squares the condition number, so small eigenvalues carry an
        absolute error of about ``N * eps * lam_1``.

    Returns
    -------
    PCAResult
        As for :func:`pca`, with the same sign convention.

    Raises
    ------
    ValueError
        If the input is invalid, or the centred data have fewer than
        ``k`` eigenvalues above ``rtol * lam_1``.

    Examples
    --------
    >>> X = np.array([[2.0, 0.0, 0.0], [-2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> res = pca_gram(X, 1)
    >>> np.round(res.components, 12) + 0.0, res.explained_variance
    (array([[1., 0., 0.]]), array([2.66666667]))
    """
    A = _as_data(X)
    N, D = A.shape
    k = _check_k(k, min(N - 1, D), "k <= min(N - 1, D)")
    ddof = _check_ddof(ddof, N)
    if not rtol > 0:
        raise ValueError(f"rtol must be positive, got {rtol!r}")
    mean = A.mean(axis=0)
    Xc = A - mean
    lam, U = np.linalg.eigh(Xc @ Xc.T)  # increasing order
    lam, U = lam[::-1], U[:, ::-1]
    if not lam[0] > 0 or lam[k - 1] <= rtol * lam[0]:
        rank = int(np.sum(lam > rtol * max(lam[0], 0.0))) if lam[0] > 0 else 0
        raise ValueError(
            f"the centred data have numerical rank {rank} < k = {k}; "
            "components with zero variance are not determined by the "
            "Gram matrix"
        )
    V = (Xc.T @ U[:, :k]) / np.sqrt(lam[:k])  # (D, k), unit columns
    total = float(np.sum(Xc**2))
    ratio = lam[:k] / total
    return PCAResult(_flip_signs(V.T), lam[:k] / (N - ddof), mean, ratio)


def choose_k(X, fraction: float) -> int:
    """The fewest components that explain at least ``fraction`` of the
    variance.

    Returns the smallest ``k`` whose cumulative explained-variance ratio
    ``(lam_1 + ... + lam_k) / tr S`` is at least ``fraction``, the rule of
    scikit-learn's ``PCA(n_components=fraction)``.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data, one example per row.
    fraction : float
        A number in ``(0, 1]``.

    Returns
    -------
    int
        The number of components, between 1 and ``min(N, D)``.

    Raises
    ------
    ValueError
        If ``fraction`` is not in ``(0, 1]``, the data are invalid or
        have zero variance.

    Examples
    --------
    >>> X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> choose_k(X, 0.8), choose_k(X, 0.9)
    (1, 2)
    """
    if not (isinstance(fraction, numbers.Real) and 0 < fraction <= 1):
        raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
    A = _as_data(X)
    s = np.linalg.svd(A - A.mean(axis=0), compute_uv=False)
    total = float(np.sum(s**2))
    if total == 0:
        raise ValueError("the data have zero variance")
    cumulative = np.cumsum(s**2) / total
    # Guard against round-off: the last ratio is 1 up to a few eps.
    cumulative[-1] = 1.0
    return int(np.searchsorted(cumulative, fraction, side="left") + 1)


# ---------------------------------------------------------------- PPCA
def _check_ppca(W, mean, sigma2) -> tuple[np.ndarray, np.ndarray, float]:
    Wm = np.asarray(W, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    if Wm.ndim != 2 or min(Wm.shape) < 1:
        raise ValueError(f"W must have shape (D, k), got {Wm.shape}")
    if mu.shape != (Wm.shape[0],):
        raise ValueError(
            f"mean must have shape ({Wm.shape[0]},) to match W of shape "
            f"{Wm.shape}; got shape {mu.shape}"
        )
    if not (np.all(np.isfinite(Wm)) and np.all(np.isfinite(mu))):
        raise ValueError("W and mean must be finite")
    if not (isinstance(sigma2, numbers.Real) and 0 < sigma2 < np.inf):
        raise ValueError(f"sigma2 must be a positive number, got {sigma2!r}")
    return Wm, mu, float(sigma2)


def ppca_mle(X, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximum-likelihood probabilistic PCA (Tipping and Bishop, 1999).

    The model is ``x = W z + mu + eps`` with ``z ~ N(0, I_k)`` and
    ``eps ~ N(0, sigma2 I_D)``, so ``x ~ N(mu, W W^T + sigma2 I)``. With
    the eigenvalues ``lam_1 >= ... >= lam_D`` and unit eigenvectors of
    the sample covariance ``S`` (divisor ``N``), the likelihood is
    maximised by

    * ``mu = mean(X)``;
    * ``sigma2 = (lam_{k+1} + ... + lam_D) / (D - k)``, the average
      variance in the discarded directions;
    * ``W = V_k diag(sqrt(lam_i - sigma2))``, with ``V_k`` the top ``k``
      eigenvectors (as columns).

    ``W R`` for any orthogonal ``R`` is an equally good maximiser; this
    function returns the one with ``R = I`` and the signs of :func:`pca`.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data, one example per row.
    k : int
        The latent dimension, ``1 <= k <= D - 1``.

    Returns
    -------
    W : numpy.ndarray, shape (D, k)
    mu : numpy.ndarray, shape (D,)
    sigma2 : float

    Raises
    ------
    ValueError
        If the input is invalid, ``k`` is out of range, or the data lie
        in a ``k``-dimensional affine subspace (then ``sigma2 = 0`` and
        the likelihood is unbounded).

    Examples
    --------
    >>> X = np.array([[3.0, 0, 0], [-3.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0],
    ...               [0, 0, 1.0], [0, 0, -1.0]])
    >>> W, mu, sigma2 = ppca_mle(X, 1)
    >>> W.ravel() ** 2, round(sigma2, 12)  # lam = 3, 1/3, 1/3
    (array([2.66666667, 0.        , 0.        ]), 0.333333333333)
    """
    A = _as_data(X)
    N, D = A.shape
    k = _check_k(k, D - 1, "k <= D - 1, so that one direction is noise")
    mu = A.mean(axis=0)
    _, s, Vt = np.linalg.svd(A - mu, full_matrices=False)
    lam = s**2 / N
    discarded = float(np.sum(lam[k:]))  # the zero eigenvalues add nothing
    sigma2 = discarded / (D - k)
    if not sigma2 > EPS * float(lam[0]):
        raise ValueError(
            f"the data lie in a {k}-dimensional affine subspace, so the "
            "noise variance sigma2 is 0 and the likelihood is unbounded"
        )
    V = _flip_signs(Vt[:k])  # (k, D)
    W = V.T * np.sqrt(np.maximum(lam[:k] - sigma2, 0.0))
    return W, mu, sigma2


def ppca_log_likelihood(X, W, mean, sigma2: float) -> float:
    """Log-likelihood of data under probabilistic PCA.

    Sums ``log N(x_n | mean, W W^T + sigma2 I)`` over the rows of ``X``,
    using :func:`m4ml.probability.gaussian_logpdf`.

    Parameters
    ----------
    X : array_like, shape (N, D)
    W : array_like, shape (D, k)
    mean : array_like, shape (D,)
    sigma2 : float
        The noise variance, positive.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes do not match or ``sigma2`` is not positive.

    Examples
    --------
    >>> X = np.zeros((1, 2))
    >>> round(ppca_log_likelihood(X, np.zeros((2, 1)), [0.0, 0.0], 1.0), 6)
    -1.837877
    """
    Wm, mu, s2 = _check_ppca(W, mean, sigma2)
    A = _as_data(X, min_rows=1)
    if A.shape[1] != mu.size:
        raise ValueError(
            f"X has {A.shape[1]} columns but the model has D = {mu.size}"
        )
    C = Wm @ Wm.T + s2 * np.eye(mu.size)
    return float(np.sum(gaussian_logpdf(A, mu, C)))


def ppca_sample(
    W, mean, sigma2: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``n`` samples ``x = W z + mean + eps`` from probabilistic PCA.

    Parameters
    ----------
    W : array_like, shape (D, k)
    mean : array_like, shape (D,)
    sigma2 : float
        The noise variance, positive.
    n : int
        The number of samples, at least 1.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, D)

    Raises
    ------
    ValueError
        If the shapes do not match, ``sigma2 <= 0`` or ``n < 1``.
    TypeError
        If ``rng`` is not a :class:`numpy.random.Generator`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ppca_sample(np.ones((3, 1)), np.zeros(3), 0.1, 5, rng).shape
    (5, 3)
    """
    Wm, mu, s2 = _check_ppca(W, mean, sigma2)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    check_generator(rng)
    D, k = Wm.shape
    Z = rng.standard_normal((n, k))
    noise = rng.standard_normal((n, D))
    return Z @ Wm.T + mu + np.sqrt(s2) * noise


def ppca_posterior(X, W, mean, sigma2: float):
    """Posterior ``p(z | x)`` of the latent variables of probabilistic PCA.

    With ``M = W^T W + sigma2 I_k``, the posterior is Gaussian with mean
    ``M^{-1} W^T (x - mean)`` and covariance ``sigma2 M^{-1}``, the same
    for every ``x``.

    Parameters
    ----------
    X : array_like, shape (N, D)
    W : array_like, shape (D, k)
    mean : array_like, shape (D,)
    sigma2 : float
        The noise variance, positive.

    Returns
    -------
    means : numpy.ndarray, shape (N, k)
        The posterior mean of ``z`` for each row of ``X``.
    cov : numpy.ndarray, shape (k, k)
        The posterior covariance.

    Raises
    ------
    ValueError
        If the shapes do not match or ``sigma2`` is not positive.

    Examples
    --------
    >>> m, c = ppca_posterior([[2.0, 0.0]], [[1.0], [0.0]], [0.0, 0.0], 1.0)
    >>> m, c
    (array([[1.]]), array([[0.5]]))
    """
    Wm, mu, s2 = _check_ppca(W, mean, sigma2)
    A = _as_data(X, min_rows=1)
    if A.shape[1] != mu.size:
        raise ValueError(
            f"X has {A.shape[1]} columns but the model has D = {mu.size}"
        )
    k = Wm.shape[1]
    M = Wm.T @ Wm + s2 * np.eye(k)
    means = np.linalg.solve(M, Wm.T @ (A - mu).T).T
    cov = s2 * np.linalg.inv(M)
    return means, 0.5 * (cov + cov.T)
