"""Tests of m4ml.rnn: backpropagation through time against finite
differences, clipping, Jacobian products and the memory task."""

import math

import numpy as np
import pytest

from m4ml.rnn import (
    clip_grad_norm,
    init_lstm,
    init_rnn,
    jacobian_product_norms,
    lstm_backward,
    lstm_forward,
    memory_task,
    rnn_backward,
    rnn_forward,
    rnn_step_jacobians,
    sequence_loss,
    train_memory,
)
from m4ml.vector_calculus import numerical_gradient, numerical_jacobian

# Central differences with h = 1e-6 on O(1) functions: truncation O(h^2)
# and round-off O(eps / h) give absolute errors near 1e-9.
RTOL, ATOL = 1e-6, 1e-8


def _random_problem(cell, seed, T, N=3, D=2, H=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    c0 = 0.5 * rng.standard_normal((N, H))
    G = rng.standard_normal((T, N, H))  # loss = <G, hs>
    if cell == "rnn":
        params = init_rnn(D, H, rng, rho=1.1)
        params["b"] = 0.1 * rng.standard_normal(H)
    else:
        params = init_lstm(D, H, rng, forget_bias=0.5)
        params["b"] += 0.1 * rng.standard_normal(4 * H)
    return x, h0, c0, G, params


def _run(cell, x, h0, c0, params):
    if cell == "rnn":
        return rnn_forward(x, h0, params)
    return lstm_forward(x, h0, c0, params)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("T", [1, 2, 7])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_bptt_matches_finite_differences(cell, T, seed):
    x, h0, c0, G, params = _random_problem(cell, seed, T)
    hs, cache = _run(cell, x, h0, c0, params)
    back = rnn_backward if cell == "rnn" else lstm_backward
    grads = back(G, cache)

    def loss(**kw):
        args = {"x": x, "h0": h0, "c0": c0, "params": params} | kw
        hs, _ = _run(cell, args["x"], args["h0"], args["c0"], args["params"])
        return float(np.sum(G * hs))

    for key in ("W", "U", "b"):
        num = numerical_gradient(
            lambda v, key=key: loss(params=params | {key: v}), params[key]
        )
        np.testing.assert_allclose(grads[key], num, rtol=RTOL, atol=ATOL)
    num_x = numerical_gradient(lambda v: loss(x=v), x)
    np.testing.assert_allclose(grads["x"], num_x, rtol=RTOL, atol=ATOL)
    num_h0 = numerical_gradient(lambda v: loss(h0=v), h0)
    np.testing.assert_allclose(grads["h0"], num_h0, rtol=RTOL, atol=ATOL)
    if cell == "lstm":
        num_c0 = numerical_gradient(lambda v: loss(c0=v), c0)
        np.testing.assert_allclose(grads["c0"], num_c0, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sequence_loss_gradients_for_every_parameter(cell, seed):
    rng = np.random.default_rng(seed)
    base = init_rnn(3, 4, rng) if cell == "rnn" else init_lstm(3, 4, rng)
    params = base | {
        "V": rng.standard_normal((3, 4)),
        "c": rng.standard_normal(3),
    }
    x, y = memory_task(5, 4, rng, n_symbols=3, noise=0.5)
    _, grads = sequence_loss(cell, params, x, y)
    assert sorted(grads) == sorted(params)
    for key in params:
        num = numerical_gradient(
            lambda v, key=key: sequence_loss(cell, params | {key: v}, x, y)[0],
            params[key],
        )
        np.testing.assert_allclose(grads[key], num, rtol=RTOL, atol=ATOL)


def test_rnn_forward_matches_a_plain_loop():
    x, h0, _, _, params = _random_problem("rnn", 3, 5)
    hs, _ = rnn_forward(x, h0, params)
    for n in range(x.shape[1]):
        h = h0[n]
        for t in range(len(x)):
            h = np.tanh(params["W"] @ h + params["U"] @ x[t, n] + params["b"])
            np.testing.assert_allclose(hs[t, n], h, rtol=1e-14, atol=1e-15)


def test_lstm_with_closed_forget_gate_and_open_input_is_reset():
    # forget gate -> 0 and input gate -> 1: c_t = g_t, memory is erased
    rng = np.random.default_rng(4)
    H = 3
    params = init_lstm(2, H, rng)
    params["W"][:] = 0.0
    params["b"][:H] = 50.0  # input gate open
    params["b"][H : 2 * H] = -50.0  # forget gate closed
    x = rng.standard_normal((4, 2, 2))
    c0 = 10.0 * np.ones((2, H))
    hs, cache = lstm_forward(x, np.zeros((2, H)), c0, params)
    g = np.tanh(x @ params["U"][3 * H :].T + params["b"][3 * H :])
    np.testing.assert_allclose(cache["cs"], g, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstm_cell_gradient_is_product_of_forget_gates(seed):
    # With W = 0 the hidden state does not feed back, so the gradient of
    # h_T reaches c_0 only along the cell: through o_T tanh'(c_T) and
    # then the forget gates f_T, ..., f_1.
    rng = np.random.default_rng(seed)
    H, T = 3, 8
    params = init_lstm(2, H, rng, forget_bias=2.0)
    params["W"][:] = 0.0
    x = rng.standard_normal((T, 1, 2))
    z = np.zeros((1, H))
    c0 = rng.standard_normal((1, H))
    hs, cache = lstm_forward(x, z, c0, params)
    dhs = np.zeros_like(hs)
    dhs[-1] = rng.standard_normal((1, H))
    grads = lstm_backward(dhs, cache)
    f = cache["gates"][:, 0, H : 2 * H]
    o_T = cache["gates"][-1, 0, 2 * H : 3 * H]
    tc_T = np.tanh(cache["cs"][-1, 0])
    expected = dhs[-1, 0] * o_T * (1 - tc_T**2) * f.prod(axis=0)
    np.testing.assert_allclose(grads["c0"][0], expected, rtol=1e-13)


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.3])
@pytest.mark.parametrize("seed", [0, 1])
def test_linear_rnn_jacobian_norms_are_powers_of_rho(rho, seed):
    # an orthogonal matrix times rho has ||(rho Q)^k||_2 = rho^k exactly
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    J = np.stack([rho * Q] * 20)
    norms = jacobian_product_norms(J)
    np.testing.assert_allclose(norms, rho ** np.arange(21), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tanh_jacobians_match_finite_differences_and_bound(seed):
    rng = np.random.default_rng(seed)
    params = init_rnn(2, 4, rng, rho=1.2)
    x = rng.standard_normal((6, 1, 2))
    hs, cache = rnn_forward(x, np.zeros((1, 4)), params)
    J = rnn_step_jacobians(cache)
    for t in range(1, 6):
        num = numerical_jacobian(
            lambda h, t=t: np.tanh(
                params["W"] @ h + params["U"] @ x[t, 0] + params["b"]
            ),
            hs[t - 1, 0],
        )
        np.testing.assert_allclose(J[t], num, rtol=1e-7, atol=1e-9)
    norms = jacobian_product_norms(J)
    bound = np.linalg.norm(params["W"], 2) ** np.arange(7)
    assert np.all(norms <= bound * (1 + 1e-12))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_grad_norm_properties(seed, max_norm):
    rng = np.random.default_rng(seed)
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}
    before = {k: v.copy() for k, v in grads.items()}
    clipped, norm = clip_grad_norm(grads, max_norm)
    flat = np.concatenate([v.ravel() for v in grads.values()])
    flat_c = np.concatenate([v.ravel() for v in clipped.values()])
    assert math.isclose(norm, np.linalg.norm(flat), rel_tol=1e-14)
    # the norm after clipping is min(norm, max_norm)
    assert math.isclose(
        np.linalg.norm(flat_c), min(norm, max_norm), rel_tol=1e-12
    )
    # the direction is kept: a positive multiple
    scale = flat_c @ flat / (flat @ flat)
    np.testing.assert_allclose(flat_c, scale * flat, rtol=1e-13)
    assert 0 < scale <= 1
    # the input is untouched
    for k in grads:
        np.testing.assert_array_equal(grads[k], before[k])


def test_clip_grad_norm_leaves_zero_and_small_gradients_alone():
    clipped, norm = clip_grad_norm({"a": np.zeros(3)}, 1.0)
    assert norm == 0.0
    np.testing.assert_array_equal(clipped["a"], 0.0)
    g = {"a": np.array([0.3, 0.4])}
    clipped, norm = clip_grad_norm(g, 1.0)
    np.testing.assert_array_equal(clipped["a"], g["a"])


def test_clip_grad_norm_errors():
    with pytest.raises(ValueError, match="max_norm must be positive"):
        clip_grad_norm({"a": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="finite"):
        clip_grad_norm({"a": np.array([np.inf, 1.0])}, 1.0)


def test_shape_errors():
    rng = np.random.default_rng(0)
    p = init_rnn(2, 3, rng)
    q = init_lstm(2, 3, rng)
    h = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"x must have shape \(T, N, 2\)"):
        rnn_forward(np.zeros((5, 4, 3)), h, p)
    with pytest.raises(ValueError, match=r"x must have shape"):
        rnn_forward(np.zeros((4, 2)), h, p)
    with pytest.raises(ValueError, match=r"h0 must have shape \(4, 3\)"):
        rnn_forward(np.zeros((5, 4, 2)), np.zeros((4, 2)), p)
    with pytest.raises(ValueError, match=r"c0 must have shape"):
        lstm_forward(np.zeros((5, 4, 2)), h, np.zeros((3, 3)), q)
    with pytest.raises(ValueError, match=r"W must have shape \(4H, H\)"):
        lstm_forward(np.zeros((5, 4, 2)), h, h, p)
    with pytest.raises(ValueError, match=r"U must have shape"):
        rnn_forward(np.zeros((5, 4, 2)), h, p | {"U": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"b must have shape"):
        rnn_forward(np.zeros((5, 4, 2)), h, p | {"b": np.zeros(2)})
    with pytest.raises(ValueError, match="params lacks"):
        rnn_forward(np.zeros((5, 4, 2)), h, {"W": p["W"]})
    hs, cache = rnn_forward(np.zeros((5, 4, 2)), h, p)
    with pytest.raises(ValueError, match="dhs must have shape"):
        rnn_backward(np.zeros((4, 4, 3)), cache)
    hs, cache = lstm_forward(np.zeros((5, 4, 2)), h, h, q)
    with pytest.raises(ValueError, match="dhs must have shape"):
        lstm_backward(np.zeros((5, 4, 2)), cache)
    with pytest.raises(ValueError, match=r"jacobians must have shape"):
        jacobian_product_norms(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="n must be in"):
        rnn_step_jacobians(rnn_forward(np.zeros((5, 4, 2)), h, p)[1], n=4)


def test_other_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="rho must be positive"):
        init_rnn(2, 3, rng, rho=0.0)
    with pytest.raises(ValueError, match="n_hidden must be a positive int"):
        init_lstm(2, 0, rng)
    with pytest.raises(TypeError, match="Generator"):
        init_rnn(2, 3, 0)
    with pytest.raises(ValueError, match="delay must be a non-negative"):
        memory_task(4, -1, rng)
    with pytest.raises(ValueError, match="n_symbols must be at least 2"):
        memory_task(4, 2, rng, n_symbols=1)
    with pytest.raises(ValueError, match="noise must be non-negative"):
        memory_task(4, 2, rng, noise=-1.0)
    with pytest.raises(ValueError, match="cell must be"):
        sequence_loss("gru", {}, np.zeros((2, 1, 1)), np.zeros(1, int))
    with pytest.raises(ValueError, match="cell must be"):
        train_memory("gru", 3, rng)


@pytest.mark.parametrize("rho", [0.3, 0.9, 1.5])
def test_init_rnn_has_the_requested_spectral_radius(rho):
    p = init_rnn(3, 6, np.random.default_rng(1), rho=rho)
    radius = np.abs(np.linalg.eigvals(p["W"])).max()
    assert math.isclose(radius, rho, rel_tol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memory_task_labels_and_chance(seed):
    rng = np.random.default_rng(seed)
    x, y = memory_task(4000, 5, rng, n_symbols=4, noise=0.0)
    np.testing.assert_array_equal(x[0].argmax(axis=1), y)
    np.testing.assert_array_equal(x[1:], 0.0)
    # symbols are uniform: each frequency within 4 standard errors of 1/4
    freq = np.bincount(y, minlength=4) / 4000
    assert np.all(np.abs(freq - 0.25) <= 4 * math.sqrt(0.25 * 0.75 / 4000))


def test_training_learns_a_short_delay_and_clips():
    run = train_memory("lstm", 3, np.random.default_rng(0), n_steps=150)
    assert run["accuracy"] > 0.95
    assert run["loss"][-10:].mean() < 0.2 * run["loss"][0]
    run = train_memory("rnn", 3, np.random.default_rng(0), n_steps=150)
    assert run["accuracy"] > 0.95
    assert run["grad_norm"].shape == (150,)
