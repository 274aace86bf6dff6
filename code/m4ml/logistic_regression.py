"""Logistic and softmax regression, fitted by Newton's method and descent.

The binary model is ``P(y = 1 | x) = sigmoid(w^T x + b)``; the multiclass
model is ``P(y = k | x) = softmax(W^T x + b)_k``. Both are fitted by
minimising the average negative log-likelihood (the cross-entropy) plus an
L2 penalty ``lam / 2 * ||w||^2`` that never touches the intercept::

    J(w) = mean_n [log(1 + exp(z_n)) - y_n z_n] + lam / 2 * ||w||^2,

with ``z_n = w^T x_n + b``. In these units scikit-learn's
``LogisticRegression(C=C)`` solves the same problem with
``lam = 1 / (C N)`` for ``N`` examples.

The loss functions take a design matrix ``X`` whose rows are the examples;
with ``intercept=True`` its first column is the constant feature 1 and the
first weight (the intercept) is not penalised. :func:`add_intercept`
builds such a matrix. The stable ``sigmoid`` is the one of
:mod:`m4ml.calculus`, re-exported here; :func:`softmax` generalises
:func:`m4ml.vector_calculus.softmax` to arrays and an ``axis``.
"""

from __future__ import annotations

import numbers
import warnings
from typing import NamedTuple

import numpy as np

from m4ml.calculus import sigmoid

__all__ = [
    "ConvergenceWarning",
    "LogisticFit",
    "SoftmaxFit",
    "add_intercept",
    "binary_cross_entropy",
    "fit_logistic",
    "fit_softmax",
    "irls_step",
    "logistic_hessian",
    "logsumexp",
    "one_hot",
    "predict_proba",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
]


_EPS = np.finfo(np.float64).eps


class ConvergenceWarning(RuntimeWarning):
    """A fit stopped before its gradient norm reached the tolerance."""


class LogisticFit(NamedTuple):
    """The result of :func:`fit_logistic`.

    Attributes
    ----------
    coef : numpy.ndarray, shape (D,)
        The weights ``w`` of the features.
    intercept : float
        The intercept ``b`` (0.0 without ``fit_intercept``).
    n_iter : int
        The number of Newton steps taken.
    converged : bool
        Whether the gradient norm reached ``tol``.
    losses : numpy.ndarray, shape (n_iter + 1,)
        The penalised loss at every iterate, the start included.
    grad_norms : numpy.ndarray, shape (n_iter + 1,)
        The Euclidean norm of the gradient at every iterate.
    """

    coef: np.ndarray
    intercept: float
    n_iter: int
    converged: bool
    losses: np.ndarray
    grad_norms: np.ndarray


