"""Recurrent networks: forward passes and backpropagation through time.

The code of the chapter *Recurrent networks*
(``book/deep_learning/rnn.md``). A sequence is stored time-major, as an
array ``x`` of shape ``(T, N, D)``: ``T`` time steps of a batch of ``N``
sequences with ``D`` features each. Hidden states have shape ``(N, H)``.

Parameters live in dictionaries of float64 arrays and follow the book's
column-vector convention, so that the code reads like the formulas: a
vanilla (Elman) network computes, for every sequence in the batch, ::

    h_t = tanh(W h_{t-1} + U x_t + b),

with ``W`` of shape ``(H, H)``, ``U`` of shape ``(H, D)`` and ``b`` of
shape ``(H,)``; on a batch of rows this is
``tanh(h_prev @ W.T + x_t @ U.T + b)``. An LSTM stacks the four gates
(input ``i``, forget ``f``, output ``o``, candidate ``g``, in this order)
into ``W`` of shape ``(4H, H)``, ``U`` of shape ``(4H, D)`` and ``b`` of
shape ``(4H,)``.

Each ``*_forward`` returns the hidden states and a cache; the matching
``*_backward`` takes the gradient of a loss with respect to every hidden
state and returns the gradients with respect to the parameters, the
inputs and the initial state(s), in a dictionary.
"""

from __future__ import annotations

import math

import numpy as np

from m4ml.losses import softmax_cross_entropy
from m4ml.optimization import adam
from m4ml.validation import check_generator

__all__ = [
    "clip_grad_norm",
    "init_lstm",
    "init_rnn",
    "jacobian_product_norms",
    "lstm_backward",
    "lstm_forward",
    "memory_task",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_jacobians",
    "sequence_loss",
    "train_memory",
]


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _sequence(x, d_in: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != d_in or x.shape[0] < 1:
        raise ValueError(
            f"x must have shape (T, N, {d_in}) with T >= 1, got {x.shape}"
        )
    return x


def _state(h, n: int, d_h: int, name: str) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64)
    if h.shape != (n, d_h):
        raise ValueError(f"{name} must have shape ({n}, {d_h}), got {h.shape}")
    return h


