"""Loss functions for training networks, each with its gradient.

The code of the chapter *Activation and loss functions*
(``book/deep_learning/losses.md``). A loss here returns the pair
``(loss, grad)``: the mean loss over a batch and its gradient with respect
to the network's raw outputs (the logits), which is where backpropagation
starts. Both are computed in a numerically stable form: no ``exp`` of a
large positive number, no ``log`` of zero.
"""

from __future__ import annotations

import numpy as np

from m4ml.logistic_regression import logsumexp, sigmoid, softmax

__all__ = [
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
]


def _finite(a, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def softmax_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax probabilities, and its gradient.

    For logits ``Z`` of shape ``(N, K)`` and integer labels ``y``, the loss
    is ``L = -(1/N) sum_n log softmax(Z_n)[y_n]
    = (1/N) sum_n (logsumexp(Z_n) - Z_n[y_n])`` and its gradient is
    ``dL/dZ = (softmax(Z) - onehot(y)) / N``.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Unnormalised log-probabilities, finite.
    labels : array_like of int, shape (N,)
        Classes in ``0, ..., K - 1``.

    Returns
    -------
    loss : float
        The mean loss.
    grad : numpy.ndarray, shape (N, K)
        Its gradient with respect to ``logits``.

    Raises
    ------
    ValueError
        For wrong shapes, non-finite logits or labels out of range.

    Examples
    --------
    >>> loss, grad = softmax_cross_entropy([[1000.0, 0.0]], [1])
    >>> loss, grad.tolist()  # stable: no overflow for large logits
    (1000.0, [[1.0, -1.0]])
    """
    Z = _finite(logits, "logits", 2)
    y = np.asarray(labels)
    N, K = Z.shape
    if y.shape != (N,):
        raise ValueError(
            f"labels must have shape ({N},) to match logits, got {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError("labels must be integer classes")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"labels must lie in 0..{K - 1}")
    rows = np.arange(N)
    loss = float(np.mean(logsumexp(Z, axis=1) - Z[rows, y]))
    grad = softmax(Z, axis=1)
    grad[rows, y] -= 1.0
    return loss, grad / N


def binary_cross_entropy_with_logits(z, y) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of ``sigmoid(z)`` against labels in {0, 1}.

    The loss per example is ``-y log s(z) - (1 - y) log(1 - s(z))``, with
    ``s`` the logistic sigmoid, written stably as
    ``max(z, 0) - y z + log(1 + exp(-|z|))``; its gradient with respect to
    ``z`` is ``(s(z) - y) / N``.

    Parameters
    ----------
    z : array_like, shape (N,)
        Logits, finite.
    y : array_like, shape (N,)
        Targets in ``[0, 1]`` (usually the labels 0 and 1).

    Returns
    -------
    loss : float
        The mean loss.
    grad : numpy.ndarray, shape (N,)
        Its gradient with respect to ``z``.

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite logits, targets outside [0, 1].

    Examples
    --------
    >>> loss, grad = binary_cross_entropy_with_logits([-800.0, 0.0], [1, 0])
    >>> round(loss, 6), grad.round(3).tolist()
    (400.346574, [-0.5, 0.25])
    """
    z = _finite(z, "z", 1)
    t = np.asarray(y, dtype=np.float64)
    if t.shape != z.shape:
        raise ValueError(
            f"y must have shape {z.shape} to match z, got {t.shape}"
        )
    if np.any((t < 0) | (t > 1)) or not np.all(np.isfinite(t)):
        raise ValueError("y must lie in [0, 1]")
    loss = float(
        np.mean(np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z))))
    )
    return loss, (sigmoid(z) - t) / z.size
