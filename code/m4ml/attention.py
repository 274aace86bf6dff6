"""Attention and transformers with explicit forward and backward passes.

The code of the chapter *Attention and transformers*
(``book/deep_learning/attention.md``). The core is
:func:`scaled_dot_product_attention` and its hand-derived backward pass
:func:`attention_backward`; on top of them sit layers that follow the
Layer protocol of :mod:`m4ml.mlp` (``forward``, ``backward``, ``params``,
``grads``), so that they plug into :class:`m4ml.mlp.Sequential` and
:func:`m4ml.mlp.train`:

- :class:`MultiHeadAttention`, self-attention with ``n_heads`` heads;
- :class:`TransformerLayerNorm`, layer normalisation over the features of
  every token;
- :class:`Residual` and :class:`PerToken`, containers that add a skip
  connection and apply a row-wise network to every token;
- :class:`Embedding` and :class:`PositionalEncoding`, which turn token
  ids into vectors that know their position.

:func:`transformer_block` assembles a pre-norm transformer block from
these pieces. Sequences are batched as arrays of shape ``(B, N, D)``:
``B`` sequences of ``N`` tokens with ``D`` features each.
"""

from __future__ import annotations

import math

import numpy as np

from m4ml.logistic_regression import softmax
from m4ml.losses import softmax_cross_entropy
from m4ml.mlp import Affine, Layer, ReLU, Sequential
from m4ml.validation import check_generator

__all__ = [
    "Embedding",
    "MultiHeadAttention",
    "PerToken",
    "PositionalEncoding",
    "Residual",
    "TransformerLayerNorm",
    "attention_backward",
    "attention_flops",
    "causal_mask",
    "scaled_dot_product_attention",
    "sequence_cross_entropy",
    "sinusoidal_positional_encoding",
    "transformer_block",
]


def _array(a, name: str, min_ndim: int = 2) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, "
            f"got shape {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _qkv(Q, K, V) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Q, K, V = _array(Q, "Q"), _array(K, "K"), _array(V, "V")
    if not Q.shape[:-2] == K.shape[:-2] == V.shape[:-2]:
        raise ValueError(
            "Q, K and V must have the same leading (batch) dimensions, "
            f"got {Q.shape}, {K.shape} and {V.shape}"
        )
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(
            f"queries and keys must have the same width d_k, got "
            f"{Q.shape[-1]} and {K.shape[-1]}"
        )
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(
            f"K and V must have one row per key, got {K.shape[-2]} "
            f"and {V.shape[-2]} rows"
        )
    if Q.shape[-1] == 0 or K.shape[-2] == 0:
        raise ValueError("d_k and the number of keys must be positive")
    return Q, K, V


