"""Tests of m4ml.gans against closed forms, scipy and finite differences."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from m4ml.gans import (
    discriminator_loss,
    gan_value,
    generator_loss,
    js_divergence,
    optimal_discriminator,
    train_gan,
    wasserstein_1d,
)
from m4ml.mlp import Affine, Sequential, init_mlp
from m4ml.vector_calculus import numerical_gradient

X = np.linspace(-12.0, 12.0, 4801)
DX = float(X[1] - X[0])


def _normal(mu, sigma):
    return stats.norm.pdf(X, mu, sigma)


# ------------------------------------------------- optimal discriminator


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 2)])
def test_optimal_discriminator_is_the_ratio(seed, shape):
    rng = np.random.default_rng(seed)
    p, q = rng.random(shape), rng.random(shape)
    d = optimal_discriminator(p, q)
    np.testing.assert_allclose(d, p / (p + q), rtol=1e-15)
    assert d.shape == shape


def test_optimal_discriminator_where_densities_vanish():
    d = optimal_discriminator([0.0, 0.0, 2.0], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(d, [0.5, 0.0, 1.0])


@pytest.mark.parametrize(
    ("p", "q", "match"),
    [
        ([1.0, 2.0], [1.0], "same shape"),
        ([1.0, -2.0], [1.0, 1.0], "non-negative"),
        ([1.0, np.nan], [1.0, 1.0], "finite"),
        ([1.0, 1.0], [np.inf, 1.0], "finite"),
    ],
)
def test_optimal_discriminator_rejects_bad_input(p, q, match):
    with pytest.raises(ValueError, match=match):
        optimal_discriminator(p, q)


# ------------------------------------------------ value and Jensen-Shannon


@pytest.mark.parametrize(
    ("mu", "sigma"), [(0.0, 1.0), (1.0, 1.0), (0.5, 2.0), (-1.0, 1.5)]
)
def test_value_at_optimum_is_minus_log4_plus_2jsd(mu, sigma):
    p, q = _normal(0.0, 1.0), _normal(mu, sigma)
    v = gan_value(optimal_discriminator(p, q), p, q, DX)
    # 1 - D* loses relative accuracy where p_model << p_data: rtol 1e-8
    np.testing.assert_allclose(
        v, -math.log(4) + 2 * js_divergence(p, q, DX), rtol=1e-8
    )


def test_value_is_minus_infinity_where_d_star_rounds_to_one():
    # N(3, 0.5) / N(0, 1) < 1e-16 far left: D* rounds to 1 there
    p, q = _normal(0.0, 1.0), _normal(3.0, 0.5)
    assert gan_value(optimal_discriminator(p, q), p, q, DX) == -math.inf


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_optimal_discriminator_beats_perturbations(seed):
    rng = np.random.default_rng(seed)
    p, q = _normal(-1.0, 0.7), _normal(1.5, 1.0)
    d_star = optimal_discriminator(p, q)
    v_star = gan_value(d_star, p, q, DX)
    for _ in range(5):
        noise = 0.05 * rng.standard_normal(X.size)
        d = np.clip(d_star + noise, 1e-12, 1 - 1e-12)
        assert gan_value(d, p, q, DX) < v_star


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [2, 5, 20])
def test_discrete_jsd_matches_scipy(seed, n):
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    # scipy returns the Jensen-Shannon *distance*, the square root
    np.testing.assert_allclose(
        js_divergence(p, q), jensenshannon(p, q) ** 2, rtol=1e-10
    )


def test_jsd_bounds_and_symmetry():
    p, q = _normal(0.0, 1.0), _normal(2.0, 1.5)
    j = js_divergence(p, q, DX)
    assert 0 < j < math.log(2)
    np.testing.assert_allclose(j, js_divergence(q, p, DX), rtol=1e-12)
    assert abs(js_divergence(p, p, DX)) < 1e-15
    far = _normal(10.0, 0.3)
    np.testing.assert_allclose(
        js_divergence(_normal(-10.0, 0.3), far, DX), math.log(2), rtol=1e-9
    )


def test_grid_jsd_matches_discrete_jsd_of_the_masses():
    p, q = _normal(0.0, 1.0), _normal(0.7, 1.2)
    np.testing.assert_allclose(
        js_divergence(p, q, DX),
        js_divergence(p / p.sum(), q / q.sum()),
        rtol=1e-8,  # the Riemann masses sum to 1 up to ~1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p": [0.5, 0.5], "q": [0.5, 0.5], "dx": 0.0}, "dx"),
        ({"p": [0.5, 0.5], "q": [0.5, 0.5], "dx": np.nan}, "dx"),
        ({"p": [[0.5, 0.5]], "q": [[0.5, 0.5]]}, "1-D"),
        ({"p": [0.5, 0.6], "q": [0.5, 0.5]}, "sum"),
        ({"p": [0.5, 0.5], "q": [1.0]}, "same shape"),
    ],
)
def test_js_divergence_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        js_divergence(**kwargs)


@pytest.mark.parametrize(
    ("d", "dx", "match"),
    [
        (np.full(X.size, 1.5), DX, r"\[0, 1\]"),
        (np.full(3, 0.5), DX, "shape"),
        (np.full(X.size, 0.5), -1.0, "dx"),
    ],
)
def test_gan_value_rejects_bad_input(d, dx, match):
    p = _normal(0.0, 1.0)
    with pytest.raises(ValueError, match=match):
        gan_value(d, p, p, dx)


def test_gan_value_is_minus_infinity_for_a_certain_mistake():
    p = _normal(0.0, 1.0)
    assert gan_value(np.zeros(X.size), p, p, DX) == -math.inf


# ---------------------------------------------------------- Wasserstein


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 7, 200])
def test_wasserstein_matches_scipy(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = rng.gamma(2.0, size=n) - 1.0
    np.testing.assert_allclose(
        wasserstein_1d(x, y), stats.wasserstein_distance(x, y), rtol=1e-12
    )


def test_wasserstein_of_a_shift_is_the_shift():
    x = np.random.default_rng(4).standard_normal(50)
    np.testing.assert_allclose(wasserstein_1d(x, x + 3.0), 3.0, rtol=1e-14)


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([1.0, 2.0], [1.0], "equal size"),
        ([], [], "non-empty"),
        ([[1.0]], [[1.0]], "1-D"),
        ([1.0, np.inf], [1.0, 2.0], "finite"),
    ],
)
def test_wasserstein_rejects_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        wasserstein_1d(x, y)


# ------------------------------------------------------- backward passes


def _check_param_grads(model, loss_fn):
    loss_fn()
    claimed = [g.copy() for _, g in model.parameters()]
    for (param, _), grad in zip(model.parameters(), claimed, strict=True):
        original = param.copy()

        def f(p, param=param):
            param[...] = p
            return loss_fn()

        fd = numerical_gradient(f, original)
        param[...] = original
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("n_real", "n_fake"), [(4, 4), (3, 6)])
def test_discriminator_backward_matches_finite_differences(
    seed, n_real, n_fake
):
    rng = np.random.default_rng(seed)
    disc = init_mlp([1, 5, 4, 1], rng, activation="tanh")
    real = rng.standard_normal(n_real)
    fake = rng.standard_normal(n_fake) + 1.0
    _check_param_grads(disc, lambda: discriminator_loss(disc, real, fake))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["non-saturating", "saturating"])
@pytest.mark.parametrize("z_dim", [1, 3])
def test_generator_backward_matches_finite_differences(seed, kind, z_dim):
    rng = np.random.default_rng(seed)
    gen = init_mlp([z_dim, 4, 1], rng, activation="tanh")
    disc = init_mlp([1, 5, 1], rng, activation="tanh")
    z = rng.standard_normal((6, z_dim))
    _check_param_grads(gen, lambda: generator_loss(gen, disc, z, kind))


def test_discriminator_loss_matches_the_formula():
    rng = np.random.default_rng(5)
    disc = init_mlp([1, 3, 1], rng, activation="tanh")
    real, fake = rng.standard_normal(4), rng.standard_normal(7)
    s = 1 / (1 + np.exp(-disc.forward(np.r_[real, fake][:, None])[:, 0]))
    expected = -np.mean(np.log(s[:4])) - np.mean(np.log(1 - s[4:]))
    np.testing.assert_allclose(
        discriminator_loss(disc, real, fake), expected, rtol=1e-12
    )


def test_saturating_gradient_vanishes_when_the_discriminator_is_sure():
    # D(x) = s(-20 x - 10): fakes near 0 get D ~ 4.5e-5
    gen = Sequential([Affine([[0.1]])])
    disc = Sequential([Affine([[-20.0]], [-10.0])])
    z = np.random.default_rng(6).standard_normal((16, 1)) * 0.1
    generator_loss(gen, disc, z, "saturating")
    g_sat = np.abs(gen.layers[0].grads["W"]).sum()
    generator_loss(gen, disc, z, "non-saturating")
    g_ns = np.abs(gen.layers[0].grads["W"]).sum()
    assert g_sat < 1e-3 * g_ns


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g, d: generator_loss(g, d, [[0.0]], kind="wgan"), "kind"),
        (lambda g, d: generator_loss(g, d, [0.0]), "shape"),
        (lambda g, d: discriminator_loss(d, [[1.0, 2.0]], [0.0]), "x_real"),
        (lambda g, d: discriminator_loss(d, [], [0.0]), "x_real"),
    ],
)
def test_losses_reject_bad_input(call, match):
    gen = Sequential([Affine([[1.0]])])
    disc = Sequential([Affine([[1.0]])])
    with pytest.raises(ValueError, match=match):
        call(gen, disc)


# -------------------------------------------------------------- trainer


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["non-saturating", "saturating"])
def test_training_moves_the_generator_to_a_gaussian(seed, kind):
    rng = np.random.default_rng(seed)
    data = rng.normal(2.0, 0.5, size=1000)
    out = train_gan(data, rng, n_steps=800, n_samples=1000, kind=kind)
    before = wasserstein_1d(out["snapshots"][0][1], data)
    # the distance oscillates during training: judge the later half
    later = [wasserstein_1d(s, data) for _, s in out["snapshots"][4:]]
    assert np.median(later) < 0.3 * before
    assert len(out["d_loss"]) == len(out["g_loss"]) == 800
    assert out["snapshots"][-1][0] == 800


def test_training_is_reproducible():
    data = np.random.default_rng(0).normal(size=300)
    a = train_gan(data, np.random.default_rng(3), n_steps=50, n_samples=20)
    b = train_gan(data, np.random.default_rng(3), n_steps=50, n_samples=20)
    np.testing.assert_array_equal(a["samples"], b["samples"])
    np.testing.assert_array_equal(a["d_loss"], b["d_loss"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
        ({"lr_d": -1.0}, ValueError, "lr_d"),
        ({"kind": "minimax"}, ValueError, "kind"),
        ({"rng": 0}, TypeError, "Generator"),
        ({"x_data": [0.0, np.nan]}, ValueError, "finite"),
        ({"x_data": np.zeros((3, 2))}, ValueError, "x_data"),
    ],
)
def test_train_gan_rejects_bad_input(kwargs, error, match):
    args = {"x_data": np.zeros(10), "rng": np.random.default_rng(0)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train_gan(**args)
