"""Tests of m4ml.pca against numpy, scipy and scikit-learn."""

import numpy as np
import pytest
import scipy.stats
from sklearn.datasets import load_digits, load_iris
from sklearn.decomposition import PCA

from m4ml.pca import (
    PCAResult,
    choose_k,
    pca,
    pca_gram,
    ppca_log_likelihood,
    ppca_mle,
    ppca_posterior,
    ppca_sample,
    project,
    reconstruct,
)

EPS = np.finfo(np.float64).eps
SEEDS = [0, 1, 2]
# (N, D): tall, square-ish, wide, and one example per feature
SHAPES = [(200, 5), (60, 12), (25, 25), (12, 40)]


def spread_data(rng, N, D, ratio=0.7, offset=5.0):
    """Data with well-separated covariance eigenvalues and a nonzero mean.

    The scales decrease geometrically, so neighbouring eigenvalues of the
    sample covariance differ by a factor of about ``ratio**2`` and every
    eigenvector is well determined (up to its sign).
    """
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    scales = ratio ** np.arange(D)
    Z = rng.standard_normal((N, D)) * scales
    return Z @ Q.T + offset * rng.standard_normal(D)


def n_well_separated(lam, min_gap=1e-3):
    """How many leading eigenvalues are separated from their successors."""
    lam = np.asarray(lam)
    gaps = (lam[:-1] - lam[1:]) / lam[0]
    k = 0
    while k < len(gaps) and gaps[k] > min_gap and lam[k + 1] > 1e-8 * lam[0]:
        k += 1
    return k  # the first k eigenvectors are well determined


def align_signs(V, V_ref):
    """Flip the rows of ``V`` to point the same way as those of ``V_ref``."""
    signs = np.sign(np.sum(V * V_ref, axis=1))
    signs[signs == 0] = 1.0
    return V * signs[:, None]


def centred(X):
    return X - X.mean(axis=0)