def _weights(params, n_gates: int) -> tuple[np.ndarray, ...]:
    missing = {"W", "U", "b"} - set(params)
    if missing:
        raise ValueError(f"params lacks {sorted(missing)}")
    W = np.asarray(params["W"], dtype=np.float64)
    U = np.asarray(params["U"], dtype=np.float64)
    b = np.asarray(params["b"], dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != n_gates * W.shape[1]:
        raise ValueError(f"W must have shape ({n_gates}H, H), got {W.shape}")
    if U.ndim != 2 or U.shape[0] != W.shape[0]:
        raise ValueError(f"U must have shape ({W.shape[0]}, D), got {U.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"b must have shape ({W.shape[0]},), got {b.shape}")
    return W, U, b


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # sigmoid(z) = (1 + tanh(z / 2)) / 2 exactly; tanh never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _split4(a: np.ndarray, H: int) -> tuple[np.ndarray, ...]:
    return a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]


def _positive_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


# --------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------


def init_rnn(
    n_in: int, n_hidden: int, rng: np.random.Generator, rho: float = 0.9
) -> dict[str, np.ndarray]:
    """Random parameters of a vanilla RNN with spectral radius ``rho``.

    ``W`` is a Gaussian matrix rescaled so that its largest eigenvalue
    modulus is exactly ``rho``; ``U`` has entries ``N(0, 1 / n_in)``;
    ``b`` is zero.

    Parameters
    ----------
    n_in, n_hidden : int
        Input dimension ``D`` and hidden dimension ``H``.
    rng : numpy.random.Generator
        Source of the weights.
    rho : float
        The spectral radius of ``W``, positive.

    Returns
    -------
    dict
        ``{"W": (H, H), "U": (H, D), "b": (H,)}``.

    Examples
    --------
    >>> p = init_rnn(3, 5, np.random.default_rng(0), rho=0.5)
    >>> round(float(np.abs(np.linalg.eigvals(p["W"])).max()), 12)
    0.5
    """
    n_in = _positive_int(n_in, "n_in")
    n_hidden = _positive_int(n_hidden, "n_hidden")
    check_generator(rng)
    if not rho > 0:
        raise ValueError(f"rho must be positive, got {rho!r}")
    W = rng.standard_normal((n_hidden, n_hidden))
    W *= rho / np.abs(np.linalg.eigvals(W)).max()
    U = rng.standard_normal((n_hidden, n_in)) / math.sqrt(n_in)
    return {"W": W, "U": U, "b": np.zeros(n_hidden)}


def init_lstm(
    n_in: int,
    n_hidden: int,
    rng: np.random.Generator,
    forget_bias: float = 1.0,
) -> dict[str, np.ndarray]:
    """Random parameters of an LSTM (gate order ``i, f, o, g``).

    Weights are ``N(0, 1 / fan_in)``; the biases are zero except those of
    the forget gate, which start at ``forget_bias`` so that the gate
    begins near ``sigmoid(forget_bias)`` and the cell remembers.

    Parameters
    ----------
    n_in, n_hidden : int
        Input dimension ``D`` and hidden dimension ``H``.
    rng : numpy.random.Generator
        Source of the weights.
    forget_bias : float
        The initial bias of the forget gate.

    Returns
    -------
    dict
        ``{"W": (4H, H), "U": (4H, D), "b": (4H,)}``.

    Examples
    --------
    >>> p = init_lstm(2, 3, np.random.default_rng(0), forget_bias=2.0)
    >>> p["W"].shape, p["U"].shape, p["b"].tolist()[3:6]
    ((12, 3), (12, 2), [2.0, 2.0, 2.0])
    """
    n_in = _positive_int(n_in, "n_in")
    n_hidden = _positive_int(n_hidden, "n_hidden")
    check_generator(rng)
    H = n_hidden
    W = rng.standard_normal((4 * H, H)) / math.sqrt(H)
    U = rng.standard_normal((4 * H, n_in)) / math.sqrt(n_in)
    b = np.zeros(4 * H)
    b[H : 2 * H] = float(forget_bias)
    return {"W": W, "U": U, "b": b}


# --------------------------------------------------------------------------
# Vanilla RNN
# --------------------------------------------------------------------------


def rnn_forward(x, h0, params) -> tuple[np.ndarray, dict]:
    """Run a tanh RNN over a sequence: ``h_t = tanh(W h_{t-1} + U x_t + b)``.

    Parameters
    ----------
    x : array_like, shape (T, N, D)
        The inputs, time-major.
    h0 : array_like, shape (N, H)
        The initial hidden state.
    params : dict
        ``W`` (H, H), ``U`` (H, D) and ``b`` (H,), as from
        :func:`init_rnn`.

    Returns
    -------
    hs : numpy.ndarray, shape (T, N, H)
        The hidden states ``h_1, ..., h_T``.
    cache : dict
        What :func:`rnn_backward` needs.

    Raises
    ------
    ValueError
        If the shapes do not fit together.

    Examples
    --------
    >>> p = {"W": np.zeros((1, 1)), "U": np.ones((1, 1)), "b": np.zeros(1)}
    >>> x = np.full((3, 1, 1), 100.0)
    >>> hs, _ = rnn_forward(x, np.zeros((1, 1)), p)
    >>> hs.ravel().tolist()  # tanh saturates at 1
    [1.0, 1.0, 1.0]
    """
    W, U, b = _weights(params, 1)
    x = _sequence(x, U.shape[1])
    T, N, _ = x.shape
    h = _state(h0, N, W.shape[0], "h0")
    hs = np.empty((T, N, W.shape[0]))
    for t in range(T):
        h = np.tanh(h @ W.T + x[t] @ U.T + b)
        hs[t] = h
    h0 = np.asarray(h0, dtype=np.float64)
    cache = {"x": x, "h0": h0, "hs": hs, "W": W, "U": U}
    return hs, cache


def rnn_backward(dhs, cache: dict) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`rnn_forward`.

    Walking backwards from ``t = T``, the gradient reaching ``h_t`` is
    ``g_t = dhs[t] + W^T da_{t+1}``, and ``da_t = g_t * (1 - h_t^2)``.
    The shared weights collect one term per time step:
    ``dW = sum_t da_t h_{t-1}^T``, ``dU = sum_t da_t x_t^T``,
    ``db = sum_t da_t`` (summed over the batch as well).

    Parameters
    ----------
    dhs : array_like, shape (T, N, H)
        The gradient of the loss with respect to every hidden state
        (zeros where the loss does not look at a state).
    cache : dict
        From :func:`rnn_forward`.

    Returns
    -------
    dict
        Gradients ``W``, ``U``, ``b`` (shaped like the parameters),
        ``x`` (T, N, D) and ``h0`` (N, H).

    Examples
    --------
    >>> p = {"W": np.eye(1), "U": np.eye(1), "b": np.zeros(1)}
    >>> hs, cache = rnn_forward(np.zeros((2, 1, 1)), np.zeros((1, 1)), p)
    >>> g = rnn_backward(np.ones((2, 1, 1)), cache)
    >>> g["x"].ravel().tolist()  # d(h_1 + h_2)/dx_1 = 2, /dx_2 = 1 at 0
    [2.0, 1.0]
    """
    hs, x, W, U = cache["hs"], cache["x"], cache["W"], cache["U"]
    dhs = np.asarray(dhs, dtype=np.float64)
    if dhs.shape != hs.shape:
        raise ValueError(f"dhs must have shape {hs.shape}, got {dhs.shape}")
    grads = {
        "W": np.zeros_like(W),
        "U": np.zeros_like(U),
        "b": np.zeros(W.shape[0]),
        "x": np.empty_like(x),
    }
    carry = np.zeros_like(hs[0])
    for t in range(len(hs) - 1, -1, -1):
        h_prev = hs[t - 1] if t > 0 else cache["h0"]
        da = (dhs[t] + carry) * (1.0 - hs[t] ** 2)
        grads["W"] += da.T @ h_prev
        grads["U"] += da.T @ x[t]
        grads["b"] += da.sum(axis=0)
        grads["x"][t] = da @ U
        carry = da @ W
    grads["h0"] = carry
    return grads


# --------------------------------------------------------------------------
# LSTM
# --------------------------------------------------------------------------


def lstm_forward(x, h0, c0, params) -> tuple[np.ndarray, dict]:
    """Run an LSTM over a sequence.

    With ``z_t = W h_{t-1} + U x_t + b`` split into four blocks of size
    ``H``, the gates are ``i = sigmoid(z_i)``, ``f = sigmoid(z_f)``,
    ``o = sigmoid(z_o)``, the candidate is ``g = tanh(z_g)``, and ::

        c_t = f * c_{t-1} + i * g,     h_t = o * tanh(c_t).

    Parameters
    ----------
    x : array_like, shape (T, N, D)
        The inputs, time-major.
    h0, c0 : array_like, shape (N, H)
        The initial hidden and cell states.
    params : dict
        ``W`` (4H, H), ``U`` (4H, D) and ``b`` (4H,), as from
        :func:`init_lstm`.

    Returns
    -------
    hs : numpy.ndarray, shape (T, N, H)
        The hidden states ``h_1, ..., h_T``.
    cache : dict
        What :func:`lstm_backward` needs; ``cache["cs"]`` holds the cell
        states and ``cache["gates"]`` the gate values, shape (T, N, 4H).

    Raises
    ------
    ValueError
        If the shapes do not fit together.

    Examples
    --------
    >>> p = init_lstm(1, 2, np.random.default_rng(0))
    >>> z = np.zeros((1, 2))
    >>> hs, cache = lstm_forward(np.ones((4, 1, 1)), z, z, p)
    >>> hs.shape, bool(np.all(np.abs(hs) < 1))
    ((4, 1, 2), True)
    """
    W, U, b = _weights(params, 4)
    H = W.shape[1]
    x = _sequence(x, U.shape[1])
    T, N, _ = x.shape
    h = _state(h0, N, H, "h0")
    c = _state(c0, N, H, "c0")
    hs = np.empty((T, N, H))
    cs = np.empty((T, N, H))
    gates = np.empty((T, N, 4 * H))
    for t in range(T):
        z = h @ W.T + x[t] @ U.T + b
        gates[t, :, : 3 * H] = _sigmoid(z[:, : 3 * H])
        gates[t, :, 3 * H :] = np.tanh(z[:, 3 * H :])
        i, f, o, g = _split4(gates[t], H)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs[t], cs[t] = h, c
    cache = {
        "x": x,
        "h0": np.asarray(h0, dtype=np.float64),
        "c0": np.asarray(c0, dtype=np.float64),
        "hs": hs,
        "cs": cs,
        "gates": gates,
        "W": W,
        "U": U,
    }
    return hs, cache


def lstm_backward(dhs, cache: dict) -> dict[str, np.ndarray]:
    """Backpropagation through time for :func:`lstm_forward`.

    Going backwards, the gradient reaching ``h_t`` is
    ``dh = dhs[t] + W^T dz_{t+1}`` and the one reaching ``c_t`` is
    ``dc = f_{t+1} * dc_{t+1} + dh * o * (1 - tanh(c_t)^2)``: along the
    cell state the gradient is only multiplied by the forget gate. Then
    ``do = dh * tanh(c_t)``, ``di = dc * g``, ``dg = dc * i``,
    ``df = dc * c_{t-1}``, and each gate's pre-activation gradient is its
    output gradient times the derivative of its nonlinearity.

    Parameters
    ----------
    dhs : array_like, shape (T, N, H)
        The gradient of the loss with respect to every hidden state.
    cache : dict
        From :func:`lstm_forward`.

    Returns
    -------
    dict
        Gradients ``W``, ``U``, ``b``, ``x``, ``h0`` and ``c0``.

    Examples
    --------
    >>> p = init_lstm(1, 2, np.random.default_rng(0))
    >>> z = np.zeros((1, 2))
    >>> hs, cache = lstm_forward(np.ones((3, 1, 1)), z, z, p)
    >>> g = lstm_backward(np.ones_like(hs), cache)
    >>> sorted(g), g["W"].shape
    (['U', 'W', 'b', 'c0', 'h0', 'x'], (8, 2))
    """
    hs, cs, gates = cache["hs"], cache["cs"], cache["gates"]
    x, W, U = cache["x"], cache["W"], cache["U"]
    dhs = np.asarray(dhs, dtype=np.float64)
    if dhs.shape != hs.shape:
        raise ValueError(f"dhs must have shape {hs.shape}, got {dhs.shape}")
    grads = {
        "W": np.zeros_like(W),
        "U": np.zeros_like(U),
        "b": np.zeros(W.shape[0]),
        "x": np.empty_like(x),
    }
    dh_next = np.zeros_like(hs[0])
    dc_next = np.zeros_like(hs[0])
    dz = np.empty_like(gates[0])
    H = hs.shape[2]
    for t in range(len(hs) - 1, -1, -1):
        h_prev = hs[t - 1] if t > 0 else cache["h0"]
        c_prev = cs[t - 1] if t > 0 else cache["c0"]
        i, f, o, g = _split4(gates[t], H)
        tc = np.tanh(cs[t])
        dh = dhs[t] + dh_next
        dc = dc_next + dh * o * (1.0 - tc**2)
        dz[:, :H] = dc * g * i * (1.0 - i)
        dz[:, H : 2 * H] = dc * c_prev * f * (1.0 - f)
        dz[:, 2 * H : 3 * H] = dh * tc * o * (1.0 - o)
        dz[:, 3 * H :] = dc * i * (1.0 - g**2)
        grads["W"] += dz.T @ h_prev
        grads["U"] += dz.T @ x[t]
        grads["b"] += dz.sum(axis=0)
        grads["x"][t] = dz @ U
        dh_next = dz @ W
        dc_next = dc * f
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    return grads


# --------------------------------------------------------------------------
# Gradient clipping and Jacobian products
# --------------------------------------------------------------------------


def clip_grad_norm(
    grads: dict[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], float]:
    """Rescale gradients so that their joint Euclidean norm is at most
    ``max_norm``.

    The norm is taken over all arrays together, as if they were one long
    vector ``g``. If ``||g|| > max_norm`` every array is multiplied by
    ``max_norm / ||g||``; otherwise nothing changes. The direction is
    kept either way.

    Parameters
    ----------
    grads : dict of array_like
        The gradients; not modified.
    max_norm : float
        The threshold, positive.

    Returns
    -------
    clipped : dict
        New arrays, rescaled if necessary.
    norm : float
        The joint norm before clipping.

    Raises
    ------
    ValueError
        For a non-positive ``max_norm`` or non-finite gradients.

    Examples
    --------
    >>> g, n = clip_grad_norm({"a": np.array([3.0]), "b": np.array([4.0])},
    ...                       1.0)
    >>> n, g["a"].round(12).tolist(), g["b"].round(12).tolist()
    (5.0, [0.6], [0.8])
    """
    if isinstance(max_norm, bool) or not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in grads.items()}
    if not all(np.all(np.isfinite(v)) for v in arrays.values()):
        raise ValueError("gradients must be finite to be clipped")
    norm = math.sqrt(sum(float(np.sum(v**2)) for v in arrays.values()))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: v * scale for k, v in arrays.items()}, norm


def rnn_step_jacobians(cache: dict, n: int = 0) -> np.ndarray:
    """The Jacobians ``dh_t / dh_{t-1} = diag(1 - h_t^2) W`` of a tanh RNN.

    Parameters
    ----------
    cache : dict
        From :func:`rnn_forward`.
    n : int
        Which sequence of the batch.

    Returns
    -------
    numpy.ndarray, shape (T, H, H)
        Entry ``t`` is the Jacobian of step ``t + 1`` (0-based storage of
        ``h_1, ..., h_T``).

    Examples
    --------
    >>> p = {"W": 0.5 * np.eye(2), "U": np.zeros((2, 1)), "b": np.zeros(2)}
    >>> _, cache = rnn_forward(np.zeros((3, 1, 1)), np.zeros((1, 2)), p)
    >>> rnn_step_jacobians(cache)[0].tolist()  # tanh'(0) = 1
    [[0.5, 0.0], [0.0, 0.5]]
    """
    hs = cache["hs"]
    if not 0 <= n < hs.shape[1]:
        raise ValueError(f"n must be in 0..{hs.shape[1] - 1}, got {n}")
    return (1.0 - hs[:, n, :, None] ** 2) * cache["W"][None]


def jacobian_product_norms(jacobians) -> np.ndarray:
    """Spectral norms of the backward products of step Jacobians.

    For Jacobians ``J_1, ..., J_T`` (with ``J_t = dh_t / dh_{t-1}``),
    entry ``k`` of the result is
    ``||J_T J_{T-1} ... J_{T-k+1}||_2 = ||dh_T / dh_{T-k}||_2``, for
    ``k = 0, ..., T`` (entry 0 is the identity, norm 1).

    Parameters
    ----------
    jacobians : array_like, shape (T, H, H)
        The step Jacobians in forward order.

    Returns
    -------
    numpy.ndarray, shape (T + 1,)
        The norms against the lag ``k``.

    Examples
    --------
    >>> J = np.stack([0.5 * np.eye(2)] * 3)
    >>> jacobian_product_norms(J).tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    J = np.asarray(jacobians, dtype=np.float64)
    if J.ndim != 3 or J.shape[1] != J.shape[2] or len(J) == 0:
        raise ValueError(f"jacobians must have shape (T, H, H), got {J.shape}")
    P = np.eye(J.shape[1])
    norms = [1.0]
    for t in range(len(J) - 1, -1, -1):
        P = P @ J[t]
        norms.append(float(np.linalg.norm(P, 2)))
    return np.array(norms)


# --------------------------------------------------------------------------
# A memory task and its trainer
# --------------------------------------------------------------------------


def memory_task(
    n: int,
    delay: int,
    rng: np.random.Generator,
    n_symbols: int = 4,
    noise: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Sequences that show a symbol first and ask for it ``delay`` steps on.

    At ``t = 1`` the input is the one-hot code of a symbol ``y`` drawn
    uniformly from ``0, ..., n_symbols - 1``; at the ``delay`` later steps
    it is Gaussian noise of standard deviation ``noise`` in every channel.
    The target, read off the last hidden state, is ``y``. Guessing gives
    accuracy ``1 / n_symbols``.

    Parameters
    ----------
    n : int
        The number of sequences.
    delay : int
        The number of steps between the symbol and the question, >= 0.
    rng : numpy.random.Generator
        Source of the symbols and the noise.
    n_symbols : int
        The number of symbols (and input channels), at least 2.
    noise : float
        The standard deviation of the distractor noise, >= 0.

    Returns
    -------
    x : numpy.ndarray, shape (delay + 1, n, n_symbols)
    y : numpy.ndarray of int, shape (n,)

    Examples
    --------
    >>> x, y = memory_task(2, 3, np.random.default_rng(0), noise=0.0)
    >>> x.shape, bool(np.all(x[0].argmax(axis=1) == y)), float(x[1:].sum())
    ((4, 2, 4), True, 0.0)
    """
    n = _positive_int(n, "n")
    if isinstance(delay, bool) or not isinstance(delay, (int, np.integer)):
        raise ValueError(f"delay must be a non-negative int, got {delay!r}")
    if delay < 0:
        raise ValueError(f"delay must be a non-negative int, got {delay}")
    if _positive_int(n_symbols, "n_symbols") < 2:
        raise ValueError("n_symbols must be at least 2")
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}")
    check_generator(rng)
    y = rng.integers(0, n_symbols, size=n)
    x = noise * rng.standard_normal((delay + 1, n, n_symbols))
    x[0] = np.eye(n_symbols)[y]
    return x, y


def sequence_loss(cell: str, params, x, y) -> tuple[float, dict]:
    """Cross-entropy of a linear readout of the last hidden state.

    The network runs ``cell`` (``"rnn"`` or ``"lstm"``) from zero initial
    states over ``x``, computes logits ``V h_T + c`` and the mean softmax
    cross-entropy with the labels ``y``, and backpropagates through time.

    Parameters
    ----------
    cell : {"rnn", "lstm"}
        The recurrent cell.
    params : dict
        The cell's ``W``, ``U``, ``b`` and the readout ``V`` (K, H) and
        ``c`` (K,).
    x : array_like, shape (T, N, D)
        The inputs.
    y : array_like of int, shape (N,)
        The labels.

    Returns
    -------
    loss : float
    grads : dict
        The gradient with respect to every entry of ``params``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = init_rnn(4, 3, rng) | {"V": np.zeros((4, 3)), "c": np.zeros(4)}
    >>> x, y = memory_task(5, 2, rng)
    >>> loss, g = sequence_loss("rnn", p, x, y)
    >>> round(loss, 12) == round(math.log(4), 12), sorted(g)
    (True, ['U', 'V', 'W', 'b', 'c'])
    """
    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
    W = np.asarray(params["W"], dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, N, D), got {x.shape}")
    h0 = np.zeros((x.shape[1], W.shape[1]))
    if cell == "rnn":
        hs, cache = rnn_forward(x, h0, params)
    else:
        hs, cache = lstm_forward(x, h0, h0, params)
    V, c = params["V"], params["c"]
    loss, dlogits = softmax_cross_entropy(hs[-1] @ V.T + c, y)
    dhs = np.zeros_like(hs)
    dhs[-1] = dlogits @ V
    back = rnn_backward if cell == "rnn" else lstm_backward
    grads = back(dhs, cache)
    grads = {k: grads[k] for k in ("W", "U", "b")}
    grads["V"] = dlogits.T @ hs[-1]
    grads["c"] = dlogits.sum(axis=0)
    return loss, grads


def train_memory(
    cell: str,
    delay: int,
    rng: np.random.Generator,
    n_hidden: int = 16,
    n_symbols: int = 4,
    n_steps: int = 200,
    batch_size: int = 64,
    lr: float = 0.02,
    max_norm: float | None = 1.0,
    noise: float = 0.5,
    forget_bias: float = 3.0,
) -> dict:
    """Train a recurrent classifier on :func:`memory_task` with Adam.

    Every step draws a fresh minibatch, computes the loss and gradients
    with :func:`sequence_loss`, clips the gradient norm to ``max_norm``
    with :func:`clip_grad_norm` (unless ``max_norm`` is None) and takes
    one step of :func:`m4ml.optimization.adam`. The vanilla RNN starts
    from :func:`init_rnn` with ``rho = 0.9``, the LSTM from
    :func:`init_lstm` with the given ``forget_bias``; the readout starts at 0.

    Parameters
    ----------
    cell : {"rnn", "lstm"}
        The recurrent cell.
    delay : int
        The delay of the memory task.
    rng : numpy.random.Generator
        Source of the initial weights and of the data.
    n_hidden, n_symbols, n_steps, batch_size : int
        Sizes of the network, the task and the run.
    lr : float
        Adam's learning rate.
    max_norm : float or None
        The clipping threshold.
    noise : float
        The noise of the task.
    forget_bias : float
        The initial forget-gate bias of the LSTM (ignored for the RNN).

    Returns
    -------
    dict
        ``"params"``: the trained parameters; ``"loss"`` and
        ``"grad_norm"``: the minibatch loss and the unclipped gradient
        norm at every step; ``"accuracy"``: the accuracy on 1,000 fresh
        test sequences.

    Examples
    --------
    >>> run = train_memory("lstm", 2, np.random.default_rng(0),
    ...                    n_hidden=8, n_steps=150, lr=0.05)
    >>> bool(run["loss"][-1] < run["loss"][0]), run["accuracy"] > 0.9
    (True, True)
    """
    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
    check_generator(rng)
    n_steps = _positive_int(n_steps, "n_steps")
    batch_size = _positive_int(batch_size, "batch_size")
    if cell == "rnn":
        params = init_rnn(n_symbols, n_hidden, rng, rho=0.9)
    else:
        params = init_lstm(n_symbols, n_hidden, rng, forget_bias)
    params["V"] = np.zeros((n_symbols, n_hidden))
    params["c"] = np.zeros(n_symbols)
    keys = list(params)
    shapes = [params[k].shape for k in keys]
    sizes = [params[k].size for k in keys]

    def unflatten(theta: np.ndarray) -> dict[str, np.ndarray]:
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        return {
            k: p.reshape(s)
            for k, p, s in zip(keys, parts, shapes, strict=True)
        }

    losses: list[float] = []
    norms: list[float] = []

    def grad(theta: np.ndarray) -> np.ndarray:
        x, y = memory_task(batch_size, delay, rng, n_symbols, noise)
        loss, g = sequence_loss(cell, unflatten(theta), x, y)
        if max_norm is not None:
            g, norm = clip_grad_norm(g, max_norm)
        else:
            norm = math.sqrt(sum(float(np.sum(v**2)) for v in g.values()))
        losses.append(loss)
        norms.append(norm)
        return np.concatenate([g[k].ravel() for k in keys])

    theta0 = np.concatenate([params[k].ravel() for k in keys])
    theta = adam(grad, theta0, lr=lr, n_steps=n_steps)[-1]
    params = unflatten(theta)
    x, y = memory_task(1000, delay, rng, n_symbols, noise)
    h0 = np.zeros((1000, n_hidden))
    if cell == "rnn":
        hs, _ = rnn_forward(x, h0, params)
    else:
        hs, _ = lstm_forward(x, h0, h0, params)
    pred = (hs[-1] @ params["V"].T + params["c"]).argmax(axis=1)
    return {
        "params": params,
        "loss": np.array(losses),
        "grad_norm": np.array(norms),
        "accuracy": float(np.mean(pred == y)),
    }