class SoftmaxFit(NamedTuple):
    """The result of :func:`fit_softmax`.

    Attributes
    ----------
    coef : numpy.ndarray, shape (D, K)
        The weights, one column per class.
    intercept : numpy.ndarray, shape (K,)
        The intercepts (zeros without ``fit_intercept``); they sum to 0.
    n_iter, converged, losses, grad_norms
        As in :class:`LogisticFit`.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    converged: bool
    losses: np.ndarray
    grad_norms: np.ndarray


# ------------------------------------------------------------ validation


def _design(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    return X


def _binary_labels(y, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    yf = y.astype(np.float64)
    if not np.all((yf == 0) | (yf == 1)):
        raise ValueError("binary labels must be 0 or 1")
    return yf


def _class_labels(y, n: int, n_classes: int | None = None) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        yr = np.asarray(y, dtype=np.float64)
        if not np.all(yr == np.round(yr)):
            raise ValueError("class labels must be integers 0, ..., K-1")
        y = yr.astype(np.int64)
    y = y.astype(np.int64)
    if np.any(y < 0):
        raise ValueError("class labels must be integers 0, ..., K-1")
    if n_classes is not None and np.any(y >= n_classes):
        raise ValueError(
            f"class labels must be below the number of classes {n_classes}"
        )
    return y


def _penalty(lam) -> float:
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
        raise ValueError(f"lam must be a real number, got {lam!r}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be finite and non-negative, got {lam}")
    return float(lam)


def _positive_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _positive(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {x!r}")
    if not (np.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive number, got {x!r}")
    return float(x)


def _penalty_mask(d: int, intercept: bool) -> np.ndarray:
    mask = np.ones(d)
    if intercept:
        mask[0] = 0.0
    return mask


# ------------------------------------------------- stable sums of exps


def logsumexp(z, axis=-1, keepdims: bool = False):
    """The log-sum-exp ``log(sum_k exp(z_k))`` along an axis, stably.

    It uses ``log sum_k exp(z_k) = m + log sum_k exp(z_k - m)`` with
    ``m = max_k z_k``: the largest term of the shifted sum is
    ``exp(0) = 1``, so the sum lies in ``[1, K]`` and neither overflows nor
    underflows. Entries ``-inf`` (zero probability) are allowed.

    Parameters
    ----------
    z : array_like
        The logits; at least one dimension.
    axis : int
        The axis to sum over.
    keepdims : bool
        Keep the summed axis with length one.

    Returns
    -------
    float or numpy.ndarray
        A float for 1-D input without ``keepdims``.

    Raises
    ------
    ValueError
        For a scalar, an empty axis, NaN or ``+inf`` entries.

    Examples
    --------
    >>> logsumexp([1000.0, 1000.0])  # 1000 + log 2, no overflow
    1000.6931471805599
    >>> logsumexp([[0.0, 0.0], [-1000.0, -1000.0]]).round(4).tolist()
    [0.6931, -999.3069]
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        raise ValueError("z must have at least one dimension")
    if z.shape[axis] == 0:
        raise ValueError("cannot take the log-sum-exp of an empty axis")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("z must not contain NaN or +inf")
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice gives -inf
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return float(out) if out.ndim == 0 else out


