"""Tests of m4ml.probability against scipy.stats and closed forms."""

import math

import numpy as np
import pytest
import scipy.stats

from m4ml.probability import (
    affine_gaussian,
    beta_bernoulli_posterior,
    categorical_inverse_cdf,
    change_of_variables_pdf,
    dkw_bound,
    exp_family_logpdf,
    gaussian_condition,
    gaussian_log_partition,
    gaussian_logpdf,
    gaussian_sample,
    gaussian_to_natural,
    inverse_transform_sample,
    ks_statistic,
    natural_to_gaussian,
)

SEEDS = [0, 1, 2]
DIMS = [1, 2, 3, 7, 20]


def random_spd(rng, D, cond=100.0):
    """A random SPD matrix with eigenvalues spread over [1, cond]."""
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    lam = np.geomspace(1.0, cond, D)
    S = (Q * lam) @ Q.T
    return 0.5 * (S + S.T)


def random_gaussian(rng, D):
    return rng.standard_normal(D), random_spd(rng, D)


# --------------------------------------------------------------------------
# gaussian_logpdf
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D", DIMS)
def test_logpdf_matches_scipy(D, seed):
    rng = np.random.default_rng(seed)
    mu, S = random_gaussian(rng, D)
    X = mu + 2 * rng.standard_normal((50, D))
    ours = gaussian_logpdf(X, mu, S)
    ref = scipy.stats.multivariate_normal(mu, S).logpdf(X)
    assert ours.shape == (50,)
    # Both are backward stable; the Mahalanobis term carries an error of
    # about cond(S) * eps times its size (here cond(S) = 100).
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("D", [1, 4])
def test_logpdf_single_point_is_a_float(D):
    rng = np.random.default_rng(3)
    mu, S = random_gaussian(rng, D)
    x = rng.standard_normal(D)
    value = gaussian_logpdf(x, mu, S)
    assert isinstance(value, float)
    ref = scipy.stats.multivariate_normal(mu, S).logpdf(x)
    assert value == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_logpdf_in_high_dimension_does_not_underflow():
    # det(0.01 I_500) = 1e-1000 underflows to 0, but the log-density is
    # finite: -D/2 log(2 pi 0.01) at the mean.
    D = 500
    value = gaussian_logpdf(np.zeros(D), np.zeros(D), 0.01 * np.eye(D))
    assert np.linalg.det(0.01 * np.eye(D)) == 0.0
    expected = -0.5 * D * math.log(2 * math.pi * 0.01)
    assert value == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_logpdf_integrates_to_one_in_2d(seed):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal(2)
    S = random_spd(rng, 2, cond=4.0)
    h = 0.05
    t = np.arange(-12, 12 + h / 2, h)
    G = np.stack(np.meshgrid(t, t), axis=-1).reshape(-1, 2)
    total = np.exp(gaussian_logpdf(G + mu, mu, S)).sum() * h * h
    # The Riemann sum of a smooth, fast-decaying function on a fine grid is
    # accurate far beyond 1e-8; the tails beyond 12 are negligible.
    assert total == pytest.approx(1.0, abs=1e-8)


