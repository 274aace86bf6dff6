"""Tests of m4ml.linear_regression against closed forms and scikit-learn."""

import numpy as np
import pytest
import scipy.optimize
from sklearn.linear_model import Lasso, Ridge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.preprocessing import PolynomialFeatures

from m4ml.linear_regression import (
    bayesian_linear_regression,
    lasso,
    lasso_objective,
    maximum_likelihood,
    polynomial_basis,
    predictive,
    rbf_basis,
    ridge,
    soft_threshold,
)
from m4ml.probability import gaussian_condition
from m4ml.statistics import gaussian_log_likelihood
from m4ml.vector_calculus import numerical_gradient

SEEDS = [0, 1, 2]
SHAPES = [(20, 1), (30, 5), (50, 12), (8, 8)]


def problem(seed, N, D, noise=0.3):
    """Random data from a linear model with Gaussian noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    w = rng.standard_normal(D)
    return X, X @ w + noise * rng.standard_normal(N)


def kkt_violation(X, y, w, lam):
    """The largest violation of the lasso optimality conditions."""
    c = X.T @ (y - X @ w)
    nz = w != 0
    on = np.abs(c[nz] - lam * np.sign(w[nz]))
    off = np.abs(c[~nz]) - lam
    return max(np.max(on, initial=0.0), np.max(off, initial=0.0))


# --------------------------------------------------------------------------
# Basis functions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [0, 1, 4, 9])
@pytest.mark.parametrize("seed", SEEDS)
def test_polynomial_basis_is_the_vandermonde_matrix(degree, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, 15)
    Phi = polynomial_basis(x, degree)
    assert Phi.shape == (15, degree + 1)
    np.testing.assert_allclose(
        Phi, np.vander(x, degree + 1, increasing=True), rtol=1e-14
    )
    sk = PolynomialFeatures(degree).fit_transform(x[:, None])
    np.testing.assert_allclose(Phi, sk, rtol=1e-14)


@pytest.mark.parametrize(
    "x, degree, match",
    [
        (np.ones((3, 2)), 2, "1-D"),
        ([1.0, 2.0], -1, "degree"),
        ([1.0, 2.0], 2.0, "degree"),
        ([1.0, np.nan], 2, "NaN"),
    ],
)
def test_polynomial_basis_rejects_bad_input(x, degree, match):
    with pytest.raises(ValueError, match=match):
        polynomial_basis(x, degree)


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("ell", [0.1, 1.0, 3.0])
def test_rbf_basis_matches_scikit_learn(d, ell):
    rng = np.random.default_rng(7)
    x, c = rng.standard_normal((12, d)), rng.standard_normal((5, d))
    Phi = rbf_basis(x, c, ell, bias=False)
    ref = rbf_kernel(x, c, gamma=1 / (2 * ell**2))
    # scikit-learn expands ||x - c||^2 = |x|^2 + |c|^2 - 2 x.c, which has
    # absolute round-off: compare with a small absolute tolerance too.
    np.testing.assert_allclose(Phi, ref, rtol=1e-12, atol=1e-15)
    with_bias = rbf_basis(x, c, ell)
    assert with_bias.shape == (12, 6)
    np.testing.assert_array_equal(with_bias[:, 0], 1.0)
    np.testing.assert_array_equal(with_bias[:, 1:], Phi)


def test_rbf_basis_accepts_scalar_inputs():
    Phi = rbf_basis([0.0, 1.0, 2.0], [1.0, 2.0], 1.0, bias=False)
    expected = np.exp(-0.5 * np.array([[1, 4], [0, 1], [1, 0]]))
    np.testing.assert_allclose(Phi, expected, rtol=1e-15)


@pytest.mark.parametrize(
    "x, c, ell, match",
    [
        (np.zeros((3, 2)), np.zeros((2, 3)), 1.0, "R\\^2"),
        ([0.0], [0.0], 0.0, "lengthscale"),
        ([0.0], [0.0], -1.0, "lengthscale"),
        ([0.0], [np.inf], 1.0, "infinite"),
        (np.zeros(0), [0.0], 1.0, "non-empty"),
    ],
)
def test_rbf_basis_rejects_bad_input(x, c, ell, match):
    with pytest.raises(ValueError, match=match):
        rbf_basis(x, c, ell)


# --------------------------------------------------------------------------
# Ridge and maximum likelihood
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [1e-3, 0.5, 10.0])
@pytest.mark.parametrize("N, D", SHAPES + [(5, 10)])
def test_ridge_matches_the_closed_form_and_scikit_learn(N, D, lam):
    X, y = problem(N + D, N, D)
    w = ridge(X, y, lam)
    closed = np.linalg.solve(X.T @ X + lam * np.eye(D), X.T @ y)
    # The condition number of X^T X + lam I is at most (s_max^2 + lam)/lam.
    kappa = (np.linalg.norm(X, 2) ** 2 + lam) / lam
    np.testing.assert_allclose(w, closed, rtol=0, atol=1e-14 * kappa * 10)
    sk = Ridge(alpha=lam, fit_intercept=False, solver="svd").fit(X, y)
    np.testing.assert_allclose(w, sk.coef_, rtol=0, atol=1e-13 * kappa)


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_gradient_vanishes_at_the_solution(seed):
    X, y = problem(seed, 40, 6)
    lam = 2.0
    w = ridge(X, y, lam)
    grad = 2 * X.T @ (X @ w - y) + 2 * lam * w
    np.testing.assert_allclose(grad, 0.0, atol=1e-11)


@pytest.mark.parametrize("N, D", SHAPES + [(5, 10)])
def test_ridge_with_lam_zero_is_lstsq(N, D):
    X, y = problem(3, N, D)
    np.testing.assert_allclose(
        ridge(X, y, 0.0),
        np.linalg.lstsq(X, y, rcond=None)[0],
        rtol=1e-10,
        atol=1e-12,
    )


def test_ridge_with_lam_zero_is_min_norm_on_rank_deficient_data():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((10, 2))
    X = np.hstack([A, A[:, :1]])  # a repeated column: rank 2
    y = rng.standard_normal(10)
    np.testing.assert_allclose(
        ridge(X, y, 0.0), np.linalg.pinv(X) @ y, rtol=1e-10
    )


def test_ridge_shrinks_towards_zero():
    X, y = problem(1, 30, 4)
    norms = [np.linalg.norm(ridge(X, y, lam)) for lam in [0, 1, 10, 100]]
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False))
    assert np.linalg.norm(ridge(X, y, 1e12)) < 1e-9


@pytest.mark.parametrize(
    "X, y, lam, match",
    [
        (np.ones((3, 2)), np.ones(3), -1.0, "non-negative"),
        (np.ones((3, 2)), np.ones(3), np.inf, "finite"),
        (np.ones((3, 2)), np.ones(3), True, "real number"),
        (np.ones((3, 2)), np.ones(4), 1.0, "shape \\(3,\\)"),
        (np.ones(3), np.ones(3), 1.0, "2-D"),
        (np.ones((3, 2)), [1.0, np.nan, 1.0], 1.0, "NaN"),
    ],
)
def test_ridge_rejects_bad_input(X, y, lam, match):
    with pytest.raises(ValueError, match=match):
        ridge(X, y, lam)


@pytest.mark.parametrize("seed", SEEDS)
def test_maximum_likelihood_maximises_the_gaussian_likelihood(seed):
    X, y = problem(seed, 25, 3)
    w, s2 = maximum_likelihood(X, y)
    np.testing.assert_allclose(
        w, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-12
    )
    r = y - X @ w
    assert s2 == pytest.approx(r @ r / 25, rel=1e-14)

    def loglik(theta):
        return gaussian_log_likelihood(y - X @ theta[:3], 0.0, theta[3])

    theta = np.append(w, s2)
    # The score vanishes at the maximum (central differences, h = 1e-6).
    np.testing.assert_allclose(
        numerical_gradient(loglik, theta), 0.0, atol=1e-5
    )
    rng = np.random.default_rng(seed)
    for _ in range(20):
        other = theta + 0.05 * rng.standard_normal(4)
        other[3] = abs(other[3])
        assert loglik(other) < loglik(theta)


def test_maximum_likelihood_rejects_bad_input():
    with pytest.raises(ValueError, match="rows of Phi"):
        maximum_likelihood(np.ones((3, 2)), np.ones(2))


# --------------------------------------------------------------------------
# Soft-thresholding and the lasso
# --------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.5])
def test_soft_threshold_is_the_proximal_operator_of_the_l1_norm(t):
    zs = np.linspace(-4, 4, 17)
    got = soft_threshold(zs, t)
    for z, g in zip(zs, got, strict=True):

        def f(w, z=z):
            return 0.5 * (w - z) ** 2 + t * abs(w)

        res = scipy.optimize.minimize_scalar(
            f, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10}
        )
        # Brent's method stops within about 1e-8 of the minimiser; the
        # closed form must do at least as well on the objective.
        assert g == pytest.approx(res.x, abs=1e-6)
        assert f(g) <= f(res.x) + 1e-15
    np.testing.assert_array_equal(got[np.abs(zs) <= t], 0.0)


def test_soft_threshold_scalars_and_broadcasting():
    assert soft_threshold(-3.0, 1.0) == -2.0
    assert isinstance(soft_threshold(0.5, 1.0), float)
    np.testing.assert_array_equal(
        soft_threshold([[1.0, -2.0]], [[0.5], [3.0]]),
        [[0.5, -1.5], [0.0, 0.0]],
    )
    assert not np.signbit(soft_threshold(-0.5, 1.0))  # +0.0, not -0.0


def test_soft_threshold_rejects_a_negative_threshold():
    with pytest.raises(ValueError, match="non-negative"):
        soft_threshold([1.0], -0.1)


def diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y - y.mean()


@pytest.mark.parametrize("accelerated", [False, True])
@pytest.mark.parametrize("frac", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("data", ["random", "diabetes"])
def test_lasso_matches_scikit_learn_and_kkt(data, frac, accelerated):
    X, y = problem(4, 60, 8) if data == "random" else diabetes()
    N = X.shape[0]
    lam = frac * np.max(np.abs(X.T @ y))
    w = lasso(X, y, lam, tol=1e-12, accelerated=accelerated)
    scale = np.max(np.abs(X.T @ y))
    # The stopping rule bounds the KKT violation by tol * max|X^T y|.
    assert kkt_violation(X, y, w, lam) <= 1e-12 * scale
    sk = Lasso(
        alpha=lam / N, fit_intercept=False, tol=1e-14, max_iter=1_000_000
    ).fit(X, y)
    np.testing.assert_allclose(
        w, sk.coef_, rtol=0, atol=1e-6 * np.max(np.abs(w))
    )
    np.testing.assert_array_equal(w == 0, sk.coef_ == 0)
    assert lasso_objective(X, y, w, lam) <= lasso_objective(
        X, y, sk.coef_, lam
    ) * (1 + 1e-12)


def test_lasso_gives_exact_zeros_and_all_zeros_above_lam_max():
    X, y = diabetes()
    lam_max = np.max(np.abs(X.T @ y))
    w = lasso(X, y, 0.3 * lam_max, accelerated=True)
    assert 0 < np.count_nonzero(w == 0) < w.size
    np.testing.assert_array_equal(lasso(X, y, lam_max), 0.0)
    assert np.count_nonzero(lasso(X, y, 0.999 * lam_max)) == 1


def test_lasso_with_lam_zero_is_least_squares():
    X, y = problem(5, 40, 4)
    w = lasso(X, y, 0.0, tol=1e-13, accelerated=True)
    np.testing.assert_allclose(
        w, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_lasso_on_an_orthonormal_design_is_one_soft_threshold(seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((30, 6)))
    y = rng.standard_normal(30)
    lam = 0.5
    np.testing.assert_allclose(
        lasso(Q, y, lam), soft_threshold(Q.T @ y, lam), atol=1e-12
    )


def test_ista_is_monotone_and_fista_is_faster():
    X, y = diabetes()
    lam = 0.02 * np.max(np.abs(X.T @ y))
    w1, f1 = lasso(X, y, lam, history=True)
    w2, f2 = lasso(X, y, lam, accelerated=True, history=True)
    assert np.all(np.diff(f1) <= 1e-12 * f1[0])
    assert len(f2) < len(f1) / 5
    np.testing.assert_allclose(w1, w2, atol=1e-6 * np.max(np.abs(w1)))
    assert f1[0] == pytest.approx(0.5 * y @ y)


def test_lasso_warm_start_and_degenerate_data():
    X, y = problem(6, 30, 5)
    lam = 1.0
    w = lasso(X, y, lam)
    w_warm, f = lasso(X, y, lam, w0=w, history=True)
    assert len(f) <= 3
    np.testing.assert_allclose(w_warm, w, atol=1e-9)
    np.testing.assert_array_equal(lasso(np.zeros((4, 2)), np.ones(4), 1.0), 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lam": -1.0}, "lam"),
        ({"lam": 1.0, "tol": -1.0}, "tol"),
        ({"lam": 1.0, "n_iter": 0}, "n_iter"),
        ({"lam": 1.0, "n_iter": 2.5}, "n_iter"),
        ({"lam": 1.0, "w0": np.zeros(3)}, "w0"),
    ],
)
def test_lasso_rejects_bad_input(kwargs, match):
    X, y = problem(0, 10, 2)
    with pytest.raises(ValueError, match=match):
        lasso(X, y, **kwargs)


def test_lasso_objective_rejects_a_bad_w():
    with pytest.raises(ValueError, match="w must have shape"):
        lasso_objective(np.ones((3, 2)), np.ones(3), np.ones(3), 1.0)


# --------------------------------------------------------------------------
# Bayesian linear regression
# --------------------------------------------------------------------------


def random_spd(rng, D):
    A = rng.standard_normal((D, D))
    return A @ A.T + 0.5 * np.eye(D)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("N, D", [(1, 3), (10, 3), (40, 6), (3, 8)])
def test_posterior_matches_the_precision_form(N, D, seed):
    rng = np.random.default_rng(seed)
    Phi = rng.standard_normal((N, D))
    y = rng.standard_normal(N)
    S0, m0, s2 = random_spd(rng, D), rng.standard_normal(D), 0.3
    m, S = bayesian_linear_regression(Phi, y, s2, S0, m0)
    P0 = np.linalg.inv(S0)
    S_ref = np.linalg.inv(P0 + Phi.T @ Phi / s2)
    m_ref = S_ref @ (P0 @ m0 + Phi.T @ y / s2)
    np.testing.assert_allclose(S, S_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(m, m_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(S, S.T)
    assert np.linalg.eigvalsh(S).min() > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_posterior_is_a_gaussian_conditional(seed):
    rng = np.random.default_rng(seed)
    N, D, s2 = 7, 4, 0.5
    Phi, y = rng.standard_normal((N, D)), rng.standard_normal(N)
    S0, m0 = random_spd(rng, D), rng.standard_normal(D)
    joint_mean = np.concatenate([m0, Phi @ m0])
    joint_cov = np.block(
        [[S0, S0 @ Phi.T], [Phi @ S0, Phi @ S0 @ Phi.T + s2 * np.eye(N)]]
    )
    m_ref, S_ref = gaussian_condition(
        joint_mean, joint_cov, np.arange(D, D + N), y
    )
    m, S = bayesian_linear_regression(Phi, y, s2, S0, m0)
    np.testing.assert_allclose(m, m_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(S, S_ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("prior_var", [0.1, 1.0, 50.0])
def test_posterior_mean_is_ridge(prior_var):
    X, y = problem(8, 30, 5)
    s2 = 0.2
    m, _ = bayesian_linear_regression(X, y, s2, prior_var)
    np.testing.assert_allclose(m, ridge(X, y, s2 / prior_var), rtol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_sequential_updates_equal_the_batch_posterior(seed):
    rng = np.random.default_rng(seed)
    Phi, y = rng.standard_normal((12, 3)), rng.standard_normal(12)
    m, S = bayesian_linear_regression(Phi, y, 0.4, 2.0)
    mk, Sk = np.zeros(3), 2.0 * np.eye(3)
    for chunk in np.array_split(np.arange(12), [1, 5, 6]):
        mk, Sk = bayesian_linear_regression(Phi[chunk], y[chunk], 0.4, Sk, mk)
    np.testing.assert_allclose(mk, m, rtol=1e-10)
    np.testing.assert_allclose(Sk, S, rtol=1e-10, atol=1e-14)


def test_prior_forms_and_no_data():
    rng = np.random.default_rng(1)
    Phi, y = rng.standard_normal((5, 3)), rng.standard_normal(5)
    d = np.array([0.5, 2.0, 3.0])
    forms = [
        bayesian_linear_regression(Phi, y, 1.0, d),
        bayesian_linear_regression(Phi, y, 1.0, np.diag(d)),
    ]
    np.testing.assert_allclose(forms[0][0], forms[1][0], rtol=1e-14)
    np.testing.assert_allclose(forms[0][1], forms[1][1], rtol=1e-14)
    m, S = bayesian_linear_regression(
        np.zeros((0, 3)), np.zeros(0), 1.0, np.diag(d), [1.0, 2.0, 3.0]
    )
    np.testing.assert_allclose(m, [1.0, 2.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(S, np.diag(d), rtol=1e-15)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"noise_var": 0.0}, "noise_var"),
        ({"prior_cov": -1.0}, "positive definite"),
        ({"prior_cov": [[1.0, 2.0], [0.0, 1.0]]}, "symmetric"),
        ({"prior_cov": np.eye(3)}, "prior_cov must be"),
        ({"prior_mean": np.zeros(3)}, "prior_mean"),
        ({"y": np.zeros(4)}, "shape \\(5,\\)"),
        ({"Phi": np.zeros(5)}, "2-D"),
    ],
)
def test_bayesian_linear_regression_rejects_bad_input(kwargs, match):
    args = {
        "Phi": np.ones((5, 2)),
        "y": np.zeros(5),
        "noise_var": 1.0,
        "prior_cov": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bayesian_linear_regression(**args)


@pytest.mark.parametrize("seed", SEEDS)
def test_predictive_mean_and_variance(seed):
    rng = np.random.default_rng(seed)
    Phi_new = rng.standard_normal((9, 4))
    m, S = rng.standard_normal(4), random_spd(rng, 4)
    mu, var = predictive(Phi_new, m, S, 0.7)
    np.testing.assert_allclose(mu, Phi_new @ m, rtol=1e-14)
    np.testing.assert_allclose(
        var, np.diag(Phi_new @ S @ Phi_new.T) + 0.7, rtol=1e-12
    )
    _, var0 = predictive(Phi_new, m, S, 0.0)
    np.testing.assert_allclose(var - var0, 0.7, rtol=1e-12)


def test_predictive_variance_shrinks_with_more_data():
    rng = np.random.default_rng(3)
    Phi, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    Phi_new = rng.standard_normal((50, 3))
    variances = []
    for n in [0, 1, 5, 30]:
        m, S = bayesian_linear_regression(Phi[:n], y[:n], 0.5, 1.0)
        variances.append(predictive(Phi_new, m, S, 0.5)[1])
    for a, b in zip(variances, variances[1:], strict=False):
        assert np.all(b <= a * (1 + 1e-12))
    assert np.all(variances[-1] >= 0.5)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones((2, 3)), np.zeros(2), np.eye(2), 1.0), "shapes"),
        ((np.ones((2, 2)), np.zeros(2), np.eye(2), -1.0), "noise_var"),
        ((np.ones(2), np.zeros(2), np.eye(2), 1.0), "2-D"),
    ],
)
def test_predictive_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        predictive(*args)
