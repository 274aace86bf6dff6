"""Regularisation for networks: penalties, dropout, normalisation.

The code of the chapter *Regularisation*
(``book/deep_learning/regularization.md``). Everything here follows the
Layer protocol of :mod:`m4ml.mlp` (``forward(x, training=True)``,
``backward(dout)``, ``params``/``grads`` dictionaries), so the layers plug
into :class:`m4ml.mlp.Sequential` and :func:`m4ml.mlp.train`:

- :func:`weight_penalty` and :func:`add_penalty_gradients` compute the L2
  and L1 penalties on the weight matrices of a model and their gradients;
  :class:`Penalized` is a :class:`~m4ml.mlp.Sequential` whose backward
  pass adds them, so that ``train`` performs weight decay;
- :func:`train_early_stopping` trains one epoch at a time and keeps the
  parameters of the epoch with the smallest validation loss;
- :func:`dropout` and :class:`Dropout` implement inverted dropout;
- :func:`batch_norm_forward` / :func:`batch_norm_backward`,
  :class:`BatchNorm` and :class:`LayerNorm` implement normalisation;
- :func:`shift_images` shifts square images for data augmentation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from m4ml.mlp import Layer, Sequential, train
from m4ml.validation import check_generator

__all__ = [
    "BatchNorm",
    "Dropout",
    "LayerNorm",
    "Penalized",
    "add_penalty_gradients",
    "batch_norm_backward",
    "batch_norm_forward",
    "dropout",
    "layer_norm_backward",
    "layer_norm_forward",
    "shift_images",
    "train_early_stopping",
    "weight_penalty",
]


def _nonnegative(value, name: str) -> float:
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return value


def _check_p(p) -> float:
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"the drop probability p must lie in [0, 1), got {p}")
    return p


def _batch(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D batch, got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def _scale_shift(gamma, beta, d: int) -> tuple[np.ndarray, np.ndarray]:
    gamma = np.asarray(gamma, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if gamma.shape != (d,) or beta.shape != (d,):
        raise ValueError(
            f"gamma and beta must have shape ({d},), got {gamma.shape} "
            f"and {beta.shape}"
        )
    return gamma, beta


def _weights(model: Layer) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(W, dW)`` for every parameter named ``"W"`` in ``model``."""
    layers = model.layers if isinstance(model, Sequential) else [model]
    for layer in layers:
        if isinstance(layer, Sequential):
            yield from _weights(layer)
        elif "W" in layer.params:
            yield layer.params["W"], layer.grads["W"]


# --------------------------------------------------------------------------
# Penalties
# --------------------------------------------------------------------------


def weight_penalty(model: Layer, l2: float = 0.0, l1: float = 0.0) -> float:
    """The penalty ``l2/2 sum ||W||_F^2 + l1 sum ||W||_1`` of a model.

    Only parameters named ``"W"`` (the weight matrices) are penalised:
    biases and the scale and shift of normalisation layers are left free,
    as is usual.

    Parameters
    ----------
    model : Layer
        A layer or a :class:`~m4ml.mlp.Sequential` of layers.
    l2, l1 : float
        Non-negative strengths of the L2 and L1 penalties.

    Returns
    -------
    float

    Examples
    --------
    >>> from m4ml.mlp import Affine
    >>> net = Sequential([Affine([[3.0, -4.0]], [10.0, 10.0])])
    >>> weight_penalty(net, l2=1.0), weight_penalty(net, l1=1.0)
    (12.5, 7.0)
    """
    l2 = _nonnegative(l2, "l2")
    l1 = _nonnegative(l1, "l1")
    total = 0.0
    for W, _ in _weights(model):
        total += 0.5 * l2 * float(np.sum(W**2)) + l1 * float(np.sum(np.abs(W)))
    return total


def add_penalty_gradients(
    model: Layer, l2: float = 0.0, l1: float = 0.0
) -> None:
    """Add the gradient of :func:`weight_penalty` to the stored gradients.

    After a backward pass, ``dW += l2 * W + l1 * sign(W)`` for every weight
    matrix, in place; ``sign(0) = 0`` is the subgradient used for L1.

    Examples
    --------
    >>> from m4ml.mlp import Affine
    >>> net = Sequential([Affine([[3.0, -4.0]])])
    >>> _ = net.forward(np.ones((1, 1))); _ = net.backward(np.zeros((1, 2)))
    >>> add_penalty_gradients(net, l2=0.5, l1=1.0)
    >>> net.layers[0].grads["W"].tolist()
    [[2.5, -3.0]]
    """
    l2 = _nonnegative(l2, "l2")
    l1 = _nonnegative(l1, "l1")
    for W, dW in _weights(model):
        dW += l2 * W + l1 * np.sign(W)