# --------------------------------------------------------------------------
# pca
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_pca_matches_eigh_of_the_covariance(shape, seed, ddof):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D)
    S = np.cov(X, rowvar=False, ddof=ddof)
    lam, Q = np.linalg.eigh(S)
    lam, Q = lam[::-1], Q[:, ::-1]
    k = n_well_separated(lam)
    assert k >= 3
    res = pca(X, k, ddof=ddof)
    assert isinstance(res, PCAResult)
    assert res.components.shape == (k, D)
    # Eigenvalues: backward-stable eigensolver, errors ~ D eps lam_1.
    np.testing.assert_allclose(
        res.explained_variance, lam[:k], rtol=0, atol=100 * D * EPS * lam[0]
    )
    # Eigenvectors, up to sign: error ~ eps lam_1 / gap <= 1e-12 here.
    V = align_signs(res.components, Q[:, :k].T)
    np.testing.assert_allclose(V, Q[:, :k].T, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.mean, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(
        res.explained_variance_ratio, lam[:k] / np.trace(S), rtol=1e-10
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_components_are_right_singular_vectors(shape, seed):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D)
    _, s, Vt = np.linalg.svd(centred(X), full_matrices=False)
    k = n_well_separated(s**2)
    res = pca(X, k)
    np.testing.assert_allclose(
        align_signs(res.components, Vt[:k]), Vt[:k], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(res.explained_variance, s[:k] ** 2 / N)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_components_orthonormal_and_sign_convention(shape, seed):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = rng.standard_normal((N, D))
    k = min(N, D)
    V = pca(X, k).components
    np.testing.assert_allclose(V @ V.T, np.eye(k), rtol=0, atol=50 * D * EPS)
    rows = np.arange(k)
    largest = V[rows, np.argmax(np.abs(V), axis=1)]
    assert np.all(largest > 0), "largest-magnitude entry must be positive"
    # The covariance of -X is that of X, and so are the components.
    np.testing.assert_allclose(pca(-X, 3).components, V[:3], atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(200, 5), (60, 12), (25, 25)])
def test_matches_scikit_learn(shape, seed):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D)
    k = min(n_well_separated(np.linalg.svd(centred(X))[1] ** 2), 6)
    ours = pca(X, k, ddof=1)
    sk = PCA(n_components=k, svd_solver="full").fit(X)
    V = align_signs(ours.components, sk.components_)
    np.testing.assert_allclose(V, sk.components_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance, sk.explained_variance_, rtol=1e-12
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio, sk.explained_variance_ratio_, 1e-12
    )
    np.testing.assert_allclose(ours.mean, sk.mean_, rtol=1e-13)
    Z = project(X, V, ours.mean)
    scale = np.abs(sk.transform(X)).max()
    np.testing.assert_allclose(Z, sk.transform(X), rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(
        reconstruct(Z, V, ours.mean),
        sk.inverse_transform(sk.transform(X)),
        rtol=0,
        atol=1e-10 * np.abs(X).max(),
    )


def test_matches_scikit_learn_on_digits_including_signs():
    X = load_digits().data
    ours = pca(X, 20, ddof=1)
    sk = PCA(n_components=20).fit(X)
    # scikit-learn >= 1.5 uses the same sign rule, so no flips are needed.
    np.testing.assert_allclose(
        ours.components, sk.components_, rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(
        ours.explained_variance, sk.explained_variance_, rtol=1e-10
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_reconstruction_error_is_the_sum_of_discarded_eigenvalues(shape, seed):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D)
    p = min(N, D)
    lam_all = pca(X, p).explained_variance
    for k in range(1, p + 1):
        res = pca(X, k)
        X_hat = reconstruct(project(X, res.components, res.mean), *res[::2])
        error = np.sum((X - X_hat) ** 2)
        # Both sides are sums of squares; round-off ~ p eps ||Xc||_F^2.
        np.testing.assert_allclose(
            error,
            N * np.sum(lam_all[k:]),
            rtol=0,
            atol=100 * p * EPS * np.sum(centred(X) ** 2),
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_full_rank_reconstruction_gives_the_data_back(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 6))
    res = pca(X, 6)
    X_hat = reconstruct(project(X, res.components, res.mean), *res[::2])
    np.testing.assert_allclose(X_hat, X, rtol=0, atol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_principal_coordinates_are_uncorrelated(shape, seed):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D)
    k = min(N - 1, D, 6)
    res = pca(X, k)
    Z = project(X, res.components, res.mean)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    C = Z.T @ Z / N
    np.testing.assert_allclose(
        C, np.diag(res.explained_variance), rtol=0, atol=1e-12 * C.max()
    )


def test_iris_first_component_explains_most_variance():
    X = load_iris().data
    res = pca(X, 4)
    assert res.explained_variance_ratio[0] > 0.9
    np.testing.assert_allclose(res.explained_variance_ratio.sum(), 1.0)


# --------------------------------------------------------------------------
# pca_gram
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(10, 300), (30, 100), (40, 40), (100, 8)])
@pytest.mark.parametrize("ddof", [0, 1])
def test_gram_trick_gives_the_same_components(shape, seed, ddof):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D, ratio=0.8)
    s = np.linalg.svd(centred(X), compute_uv=False)
    k = min(n_well_separated(s**2), N - 1, 6)
    a, b = pca_gram(X, k, ddof=ddof), pca(X, k, ddof=ddof)
    # The Gram route squares the condition number: error ~ eps lam_1/lam_k.
    tol = 1e3 * EPS * s[0] ** 2 / s[k - 1] ** 2
    np.testing.assert_allclose(a.components, b.components, rtol=0, atol=tol)
    np.testing.assert_allclose(
        a.explained_variance, b.explained_variance, rtol=1e-10
    )
    np.testing.assert_allclose(a.mean, b.mean)
    np.testing.assert_allclose(
        a.explained_variance_ratio, b.explained_variance_ratio, rtol=1e-10
    )


