"""Tests of m4ml.autoencoders against closed forms and references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from m4ml.autoencoders import (
    assign_parameters,
    flatten_parameters,
    gaussian_kl_to_standard_normal,
    init_vae,
    linear_autoencoder,
    linear_gaussian_elbo,
    reparameterisation_gradient,
    score_function_gradient,
    squared_error,
    train_linear_autoencoder,
    train_vae,
    vae_importance_log_likelihood,
    vae_negative_elbo,
)
from m4ml.information_theory import gaussian_kl
from m4ml.pca import pca, ppca_log_likelihood, ppca_posterior
from m4ml.vector_calculus import numerical_gradient

SEEDS = [0, 1, 2]


# --- the KL divergence to N(0, I) ------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (4, 8)])
def test_kl_to_standard_normal_matches_gaussian_kl(seed, shape):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal(shape)
    log_var = rng.standard_normal(shape)
    kl = gaussian_kl_to_standard_normal(mu, log_var)
    assert kl.shape == (shape[0],)
    k = shape[1]
    expected = [
        gaussian_kl(m, np.diag(np.exp(lv)), np.zeros(k), np.eye(k))
        for m, lv in zip(mu, log_var, strict=True)
    ]
    np.testing.assert_allclose(kl, expected, rtol=1e-12, atol=1e-14)


def test_kl_to_standard_normal_one_row_and_zero():
    assert gaussian_kl_to_standard_normal([0.0, 0.0], [0.0, 0.0]) == 0.0
    # one dimension: (s^2 + m^2 - 1 - log s^2) / 2
    value = gaussian_kl_to_standard_normal([2.0], [np.log(3.0)])
    assert value == pytest.approx((3.0 + 4.0 - 1.0 - np.log(3.0)) / 2)
    assert isinstance(value, float)


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_to_standard_normal_is_positive_off_the_prior(seed):
    rng = np.random.default_rng(seed)
    kl = gaussian_kl_to_standard_normal(
        rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    )
    assert np.all(kl > 0)


def test_kl_to_standard_normal_errors():
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl_to_standard_normal(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        gaussian_kl_to_standard_normal([np.nan], [0.0])
    with pytest.raises(ValueError, match="shape"):
        gaussian_kl_to_standard_normal(
            np.zeros((1, 2, 2)), np.zeros((1, 2, 2))
        )


# --- linear autoencoders -----------------------------------------------------


def test_squared_error_gradient_and_errors():
    rng = np.random.default_rng(0)
    Y, T = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    loss, grad = squared_error(Y, T)
    assert loss == pytest.approx(np.mean(np.sum((Y - T) ** 2, axis=1)))
    numeric = numerical_gradient(lambda A: squared_error(A, T)[0], Y)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="differ in shape"):
        squared_error(Y, T[:, :2])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D, k", [(4, 1), (6, 2), (8, 3)])
def test_linear_autoencoder_recovers_the_principal_subspace(seed, D, k):
    rng = np.random.default_rng(seed)
    # well-separated variances, rotated: the top-k subspace is clear
    scales = np.concatenate([np.linspace(3.0, 2.0, k), np.full(D - k, 0.5)])
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    X = (rng.standard_normal((400, D)) * scales) @ Q.T
    Xc = X - X.mean(axis=0)
    ae, hist = train_linear_autoencoder(Xc, k, rng, lr=0.03, n_epochs=1500)
    F = ae.layers[1].params["W"]  # (k, D): rows span the code's image
    V = pca(Xc, k).components
    angles = scipy.linalg.subspace_angles(F.T, V.T)
    assert np.max(angles) < 1e-4
    lam = np.linalg.eigvalsh(Xc.T @ Xc / len(Xc))[::-1]
    assert hist["train"][-1] == pytest.approx(lam[k:].sum(), rel=1e-6)
    assert hist["train"][-1] < hist["train"][0]


def test_linear_autoencoder_shapes_and_errors():
    ae = linear_autoencoder(5, 2, np.random.default_rng(0), scale=0.2)
    assert ae.forward(np.ones((3, 5))).shape == (3, 5)
    with pytest.raises(ValueError, match="1 <= k <= D"):
        linear_autoencoder(3, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="scale"):
        linear_autoencoder(3, 1, np.random.default_rng(0), scale=0.0)
    with pytest.raises(TypeError, match="Generator"):
        linear_autoencoder(3, 1, 0)
    with pytest.raises(ValueError, match="2-D"):
        train_linear_autoencoder(
            np.ones(4), 1, np.random.default_rng(0), 0.1, 1
        )


# --- the ELBO of a linear-Gaussian model -----------------------------------


def _linear_gaussian(rng, D, k):
    W = rng.standard_normal((D, k))
    b = rng.standard_normal(D)
    s2 = float(rng.uniform(0.2, 2.0))
    x = rng.standard_normal(D) * 2
    m = rng.standard_normal(k)
    A = rng.standard_normal((k, k))
    S = A @ A.T + 0.1 * np.eye(k)
    return x, W, b, s2, m, S


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D, k", [(1, 1), (3, 1), (5, 2), (8, 4)])
def test_elbo_gap_is_the_kl_to_the_posterior(seed, D, k):
    rng = np.random.default_rng(seed)
    x, W, b, s2, m, S = _linear_gaussian(rng, D, k)
    log_px = ppca_log_likelihood(x[None, :], W, b, s2)
    post_mean, post_cov = ppca_posterior(x[None, :], W, b, s2)
    elbo = linear_gaussian_elbo(x, W, b, s2, m, S)
    kl = gaussian_kl(m, S, post_mean[0], post_cov)
    assert log_px - elbo == pytest.approx(kl, rel=1e-9, abs=1e-11)
    assert elbo < log_px
    tight = linear_gaussian_elbo(x, W, b, s2, post_mean[0], post_cov)
    assert tight == pytest.approx(log_px, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_elbo_matches_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    x, W, b, s2, m, S = _linear_gaussian(rng, 3, 2)
    z = rng.multivariate_normal(m, S, size=200_000)
    r = x - z @ W.T - b
    log_lik = -0.5 * (3 * np.log(2 * np.pi * s2) + np.sum(r**2, 1) / s2)
    log_prior = -0.5 * (2 * np.log(2 * np.pi) + np.sum(z**2, 1))
    Si = np.linalg.inv(S)
    d = z - m
    log_q = -0.5 * (
        2 * np.log(2 * np.pi)
        + np.linalg.slogdet(S)[1]
        + np.einsum("ni,ij,nj->n", d, Si, d)
    )
    terms = log_lik + log_prior - log_q
    se = terms.std(ddof=1) / np.sqrt(len(terms))
    elbo = linear_gaussian_elbo(x, W, b, s2, m, S)
    assert abs(terms.mean() - elbo) < 4 * se


def test_linear_gaussian_elbo_errors():
    x, W, b, s2, m, S = _linear_gaussian(np.random.default_rng(0), 3, 2)
    with pytest.raises(ValueError, match="positive definite"):
        linear_gaussian_elbo(x, W, b, s2, m, -S)
    with pytest.raises(ValueError, match="symmetric"):
        linear_gaussian_elbo(x, W, b, s2, m, S + np.triu(np.ones((2, 2)), 1))
    with pytest.raises(ValueError, match="sigma2"):
        linear_gaussian_elbo(x, W, b, 0.0, m, S)
    with pytest.raises(ValueError, match="need b"):
        linear_gaussian_elbo(x, W, b[:2], s2, m, S)
    with pytest.raises(ValueError, match="shape"):
        linear_gaussian_elbo(x[:2], W, b, s2, m, S)


# --- gradient estimators ----------------------------------------------------


def _quartic(z):
    return np.sum(z**4 - 2 * z, axis=1)


def _quartic_grad(z):
    return 4 * z**3 - 2


def _quartic_exact(mu, sigma):
    # E z^4 = mu^4 + 6 mu^2 s^2 + 3 s^4 for z ~ N(mu, s^2)
    g_mu = 4 * mu**3 + 12 * mu * sigma**2 - 2
    g_sigma = 12 * mu**2 * sigma + 12 * sigma**3
    return g_mu, g_sigma


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 3])
def test_both_estimators_are_unbiased(seed, d):
    rng = np.random.default_rng(seed)
    mu = rng.uniform(-1, 1, d)
    sigma = rng.uniform(0.3, 1.0, d)
    exact = _quartic_exact(mu, sigma)
    n = 100_000
    for g in (
        score_function_gradient(_quartic, mu, sigma, n, rng),
        score_function_gradient(_quartic, mu, sigma, n, rng, baseline=3.0),
        reparameterisation_gradient(_quartic_grad, mu, sigma, n, rng),
    ):
        for est, truth in zip(g, exact, strict=True):
            assert est.shape == (n, d)
            se = est.std(axis=0, ddof=1) / np.sqrt(n)
            assert np.all(np.abs(est.mean(axis=0) - truth) < 4.5 * se)


@pytest.mark.parametrize("seed", SEEDS)
def test_reparameterisation_has_smaller_variance(seed):
    rng = np.random.default_rng(seed)
    mu, sigma = np.array([0.5, -0.3]), np.array([0.5, 0.8])
    f = lambda z: np.sum((z - 1.0) ** 2, axis=1)  # noqa: E731
    sf = score_function_gradient(f, mu, sigma, 20_000, rng)
    rp = reparameterisation_gradient(
        lambda z: 2 * (z - 1.0), mu, sigma, 20_000, rng
    )
    for a, b in zip(rp, sf, strict=True):
        assert np.all(a.var(axis=0) < b.var(axis=0))


def test_reparameterisation_is_exact_for_linear_f():
    rng = np.random.default_rng(0)
    g_mu, g_s = reparameterisation_gradient(
        lambda z: np.ones_like(z) * [2.0, -1.0],
        [0.0, 1.0],
        [1.0, 2.0],
        50,
        rng,
    )
    np.testing.assert_array_equal(g_mu, np.tile([2.0, -1.0], (50, 1)))


def test_estimator_errors():
    rng = np.random.default_rng(0)
    f = lambda z: np.sum(z, axis=1)  # noqa: E731
    with pytest.raises(ValueError, match="sigma must be positive"):
        score_function_gradient(f, 0.0, -1.0, 10, rng)
    with pytest.raises(ValueError, match="one shape"):
        score_function_gradient(f, [0.0, 1.0], [1.0], 10, rng)
    with pytest.raises(ValueError, match="n must be positive"):
        reparameterisation_gradient(lambda z: z, 0.0, 1.0, 0, rng)
    with pytest.raises(ValueError, match="f must return"):
        score_function_gradient(lambda z: z, [0.0, 1.0], [1.0, 1.0], 10, rng)
    with pytest.raises(ValueError, match="grad_f must return"):
        reparameterisation_gradient(f, 0.0, 1.0, 10, rng)
    with pytest.raises(TypeError, match="Generator"):
        reparameterisation_gradient(lambda z: z, 0.0, 1.0, 10, None)


# --- variational autoencoders -----------------------------------------------


def _binary_data(rng, N=40, D=6):
    return (rng.random((N, D)) < 0.5).astype(float)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2])
def test_vae_gradient_matches_finite_differences(seed, k):
    rng = np.random.default_rng(seed)
    X = _binary_data(rng, N=7, D=5)
    enc, dec = init_vae(5, k, 4, rng)
    models = (enc, dec)
    eps = rng.standard_normal((7, k))
    theta = flatten_parameters(models)
    vae_negative_elbo(enc, dec, X, eps)
    grad = flatten_parameters(models, grads=True)

    def loss(t):
        assign_parameters(models, t)
        return vae_negative_elbo(enc, dec, X, eps, backward=False)[0]

    numeric = numerical_gradient(loss, theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_vae_loss_parts_and_errors():
    rng = np.random.default_rng(0)
    X = _binary_data(rng)
    enc, dec = init_vae(6, 2, 5, rng)
    loss, rec, kl = vae_negative_elbo(enc, dec, X, np.zeros((40, 2)))
    assert loss == pytest.approx(rec + kl)
    assert kl >= 0 and rec > 0
    with pytest.raises(ValueError, match="binary"):
        vae_negative_elbo(enc, dec, X * 0.5, np.zeros((40, 2)))
    with pytest.raises(ValueError, match="eps must have shape"):
        vae_negative_elbo(enc, dec, X, np.zeros((40, 3)))
    with pytest.raises(ValueError, match="theta must have shape"):
        assign_parameters([enc], np.zeros(3))
    with pytest.raises(ValueError, match="positive"):
        init_vae(6, 0, 5, rng)


def test_flatten_and_assign_round_trip():
    rng = np.random.default_rng(3)
    enc, dec = init_vae(6, 2, 5, rng)
    theta = rng.standard_normal(flatten_parameters([enc, dec]).size)
    assign_parameters([enc, dec], theta)
    np.testing.assert_array_equal(flatten_parameters([enc, dec]), theta)


def test_train_vae_improves_the_elbo_and_bounds_hold():
    rng = np.random.default_rng(0)
    protos = np.array([[1, 1, 1, 0, 0, 0, 1, 0], [0, 0, 1, 1, 1, 1, 0, 1]])
    X = protos[rng.integers(0, 2, 200)]
    flip = rng.random(X.shape) < 0.05
    X = np.where(flip, 1 - X, X).astype(float)
    enc, dec, hist = train_vae(
        X, 1, 8, rng, lr=0.02, n_epochs=40, batch_size=20
    )
    assert set(hist) == {"elbo", "reconstruction", "kl"}
    assert len(hist["elbo"]) == 40
    assert hist["elbo"][-1] > hist["elbo"][0] + 1.0
    np.testing.assert_allclose(
        hist["elbo"],
        np.array(hist["reconstruction"]) - np.array(hist["kl"]),
        rtol=1e-12,
    )
    # importance sampling with more draws gives a larger bound on average
    ll1 = vae_importance_log_likelihood(enc, dec, X, 1, rng).mean()
    ll100 = vae_importance_log_likelihood(enc, dec, X, 100, rng).mean()
    assert ll100 > ll1
    assert ll100 < 0


def test_train_vae_errors():
    rng = np.random.default_rng(0)
    X = _binary_data(rng)
    with pytest.raises(ValueError, match="positive"):
        train_vae(X, 1, 4, rng, n_epochs=0)
    with pytest.raises(FloatingPointError, match="too large"):
        train_vae(X, 1, 4, rng, lr=1e12, n_epochs=5, batch_size=8)
    enc, dec = init_vae(6, 1, 4, rng)
    with pytest.raises(ValueError, match="n_samples"):
        vae_importance_log_likelihood(enc, dec, X, 0, rng)
