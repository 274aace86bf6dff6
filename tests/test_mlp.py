"""Tests of m4ml.mlp: every backward pass against finite differences."""

import numpy as np
import pytest

from m4ml.autodiff import gradient as autodiff_gradient
from m4ml.losses import softmax_cross_entropy
from m4ml.mlp import (
    Affine,
    Layer,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    accuracy,
    activation_pattern,
    backprop_gradients,
    count_linear_pieces,
    finite_difference_gradients,
    init_mlp,
    layer_outputs,
    matmul_flops,
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


# ---------------------------------------------------------------------------
# Gradient checking, linear pieces and cost (chapter 16's helpers)
# ---------------------------------------------------------------------------


def _squared_error(out, target):
    diff = out - target
    return 0.5 * float(np.mean(np.sum(diff**2, axis=1))), diff / len(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("activation", "loss", "kind"),
    [
        ("tanh", softmax_cross_entropy, "labels"),
        ("sigmoid", softmax_cross_entropy, "labels"),
        ("tanh", _squared_error, "targets"),
        ("relu", _squared_error, "targets"),
    ],
)
def test_backprop_gradients_match_finite_differences(
    seed, activation, loss, kind
):
    rng = np.random.default_rng(seed)
    net = init_mlp([4, 6, 5, 3], rng, activation=activation)
    for layer in net.layers[::2]:
        # random biases: with zero biases an all-zero hidden row puts the
        # next ReLU exactly on its kink, where differences average slopes
        layer.params["b"][...] = 0.1 * rng.standard_normal(
            layer.params["b"].shape
        )
    X = rng.standard_normal((7, 4))
    y = rng.integers(0, 3, 7) if kind == "labels" else rng.normal(size=(7, 3))
    before = [p.copy() for p, _ in net.parameters()]
    value, grads = backprop_gradients(net, X, y, loss)
    numeric = finite_difference_gradients(net, X, y, loss)
    assert value == pytest.approx(loss(net.forward(X), y)[0], rel=1e-14)
    assert len(grads) == len(numeric) == 6
    for g, n in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)
    for p, (q, _) in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)  # parameters restored


@pytest.mark.parametrize("seed", [3, 4])
def test_backprop_gradients_match_autodiff(seed):
    rng = np.random.default_rng(seed)
    net = init_mlp([5, 8, 4], rng, activation="tanh")
    X = rng.standard_normal((9, 5))
    T = rng.standard_normal((9, 4))
    _, grads = backprop_gradients(net, X, T, _squared_error)

    def f(W1, b1, W2, b2):
        out = (X @ W1 + b1).tanh() @ W2 + b2
        return 0.5 * ((out - T) ** 2).sum() / len(X)

    engine = autodiff_gradient(f, *(p for p, _ in net.parameters()))
    for g, e in zip(grads, engine, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def test_finite_differences_catch_a_wrong_backward_pass():
    rng = np.random.default_rng(5)
    net = init_mlp([3, 4, 2], rng, activation="tanh")
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    _, good = backprop_gradients(net, X, y)
    numeric = finite_difference_gradients(net, X, y)
    bad = good[0].T.reshape(good[0].shape)  # a transposition bug
    assert not np.allclose(bad, numeric[0], rtol=1e-3)


def test_layer_outputs_end_with_the_forward_pass():
    rng = np.random.default_rng(6)
    net = init_mlp([3, 5, 5, 2], rng)
    X = rng.standard_normal((4, 3))
    outs = layer_outputs(net, X)
    assert len(outs) == len(net.layers) == 5
    np.testing.assert_array_equal(outs[-1], net.forward(X))
    np.testing.assert_array_equal(outs[1], np.maximum(outs[0], 0))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("width", [1, 3, 10])
def test_one_hidden_layer_has_at_most_width_plus_one_pieces(seed, width):
    rng = np.random.default_rng(seed)
    net = init_mlp([1, width, 1], rng)
    net.layers[0].params["b"] = rng.standard_normal(width)
    t = np.linspace(-4, 4, 4001)
    W, b = net.layers[0].params["W"][0], net.layers[0].params["b"]
    kinks = -b / W
    expected = 1 + np.count_nonzero((kinks > t[0]) & (kinks < t[-1]))
    assert count_linear_pieces(net, t) == expected <= width + 1


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_composed_tent_maps_have_two_to_the_depth_pieces(depth):
    layers = []
    for _ in range(depth):
        # tent(x) = 2 relu(x) - 4 relu(x - 1/2) on [0, 1]
        layers += [Affine([[1.0, 1.0]], [0.0, -0.5]), ReLU()]
        layers += [Affine([[2.0], [-4.0]])]
    net = Sequential(layers)
    t = np.linspace(0, 1, 2**depth * 64 + 1)[1:-1] + 1e-9
    assert count_linear_pieces(net, t) == 2**depth
    out = net.forward(t[:, None])[:, 0]
    assert 0 <= out.min() and out.max() <= 1 + 1e-12


def test_a_relu_network_is_affine_where_the_pattern_is_constant():
    rng = np.random.default_rng(7)
    net = init_mlp([1, 6, 6, 1], rng)
    t = np.linspace(-3, 3, 3001)
    y = net.forward(t[:, None])[:, 0]
    pattern = activation_pattern(net, t[:, None])
    same = np.all(pattern[2:] == pattern[:-2], axis=1) & np.all(
        pattern[1:-1] == pattern[:-2], axis=1
    )
    second = y[2:] - 2 * y[1:-1] + y[:-2]
    np.testing.assert_allclose(second[same], 0, atol=1e-12)


@pytest.mark.parametrize(("sizes", "n"), [([4, 8, 3], 10), ([64, 32, 10], 7)])
def test_matmul_flops_follow_the_layer_shapes(sizes, n):
    net = init_mlp(sizes, np.random.default_rng(0))
    forward, backward = matmul_flops(net, n)
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    assert forward == sum(2 * n * a * b for a, b in pairs)
    assert backward == 2 * forward - 2 * n * sizes[0] * sizes[1]
    assert forward < backward < 2 * forward


def test_he_initialisation_keeps_the_second_moment_through_depth():
    rng = np.random.default_rng(8)
    net = init_mlp([500] + [500] * 10, rng, init="he")
    outs = layer_outputs(net, rng.standard_normal((200, 500)))
    pre = [
        o
        for layer, o in zip(net.layers, outs, strict=True)
        if isinstance(layer, Affine)
    ]
    q = np.array([np.mean(z**2) for z in pre])
    # each layer multiplies q by an average of 500 chi-square-like terms
    np.testing.assert_allclose(q / 2, 1, rtol=0.35)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: activation_pattern(
                Sequential([Affine(np.eye(2))]), np.ones((1, 2))
            ),
            ValueError,
            "no ReLU",
        ),
        (
            lambda: count_linear_pieces(
                init_mlp([1, 2, 1], np.random.default_rng(0)), [1.0, 0.0]
            ),
            ValueError,
            "increasing",
        ),
        (
            lambda: layer_outputs(Affine(np.eye(2)), np.ones((1, 2))),
            TypeError,
            "Sequential",
        ),
        (
            lambda: matmul_flops(
                init_mlp([2, 2], np.random.default_rng(0)), 0
            ),
            ValueError,
            "positive",
        ),
    ],
)
def test_helpers_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
