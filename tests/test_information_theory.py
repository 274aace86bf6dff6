"""Tests of m4ml.information_theory against scipy, sklearn and closed forms."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from sklearn.metrics import mutual_info_score

from m4ml.information_theory import (
    binary_entropy,
    categorical_nll,
    conditional_entropy,
    cross_entropy,
    empirical_distribution,
    entropy,
    gaussian_entropy,
    gaussian_kl,
    grid_kl,
    joint_entropy,
    kl_divergence,
    mutual_information,
)

SEEDS = [0, 1, 2]
SIZES = [1, 2, 5, 50]
# Sums of n float64 terms of size O(1): round-off of order n * eps.
TOL = 1e-12


def random_distribution(rng, n, zeros=False, alpha=1.0):
    """A random probability vector; optionally with some exact zeros."""
    p = rng.dirichlet(np.full(n, alpha))
    if zeros and n > 2:
        p[rng.choice(n, size=n // 3, replace=False)] = 0.0
        p /= p.sum()
    return p


def random_spd(rng, d):
    """A random symmetric positive definite matrix, well conditioned."""
    A = rng.standard_normal((d, d))
    return A @ A.T / d + 0.5 * np.eye(d)


# --------------------------------------------------------------------------
# entropy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("base", [None, 2, 10])
def test_entropy_matches_scipy(n, seed, base):
    rng = np.random.default_rng(seed)
    for zeros in (False, True):
        p = random_distribution(rng, n, zeros=zeros)
        assert entropy(p, base=base) == pytest.approx(
            scipy.stats.entropy(p, base=base), rel=TOL, abs=TOL
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_entropy_works_along_the_last_axis(seed):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(6), size=(3, 4))
    H = entropy(P, base=2)
    assert H.shape == (3, 4)
    np.testing.assert_allclose(
        H, scipy.stats.entropy(P, base=2, axis=-1), rtol=TOL
    )


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_entropy_of_uniform_is_log_n_and_the_maximum(n):
    rng = np.random.default_rng(n)
    u = np.full(n, 1.0 / n)
    assert entropy(u) == pytest.approx(math.log(n), rel=TOL, abs=TOL)
    assert entropy(u, base=2) == pytest.approx(math.log2(n), abs=TOL)
    P = rng.dirichlet(np.full(n, 0.5), size=200)
    assert np.all(entropy(P) <= math.log(n) + TOL)
    assert np.all(entropy(P) >= 0.0)


def test_entropy_of_a_point_mass_is_zero():
    assert entropy([0.0, 1.0, 0.0]) == 0.0
    assert math.copysign(1.0, entropy([1.0])) == 1.0  # not -0.0


@pytest.mark.parametrize(
    "p, match",
    [
        ([0.5, -0.1, 0.6], "negative"),
        ([0.5, 0.4], "sum to 1"),
        ([0.5, np.nan, 0.5], "NaN"),
        ([], "non-empty"),
        (0.5, "non-empty"),
    ],
)
def test_entropy_rejects_bad_distributions(p, match):
    with pytest.raises(ValueError, match=match):
        entropy(p)


@pytest.mark.parametrize("base", [1, 0, -2, np.inf])
def test_entropy_rejects_bad_bases(base):
    with pytest.raises(ValueError, match="base"):
        entropy([0.5, 0.5], base=base)


def test_entropy_tolerates_round_off_in_the_sum():
    p = np.full(10, 0.1)  # sums to 0.9999999999999999
    assert entropy(p) == pytest.approx(math.log(10), rel=TOL)


@pytest.mark.parametrize("base", [None, 2])
def test_binary_entropy_matches_entropy(base):
    p = np.linspace(0.0, 1.0, 101)
    expected = [entropy([t, 1 - t], base=base) for t in p]
    np.testing.assert_allclose(
        binary_entropy(p, base=base), expected, rtol=TOL, atol=TOL
    )
    assert binary_entropy(0.5, base=2) == 1.0
    assert isinstance(binary_entropy(0.3), float)


@pytest.mark.parametrize("p", [-0.1, 1.5, np.nan])
def test_binary_entropy_rejects_non_probabilities(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        binary_entropy(p)


# --------------------------------------------------------------------------
# KL divergence and cross-entropy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("base", [None, 2])
def test_kl_matches_scipy_and_is_non_negative(n, seed, base):
    rng = np.random.default_rng(seed)
    for zeros in (False, True):
        p = random_distribution(rng, n, zeros=zeros)
        q = random_distribution(rng, n)
        kl = kl_divergence(p, q, base=base)
        assert kl == pytest.approx(
            scipy.stats.entropy(p, q, base=base), rel=1e-10, abs=TOL
        )
        assert kl >= 0.0
        assert kl_divergence(p, p) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_batches_and_is_non_negative_on_many_pairs(seed):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(8, 0.3), size=1000)
    Q = rng.dirichlet(np.full(8, 0.3), size=1000)
    kl = kl_divergence(P, Q)
    assert kl.shape == (1000,)
    np.testing.assert_allclose(
        kl, scipy.stats.entropy(P, Q, axis=-1), rtol=1e-10, atol=TOL
    )
    assert np.all(kl > 0)


def test_kl_is_not_symmetric_and_breaks_the_triangle_inequality():
    p, q = [0.5, 0.5], [0.9, 0.1]
    assert kl_divergence(p, q) != pytest.approx(kl_divergence(q, p))
    # Bernoulli(0.1), (0.5), (0.9): the direct divergence exceeds the sum
    # of the two steps through the middle.
    a, b, c = [0.9, 0.1], [0.5, 0.5], [0.1, 0.9]
    assert kl_divergence(a, c) > kl_divergence(a, b) + kl_divergence(b, c)


def test_kl_ignores_q_where_p_is_zero():
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(
        math.log(2), rel=TOL
    )
    assert kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0


def test_kl_rejects_q_zero_where_p_positive():
    with pytest.raises(
        ValueError,
        match=r"q is zero where p is positive "
        r"\(at index \(2,\)\)",
    ):
        kl_divergence([0.2, 0.3, 0.5], [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="q is zero where p is positive"):
        cross_entropy([0.5, 0.5], [1.0, 0.0])


@pytest.mark.parametrize(
    "p, q, match",
    [
        ([0.5, 0.5], [0.2, 0.3, 0.5], "same shape"),
        ([0.5, 0.5], [0.2, 0.3], "sum to 1"),
        ([1.5, -0.5], [0.5, 0.5], "negative"),
    ],
)
def test_kl_and_cross_entropy_reject_bad_input(p, q, match):
    for f in (kl_divergence, cross_entropy):
        with pytest.raises(ValueError, match=match):
            f(p, q)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
def test_cross_entropy_is_entropy_plus_kl(n, seed):
    rng = np.random.default_rng(seed)
    p = random_distribution(rng, n, zeros=True)
    q = random_distribution(rng, n)
    ce = cross_entropy(p, q)
    assert ce == pytest.approx(
        entropy(p) + kl_divergence(p, q), rel=TOL, abs=TOL
    )
    assert ce == pytest.approx(-np.sum(p * np.log(q)), rel=TOL, abs=TOL)
    assert cross_entropy(p, q, base=2) == pytest.approx(
        ce / math.log(2), rel=TOL, abs=TOL
    )
    assert cross_entropy(p, q) >= entropy(p)


# --------------------------------------------------------------------------
# joint and conditional entropy, mutual information
# --------------------------------------------------------------------------


def random_joint(rng, nx, ny, zero_row=False):
    P = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
    if zero_row and nx > 1:
        P[0] = 0.0
        P /= P.sum()
    return P


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (5, 4), (10, 20)])
def test_chain_rule_of_entropy(shape, seed):
    rng = np.random.default_rng(seed)
    for zero_row in (False, True):
        P = random_joint(rng, *shape, zero_row=zero_row)
        hx = entropy(P.sum(axis=1))
        assert joint_entropy(P) == pytest.approx(
            hx + conditional_entropy(P), rel=TOL, abs=TOL
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_conditional_entropy_matches_the_average_of_row_entropies(seed):
    rng = np.random.default_rng(seed)
    P = random_joint(rng, 4, 6)
    px = P.sum(axis=1)
    expected = sum(
        px[i] * scipy.stats.entropy(P[i] / px[i], base=2) for i in range(4)
    )
    assert conditional_entropy(P, base=2) == pytest.approx(expected, rel=TOL)
    assert conditional_entropy(P) <= entropy(P.sum(axis=0)) + TOL


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (8, 4)])
def test_mutual_information_identities(shape, seed):
    rng = np.random.default_rng(seed)
    P = random_joint(rng, *shape)
    hx, hy = entropy(P.sum(axis=1)), entropy(P.sum(axis=0))
    mi = mutual_information(P)
    assert mi == pytest.approx(hx + hy - joint_entropy(P), rel=1e-10, abs=TOL)
    assert mi == pytest.approx(hy - conditional_entropy(P), rel=1e-10, abs=TOL)
    assert mi == pytest.approx(mutual_information(P.T), rel=1e-10, abs=TOL)
    assert mi > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_mutual_information_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 20, size=(4, 5))
    counts[0, 0] += 1  # not all zero
    mi = mutual_information(counts / counts.sum())
    assert mi == pytest.approx(
        mutual_info_score(None, None, contingency=counts),
        rel=1e-10,
        abs=TOL,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_mutual_information_of_a_product_is_zero(seed):
    rng = np.random.default_rng(seed)
    P = np.outer(random_distribution(rng, 5), random_distribution(rng, 7))
    assert abs(mutual_information(P)) <= 1e-14  # round-off only


def test_mutual_information_of_a_copy_is_the_entropy():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert mutual_information(np.diag(p)) == pytest.approx(entropy(p), rel=TOL)


@pytest.mark.parametrize(
    "f", [joint_entropy, conditional_entropy, mutual_information]
)
def test_joint_functions_need_a_2d_table(f):
    with pytest.raises(ValueError, match="2-D table"):
        f([0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        f([[0.5, 0.5], [0.5, 0.5]])


# --------------------------------------------------------------------------
# data: empirical distributions and the negative log-likelihood
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [2, 3, 10])
def test_nll_is_the_cross_entropy_of_the_empirical_distribution(k, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=200)
    q = random_distribution(rng, k)
    p_hat = empirical_distribution(y, k)
    assert p_hat.sum() == pytest.approx(1.0, abs=TOL)
    np.testing.assert_allclose(
        p_hat * 200, np.bincount(y, minlength=k), rtol=TOL
    )
    nll = categorical_nll(y, q)
    assert nll == pytest.approx(-np.mean(np.log(q[y])), rel=TOL)
    assert nll == pytest.approx(cross_entropy(p_hat, q), rel=TOL)
    # The empirical distribution is the maximum-likelihood model.
    assert categorical_nll(y, p_hat) <= nll


@pytest.mark.parametrize(
    "labels, q, match",
    [
        ([0, 3], [0.5, 0.5], "lie in 0, ..., 1"),
        ([0, -1], [0.5, 0.5], "lie in"),
        ([0.0, 1.0], [0.5, 0.5], "integers"),
        ([], [0.5, 0.5], "non-empty"),
        ([0, 1], [1.0, 0.0], "probability zero"),
        ([0, 1], [[0.5, 0.5]], "1-D"),
    ],
)
def test_categorical_nll_rejects_bad_input(labels, q, match):
    with pytest.raises(ValueError, match=match):
        categorical_nll(labels, q)


@pytest.mark.parametrize("k", [0, 2.5, True])
def test_empirical_distribution_rejects_bad_class_counts(k):
    with pytest.raises(ValueError, match="n_classes"):
        empirical_distribution([0, 1], k)


# --------------------------------------------------------------------------
# densities: the grid KL, Gaussian entropy and Gaussian KL
# --------------------------------------------------------------------------


def normal_logpdf(x, m, v):
    return scipy.stats.norm(m, math.sqrt(v)).logpdf(x)


@pytest.mark.parametrize(
    "m0, v0, m1, v1",
    [
        (0.0, 1.0, 1.0, 1.0),
        (0.5, 0.3, -1.0, 2.0),
        (-1.0, 4.0, 0.0, 0.5),
    ],
)
def test_gaussian_kl_matches_quadrature_and_the_grid(m0, v0, m1, v1):
    def integrand(x):
        lp, lq = normal_logpdf(x, m0, v0), normal_logpdf(x, m1, v1)
        return math.exp(lp) * (lp - lq)

    s0 = math.sqrt(v0)
    quad, err = scipy.integrate.quad(
        integrand,
        m0 - 20 * s0,
        m0 + 20 * s0,
        epsabs=1e-13,
        epsrel=1e-12,
        limit=200,
    )
    kl = gaussian_kl(m0, v0, m1, v1)
    assert kl == pytest.approx(quad, rel=1e-9, abs=1e-12)
    x = np.linspace(m0 - 20 * s0, m0 + 20 * s0, 40001)
    by_grid = grid_kl(
        normal_logpdf(x, m0, v0), normal_logpdf(x, m1, v1), x[1] - x[0]
    )
    assert by_grid == pytest.approx(kl, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_gaussian_kl_matches_the_inverse_formula(d, seed):
    rng = np.random.default_rng(seed)
    m0, m1 = rng.standard_normal(d), rng.standard_normal(d)
    S0, S1 = random_spd(rng, d), random_spd(rng, d)
    S1_inv = np.linalg.inv(S1)
    dm = m1 - m0
    expected = 0.5 * (
        np.trace(S1_inv @ S0)
        + dm @ S1_inv @ dm
        - d
        + np.linalg.slogdet(S1)[1]
        - np.linalg.slogdet(S0)[1]
    )
    assert gaussian_kl(m0, S0, m1, S1) == pytest.approx(expected, rel=1e-10)
    assert gaussian_kl(m0, S0, m0, S0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 3, 6])
def test_gaussian_kl_matches_monte_carlo(d, seed):
    rng = np.random.default_rng(seed)
    m0, m1 = rng.standard_normal(d), rng.standard_normal(d)
    S0, S1 = random_spd(rng, d), random_spd(rng, d)
    x = rng.multivariate_normal(m0, S0, size=100_000)
    ratio = scipy.stats.multivariate_normal(m0, S0).logpdf(
        x
    ) - scipy.stats.multivariate_normal(m1, S1).logpdf(x)
    se = ratio.std(ddof=1) / math.sqrt(ratio.size)
    assert abs(ratio.mean() - gaussian_kl(m0, S0, m1, S1)) <= 4 * se


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_kl_is_invariant_under_affine_maps(seed):
    rng = np.random.default_rng(seed)
    d = 3
    m0, m1 = rng.standard_normal(d), rng.standard_normal(d)
    S0, S1 = random_spd(rng, d), random_spd(rng, d)
    A = rng.standard_normal((d, d)) + 3 * np.eye(d)
    b = rng.standard_normal(d)
    moved = gaussian_kl(A @ m0 + b, A @ S0 @ A.T, A @ m1 + b, A @ S1 @ A.T)
    assert moved == pytest.approx(gaussian_kl(m0, S0, m1, S1), rel=1e-9)


def test_gaussian_kl_accepts_scalars_as_mean_and_variance():
    # KL(N(0, 1) || N(0, 4)) = (1/2)(1/4 - 1 + log 4).
    assert gaussian_kl(0.0, 1.0, 0.0, 4.0) == pytest.approx(
        0.5 * (0.25 - 1 + math.log(4)), rel=TOL
    )
    assert gaussian_kl([0.0], [[1.0]], 0.0, 4.0) == gaussian_kl(
        0.0, 1.0, 0.0, 4.0
    )


@pytest.mark.parametrize(
    "args, match",
    [
        ((0.0, -1.0, 0.0, 1.0), "cov0 is not symmetric positive definite"),
        ((0.0, 1.0, 0.0, 0.0), "cov1 is not symmetric positive definite"),
        (
            ([0, 0], [[1, 2], [2, 1]], [0, 0], np.eye(2)),
            "cov0 is not symmetric positive definite",
        ),
        (([0, 0], [[1, 0.5], [0, 1]], [0, 0], np.eye(2)), "not symmetric"),
        (([0, 0], np.eye(3), [0, 0], np.eye(2)), r"shape \(2, 2\)"),
        (([0, 0], np.eye(2), [0, 0, 0], np.eye(3)), "different dimensions"),
        ((np.zeros((2, 2)), np.eye(2), [0, 0], np.eye(2)), "1-D"),
        (([0, np.inf], np.eye(2), [0, 0], np.eye(2)), "finite"),
    ],
)
def test_gaussian_kl_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian_kl(*args)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_gaussian_entropy_matches_scipy(d, seed):
    rng = np.random.default_rng(seed)
    S = random_spd(rng, d)
    expected = scipy.stats.multivariate_normal(np.zeros(d), S).entropy()
    assert gaussian_entropy(S) == pytest.approx(expected, rel=1e-12)


def test_gaussian_entropy_can_be_negative_and_rejects_bad_input():
    assert gaussian_entropy(1.0) == pytest.approx(
        0.5 * math.log(2 * math.pi * math.e), rel=TOL
    )
    assert gaussian_entropy(0.01) < 0
    with pytest.raises(ValueError, match="positive definite"):
        gaussian_entropy(-1.0)
    with pytest.raises(ValueError, match="shape"):
        gaussian_entropy(np.ones((2, 3)))


def test_grid_kl_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        grid_kl([0.0, 0.0], [0.0], 0.1)
    with pytest.raises(ValueError, match="dx must be positive"):
        grid_kl([0.0], [0.0], 0.0)
    with pytest.raises(ValueError, match="q is zero where p is positive"):
        grid_kl([0.0, 0.0], [0.0, -np.inf], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        grid_kl([0.0, np.nan], [0.0, 0.0], 0.1)


def test_grid_kl_ignores_q_where_p_underflows():
    assert grid_kl([0.0, -np.inf], [0.0, -np.inf], 1.0) == 0.0