def test_gram_trick_refuses_components_with_zero_variance():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 50))  # rank 2
    pca_gram(X, 2)
    with pytest.raises(ValueError, match="numerical rank 2 < k = 3"):
        pca_gram(X, 3)
    with pytest.raises(ValueError, match=r"k <= min\(N - 1, D\)"):
        pca_gram(X, 5)
    with pytest.raises(ValueError, match="numerical rank 0"):
        pca_gram(np.ones((4, 6)), 1)
    with pytest.raises(ValueError, match="rtol must be positive"):
        pca_gram(X, 1, rtol=0.0)


# --------------------------------------------------------------------------
# choose_k
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.5, 0.8, 0.9, 0.95, 0.99])
def test_choose_k_matches_scikit_learn(fraction):
    for X in (load_digits().data, load_iris().data):
        expected = PCA(n_components=fraction, svd_solver="full").fit(X)
        assert choose_k(X, fraction) == expected.n_components_


def test_choose_k_edge_cases():
    X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    assert choose_k(X, 0.8) == 1  # exactly 80 percent on the first axis
    assert choose_k(X, 0.81) == 2
    assert choose_k(X, 1.0) == 2
    with pytest.raises(ValueError, match="fraction must lie in"):
        choose_k(X, 0.0)
    with pytest.raises(ValueError, match="fraction must lie in"):
        choose_k(X, 1.5)
    with pytest.raises(ValueError, match="zero variance"):
        choose_k(np.ones((3, 2)), 0.5)


