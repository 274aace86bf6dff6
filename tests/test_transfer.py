"""Tests of m4ml.transfer against closed forms and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from m4ml.losses import softmax_cross_entropy
from m4ml.matrix_decompositions import low_rank_approximation
from m4ml.mlp import Affine, ReLU, Sequential, init_mlp, sgd_step, train
from m4ml.transfer import (
    Frozen,
    LoRAAffine,
    balanced_subset,
    best_low_rank_update,
    classifier_density_ratio,
    compare_transfer,
    fine_tune,
    gaussian_density_ratio,
    importance_weighted_risk,
    linear_probe,
    new_head,
    pretrain,
    split_body_head,
)
from m4ml.vector_calculus import numerical_gradient


def _toy(seed, n=60, d=3, k=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, k)), axis=1)
    return rng, X, y


# ------------------------------------------------------------------ LoRA


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape,rank", [((5, 4), 1), ((6, 3), 2), ((4, 7), 4)])
def test_lora_backward_matches_finite_differences(seed, shape, rank):
    rng = np.random.default_rng(seed)
    layer = LoRAAffine(
        rng.standard_normal(shape),
        rng.standard_normal(shape[1]),
        rank=rank,
        rng=rng,
    )
    layer.params["B"][...] = rng.standard_normal((rank, shape[1]))
    X = rng.standard_normal((7, shape[0]))
    C = rng.standard_normal((7, shape[1]))

    def loss(x=X):
        return 0.5 * np.sum(C * layer.forward(x) ** 2)

    dX = layer.backward(C * layer.forward(X))
    for name in ("A", "B"):
        param = layer.params[name]
        analytic = layer.grads[name].copy()

        def f(p, param=param):
            saved = param.copy()
            param[...] = p
            value = loss()
            param[...] = saved
            return value

        numeric = numerical_gradient(f, param.copy())
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        dX, numerical_gradient(loss, X.copy()), rtol=1e-6, atol=1e-8
    )


def test_lora_starts_at_pretrained_layer_and_gradient_of_A_vanishes():
    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    layer = LoRAAffine(W, b, rank=2, rng=rng)
    X = rng.standard_normal((6, 5))
    np.testing.assert_array_equal(layer.forward(X), Affine(W, b).forward(X))
    layer.backward(rng.standard_normal((6, 4)))
    np.testing.assert_array_equal(layer.grads["A"], np.zeros((5, 2)))
    assert np.linalg.norm(layer.grads["B"]) > 0


def test_lora_trains_only_A_and_B_and_update_has_rank_r():
    rng, X, y = _toy(4, d=6, k=5)
    W0 = rng.standard_normal((6, 5))
    layer = LoRAAffine(W0, rank=2, rng=rng)
    model = Sequential([layer])
    train(model, X, y, rng, lr=0.1, n_epochs=20)
    np.testing.assert_array_equal(layer.W, W0)
    assert sorted(layer.params) == ["A", "B"]
    assert np.linalg.matrix_rank(layer.weight() - W0) == 2


def test_lora_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="rank must be at most"):
        LoRAAffine(np.ones((3, 2)), rank=3, rng=rng)
    with pytest.raises(ValueError, match="positive integer"):
        LoRAAffine(np.ones((3, 2)), rank=0, rng=rng)
    with pytest.raises(ValueError, match="2-D"):
        LoRAAffine(np.ones(3), rank=1, rng=rng)
    with pytest.raises(ValueError, match="b must have shape"):
        LoRAAffine(np.ones((3, 2)), np.ones(3), rank=1, rng=rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        LoRAAffine(np.ones((3, 2)), rank=1, rng=0)
    layer = LoRAAffine(np.ones((3, 2)), rank=1, rng=rng)
    with pytest.raises(ValueError, match="input must have shape"):
        layer.forward(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        LoRAAffine(np.ones((3, 2)), rank=1, rng=rng).backward(np.ones((1, 2)))


# ------------------------------------------------------- Eckart-Young


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape,rank", [((8, 6), 2), ((5, 9), 1), ((4, 4), 3)])
def test_best_low_rank_update_is_truncated_svd(seed, shape, rank):
    rng = np.random.default_rng(seed)
    W0, Wt = rng.standard_normal(shape), rng.standard_normal(shape)
    A, B = best_low_rank_update(W0, Wt, rank)
    assert A.shape == (shape[0], rank) and B.shape == (rank, shape[1])
    np.testing.assert_allclose(
        A @ B, low_rank_approximation(Wt - W0, rank), rtol=1e-10, atol=1e-12
    )
    s = np.linalg.svd(Wt - W0, compute_uv=False)
    best = np.linalg.norm(W0 + A @ B - Wt) ** 2
    np.testing.assert_allclose(best, np.sum(s[rank:] ** 2), rtol=1e-10)
    for _ in range(50):
        Ar = rng.standard_normal(A.shape)
        Br = rng.standard_normal(B.shape)
        assert np.linalg.norm(W0 + Ar @ Br - Wt) ** 2 >= best - 1e-12


def test_best_low_rank_update_errors():
    with pytest.raises(ValueError, match="equal shape"):
        best_low_rank_update(np.ones((2, 3)), np.ones((3, 2)), 1)
    with pytest.raises(ValueError, match="at most 2"):
        best_low_rank_update(np.ones((2, 3)), np.ones((2, 3)), 3)
    with pytest.raises(ValueError, match="positive integer"):
        best_low_rank_update(np.ones((2, 3)), np.ones((2, 3)), 1.5)


# ------------------------------------------ probe, fine-tune, scratch


def test_frozen_layer_hides_parameters_but_passes_gradients():
    rng = np.random.default_rng(0)
    inner = Affine(rng.standard_normal((3, 2)))
    frozen = Frozen(inner)
    X = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(frozen.forward(X), inner.forward(X))
    G = rng.standard_normal((4, 2))
    np.testing.assert_array_equal(frozen.backward(G), G @ inner.params["W"].T)
    model = Sequential([frozen, ReLU(), Affine(np.ones((2, 2)))])
    assert model.n_parameters() == 6
    W_before = inner.params["W"].copy()
    model.backward(model.forward(X) * 0 + 1.0)
    sgd_step(model, 0.5)
    np.testing.assert_array_equal(inner.params["W"], W_before)
    with pytest.raises(TypeError, match="not a Layer"):
        Frozen(np.eye(2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frozen_fine_tune_equals_linear_probe(seed):
    rng, X, y = _toy(seed)
    net = init_mlp([3, 8, 4], rng)
    body, _ = split_body_head(net)
    probe = linear_probe(
        body,
        X,
        y,
        3,
        np.random.default_rng(seed + 10),
        lr=0.3,
        n_epochs=30,
        batch_size=16,
    )
    frozen = fine_tune(
        net,
        X,
        y,
        3,
        np.random.default_rng(seed + 10),
        lr=0.3,
        n_epochs=30,
        batch_size=16,
        freeze=True,
    )
    for key in ("W", "b"):
        np.testing.assert_allclose(
            frozen.layers[-1].params[key],
            probe.layers[-1].params[key],
            rtol=1e-12,
            atol=1e-14,
        )
    np.testing.assert_allclose(
        frozen.forward(X, False),
        probe.forward(X, False),
        rtol=1e-12,
        atol=1e-12,
    )


def test_linear_probe_converges_to_softmax_regression_on_features():
    # full-batch gradient descent on a convex problem: compare the loss
    # with scipy's minimum of the same (unpenalised, separable-free) loss
    from scipy.optimize import minimize

    rng = np.random.default_rng(5)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] + 0.8 * rng.standard_normal(80) > 0).astype(int)
    body = Sequential([Affine(np.eye(2))])
    probe = linear_probe(body, X, y, 2, rng, lr=0.5, n_epochs=3000)
    head = probe.layers[-1]
    value = softmax_cross_entropy(X @ head.params["W"] + head.params["b"], y)[
        0
    ]

    def f(theta):
        W, b = theta[:4].reshape(2, 2), theta[4:]
        return softmax_cross_entropy(X @ W + b, y)[0]

    best = minimize(f, np.zeros(6), method="BFGS", tol=1e-10).fun
    assert value == pytest.approx(best, abs=1e-6)


def test_fine_tune_does_not_change_the_pretrained_model():
    rng, X, y = _toy(1)
    net = init_mlp([3, 8, 4], rng)
    before = [p.copy() for p, _ in net.parameters()]
    tuned = fine_tune(net, X, y, 3, rng, lr=0.3, n_epochs=5)
    for p, (q, _) in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    assert tuned.layers[-1].params["W"].shape == (8, 3)
    assert any(
        not np.array_equal(p, q)
        for p, (q, _) in zip(before[:2], tuned.parameters(), strict=False)
    )


def test_split_body_head_and_errors():
    net = init_mlp([3, 5, 2], np.random.default_rng(0))
    body, head = split_body_head(net)
    assert head is net.layers[-1] and body.layers[0] is net.layers[0]
    with pytest.raises(ValueError, match="at least 2 layers"):
        split_body_head(Sequential([Affine(np.eye(2))]))
    with pytest.raises(ValueError, match="Affine head"):
        split_body_head(Sequential([Affine(np.eye(2)), ReLU()]))
    with pytest.raises(ValueError, match="positive integer"):
        new_head(0, 3, np.random.default_rng(0))


def test_balanced_subset():
    y = np.repeat([0, 1, 2], [5, 6, 7])
    idx = balanced_subset(y, 4, np.random.default_rng(0))
    assert len(set(idx.tolist())) == 12
    np.testing.assert_array_equal(np.bincount(y[idx]), [4, 4, 4])
    with pytest.raises(ValueError, match="fewer than"):
        balanced_subset(y, 6, np.random.default_rng(0))


def test_pretrain_and_compare_transfer():
    rng, X, y = _toy(7, n=120, k=2)
    net = pretrain(X, y, [8], 2, rng, lr=0.3, n_epochs=30)
    res = compare_transfer(
        net, (X, y), (X, y), 5, [0, 1, 2], [8], lr=0.3, n_epochs=50
    )
    assert sorted(res) == ["fine-tune", "probe", "scratch"]
    for acc in res.values():
        assert acc.shape == (3,) and np.all((acc >= 0) & (acc <= 1))
    # same-task transfer: the pretrained features already separate the data
    assert res["probe"].mean() > 0.8
    with pytest.raises(ValueError, match="seeds"):
        compare_transfer(net, (X, y), (X, y), 5, [], [8])
    with pytest.raises(ValueError, match="2-D"):
        pretrain(np.ones(4), [0, 1, 0, 1], [2], 2, rng)


# ------------------------------------------------ importance weighting


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_gaussian_density_ratio_matches_scipy(d, sigma):
    rng = np.random.default_rng(d)
    mp, mq = rng.standard_normal(d), rng.standard_normal(d)
    x = rng.standard_normal((10, d))
    p = stats.multivariate_normal(mp, sigma**2 * np.eye(d)).pdf(x)
    q = stats.multivariate_normal(mq, sigma**2 * np.eye(d)).pdf(x)
    np.testing.assert_allclose(
        gaussian_density_ratio(x, mp, mq, sigma), q / p, rtol=1e-10
    )


@pytest.mark.parametrize("delta", [0.5, 1.0])
def test_importance_weighted_risk_is_unbiased_monte_carlo(delta):
    # E_q[x^2] = delta^2 + 1 from source samples of N(0, 1)
    rng = np.random.default_rng(int(10 * delta))
    x = rng.standard_normal(50_000)
    est, se = importance_weighted_risk(
        x**2, gaussian_density_ratio(x, 0.0, delta)
    )
    assert abs(est - (delta**2 + 1)) <= 4 * se
    # and the second moment of the weights is exp(delta^2)
    w = gaussian_density_ratio(x, 0.0, delta)
    se2 = np.std(w**2, ddof=1) / np.sqrt(len(w))
    assert abs(np.mean(w**2) - np.exp(delta**2)) <= 4 * se2


def test_classifier_density_ratio_recovers_gaussian_ratio():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((5000, 2))
    xt = rng.standard_normal((3000, 2)) + np.array([0.5, -0.5])
    grid = rng.standard_normal((20, 2)) * 0.7
    np.testing.assert_allclose(
        classifier_density_ratio(xs, xt, X=grid),
        gaussian_density_ratio(grid, [0.0, 0.0], [0.5, -0.5]),
        rtol=0.15,
    )
    assert classifier_density_ratio(xs, xt).shape == (5000,)


def test_importance_weighting_errors():
    with pytest.raises(ValueError, match="non-negative"):
        importance_weighted_risk([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="n >= 2"):
        importance_weighted_risk([1.0], [1.0])
    with pytest.raises(ValueError, match="sigma"):
        gaussian_density_ratio([0.0], 0.0, 1.0, sigma=0.0)
    with pytest.raises(ValueError, match="means"):
        gaussian_density_ratio(np.ones((3, 2)), 0.0, 1.0)
    with pytest.raises(ValueError, match="equal width"):
        classifier_density_ratio(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="X must have shape"):
        classifier_density_ratio(
            np.ones((3, 2)), np.ones((3, 2)), X=np.ones((2, 3))
        )
