"""Tests of m4ml.attention against numpy/scipy references and finite
differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import softmax as scipy_softmax

from m4ml.attention import (
    Embedding,
    MultiHeadAttention,
    PerToken,
    PositionalEncoding,
    Residual,
    TransformerLayerNorm,
    attention_backward,
    attention_flops,
    causal_mask,
    scaled_dot_product_attention,
    sequence_cross_entropy,
    sinusoidal_positional_encoding,
    transformer_block,
)
from m4ml.mlp import Affine, Sequential
from m4ml.vector_calculus import numerical_gradient

SHAPES = [
    ((), 1, 1, 1, 1),
    ((), 3, 5, 4, 2),
    ((2,), 4, 4, 3, 5),
    ((2, 3), 2, 6, 8, 1),
]


def _qkv(rng, lead, n_q, n_k, d_k, d_v):
    return (
        rng.standard_normal((*lead, n_q, d_k)),
        rng.standard_normal((*lead, n_k, d_k)),
        rng.standard_normal((*lead, n_k, d_v)),
    )


def _reference(Q, K, V, mask=None):
    """A loop over batch entries and queries, with scipy's softmax."""
    lead = Q.shape[:-2]
    out = np.empty(lead + (Q.shape[-2], V.shape[-1]))
    for idx in np.ndindex(*lead):
        for i in range(Q.shape[-2]):
            s = np.array(
                [Q[idx][i] @ k / math.sqrt(Q.shape[-1]) for k in K[idx]]
            )
            if mask is not None:
                m = np.broadcast_to(mask, Q.shape[:-1] + (K.shape[-2],))
                s = np.where(m[idx][i], s, -np.inf)
            out[idx][i] = scipy_softmax(s) @ V[idx]
    return out


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("lead", "n_q", "n_k", "d_k", "d_v"), SHAPES)
def test_attention_matches_reference(seed, lead, n_q, n_k, d_k, d_v):
    rng = np.random.default_rng(seed)
    Q, K, V = _qkv(rng, lead, n_q, n_k, d_k, d_v)
    out, w = scaled_dot_product_attention(Q, K, V)
    np.testing.assert_allclose(out, _reference(Q, K, V), rtol=1e-12)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-14)
    assert out.shape == (*lead, n_q, d_v)
    assert w.shape == (*lead, n_q, n_k)


@pytest.mark.parametrize("seed", [0, 3])
def test_masked_attention_matches_reference(seed):
    rng = np.random.default_rng(seed)
    Q, K, V = _qkv(rng, (2,), 5, 5, 3, 2)
    mask = causal_mask(5)
    out, w = scaled_dot_product_attention(Q, K, V, mask)
    np.testing.assert_allclose(out, _reference(Q, K, V, mask), rtol=1e-12)
    assert np.all(w[..., ~mask] == 0.0)


def test_causal_mask():
    m = causal_mask(4)
    assert m.dtype == bool
    np.testing.assert_array_equal(m, np.tril(np.ones((4, 4))) > 0)
    with pytest.raises(ValueError, match="positive integer"):
        causal_mask(0)


def test_attention_error_paths():
    rng = np.random.default_rng(0)
    Q, K, V = _qkv(rng, (), 3, 4, 2, 5)
    with pytest.raises(ValueError, match="same width"):
        scaled_dot_product_attention(Q, K[:, :1], V)
    with pytest.raises(ValueError, match="one row per key"):
        scaled_dot_product_attention(Q, K, V[:3])
    with pytest.raises(ValueError, match="leading"):
        scaled_dot_product_attention(Q[None], K, V)
    with pytest.raises(ValueError, match="at least 2"):
        scaled_dot_product_attention(Q[0], K, V)
    with pytest.raises(ValueError, match="boolean"):
        scaled_dot_product_attention(Q, K, V, np.ones((3, 4)))
    with pytest.raises(ValueError, match="broadcast"):
        scaled_dot_product_attention(Q, K, V, np.ones((3, 3), bool))
    blocked = np.ones((3, 4), bool)
    blocked[1] = False
    with pytest.raises(ValueError, match="blocks every key"):
        scaled_dot_product_attention(Q, K, V, blocked)
    with pytest.raises(ValueError, match="finite"):
        scaled_dot_product_attention(Q * np.nan, K, V)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_matches_finite_differences(seed, masked):
    rng = np.random.default_rng(seed)
    Q, K, V = _qkv(rng, (2,), 4, 4, 3, 2)
    mask = causal_mask(4) if masked else None
    G = rng.standard_normal((2, 4, 2))
    _, A = scaled_dot_product_attention(Q, K, V, mask)
    grads = attention_backward(G, Q, K, V, A)
    args = [Q, K, V]
    for i, grad in enumerate(grads):

        def f(z, i=i):
            a = list(args)
            a[i] = z
            return np.sum(G * scaled_dot_product_attention(*a, mask)[0])

        num = numerical_gradient(f, args[i])
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