# --------------------------------------------------------------------------
# probabilistic PCA
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "shape,k", [((200, 6), 2), ((80, 10), 4), ((8, 12), 3)]
)
def test_ppca_mle_model_covariance_spectrum(shape, k, seed):
    rng = np.random.default_rng(seed)
    N, D = shape
    X = spread_data(rng, N, D)
    W, mu, sigma2 = ppca_mle(X, k)
    assert W.shape == (D, k)
    S = np.cov(X, rowvar=False, bias=True)
    lam = np.linalg.eigvalsh(S)[::-1]
    np.testing.assert_allclose(mu, X.mean(axis=0))
    np.testing.assert_allclose(sigma2, lam[k:].mean(), rtol=1e-10)
    C = W @ W.T + sigma2 * np.eye(D)
    expected = np.concatenate([lam[:k], np.full(D - k, sigma2)])
    np.testing.assert_allclose(
        np.linalg.eigvalsh(C)[::-1], expected, rtol=1e-10
    )
    # The columns of W are orthogonal (R = I) and span the principal
    # subspace: W = V_k diag(sqrt(lam - sigma2)).
    G = W.T @ W
    np.testing.assert_allclose(
        G, np.diag(lam[:k] - sigma2), rtol=1e-10, atol=1e-12 * lam[0]
    )
    V = pca(X, k).components
    np.testing.assert_allclose(W / np.sqrt(np.diag(G)), V.T, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_ppca_matches_scikit_learn_noise_variance_and_score(seed):
    rng = np.random.default_rng(seed)
    N, D, k = 150, 7, 3
    X = spread_data(rng, N, D)
    sk = PCA(n_components=k, svd_solver="full").fit(X)
    W, mu, sigma2 = ppca_mle(X, k)
    # scikit-learn divides by N - 1 where the MLE divides by N.
    np.testing.assert_allclose(
        sigma2, sk.noise_variance_ * (N - 1) / N, rtol=1e-10
    )
    # At scikit-learn's parameters our log-likelihood is its score.
    W_sk = sk.components_.T * np.sqrt(
        sk.explained_variance_ - sk.noise_variance_
    )
    np.testing.assert_allclose(
        W_sk @ W_sk.T + sk.noise_variance_ * np.eye(D),
        sk.get_covariance(),
        rtol=1e-10,
        atol=1e-12,
    )
    ll = ppca_log_likelihood(X, W_sk, sk.mean_, sk.noise_variance_)
    np.testing.assert_allclose(ll, N * sk.score(X), rtol=1e-10)
    # The MLE (divisor N) does at least as well as scikit-learn's estimate.
    assert ppca_log_likelihood(X, W, mu, sigma2) >= ll


@pytest.mark.parametrize("seed", SEEDS)
def test_ppca_log_likelihood_matches_scipy_and_closed_form(seed):
    rng = np.random.default_rng(seed)
    N, D, k = 100, 6, 2
    X = spread_data(rng, N, D)
    W, mu, sigma2 = ppca_mle(X, k)
    C = W @ W.T + sigma2 * np.eye(D)
    ref = scipy.stats.multivariate_normal(mu, C).logpdf(X).sum()
    ll = ppca_log_likelihood(X, W, mu, sigma2)
    np.testing.assert_allclose(ll, ref, rtol=1e-12)
    lam = np.linalg.eigvalsh(np.cov(X, rowvar=False, bias=True))[::-1]
    closed = (
        -0.5
        * N
        * (
            D * np.log(2 * np.pi)
            + np.sum(np.log(lam[:k]))
            + (D - k) * np.log(sigma2)
            + D
        )
    )
    np.testing.assert_allclose(ll, closed, rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_ppca_mle_is_a_maximum(seed):
    rng = np.random.default_rng(seed)
    X = spread_data(rng, 120, 8)
    W, mu, sigma2 = ppca_mle(X, 3)
    best = ppca_log_likelihood(X, W, mu, sigma2)
    for _ in range(20):
        dW = 1e-2 * rng.standard_normal(W.shape) * np.abs(W).max()
        assert ppca_log_likelihood(X, W + dW, mu, sigma2) < best
        assert ppca_log_likelihood(X, W, mu + 1e-2, sigma2) < best
    assert ppca_log_likelihood(X, W, mu, 1.05 * sigma2) < best
    assert ppca_log_likelihood(X, W, mu, 0.95 * sigma2) < best
    # Rotating the latent space leaves the likelihood unchanged.
    R, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    np.testing.assert_allclose(
        ppca_log_likelihood(X, W @ R, mu, sigma2), best, rtol=1e-12
    )


def test_ppca_sample_has_the_model_moments():
    rng = np.random.default_rng(7)
    W = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, -1.0], [0.5, 0.5]])
    mu = np.array([1.0, -2.0, 0.0, 3.0])
    sigma2 = 0.25
    n = 40_000
    X = ppca_sample(W, mu, sigma2, n, rng)
    C = W @ W.T + sigma2 * np.eye(4)
    # Standard errors: sqrt(C_ii / n) for a mean, and for a covariance
    # entry sqrt((C_ii C_jj + C_ij^2) / n); allow 5 of them.
    se_mean = np.sqrt(np.diag(C) / n)
    assert np.all(np.abs(X.mean(axis=0) - mu) <= 5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / n)
    assert np.all(np.abs(np.cov(X, rowvar=False) - C) <= 5 * se_cov)


@pytest.mark.parametrize("seed", SEEDS)
def test_ppca_posterior_matches_bayes_rule_in_information_form(seed):
    rng = np.random.default_rng(seed)
    D, k = 6, 2
    W = rng.standard_normal((D, k))
    mu = rng.standard_normal(D)
    sigma2 = 0.3
    X = rng.standard_normal((5, D))
    means, cov = ppca_posterior(X, W, mu, sigma2)
    # p(z | x) has precision I + W^T W / sigma2 and mean
    # cov W^T (x - mu) / sigma2.
    cov_ref = np.linalg.inv(np.eye(k) + W.T @ W / sigma2)
    np.testing.assert_allclose(cov, cov_ref, rtol=1e-12)
    np.testing.assert_allclose(
        means, (X - mu) @ W @ cov_ref.T / sigma2, rtol=1e-10, atol=1e-12
    )