class Penalized(Sequential):
    """A :class:`~m4ml.mlp.Sequential` trained with L2 and L1 penalties.

    Its backward pass is that of :class:`~m4ml.mlp.Sequential` followed by
    :func:`add_penalty_gradients`, so that :func:`m4ml.mlp.train` minimises
    the data loss plus :func:`weight_penalty`. With SGD and ``l1 = 0`` each
    step is ``W <- (1 - lr l2) W - lr dL/dW``: weight decay.

    Parameters
    ----------
    layers : sequence of Layer
        The layers, as for :class:`~m4ml.mlp.Sequential`.
    l2, l1 : float
        Non-negative penalty strengths.

    Examples
    --------
    >>> from m4ml.mlp import Affine, sgd_step
    >>> net = Penalized([Affine([[2.0]])], l2=0.5)
    >>> _ = net.forward(np.zeros((1, 1))); _ = net.backward(np.ones((1, 1)))
    >>> sgd_step(net, lr=0.1)  # data gradient 0 for a zero input
    >>> net.layers[0].params["W"].tolist()  # (1 - 0.1 * 0.5) * 2
    [[1.9]]
    """

    def __init__(self, layers, l2: float = 0.0, l1: float = 0.0) -> None:
        super().__init__(layers)
        self.l2 = _nonnegative(l2, "l2")
        self.l1 = _nonnegative(l1, "l1")

    def backward(self, dout) -> np.ndarray:
        dx = super().backward(dout)
        add_penalty_gradients(self, self.l2, self.l1)
        return dx

    def penalty(self) -> float:
        """The current value of the penalty."""
        return weight_penalty(self, self.l2, self.l1)


def train_early_stopping(
    model: Sequential,
    X,
    y,
    rng: np.random.Generator,
    lr: float,
    max_epochs: int,
    validation: tuple,
    patience: int | None = None,
    **kwargs,
) -> dict:
    """Train with :func:`m4ml.mlp.train`, keeping the best epoch's weights.

    After every epoch the validation loss is compared with the best so
    far; at the end the parameters of the best epoch are restored in
    place. Training stops after ``patience`` epochs without improvement
    (never, if ``patience`` is None).

    Parameters
    ----------
    model : Sequential
        Updated in place; on return it holds the best parameters.
    X, y, rng, lr :
        As for :func:`m4ml.mlp.train`.
    max_epochs : int
        The largest number of epochs.
    validation : tuple (X_val, y_val)
        The data that decide when to stop.
    patience : int, optional
        Epochs without improvement before stopping.
    **kwargs
        Passed on to :func:`m4ml.mlp.train` (``batch_size``, ``loss``).

    Returns
    -------
    dict
        ``"train"`` and ``"val"`` histories as in :func:`m4ml.mlp.train`,
        and ``"best_epoch"`` (1-based) with ``"best_val"``.

    Examples
    --------
    >>> from m4ml.mlp import init_mlp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 2)); y = (X[:, 0] > 0).astype(int)
    >>> net = init_mlp([2, 8, 2], rng)
    >>> h = train_early_stopping(net, X[:20], y[:20], rng, 0.5, 30,
    ...                          (X[20:], y[20:]), patience=5)
    >>> h["best_val"] == min(h["val"]), len(h["val"]) <= 30
    (True, True)
    """
    if int(max_epochs) < 1:
        raise ValueError("max_epochs must be positive")
    if patience is not None and int(patience) < 1:
        raise ValueError("patience must be positive")
    history: dict = {"train": [], "val": []}
    best = np.inf
    best_params = None
    best_epoch = 0
    for epoch in range(1, int(max_epochs) + 1):
        h = train(model, X, y, rng, lr, 1, validation=validation, **kwargs)
        history["train"] += h["train"]
        history["val"] += h["val"]
        if h["val"][0] < best:
            best, best_epoch = h["val"][0], epoch
            best_params = [p.copy() for p, _ in model.parameters()]
        elif patience is not None and epoch - best_epoch >= int(patience):
            break
    for (param, _), saved in zip(model.parameters(), best_params, strict=True):
        param[...] = saved
    history["best_epoch"] = best_epoch
    history["best_val"] = float(best)
    return history


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------


