"""Data as vectors, held-out error, cross-validation and double descent.

Chapter *When models meet data* explains these functions and checks them
against scikit-learn and closed forms. They follow the chapter's path
from a table of data to an honest estimate of how well a model predicts:

* turning raw features into vectors: :func:`one_hot` for categorical
  features, :func:`standardize_fit` and :func:`standardize_apply` for
  continuous ones (statistics fitted on training data only), and
  :func:`polynomial_features` for a nested family of models;
* fitting by (regularised) empirical risk minimisation:
  :func:`fit_polynomial` (least squares) and :func:`ridge_fit` (squared
  loss plus an L2 penalty, the MAP estimate under a Gaussian prior);
* estimating the error on new data: :func:`train_test_split`,
  :func:`k_fold_indices` and :func:`cross_validate`;
* the bias-variance decomposition, by Monte Carlo
  (:func:`bias_variance_decomposition`) and in closed form for linear
  smoothers (:func:`linear_smoother_bias_variance`);
* double descent of minimum-norm least squares on random features
  (:func:`random_features`, :func:`double_descent_curve`).

Index arrays are int64 and sorted; data are float64; randomness comes
only from an ``rng`` argument, a :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from m4ml.analytic_geometry import least_squares
from m4ml.matrix_decompositions import pinv
from m4ml.validation import check_generator

__all__ = [
    "BiasVariance",
    "DoubleDescent",
    "Standardization",
    "bias_variance_decomposition",
    "cross_validate",
    "double_descent_curve",
    "fit_polynomial",
    "k_fold_indices",
    "linear_smoother_bias_variance",
    "one_hot",
    "polynomial_features",
    "random_features",
    "ridge_fit",
    "standardize_apply",
    "standardize_fit",
    "train_test_split",
]

EPS = np.finfo(np.float64).eps


class Standardization(NamedTuple):
    """Per-feature statistics of a training set: ``mean`` and ``scale``."""

    mean: np.ndarray
    scale: np.ndarray


class BiasVariance(NamedTuple):
    """The terms of the bias-variance decomposition, averaged over x.

    ``test_mse`` is the measured (Monte Carlo) or exact expected test
    error and ``se`` the standard error of ``test_mse - (bias2 + variance
    + noise)``; it is 0 for an exact computation.
    """

    bias2: float
    variance: float
    noise: float
    test_mse: float
    se: float


class DoubleDescent(NamedTuple):
    """Errors of minimum-norm least squares against the number of features.

    Arrays of errors and norms have shape ``(n_trials, len(n_features))``,
    one row per draw of the random features.
    """

    n_features: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    weight_norm: np.ndarray


# ---------------------------------------------------------------- helpers


def _integer(n, name: str, minimum: int) -> int:
    if (
        isinstance(n, bool)
        or not isinstance(n, numbers.Integral)
        or n < minimum
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _finite(x, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    arr = np.array(x, dtype=np.float64)
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ndims:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndims))} dimensions, "
            f"got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _nonnegative(value, name: str) -> float:
    if (
        not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


# ------------------------------------------------------ data as vectors


def one_hot(labels, classes=None) -> np.ndarray:
    """Encode categorical labels as rows of the identity matrix.

    Row ``n`` of the result is the standard basis vector ``e_k`` of the
    class ``classes[k]`` of ``labels[n]``, so every row has a single 1.
    With the default ``classes`` (the sorted distinct labels) this is
    scikit-learn's ``OneHotEncoder(sparse_output=False)`` on one column.
    Pass the classes found on the training set to encode test data the
    same way.

    Parameters
    ----------
    labels : array_like, shape (N,)
        Labels of any type that numpy can compare (integers, strings).
    classes : array_like, shape (K,), optional
        The distinct classes, in the order of the columns.

    Returns
    -------
    numpy.ndarray, shape (N, K)
        Float64 indicator matrix.

    Raises
    ------
    ValueError
        If ``labels`` is not a non-empty 1-D array, ``classes`` has
        repeated entries, or a label is not among ``classes``.

    Examples
    --------
    >>> one_hot(["b", "a", "c", "a"])
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 0., 1.],
           [1., 0., 0.]])
    >>> one_hot([2, 0], classes=[0, 1, 2])
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0:
        raise ValueError(
            f"labels must be a non-empty 1-D array, got shape {lab.shape}"
        )
    cls = np.unique(lab) if classes is None else np.asarray(classes)
    if cls.ndim != 1 or cls.size == 0:
        raise ValueError("classes must be a non-empty 1-D array")
    if np.unique(cls).size != cls.size:
        raise ValueError("classes must not contain repeated entries")
    order = np.argsort(cls, kind="stable")
    pos = np.searchsorted(cls, lab, sorter=order)
    pos = np.minimum(pos, cls.size - 1)
    idx = order[pos]
    unknown = cls[idx] != lab
    if np.any(unknown):
        first = lab[unknown][0].item()
        raise ValueError(
            f"unknown category {first!r}: not among the classes {cls.tolist()}"
        )
    out = np.zeros((lab.size, cls.size))
    out[np.arange(lab.size), idx] = 1.0
    return out