def causal_mask(n: int) -> np.ndarray:
    """The causal mask: position ``t`` may look at positions ``s <= t``.

    Parameters
    ----------
    n : int
        The sequence length, positive.

    Returns
    -------
    numpy.ndarray of bool, shape (n, n)
        ``True`` on and below the diagonal (allowed), ``False`` above it
        (blocked).

    Examples
    --------
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return np.tril(np.ones((int(n), int(n)), dtype=bool))


def scaled_dot_product_attention(Q, K, V, mask=None):
    """Scaled dot-product attention ``softmax(Q K^T / sqrt(d_k)) V``.

    Each query (a row of ``Q``) is compared with every key (a row of
    ``K``) by a dot product divided by ``sqrt(d_k)``; the softmax of a
    row of these scores gives the weights with which the rows of ``V``
    are averaged.

    Parameters
    ----------
    Q : array_like, shape (..., n_q, d_k)
        The queries.
    K : array_like, shape (..., n_k, d_k)
        The keys; same leading dimensions as ``Q``.
    V : array_like, shape (..., n_k, d_v)
        The values, one per key.
    mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``False`` blocks query ``i``
        from key ``j`` (its weight is exactly 0).

    Returns
    -------
    output : numpy.ndarray, shape (..., n_q, d_v)
        The attention-weighted averages of the values.
    weights : numpy.ndarray, shape (..., n_q, n_k)
        The attention weights; every row is a probability vector.

    Raises
    ------
    ValueError
        For mismatched shapes, a non-boolean mask, or a mask that blocks
        every key of some query (its weights would be undefined).

    Examples
    --------
    >>> Q = np.array([[1.0, 0.0]])
    >>> K = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> V = np.array([[10.0], [20.0]])
    >>> out, w = scaled_dot_product_attention(Q, K, V)
    >>> w.round(3)  # softmax of (1, 0) / sqrt(2)
    array([[0.67, 0.33]])
    >>> out, w = scaled_dot_product_attention(Q, K, V, [[False, True]])
    >>> out, w
    (array([[20.]]), array([[0., 1.]]))
    """
    Q, K, V = _qkv(Q, K, V)
    scores = Q @ np.swapaxes(K, -1, -2) / math.sqrt(Q.shape[-1])
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean, got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, scores.shape)
        except ValueError:
            raise ValueError(
                f"mask of shape {mask.shape} does not broadcast to the "
                f"scores' shape {scores.shape}"
            ) from None
        if not mask.any(axis=-1).all():
            raise ValueError(
                "the mask blocks every key for some query: its attention "
                "weights are undefined"
            )
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights


def attention_backward(dout, Q, K, V, weights):
    """Gradients of a loss through scaled dot-product attention.

    With ``S = Q K^T / sqrt(d_k)``, ``A = softmax(S)`` row by row and
    ``O = A V``, and ``G = dL/dO`` (``dout``), the chain rule gives ::

        dV = A^T G
        dA = G V^T
        dS = A * (dA - rowsum(A * dA))      (softmax, row by row)
        dQ = dS K / sqrt(d_k),  dK = dS^T Q / sqrt(d_k)

    Masked entries have ``A = 0`` and so receive no gradient.

    Parameters
    ----------
    dout : array_like, shape (..., n_q, d_v)
        The gradient of the loss with respect to the output.
    Q, K, V : array_like
        The inputs of the forward pass.
    weights : array_like, shape (..., n_q, n_k)
        The attention weights the forward pass returned.

    Returns
    -------
    dQ, dK, dV : numpy.ndarray
        The gradients with respect to ``Q``, ``K`` and ``V``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V = (rng.standard_normal((3, 2)) for _ in range(3))
    >>> out, A = scaled_dot_product_attention(Q, K, V)
    >>> dQ, dK, dV = attention_backward(np.ones_like(out), Q, K, V, A)
    >>> np.allclose(dV, A.T @ np.ones_like(out))
    True
    >>> np.allclose(dK.sum(axis=0), 0)  # shifting every key changes nothing
    True
    """
    Q, K, V = _qkv(Q, K, V)
    G = np.asarray(dout, dtype=np.float64)
    A = np.asarray(weights, dtype=np.float64)
    if G.shape != Q.shape[:-1] + V.shape[-1:]:
        raise ValueError(
            f"dout must have shape {Q.shape[:-1] + V.shape[-1:]}, "
            f"got {G.shape}"
        )
    if A.shape != Q.shape[:-1] + K.shape[-2:-1]:
        raise ValueError(
            f"weights must have shape {Q.shape[:-1] + K.shape[-2:-1]}, "
            f"got {A.shape}"
        )
    scale = 1.0 / math.sqrt(Q.shape[-1])
    dV = np.swapaxes(A, -1, -2) @ G
    dA = G @ np.swapaxes(V, -1, -2)
    dS = A * (dA - np.sum(A * dA, axis=-1, keepdims=True))
    dQ = dS @ K * scale
    dK = np.swapaxes(dS, -1, -2) @ Q * scale
    return dQ, dK, dV


def sinusoidal_positional_encoding(n_positions: int, d_model: int):
    """The sinusoidal positional encodings of Vaswani et al. (2017).

    Row ``t`` holds, for ``i = 0, ..., d_model / 2 - 1``, the pair ::

        P[t, 2i] = sin(t * w_i),  P[t, 2i + 1] = cos(t * w_i),
        w_i = 10000 ** (-2i / d_model),

    a clock with hands turning at geometrically spaced frequencies.

    Parameters
    ----------
    n_positions : int
        The number of positions ``t = 0, ..., n_positions - 1``.
    d_model : int
        The width of an encoding; positive and even.

    Returns
    -------
    numpy.ndarray, shape (n_positions, d_model)

    Examples
    --------
    >>> P = sinusoidal_positional_encoding(3, 4)
    >>> P[0].tolist()  # position 0: every sine 0, every cosine 1
    [0.0, 1.0, 0.0, 1.0]
    >>> np.allclose((P**2).sum(axis=1), 2.0)  # every row has norm^2 d/2
    True
    """
    if int(n_positions) != n_positions or n_positions < 1:
        raise ValueError(
            f"n_positions must be a positive integer, got {n_positions!r}"
        )
    if int(d_model) != d_model or d_model < 2 or d_model % 2:
        raise ValueError(
            f"d_model must be a positive even integer, got {d_model!r}"
        )
    t = np.arange(int(n_positions), dtype=np.float64)[:, None]
    freqs = 10000.0 ** (-np.arange(0, int(d_model), 2) / d_model)
    P = np.empty((int(n_positions), int(d_model)))
    P[:, 0::2] = np.sin(t * freqs)
    P[:, 1::2] = np.cos(t * freqs)
    return P


def attention_flops(n: int, d_model: int) -> dict[str, int]:
    """Multiply-add flop counts of one self-attention layer.

    A product of an ``(a, b)`` and a ``(b, c)`` matrix costs ``2 a b c``
    flops (one multiplication and one addition per term). For ``n``
    tokens of width ``d_model`` split into heads of total width
    ``d_model``, the four projections cost ``4 * 2 n d^2`` and the scores
    ``Q K^T`` and the average ``A V`` cost ``2 n^2 d`` each, whatever the
    number of heads (the softmax's ``O(n^2)`` is not counted).

    Parameters
    ----------
    n, d_model : int
        Sequence length and model width, positive.

    Returns
    -------
    dict
        ``"projections"``, ``"attention"`` and ``"total"`` flop counts.

    Examples
    --------
    >>> attention_flops(4, 2)
    {'projections': 128, 'attention': 128, 'total': 256}
    """
    n, d = int(n), int(d_model)
    if n < 1 or d < 1:
        raise ValueError("n and d_model must be positive")
    proj = 4 * 2 * n * d * d
    attn = 2 * (2 * n * n * d)
    return {"projections": proj, "attention": attn, "total": proj + attn}


def _sequences(x, d: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or (d is not None and x.shape[-1] != d):
        want = "(B, N, D)" if d is None else f"(B, N, {d})"
        raise ValueError(f"input must have shape {want}, got {x.shape}")
    return x


class MultiHeadAttention(Layer):
    """Multi-head self-attention on a batch of sequences.

    For input ``X`` of shape ``(B, N, D)`` it computes ``Q = X W_q``,
    ``K = X W_k``, ``V = X W_v``, splits their ``D`` columns into
    ``n_heads`` heads of width ``D / n_heads``, runs
    :func:`scaled_dot_product_attention` in every head, concatenates the
    heads' outputs and multiplies by ``W_o``.

    Parameters
    ----------
    d_model : int
        The width ``D`` of a token; a multiple of ``n_heads``.
    n_heads : int
        The number of heads, positive.
    rng : numpy.random.Generator
        Source of the initial weights, ``N(0, 1 / D)`` entries.
    causal : bool
        Whether token ``t`` may attend only to tokens ``s <= t``.

    Attributes
    ----------
    params : dict
        ``"W_q"``, ``"W_k"``, ``"W_v"``, ``"W_o"``, each ``(D, D)``.
    weights : numpy.ndarray
        The attention weights of the last forward pass, ``(B, H, N, N)``.

    Examples
    --------
    >>> mha = MultiHeadAttention(4, 2, np.random.default_rng(0))
    >>> x = np.random.default_rng(1).standard_normal((3, 5, 4))
    >>> mha.forward(x).shape, mha.weights.shape
    ((3, 5, 4), (3, 2, 5, 5))
    >>> mha.backward(np.ones((3, 5, 4))).shape
    (3, 5, 4)
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        rng: np.random.Generator,
        causal: bool = False,
    ) -> None:
        super().__init__()
        if int(n_heads) != n_heads or n_heads < 1:
            raise ValueError(f"n_heads must be positive, got {n_heads!r}")
        if int(d_model) != d_model or d_model < 1 or d_model % n_heads:
            raise ValueError(
                f"d_model ({d_model!r}) must be a positive multiple of "
                f"n_heads ({n_heads})"
            )
        check_generator(rng)
        self.d_model, self.n_heads = int(d_model), int(n_heads)
        self.causal = bool(causal)
        scale = 1.0 / math.sqrt(self.d_model)
        self.params = {
            k: scale * rng.standard_normal((self.d_model, self.d_model))
            for k in ("W_q", "W_k", "W_v", "W_o")
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.weights = None
        self._cache = None

    def _split(self, Z: np.ndarray) -> np.ndarray:
        B, N, D = Z.shape
        H = self.n_heads
        return Z.reshape(B, N, H, D // H).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge(Z: np.ndarray) -> np.ndarray:
        B, H, N, dh = Z.shape
        return Z.transpose(0, 2, 1, 3).reshape(B, N, H * dh)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = _sequences(x, self.d_model)
        p = self.params
        Q, K, V = (self._split(x @ p[k]) for k in ("W_q", "W_k", "W_v"))
        mask = causal_mask(x.shape[1]) if self.causal else None
        heads, A = scaled_dot_product_attention(Q, K, V, mask)
        concat = self._merge(heads)
        self.weights = A
        self._cache = (x, Q, K, V, A, concat)
        return concat @ p["W_o"]

    def backward(self, dout) -> np.ndarray:
        x, Q, K, V, A, concat = self._cached("_cache")
        dout = np.asarray(dout, dtype=np.float64)
        p, D = self.params, self.d_model
        self.grads["W_o"] = concat.reshape(-1, D).T @ dout.reshape(-1, D)
        dO = self._split(dout @ p["W_o"].T)
        dQ, dK, dV = attention_backward(dO, Q, K, V, A)
        dx = np.zeros_like(x)
        flat_x = x.reshape(-1, D)
        for key, dZ in (("W_q", dQ), ("W_k", dK), ("W_v", dV)):
            dZ = self._merge(dZ)
            self.grads[key] = flat_x.T @ dZ.reshape(-1, D)
            dx += dZ @ p[key].T
        return dx


class TransformerLayerNorm(Layer):
    """Layer normalisation over the last axis, with a gain and a bias.

    Every token's feature vector ``x`` (a slice along the last axis) is
    standardised to mean 0 and variance 1, then scaled and shifted::

        y = gamma * (x - mean(x)) / sqrt(var(x) + eps) + beta.

    Parameters
    ----------
    d : int
        The number of features, positive.
    eps : float
        Added to the variance, positive, so that nothing divides by 0.

    Examples
    --------
    >>> ln = TransformerLayerNorm(2)
    >>> ln.forward(np.array([[[1.0, 3.0]]])).round(4)
    array([[[-1.,  1.]]])
    """

    def __init__(self, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        if int(d) != d or d < 1:
            raise ValueError(f"d must be a positive integer, got {d!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.eps = float(eps)
        self.params = {"gamma": np.ones(int(d)), "beta": np.zeros(int(d))}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        d = self.params["gamma"].shape[0]
        if x.ndim < 1 or x.shape[-1] != d:
            raise ValueError(f"the last axis must have length {d}")
        mu = x.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + self.eps)
        xhat = (x - mu) * inv_std
        self._cache = (xhat, inv_std)
        return self.params["gamma"] * xhat + self.params["beta"]

    def backward(self, dout) -> np.ndarray:
        xhat, inv_std = self._cached("_cache")
        d = xhat.shape[-1]
        self.grads["gamma"] = (dout * xhat).reshape(-1, d).sum(axis=0)
        self.grads["beta"] = dout.reshape(-1, d).sum(axis=0)
        g = dout * self.params["gamma"]
        return inv_std * (
            g
            - g.mean(axis=-1, keepdims=True)
            - xhat * (g * xhat).mean(axis=-1, keepdims=True)
        )


class Residual(Sequential):
    """A skip connection around a stack of layers: ``x -> x + f(x)``.

    Examples
    --------
    >>> r = Residual([Affine([[2.0]])])
    >>> r.forward(np.array([[1.0]])), r.backward(np.array([[1.0]]))
    (array([[3.]]), array([[3.]]))
    """

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return x + super().forward(x, training)

    def backward(self, dout) -> np.ndarray:
        return dout + super().backward(dout)


class PerToken(Sequential):
    """Row-wise layers (such as ``Affine``) applied to every token.

    Reshapes ``(B, N, D)`` to ``(B * N, D)``, runs the layers and
    reshapes back, so that the same weights act on every position.

    Examples
    --------
    >>> f = PerToken([Affine(np.ones((2, 1)))])
    >>> f.forward(np.ones((3, 4, 2))).shape
    (3, 4, 1)
    """

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = _sequences(x)
        self._lead = x.shape[:2]
        y = super().forward(x.reshape(-1, x.shape[-1]), training)
        return y.reshape(*self._lead, -1)

    def backward(self, dout) -> np.ndarray:
        lead = self._cached("_lead")
        dout = np.asarray(dout, dtype=np.float64)
        dx = super().backward(dout.reshape(-1, dout.shape[-1]))
        return dx.reshape(*lead, -1)


class Embedding(Layer):
    """A lookup table from token ids to learned vectors.

    Parameters
    ----------
    n_vocab, d_model : int
        The number of distinct tokens and the width of a vector.
    rng : numpy.random.Generator
        Source of the initial table, ``N(0, 1)`` entries.

    Examples
    --------
    >>> emb = Embedding(5, 3, np.random.default_rng(0))
    >>> ids = np.array([[0, 4, 4]])
    >>> np.array_equal(emb.forward(ids)[0, 1], emb.params["E"][4])
    True
    >>> _ = emb.backward(np.ones((1, 3, 3)))
    >>> emb.grads["E"][4].tolist()  # token 4 was used twice
    [2.0, 2.0, 2.0]
    """

    def __init__(self, n_vocab: int, d_model: int, rng) -> None:
        super().__init__()
        if int(n_vocab) != n_vocab or int(d_model) != d_model:
            raise ValueError("n_vocab and d_model must be integers")
        if n_vocab < 1 or d_model < 1:
            raise ValueError("n_vocab and d_model must be positive")
        check_generator(rng)
        self.params = {"E": rng.standard_normal((int(n_vocab), int(d_model)))}
        self.grads = {"E": np.zeros_like(self.params["E"])}
        self._ids = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        ids = np.asarray(x)
        n_vocab = self.params["E"].shape[0]
        if ids.ndim != 2:
            raise ValueError(f"ids must have shape (B, N), got {ids.shape}")
        if not np.all(ids == np.round(ids)):
            raise ValueError("ids must be whole numbers")
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= n_vocab):
            raise ValueError(f"ids must lie in 0, ..., {n_vocab - 1}")
        self._ids = ids
        return self.params["E"][ids]

    def backward(self, dout) -> np.ndarray:
        ids = self._cached("_ids")
        dout = np.asarray(dout, dtype=np.float64)
        self.grads["E"] = np.zeros_like(self.params["E"])
        np.add.at(self.grads["E"], ids, dout)
        return np.zeros(ids.shape)  # ids are discrete: no gradient


class PositionalEncoding(Layer):
    """Adds the sinusoidal encoding of each position to its token.

    Parameters
    ----------
    d_model : int
        The width of a token, even.
    max_len : int
        The longest sequence the layer accepts.

    Examples
    --------
    >>> pe = PositionalEncoding(2, max_len=3)
    >>> pe.forward(np.zeros((1, 2, 2))).round(3)
    array([[[0.   , 1.   ],
            [0.841, 0.54 ]]])
    """

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.table = sinusoidal_positional_encoding(max_len, d_model)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = _sequences(x, self.table.shape[1])
        if x.shape[1] > self.table.shape[0]:
            raise ValueError(
                f"sequences longer than max_len={self.table.shape[0]}"
            )
        return x + self.table[: x.shape[1]]

    def backward(self, dout) -> np.ndarray:
        return np.asarray(dout, dtype=np.float64)


def transformer_block(
    d_model: int,
    n_heads: int,
    d_ff: int,
    rng: np.random.Generator,
    causal: bool = False,
) -> Sequential:
    """A pre-norm transformer block, as a :class:`Sequential`.

    ``x -> x + MHA(LN(x))``, then ``x -> x + FFN(LN(x))``, where the
    feed-forward network ``FFN`` is ``Affine -> ReLU -> Affine`` applied
    to every token (He-initialised, width ``d_ff`` in the middle).

    Parameters
    ----------
    d_model, n_heads, d_ff : int
        Token width, number of heads, hidden width of the FFN.
    rng : numpy.random.Generator
        Source of the initial weights.
    causal : bool
        Whether the attention is causally masked.

    Examples
    --------
    >>> block = transformer_block(8, 2, 16, np.random.default_rng(0))
    >>> block.forward(np.ones((2, 3, 8))).shape, block.n_parameters()
    ((2, 3, 8), 568)
    """
    if int(d_ff) != d_ff or d_ff < 1:
        raise ValueError(f"d_ff must be a positive integer, got {d_ff!r}")
    mha = MultiHeadAttention(d_model, n_heads, rng, causal=causal)
    w1 = math.sqrt(2.0 / d_model) * rng.standard_normal((d_model, d_ff))
    w2 = math.sqrt(2.0 / d_ff) * rng.standard_normal((d_ff, d_model))
    ffn = PerToken([Affine(w1), ReLU(), Affine(w2)])
    return Sequential(
        [
            Residual([TransformerLayerNorm(d_model), mha]),
            Residual([TransformerLayerNorm(d_model), ffn]),
        ]
    )


def sequence_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over every token of every sequence.

    Wraps :func:`m4ml.losses.softmax_cross_entropy` for logits of shape
    ``(B, N, K)`` and labels of shape ``(B, N)``, so that a sequence model
    trains with :func:`m4ml.mlp.train`.

    Examples
    --------
    >>> loss, grad = sequence_cross_entropy(np.zeros((1, 2, 4)), [[0, 3]])
    >>> round(loss, 6), grad.shape  # uniform guesses: log 4
    (1.386294, (1, 2, 4))
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    if logits.ndim != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(
            f"logits must be (B, N, K) and labels (B, N), got "
            f"{logits.shape} and {labels.shape}"
        )
    K = logits.shape[-1]
    flat = labels.reshape(-1)
    if not np.all(flat == np.round(flat)):
        raise ValueError("labels must be whole numbers")
    loss, grad = softmax_cross_entropy(
        logits.reshape(-1, K), flat.astype(np.int64)
    )
    return loss, grad.reshape(logits.shape)