def softmax(z, axis=-1) -> np.ndarray:
    """The softmax ``exp(z_k) / sum_j exp(z_j)`` along an axis, stably.

    Computed by the shifted formula ``exp(z - m) / sum_j exp(z_j - m)``
    with ``m = max_j z_j``, which equals the softmax because the softmax
    is unchanged by adding a constant to every logit. Every exponent is at
    most 0, so nothing overflows, and the denominator is at least 1. For
    a 1-D ``z`` it agrees with :func:`m4ml.vector_calculus.softmax`.

    Parameters
    ----------
    z : array_like
        The logits; at least one dimension.
    axis : int
        The axis along which the probabilities sum to one.

    Returns
    -------
    numpy.ndarray
        Probabilities of the shape of ``z``.

    Raises
    ------
    ValueError
        As :func:`logsumexp`, and for a slice that is all ``-inf``.

    Examples
    --------
    >>> softmax([1000.0, 1000.0])
    array([0.5, 0.5])
    >>> softmax([[0.0, 0.0], [0.0, -1000.0]])
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        raise ValueError("z must have at least one dimension")
    if z.shape[axis] == 0:
        raise ValueError("cannot take the softmax of an empty axis")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("z must not contain NaN or +inf")
    m = np.max(z, axis=axis, keepdims=True)
    if np.isneginf(m).any():
        raise ValueError("every logit of a slice is -inf: no distribution")
    e = np.exp(z - m)  # the largest entry is exp(0) = 1
    return e / np.sum(e, axis=axis, keepdims=True)


# ------------------------------------------------------- binary model


def add_intercept(X) -> np.ndarray:
    """Prepend a column of ones to a design matrix.

    Examples
    --------
    >>> add_intercept([[2.0], [3.0]])
    array([[1., 2.],
           [1., 3.]])
    """
    X = _design(X)
    return np.column_stack([np.ones(X.shape[0]), X])


def binary_cross_entropy(w, X, y, lam=0.0, intercept: bool = False):
    """The penalised logistic loss and its gradient.

    With ``z = X w`` and ``p = sigmoid(z)`` it returns::

        J(w) = mean_n [log(1 + exp(z_n)) - y_n z_n] + lam / 2 * ||R w||^2
        grad = X^T (p - y) / N + lam * R w

    where ``R`` is the identity, or the identity with ``R[0, 0] = 0`` when
    ``intercept`` is true. Each term equals ``log(1 + exp(-m_n))`` with the
    margin ``m_n = (2 y_n - 1) z_n``, and is computed in that form by
    :func:`numpy.logaddexp`: it is finite for any ``z`` and keeps its
    relative accuracy when the term is tiny (no cancellation between
    ``log(1 + exp(z))`` and ``y z``).

    Parameters
    ----------
    w : array_like, shape (D,)
        The weights.
    X : array_like, shape (N, D)
        The design matrix, one example per row.
    y : array_like, shape (N,)
        Labels in ``{0, 1}``.
    lam : float
        The penalty strength, non-negative.
    intercept : bool
        Whether column 0 of ``X`` is the constant 1, whose weight is not
        penalised.

    Returns
    -------
    loss : float
    grad : numpy.ndarray, shape (D,)

    Raises
    ------
    ValueError
        For bad shapes, labels outside ``{0, 1}`` or a negative ``lam``.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [1.0, -1.0]])
    >>> loss, grad = binary_cross_entropy([0.0, 0.0], X, [1, 0])
    >>> round(loss, 6)  # log 2: every probability is 1/2
    0.693147
    >>> grad  # X^T (p - y) / N with p = 1/2
    array([ 0.  , -0.75])
    """
    X = _design(X)
    n, d = X.shape
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (d,):
        raise ValueError(f"w must have shape ({d},), got {w.shape}")
    y = _binary_labels(y, n)
    lam = _penalty(lam)
    rw = _penalty_mask(d, intercept) * w
    z = X @ w
    margin = (2 * y - 1) * z  # log(1 + e^z) - y z = log(1 + e^(-margin))
    loss = np.mean(np.logaddexp(0.0, -margin)) + 0.5 * lam * (rw @ rw)
    grad = X.T @ (sigmoid(z) - y) / n + lam * rw
    return float(loss), grad


def logistic_hessian(w, X, lam=0.0, intercept: bool = False) -> np.ndarray:
    """The Hessian ``X^T S X / N + lam * R`` of the penalised logistic loss.

    ``S`` is diagonal with entries ``p_n (1 - p_n)``, ``p = sigmoid(X w)``;
    ``R`` is as in :func:`binary_cross_entropy`. The labels do not enter.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 2.0]])
    >>> logistic_hessian([0.0, 0.0], X)  # S = I / 4
    array([[0.25, 0.25],
           [0.25, 0.5 ]])
    """
    X = _design(X)
    n, d = X.shape
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (d,):
        raise ValueError(f"w must have shape ({d},), got {w.shape}")
    lam = _penalty(lam)
    p = sigmoid(X @ w)
    s = p * (1.0 - p)
    H = (X.T * s) @ X / n + lam * np.diag(_penalty_mask(d, intercept))
    return 0.5 * (H + H.T)  # symmetric to the last bit


def irls_step(w, X, y, lam=0.0, intercept: bool = False) -> np.ndarray:
    """One step of iteratively reweighted least squares (IRLS).

    With ``p = sigmoid(X w)``, weights ``s = p (1 - p)`` and the working
    response ``t = X w + (y - p) / s``, the new weights solve the weighted,
    penalised least-squares problem::

        minimise  sum_n s_n (x_n^T v - t_n)^2 + N lam ||R v||^2,

    here by :func:`numpy.linalg.lstsq` on the stacked system
    ``[sqrt(s) X; sqrt(N lam) R] v = [sqrt(s) t; 0]``. This is exactly one
    Newton step on :func:`binary_cross_entropy`.

    Examples
    --------
    >>> X = np.array([[1.0, -1.0], [1.0, 0.5], [1.0, 1.0], [1.0, 2.0]])
    >>> w1 = irls_step([0.0, 0.0], X, [0, 1, 0, 1])
    >>> w1.round(6)
    array([-0.666667,  1.066667])
    """
    X = _design(X)
    n, d = X.shape
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (d,):
        raise ValueError(f"w must have shape ({d},), got {w.shape}")
    y = _binary_labels(y, n)
    lam = _penalty(lam)
    z = X @ w
    p = sigmoid(z)
    s = p * (1.0 - p)
    if np.any(s == 0):
        raise ValueError("a probability is exactly 0 or 1: no IRLS weights")
    t = z + (y - p) / s
    root = np.sqrt(s)
    A = np.vstack(
        [
            root[:, None] * X,
            np.sqrt(n * lam) * np.diag(_penalty_mask(d, intercept)),
        ]
    )
    rhs = np.concatenate([root * t, np.zeros(d)])
    return np.linalg.lstsq(A, rhs, rcond=None)[0]


def _warn_not_converged(name: str, n_iter: int, gnorm: float, tol: float):
    warnings.warn(
        f"{name} stopped after {n_iter} iterations with gradient norm "
        f"{gnorm:.3e} > tol {tol:.1e}; the weights may be unreliable "
        "(on separable data without a penalty no minimiser exists)",
        ConvergenceWarning,
        stacklevel=3,
    )


def fit_logistic(
    X,
    y,
    lam=1e-2,
    fit_intercept: bool = True,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> LogisticFit:
    """Fit binary logistic regression by Newton's method (IRLS).

    Minimises :func:`binary_cross_entropy` from ``w = 0`` with the steps
    ``w <- w - t H^{-1} g``, where ``H`` is :func:`logistic_hessian`, ``g``
    the gradient and ``t`` the first of ``1, 1/2, 1/4, ...`` that
    decreases the loss enough (Armijo backtracking, with an allowance for
    the round-off in the loss); near the minimum ``t = 1``, the pure
    Newton step, whose convergence is quadratic.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The features (without a column of ones).
    y : array_like, shape (N,)
        Labels in ``{0, 1}``.
    lam : float
        The L2 penalty, non-negative; scikit-learn's ``C`` is
        ``1 / (lam N)``.
    fit_intercept : bool
        Fit an unpenalised intercept.
    max_iter : int
        The largest number of Newton steps.
    tol : float
        Stop when the Euclidean norm of the gradient is at most ``tol``.

    Returns
    -------
    LogisticFit

    Raises
    ------
    ValueError
        For labels outside ``{0, 1}``, ``lam < 0``, bad shapes or bad
        ``max_iter`` or ``tol``.

    Warns
    -----
    ConvergenceWarning
        If the gradient norm is still above ``tol`` after ``max_iter``
        steps, or the line search fails, or, with ``lam = 0``, the final
        weights separate the two classes (then no maximiser of the
        likelihood exists); ``converged`` is then False.

    Examples
    --------
    >>> X = np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]])
    >>> fit = fit_logistic(X, [0, 0, 1, 0, 1], lam=0.1)
    >>> fit.converged, fit.n_iter
    (True, 5)
    >>> float(fit.coef[0].round(4)), round(fit.intercept, 4)
    (0.7822, -0.5223)
    """
    X = _design(X)
    n, d_raw = X.shape
    y = _binary_labels(y, n)
    lam = _penalty(lam)
    max_iter = _positive_int(max_iter, "max_iter")
    tol = _positive(tol, "tol")
    Xd = add_intercept(X) if fit_intercept else X
    w = np.zeros(Xd.shape[1])
    loss, g = binary_cross_entropy(w, Xd, y, lam, fit_intercept)
    losses, gnorms = [loss], [float(np.linalg.norm(g))]
    converged = gnorms[0] <= tol
    k = 0
    while not converged and k < max_iter:
        H = logistic_hessian(w, Xd, lam, fit_intercept)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t, slope = 1.0, float(g @ step)
        for _ in range(60):  # Armijo backtracking
            w_new = w - t * step
            loss_new, g_new = binary_cross_entropy(
                w_new, Xd, y, lam, fit_intercept
            )
            # Armijo's sufficient decrease, up to the round-off in the loss
            if loss_new <= loss - 1e-4 * t * slope + 8 * _EPS * abs(loss):
                break
            t /= 2
        else:  # no decrease even for tiny steps: round-off dominates
            break
        w, loss, g = w_new, loss_new, g_new
        k += 1
        losses.append(loss)
        gnorms.append(float(np.linalg.norm(g)))
        converged = gnorms[-1] <= tol
    if lam == 0 and np.all((2 * y - 1) * (Xd @ w) > 0):
        converged = False  # the weights separate the data: they diverge
        warnings.warn(
            f"fit_logistic: after {k} iterations the weights classify every "
            "example correctly, so the data are linearly separable and the "
            "unpenalised maximum-likelihood weights do not exist (their norm "
            f"is {np.linalg.norm(w):.3e} and grows without bound); use "
            "lam > 0",
            ConvergenceWarning,
            stacklevel=2,
        )
    elif not converged:
        _warn_not_converged("fit_logistic", k, gnorms[-1], tol)
    coef, b = (w[1:], float(w[0])) if fit_intercept else (w, 0.0)
    return LogisticFit(
        coef, b, k, bool(converged), np.array(losses), np.array(gnorms)
    )


def predict_proba(X, coef, intercept=0.0) -> np.ndarray:
    """Class probabilities of a fitted logistic or softmax model.

    For a 1-D ``coef`` (binary model) it returns ``P(y = 1 | x)``,
    ``sigmoid(X coef + intercept)``, of shape ``(N,)``; for a 2-D ``coef``
    of shape ``(D, K)`` it returns ``softmax(X coef + intercept)``, of
    shape ``(N, K)``, whose rows sum to one.

    Examples
    --------
    >>> predict_proba([[0.0], [1000.0]], np.array([1.0]))
    array([0.5, 1. ])
    >>> predict_proba([[0.0]], np.zeros((1, 4)))
    array([[0.25, 0.25, 0.25, 0.25]])
    """
    X = _design(X)
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim not in (1, 2) or coef.shape[0] != X.shape[1]:
        raise ValueError(
            f"coef must have shape ({X.shape[1]},) or ({X.shape[1]}, K), "
            f"got {coef.shape}"
        )
    z = X @ coef + np.asarray(intercept, dtype=np.float64)
    return sigmoid(z) if coef.ndim == 1 else softmax(z, axis=1)


# ------------------------------------------------------ softmax model


def one_hot(y, n_classes: int) -> np.ndarray:
    """The one-hot matrix ``Y`` with ``Y[n, y_n] = 1``.

    Examples
    --------
    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    n_classes = _positive_int(n_classes, "n_classes")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    y = _class_labels(y, y.shape[0], n_classes)
    Y = np.zeros((y.shape[0], n_classes))
    Y[np.arange(y.shape[0]), y] = 1.0
    return Y


