"""Tests of m4ml.gmm against scipy, scikit-learn and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special
import scipy.stats
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from m4ml.gmm import (
    GMMResult,
    bic,
    e_step,
    elbo,
    fit_gmm,
    gmm_log_likelihood,
    gmm_logpdf,
    kmeans,
    log_joint,
    logsumexp,
    m_step,
    n_parameters,
    sample_gmm,
    soft_kmeans,
)

SEEDS = [0, 1, 2]


def random_spd(rng, d):
    A = rng.standard_normal((d, d))
    return A @ A.T + 0.5 * np.eye(d)


def random_mixture(rng, k, d):
    w = rng.dirichlet(np.ones(k))
    mu = 3.0 * rng.standard_normal((k, d))
    S = np.stack([random_spd(rng, d) for _ in range(k)])
    return w, mu, S


def datasets():
    iris = load_iris().data
    blobs, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    return {
        "iris2": iris[:, 2:4],
        "iris4": iris,
        "blobs": blobs,
    }


DATA = datasets()


# ---------------------------------------------------------------- logsumexp


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape,axis", [((7,), -1), ((5, 3), 1), ((4, 6), 0)])
def test_logsumexp_matches_scipy(seed, shape, axis):
    rng = np.random.default_rng(seed)
    a = 50.0 * rng.standard_normal(shape)
    np.testing.assert_allclose(
        logsumexp(a, axis=axis),
        scipy.special.logsumexp(a, axis=axis),
        rtol=1e-13,
    )


def test_logsumexp_extremes():
    assert logsumexp([1e4, 1e4]) == pytest.approx(1e4 + np.log(2.0))
    assert logsumexp([-1e4, -np.inf]) == -1e4
    assert logsumexp([-np.inf, -np.inf]) == -np.inf
    with pytest.raises(ValueError, match="non-empty"):
        logsumexp([])
    with pytest.raises(ValueError, match="NaN"):
        logsumexp([0.0, np.nan])


# ---------------------------------------------------------------- density


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k,d", [(1, 1), (3, 2), (4, 3)])
def test_gmm_logpdf_matches_scipy(seed, k, d):
    rng = np.random.default_rng(seed)
    w, mu, S = random_mixture(rng, k, d)
    X = 2.0 * rng.standard_normal((30, d))
    dens = sum(
        w[j] * scipy.stats.multivariate_normal(mu[j], S[j]).pdf(X)
        for j in range(k)
    )
    np.testing.assert_allclose(
        gmm_logpdf(X, w, mu, S), np.log(dens).reshape(-1), rtol=1e-10
    )
    assert gmm_log_likelihood(X, w, mu, S) == pytest.approx(
        np.sum(np.log(dens)), rel=1e-10
    )
    L = log_joint(X, w, mu, S)
    assert L.shape == (30, k)


@pytest.mark.parametrize("seed", SEEDS)
def test_gmm_logpdf_matches_sklearn_score_samples(seed):
    rng = np.random.default_rng(seed)
    X = DATA["iris4"]
    res = fit_gmm(X, 3, rng, n_iter=5)
    gm = GaussianMixture(
        3,
        max_iter=1,
        weights_init=res.weights,
        means_init=res.means,
        precisions_init=np.linalg.inv(res.covs),
    )
    # set the fitted state by hand: weights, means, precision factors
    gm.weights_, gm.means_, gm.covariances_ = res.weights, res.means, res.covs
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(res.covs))
    np.testing.assert_allclose(
        gmm_logpdf(X, res.weights, res.means, res.covs),
        gm.score_samples(X),
        rtol=1e-10,
    )


def test_far_points_are_stable():
    w, mu, S = [0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]]
    X = np.array([[1e3], [-1e3]])  # every density underflows to 0
    resp, ll = e_step(X, w, mu, S)
    assert np.all(np.isfinite(resp)) and np.isfinite(ll)
    np.testing.assert_allclose(resp[0], [0.0, 1.0], atol=1e-300)
    np.testing.assert_allclose(resp[1], [1.0, 0.0], atol=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_sample_gmm_frequencies_and_moments(seed):
    rng = np.random.default_rng(seed)
    w, mu, S = (
        np.array([0.2, 0.8]),
        np.array([[-5.0], [5.0]]),
        np.ones((2, 1, 1)),
    )
    n = 20_000
    X, z = sample_gmm(w, mu, S, n, rng)
    assert X.shape == (n, 1) and z.shape == (n,)
    freq = np.mean(z == 0)
    assert abs(freq - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)
    for k in range(2):
        xs = X[z == k, 0]
        assert abs(xs.mean() - mu[k, 0]) < 4 / np.sqrt(xs.size)


def test_sample_gmm_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="sum to 1"):
        sample_gmm([0.5, 0.6], [[0.0], [1.0]], np.ones((2, 1, 1)), 3, rng)
    with pytest.raises(TypeError, match="Generator"):
        sample_gmm([1.0], [[0.0]], np.ones((1, 1, 1)), 3, 0)
    with pytest.raises(ValueError, match="n must be"):
        sample_gmm([1.0], [[0.0]], np.ones((1, 1, 1)), 0, rng)


def test_parameter_shape_errors():
    X = np.zeros((4, 2))
    w, mu, S = [0.5, 0.5], np.zeros((2, 2)), np.stack([np.eye(2)] * 2)
    with pytest.raises(ValueError, match="means must have shape"):
        log_joint(X, w, np.zeros((3, 2)), S)
    with pytest.raises(ValueError, match="to match X"):
        log_joint(X, w, np.zeros((2, 3)), np.stack([np.eye(3)] * 2))
    with pytest.raises(ValueError, match="covs must have shape"):
        log_joint(X, w, mu, np.stack([np.eye(2)] * 3))
    with pytest.raises(ValueError, match="non-negative"):
        log_joint(X, [1.5, -0.5], mu, S)
    with pytest.raises(ValueError, match="X must be"):
        log_joint(np.zeros(4), w, mu, S)
    with pytest.raises(ValueError, match="finite"):
        log_joint(np.full((4, 2), np.nan), w, mu, S)
    with pytest.raises(ValueError, match="positive definite"):
        log_joint(X, w, mu, np.stack([np.eye(2), -np.eye(2)]))


# ---------------------------------------------------------------- E and M


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k,d", [(2, 1), (3, 2), (4, 3)])
def test_e_step_is_bayes(seed, k, d):
    rng = np.random.default_rng(seed)
    w, mu, S = random_mixture(rng, k, d)
    X = 2.0 * rng.standard_normal((25, d))
    resp, ll = e_step(X, w, mu, S)
    joint = np.column_stack(
        [
            w[j] * scipy.stats.multivariate_normal(mu[j], S[j]).pdf(X)
            for j in range(k)
        ]
    )
    np.testing.assert_allclose(
        resp, joint / joint.sum(1, keepdims=True), rtol=1e-9, atol=1e-300
    )
    np.testing.assert_allclose(resp.sum(1), 1.0, rtol=1e-14)
    assert ll == pytest.approx(gmm_log_likelihood(X, w, mu, S), rel=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k,d", [(1, 2), (3, 2), (2, 4)])
def test_m_step_is_weighted_averages(seed, k, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, d))
    resp = rng.dirichlet(np.ones(k), size=40)
    reg = 1e-3
    w, mu, S = m_step(X, resp, reg_covar=reg)
    np.testing.assert_allclose(w, resp.mean(0), rtol=1e-12)
    for j in range(k):
        np.testing.assert_allclose(
            mu[j], np.average(X, axis=0, weights=resp[:, j]), rtol=1e-12
        )
        expected = np.cov(X, rowvar=False, aweights=resp[:, j], bias=True)
        np.testing.assert_allclose(
            S[j], np.atleast_2d(expected) + reg * np.eye(d), rtol=1e-11
        )


def test_m_step_with_hard_assignments():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0]])
    resp = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    w, mu, S = m_step(X, resp, reg_covar=0.0)
    np.testing.assert_allclose(w, [2 / 3, 1 / 3], rtol=1e-14)
    np.testing.assert_allclose(mu, [[1.0, 0.0], [5.0, 5.0]], rtol=1e-14)
    np.testing.assert_allclose(S[0], [[1.0, 0.0], [0.0, 0.0]], atol=1e-14)
    np.testing.assert_allclose(S[1], 0.0, atol=1e-14)


def test_m_step_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="one row per point"):
        m_step(X, np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="sum to 1"):
        m_step(X, np.full((3, 2), 0.4))
    with pytest.raises(ValueError, match="non-negative"):
        m_step(X, [[1.5, -0.5]] * 3)
    with pytest.raises(ValueError, match="shape"):
        m_step(X, np.ones(3))
    with pytest.raises(ValueError, match="reg_covar"):
        m_step(X, np.full((3, 2), 0.5), reg_covar=-1.0)


# ---------------------------------------------------------------- ELBO


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k,d", [(2, 1), (3, 2)])
def test_elbo_decomposition(seed, k, d):
    rng = np.random.default_rng(seed)
    w, mu, S = random_mixture(rng, k, d)
    X = 2.0 * rng.standard_normal((30, d))
    post, ll = e_step(X, w, mu, S)
    assert elbo(X, post, w, mu, S) == pytest.approx(ll, rel=1e-12)
    q = rng.dirichlet(np.ones(k), size=30)
    kl = np.sum(scipy.special.rel_entr(q, post))
    assert elbo(X, q, w, mu, S) == pytest.approx(ll - kl, rel=1e-10)
    assert elbo(X, q, w, mu, S) < ll


def test_elbo_zero_responsibilities_and_errors():
    X, w, mu, S = [[0.0]], [0.5, 0.5], [[0.0], [1.0]], np.ones((2, 1, 1))
    hard = elbo(X, [[1.0, 0.0]], w, mu, S)
    assert hard == pytest.approx(float(log_joint(X, w, mu, S)[0, 0]))
    with pytest.raises(ValueError, match="shape"):
        elbo(X, [[0.2, 0.3, 0.5]], w, mu, S)


# ---------------------------------------------------------------- fit_gmm


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("seed", SEEDS)
def test_log_likelihood_never_decreases(name, seed):
    X = DATA[name]
    res = fit_gmm(
        X, 3, np.random.default_rng(seed), n_iter=200, tol=0.0, reg_covar=0.0
    )
    scale = np.abs(res.log_likelihoods).max()
    # exact EM: no decrease beyond float64 round-off in sums of N terms
    assert np.all(np.diff(res.log_likelihoods) >= -1e-13 * scale)
    np.testing.assert_allclose(res.resp.sum(1), 1.0, rtol=1e-13)
    assert res.log_likelihood == pytest.approx(
        gmm_log_likelihood(X, res.weights, res.means, res.covs), rel=1e-13
    )


@pytest.mark.parametrize("name", sorted(DATA))
def test_covariance_floor_costs_at_most_second_order(name):
    X = DATA[name]
    N, D = X.shape
    eps = 1e-4
    res = fit_gmm(
        X, 3, np.random.default_rng(0), n_iter=200, tol=0.0, reg_covar=eps
    )
    lam_min = np.linalg.eigvalsh(res.covs).min() - eps
    # the floored M-step misses the maximiser by eps I, which costs at
    # most about N D eps^2 / (4 lam_min^2) (a second-order term)
    bound = N * D * eps**2 / (4 * lam_min**2)
    assert np.diff(res.log_likelihoods).min() >= -bound


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_iter", [1, 4, 25])
def test_fit_gmm_matches_sklearn_iteration_by_iteration(name, seed, n_iter):
    X = DATA[name]
    start = fit_gmm(X, 3, np.random.default_rng(seed), n_iter=0)
    res = fit_gmm(
        X,
        3,
        np.random.default_rng(seed),
        n_iter=n_iter,
        tol=0.0,
        reg_covar=1e-6,
    )
    gm = GaussianMixture(
        3,
        tol=0.0,
        max_iter=n_iter,
        reg_covar=1e-6,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=np.linalg.inv(start.covs),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    np.testing.assert_allclose(res.weights, gm.weights_, rtol=1e-9)
    np.testing.assert_allclose(res.means, gm.means_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        res.covs, gm.covariances_, rtol=1e-8, atol=1e-10
    )
    assert res.log_likelihood / X.shape[0] == pytest.approx(
        gm.score(X), rel=1e-10
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_fit_gmm_converged_matches_sklearn(seed):
    X = DATA["iris4"]
    start = fit_gmm(X, 2, np.random.default_rng(seed), n_iter=0)
    res = fit_gmm(X, 2, np.random.default_rng(seed), n_iter=2000, tol=1e-12)
    gm = GaussianMixture(
        2,
        tol=1e-12,
        max_iter=2000,
        weights_init=start.weights,
        means_init=start.means,
        precisions_init=np.linalg.inv(start.covs),
    ).fit(X)
    assert res.converged and gm.converged_
    assert res.log_likelihood / X.shape[0] == pytest.approx(
        gm.score(X), rel=1e-9
    )


def test_fit_gmm_recovers_a_known_mixture():
    rng = np.random.default_rng(5)
    w = np.array([0.3, 0.7])
    mu = np.array([[-4.0, 0.0], [4.0, 1.0]])
    S = np.stack([np.eye(2), np.array([[2.0, 0.5], [0.5, 1.0]])])
    X, _ = sample_gmm(w, mu, S, 4000, rng)
    res = fit_gmm(X, 2, rng, n_iter=300)
    order = np.argsort(res.means[:, 0])
    np.testing.assert_allclose(res.weights[order], w, atol=0.03)
    np.testing.assert_allclose(res.means[order], mu, atol=0.15)
    np.testing.assert_allclose(res.covs[order], S, atol=0.2)


def test_fit_gmm_history_init_and_n_init():
    X = DATA["iris2"]
    res = fit_gmm(
        X, 2, np.random.default_rng(0), n_iter=7, tol=0.0, keep_history=True
    )
    assert isinstance(res, GMMResult)
    assert res.n_iter == 7 and len(res.history) == 8
    assert len(res.log_likelihoods) == 8 and not res.converged
    w, mu, S = res.history[3]
    _, ll = e_step(X, w, mu, S)
    assert ll == pytest.approx(res.log_likelihoods[3], rel=1e-14)
    init = {"means": X[[0, 100]]}
    r1 = fit_gmm(X, 2, np.random.default_rng(0), n_iter=0, init=init)
    np.testing.assert_array_equal(r1.means, X[[0, 100]])
    np.testing.assert_allclose(r1.weights, 0.5)
    singles = [
        fit_gmm(X, 3, np.random.default_rng(s), n_iter=50).log_likelihood
        for s in range(4)
    ]
    best = fit_gmm(X, 3, np.random.default_rng(0), n_iter=50, n_init=4)
    assert best.log_likelihood >= min(singles)


def test_fit_gmm_errors():
    X = DATA["iris2"][:5]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="need at least 6 points"):
        fit_gmm(X, 6, rng)
    with pytest.raises(ValueError, match="k must be at least 1"):
        fit_gmm(X, 0, rng)
    with pytest.raises(ValueError, match="k must be an integer"):
        fit_gmm(X, 2.0, rng)
    with pytest.raises(ValueError, match="shape \\(N, D\\)"):
        fit_gmm(X.ravel(), 2, rng)
    with pytest.raises(ValueError, match="shape \\(N, D\\)"):
        fit_gmm(X[None], 2, rng)
    with pytest.raises(TypeError, match="Generator"):
        fit_gmm(X, 2, 42)
    with pytest.raises(ValueError, match="tol"):
        fit_gmm(X, 2, rng, tol=-1.0)
    with pytest.raises(ValueError, match="unknown keys"):
        fit_gmm(X, 2, rng, init={"mean": X[:2]})
    with pytest.raises(ValueError, match="means must have shape"):
        fit_gmm(X, 2, rng, init={"means": X[:3]})
    with pytest.raises(ValueError, match="weights"):
        fit_gmm(X, 2, rng, init={"weights": [1.0]})
    with pytest.raises(ValueError, match="mapping"):
        fit_gmm(X, 2, rng, init=X[:2])
    with pytest.raises(ValueError, match="n_init"):
        fit_gmm(X, 2, rng, init={"means": X[:2]}, n_init=2)


def test_likelihood_is_unbounded_at_a_collapsed_component():
    X = DATA["blobs"]  # no repeated points
    mean_all = X.mean(0)
    cov_all = np.cov(X, rowvar=False)
    sigmas = 10.0 ** -np.arange(2, 10)
    lls = [
        gmm_log_likelihood(
            X,
            [0.5, 0.5],
            np.stack([X[0], mean_all]),
            np.stack([s**2 * np.eye(2), cov_all]),
        )
        for s in sigmas
    ]
    assert np.all(np.diff(lls) > 0)
    # each factor 10 in sigma adds about D log 10 = 2 log 10
    np.testing.assert_allclose(np.diff(lls)[-3:], 2 * np.log(10), rtol=1e-6)


# ---------------------------------------------------------------- BIC


@pytest.mark.parametrize("k,d", [(1, 1), (2, 3), (5, 4)])
def test_n_parameters_matches_sklearn(k, d):
    X = np.random.default_rng(0).standard_normal((50, d))
    gm = GaussianMixture(k, random_state=0).fit(X)
    # scikit-learn's bic is -2 N score + p log N; solve it for p
    p = (gm.bic(X) + 2 * len(X) * gm.score(X)) / np.log(len(X))
    assert n_parameters(k, d) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_bic_matches_sklearn(k):
    X = DATA["iris4"]
    gm = GaussianMixture(k, random_state=0, tol=1e-8, max_iter=500).fit(X)
    ll = gmm_log_likelihood(X, gm.weights_, gm.means_, gm.covariances_)
    assert bic(ll, k, 4, X.shape[0]) == pytest.approx(gm.bic(X), rel=1e-10)


def test_bic_errors():
    with pytest.raises(ValueError, match="finite"):
        bic(np.inf, 1, 1, 10)
    with pytest.raises(ValueError, match="n must be"):
        bic(-1.0, 1, 1, 0)
    with pytest.raises(ValueError, match="d must be"):
        n_parameters(1, 0)


# ---------------------------------------------------------------- k-means


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_kmeans_matches_sklearn(seed, k):
    X, _ = make_blobs(n_samples=300, centers=4, random_state=seed)
    rng = np.random.default_rng(seed)
    C0 = X[rng.choice(len(X), k, replace=False)]
    km = KMeans(
        k, init=C0, n_init=1, algorithm="lloyd", tol=0.0, max_iter=300
    ).fit(X)
    mine = kmeans(X, k, init=C0)
    assert mine.converged
    np.testing.assert_array_equal(mine.labels, km.labels_)
    np.testing.assert_allclose(mine.centres, km.cluster_centers_, rtol=1e-10)
    assert mine.inertia == pytest.approx(km.inertia_, rel=1e-10)
    assert np.all(np.diff(mine.inertias) <= 1e-9 * mine.inertias[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_soft_kmeans_tends_to_kmeans(seed):
    X, _ = make_blobs(n_samples=200, centers=3, random_state=seed)
    rng = np.random.default_rng(seed)
    C0 = X[rng.choice(len(X), 3, replace=False)]
    hard = kmeans(X, 3, init=C0)
    mu, resp = soft_kmeans(X, C0, sigma2=1e-4, n_iter=300)
    np.testing.assert_allclose(mu, hard.centres, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(resp.argmax(1), hard.labels)
    assert np.min(resp.max(1)) > 1 - 1e-12
    # a large variance gives soft responsibilities
    _, soft = soft_kmeans(X, C0, sigma2=100.0, n_iter=5)
    assert np.min(soft.max(1)) < 0.9


def test_soft_kmeans_is_em_with_fixed_covariances():
    X = DATA["iris2"]
    C0 = X[[0, 60, 120]]
    s2 = 0.3
    mu, resp = soft_kmeans(X, C0, sigma2=s2, n_iter=1)
    covs = np.stack([s2 * np.eye(2)] * 3)
    r0, _ = e_step(X, np.full(3, 1 / 3), C0, covs)
    _, mu_em, _ = m_step(X, r0)
    np.testing.assert_allclose(mu, mu_em, rtol=1e-10)


def test_kmeans_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="need at least 4 points"):
        kmeans(X, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="give rng"):
        kmeans(X, 2)
    with pytest.raises(ValueError, match="init must have shape"):
        kmeans(X, 2, init=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="sigma2"):
        soft_kmeans(X, np.zeros((2, 2)), sigma2=0.0)
    with pytest.raises(ValueError, match="means_init"):
        soft_kmeans(X, np.zeros((2, 3)), sigma2=1.0)
