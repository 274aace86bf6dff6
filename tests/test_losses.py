"""Tests of m4ml.losses against scipy and finite differences."""

import numpy as np
import pytest
import scipy.special
import scipy.stats

from m4ml.losses import (
    ACTIVATIONS,
    activation_layer,
    binary_cross_entropy_with_logits,
    cosine_decay,
    gelu,
    gelu_grad,
    gelu_tanh,
    huber,
    huber_loss,
    leaky_relu,
    mse_loss,
    normal_cdf,
    softmax_cross_entropy,
    softplus,
    step_decay,
)
from m4ml.mlp import Affine, Sequential, train
from m4ml.vector_calculus import numerical_gradient


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1, 2), (5, 3), (16, 10)])
def test_softmax_cross_entropy_matches_scipy_and_finite_differences(
    seed, shape
):
    rng = np.random.default_rng(seed)
    Z = 3 * rng.standard_normal(shape)
    y = rng.integers(0, shape[1], size=shape[0])
    loss, grad = softmax_cross_entropy(Z, y)
    logp = scipy.special.log_softmax(Z, axis=1)
    assert loss == pytest.approx(-logp[np.arange(shape[0]), y].mean())
    fd = numerical_gradient(lambda W: softmax_cross_entropy(W, y)[0], Z)
    np.testing.assert_allclose(grad, fd, atol=1e-8)
    # each row of the gradient sums to zero (probabilities minus one-hot)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    loss, grad = softmax_cross_entropy(Z, np.array([1, 2]))
    expected = (2000.0 + (1000.0 + np.log1p(np.exp(-1.0)) - 999.0)) / 2
    assert loss == pytest.approx(expected)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    ("logits", "labels", "match"),
    [
        (np.zeros(3), np.zeros(3, int), "2-D"),
        (np.zeros((2, 3)), np.zeros(3, int), "shape"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), "integer"),
        (np.zeros((2, 3)), np.array([0, 3]), "0..2"),
        (np.array([[np.nan, 0.0]]), np.array([0]), "finite"),
        (np.zeros((0, 3)), np.zeros(0, int), "empty"),
    ],
)
def test_softmax_cross_entropy_rejects_bad_input(logits, labels, match):
    with pytest.raises(ValueError, match=match):
        softmax_cross_entropy(logits, labels)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 7, 50])
def test_binary_cross_entropy_matches_closed_form_and_finite_differences(
    seed, n
):
    rng = np.random.default_rng(seed)
    z = 4 * rng.standard_normal(n)
    y = rng.uniform(size=n)  # soft targets are allowed
    loss, grad = binary_cross_entropy_with_logits(z, y)
    p = scipy.special.expit(z)
    assert loss == pytest.approx(
        np.mean(-y * np.log(p) - (1 - y) * np.log1p(-p))
    )
    fd = numerical_gradient(
        lambda v: binary_cross_entropy_with_logits(v, y)[0], z
    )
    np.testing.assert_allclose(grad, fd, atol=1e-8)


def test_binary_cross_entropy_is_stable_for_huge_logits():
    loss, grad = binary_cross_entropy_with_logits(
        np.array([800.0, -800.0, 800.0]), np.array([1.0, 0.0, 0.0])
    )
    assert loss == pytest.approx(800.0 / 3)
    np.testing.assert_allclose(grad, [0.0, 0.0, 1 / 3], atol=1e-300)


@pytest.mark.parametrize(
    ("z", "y", "match"),
    [
        (np.zeros((2, 2)), np.zeros((2, 2)), "1-D"),
        (np.zeros(3), np.zeros(2), "shape"),
        (np.zeros(2), np.array([0.0, 1.5]), r"\[0, 1\]"),
        (np.array([np.inf, 0.0]), np.zeros(2), "finite"),
    ],
)
def test_binary_cross_entropy_rejects_bad_input(z, y, match):
    with pytest.raises(ValueError, match=match):
        binary_cross_entropy_with_logits(z, y)


# ---------------------------------------------------------- activations


