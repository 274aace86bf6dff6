"""Multilayer perceptrons with explicit forward and backward passes.

The code of the chapter *Multilayer perceptrons and backpropagation*
(``book/deep_learning/mlp.md``), reused by the later deep-learning
chapters. Every layer follows one small protocol:

- ``forward(x, training=True)`` returns the layer's output and remembers
  what the backward pass needs;
- ``backward(dout)`` takes the gradient of the loss with respect to the
  output, stores the gradients of the layer's parameters in ``grads`` and
  returns the gradient with respect to the input;
- ``params`` and ``grads`` are dictionaries of arrays with the same keys
  (empty for a layer without parameters). Optimisers update ``params`` in
  place.

A :class:`Sequential` container chains layers, and :func:`train` fits any
such model by minibatch stochastic gradient descent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from m4ml.losses import softmax_cross_entropy
from m4ml.validation import check_generator

__all__ = [
    "Affine",
    "Layer",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "accuracy",
    "activation_pattern",
    "backprop_gradients",
    "count_linear_pieces",
    "finite_difference_gradients",
    "init_mlp",
    "layer_outputs",
    "matmul_flops",
    "sgd_step",
    "train",
]


class Layer:
    """A layer: ``forward``, ``backward``, and ``params``/``grads`` dicts."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x, training: bool = True) -> np.ndarray:
        return self.forward(x, training)

    def _cached(self, name: str):
        value = getattr(self, name, None)
        if value is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward"
            )
        return value


class Affine(Layer):
    """The affine map ``x -> x W + b`` on a batch of rows.

    Parameters
    ----------
    W : array_like, shape (d_in, d_out)
        The weights.
    b : array_like, shape (d_out,), optional
        The bias; zeros if omitted.

    Examples
    --------
    >>> layer = Affine(np.eye(2), np.array([1.0, 0.0]))
    >>> layer.forward(np.array([[1.0, 2.0]])).tolist()
    [[2.0, 2.0]]
    >>> layer.backward(np.array([[1.0, 1.0]])).tolist()  # dL/dx = dout W^T
    [[1.0, 1.0]]
    """

    def __init__(self, W, b=None) -> None:
        super().__init__()
        W = np.array(W, dtype=np.float64)
        if W.ndim != 2:
            raise ValueError(f"W must be 2-D, got shape {W.shape}")
        b = np.zeros(W.shape[1]) if b is None else np.array(b, np.float64)
        if b.shape != (W.shape[1],):
            raise ValueError(
                f"b must have shape ({W.shape[1]},), got {b.shape}"
            )
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        d_in = self.params["W"].shape[0]
        if x.ndim != 2 or x.shape[1] != d_in:
            raise ValueError(
                f"input must have shape (N, {d_in}), got {x.shape}"
            )
        self._x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout) -> np.ndarray:
        x = self._cached("_x")
        self.grads["W"] = x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T


class ReLU(Layer):
    """The rectifier ``max(x, 0)``, applied entrywise.

    Examples
    --------
    >>> relu = ReLU()
    >>> relu.forward(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    >>> relu.backward(np.array([[5.0, 5.0]])).tolist()
    [[0.0, 5.0]]
    """

    def __init__(self) -> None:
        super().__init__()
        self._mask = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        self._mask = x > 0
        return np.where(self._mask, x, 0.0)

    def backward(self, dout) -> np.ndarray:
        return dout * self._cached("_mask")


class Tanh(Layer):
    """The hyperbolic tangent, applied entrywise; ``tanh' = 1 - tanh^2``.

    Examples
    --------
    >>> t = Tanh()
    >>> t.forward(np.array([[0.0]])).tolist(), t.backward(np.ones((1, 1)))
    ([[0.0]], array([[1.]]))
    """

    def __init__(self) -> None:
        super().__init__()
        self._y = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        self._y = np.tanh(np.asarray(x, dtype=np.float64))
        return self._y

    def backward(self, dout) -> np.ndarray:
        y = self._cached("_y")
        return dout * (1.0 - y**2)