def softmax_cross_entropy(W, X, y, lam=0.0, intercept: bool = False):
    """The penalised softmax cross-entropy and its gradient.

    With logits ``Z = X W`` and ``P = softmax(Z)`` row by row it returns::

        J(W) = mean_n [logsumexp(Z_n) - Z_{n, y_n}] + lam / 2 ||R W||_F^2
        grad = X^T (P - Y) / N + lam * R W

    where ``Y`` is the one-hot matrix of the labels and ``R`` is as in
    :func:`binary_cross_entropy` (row 0 of ``W`` unpenalised when
    ``intercept`` is true).

    Parameters
    ----------
    W : array_like, shape (D, K)
        The weights, one column per class.
    X : array_like, shape (N, D)
        The design matrix.
    y : array_like of int, shape (N,)
        Labels in ``0, ..., K-1``.
    lam : float
        The penalty strength, non-negative.
    intercept : bool
        Whether column 0 of ``X`` is the constant 1.

    Returns
    -------
    loss : float
    grad : numpy.ndarray, shape (D, K)

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [1.0, -1.0]])
    >>> loss, grad = softmax_cross_entropy(np.zeros((2, 3)), X, [0, 2])
    >>> round(loss, 6)  # log 3: every probability is 1/3
    1.098612
    """
    X = _design(X)
    n, d = X.shape
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != d or W.shape[1] < 2:
        raise ValueError(f"W must have shape ({d}, K), K >= 2, got {W.shape}")
    k = W.shape[1]
    y = _class_labels(y, n, k)
    lam = _penalty(lam)
    RW = _penalty_mask(d, intercept)[:, None] * W
    Z = X @ W
    lse = logsumexp(Z, axis=1)
    loss = np.mean(lse - Z[np.arange(n), y]) + 0.5 * lam * np.sum(RW * RW)
    P = softmax(Z, axis=1)
    grad = X.T @ (P - one_hot(y, k)) / n + lam * RW
    return float(loss), grad


