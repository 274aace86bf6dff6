"""Tests of m4ml.regularization against finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from m4ml.losses import softmax_cross_entropy
from m4ml.mlp import Affine, ReLU, Sequential, init_mlp, sgd_step, train
from m4ml.regularization import (
    BatchNorm,
    Dropout,
    LayerNorm,
    Penalized,
    add_penalty_gradients,
    batch_norm_backward,
    batch_norm_forward,
    dropout,
    layer_norm_backward,
    layer_norm_forward,
    shift_images,
    train_early_stopping,
    weight_penalty,
)
from m4ml.vector_calculus import numerical_gradient

SEEDS = [0, 1, 2]
SHAPES = [(2, 1), (5, 3), (16, 7)]


# ----------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_is_unbiased(p, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(5)
    n = 40_000
    out, mask = dropout(np.tile(x, (n, 1)), p, rng)
    # each column: mean of n draws with sd |x| sqrt(p / (1 - p))
    se = np.abs(x) * np.sqrt(p / (1 - p) / n)
    assert np.all(np.abs(out.mean(axis=0) - x) <= 5 * se)
    assert set(np.unique(mask)) <= {0.0, 1.0 / (1 - p)}
    assert np.allclose(out, np.tile(x, (n, 1)) * mask, rtol=0, atol=0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_keep_rate(p):
    rng = np.random.default_rng(3)
    _, mask = dropout(np.ones(200_000), p, rng)
    kept = np.mean(mask > 0)
    se = np.sqrt(p * (1 - p) / mask.size)
    assert abs(kept - (1 - p)) <= 5 * se


def test_dropout_eval_and_zero_p_are_identity():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    for out, mask in (dropout(x, 0.5, rng, False), dropout(x, 0.0, rng)):
        assert np.array_equal(out, x) and np.array_equal(mask, np.ones_like(x))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        dropout(np.ones(3), p, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(p, np.random.default_rng(0))


def test_dropout_needs_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        dropout(np.ones(3), 0.5, 0)
    with pytest.raises(TypeError, match="Generator"):
        Dropout(0.5, None)


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_layer_gradient(seed):
    layer = Dropout(0.3, np.random.default_rng(seed))
    x = np.random.default_rng(seed + 10).standard_normal((4, 6))
    G = np.random.default_rng(seed + 20).standard_normal((4, 6))
    out = layer.forward(x)
    mask = out / np.where(x == 0, 1, x)

    def f(v):  # the same mask: the loss is linear in x
        return float(np.sum(G * v * mask))

    assert np.allclose(
        layer.backward(G), numerical_gradient(f, x), rtol=1e-7, atol=1e-9
    )
    assert np.array_equal(layer.forward(x, training=False), x)


def test_dropout_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        Dropout(0.5, np.random.default_rng(0)).backward(np.ones((1, 1)))


# -------------------------------------------------------------- batch norm


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_forward_statistics(shape, seed):
    rng = np.random.default_rng(seed)
    x = 3.0 * rng.standard_normal(shape) + 2.0
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    out, _ = batch_norm_forward(x, gamma, beta, eps=0.0)
    assert np.allclose(out.mean(axis=0), beta, atol=1e-12)
    assert np.allclose(out.std(axis=0), np.abs(gamma), rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "fwd,bwd",
    [
        (batch_norm_forward, batch_norm_backward),
        (layer_norm_forward, layer_norm_backward),
    ],
)
def test_norm_backward_matches_finite_differences(shape, seed, fwd, bwd):
    if fwd is layer_norm_forward and shape[1] == 1:
        shape = (shape[0], 2)  # one feature per row: output is constant
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    gamma = rng.standard_normal(shape[1])
    beta = rng.standard_normal(shape[1])
    G = rng.standard_normal(shape)
    out, cache = fwd(x, gamma, beta)
    dx, dgamma, dbeta = bwd(G, cache)
    tol = {"rtol": 1e-6, "atol": 1e-8}  # central differences, h = 1e-6
    assert np.allclose(
        dx,
        numerical_gradient(lambda v: np.sum(G * fwd(v, gamma, beta)[0]), x),
        **tol,
    )
    assert np.allclose(
        dgamma,
        numerical_gradient(lambda g: np.sum(G * fwd(x, g, beta)[0]), gamma),
        **tol,
    )
    assert np.allclose(
        dbeta,
        numerical_gradient(lambda b: np.sum(G * fwd(x, gamma, b)[0]), beta),
        **tol,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_gradient_is_orthogonal_to_shift_and_scale(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((10, 4))
    out, cache = batch_norm_forward(x, np.ones(4), np.zeros(4), eps=0.0)
    dx, _, _ = batch_norm_backward(rng.standard_normal((10, 4)), cache)
    assert np.allclose(dx.sum(axis=0), 0, atol=1e-12)
    assert np.allclose((dx * x).sum(axis=0), 0, atol=1e-12)


def test_batch_norm_matches_sklearn_standard_scaler():
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(4).standard_normal((30, 5)) * 4 + 1
    out, _ = batch_norm_forward(x, np.ones(5), np.zeros(5), eps=0.0)
    assert np.allclose(out, StandardScaler().fit_transform(x), atol=1e-12)


def test_layer_norm_is_batch_norm_of_the_transpose():
    x = np.random.default_rng(5).standard_normal((6, 4))
    ln, _ = layer_norm_forward(x, np.ones(4), np.zeros(4))
    bn, _ = batch_norm_forward(x.T, np.ones(6), np.zeros(6))
    assert np.allclose(ln, bn.T, atol=1e-12)


@pytest.mark.parametrize(
    "x,gamma,beta,eps,match",
    [
        (np.ones(3), np.ones(3), np.zeros(3), 1e-5, "2-D"),
        (np.ones((2, 3)), np.ones(2), np.zeros(3), 1e-5, "shape"),
        (np.ones((2, 3)), np.ones(3), np.zeros(3), -1.0, "eps"),
        (np.ones((2, 3)), np.ones(3), np.zeros(3), 0.0, "zero variance"),
        (np.full((2, 3), np.nan), np.ones(3), np.zeros(3), 1e-5, "finite"),
    ],
)
def test_norm_forward_errors(x, gamma, beta, eps, match):
    with pytest.raises(ValueError, match=match):
        batch_norm_forward(x, gamma, beta, eps)
    with pytest.raises(ValueError, match=match):
        layer_norm_forward(x, gamma, beta, eps)


def test_norm_backward_rejects_bad_dout():
    _, cache = batch_norm_forward(np.eye(3), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="dout must have shape"):
        batch_norm_backward(np.ones((2, 3)), cache)
    with pytest.raises(ValueError, match="dout must have shape"):
        layer_norm_backward(np.ones((3, 2)), cache)


def test_batch_norm_layer_train_and_eval():
    rng = np.random.default_rng(6)
    bn = BatchNorm(3, momentum=0.5)
    x = rng.standard_normal((8, 3)) * 2 + 5
    out = bn.forward(x)
    assert np.allclose(out, batch_norm_forward(x, np.ones(3), np.zeros(3))[0])
    assert np.allclose(bn.running_mean, 0.5 * x.mean(axis=0))
    assert np.allclose(bn.running_var, 0.5 + 0.5 * x.var(axis=0))
    # evaluation: each row on its own, with the running statistics
    batch = bn.forward(x, training=False)
    rows = np.vstack([bn.forward(x[i : i + 1], False) for i in range(8)])
    assert np.allclose(batch, rows, rtol=1e-14)
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    assert np.allclose(batch, expected)


def test_batch_norm_running_statistics_converge():
    rng = np.random.default_rng(7)
    bn = BatchNorm(2)
    for _ in range(300):
        bn.forward(rng.normal([1.0, -2.0], [2.0, 0.5], size=(64, 2)))
    assert np.allclose(bn.running_mean, [1.0, -2.0], atol=0.15)
    assert np.allclose(bn.running_var, [4.0, 0.25], rtol=0.15)


@pytest.mark.parametrize("kwargs", [{"d": 0}, {"d": 2, "momentum": 1.0}])
def test_batch_norm_layer_errors(kwargs):
    with pytest.raises(ValueError, match="must"):
        BatchNorm(**kwargs)


def test_norm_layers_check_input():
    with pytest.raises(ValueError, match="columns"):
        BatchNorm(3).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="shape"):
        LayerNorm(3).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive"):
        LayerNorm(0)
    with pytest.raises(RuntimeError, match="before forward"):
        BatchNorm(2).backward(np.ones((1, 2)))


@pytest.mark.parametrize("seed", SEEDS)
def test_network_with_all_layers_gradient(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 5))
    y = rng.integers(0, 3, 12)
    drop = Dropout(0.4, np.random.default_rng(99))
    net = Penalized(
        [
            Affine(rng.standard_normal((5, 8))),
            BatchNorm(8),
            ReLU(),
            drop,
            Affine(rng.standard_normal((8, 6))),
            LayerNorm(6),
            Affine(rng.standard_normal((6, 3))),
        ],
        l2=0.3,
    )
    for layer in net.layers:  # non-trivial scales and shifts
        if "gamma" in layer.params:
            layer.params["gamma"][:] = rng.uniform(
                0.5, 2, layer.params["gamma"].shape
            )
            layer.params["beta"][:] = rng.standard_normal(
                layer.params["beta"].shape
            )

    def objective():
        drop.rng = np.random.default_rng(99)  # the same mask every time
        loss, dout = softmax_cross_entropy(net.forward(X), y)
        return loss + net.penalty(), dout

    _, dout = objective()
    net.backward(dout)
    for param, grad in net.parameters():
        claimed = grad.copy()

        def f(v, param=param):
            saved = param.copy()
            param[...] = v
            value = objective()[0]
            param[...] = saved
            return value

        numeric = numerical_gradient(f, param.copy())
        assert np.allclose(claimed, numeric, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------- penalties


@pytest.mark.parametrize("seed", SEEDS)
def test_penalty_value_and_gradient(seed):
    rng = np.random.default_rng(seed)
    net = init_mlp([4, 5, 3], rng)
    Ws = [layer.params["W"] for layer in net.layers if "W" in layer.params]
    expected = sum(0.35 * np.sum(W**2) + 0.2 * np.sum(np.abs(W)) for W in Ws)
    assert np.isclose(weight_penalty(net, l2=0.7, l1=0.2), expected)
    for layer in net.layers:
        for key in layer.grads:
            layer.grads[key] = np.zeros_like(layer.params[key])
    add_penalty_gradients(net, l2=0.7, l1=0.2)
    for layer in net.layers:
        if "W" in layer.params:
            W = layer.params["W"]

            def f(v):
                return 0.35 * np.sum(v**2) + 0.2 * np.sum(np.abs(v))

            assert np.allclose(
                layer.grads["W"], numerical_gradient(f, W), rtol=1e-6
            )
            assert np.all(layer.grads["b"] == 0)  # biases not penalised


def test_penalty_sees_nested_sequentials():
    inner = Sequential([Affine([[1.0, 2.0]])])
    outer = Sequential([inner, Affine([[2.0], [0.0]])])
    assert weight_penalty(outer, l1=1.0) == 5.0


@pytest.mark.parametrize("bad", [{"l2": -1.0}, {"l1": np.inf}])
def test_penalty_rejects_bad_strength(bad):
    net = init_mlp([2, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match=">= 0"):
        weight_penalty(net, **bad)
    with pytest.raises(ValueError, match=">= 0"):
        Penalized(net.layers, **bad)


@pytest.mark.parametrize("lam", [0.01, 0.1])
def test_weight_decay_on_a_dead_input(lam):
    # a feature that is always zero gets no data gradient: pure decay
    rng = np.random.default_rng(8)
    X = rng.standard_normal((40, 3))
    X[:, 1] = 0.0
    y = rng.integers(0, 2, 40)
    net = Penalized(init_mlp([3, 4, 2], rng).layers, l2=lam)
    w0 = net.layers[0].params["W"][1].copy()
    train(net, X, y, rng, lr=0.1, n_epochs=5, batch_size=10)
    steps = 5 * 4
    assert np.allclose(
        net.layers[0].params["W"][1], (1 - 0.1 * lam) ** steps * w0
    )


def test_penalized_train_reaches_the_ridge_solution():
    # linear least squares with an L2 penalty: SGD on the full batch
    # converges to (X^T X / N + lam I)^{-1} X^T y / N
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 3))
    t = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(30)

    def mse(out, target):
        r = out[:, 0] - target
        return 0.5 * float(np.mean(r**2)), r[:, None] / len(r)

    lam = 0.5
    net = Penalized([Affine(np.zeros((3, 1)))], l2=lam)
    net.layers[0].params["b"][:] = 0.0
    for _ in range(2000):
        loss, dout = mse(net.forward(X), t)
        net.backward(dout)
        net.layers[0].grads["b"][:] = 0.0  # no intercept
        sgd_step(net, 0.2)
    w = np.linalg.solve(X.T @ X / 30 + lam * np.eye(3), X.T @ t / 30)
    assert np.allclose(net.layers[0].params["W"][:, 0], w, rtol=1e-9)


# ---------------------------------------------------------- early stopping


def test_early_stopping_restores_best_epoch():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] + 0.8 * rng.standard_normal(30) > 0).astype(int)
    net = init_mlp([2, 32, 2], rng)
    h = train_early_stopping(
        net, X[:15], y[:15], rng, 0.5, 40, (X[15:], y[15:])
    )
    assert len(h["val"]) == 40
    assert h["best_val"] == min(h["val"])
    assert h["val"][h["best_epoch"] - 1] == h["best_val"]
    final, _ = softmax_cross_entropy(net.forward(X[15:], False), y[15:])
    assert np.isclose(final, h["best_val"], rtol=1e-12)


def test_early_stopping_patience():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((20, 2))
    y = rng.integers(0, 2, 20)
    net = init_mlp([2, 16, 2], rng)
    h = train_early_stopping(
        net, X[:10], y[:10], rng, 1.0, 200, (X[10:], y[10:]), patience=3
    )
    assert len(h["val"]) - h["best_epoch"] == 3 or len(h["val"]) == 200
    with pytest.raises(ValueError, match="patience"):
        train_early_stopping(net, X, y, rng, 0.1, 5, (X, y), patience=0)
    with pytest.raises(ValueError, match="max_epochs"):
        train_early_stopping(net, X, y, rng, 0.1, 0, (X, y))


# ------------------------------------------------------------ augmentation


@pytest.mark.parametrize("dy,dx", [(0, 1), (1, 0), (-1, 2), (2, -3), (0, 0)])
@pytest.mark.parametrize("side", [4, 8])
def test_shift_images_matches_scipy(dy, dx, side):
    X = np.random.default_rng(12).standard_normal((3, side * side))
    ours = shift_images(X, dy, dx, side)
    for img, out in zip(X, ours, strict=True):
        ref = scipy.ndimage.shift(
            img.reshape(side, side), (dy, dx), order=0, mode="constant"
        )
        assert np.array_equal(out.reshape(side, side), ref)


def test_shift_images_round_trip_keeps_the_interior():
    X = np.random.default_rng(13).standard_normal((2, 64))
    back = shift_images(shift_images(X, 1, -1), -1, 1)
    inner = np.zeros((8, 8), bool)
    inner[:7, 1:] = True
    assert np.array_equal(back[:, inner.ravel()], X[:, inner.ravel()])


@pytest.mark.parametrize(
    "X,dy,dx,match",
    [(np.ones((2, 63)), 0, 1, "shape"), (np.ones((2, 64)), 8, 0, "smaller")],
)
def test_shift_images_errors(X, dy, dx, match):
    with pytest.raises(ValueError, match=match):
        shift_images(X, dy, dx)