def test_ppca_posterior_tends_to_projection_as_noise_vanishes():
    rng = np.random.default_rng(3)
    X = spread_data(rng, 100, 5)
    res = pca(X, 2)
    W = res.components.T * np.sqrt(res.explained_variance)
    means, _ = ppca_posterior(X, W, res.mean, 1e-12)
    z = project(X, res.components, res.mean) / np.sqrt(res.explained_variance)
    np.testing.assert_allclose(means, z, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------
# error paths
# --------------------------------------------------------------------------


def test_bad_data_is_rejected():
    with pytest.raises(ValueError, match="2-D array"):
        pca(np.ones(5), 1)
    with pytest.raises(ValueError, match="at least 2 rows"):
        pca(np.ones((1, 3)), 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        pca(np.array([[1.0, np.nan], [0.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="2-D array"):
        ppca_mle(np.ones((2, 2, 2)), 1)


@pytest.mark.parametrize("k", [0, -1, 4, 2.0, True, "2"])
def test_k_out_of_range_is_rejected(k):
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match="k must"):
        pca(X, k)


def test_k_bounds_for_each_function():
    X = np.random.default_rng(0).standard_normal((4, 6))
    pca(X, 4)
    with pytest.raises(ValueError, match=r"k <= min\(N, D\)"):
        pca(X, 5)
    with pytest.raises(ValueError, match=r"k <= min\(N - 1, D\)"):
        pca_gram(X, 4)
    Y = np.random.default_rng(1).standard_normal((20, 3))
    ppca_mle(Y, 2)
    with pytest.raises(ValueError, match=r"k <= D - 1"):
        ppca_mle(Y, 3)


def test_bad_ddof_is_rejected():
    X = np.random.default_rng(0).standard_normal((10, 3))
    for ddof in (2, -1, 0.5, True):
        with pytest.raises(ValueError, match="ddof must be 0 or 1"):
            pca(X, 1, ddof=ddof)


def test_project_and_reconstruct_check_shapes():
    V = np.eye(3)[:2]
    mu = np.zeros(3)
    with pytest.raises(ValueError, match="X has 2 columns"):
        project(np.ones((4, 2)), V, mu)
    with pytest.raises(ValueError, match=r"mean must have shape \(3,\)"):
        project(np.ones((4, 3)), V, np.zeros(2))
    with pytest.raises(ValueError, match="shape \\(k, D\\)"):
        project(np.ones((4, 3)), np.ones(3), mu)
    with pytest.raises(ValueError, match="Z has 3 columns"):
        reconstruct(np.ones((4, 3)), V, mu)
    with pytest.raises(ValueError, match="finite"):
        reconstruct(np.ones((4, 2)), np.full((2, 3), np.nan), mu)


def test_ppca_checks_its_inputs():
    W, mu = np.ones((3, 1)), np.zeros(3)
    X = np.ones((2, 3))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="sigma2 must be a positive"):
        ppca_log_likelihood(X, W, mu, 0.0)
    with pytest.raises(ValueError, match="sigma2 must be a positive"):
        ppca_posterior(X, W, mu, -1.0)
    with pytest.raises(ValueError, match=r"mean must have shape \(3,\)"):
        ppca_sample(W, np.zeros(2), 1.0, 3, rng)
    with pytest.raises(ValueError, match=r"W must have shape \(D, k\)"):
        ppca_sample(np.ones(3), mu, 1.0, 3, rng)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        ppca_sample(W, mu, 1.0, 0, rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        ppca_sample(W, mu, 1.0, 3, 0)
    with pytest.raises(ValueError, match="X has 2 columns"):
        ppca_log_likelihood(np.ones((2, 2)), W, mu, 1.0)
    with pytest.raises(ValueError, match="X has 2 columns"):
        ppca_posterior(np.ones((2, 2)), W, mu, 1.0)


def test_ppca_mle_refuses_noiseless_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 5))  # rank 2
    ppca_mle(X, 1)
    with pytest.raises(ValueError, match="2-dimensional affine subspace"):
        ppca_mle(X, 2)
