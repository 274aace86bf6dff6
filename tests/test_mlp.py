"""Tests of m4ml.mlp: every backward pass against finite differences."""

import numpy as np
import pytest

from m4ml.losses import softmax_cross_entropy
from m4ml.mlp import (
    Affine,
    Layer,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    accuracy,
    init_mlp,
    sgd_step,
    train,
)
from m4ml.vector_calculus import numerical_gradient


def _loss_of_output(model, X, weights):
    """A scalar loss <weights, model(X)> whose output gradient is weights."""
    return float(np.sum(weights * model.forward(X)))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_backward_matches_finite_differences_for_every_parameter(
    seed, activation
):
    rng = np.random.default_rng(seed)
    net = init_mlp([3, 5, 4, 2], rng, activation=activation)
    X = rng.standard_normal((6, 3))
    G = rng.standard_normal((6, 2))
    net.forward(X)
    dX = net.backward(G)
    for param, grad in net.parameters():
        original = param.copy()

        def f(p, param=param):
            param[...] = p
            return _loss_of_output(net, X, G)

        fd = numerical_gradient(f, original)
        param[...] = original
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    fd_x = numerical_gradient(lambda x: _loss_of_output(net, x, G), X)
    np.testing.assert_allclose(dX, fd_x, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("layer", [ReLU(), Tanh(), Sigmoid()])
def test_activations_match_numpy(layer):
    x = np.linspace(-3, 3, 13).reshape(1, -1)
    reference = {
        ReLU: np.maximum(x, 0),
        Tanh: np.tanh(x),
        Sigmoid: 1 / (1 + np.exp(-x)),
    }[type(layer)]
    np.testing.assert_allclose(layer.forward(x), reference, rtol=1e-15)


def test_sigmoid_is_stable_for_huge_inputs():
    out = Sigmoid().forward(np.array([[-1000.0, 1000.0]]))
    np.testing.assert_array_equal(out, [[0.0, 1.0]])


@pytest.mark.parametrize(("init", "fan"), [("he", "in"), ("xavier", "avg")])
def test_initialisation_has_the_stated_variance(init, fan):
    rng = np.random.default_rng(0)
    net = init_mlp([400, 600], rng, init=init)
    W = net.layers[0].params["W"]
    expected = 2 / 400 if fan == "in" else 2 / 1000
    # the sample variance of 240,000 normals is within 1% of the truth
    assert W.var() == pytest.approx(expected, rel=0.01)


def test_training_learns_a_separable_problem_and_sgd_moves_downhill():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # XOR-like: needs a hidden layer
    net = init_mlp([2, 16, 2], rng)
    before, _ = softmax_cross_entropy(net.forward(X), y)
    hist = train(net, X, y, rng, lr=0.3, n_epochs=150, batch_size=20)
    after, _ = softmax_cross_entropy(net.forward(X), y)
    assert after < 0.5 * before
    assert accuracy(net, X, y) > 0.9
    assert len(hist["train"]) == 150


def test_train_reports_validation_loss():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    y = rng.integers(0, 2, 40)
    hist = train(
        init_mlp([3, 4, 2], rng), X, y, rng, 0.1, 3, validation=(X, y)
    )
    assert len(hist["val"]) == 3 and all(np.isfinite(hist["val"]))


def test_a_huge_learning_rate_fails_loudly():
    rng = np.random.default_rng(3)
    X = 10 * rng.standard_normal((64, 4))
    y = rng.integers(0, 3, 64)
    with pytest.raises(FloatingPointError, match="too large"):
        train(init_mlp([4, 32, 3], rng), X, y, rng, lr=1e6, n_epochs=50)


def test_sgd_step_moves_against_the_gradient():
    layer = Affine(np.ones((2, 2)))
    net = Sequential([layer])
    net.forward(np.ones((1, 2)))
    net.backward(np.ones((1, 2)))
    sgd_step(net, 0.5)
    np.testing.assert_allclose(layer.params["W"], 0.5)
    np.testing.assert_allclose(layer.params["b"], -0.5)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: Affine(np.ones(3)), ValueError, "2-D"),
        (lambda: Affine(np.ones((2, 3)), np.ones(2)), ValueError, r"\(3,\)"),
        (
            lambda: Affine(np.ones((2, 3))).forward(np.ones((1, 4))),
            ValueError,
            r"\(N, 2\)",
        ),
        (lambda: ReLU().backward(np.ones(2)), RuntimeError, "before"),
        (lambda: Sequential([]), ValueError, "at least one"),
        (lambda: Sequential([np.eye(2)]), TypeError, "not a Layer"),
        (
            lambda: init_mlp([3], np.random.default_rng(0)),
            ValueError,
            "two",
        ),
        (
            lambda: init_mlp([3, 2], np.random.default_rng(0), "gelu"),
            ValueError,
            "activation",
        ),
        (
            lambda: init_mlp([3, 2], np.random.default_rng(0), init="lecun"),
            ValueError,
            "init",
        ),
        (lambda: init_mlp([3, 2], 0), TypeError, "Generator"),
        (
            lambda: sgd_step(Sequential([Affine(np.eye(2))]), 0.0),
            ValueError,
            "positive",
        ),
        (
            lambda: train(
                Sequential([Affine(np.eye(2))]),
                np.ones((3, 2)),
                np.zeros(2, int),
                np.random.default_rng(0),
                0.1,
                1,
            ),
            ValueError,
            "rows",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_layer_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        Layer().forward(np.ones((1, 1)))