def test_attention_backward_error_paths():
    rng = np.random.default_rng(0)
    Q, K, V = _qkv(rng, (), 3, 4, 2, 5)
    _, A = scaled_dot_product_attention(Q, K, V)
    with pytest.raises(ValueError, match="dout must have shape"):
        attention_backward(np.ones((3, 4)), Q, K, V, A)
    with pytest.raises(ValueError, match="weights must have shape"):
        attention_backward(np.ones((3, 5)), Q, K, V, A.T)


@pytest.mark.parametrize("seed", [0, 1])
def test_permutation_properties(seed):
    rng = np.random.default_rng(seed)
    Q, K, V = _qkv(rng, (), 5, 7, 3, 4)
    out, _ = scaled_dot_product_attention(Q, K, V)
    p = rng.permutation(7)
    out_kv, _ = scaled_dot_product_attention(Q, K[p], V[p])
    np.testing.assert_allclose(out_kv, out, rtol=1e-12, atol=1e-14)
    q = rng.permutation(5)
    out_q, _ = scaled_dot_product_attention(Q[q], K, V)
    np.testing.assert_allclose(out_q, out[q], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("n", "d"), [(1, 2), (7, 4), (50, 16)])
def test_positional_encoding(n, d):
    P = sinusoidal_positional_encoding(n, d)
    t = np.arange(n)[:, None]
    i = np.arange(d // 2)[None, :]
    w = 1.0 / 10000 ** (2 * i / d)
    np.testing.assert_allclose(P[:, 0::2], np.sin(t * w), rtol=1e-14)
    np.testing.assert_allclose(P[:, 1::2], np.cos(t * w), rtol=1e-14)
    np.testing.assert_allclose(np.sum(P**2, axis=1), d / 2, rtol=1e-13)


def test_positional_encoding_errors():
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positional_encoding(4, 3)
    with pytest.raises(ValueError, match="n_positions"):
        sinusoidal_positional_encoding(0, 4)
    with pytest.raises(ValueError, match="max_len"):
        PositionalEncoding(4, max_len=3).forward(np.zeros((1, 4, 4)))


@pytest.mark.parametrize("seed", [0, 1])
def test_multi_head_one_head_equals_single_attention(seed):
    rng = np.random.default_rng(seed)
    mha = MultiHeadAttention(4, 1, rng)
    x = rng.standard_normal((2, 5, 4))
    p = mha.params
    out, _ = scaled_dot_product_attention(
        x @ p["W_q"], x @ p["W_k"], x @ p["W_v"]
    )
    np.testing.assert_allclose(mha.forward(x), out @ p["W_o"], rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_multi_head_matches_per_head_loop(seed):
    rng = np.random.default_rng(seed)
    mha = MultiHeadAttention(6, 3, rng, causal=True)
    x = rng.standard_normal((2, 4, 6))
    p = mha.params
    heads = []
    for h in range(3):
        cols = slice(2 * h, 2 * h + 2)
        o, _ = scaled_dot_product_attention(
            x @ p["W_q"][:, cols],
            x @ p["W_k"][:, cols],
            x @ p["W_v"][:, cols],
            causal_mask(4),
        )
        heads.append(o)
    expected = np.concatenate(heads, axis=-1) @ p["W_o"]
    np.testing.assert_allclose(mha.forward(x), expected, rtol=1e-12)


def _layer_gradients(layer, x, G):
    """Analytic gradients of sum(G * layer(x)) and FD references."""
    layer.forward(x)
    dx = layer.backward(G)
    pairs = [(dx, numerical_gradient(lambda z: np.sum(G * layer(z)), x))]
    params = (
        list(layer.parameters())
        if isinstance(layer, Sequential)
        else [(layer.params[k], layer.grads[k]) for k in layer.params]
    )
    for param, grad in params:
        grad = grad.copy()

        def f(z, param=param):
            old = param.copy()
            param[...] = z
            value = np.sum(G * layer.forward(x))
            param[...] = old
            return value

        pairs.append((grad, numerical_gradient(f, param.copy())))
    return pairs


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("heads", "causal"), [(1, False), (2, True)])
def test_multi_head_backward(seed, heads, causal):
    rng = np.random.default_rng(seed)
    mha = MultiHeadAttention(4, heads, rng, causal=causal)
    x = rng.standard_normal((2, 3, 4))
    G = rng.standard_normal((2, 3, 4))
    for analytic, numeric in _layer_gradients(mha, x, G):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_layer_norm(seed):
    rng = np.random.default_rng(seed)
    ln = TransformerLayerNorm(5)
    ln.params["gamma"] = rng.standard_normal(5)
    ln.params["beta"] = rng.standard_normal(5)
    x = 3 * rng.standard_normal((2, 3, 5)) + 1
    y = (ln.forward(x) - ln.params["beta"]) / ln.params["gamma"]
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-3)
    G = rng.standard_normal(x.shape)
    for analytic, numeric in _layer_gradients(ln, x, G):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="last axis"):
        ln.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="eps"):
        TransformerLayerNorm(3, eps=0.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("causal", [False, True])
def test_transformer_block_backward(seed, causal):
    rng = np.random.default_rng(seed)
    block = transformer_block(4, 2, 6, rng, causal=causal)
    x = rng.standard_normal((2, 3, 4))
    G = rng.standard_normal((2, 3, 4))
    for analytic, numeric in _layer_gradients(block, x, G):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_causal_block_ignores_the_future():
    rng = np.random.default_rng(0)
    block = transformer_block(4, 2, 8, rng, causal=True)
    x = rng.standard_normal((1, 6, 4))
    y = block.forward(x)
    x2 = x.copy()
    x2[:, 3:] = rng.standard_normal((1, 3, 4))
    np.testing.assert_array_equal(block.forward(x2)[:, :3], y[:, :3])
    assert not np.allclose(block.forward(x2)[:, 3:], y[:, 3:])


def test_residual_and_per_token():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 3))
    r = Residual([PerToken([Affine(W)])])
    x = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(r.forward(x), x + x @ W, rtol=1e-13)
    G = rng.standard_normal(x.shape)
    np.testing.assert_allclose(r.backward(G), G + G @ W.T, rtol=1e-13)
    with pytest.raises(ValueError, match="shape"):
        PerToken([Affine(W)]).forward(np.ones((4, 3)))