def test_logpdf_error_paths():
    mu = np.zeros(2)
    with pytest.raises(ValueError, match="not symmetric"):
        gaussian_logpdf(mu, mu, [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="not positive definite"):
        gaussian_logpdf(mu, mu, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="not positive definite"):
        gaussian_logpdf(mu, mu, [[1.0, 1.0], [1.0, 1.0]])  # singular
    with pytest.raises(ValueError, match="cov must have shape"):
        gaussian_logpdf(mu, mu, np.eye(3))
    with pytest.raises(ValueError, match="x must have shape"):
        gaussian_logpdf(np.zeros(3), mu, np.eye(2))
    with pytest.raises(ValueError, match="x must have shape"):
        gaussian_logpdf(np.zeros((4, 3)), mu, np.eye(2))
    with pytest.raises(ValueError, match="x must have shape"):
        gaussian_logpdf(np.zeros((2, 2, 2)), mu, np.eye(2))
    with pytest.raises(ValueError, match="mean must be"):
        gaussian_logpdf(mu, np.zeros((2, 1)), np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        gaussian_logpdf([np.nan, 0.0], mu, np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        gaussian_logpdf(mu, mu, [[1.0, np.inf], [np.inf, 1.0]])


def test_tiny_asymmetry_from_round_off_is_accepted():
    S = np.array([[2.0, 1.0], [1.0 + 1e-14, 2.0]])
    value = gaussian_logpdf(np.zeros(2), np.zeros(2), S)
    ref = scipy.stats.multivariate_normal(np.zeros(2), [[2, 1], [1, 2]])
    assert value == pytest.approx(ref.logpdf(np.zeros(2)), rel=1e-12)


# --------------------------------------------------------------------------
# gaussian_condition
# --------------------------------------------------------------------------


def condition_by_precision(mu, S, idx_b, value):
    """The conditional from the precision matrix Lambda = S^{-1}.

    x_a | x_b is Gaussian with covariance Lambda_aa^{-1} and mean
    mu_a - Lambda_aa^{-1} Lambda_ab (x_b - mu_b).
    """
    idx_a = np.setdiff1d(np.arange(mu.size), idx_b)
    P = np.linalg.inv(S)
    P_aa = P[np.ix_(idx_a, idx_a)]
    P_ab = P[np.ix_(idx_a, idx_b)]
    cov = np.linalg.inv(P_aa)
    mean = mu[idx_a] - cov @ P_ab @ (value - mu[idx_b])
    return mean, cov


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "D,n_given", [(2, 1), (3, 1), (3, 2), (6, 3), (10, 4)]
)
def test_condition_matches_precision_form(D, n_given, seed):
    rng = np.random.default_rng(seed)
    mu, S = random_gaussian(rng, D)
    idx_b = rng.permutation(D)[:n_given]
    value = rng.standard_normal(n_given)
    m, C = gaussian_condition(mu, S, idx_b, value)
    m_ref, C_ref = condition_by_precision(mu, S, idx_b, value)
    assert m.shape == (D - n_given,) and C.shape == (D - n_given,) * 2
    # Two different inversions of matrices with cond <= 100: the results
    # agree to about cond^2 * eps relative to the scale of S (100).
    np.testing.assert_allclose(m, m_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(C, C_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(C, C.T)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D,n_given", [(2, 1), (4, 2), (5, 1)])
def test_joint_is_conditional_times_marginal(D, n_given, seed):
    # log p(x_a, x_b) = log p(x_a | x_b) + log p(x_b): the factorisation
    # that the Schur complement gives.
    rng = np.random.default_rng(seed)
    mu, S = random_gaussian(rng, D)
    idx_b = np.sort(rng.permutation(D)[:n_given])
    idx_a = np.setdiff1d(np.arange(D), idx_b)
    for _ in range(5):
        x = mu + rng.standard_normal(D)
        m, C = gaussian_condition(mu, S, idx_b, x[idx_b])
        joint = gaussian_logpdf(x, mu, S)
        split = gaussian_logpdf(x[idx_a], m, C) + gaussian_logpdf(
            x[idx_b], mu[idx_b], S[np.ix_(idx_b, idx_b)]
        )
        assert joint == pytest.approx(split, rel=1e-10, abs=1e-10)


def test_condition_by_regression_on_samples():
    # Regress x_0 on (x_1, x_2): the coefficients estimate S_ab S_bb^{-1}
    # and the residual variance the Schur complement.
    rng = np.random.default_rng(11)
    mu = np.array([1.0, -1.0, 0.5])
    S = np.array([[2.0, 0.8, -0.5], [0.8, 1.0, 0.3], [-0.5, 0.3, 1.5]])
    X = gaussian_sample(mu, S, 200_000, rng)
    design = np.column_stack([np.ones(len(X)), X[:, 1:]])
    coef, *_ = np.linalg.lstsq(design, X[:, 0], rcond=None)
    resid_var = np.var(X[:, 0] - design @ coef)
    value = np.array([0.3, -0.2])
    m, C = gaussian_condition(mu, S, [1, 2], value)
    # Standard errors are about sqrt(var / N) ~ 3e-3; 0.02 is > 6 SE.
    assert coef[0] + coef[1:] @ value == pytest.approx(m[0], abs=0.02)
    assert resid_var == pytest.approx(C[0, 0], abs=0.02)


def test_condition_on_independent_coordinates_changes_nothing():
    mu = np.array([1.0, 2.0, 3.0])
    S = np.diag([1.0, 2.0, 3.0])
    m, C = gaussian_condition(mu, S, [1], [10.0])
    np.testing.assert_array_equal(m, [1.0, 3.0])
    np.testing.assert_array_equal(C, np.diag([1.0, 3.0]))


def test_condition_error_paths():
    mu = np.zeros(3)
    S = np.eye(3)
    with pytest.raises(ValueError, match="must lie in 0..2"):
        gaussian_condition(mu, S, [3], [0.0])
    with pytest.raises(ValueError, match="must lie in 0..2"):
        gaussian_condition(mu, S, [-1], [0.0])
    with pytest.raises(ValueError, match="repeated"):
        gaussian_condition(mu, S, [1, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match="integers"):
        gaussian_condition(mu, S, [0.5], [0.0])
    with pytest.raises(ValueError, match="non-empty"):
        gaussian_condition(mu, S, [], [])
    with pytest.raises(ValueError, match="none remain"):
        gaussian_condition(mu, S, [0, 1, 2], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="value must have shape"):
        gaussian_condition(mu, S, [0, 1], [0.0])
    with pytest.raises(ValueError, match="not positive definite"):
        gaussian_condition(mu, -S, [0], [0.0])
    with pytest.raises(ValueError, match="not symmetric"):
        gaussian_condition(mu, np.triu(np.ones((3, 3))) + 3 * S, [0], [0.0])


# --------------------------------------------------------------------------
# affine_gaussian and gaussian_sample
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D,M", [(1, 1), (3, 2), (4, 4), (2, 5)])
def test_affine_gaussian_matches_sample_moments_exactly(D, M, seed):
    # For any data, the sample mean and covariance of A x_i + b are
    # A xbar + b and A S A^T: an identity, true to round-off.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, D)) @ rng.standard_normal((D, D))
    A = rng.standard_normal((M, D))
    b = rng.standard_normal(M)
    xbar = X.mean(axis=0)
    S = np.atleast_2d(np.cov(X, rowvar=False))
    m, C = affine_gaussian(xbar, S, A, b)
    Y = X @ A.T + b
    np.testing.assert_allclose(m, Y.mean(axis=0), rtol=1e-12, atol=1e-12)
    C_ref = np.atleast_2d(np.cov(Y, rowvar=False))
    scale = np.max(np.abs(A)) ** 2 * np.max(np.abs(S))
    np.testing.assert_allclose(C, C_ref, rtol=0, atol=1e-12 * D * scale)


def test_affine_gaussian_error_paths():
    with pytest.raises(ValueError, match="A must have shape"):
        affine_gaussian(np.zeros(2), np.eye(2), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="b must have shape"):
        affine_gaussian(np.zeros(2), np.eye(2), np.eye(2), np.zeros(3))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D", [1, 3])
def test_samples_have_the_right_moments(D, seed):
    rng = np.random.default_rng(seed)
    mu, S = random_gaussian(rng, D)
    S = S / 50  # cond 100, entries O(1)
    N = 100_000
    X = gaussian_sample(mu, S, N, rng)
    assert X.shape == (N, D)
    se_mean = np.sqrt(np.diag(S) / N)
    assert np.all(np.abs(X.mean(axis=0) - mu) <= 5 * se_mean)
    # SE of a sample covariance entry: sqrt((S_ii S_jj + S_ij^2) / N).
    C = np.atleast_2d(np.cov(X, rowvar=False))
    se_cov = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / N)
    assert np.all(np.abs(C - S) <= 5 * se_cov)


def test_sample_error_paths():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="positive integer"):
        gaussian_sample([0.0], [[1.0]], 0, rng)
    with pytest.raises(ValueError, match="positive integer"):
        gaussian_sample([0.0], [[1.0]], 2.5, rng)
    with pytest.raises(TypeError, match="Generator"):
        gaussian_sample([0.0], [[1.0]], 3, 42)
    with pytest.raises(ValueError, match="not positive definite"):
        gaussian_sample([0.0], [[-1.0]], 3, rng)


# --------------------------------------------------------------------------
# Beta-Bernoulli
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [0, 1, 10, 200])
@pytest.mark.parametrize("prior", [(1.0, 1.0), (0.5, 0.5), (2.0, 5.0)])
def test_beta_posterior_matches_grid(prior, n, seed):
    rng = np.random.default_rng(seed)
    flips = (rng.random(n) < 0.3).astype(int)
    a_post, b_post = beta_bernoulli_posterior(*prior, flips)
    h = flips.sum()
    # Unnormalised log posterior on a midpoint grid, normalised by the sum.
    M = 200_000
    theta = (np.arange(M) + 0.5) / M
    log_post = (
        scipy.stats.beta(*prior).logpdf(theta)
        + h * np.log(theta)
        + (n - h) * np.log1p(-theta)
    )
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    grid_mean = w @ theta
    exact = scipy.stats.beta(a_post, b_post)
    # Midpoint rule: O(1/M^2) for smooth integrands; with a prior of
    # parameter 1/2 the integrable endpoint singularity costs O(M^-1/2).
    tol = 1e-3 if min(prior) < 1 else 1e-7
    assert grid_mean == pytest.approx(exact.mean(), abs=tol)
    assert w @ (theta - grid_mean) ** 2 == pytest.approx(exact.var(), abs=tol)


def test_beta_posterior_is_sequential():
    rng = np.random.default_rng(5)
    flips = rng.integers(0, 2, 30)
    a, b = 2.0, 3.0
    for f in flips:
        a, b = beta_bernoulli_posterior(a, b, [f])
    assert (a, b) == beta_bernoulli_posterior(2.0, 3.0, flips)
    assert beta_bernoulli_posterior(2.0, 3.0, []) == (2.0, 3.0)
    assert beta_bernoulli_posterior(1, 1, [True, False, True]) == (3.0, 2.0)


def test_beta_posterior_error_paths():
    with pytest.raises(ValueError, match="positive"):
        beta_bernoulli_posterior(0.0, 1.0, [1])
    with pytest.raises(ValueError, match="positive"):
        beta_bernoulli_posterior(1.0, np.inf, [1])
    with pytest.raises(ValueError, match="only 0 and 1"):
        beta_bernoulli_posterior(1.0, 1.0, [0, 2])
    with pytest.raises(ValueError, match="1-D"):
        beta_bernoulli_posterior(1.0, 1.0, [[0, 1]])


# --------------------------------------------------------------------------
# Exponential family
# --------------------------------------------------------------------------


def gaussian_stats(x):
    return np.column_stack([x, x**2])


def log_h_gaussian(x):
    return np.full_like(x, -0.5 * math.log(2 * math.pi))


@pytest.mark.parametrize("mu,var", [(0.0, 1.0), (2.5, 0.3), (-4.0, 9.0)])
def test_gaussian_as_exponential_family(mu, var):
    x = np.linspace(-10, 10, 41)
    eta = gaussian_to_natural(mu, var)
    lp = exp_family_logpdf(
        x, eta, gaussian_stats, gaussian_log_partition, log_h_gaussian
    )
    ref = scipy.stats.norm(mu, math.sqrt(var)).logpdf(x)
    np.testing.assert_allclose(lp, ref, rtol=1e-12, atol=1e-12)
    back = natural_to_gaussian(eta)
    assert back == pytest.approx((mu, var), rel=1e-15, abs=1e-15)


@pytest.mark.parametrize("mu,var", [(0.0, 1.0), (1.5, 0.5)])
def test_gradient_of_log_partition_is_mean_of_stats(mu, var):
    eta = gaussian_to_natural(mu, var)
    h = 1e-6
    grad = [
        (
            gaussian_log_partition(eta + h * e)
            - gaussian_log_partition(eta - h * e)
        )
        / (2 * h)
        for e in np.eye(2)
    ]
    # Central differences: O(h^2) truncation plus O(eps / h) round-off.
    np.testing.assert_allclose(grad, [mu, mu**2 + var], rtol=1e-7)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.93])