class Sigmoid(Layer):
    """The logistic sigmoid, applied entrywise; ``s' = s (1 - s)``.

    Examples
    --------
    >>> s = Sigmoid()
    >>> s.forward(np.array([[0.0]])).tolist(), s.backward(np.ones((1, 1)))
    ([[0.5]], array([[0.25]]))
    """

    def __init__(self) -> None:
        super().__init__()
        self._y = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        # exp of a non-positive number only: no overflow for large |x|
        e = np.exp(-np.abs(x))
        self._y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self._y

    def backward(self, dout) -> np.ndarray:
        y = self._cached("_y")
        return dout * y * (1.0 - y)


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse.

    Examples
    --------
    >>> net = Sequential([Affine([[2.0]]), ReLU()])
    >>> net.forward(np.array([[-1.0], [3.0]])).tolist()
    [[0.0], [6.0]]
    >>> net.backward(np.ones((2, 1))).tolist()  # chain rule, layer by layer
    [[0.0], [2.0]]
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        super().__init__()
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Sequential needs at least one layer")
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"not a Layer: {layer!r}")

    def forward(self, x, training: bool = True) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dout) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(param, grad)`` pairs of every layer, in order."""
        for layer in self.layers:
            if isinstance(layer, Sequential):
                yield from layer.parameters()
            else:
                for key, value in layer.params.items():
                    yield value, layer.grads[key]

    def n_parameters(self) -> int:
        """The number of scalar parameters."""
        return sum(p.size for p, _ in self.parameters())


def init_mlp(
    sizes: Sequence[int],
    rng: np.random.Generator,
    activation: str = "relu",
    init: str = "he",
) -> Sequential:
    """An MLP with the given layer widths and random initial weights.

    Parameters
    ----------
    sizes : sequence of int
        Widths ``(d_in, h_1, ..., d_out)``, at least two.
    rng : numpy.random.Generator
        Source of the initial weights.
    activation : {"relu", "tanh", "sigmoid"}
        The nonlinearity between affine layers (none after the last).
    init : {"he", "xavier"} or float
        Weights ``N(0, s^2)`` with ``s^2 = 2 / d_in`` (He),
        ``s^2 = 2 / (d_in + d_out)`` (Xavier), or ``s`` given as a float.
        Biases start at zero.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> net = init_mlp([4, 8, 3], np.random.default_rng(0))
    >>> [type(layer).__name__ for layer in net.layers], net.n_parameters()
    (['Affine', 'ReLU', 'Affine'], 67)
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError("sizes must list at least two positive widths")
    check_generator(rng)
    activations = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
    if activation not in activations:
        raise ValueError(
            f"activation must be one of {sorted(activations)}, "
            f"got {activation!r}"
        )
    layers: list[Layer] = []
    for i, (d_in, d_out) in enumerate(itertools.pairwise(sizes)):
        if init == "he":
            scale = math.sqrt(2.0 / d_in)
        elif init == "xavier":
            scale = math.sqrt(2.0 / (d_in + d_out))
        elif isinstance(init, (int, float)) and init > 0:
            scale = float(init)
        else:
            raise ValueError(
                f"init must be 'he', 'xavier' or a positive float, "
                f"got {init!r}"
            )
        layers.append(Affine(scale * rng.standard_normal((d_in, d_out))))
        if i < len(sizes) - 2:
            layers.append(activations[activation]())
    return Sequential(layers)


def sgd_step(model: Sequential, lr: float) -> None:
    """One gradient step ``theta <- theta - lr * grad``, in place."""
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    for param, grad in model.parameters():
        param -= lr * grad


def accuracy(model: Layer, X, y) -> float:
    """The fraction of rows of ``X`` whose largest output is at ``y``."""
    return float(np.mean(model.forward(X, False).argmax(axis=1) == y))