def test_embedding():
    rng = np.random.default_rng(0)
    emb = Embedding(6, 3, rng)
    ids = np.array([[0, 5, 5], [1, 0, 2]])
    out = emb.forward(ids.astype(float))
    np.testing.assert_array_equal(out, emb.params["E"][ids])
    G = rng.standard_normal((2, 3, 3))
    emb.backward(G)
    expected = np.zeros((6, 3))
    for b in range(2):
        for t in range(3):
            expected[ids[b, t]] += G[b, t]
    np.testing.assert_allclose(emb.grads["E"], expected, rtol=1e-14)
    with pytest.raises(ValueError, match="lie in"):
        emb.forward(np.array([[6]]))
    with pytest.raises(ValueError, match="whole"):
        emb.forward(np.array([[0.5]]))
    with pytest.raises(ValueError, match=r"\(B, N\)"):
        emb.forward(np.array([0, 1]))


def test_multi_head_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="multiple"):
        MultiHeadAttention(5, 2, rng)
    with pytest.raises(TypeError, match="Generator"):
        MultiHeadAttention(4, 2, 0)
    mha = MultiHeadAttention(4, 2, rng)
    with pytest.raises(ValueError, match="shape"):
        mha.forward(np.ones((2, 3, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        MultiHeadAttention(4, 2, rng).backward(np.ones((1, 1, 4)))


@pytest.mark.parametrize(("n", "d"), [(1, 1), (8, 4), (100, 32)])
def test_attention_flops(n, d):
    f = attention_flops(n, d)
    assert f["projections"] == 8 * n * d * d
    assert f["attention"] == 4 * n * n * d
    assert f["total"] == f["projections"] + f["attention"]
    with pytest.raises(ValueError, match="positive"):
        attention_flops(0, d)


@pytest.mark.parametrize("seed", [0, 1])
def test_sequence_cross_entropy(seed):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((3, 4, 5))
    y = rng.integers(0, 5, size=(3, 4))
    loss, grad = sequence_cross_entropy(Z, y)
    logp = np.log(scipy_softmax(Z, axis=-1))
    expected = -np.mean(np.take_along_axis(logp, y[..., None], -1))
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    num = numerical_gradient(lambda z: sequence_cross_entropy(z, y)[0], Z)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="labels"):
        sequence_cross_entropy(Z, y[:, :2])


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_multi_head_parameter_count_is_independent_of_heads(heads):
    mha = MultiHeadAttention(16, heads, np.random.default_rng(0))
    assert sum(p.size for p in mha.params.values()) == 4 * 16 * 16
    assert mha.params.keys() == mha.grads.keys()