def dropout(x, p: float, rng: np.random.Generator, training: bool = True):
    """Inverted dropout: zero each entry with probability ``p``, rescale.

    In training each entry of ``x`` is kept independently with probability
    ``1 - p`` and multiplied by ``1 / (1 - p)``, so that the output has
    expectation ``x``; at test time (``training=False``) the input passes
    unchanged.

    Parameters
    ----------
    x : array_like
        Any shape.
    p : float
        The drop probability, in ``[0, 1)``.
    rng : numpy.random.Generator
        Source of the mask.
    training : bool
        Whether to drop (training) or pass through (evaluation).

    Returns
    -------
    out : numpy.ndarray
        ``x * mask``.
    mask : numpy.ndarray
        The scaled mask, with entries ``0`` or ``1 / (1 - p)`` (all ones
        when not training); the backward pass is ``dout * mask``.

    Raises
    ------
    ValueError
        If ``p`` is outside ``[0, 1)``.

    Examples
    --------
    >>> out, mask = dropout(np.ones((2, 4)), 0.5, np.random.default_rng(0))
    >>> sorted(set(mask.ravel().tolist()))  # dropped, or kept and doubled
    [0.0, 2.0]
    >>> dropout(np.ones(3), 0.5, None, training=False)[0].tolist()
    [1.0, 1.0, 1.0]
    """
    p = _check_p(p)
    x = np.asarray(x, dtype=np.float64)
    if not training or p == 0.0:
        return x.copy(), np.ones_like(x)
    check_generator(rng)
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


class Dropout(Layer):
    """Inverted dropout as a layer (see :func:`dropout`).

    A new mask is drawn on every training forward pass; with
    ``training=False`` the layer is the identity.

    Parameters
    ----------
    p : float
        The drop probability, in ``[0, 1)``.
    rng : numpy.random.Generator
        Source of the masks.

    Examples
    --------
    >>> layer = Dropout(0.5, np.random.default_rng(1))
    >>> out = layer.forward(np.ones((1, 6)))
    >>> (layer.backward(np.ones((1, 6))) == out).all()  # d out / dx = mask
    np.True_
    >>> layer.forward(np.ones((1, 2)), training=False).tolist()
    [[1.0, 1.0]]
    """

    def __init__(self, p: float, rng: np.random.Generator) -> None:
        super().__init__()
        self.p = _check_p(p)
        check_generator(rng)
        self.rng = rng
        self._mask = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        out, self._mask = dropout(x, self.p, self.rng, training)
        return out

    def backward(self, dout) -> np.ndarray:
        return dout * self._cached("_mask")


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------


def _standardize(x: np.ndarray, axis: int, eps: float):
    eps = _nonnegative(eps, "eps")
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    if np.any(var + eps <= 0):
        raise ValueError("zero variance with eps = 0: use eps > 0")
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mu) * inv_std, inv_std, mu, var


def _standardize_backward(dxhat, xhat, inv_std, axis: int) -> np.ndarray:
    """Backward pass of ``xhat = (x - mean) / sqrt(var + eps)`` on ``axis``.

    ``dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``,
    the means taken along ``axis``.
    """
    return inv_std * (
        dxhat
        - dxhat.mean(axis=axis, keepdims=True)
        - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
    )