def standardize_fit(X) -> Standardization:
    """Per-feature mean and standard deviation of a training set.

    The scale is the standard deviation with divisor ``N`` (as in
    scikit-learn's ``StandardScaler``). A constant feature, whose standard
    deviation is zero up to round-off (at most ``10 * eps * |mean|``),
    gets scale 1, so that it is centred to zero instead of divided by
    zero.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Training features, one example per row.

    Returns
    -------
    Standardization
        The named tuple ``(mean, scale)`` of arrays of shape ``(D,)``.

    Examples
    --------
    >>> stats = standardize_fit([[1.0, 5.0], [3.0, 5.0]])
    >>> stats.mean, stats.scale
    (array([2., 5.]), array([1., 1.]))
    """
    A = _finite(X, "X", 2)
    mean = A.mean(axis=0)
    scale = A.std(axis=0)
    scale[scale <= 10 * EPS * np.abs(mean)] = 1.0
    return Standardization(mean=mean, scale=scale)


def standardize_apply(X, stats: Standardization) -> np.ndarray:
    """Standardise features with statistics fitted on a training set.

    Returns ``(X - stats.mean) / stats.scale``. Apply it to the training
    set and to every validation or test set with the *same* ``stats``:
    fitting them on data the model is evaluated on leaks information.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features to transform.
    stats : Standardization
        The output of :func:`standardize_fit` on the training features.

    Returns
    -------
    numpy.ndarray, shape (N, D)

    Raises
    ------
    ValueError
        If ``X`` does not have ``D`` columns.

    Examples
    --------
    >>> stats = standardize_fit([[1.0], [3.0]])
    >>> standardize_apply([[1.0], [3.0], [5.0]], stats).ravel()
    array([-1.,  1.,  3.])
    """
    A = _finite(X, "X", 2)
    mean = np.asarray(stats.mean, dtype=np.float64)
    scale = np.asarray(stats.scale, dtype=np.float64)
    if A.shape[1] != mean.shape[0] or mean.shape != scale.shape:
        raise ValueError(
            f"X has {A.shape[1]} features but the statistics were fitted "
            f"on {mean.shape[0]}"
        )
    return (A - mean) / scale


def polynomial_features(x, degree: int) -> np.ndarray:
    """The design matrix of a polynomial: columns ``1, x, ..., x^degree``.

    The models of degree ``0, 1, 2, ...`` are nested: each design matrix
    is the previous one with a column appended.

    Parameters
    ----------
    x : array_like, shape (N,)
        Scalar inputs.
    degree : int
        Degree ``>= 0``.

    Returns
    -------
    numpy.ndarray, shape (N, degree + 1)
        The Vandermonde matrix with increasing powers.

    Examples
    --------
    >>> polynomial_features([1.0, 2.0, 3.0], 2)
    array([[1., 1., 1.],
           [1., 2., 4.],
           [1., 3., 9.]])
    """
    xv = _finite(x, "x", 1)
    d = _integer(degree, "degree", 0)
    return xv[:, None] ** np.arange(d + 1)


