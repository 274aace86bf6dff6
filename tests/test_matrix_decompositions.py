"""Tests of m4ml.matrix_decompositions against numpy and scipy references."""

import numpy as np
import pytest
import scipy.linalg

from m4ml.matrix_decompositions import (
    cholesky,
    gaussian_samples,
    low_rank_approximation,
    orbit_norms,
    pinv,
    power_iteration,
)

EPS = np.finfo(np.float64).eps
SEEDS = [0, 1, 2]


def random_spd(rng, n, cond=10.0):
    """A random symmetric positive definite matrix with condition ``cond``."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.geomspace(1.0, cond, n) if n > 1 else np.array([cond])
    return (Q * lam) @ Q.T


def symmetric_with_spectrum(rng, lam):
    """A random real symmetric matrix with the given eigenvalues."""
    n = len(lam)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (Q * np.asarray(lam, dtype=float)) @ Q.T
    return (A + A.T) / 2  # exactly symmetric


def low_rank(rng, m, n, r):
    """A random m x n matrix of rank r (with probability one)."""
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


def fro(M):
    return np.linalg.norm(M, "fro")


# --------------------------------------------------------------------------
# cholesky
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_cholesky_reconstructs_and_matches_numpy(n, seed):
    rng = np.random.default_rng(seed)
    A = random_spd(rng, n, cond=100.0)
    L = cholesky(A)
    assert L.shape == (n, n)
    assert np.all(np.triu(L, 1) == 0.0), "L must be lower triangular"
    assert np.all(np.diag(L) > 0), "L must have a positive diagonal"
    # Cholesky is backward stable: ||L L^T - A|| <= c n eps ||A||.
    assert fro(L @ L.T - A) <= 10 * n * EPS * fro(A)
    # The factor is unique, so it agrees with LAPACK up to round-off
    # amplified by at most sqrt(cond(A)) = 10.
    for L_ref in (np.linalg.cholesky(A), scipy.linalg.cholesky(A, lower=True)):
        assert fro(L - L_ref) <= 100 * n * EPS * fro(L_ref)


@pytest.mark.parametrize("seed", SEEDS)
def test_cholesky_of_gram_matrix_tolerates_round_off_asymmetry(seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((8, 20))
    A = B @ B.T
    A[0, 1] += 1e-13 * np.abs(A).max()  # asymmetry at round-off level
    L = cholesky(A)
    assert fro(L @ L.T - np.tril(A) - np.tril(A, -1).T) <= 1e-12 * fro(A)


@pytest.mark.parametrize("seed", range(6))
def test_cholesky_fails_exactly_where_a_leading_minor_is_not_positive(seed):
    rng = np.random.default_rng(seed)
    n = 6
    lam = rng.uniform(0.5, 2.0, n)
    lam[rng.choice(n, size=2, replace=False)] *= -1  # indefinite
    A = symmetric_with_spectrum(rng, lam)
    signs = [np.linalg.slogdet(A[: j + 1, : j + 1]) for j in range(n)]
    first_bad = next(j for j, (s, _) in enumerate(signs) if s <= 0)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(A)
    with pytest.raises(
        ValueError,
        match=rf"not positive definite: pivot {first_bad} \(counted from 0\)",
    ):
        cholesky(A)


@pytest.mark.parametrize(
    "A, match",
    [
        (np.ones((2, 3)), r"not square: shape \(2, 3\)"),
        ([[1.0, 2.0], [0.0, 1.0]], "not symmetric within tolerance"),
        ([[1.0, 2.0], [2.0, 1.0]], r"pivot 1 \(counted from 0\) is -3"),
        ([[1.0, 1.0], [1.0, 1.0]], r"pivot 1 \(counted from 0\) is 0"),
        ([[-1.0]], r"pivot 0 \(counted from 0\) is -1"),
        (np.diag([1.0, 2.0, -1.0, 3.0]), r"pivot 2 \(counted from 0\)"),
        ([1.0, 2.0], "must be a 2-D array"),
        (np.zeros((0, 0)), "must not be empty"),
        ([[1.0, np.nan], [np.nan, 1.0]], "NaN or infinite"),
    ],
)
def test_cholesky_rejects_bad_input(A, match):
    with pytest.raises(ValueError, match=match):
        cholesky(A)


def test_cholesky_rejects_bad_tolerance():
    with pytest.raises(ValueError, match="sym_rtol"):
        cholesky(np.eye(2), sym_rtol=-1.0)


# --------------------------------------------------------------------------
# gaussian_samples
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_samples_have_the_right_moments(seed):
    rng = np.random.default_rng(seed)
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    N = 100_000
    X = gaussian_samples(mean, cov, N, rng)
    assert X.shape == (N, 3)
    # Sample mean: standard error sqrt(Sigma_ii / N); 5 SE never flakes.
    se_mean = np.sqrt(np.diag(cov) / N)
    assert np.all(np.abs(X.mean(axis=0) - mean) <= 5 * se_mean)
    # Second moments about the true mean: Var(x_i x_j) = S_ii S_jj + S_ij^2
    # for a Gaussian (Isserlis), so SE = sqrt((S_ii S_jj + S_ij^2) / N).
    D = X - mean
    S_hat = D.T @ D / N
    d = np.diag(cov)
    se_cov = np.sqrt((np.outer(d, d) + cov**2) / N)
    assert np.all(np.abs(S_hat - cov) <= 5 * se_cov)


def test_gaussian_samples_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"mean must have shape \(2,\)"):
        gaussian_samples([0.0, 0.0, 0.0], np.eye(2), 3, rng)
    with pytest.raises(ValueError, match="not positive definite"):
        gaussian_samples([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], 3, rng)
    with pytest.raises(ValueError, match="size must be at least 1"):
        gaussian_samples([0.0, 0.0], np.eye(2), 0, rng)
    with pytest.raises(ValueError, match="size must be an integer"):
        gaussian_samples([0.0, 0.0], np.eye(2), 2.5, rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        gaussian_samples([0.0, 0.0], np.eye(2), 3, 42)


# --------------------------------------------------------------------------
# power_iteration
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "lam",
    [
        [3.0, 1.0],
        [-5.0, 4.0, 1.0, 0.5],  # negative dominant eigenvalue
        [10.0, 8.0, 4.0, 2.0, 1.0, -1.0, 0.0],
        list(np.linspace(-1.0, 1.0, 30)) + [2.0],  # 31 x 31
    ],
)
def test_power_iteration_matches_eigh(lam, seed):
    rng = np.random.default_rng(seed)
    A = symmetric_with_spectrum(rng, lam)
    lam_hat, v = power_iteration(A, rng)
    w, Q = np.linalg.eigh(A)
    i = int(np.argmax(np.abs(w)))
    # Rayleigh quotient error ~ residual^2 / gap: at round-off level.
    assert abs(lam_hat - w[i]) <= 1e-12 * abs(w[i])
    assert abs(
        lam_hat - np.max(np.abs(np.linalg.eigvalsh(A))) * np.sign(w[i])
    ) <= 1e-12 * abs(w[i])
    assert np.isclose(np.linalg.norm(v), 1.0, rtol=1e-14, atol=0)
    # Eigenvector error ~ residual / relative gap <= 1e-10 / 0.2.
    q = Q[:, i] * np.sign(Q[np.argmax(np.abs(Q[:, i])), i])
    assert np.linalg.norm(v - q) <= 1e-9
    assert np.linalg.norm(A @ v - lam_hat * v) <= 1e-10 * abs(lam_hat)


@pytest.mark.parametrize("seed", SEEDS)
def test_power_iteration_on_a_nonsymmetric_matrix(seed):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((5, 5))
    lam = np.array([4.0, -2.0, 1.5, 1.0, 0.3])
    A = V @ np.diag(lam) @ np.linalg.inv(V)
    lam_hat, v = power_iteration(A, rng, tol=1e-12)
    eig = np.linalg.eigvals(A)
    dominant = eig[np.argmax(np.abs(eig))]
    # the rate is |lam_2 / lam_1|^k for vector and eigenvalue alike here,
    # and the residual test bounds the error by ~ cond(V) * tol * |lam|
    assert abs(lam_hat - dominant.real) <= 1e-8 * abs(dominant)
    assert abs(dominant.imag) <= 1e-10
    assert np.linalg.norm(A @ v - lam_hat * v) <= 1e-11 * abs(lam_hat)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ratio", [0.5, 0.8, 0.95])
def test_power_iteration_converges_at_the_predicted_rate(ratio, seed):
    rng = np.random.default_rng(seed)
    lam = [1.0, ratio, 0.3 * ratio, 0.1, -0.05]
    A = symmetric_with_spectrum(rng, lam)
    _, _, hist = power_iteration(A, rng, tol=1e-13, return_history=True)
    w, Q = np.linalg.eigh(A)
    q1 = Q[:, np.argmax(w)]
    X = hist["vectors"]
    c = X @ q1
    # tan of the angle to the eigenvector, from the orthogonal part (not
    # from 1 - cos^2, which loses half the digits)
    tan = np.linalg.norm(X - np.outer(c, q1), axis=1) / np.abs(c)
    # fit where tan is well above round-off and the third eigenvalue's
    # contribution has died out
    ok = np.flatnonzero(tan > 1e-9)
    ks = ok[len(ok) // 3 :]
    slope = np.polyfit(ks, np.log(tan[ks]), 1)[0]
    assert np.exp(slope) == pytest.approx(ratio, rel=1e-3)
    # the bound tan(theta_k) <= ratio^k tan(theta_0) holds at every step
    k = np.arange(len(tan))
    assert np.all(tan <= ratio**k * tan[0] * (1 + 1e-8) + 1e-13)
    # eigenvalue error <= |lam_1 - lam_n| tan^2(theta_k) (symmetric A)
    err = np.abs(hist["eigenvalues"] - 1.0)
    assert np.all(err <= (1.0 + 0.05) * tan**2 * (1 + 1e-8) + 1e-14)


def test_power_iteration_history_and_start_vector():
    rng = np.random.default_rng(0)
    A = np.diag([2.0, 1.0])
    lam, v, hist = power_iteration(A, rng, x0=[1.0, 1.0], return_history=True)
    k = len(hist["eigenvalues"])
    assert hist["vectors"].shape == (k, 2) and hist["residuals"].shape == (k,)
    # x_k is proportional to (2^k, 1): check the first iterates exactly
    expected = np.array([[2.0**j, 1.0] for j in range(3)])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(hist["vectors"][:3], expected, rtol=0, atol=1e-15)
    assert hist["residuals"][-1] <= 1e-10 < hist["residuals"][-2]
    assert lam == pytest.approx(2.0, rel=1e-15) and v[0] > 0


def test_power_iteration_on_zero_and_nilpotent_matrices():
    rng = np.random.default_rng(1)
    lam, v = power_iteration(np.zeros((3, 3)), rng)
    assert lam == 0.0 and np.isclose(np.linalg.norm(v), 1.0)
    lam, v = power_iteration([[0.0, 1.0], [0.0, 0.0]], rng)
    assert lam == 0.0 and np.allclose(v, [1.0, 0.0])


def test_power_iteration_without_a_dominant_eigenvalue_raises_or_warns():
    rng = np.random.default_rng(0)
    A = symmetric_with_spectrum(rng, [1.0, -1.0, 0.5])  # lam and -lam
    with pytest.raises(RuntimeError, match="did not converge in 50"):
        power_iteration(A, rng, max_iter=50)
    with pytest.warns(RuntimeWarning, match="no unique eigenvalue"):
        lam, v, hist = power_iteration(
            A, rng, max_iter=50, on_fail="warn", return_history=True
        )
    assert np.isclose(np.linalg.norm(v), 1.0)
    # exactly max_iter products; lam is the Rayleigh quotient of v
    assert len(hist["eigenvalues"]) == len(hist["vectors"]) == 50
    assert lam == pytest.approx(v @ A @ v, rel=1e-12, abs=1e-14)
    assert np.allclose(np.abs(hist["vectors"][-1]), np.abs(v))
    R = np.array([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues +-i
    with pytest.raises(RuntimeError, match="complex pair"):
        power_iteration(R, rng, max_iter=20)


def test_power_iteration_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="not square"):
        power_iteration(np.ones((2, 3)), rng)
    with pytest.raises(ValueError, match="tol must be positive"):
        power_iteration(np.eye(2), rng, tol=0.0)
    with pytest.raises(ValueError, match="max_iter must be at least 1"):
        power_iteration(np.eye(2), rng, max_iter=0)
    with pytest.raises(ValueError, match="max_iter must be an integer"):
        power_iteration(np.eye(2), rng, max_iter=10.0)
    with pytest.raises(ValueError, match="must not be zero"):
        power_iteration(np.eye(2), rng, x0=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"x0 must have shape \(2,\)"):
        power_iteration(np.eye(2), rng, x0=[1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="on_fail"):
        power_iteration(np.eye(2), rng, on_fail="ignore")
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        power_iteration(np.eye(2), 0)


# --------------------------------------------------------------------------
# orbit_norms
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 3, 8])
def test_orbit_norms_match_matrix_powers(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)
    norms = orbit_norms(A, x, 12)
    ref = [np.linalg.norm(np.linalg.matrix_power(A, k) @ x) for k in range(13)]
    assert norms.shape == (13,)
    # two orders of the same products: round-off ~ k n eps |A|^k |x|
    scale = np.array(
        [np.linalg.norm(A, 2) ** k * np.linalg.norm(x) for k in range(13)]
    )
    assert np.all(np.abs(norms - ref) <= 100 * n * EPS * (1 + scale))


def test_orbit_norms_rejects_bad_input():
    with pytest.raises(ValueError, match=r"x must have shape \(2,\)"):
        orbit_norms(np.eye(2), [1.0, 2.0, 3.0], 3)
    with pytest.raises(ValueError, match="n_steps must be at least 0"):
        orbit_norms(np.eye(2), [1.0, 2.0], -1)
    with pytest.raises(ValueError, match="not square"):
        orbit_norms(np.ones((2, 3)), [1.0, 2.0], 3)


# --------------------------------------------------------------------------
# low_rank_approximation
# --------------------------------------------------------------------------

SHAPES = [(5, 3), (3, 5), (20, 20), (50, 8), (1, 4)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_low_rank_errors_are_the_discarded_singular_values(shape, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    s = np.linalg.svd(A, compute_uv=False)
    p = min(shape)
    for k in range(p + 1):
        A_k = low_rank_approximation(A, k)
        assert A_k.shape == shape
        tol = 10 * max(shape) * EPS * s[0]  # round-off in one SVD
        # Eckart-Young in the Frobenius and the spectral norm
        assert abs(fro(A - A_k) ** 2 - np.sum(s[k:] ** 2)) <= tol * s[0] * p
        sigma_next = s[k] if k < p else 0.0
        assert abs(np.linalg.norm(A - A_k, 2) - sigma_next) <= tol
        assert np.linalg.matrix_rank(A_k) == k


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(12, 7), (7, 12)])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_no_rank_k_matrix_is_closer(shape, k, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    A_k = low_rank_approximation(A, k)
    best_f, best_2 = fro(A - A_k), np.linalg.norm(A - A_k, 2)
    for _ in range(50):
        # the best rank-k matrix with columns in a random k-dim subspace
        Qk, _ = np.linalg.qr(rng.standard_normal((shape[0], k)))
        B = Qk @ (Qk.T @ A)
        assert fro(A - B) >= best_f * (1 - 1e-12)
        assert np.linalg.norm(A - B, 2) >= best_2 * (1 - 1e-12)
        # a small rank-k perturbation of the optimum
        C = A_k + 1e-3 * low_rank(rng, *shape, k)
        C = low_rank_approximation(C, k)  # keep the rank at most k
        assert fro(A - C) >= best_f * (1 - 1e-12)


def test_low_rank_of_a_low_rank_matrix_is_exact():
    rng = np.random.default_rng(3)
    A = low_rank(rng, 9, 6, 2)
    assert fro(low_rank_approximation(A, 2) - A) <= 1e-13 * fro(A)


@pytest.mark.parametrize("k", [-1, 4, 2.0, True, "2"])
def test_low_rank_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must"):
        low_rank_approximation(np.ones((3, 5)), k)


def test_low_rank_rejects_bad_matrix():
    with pytest.raises(ValueError, match="2-D"):
        low_rank_approximation(np.ones(3), 1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        low_rank_approximation([[1.0, np.inf]], 1)


# --------------------------------------------------------------------------
# pinv
# --------------------------------------------------------------------------

PINV_CASES = [
    (6, 4, 2),
    (4, 6, 3),
    (5, 5, 5),
    (5, 5, 1),
    (1, 1, 1),
    (30, 10, 10),
]


def penrose_residuals(A, X):
    return [
        fro(A @ X @ A - A) / fro(A),
        fro(X @ A @ X - X) / fro(X),
        fro((A @ X).T - A @ X),
        fro((X @ A).T - X @ A),
    ]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", PINV_CASES)
def test_pinv_satisfies_penrose_and_matches_numpy(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    X = pinv(A)
    assert X.shape == (n, m)
    s = np.linalg.svd(A, compute_uv=False)
    kappa = s[0] / s[r - 1]  # condition number on the range
    # the four conditions hold to round-off amplified by kappa
    assert max(penrose_residuals(A, X)) <= 100 * max(m, n) * kappa * EPS
    for X_ref in (np.linalg.pinv(A, rtol=None), scipy.linalg.pinv(A)):
        assert fro(X - X_ref) <= 100 * max(m, n) * kappa**2 * EPS * fro(X)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", PINV_CASES)
def test_pinv_gives_the_minimum_norm_least_squares_solution(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    b = rng.standard_normal(m)
    x = pinv(A) @ b
    x_ref = np.linalg.lstsq(A, b, rcond=None)[0]
    s = np.linalg.svd(A, compute_uv=False)
    kappa = s[0] / s[r - 1]
    assert np.linalg.norm(x - x_ref) <= (
        100 * max(m, n) * kappa**2 * EPS * np.linalg.norm(x_ref) + 1e-300
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_pinv_of_full_column_rank_is_the_normal_equations_inverse(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((10, 4))
    assert np.allclose(
        pinv(A), np.linalg.solve(A.T @ A, A.T), rtol=0, atol=1e-12
    )
    B = rng.standard_normal((4, 4))
    assert np.allclose(
        pinv(B),
        np.linalg.inv(B),
        rtol=0,
        atol=1e-10 * np.linalg.norm(np.linalg.inv(B)),
    )


def test_pinv_cutoff():
    A = np.diag([1.0, 1e-10])
    assert np.allclose(pinv(A), np.diag([1.0, 1e10]), rtol=1e-15)
    assert np.array_equal(pinv(A, rtol=1e-8), np.diag([1.0, 0.0]))
    assert np.allclose(pinv(A, rtol=1e-8), np.linalg.pinv(A, rtol=1e-8))
    assert np.array_equal(pinv(np.zeros((2, 3))), np.zeros((3, 2)))


def test_pinv_rejects_bad_input():
    with pytest.raises(ValueError, match="rtol must be finite"):
        pinv(np.eye(2), rtol=-1.0)
    with pytest.raises(ValueError, match="rtol must be finite"):
        pinv(np.eye(2), rtol=np.nan)
    with pytest.raises(ValueError, match="2-D"):
        pinv([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        pinv([[np.nan]])