def train(
    model: Sequential,
    X,
    y,
    rng: np.random.Generator,
    lr: float,
    n_epochs: int,
    batch_size: int = 32,
    loss: Callable = softmax_cross_entropy,
    validation: tuple | None = None,
) -> dict[str, list[float]]:
    """Fit ``model`` by minibatch SGD; return the loss history.

    Each epoch shuffles the rows with ``rng``, then takes one
    :func:`sgd_step` per minibatch. Training stops early, with a clear
    error, if the loss becomes non-finite (a learning rate too large).

    Parameters
    ----------
    model : Sequential
        Updated in place.
    X, y : array_like
        Inputs (rows) and targets as ``loss`` expects them.
    rng : numpy.random.Generator
        Source of the shuffling.
    lr : float
        The learning rate, positive.
    n_epochs, batch_size : int
        Passes over the data, and rows per step.
    loss : callable
        ``loss(outputs, targets) -> (value, grad)``, as in
        :mod:`m4ml.losses`.
    validation : tuple (X_val, y_val), optional
        Data to evaluate the loss on after every epoch.

    Returns
    -------
    dict
        ``"train"``: the mean minibatch loss of every epoch; ``"val"``:
        the validation loss after every epoch (if ``validation`` is given).

    Raises
    ------
    FloatingPointError
        If the loss overflows to infinity or NaN.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((64, 2)); y = (X[:, 0] > 0).astype(int)
    >>> net = init_mlp([2, 8, 2], rng)
    >>> hist = train(net, X, y, rng, lr=0.5, n_epochs=20)
    >>> hist["train"][-1] < hist["train"][0], accuracy(net, X, y) > 0.9
    (True, True)
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if int(n_epochs) < 1 or int(batch_size) < 1:
        raise ValueError("n_epochs and batch_size must be positive")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    history: dict[str, list[float]] = {"train": []}
    if validation is not None:
        history["val"] = []
    n = len(X)
    for epoch in range(int(n_epochs)):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, int(batch_size)):
            idx = order[start : start + int(batch_size)]
            with np.errstate(over="ignore", invalid="ignore"):
                out = model.forward(X[idx])
            if not np.all(np.isfinite(out)):
                raise FloatingPointError(
                    f"the outputs overflowed in epoch {epoch + 1}: "
                    f"the learning rate {lr} is too large"
                )
            value, dout = loss(out, y[idx])
            model.backward(dout)
            sgd_step(model, lr)
            total += value * len(idx)
        history["train"].append(total / n)
        if validation is not None:
            value, _ = loss(model.forward(validation[0], False), validation[1])
            history["val"].append(float(value))
    return history


def backprop_gradients(
    model: Sequential, X, y, loss: Callable = softmax_cross_entropy
) -> tuple[float, list[np.ndarray]]:
    """The loss of ``model`` on ``(X, y)`` and its gradients by backprop.

    One forward pass, one backward pass; nothing is updated.

    Parameters
    ----------
    model : Sequential
    X, y : array_like
        A batch of inputs and targets.
    loss : callable
        ``loss(outputs, targets) -> (value, grad)``.

    Returns
    -------
    value : float
        The loss.
    grads : list of numpy.ndarray
        Copies of the gradients, in the order of ``model.parameters()``.

    Examples
    --------
    >>> net = Sequential([Affine([[1.0], [2.0]])])
    >>> value, grads = backprop_gradients(
    ...     net, [[1.0, 1.0]], [[0.0]], lambda z, t: (0.5 * z[0, 0] ** 2, z))
    >>> value, [g.ravel().tolist() for g in grads]
    (4.5, [[3.0, 3.0], [3.0]])
    """
    out = model.forward(np.asarray(X, dtype=np.float64))
    value, dout = loss(out, y)
    model.backward(dout)
    return float(value), [grad.copy() for _, grad in model.parameters()]


def finite_difference_gradients(
    model: Sequential,
    X,
    y,
    loss: Callable = softmax_cross_entropy,
    h: float = 1e-6,
) -> list[np.ndarray]:
    """Gradients of the loss for every parameter, by central differences.

    Each scalar parameter is moved by ``+h`` and ``-h`` in turn and the
    loss is evaluated twice, so the cost is ``2 P`` forward passes for
    ``P`` parameters: a test of backpropagation, never a replacement.
    The parameters are restored afterwards.

    Parameters
    ----------
    model : Sequential
    X, y : array_like
        A batch of inputs and targets.
    loss : callable
        ``loss(outputs, targets) -> (value, grad)``.
    h : float
        The step; truncation error ``O(h^2)``, round-off ``O(eps / h)``.

    Returns
    -------
    list of numpy.ndarray
        In the order of ``model.parameters()``.

    Examples
    --------
    >>> net = Sequential([Affine([[1.0], [2.0]])])
    >>> grads = finite_difference_gradients(
    ...     net, [[1.0, 1.0]], [[0.0]], lambda z, t: (0.5 * z[0, 0] ** 2, z))
    >>> [np.round(g, 6).ravel().tolist() for g in grads]
    [[3.0, 3.0], [3.0]]
    """
    from m4ml.vector_calculus import numerical_gradient

    X = np.asarray(X, dtype=np.float64)
    grads = []
    for param, _ in model.parameters():
        original = param.copy()

        def f(p, param=param):
            param[...] = p
            return loss(model.forward(X), y)[0]

        try:
            grads.append(numerical_gradient(f, original, h=h))
        finally:
            param[...] = original
    return grads


def layer_outputs(model: Sequential, x) -> list[np.ndarray]:
    """The output of every layer of ``model`` on a batch, in order.

    Examples
    --------
    >>> net = Sequential([Affine([[2.0]], [-1.0]), ReLU()])
    >>> [h.ravel().tolist() for h in layer_outputs(net, [[0.0], [1.0]])]
    [[-1.0, 1.0], [0.0, 1.0]]
    """
    if not isinstance(model, Sequential):
        raise TypeError("model must be a Sequential")
    outputs = []
    h = np.asarray(x, dtype=np.float64)
    for layer in model.layers:
        h = layer.forward(h, False)
        outputs.append(h)
    return outputs


def activation_pattern(model: Sequential, x) -> np.ndarray:
    """Which ReLU units are on, for each row of ``x``.

    Returns
    -------
    numpy.ndarray of bool, shape (N, U)
        Entry ``(n, u)`` says whether ReLU unit ``u`` (all ReLU layers,
        in order) has a positive input on row ``n``. On a set where the
        pattern is constant, a ReLU network is one affine map.

    Examples
    --------
    >>> net = Sequential([Affine([[1.0, -1.0]]), ReLU()])
    >>> activation_pattern(net, [[2.0], [-2.0]]).tolist()
    [[True, False], [False, True]]
    """
    outs = layer_outputs(model, x)
    masks = [
        out > 0
        for layer, out in zip(model.layers, outs, strict=True)
        if isinstance(layer, ReLU)
    ]
    if not masks:
        raise ValueError("the model has no ReLU layer")
    return np.concatenate(masks, axis=1)


def count_linear_pieces(model: Sequential, t) -> int:
    """The number of linear pieces of a 1-D ReLU network on a grid.

    Counts the runs of equal activation patterns along the sorted grid
    ``t``; it is exact when the grid is fine enough that no piece falls
    between two grid points.

    Parameters
    ----------
    model : Sequential
        A network with one input and at least one ReLU layer.
    t : array_like, shape (n,)
        An increasing grid of inputs.

    Examples
    --------
    >>> net = Sequential([Affine([[1.0, 1.0]], [0.0, -1.0]), ReLU()])
    >>> count_linear_pieces(net, np.linspace(-2, 2, 101))  # kinks at 0, 1
    3
    """
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("t must be an increasing 1-D grid of 2+ points")
    pattern = activation_pattern(model, t[:, None])
    changes = np.any(pattern[1:] != pattern[:-1], axis=1)
    return int(1 + np.count_nonzero(changes))


def matmul_flops(model: Sequential, batch_size: int) -> tuple[int, int]:
    """Floating-point operations of the matrix products, forward and back.

    An affine layer with a ``(d_in, d_out)`` weight costs ``2 N d_in d_out``
    flops forward (a multiply and an add per term) and twice that
    backward (``X^T dZ`` and ``dZ W^T``), except that the first layer
    needs no gradient with respect to the data. Elementwise work is
    ignored: it is of lower order.

    Returns
    -------
    forward, backward : int

    Examples
    --------
    >>> matmul_flops(init_mlp([4, 8, 3], np.random.default_rng(0)), 10)
    (1120, 1600)
    """
    n = int(batch_size)
    if n < 1:
        raise ValueError("batch_size must be positive")
    forward = backward = 0
    first = True
    for layer in model.layers:
        if isinstance(layer, Affine):
            d_in, d_out = layer.params["W"].shape
            cost = 2 * n * d_in * d_out
            forward += cost
            backward += cost if first else 2 * cost
            first = False
    return forward, backward