def fit_polynomial(x, y, degree: int) -> np.ndarray:
    """Least-squares polynomial coefficients, lowest degree first.

    Minimises the empirical risk with squared loss,
    ``sum_n (y_n - sum_j w_j x_n^j)^2``, by QR
    (:func:`m4ml.analytic_geometry.least_squares`); if there are fewer
    distinct inputs than coefficients, the minimum-norm minimiser is
    returned. Evaluate the fit with
    ``numpy.polynomial.polynomial.polyval(x_new, w)``.

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Inputs and targets.
    degree : int
        Degree ``>= 0`` of the polynomial.

    Returns
    -------
    numpy.ndarray, shape (degree + 1,)

    Examples
    --------
    >>> w = fit_polynomial([0.0, 1.0, 2.0], [1.0, 3.0, 5.0], 1)
    >>> bool(np.allclose(w, [1.0, 2.0], rtol=1e-13))
    True
    """
    Phi = polynomial_features(x, degree)
    yv = _finite(y, "y", 1)
    if yv.shape[0] != Phi.shape[0]:
        raise ValueError(
            f"x and y must have the same length, got {Phi.shape[0]} and "
            f"{yv.shape[0]}"
        )
    return least_squares(Phi, yv, min_norm=True)


def ridge_fit(
    X, y, lam: float, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """Ridge regression: squared loss plus an L2 penalty on the weights.

    Minimises ``||y - X w - b||^2 + lam * ||w||^2`` over ``w`` and, if
    ``fit_intercept``, the unpenalised intercept ``b`` (else ``b = 0``).
    With an intercept the optimal ``b`` is ``mean(y) - mean(X) @ w``, so
    ``w`` is the ridge solution for centred ``X`` and ``y``. It is
    computed as the least-squares solution of the stacked system
    ``[X; sqrt(lam) I] w = [y; 0]`` (by QR, without forming ``X^T X``);
    for ``lam = 0`` and rank-deficient ``X`` the minimum-norm solution is
    returned. This is scikit-learn's ``Ridge(alpha=lam)``.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features.
    y : array_like, shape (N,)
        Targets.
    lam : float
        Penalty ``>= 0``.
    fit_intercept : bool
        Fit an unpenalised intercept.

    Returns
    -------
    w : numpy.ndarray, shape (D,)
    b : float

    Examples
    --------
    >>> w, b = ridge_fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0], lam=0.0)
    >>> bool(np.allclose(w, [2.0], rtol=1e-13)), round(b, 12)
    (True, 1.0)
    >>> w, b = ridge_fit([[-1.0], [1.0]], [-1.0, 1.0], lam=2.0)
    >>> float(w[0]), b
    (0.5, 0.0)
    """
    A = _finite(X, "X", 2)
    yv = _finite(y, "y", 1)
    if yv.shape[0] != A.shape[0]:
        raise ValueError(
            f"y must have {A.shape[0]} entries to match X of shape "
            f"{A.shape}, got {yv.shape[0]}"
        )
    lam = _nonnegative(lam, "lam")
    if fit_intercept:
        x_mean, y_mean = A.mean(axis=0), float(yv.mean())
    else:
        x_mean, y_mean = np.zeros(A.shape[1]), 0.0
    Ac, yc = A - x_mean, yv - y_mean
    D = A.shape[1]
    stacked = np.vstack([Ac, math.sqrt(lam) * np.eye(D)])
    target = np.concatenate([yc, np.zeros(D)])
    w = least_squares(stacked, target, min_norm=True)
    return w, float(y_mean - x_mean @ w)


# ---------------------------------------------------- held-out error


def train_test_split(
    n: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split the indices ``0, ..., n - 1`` at random into two sets.

    The test set has ``ceil(test_fraction * n)`` indices (as in
    scikit-learn's ``train_test_split``), drawn uniformly at random
    without replacement; the training set has the rest.

    Parameters
    ----------
    n : int
        Number of examples, ``>= 2``.
    test_fraction : float
        Fraction of examples held out, strictly between 0 and 1.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    train, test : numpy.ndarray of int64
        Sorted, disjoint index arrays whose union is ``range(n)``.

    Raises
    ------
    ValueError
        If ``n < 2``, the fraction is outside ``(0, 1)``, or either set
        would be empty.

    Examples
    --------
    >>> train, test = train_test_split(10, 0.25, np.random.default_rng(0))
    >>> len(train), len(test)
    (7, 3)
    >>> sorted(np.concatenate([train, test]).tolist()) == list(range(10))
    True
    """
    n = _integer(n, "n", 2)
    if not isinstance(test_fraction, numbers.Real) or not (
        0 < test_fraction < 1
    ):
        raise ValueError(
            "test_fraction must lie strictly between 0 and 1, got "
            f"{test_fraction!r}"
        )
    rng = check_generator(rng)
    n_test = math.ceil(test_fraction * n)
    if n_test >= n:
        raise ValueError(
            f"test_fraction {test_fraction} leaves no training data "
            f"among n = {n} examples"
        )
    perm = rng.permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def k_fold_indices(
    n: int, k: int, rng: np.random.Generator | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the ``(train, validation)`` index pairs of k-fold splitting.

    The indices ``0, ..., n - 1`` (shuffled first if ``rng`` is given)
    are cut into ``k`` consecutive folds; the first ``n % k`` folds have
    ``n // k + 1`` indices and the others ``n // k``. Fold ``j`` is the
    validation set of split ``j`` and the other folds are its training
    set. Without ``rng`` the splits are those of scikit-learn's
    ``KFold(n_splits=k)``. The arguments are checked when the function is
    called, before the first split is requested.

    Parameters
    ----------
    n : int
        Number of examples.
    k : int
        Number of folds, ``2 <= k <= n``.
    rng : numpy.random.Generator, optional
        If given, the indices are shuffled before they are cut.

    Yields
    ------
    train, validation : numpy.ndarray of int64
        Sorted, disjoint index arrays whose union is ``range(n)``.

    Raises
    ------
    ValueError
        If ``k < 2`` or ``k > n``.

    Examples
    --------
    >>> for train, val in k_fold_indices(5, 2):
    ...     print(train, val)
    [3 4] [0 1 2]
    [0 1 2] [3 4]
    """
    n = _integer(n, "n", 1)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k must be an integer, got {k!r}")
    if not 2 <= k <= n:
        raise ValueError(f"k must satisfy 2 <= k <= n = {n}, got k = {k}")
    order = (
        np.arange(n) if rng is None else check_generator(rng).permutation(n)
    )
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    stops = np.cumsum(sizes)

    def splits():
        for stop, size in zip(stops, sizes, strict=True):
            val = np.sort(order[stop - size : stop])
            in_train = np.ones(n, dtype=bool)
            in_train[val] = False
            yield np.flatnonzero(in_train), val

    return splits()


def cross_validate(
    fit: Callable,
    predict: Callable,
    loss: Callable,
    X,
    y,
    k: int,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The validation loss of each fold of k-fold cross-validation.

    For each split of :func:`k_fold_indices`, the model is fitted on the
    training part, ``model = fit(X[train], y[train])``, and scored on the
    held-out fold, ``loss(y[val], predict(model, X[val]))``. The
    cross-validation estimate of the risk is the mean of the returned
    array (the average over folds, as scikit-learn's
    ``cross_val_score(...).mean()``); its spread measures how much the
    estimate depends on the split.

    Parameters
    ----------
    fit : callable
        ``fit(X_train, y_train)`` returns a fitted model (any object).
    predict : callable
        ``predict(model, X_val)`` returns predictions for ``X_val``.
    loss : callable
        ``loss(y_val, y_pred)`` returns a number, such as the mean
        squared error.
    X : array_like, shape (N, ...)
        Inputs, one example per row (or entry).
    y : array_like, shape (N,)
        Targets.
    k : int
        Number of folds, ``2 <= k <= N``.
    rng : numpy.random.Generator, optional
        Shuffle before splitting.

    Returns
    -------
    numpy.ndarray, shape (k,)
        The loss on each validation fold.

    Examples
    --------
    >>> X = np.arange(6.0)
    >>> y = 2.0 * X
    >>> fit = lambda X, y: np.mean(y)          # predict a constant
    >>> predict = lambda c, X: np.full(len(X), c)
    >>> mse = lambda y, p: float(np.mean((y - p) ** 2))
    >>> cross_validate(fit, predict, mse, X, y, k=3)
    array([37.,  1., 37.])
    """
    Xa, ya = np.asarray(X), np.asarray(y)
    if Xa.ndim == 0 or ya.ndim != 1 or Xa.shape[0] != ya.shape[0]:
        raise ValueError(
            "X and y must have the same number of examples (rows), got "
            f"shapes {Xa.shape} and {ya.shape}"
        )
    losses = []
    for train, val in k_fold_indices(ya.shape[0], k, rng):
        model = fit(Xa[train], ya[train])
        losses.append(float(loss(ya[val], predict(model, Xa[val]))))
    return np.array(losses)


# ------------------------------------------------------ bias-variance


def bias_variance_decomposition(
    fit_predict: Callable,
    f: Callable,
    x_train,
    x_test,
    noise_std: float,
    n_datasets: int,
    rng: np.random.Generator,
) -> BiasVariance:
    """Monte Carlo bias, variance and test error of a learning algorithm.

    The training inputs ``x_train`` are held fixed (a fixed design). For
    each of ``M = n_datasets`` training sets, targets
    ``y = f(x_train) + noise`` are drawn with independent
    ``N(0, noise_std^2)`` noise, the algorithm predicts at ``x_test``,
    ``p_m = fit_predict(x_train, y, x_test)``, and fresh test targets
    ``f(x_test) + noise`` are drawn to measure its squared error. With
    ``pbar`` the average prediction over data sets, averaged over the
    test inputs:

    * ``bias2 = mean_x (pbar(x) - f(x))^2``,
    * ``variance = mean_x mean_m (p_m(x) - pbar(x))^2``,
    * ``noise = noise_std^2``,
    * ``test_mse = mean_m mean_x (y_new(x) - p_m(x))^2``.

    The decomposition theorem says that ``test_mse`` and ``bias2 +
    variance + noise`` estimate the same number. Their difference is an
    average of ``M`` independent terms, one per data set, and ``se`` is
    its standard error (sample standard deviation over ``sqrt(M)``).

    Parameters
    ----------
    fit_predict : callable
        ``fit_predict(x_train, y_train, x_test)`` returns predictions of
        shape ``(T,)``.
    f : callable
        The true regression function, applied to arrays of inputs.
    x_train : array_like, shape (N, ...)
        Fixed training inputs.
    x_test : array_like, shape (T, ...)
        Test inputs at which bias and variance are averaged.
    noise_std : float
        Standard deviation of the additive Gaussian noise, ``>= 0``.
    n_datasets : int
        Number of simulated training sets, ``>= 2``.
    rng : numpy.random.Generator
        Source of the noise.

    Returns
    -------
    BiasVariance
        ``(bias2, variance, noise, test_mse, se)`` as Python floats.

    Examples
    --------
    >>> mean_fit = lambda x, y, x_new: np.full(len(x_new), y.mean())
    >>> bv = bias_variance_decomposition(
    ...     mean_fit, lambda x: 0.0 * x, np.zeros(4), np.zeros(3), 1.0,
    ...     4000, np.random.default_rng(0))
    >>> bv.noise, bool(abs(bv.variance - 0.25) < 0.02)  # Var = 1/4
    (1.0, True)
    """
    xtr, xte = np.asarray(x_train), np.asarray(x_test)
    if xtr.ndim == 0 or xte.ndim == 0 or len(xtr) == 0 or len(xte) == 0:
        raise ValueError("x_train and x_test must be non-empty arrays")
    sigma = _nonnegative(noise_std, "noise_std")
    M = _integer(n_datasets, "n_datasets", 2)
    rng = check_generator(rng)
    f_train = np.asarray(f(xtr), dtype=np.float64)
    f_test = np.asarray(f(xte), dtype=np.float64)
    preds = np.empty((M, len(xte)))
    test_sq = np.empty(M)
    for m in range(M):
        y = f_train + sigma * rng.standard_normal(f_train.shape)
        preds[m] = fit_predict(xtr, y, xte)
        y_new = f_test + sigma * rng.standard_normal(f_test.shape)
        test_sq[m] = np.mean((y_new - preds[m]) ** 2)
    mean_pred = preds.mean(axis=0)
    bias2 = float(np.mean((mean_pred - f_test) ** 2))
    variance = float(np.mean((preds - mean_pred) ** 2))
    # Per data set, the error that bias, variance and noise account for.
    explained = np.mean((preds - f_test) ** 2, axis=1) + sigma**2
    diff = test_sq - explained
    se = float(diff.std(ddof=1) / math.sqrt(M))
    return BiasVariance(bias2, variance, sigma**2, float(test_sq.mean()), se)


def linear_smoother_bias_variance(
    H, f_train, f_test, noise_std: float
) -> BiasVariance:
    """Exact bias-variance decomposition of a linear smoother.

    A linear smoother predicts ``H @ y`` at the test inputs from training
    targets ``y = f_train + noise`` with independent noise of variance
    ``sigma^2``; least squares on fixed features is one, with
    ``H = Phi_test @ pinv(Phi_train)``. Then ``E[H y] = H f_train`` and
    ``Cov[H y] = sigma^2 H H^T``, so, averaged over the ``T`` test inputs,

    * ``bias2 = ||H f_train - f_test||^2 / T``,
    * ``variance = sigma^2 ||H||_F^2 / T``,
    * ``test_mse = bias2 + variance + sigma^2`` and ``se = 0``.

    Parameters
    ----------
    H : array_like, shape (T, N)
        The smoother matrix.
    f_train : array_like, shape (N,)
        True regression function at the training inputs.
    f_test : array_like, shape (T,)
        True regression function at the test inputs.
    noise_std : float
        Noise standard deviation ``sigma >= 0``.

    Returns
    -------
    BiasVariance

    Examples
    --------
    >>> H = np.full((1, 4), 0.25)   # predict the mean of 4 targets
    >>> linear_smoother_bias_variance(H, np.ones(4), [2.0], 1.0)
    BiasVariance(bias2=1.0, variance=0.25, noise=1.0, test_mse=2.25, se=0.0)
    """
    Hm = _finite(H, "H", 2)
    ftr = _finite(f_train, "f_train", 1)
    fte = _finite(f_test, "f_test", 1)
    if Hm.shape != (fte.shape[0], ftr.shape[0]):
        raise ValueError(
            f"H must have shape (len(f_test), len(f_train)) = "
            f"{(fte.shape[0], ftr.shape[0])}, got {Hm.shape}"
        )
    sigma = _nonnegative(noise_std, "noise_std")
    T = fte.shape[0]
    bias2 = float(np.sum((Hm @ ftr - fte) ** 2) / T)
    variance = float(sigma**2 * np.sum(Hm**2) / T)
    noise = sigma**2
    return BiasVariance(bias2, variance, noise, bias2 + variance + noise, 0.0)


# ------------------------------------------------------ double descent


def random_features(X, W, b) -> np.ndarray:
    """Random features ``tanh(X W + b)``: a frozen hidden layer.

    Column ``j`` is the feature ``phi_j(x) = tanh(w_j^T x + b_j)`` of a
    two-layer network whose first layer (``W``, ``b``) is drawn at random
    and never trained; only the output weights are fitted.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Inputs.
    W : array_like, shape (D, P)
        Input weights, one column per feature.
    b : array_like, shape (P,)
        Biases.

    Returns
    -------
    numpy.ndarray, shape (N, P)

    Examples
    --------
    >>> random_features([[0.0], [1.0]], [[1.0, -1.0]], [0.0, 0.0])
    array([[ 0.        ,  0.        ],
           [ 0.76159416, -0.76159416]])
    """
    A = _finite(X, "X", 2)
    Wm = _finite(W, "W", 2)
    bv = _finite(b, "b", 1)
    if Wm.shape[0] != A.shape[1] or bv.shape[0] != Wm.shape[1]:
        raise ValueError(
            f"shapes do not match: X {A.shape}, W {Wm.shape}, b {bv.shape}"
        )
    return np.tanh(A @ Wm + bv)


def double_descent_curve(
    X_train,
    y_train,
    X_test,
    y_test,
    n_features,
    n_trials: int,
    rng: np.random.Generator,
) -> DoubleDescent:
    """Train and test error of min-norm least squares on random features.

    In each trial, ``P_max = max(n_features)`` random features
    (:func:`random_features` with ``W`` of independent ``N(0, 1/D)``
    entries and ``b`` of ``N(0, 1)`` entries) are drawn; for each ``P``
    in ``n_features`` the output weights on the first ``P`` of them are
    the minimum-norm least-squares solution ``w = pinv(Phi) @ y``
    (:func:`m4ml.matrix_decompositions.pinv`). For ``P < N`` this is the
    ordinary least-squares fit; for ``P >= N`` (and ``Phi`` of rank
    ``N``) it interpolates the training data.

    Parameters
    ----------
    X_train, X_test : array_like, shapes (N, D) and (T, D)
        Inputs.
    y_train, y_test : array_like, shapes (N,) and (T,)
        Targets.
    n_features : array_like of int
        Strictly increasing numbers of features, all ``>= 1``.
    n_trials : int
        Number of independent draws of the features, ``>= 1``.
    rng : numpy.random.Generator
        Source of the random features.

    Returns
    -------
    DoubleDescent
        ``n_features`` and arrays of shape ``(n_trials, len(n_features))``
        of training MSE, test MSE and ``||w||``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((5, 2)), rng.standard_normal(5)
    >>> dd = double_descent_curve(X, y, X, y, [2, 5, 20], 1, rng)
    >>> bool(dd.train_mse[0, 0] > 0), bool(dd.train_mse[0, 2] < 1e-20)
    (True, True)
    """
    Xtr = _finite(X_train, "X_train", 2)
    Xte = _finite(X_test, "X_test", 2)
    ytr = _finite(y_train, "y_train", 1)
    yte = _finite(y_test, "y_test", 1)
    if Xtr.shape[0] != ytr.shape[0] or Xte.shape[0] != yte.shape[0]:
        raise ValueError("inputs and targets must have the same length")
    if Xte.shape[1] != Xtr.shape[1]:
        raise ValueError("X_train and X_test must have the same columns")
    Ps = np.asarray(n_features)
    if (
        Ps.ndim != 1
        or Ps.size == 0
        or not np.issubdtype(Ps.dtype, np.integer)
        or Ps[0] < 1
        or np.any(np.diff(Ps) <= 0)
    ):
        raise ValueError(
            "n_features must be a strictly increasing 1-D array of "
            "positive integers"
        )
    trials = _integer(n_trials, "n_trials", 1)
    rng = check_generator(rng)
    D, P_max = Xtr.shape[1], int(Ps[-1])
    shape = (trials, Ps.size)
    train, test, norm = np.empty(shape), np.empty(shape), np.empty(shape)
    for t in range(trials):
        W = rng.standard_normal((D, P_max)) / math.sqrt(D)
        b = rng.standard_normal(P_max)
        F_tr, F_te = random_features(Xtr, W, b), random_features(Xte, W, b)
        for i, P in enumerate(Ps):
            w = pinv(F_tr[:, :P]) @ ytr
            train[t, i] = np.mean((F_tr[:, :P] @ w - ytr) ** 2)
            test[t, i] = np.mean((F_te[:, :P] @ w - yte) ** 2)
            norm[t, i] = np.linalg.norm(w)
    return DoubleDescent(Ps.astype(np.int64), train, test, norm)