def _away_from_kink(rng, shape):
    x = 3 * rng.standard_normal(shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)  # ReLU kinks at 0


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_activation_derivatives_match_finite_differences(name, seed):
    rng = np.random.default_rng(seed)
    f, df = ACTIVATIONS[name]
    x = _away_from_kink(rng, (4, 5))
    fd = numerical_gradient(lambda v: np.sum(f(v)), x)
    np.testing.assert_allclose(df(x), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_activations_match_references(seed):
    rng = np.random.default_rng(seed)
    x = 20 * rng.standard_normal(200)
    np.testing.assert_allclose(softplus(x), np.logaddexp(0.0, x), rtol=1e-14)
    np.testing.assert_allclose(
        normal_cdf(x), scipy.stats.norm.cdf(x), rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        gelu(x), x * scipy.special.ndtr(x), rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        leaky_relu(x, 0.2), np.where(x > 0, x, 0.2 * x), rtol=0
    )
    s, ds = ACTIVATIONS["sigmoid"]
    np.testing.assert_allclose(s(x), scipy.special.expit(x), rtol=1e-14)
    assert np.all(ds(x) <= 0.25)


def test_gelu_tanh_approximation_error_is_small_but_not_zero():
    x = np.linspace(-10, 10, 20001)
    err = np.max(np.abs(gelu(x) - gelu_tanh(x)))
    assert 1e-4 < err < 5e-4
    assert gelu_grad(np.array([0.0]))[0] == pytest.approx(0.5)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_layer_backward_and_training(name):
    rng = np.random.default_rng(3)
    x = _away_from_kink(rng, (6, 3))
    layer = activation_layer(name)
    grad_out = rng.standard_normal((6, 3))
    layer.forward(x)
    fd = numerical_gradient(lambda v: np.sum(layer.forward(v) * grad_out), x)
    layer.forward(x)
    np.testing.assert_allclose(
        layer.backward(grad_out), fd, rtol=1e-6, atol=1e-8
    )
    net = Sequential(
        [Affine(rng.standard_normal((2, 8))), layer, Affine(np.ones((8, 2)))]
    )
    X = rng.standard_normal((40, 2))
    hist = train(net, X, (X[:, 0] > 0).astype(int), rng, 0.1, 3)
    assert np.all(np.isfinite(hist["train"]))


def test_activation_layer_rejects_unknown_names_and_backward_first():
    with pytest.raises(ValueError, match="one of"):
        activation_layer("swish")
    with pytest.raises(RuntimeError, match="before forward"):
        activation_layer("gelu").backward(np.ones((1, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        leaky_relu([1.0], alpha=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        gelu([np.nan])


# ---------------------------------------------------- regression losses


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1,), (9,), (7, 3)])
def test_mse_and_huber_match_references_and_finite_differences(seed, shape):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal(shape), 2 * rng.standard_normal(shape)
    n = shape[0]
    loss, grad = mse_loss(pred, target)
    assert loss == pytest.approx(0.5 * np.sum((pred - target) ** 2) / n)
    fd = numerical_gradient(lambda p: mse_loss(p, target)[0], pred)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    for delta in (0.3, 1.0, 5.0):
        loss, grad = huber_loss(pred, target, delta)
        ref = scipy.special.huber(delta, pred - target)
        assert loss == pytest.approx(np.sum(ref) / n, rel=1e-13)
        fd = numerical_gradient(
            lambda p, d=delta: huber_loss(p, target, d)[0], pred
        )
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_huber_is_between_linear_and_quadratic():
    r = np.linspace(-5, 5, 101)
    h = huber(r, 1.0)
    assert np.all(h <= 0.5 * r**2 + 1e-15)
    assert np.all(h >= np.abs(r) - 0.5 - 1e-15)


@pytest.mark.parametrize(
    ("pred", "target", "match"),
    [
        (np.zeros(3), np.zeros(2), "shape"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), "1-D or 2-D"),
        (np.zeros(0), np.zeros(0), "non-empty"),
        (np.array([np.inf]), np.zeros(1), "finite"),
    ],
)
def test_regression_losses_reject_bad_input(pred, target, match):
    with pytest.raises(ValueError, match=match):
        mse_loss(pred, target)
    with pytest.raises(ValueError, match=match):
        huber_loss(pred, target)


def test_huber_rejects_nonpositive_delta():
    with pytest.raises(ValueError, match="delta"):
        huber_loss(np.zeros(2), np.zeros(2), delta=0.0)


# ---------------------------------------------------------- schedules


@pytest.mark.parametrize(("drop", "factor"), [(1, 0.5), (3, 0.1), (10, 1.0)])
def test_step_decay_matches_a_loop(drop, factor):
    t = np.arange(25)
    expected, lr = [], 0.3
    for k in t:
        if k > 0 and k % drop == 0:
            lr *= factor
        expected.append(lr)
    np.testing.assert_allclose(step_decay(t, 0.3, drop, factor), expected)


@pytest.mark.parametrize("n_warmup", [0, 1, 5])
@pytest.mark.parametrize("lr_min", [0.0, 0.01])
def test_cosine_decay_endpoints_warmup_and_monotonicity(n_warmup, lr_min):
    n = 50
    lr = cosine_decay(np.arange(n + 1), n, 0.5, lr_min, n_warmup)
    assert lr[n_warmup] == pytest.approx(0.5)
    assert lr[n] == pytest.approx(lr_min, abs=1e-15)
    assert np.all(np.diff(lr[n_warmup:]) <= 0)
    if n_warmup:
        np.testing.assert_allclose(
            lr[:n_warmup], 0.5 * np.arange(1, n_warmup + 1) / n_warmup
        )
    mid = n_warmup + (n - n_warmup) / 2
    if mid == int(mid):
        assert lr[int(mid)] == pytest.approx((0.5 + lr_min) / 2)
    assert isinstance(cosine_decay(3, n, 0.5), float)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: step_decay(np.array([0.5]), 1.0, 2), "integer"),
        (lambda: step_decay(np.array([-1]), 1.0, 2), "non-negative"),
        (lambda: step_decay(np.arange(3), 1.0, 0), "drop_every"),
        (lambda: cosine_decay(np.arange(3), 1, 1.0), "exceed"),
        (lambda: cosine_decay(np.arange(3), 5, 1.0, n_warmup=5), "n_warmup"),
        (lambda: cosine_decay(np.arange(3), 5, 1.0, lr_min=2.0), "lr_min"),
    ],
)
def test_schedules_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