def test_bernoulli_as_exponential_family(p):
    eta = np.array([math.log(p / (1 - p))])
    lp = exp_family_logpdf(
        np.array([0.0, 1.0]),
        eta,
        lambda x: x[:, None],
        lambda e: float(np.logaddexp(0.0, e[0])),
        np.zeros_like,
    )
    ref = scipy.stats.bernoulli(p).logpmf([0, 1])
    np.testing.assert_allclose(lp, ref, rtol=1e-12)


def test_exponential_family_error_paths():
    with pytest.raises(ValueError, match="eta2 < 0"):
        gaussian_log_partition([0.0, 0.5])
    with pytest.raises(ValueError, match="two finite numbers"):
        natural_to_gaussian([1.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="var positive"):
        gaussian_to_natural(0.0, 0.0)
    with pytest.raises(ValueError, match="must have shape"):
        exp_family_logpdf(
            np.zeros(3),
            np.zeros(2),
            lambda x: x[:, None],
            lambda e: 0.0,
            np.zeros_like,
        )
    with pytest.raises(ValueError, match="1-D"):
        exp_family_logpdf(
            np.zeros((3, 1)),
            np.zeros(1),
            lambda x: x,
            lambda e: 0.0,
            np.zeros_like,
        )


# --------------------------------------------------------------------------
# Change of variables and inverse-transform sampling
# --------------------------------------------------------------------------


def test_change_of_variables_gives_the_lognormal():
    pdf = change_of_variables_pdf(
        scipy.stats.norm.pdf, np.log, lambda y: 1 / y
    )
    y = np.geomspace(1e-3, 1e3, 50)
    ref = scipy.stats.lognorm(s=1.0).pdf(y)
    np.testing.assert_allclose(pdf(y), ref, rtol=1e-12)


@pytest.mark.parametrize("a,b", [(2.0, 1.0), (-0.5, 3.0)])
def test_change_of_variables_for_affine_maps(a, b):
    # Y = a X + b with X ~ N(0, 1) is N(b, a^2), for a of either sign.
    pdf = change_of_variables_pdf(
        scipy.stats.norm.pdf,
        lambda y: (y - b) / a,
        lambda y: np.full_like(y, 1 / a),
    )
    y = np.linspace(-5, 5, 21)
    ref = scipy.stats.norm(b, abs(a)).pdf(y)
    np.testing.assert_allclose(pdf(y), ref, rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lam", [0.5, 1.0, 4.0])
def test_inverse_transform_exponential_passes_dkw(lam, seed):
    rng = np.random.default_rng(seed)
    n = 20_000
    x = inverse_transform_sample(lambda u: -np.log1p(-u) / lam, n, rng)
    cdf = scipy.stats.expon(scale=1 / lam).cdf
    d = ks_statistic(x, cdf)
    assert d <= dkw_bound(n, 1e-3)
    # ...while the samples of a wrong rate fail it.
    assert ks_statistic(x, scipy.stats.expon(scale=1.2 / lam).cdf) > (
        dkw_bound(n, 1e-3)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_ks_statistic_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(500) + 0.1
    ref = scipy.stats.kstest(x, scipy.stats.norm.cdf).statistic
    assert ks_statistic(x, scipy.stats.norm.cdf) == pytest.approx(
        ref, rel=1e-12
    )


def test_dkw_bound_closed_form_and_errors():
    assert dkw_bound(1, 2 * math.exp(-2)) == pytest.approx(1.0, rel=1e-15)
    assert dkw_bound(400, 0.05) == pytest.approx(
        math.sqrt(math.log(40) / 800), rel=1e-15
    )
    with pytest.raises(ValueError, match="alpha"):
        dkw_bound(10, 1.0)
    with pytest.raises(ValueError, match="positive integer"):
        dkw_bound(0, 0.1)


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_inverse_cdf_frequencies(seed):
    rng = np.random.default_rng(seed)
    p = np.array([0.1, 0.0, 0.45, 0.25, 0.2])
    n = 100_000
    k = inverse_transform_sample(categorical_inverse_cdf(p), n, rng)
    freq = np.bincount(k, minlength=p.size) / n
    assert freq[1] == 0.0
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) <= 5 * se)


def test_categorical_inverse_cdf_is_the_generalised_inverse():
    inv = categorical_inverse_cdf([0.25, 0.25, 0.5])
    u = np.array([0.0, 0.25, 0.2500001, 0.5, 0.75, 0.999999])
    np.testing.assert_array_equal(inv(u), [0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="sum to 1"):
        categorical_inverse_cdf([0.5, 0.6])
    with pytest.raises(ValueError, match="non-negative"):
        categorical_inverse_cdf([1.5, -0.5])


def test_inverse_transform_error_paths():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="positive integer"):
        inverse_transform_sample(lambda u: u, -1, rng)
    with pytest.raises(TypeError, match="Generator"):
        inverse_transform_sample(lambda u: u, 5, None)
    with pytest.raises(ValueError, match="same shape"):
        inverse_transform_sample(lambda u: u[:2], 5, rng)
    with pytest.raises(ValueError, match="non-empty"):
        ks_statistic([], lambda x: x)