def fit_softmax(
    X,
    y,
    lam=1e-2,
    fit_intercept: bool = True,
    n_classes: int | None = None,
    max_iter: int = 20000,
    tol: float = 1e-8,
    lr: float | None = None,
) -> SoftmaxFit:
    """Fit softmax (multinomial logistic) regression by gradient descent.

    Minimises :func:`softmax_cross_entropy` from ``W = 0`` with the fixed
    step ``lr``, by default ``1 / L`` for the smoothness constant
    ``L = lambda_max(X^T X) / (2 N) + lam`` (the Hessian of the
    cross-entropy is at most ``1/2`` times ``X^T X / N`` in each class
    direction, the bound of Boehning, 1992). Starting at zero keeps every
    iterate's intercepts summing to zero, since every gradient does.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The features (without a column of ones).
    y : array_like of int, shape (N,)
        Labels in ``0, ..., K-1``.
    lam : float
        The L2 penalty on the weights (not the intercepts), non-negative;
        scikit-learn's ``C`` is ``1 / (lam N)``.
    fit_intercept : bool
        Fit unpenalised intercepts.
    n_classes : int, optional
        ``K``; by default ``max(y) + 1``, at least 2.
    max_iter : int
        The largest number of steps.
    tol : float
        Stop when the Frobenius norm of the gradient is at most ``tol``.
    lr : float, optional
        The step size; by default ``1 / L``.

    Returns
    -------
    SoftmaxFit

    Raises
    ------
    ValueError
        For labels that are not integers in ``0, ..., K-1``, ``lam < 0``
        or bad shapes, ``max_iter``, ``tol`` or ``lr``.

    Warns
    -----
    ConvergenceWarning
        If the gradient norm is still above ``tol`` after ``max_iter``
        steps.

    Examples
    --------
    >>> X = np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0], [0.5]])
    >>> fit = fit_softmax(X, [0, 0, 1, 1, 2, 2], lam=0.1, tol=1e-10)
    >>> fit.converged
    True
    >>> predict_proba(X, fit.coef, fit.intercept).sum(axis=1).round(12)
    array([1., 1., 1., 1., 1., 1.])
    """
    X = _design(X)
    n = X.shape[0]
    y = _class_labels(y, n)
    k = max(int(y.max()) + 1, 2) if n_classes is None else n_classes
    k = _positive_int(k, "n_classes")
    if k < 2:
        raise ValueError("softmax regression needs at least 2 classes")
    y = _class_labels(y, n, k)
    lam = _penalty(lam)
    max_iter = _positive_int(max_iter, "max_iter")
    tol = _positive(tol, "tol")
    Xd = add_intercept(X) if fit_intercept else X
    if lr is None:
        L = np.linalg.eigvalsh(Xd.T @ Xd)[-1] / (2 * n) + lam
        lr = 1.0 / L
    lr = _positive(lr, "lr")
    W = np.zeros((Xd.shape[1], k))
    loss, G = softmax_cross_entropy(W, Xd, y, lam, fit_intercept)
    losses, gnorms = [loss], [float(np.linalg.norm(G))]
    it = 0
    while gnorms[-1] > tol and it < max_iter:
        W = W - lr * G
        loss, G = softmax_cross_entropy(W, Xd, y, lam, fit_intercept)
        losses.append(loss)
        gnorms.append(float(np.linalg.norm(G)))
        it += 1
        if not np.isfinite(loss):
            break
    converged = gnorms[-1] <= tol
    if not converged:
        _warn_not_converged("fit_softmax", it, gnorms[-1], tol)
    if fit_intercept:
        coef, b = W[1:], W[0]
    else:
        coef, b = W, np.zeros(k)
    return SoftmaxFit(
        coef, b, it, bool(converged), np.array(losses), np.array(gnorms)
    )
