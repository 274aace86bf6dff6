"""Loss functions for training networks, each with its gradient.

The code of the chapter *Activation and loss functions*
(``book/deep_learning/losses.md``). A loss here returns the pair
``(loss, grad)``: the mean loss over a batch and its gradient with respect
to the network's raw outputs (the logits), which is where backpropagation
starts. Both are computed in a numerically stable form: no ``exp`` of a
large positive number, no ``log`` of zero.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from m4ml.logistic_regression import logsumexp, sigmoid, softmax

__all__ = [
    "ACTIVATIONS",
    "activation_layer",
    "binary_cross_entropy_with_logits",
    "cosine_decay",
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "huber",
    "huber_loss",
    "leaky_relu",
    "leaky_relu_grad",
    "mse_loss",
    "normal_cdf",
    "relu",
    "relu_grad",
    "softmax_cross_entropy",
    "softplus",
    "softplus_grad",
    "step_decay",
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


# ------------------------------------------------------------ activations


def _array(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if np.isnan(x).any():
        raise ValueError(f"{name} must not contain NaN")
    return x


def _nonnegative(alpha, name: str = "alpha") -> float:
    alpha = float(alpha)
    if not alpha >= 0:
        raise ValueError(f"{name} must be non-negative, got {alpha}")
    return alpha


def relu(x) -> np.ndarray:
    """The rectifier ``max(x, 0)``, entrywise.

    Examples
    --------
    >>> relu([-2.0, 0.0, 3.0]).tolist()
    [0.0, 0.0, 3.0]
    """
    return np.maximum(_array(x), 0.0)


def relu_grad(x) -> np.ndarray:
    """The derivative of :func:`relu`: 1 for ``x > 0``, else 0.

    At ``x = 0``, where the rectifier has no derivative, it returns 0, the
    convention of :class:`m4ml.mlp.ReLU`.

    Examples
    --------
    >>> relu_grad([-2.0, 0.0, 3.0]).tolist()
    [0.0, 0.0, 1.0]
    """
    return (_array(x) > 0).astype(np.float64)


def leaky_relu(x, alpha: float = 0.01) -> np.ndarray:
    """The leaky rectifier ``x`` for ``x > 0`` and ``alpha x`` otherwise.

    Parameters
    ----------
    x : array_like
        The pre-activations.
    alpha : float
        The slope for negative inputs, non-negative (0 gives the ReLU).

    Examples
    --------
    >>> leaky_relu([-2.0, 3.0], alpha=0.1).tolist()
    [-0.2, 3.0]
    """
    x, alpha = _array(x), _nonnegative(alpha)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha: float = 0.01) -> np.ndarray:
    """The derivative of :func:`leaky_relu`: 1 for ``x > 0``, else alpha.

    Examples
    --------
    >>> leaky_relu_grad([-2.0, 3.0], alpha=0.1).tolist()
    [0.1, 1.0]
    """
    x, alpha = _array(x), _nonnegative(alpha)
    return np.where(x > 0, 1.0, alpha)


def softplus(x) -> np.ndarray:
    """The softplus ``log(1 + exp(x))``, stable for any ``x``.

    It is evaluated as ``max(x, 0) + log1p(exp(-|x|))``: the exponent is
    never positive, so nothing overflows, and ``log1p`` keeps the digits
    of small values for very negative ``x``.

    Examples
    --------
    >>> softplus([-1000.0, 0.0, 1000.0]).round(6).tolist()
    [0.0, 0.693147, 1000.0]
    """
    x = _array(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def softplus_grad(x) -> np.ndarray:
    """The derivative of :func:`softplus`, the logistic sigmoid.

    Examples
    --------
    >>> softplus_grad([0.0]).tolist()
    [0.5]
    """
    return np.asarray(sigmoid(_array(x)), dtype=np.float64)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def normal_cdf(x) -> np.ndarray:
    """The standard normal distribution function, accurate in both tails.

    ``Phi(x) = (1 + erf(x / sqrt 2)) / 2`` loses every digit for very
    negative ``x``, where ``1 + erf`` cancels; the equal form
    ``erfc(-x / sqrt 2) / 2`` keeps full relative accuracy there.

    Examples
    --------
    >>> normal_cdf([0.0]).tolist()
    [0.5]
    """
    return 0.5 * _erfc(-_array(x) / math.sqrt(2.0))


def gelu(x) -> np.ndarray:
    """The Gaussian error linear unit ``x Phi(x)``, exactly (with erf).

    ``Phi`` is the standard normal distribution function, so the input is
    weighted by the probability that a standard normal variable lies
    below it.

    Examples
    --------
    >>> gelu([-1.0, 0.0, 1.0]).round(4).tolist()
    [-0.1587, 0.0, 0.8413]
    """
    x = _array(x)
    return x * normal_cdf(x)


def gelu_grad(x) -> np.ndarray:
    """The derivative of :func:`gelu`, ``Phi(x) + x phi(x)``.

    ``phi`` is the standard normal density.

    Examples
    --------
    >>> gelu_grad([0.0]).tolist()
    [0.5]
    """
    x = _array(x)
    phi = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)
    return normal_cdf(x) + x * phi


def gelu_tanh(x) -> np.ndarray:
    """The tanh approximation of :func:`gelu` used by many libraries.

    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Examples
    --------
    >>> bool(abs(gelu_tanh([1.0])[0] - gelu([1.0])[0]) < 1e-3)
    True
    """
    x = _array(x)
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


def _sigmoid_grad(x) -> np.ndarray:
    s = np.asarray(sigmoid(x), dtype=np.float64)
    return s * (1.0 - s)


def _tanh_grad(x) -> np.ndarray:
    return 1.0 - np.tanh(x) ** 2


#: Every activation of the chapter: name -> (function, derivative).
ACTIVATIONS = {
    "sigmoid": (lambda x: np.asarray(sigmoid(_array(x))), _sigmoid_grad),
    "tanh": (lambda x: np.tanh(_array(x)), _tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "softplus": (softplus, softplus_grad),
    "gelu": (gelu, gelu_grad),
}


@functools.cache
def _activation_class():
    # Imported here, not at the top: m4ml.mlp imports this module.
    from m4ml.mlp import Layer

    class Activation(Layer):
        """An entrywise activation following the m4ml.mlp Layer protocol."""

        def __init__(self, name: str, f, df) -> None:
            super().__init__()
            self.name, self._f, self._df = name, f, df
            self._x = None

        def forward(self, x, training: bool = True) -> np.ndarray:
            self._x = np.asarray(x, dtype=np.float64)
            return self._f(self._x)

        def backward(self, grad_out) -> np.ndarray:
            return grad_out * self._df(self._cached("_x"))

        def __repr__(self) -> str:
            return f"activation_layer({self.name!r})"

    return Activation


def activation_layer(name: str, **kwargs):
    """A layer applying one of :data:`ACTIVATIONS`, for ``m4ml.mlp``.

    The layer has no parameters; ``forward`` applies the function and
    ``backward`` multiplies the incoming gradient by its derivative at the
    stored input, so it plugs into :class:`m4ml.mlp.Sequential`.

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATIONS`.
    **kwargs
        Passed to the function and its derivative (``alpha`` of the leaky
        ReLU).

    Examples
    --------
    >>> layer = activation_layer("leaky_relu", alpha=0.1)
    >>> layer.forward(np.array([[-1.0, 2.0]])).tolist()
    [[-0.1, 2.0]]
    >>> layer.backward(np.ones((1, 2))).tolist()
    [[0.1, 1.0]]
    """
    if name not in ACTIVATIONS:
        raise ValueError(
            f"name must be one of {sorted(ACTIVATIONS)}, got {name!r}"
        )
    f, df = ACTIVATIONS[name]
    if kwargs:
        f, df = functools.partial(f, **kwargs), functools.partial(df, **kwargs)
    return _activation_class()(name, f, df)


# --------------------------------------------------- regression losses


def _pair(pred, target) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if p.ndim not in (1, 2) or p.shape[0] == 0:
        raise ValueError(
            f"pred must be a non-empty 1-D or 2-D array, got {p.shape}"
        )
    if t.shape != p.shape:
        raise ValueError(
            f"target must have shape {p.shape} to match pred, got {t.shape}"
        )
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(t))):
        raise ValueError("pred and target must be finite")
    return p, t


def mse_loss(pred, target) -> tuple[float, np.ndarray]:
    """Half the mean squared error, and its gradient.

    For predictions and targets of shape ``(N,)`` or ``(N, D)`` the loss is
    ``L = (1/N) sum_n (1/2) ||pred_n - target_n||^2``, the negative
    log-likelihood of Gaussian noise of unit variance up to a constant, and
    its gradient is ``(pred - target) / N``.

    Parameters
    ----------
    pred, target : array_like, shape (N,) or (N, D)
        Predictions and targets, finite.

    Returns
    -------
    loss : float
    grad : numpy.ndarray
        The gradient with respect to ``pred``.

    Raises
    ------
    ValueError
        For mismatched shapes or non-finite values.

    Examples
    --------
    >>> loss, grad = mse_loss([1.0, 3.0], [0.0, 0.0])
    >>> loss, grad.tolist()
    (2.5, [0.5, 1.5])
    """
    p, t = _pair(pred, target)
    r = p - t
    n = p.shape[0]
    return float(0.5 * np.sum(r**2) / n), r / n


def huber(r, delta: float = 1.0) -> np.ndarray:
    """The Huber function of residuals ``r``, entrywise.

    ``r^2 / 2`` for ``|r| <= delta`` and ``delta (|r| - delta / 2)``
    beyond: quadratic near zero, linear in the tails, with a continuous
    derivative ``clip(r, -delta, delta)``.

    Examples
    --------
    >>> huber([0.5, 3.0], delta=1.0).tolist()
    [0.125, 2.5]
    """
    r = _array(r, "r")
    delta = float(delta)
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))


def huber_loss(pred, target, delta: float = 1.0) -> tuple[float, np.ndarray]:
    """Mean Huber loss of the residuals ``pred - target``, and its gradient.

    ``L = (1/N) sum_n sum_d huber(pred_nd - target_nd, delta)`` with
    gradient ``clip(pred - target, -delta, delta) / N``.

    Parameters
    ----------
    pred, target : array_like, shape (N,) or (N, D)
        Predictions and targets, finite.
    delta : float
        Where the loss turns from quadratic to linear, positive.

    Returns
    -------
    loss : float
    grad : numpy.ndarray
        The gradient with respect to ``pred``.

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite values or ``delta <= 0``.

    Examples
    --------
    >>> loss, grad = huber_loss([0.5, 3.0], [0.0, 0.0])
    >>> loss, grad.tolist()
    (1.3125, [0.25, 0.5])
    """
    p, t = _pair(pred, target)
    r = p - t
    n = p.shape[0]
    loss = float(np.sum(huber(r, delta)) / n)
    return loss, np.clip(r, -delta, delta) / n


# --------------------------------------------- learning-rate schedules


def _steps(t) -> np.ndarray:
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer) or np.any(t < 0):
        raise ValueError("t must hold non-negative integer steps")
    return t


def step_decay(t, lr0: float, drop_every: int, factor: float = 0.1):
    """Step decay: ``lr0 * factor ** (t // drop_every)``.

    Parameters
    ----------
    t : int or array_like of int
        Step (or epoch) numbers, from 0.
    lr0 : float
        The initial learning rate, positive.
    drop_every : int
        Steps between drops, positive.
    factor : float
        Multiplier at each drop, in ``(0, 1]``.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> step_decay(np.arange(5), 1.0, drop_every=2, factor=0.5).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    t = _steps(t)
    if not lr0 > 0 or int(drop_every) < 1 or not 0 < factor <= 1:
        raise ValueError("need lr0 > 0, drop_every >= 1 and 0 < factor <= 1")
    out = lr0 * factor ** (t // int(drop_every))
    return float(out) if np.ndim(out) == 0 else out.astype(np.float64)


def cosine_decay(
    t, n_steps: int, lr_max: float, lr_min: float = 0.0, n_warmup: int = 0
):
    """Cosine decay from ``lr_max`` to ``lr_min``, after a linear warm-up.

    For ``t < n_warmup`` the rate rises linearly, ``lr_max (t + 1) /
    n_warmup``; then, with ``s = (t - n_warmup) / (n_steps - n_warmup)``
    in ``[0, 1]``, it is ``lr_min + (lr_max - lr_min)(1 + cos(pi s)) / 2``,
    which equals ``lr_max`` at ``s = 0`` and ``lr_min`` at ``s = 1``.

    Parameters
    ----------
    t : int or array_like of int
        Step numbers in ``0, ..., n_steps``.
    n_steps : int
        The total number of steps, larger than ``n_warmup``.
    lr_max, lr_min : float
        The peak and the final rate, ``lr_max > 0`` and
        ``0 <= lr_min <= lr_max``.
    n_warmup : int
        Steps of linear warm-up, non-negative.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> cosine_decay(np.arange(5), 4, 1.0).round(3).tolist()
    [1.0, 0.854, 0.5, 0.146, 0.0]
    >>> cosine_decay(np.arange(4), 4, 1.0, n_warmup=2).round(3).tolist()
    [0.5, 1.0, 1.0, 0.5]
    """
    t = _steps(t)
    n_steps, n_warmup = int(n_steps), int(n_warmup)
    if not 0 <= n_warmup < n_steps:
        raise ValueError("need 0 <= n_warmup < n_steps")
    if not lr_max > 0 or not 0 <= lr_min <= lr_max:
        raise ValueError("need lr_max > 0 and 0 <= lr_min <= lr_max")
    if np.any(t > n_steps):
        raise ValueError(f"t must not exceed n_steps = {n_steps}")
    s = (t - n_warmup) / (n_steps - n_warmup)
    cos = lr_min + 0.5 * (lr_max - lr_min) * (1.0 + np.cos(np.pi * s))
    warm = lr_max * (t + 1) / max(n_warmup, 1)
    out = np.where(t < n_warmup, warm, cos)
    return float(out) if np.ndim(out) == 0 else out.astype(np.float64)