def batch_norm_forward(x, gamma, beta, eps: float = 1e-5):
    """Batch normalisation of a batch ``x`` of shape ``(N, D)``.

    Each column is standardised with the mean and (biased) variance of the
    batch, then scaled and shifted:
    ``out = gamma * (x - mu) / sqrt(var + eps) + beta``.

    Parameters
    ----------
    x : array_like, shape (N, D)
        The batch, finite.
    gamma, beta : array_like, shape (D,)
        Scale and shift.
    eps : float
        Added to the variance, ``>= 0``.

    Returns
    -------
    out : numpy.ndarray, shape (N, D)
    cache : tuple
        ``(xhat, gamma, inv_std)``, what :func:`batch_norm_backward` needs.

    Raises
    ------
    ValueError
        For a batch that is not 2-D, mismatched ``gamma``/``beta``, a
        negative ``eps``, or a constant column with ``eps = 0``.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> out, _ = batch_norm_forward(x, np.ones(2), np.zeros(2), eps=0.0)
    >>> out.tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    x = _batch(x)
    gamma, beta = _scale_shift(gamma, beta, x.shape[1])
    xhat, inv_std, _, _ = _standardize(x, 0, eps)
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def batch_norm_backward(dout, cache):
    """Gradients of batch normalisation, from :func:`batch_norm_forward`.

    With ``g = dout * gamma`` and means over the batch (axis 0),
    ``dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)``,
    ``dgamma = sum(dout * xhat)`` and ``dbeta = sum(dout)``.

    Parameters
    ----------
    dout : array_like, shape (N, D)
        Gradient of the loss with respect to the output.
    cache : tuple
        The cache returned by :func:`batch_norm_forward`.

    Returns
    -------
    dx : numpy.ndarray, shape (N, D)
    dgamma, dbeta : numpy.ndarray, shape (D,)

    Examples
    --------
    >>> x = np.array([[1.0], [2.0], [4.0]])
    >>> out, cache = batch_norm_forward(x, np.ones(1), np.zeros(1))
    >>> dx, dg, db = batch_norm_backward(np.ones((3, 1)), cache)
    >>> np.abs(dx).max() < 1e-12, db.tolist()  # a shift changes nothing
    (np.True_, [3.0])
    """
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != xhat.shape:
        raise ValueError(
            f"dout must have shape {xhat.shape}, got {dout.shape}"
        )
    dx = _standardize_backward(dout * gamma, xhat, inv_std, axis=0)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layer_norm_forward(x, gamma, beta, eps: float = 1e-5):
    """Layer normalisation: standardise each row, then scale and shift.

    ``out = gamma * (x - mu_n) / sqrt(var_n + eps) + beta`` with the mean
    ``mu_n`` and variance ``var_n`` of row ``n`` over its ``D`` features;
    unlike batch normalisation, each example is treated on its own.

    Parameters
    ----------
    x : array_like, shape (N, D)
    gamma, beta : array_like, shape (D,)
    eps : float

    Returns
    -------
    out : numpy.ndarray, shape (N, D)
    cache : tuple
        ``(xhat, gamma, inv_std)`` for :func:`layer_norm_backward`.

    Examples
    --------
    >>> out, _ = layer_norm_forward([[1.0, 3.0]], np.ones(2), np.zeros(2),
    ...                             eps=0.0)
    >>> out.tolist()
    [[-1.0, 1.0]]
    """
    x = _batch(x)
    gamma, beta = _scale_shift(gamma, beta, x.shape[1])
    xhat, inv_std, _, _ = _standardize(x, 1, eps)
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def layer_norm_backward(dout, cache):
    """Gradients of layer normalisation, from :func:`layer_norm_forward`.

    The formula of :func:`batch_norm_backward` with means over each row
    instead of each column; ``dgamma`` and ``dbeta`` still sum over rows.

    Examples
    --------
    >>> out, cache = layer_norm_forward([[1.0, 2.0, 4.0]], np.ones(3),
    ...                                 np.zeros(3))
    >>> dx, dg, db = layer_norm_backward(np.ones((1, 3)), cache)
    >>> np.abs(dx).max() < 1e-12, db.tolist()
    (np.True_, [1.0, 1.0, 1.0])
    """
    xhat, gamma, inv_std = cache
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != xhat.shape:
        raise ValueError(
            f"dout must have shape {xhat.shape}, got {dout.shape}"
        )
    dx = _standardize_backward(dout * gamma, xhat, inv_std, axis=1)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


class BatchNorm(Layer):
    """Batch normalisation as a layer, with running statistics.

    In training the batch's own mean and variance are used (see
    :func:`batch_norm_forward`) and exponential moving averages
    ``running = momentum * running + (1 - momentum) * batch`` are updated;
    with ``training=False`` the running averages are used instead, so the
    output for one example does not depend on the rest of the batch.

    Parameters
    ----------
    d : int
        The number of features.
    momentum : float
        In ``[0, 1)``; the weight of the old running value.
    eps : float
        Added to the variance.

    Examples
    --------
    >>> bn = BatchNorm(1)
    >>> bn.forward(np.array([[0.0], [2.0]])).ravel().round(3).tolist()
    [-1.0, 1.0]
    >>> bn.running_mean.round(3).tolist(), bn.running_var.round(3).tolist()
    ([0.1], [1.0])
    """

    def __init__(self, d: int, momentum: float = 0.9, eps: float = 1e-5):
        super().__init__()
        d = int(d)
        if d < 1:
            raise ValueError(f"d must be positive, got {d}")
        momentum = float(momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = momentum
        self.eps = _nonnegative(eps, "eps")
        self.params = {"gamma": np.ones(d), "beta": np.zeros(d)}
        self.grads = {"gamma": np.zeros(d), "beta": np.zeros(d)}
        self.running_mean = np.zeros(d)
        self.running_var = np.ones(d)
        self._cache = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = _batch(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if x.shape[1] != gamma.shape[0]:
            raise ValueError(
                f"input must have {gamma.shape[0]} columns, got {x.shape}"
            )
        if not training:
            xhat = (x - self.running_mean) / np.sqrt(
                self.running_var + self.eps
            )
            return gamma * xhat + beta
        out, self._cache = batch_norm_forward(x, gamma, beta, self.eps)
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * x.mean(axis=0)
        self.running_var = m * self.running_var + (1 - m) * x.var(axis=0)
        return out

    def backward(self, dout) -> np.ndarray:
        dx, dgamma, dbeta = batch_norm_backward(dout, self._cached("_cache"))
        self.grads["gamma"] = dgamma
        self.grads["beta"] = dbeta
        return dx


class LayerNorm(Layer):
    """Layer normalisation as a layer (see :func:`layer_norm_forward`).

    It has no running statistics: training and evaluation agree.

    Examples
    --------
    >>> ln = LayerNorm(2)
    >>> ln.forward(np.array([[1.0, 3.0], [5.0, 0.0]])).round(3).tolist()
    [[-1.0, 1.0], [1.0, -1.0]]
    """

    def __init__(self, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        d = int(d)
        if d < 1:
            raise ValueError(f"d must be positive, got {d}")
        self.eps = _nonnegative(eps, "eps")
        self.params = {"gamma": np.ones(d), "beta": np.zeros(d)}
        self.grads = {"gamma": np.zeros(d), "beta": np.zeros(d)}
        self._cache = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        out, self._cache = layer_norm_forward(
            x, self.params["gamma"], self.params["beta"], self.eps
        )
        return out

    def backward(self, dout) -> np.ndarray:
        dx, dgamma, dbeta = layer_norm_backward(dout, self._cached("_cache"))
        self.grads["gamma"] = dgamma
        self.grads["beta"] = dbeta
        return dx


# --------------------------------------------------------------------------
# Data augmentation
# --------------------------------------------------------------------------


def shift_images(X, dy: int, dx: int, side: int = 8) -> np.ndarray:
    """Shift flattened square images by whole pixels, filling with zeros.

    Parameters
    ----------
    X : array_like, shape (N, side * side)
        Images stored row by row, one per row of ``X``.
    dy, dx : int
        The shift down (``dy > 0``) and to the right (``dx > 0``); pixels
        moved out of the frame are lost, new ones are zero.
    side : int
        The side length of the images.

    Returns
    -------
    numpy.ndarray, shape (N, side * side)

    Examples
    --------
    >>> img = np.arange(4.0).reshape(1, 4)  # [[0, 1], [2, 3]]
    >>> shift_images(img, 0, 1, side=2).tolist()
    [[0.0, 0.0, 0.0, 2.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    side = int(side)
    if X.ndim != 2 or X.shape[1] != side * side:
        raise ValueError(
            f"X must have shape (N, {side * side}), got {X.shape}"
        )
    dy, dx = int(dy), int(dx)
    if abs(dy) >= side or abs(dx) >= side:
        raise ValueError("shifts must be smaller than the image side")
    imgs = X.reshape(-1, side, side)
    out = np.zeros_like(imgs)
    rows_src = slice(max(-dy, 0), side - max(dy, 0))
    rows_dst = slice(max(dy, 0), side - max(-dy, 0))
    cols_src = slice(max(-dx, 0), side - max(dx, 0))
    cols_dst = slice(max(dx, 0), side - max(-dx, 0))
    out[:, rows_dst, cols_dst] = imgs[:, rows_src, cols_src]
    return out.reshape(X.shape)
