"""Tests of m4ml.analytic_geometry against numpy, scipy and closed forms."""

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
from scipy.spatial.transform import Rotation

from m4ml.analytic_geometry import (
    angle,
    back_substitution,
    function_inner_product,
    givens,
    gram_schmidt,
    inner_product,
    least_squares,
    lp_norm,
    orthogonal_complement,
    project,
    projection_matrix,
    rotation_2d,
)

EPS = np.finfo(np.float64).eps
SEEDS = [0, 1, 2]
FULL_SHAPES = [(1, 1), (3, 2), (5, 5), (20, 7), (60, 25)]
LOW_RANK = [(4, 3, 1), (10, 8, 3), (12, 20, 5), (40, 15, 9)]


def random_spd(rng, n):
    """A random symmetric positive definite matrix, well conditioned."""
    G = rng.standard_normal((n, n))
    return G @ G.T + n * np.eye(n)


def low_rank(rng, m, n, r):
    """A random m x n matrix of rank r (with probability one)."""
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


def loose_tol(A):
    """A rank tolerance far above round-off and far below the gap.

    Products of random factors leave remainders of size about
    eps * cond * ||A|| where exact arithmetic has zeros, sometimes above
    the default tolerance; their nonzero remainders are of order one.
    """
    return 1e-9 * np.max(np.linalg.norm(A, axis=0))


def projector(Q):
    return Q @ Q.T


def with_condition(rng, m, n, kappa):
    """A random m x n matrix with singular values from 1 down to 1/kappa."""
    U, _ = np.linalg.qr(rng.standard_normal((m, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (U * np.logspace(0, -np.log10(kappa), n)) @ V.T


# --------------------------------------------------------------------------
# lp_norm
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, np.inf])
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_lp_norm_matches_numpy(n, p, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    # A sum of n terms and one power: a few n eps of relative round-off.
    np.testing.assert_allclose(
        lp_norm(x, p), np.linalg.norm(x, ord=p), rtol=10 * n * EPS
    )


@pytest.mark.parametrize("p", [1, 2, np.inf])
def test_lp_norm_along_an_axis(p):
    X = np.random.default_rng(3).standard_normal((6, 4))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(
            lp_norm(X, p, axis=axis),
            np.linalg.norm(X, ord=p, axis=axis),
            rtol=1e-14,
        )


def test_lp_norm_is_a_float_for_one_vector():
    value = lp_norm([3.0, 4.0])
    assert type(value) is float and value == 5.0


def test_lp_norm_does_not_overflow_or_underflow():
    for scale in (1e200, 1e-200):
        x = np.array([3.0, 4.0]) * scale
        np.testing.assert_allclose(lp_norm(x), 5 * scale, rtol=4 * EPS)
        np.testing.assert_allclose(
            lp_norm(x, 3), 91 ** (1 / 3) * scale, rtol=8 * EPS
        )
    assert lp_norm(np.zeros(3), 1.5) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_norm_inequalities(seed):
    rng = np.random.default_rng(seed)
    n = 12
    X = rng.standard_normal((500, n)) * rng.exponential(size=(500, 1))
    inf_, two, one = lp_norm(X, np.inf), lp_norm(X, 2), lp_norm(X, 1)
    slack = 1e-13 * one  # round-off in the sums
    assert np.all(inf_ <= two + slack)
    assert np.all(two <= one + slack)
    assert np.all(one <= np.sqrt(n) * two + slack)
    assert np.all(two <= np.sqrt(n) * inf_ + slack)


@pytest.mark.parametrize("p", [1, 1.5, 2, 4, np.inf])
def test_triangle_inequality_for_p_at_least_one(p):
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((2, 1000, 5))
    lhs = lp_norm(X + Y, p)
    rhs = lp_norm(X, p) + lp_norm(Y, p)
    assert np.all(lhs <= rhs * (1 + 1e-14))


def test_p_below_one_breaks_the_triangle_inequality():
    e1, e2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert lp_norm(e1 + e2, 0.5) == pytest.approx(4.0, rel=1e-15)
    assert lp_norm(e1, 0.5) + lp_norm(e2, 0.5) == 2.0


@pytest.mark.parametrize("p", [0, -1, np.nan])
def test_lp_norm_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must be positive"):
        lp_norm([1.0, 2.0], p)


def test_lp_norm_rejects_bad_x():
    with pytest.raises(ValueError, match="NaN or infinite"):
        lp_norm([1.0, np.inf])
    with pytest.raises(ValueError, match="non-empty"):
        lp_norm([])
    with pytest.raises(ValueError, match="non-empty"):
        lp_norm(3.0)


# --------------------------------------------------------------------------
# inner_product and angle
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 3, 10])
def test_inner_product_matches_formula(n, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, n))
    M = random_spd(rng, n)
    assert inner_product(x, y) == pytest.approx(
        float(x @ y), rel=1e-14, abs=1e-14
    )
    np.testing.assert_allclose(
        inner_product(x, y, M), x @ M @ y, rtol=1e-12, atol=1e-12 * n
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 5, 20])
def test_inner_product_axioms(n, seed):
    rng = np.random.default_rng(seed)
    x, y, z = rng.standard_normal((3, n))
    a, b = rng.standard_normal(2)
    M = random_spd(rng, n)
    for MM in (None, M):
        lhs = inner_product(a * x + b * y, z, MM)
        rhs = a * inner_product(x, z, MM) + b * inner_product(y, z, MM)
        assert lhs == pytest.approx(rhs, rel=1e-11, abs=1e-11 * n)
        assert inner_product(x, y, MM) == pytest.approx(
            inner_product(y, x, MM), rel=1e-12, abs=1e-12
        )
        assert inner_product(x, x, MM) > 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 4, 30])
def test_cauchy_schwarz(n, seed):
    rng = np.random.default_rng(seed)
    M = random_spd(rng, n)
    for _ in range(200):
        x, y = rng.standard_normal((2, n))
        for MM in (None, M):
            lhs = abs(inner_product(x, y, MM))
            rhs = np.sqrt(inner_product(x, x, MM) * inner_product(y, y, MM))
            assert lhs <= rhs * (1 + 1e-13)


def test_inner_product_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        inner_product([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="1-D"):
        inner_product([[1.0, 2.0]], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="NaN or infinite"):
        inner_product([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="symmetric"):
        inner_product([1.0, 2.0], [1.0, 2.0], M=[[1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        inner_product([1.0, 2.0], [1.0, 2.0], M=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        inner_product([1.0, 2.0], [1.0, 2.0], M=[[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        inner_product([1.0, 2.0], [1.0, 2.0], M=np.eye(3))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 3, 8])
def test_angle_matches_arccos_and_is_scale_invariant(n, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, n))
    cos = x @ y / (np.linalg.norm(x) * np.linalg.norm(y))
    expected = np.arccos(cos)
    assert angle(x, y) == pytest.approx(expected, rel=1e-12)
    assert angle(3.0 * x, 0.5 * y) == pytest.approx(expected, rel=1e-12)
    assert angle(y, x) == pytest.approx(expected, rel=1e-12)
    assert angle(-x, y) == pytest.approx(np.pi - expected, rel=1e-12)
    M = random_spd(rng, n)
    cos_m = x @ M @ y / np.sqrt((x @ M @ x) * (y @ M @ y))
    assert angle(x, y, M) == pytest.approx(np.arccos(cos_m), rel=1e-12)


def test_angle_is_accurate_near_zero_and_pi():
    x = np.array([0.1, 0.2, 0.3])
    # arccos would give errors of order sqrt(eps) = 1.5e-8 here.
    assert angle(x, 7 * x) == pytest.approx(0.0, abs=4 * EPS)
    assert angle(x, -7 * x) == pytest.approx(np.pi, rel=4 * EPS)
    y = np.array([1.0, 1e-10])
    assert angle([1.0, 0.0], y) == pytest.approx(1e-10, rel=1e-12)


def test_angle_with_zero_vector_is_undefined():
    with pytest.raises(ValueError, match="zero vector"):
        angle([0.0, 0.0], [1.0, 2.0])


# --------------------------------------------------------------------------
# gram_schmidt
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", FULL_SHAPES)
def test_gram_schmidt_matches_numpy_qr_up_to_signs(m, n, seed):
    A = np.random.default_rng(seed).standard_normal((m, n))
    Q, R = gram_schmidt(A, return_r=True)
    Q_np, R_np = np.linalg.qr(A)
    signs = np.sign(np.diag(R_np))
    # Q is determined by A up to signs; its perturbation is about
    # cond(A) eps for both backward-stable algorithms.
    tol = 10 * n * np.linalg.cond(A) * EPS
    assert Q.shape == (m, n) and R.shape == (n, n)
    np.testing.assert_allclose(Q, Q_np * signs, rtol=0, atol=tol)
    np.testing.assert_allclose(
        R, signs[:, None] * R_np, rtol=0, atol=tol * np.abs(A).max()
    )
    assert np.all(np.diag(R) > 0)
    assert np.array_equal(R, np.triu(R))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", FULL_SHAPES + [(3, 8), (6, 6)])
def test_gram_schmidt_is_orthonormal_and_factors_a(m, n, seed):
    A = np.random.default_rng(seed).standard_normal((m, n))
    Q, R = gram_schmidt(A, return_r=True)
    r = min(m, n)
    assert Q.shape == (m, r) and R.shape == (r, n)
    # Two passes: orthogonality to round-off, whatever cond(A).
    np.testing.assert_allclose(Q.T @ Q, np.eye(r), rtol=0, atol=10 * m * EPS)
    np.testing.assert_allclose(
        Q @ R, A, rtol=0, atol=10 * m * EPS * np.abs(A).max()
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", LOW_RANK)
def test_gram_schmidt_spans_the_column_space_like_scipy_orth(m, n, r, seed):
    A = low_rank(np.random.default_rng(seed), m, n, r)
    Q = gram_schmidt(A, tol=loose_tol(A))
    Q_ref = scipy.linalg.orth(A)
    assert Q.shape == Q_ref.shape == (m, r)
    np.testing.assert_allclose(
        projector(Q), projector(Q_ref), rtol=0, atol=1e-10
    )


def test_gram_schmidt_drops_exactly_dependent_columns_by_default():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 6))
    A = np.column_stack([a, 2 * a, b, np.zeros(6), a - 3 * b, b])
    Q, R = gram_schmidt(A, return_r=True)
    assert Q.shape == (6, 2) and R.shape == (2, 6)
    np.testing.assert_allclose(Q @ R, A, rtol=0, atol=1e-14)
    # R is in echelon form: the kept columns are 0 and 2.
    assert R[0, 0] > 0 and R[1, 0] == 0 and R[1, 1] == 0 and R[1, 2] > 0


def test_gram_schmidt_of_zeros_is_empty():
    Q, R = gram_schmidt(np.zeros((4, 3)), return_r=True)
    assert Q.shape == (4, 0) and R.shape == (0, 3)


def test_gram_schmidt_tol_zero_keeps_tiny_independent_columns():
    A = np.array([[1.0, 1.0], [0.0, 1e-20]])
    assert gram_schmidt(A).shape == (2, 1)
    assert gram_schmidt(A, tol=0).shape == (2, 2)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", [(3, 3), (8, 5), (20, 20)])
def test_gram_schmidt_with_an_spd_inner_product(m, n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    M = random_spd(rng, m)
    Q, R = gram_schmidt(A, M=M, return_r=True)
    np.testing.assert_allclose(
        Q.T @ M @ Q, np.eye(n), rtol=0, atol=100 * m * EPS
    )
    np.testing.assert_allclose(Q @ R, A, rtol=0, atol=1e-12)
    # M-orthonormal Q from A equals L^{-T} times the ordinary Q of L^T A,
    # where M = L L^T (the change of variables z = L^T x).
    L = np.linalg.cholesky(M)
    Q_ref = scipy.linalg.solve_triangular(L.T, gram_schmidt(L.T @ A))
    np.testing.assert_allclose(Q, Q_ref, rtol=0, atol=1e-10)


def test_reorthogonalisation_is_what_keeps_q_orthogonal():
    A = with_condition(np.random.default_rng(6), 60, 20, kappa=1e10)
    loss = [
        np.linalg.norm(
            gram_schmidt(A, tol=0, reorthogonalize=flag).T
            @ gram_schmidt(A, tol=0, reorthogonalize=flag)
            - np.eye(20),
            2,
        )
        for flag in (False, True)
    ]
    # One pass loses about cond * eps = 2e-6; two keep round-off.
    assert loss[0] > 1e-9
    assert loss[1] < 100 * EPS


def test_gram_schmidt_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        gram_schmidt([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        gram_schmidt([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match="empty"):
        gram_schmidt(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="tol must be non-negative"):
        gram_schmidt(np.eye(2), tol=-1.0)
    with pytest.raises(ValueError, match="positive definite"):
        gram_schmidt(np.eye(2), M=-np.eye(2))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        gram_schmidt(np.eye(2), M=np.eye(3))


# --------------------------------------------------------------------------
# orthogonal_complement
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", LOW_RANK + [(5, 2, 2), (7, 7, 7)])
def test_orthogonal_complement_matches_scipy_null_space(m, n, r, seed):
    B = low_rank(np.random.default_rng(seed), m, n, r)
    C = orthogonal_complement(B, tol=loose_tol(B))
    N = scipy.linalg.null_space(B.T)
    assert C.shape == N.shape == (m, m - r)
    np.testing.assert_allclose(
        C.T @ C, np.eye(m - r), rtol=0, atol=10 * m * EPS
    )
    np.testing.assert_allclose(
        B.T @ C, 0.0, rtol=0, atol=1e-12 * np.abs(B).max()
    )
    np.testing.assert_allclose(projector(C), projector(N), rtol=0, atol=1e-10)


def test_complement_and_subspace_add_up_to_identity():
    B = np.random.default_rng(7).standard_normal((6, 2))
    C = orthogonal_complement(B)
    np.testing.assert_allclose(
        projection_matrix(B) + projector(C), np.eye(6), rtol=0, atol=1e-14
    )


# --------------------------------------------------------------------------
# projection_matrix and project
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", [(2, 1), (3, 2), (10, 4), (30, 29)])
def test_projection_matrix_formulas(m, n, seed):
    B = np.random.default_rng(seed).standard_normal((m, n))
    P = projection_matrix(B)
    tol = 100 * m * np.linalg.cond(B) ** 2 * EPS  # B^T B in the reference
    np.testing.assert_allclose(P @ P, P, rtol=0, atol=10 * m * EPS)
    np.testing.assert_allclose(P, P.T, rtol=0, atol=10 * m * EPS)
    np.testing.assert_allclose(
        P, B @ np.linalg.solve(B.T @ B, B.T), rtol=0, atol=tol
    )
    np.testing.assert_allclose(P, B @ np.linalg.pinv(B), rtol=0, atol=tol)
    assert np.trace(P) == pytest.approx(n, rel=1e-12)


def test_projection_onto_a_line():
    a = np.array([1.0, 2.0, 2.0])
    np.testing.assert_allclose(
        projection_matrix(a), np.outer(a, a) / 9.0, rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(
        project([3.0, 0.0, 0.0], a), a / 3.0, rtol=0, atol=1e-15
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", LOW_RANK)
def test_projection_onto_dependent_columns_uses_the_span(m, n, r, seed):
    rng = np.random.default_rng(seed)
    B = low_rank(rng, m, n, r)
    x = rng.standard_normal((m, 3))
    p = project(x, B, tol=loose_tol(B))
    np.testing.assert_allclose(
        p,
        scipy.linalg.orth(B) @ (scipy.linalg.orth(B).T @ x),
        rtol=0,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        p, np.linalg.pinv(B).T @ B.T @ x, rtol=0, atol=1e-8
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", [(3, 1), (5, 2), (40, 10)])
def test_residual_is_orthogonal_and_projection_is_closest(m, n, seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((m, n))
    x = rng.standard_normal(m)
    p = project(x, B)
    assert p.shape == (m,)
    np.testing.assert_allclose(B.T @ (x - p), 0.0, rtol=0, atol=1e-13 * m)
    others = B @ rng.standard_normal((n, 500)) * 3
    dist = np.linalg.norm(x[:, None] - others, axis=0)
    assert np.all(np.linalg.norm(x - p) <= dist)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", [(3, 1), (6, 3), (15, 5)])
def test_projection_in_an_spd_inner_product(m, n, seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((m, n))
    M = random_spd(rng, m)
    x = rng.standard_normal(m)
    P = projection_matrix(B, M=M)
    p = project(x, B, M=M)
    np.testing.assert_allclose(P @ P, P, rtol=0, atol=1e-12)
    np.testing.assert_allclose(M @ P, (M @ P).T, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        P, B @ np.linalg.solve(B.T @ M @ B, B.T @ M), rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(p, P @ x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(B.T @ M @ (x - p), 0.0, rtol=0, atol=1e-11)


def test_projection_onto_zero_subspace_is_zero():
    assert np.array_equal(project([1.0, 2.0], np.zeros((2, 3))), np.zeros(2))


def test_project_rejects_bad_input():
    with pytest.raises(ValueError, match="B must have 3 rows"):
        project([1.0, 2.0, 3.0], np.ones((2, 1)))
    with pytest.raises(ValueError, match="x contains NaN"):
        project([1.0, np.nan], np.ones((2, 1)))
    with pytest.raises(ValueError, match="B contains NaN"):
        project([1.0, 2.0], [[np.inf], [1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        project([1.0, 2.0], np.ones((2, 1)), M=np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="x must be a 1-D or 2-D"):
        project(np.ones((2, 2, 2)), np.ones((2, 1)))


# --------------------------------------------------------------------------
# back_substitution and least_squares
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 4, 30])
def test_back_substitution_matches_scipy(n, seed):
    rng = np.random.default_rng(seed)
    R = np.triu(rng.standard_normal((n, n))) + 3 * np.eye(n)
    b = rng.standard_normal((n, 2))
    x = back_substitution(R + np.tril(np.ones((n, n)), -1), b)  # ignored
    ref = scipy.linalg.solve_triangular(R, b)
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        back_substitution(R, b[:, 0]), ref[:, 0], rtol=1e-12, atol=1e-12
    )


def test_back_substitution_rejects_bad_input():
    with pytest.raises(ValueError, match="singular"):
        back_substitution([[1.0, 2.0], [0.0, 0.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="square"):
        back_substitution(np.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(ValueError, match="b must have 2 rows"):
        back_substitution(np.eye(2), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n", [(1, 1), (5, 2), (50, 10), (200, 40)])
def test_least_squares_matches_lstsq_and_normal_equations(m, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = rng.standard_normal(m)
    w = least_squares(X, y)
    kappa = np.linalg.cond(X)
    w_lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
    w_normal = np.linalg.solve(X.T @ X, X.T @ y)
    scale = np.linalg.norm(w_lstsq)
    # QR and SVD solutions are accurate to about kappa^2 eps for a
    # nonzero residual; the normal equations to about kappa^2 eps too.
    tol = 100 * max(m, n) * kappa**2 * EPS * max(scale, 1.0)
    np.testing.assert_allclose(w, w_lstsq, rtol=0, atol=tol)
    np.testing.assert_allclose(w, w_normal, rtol=0, atol=tol)
    # The residual is orthogonal to the columns: X^T r = 0.
    r = y - X @ w
    np.testing.assert_allclose(
        X.T @ r,
        0.0,
        rtol=0,
        atol=100 * m * EPS * np.abs(X).max() * (np.abs(y).max() + 1),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_least_squares_with_several_right_hand_sides(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 4))
    Y = rng.standard_normal((30, 3))
    W = least_squares(X, Y)
    assert W.shape == (4, 3)
    np.testing.assert_allclose(
        W, np.linalg.lstsq(X, Y, rcond=None)[0], rtol=1e-10, atol=1e-12
    )


def test_qr_beats_the_normal_equations_when_ill_conditioned():
    rng = np.random.default_rng(8)
    X = with_condition(rng, 60, 20, kappa=1e7)
    w_true = rng.standard_normal(20)
    y = X @ w_true  # a consistent system: zero residual
    err_qr = np.linalg.norm(least_squares(X, y) - w_true)
    err_ne = np.linalg.norm(np.linalg.solve(X.T @ X, X.T @ y) - w_true)
    w_scale = np.linalg.norm(w_true)
    assert err_qr <= 1e4 * 1e7 * EPS * w_scale  # about kappa eps
    assert err_ne >= 1e3 * err_qr  # about kappa^2 eps


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "m, n, r", [(10, 4, 2), (6, 6, 3), (5, 9, 5), (5, 9, 2), (30, 12, 7)]
)
def test_min_norm_solution_equals_pinv(m, n, r, seed):
    rng = np.random.default_rng(seed)
    X = low_rank(rng, m, n, r)
    y = rng.standard_normal((m, 2))
    w = least_squares(X, y, min_norm=True, tol=loose_tol(X))
    np.testing.assert_allclose(
        w, np.linalg.pinv(X, rcond=1e-9) @ y, rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        w[:, 0],
        least_squares(X, y[:, 0], min_norm=True, tol=loose_tol(X)),
        rtol=0,
        atol=1e-12,
    )
    # The minimum-norm solution has no component in the null space.
    N = scipy.linalg.null_space(X, rcond=1e-9)
    np.testing.assert_allclose(N.T @ w, 0.0, rtol=0, atol=1e-9)


def test_min_norm_of_zero_matrix_is_zero():
    w = least_squares(np.zeros((3, 2)), [1.0, 2.0, 3.0], min_norm=True)
    assert np.array_equal(w, np.zeros(2))


def test_least_squares_raises_for_rank_deficiency():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    with pytest.raises(ValueError, match="rank deficient: rank 1 < 2"):
        least_squares(X, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="min_norm=True"):
        least_squares(np.ones((2, 3)), [1.0, 2.0])  # wide: never unique


def test_least_squares_rejects_bad_input():
    with pytest.raises(ValueError, match="y must have 3 rows"):
        least_squares(np.ones((3, 1)), [1.0, 2.0])
    with pytest.raises(ValueError, match="X contains NaN"):
        least_squares([[1.0], [np.nan]], [1.0, 2.0])
    with pytest.raises(ValueError, match="y contains NaN"):
        least_squares([[1.0], [2.0]], [1.0, np.inf])
    with pytest.raises(ValueError, match="X must be a 2-D"):
        least_squares([1.0, 2.0], [1.0, 2.0])


# --------------------------------------------------------------------------
# rotations
# --------------------------------------------------------------------------


@pytest.mark.parametrize("theta", [0.0, 0.3, np.pi / 2, 2.0, -5.0])
def test_rotation_2d_is_a_rotation(theta):
    R = rotation_2d(theta)
    np.testing.assert_allclose(R.T @ R, np.eye(2), rtol=0, atol=4 * EPS)
    assert np.linalg.det(R) == pytest.approx(1.0, rel=4 * EPS)
    x = np.array([1.0, 0.0])
    assert angle(x, R @ x) == pytest.approx(
        abs(np.angle(np.exp(1j * theta))), abs=1e-14
    )
    np.testing.assert_allclose(
        rotation_2d(theta) @ rotation_2d(0.7),
        rotation_2d(theta + 0.7),
        rtol=0,
        atol=8 * EPS,
    )


@pytest.mark.parametrize("i, j, axis", [(0, 1, "z"), (1, 2, "x"), (2, 0, "y")])
@pytest.mark.parametrize("theta", [0.4, -1.3, 3.0])
def test_givens_in_3d_matches_scipy_rotations(i, j, axis, theta):
    ref = Rotation.from_euler(axis, theta).as_matrix()
    np.testing.assert_allclose(
        givens(3, i, j, theta), ref, rtol=0, atol=4 * EPS
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_givens_is_orthogonal_with_det_one_and_can_zero_an_entry(seed):
    rng = np.random.default_rng(seed)
    n = 6
    x = rng.standard_normal(n)
    theta = np.arctan2(x[4], x[1])  # turn (x_1, x_4) onto e_1
    G = givens(n, 1, 4, -theta)
    np.testing.assert_allclose(G.T @ G, np.eye(n), rtol=0, atol=4 * EPS)
    assert np.linalg.det(G) == pytest.approx(1.0, rel=1e-14)
    y = G @ x
    assert y[4] == pytest.approx(0.0, abs=4 * EPS * np.abs(x).max())
    assert np.linalg.norm(y) == pytest.approx(np.linalg.norm(x), rel=1e-14)


def test_rotations_reject_bad_input():
    with pytest.raises(ValueError, match="finite"):
        rotation_2d(np.inf)
    with pytest.raises(ValueError, match="different indices"):
        givens(3, 1, 1, 0.3)
    with pytest.raises(ValueError, match="different indices"):
        givens(3, 0, 3, 0.3)
    with pytest.raises(ValueError, match="integer >= 2"):
        givens(1, 0, 0, 0.3)


# --------------------------------------------------------------------------
# function_inner_product
# --------------------------------------------------------------------------


@pytest.mark.parametrize("j", [1, 2, 5])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_trigonometric_functions_are_orthogonal(j, k):
    sj = function_inner_product(
        lambda t: np.sin(j * t), lambda t: np.sin(k * t), -np.pi, np.pi
    )
    cj = function_inner_product(
        lambda t: np.cos(j * t), lambda t: np.cos(k * t), -np.pi, np.pi
    )
    sc = function_inner_product(
        lambda t: np.sin(j * t), lambda t: np.cos(k * t), -np.pi, np.pi
    )
    expected = np.pi if j == k else 0.0
    # 64 Gauss nodes resolve frequencies up to 10 to round-off.
    assert sj == pytest.approx(expected, abs=1e-13)
    assert cj == pytest.approx(expected, abs=1e-13)
    assert sc == pytest.approx(0.0, abs=1e-13)


def test_monomials_on_unit_interval_give_the_hilbert_matrix():
    d = 8
    G = np.array(
        [
            [
                function_inner_product(
                    lambda t, i=i: t**i, lambda t, j=j: t**j, 0, 1, 9
                )
                for j in range(d)
            ]
            for i in range(d)
        ]
    )
    # degree <= 14 <= 2 * 9 - 1: the quadrature is exact up to round-off
    np.testing.assert_allclose(G, scipy.linalg.hilbert(d), rtol=1e-14)


@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-2.0, 3.0), (1.0, 10.0)])
def test_function_inner_product_matches_scipy_quad(a, b):
    f, g = np.exp, np.cos
    ref, err = scipy.integrate.quad(
        lambda t: f(t) * g(t), a, b, epsabs=0, epsrel=1e-12
    )
    assert err < 1e-10 * abs(ref)
    assert function_inner_product(f, g, a, b) == pytest.approx(ref, rel=1e-10)


def test_function_inner_product_accepts_constant_functions():
    value = function_inner_product(lambda t: 2.0, lambda t: t, 0.0, 1.0)
    assert value == pytest.approx(1.0, rel=1e-14)


def test_function_inner_product_rejects_bad_input():
    with pytest.raises(ValueError, match="a < b"):
        function_inner_product(np.sin, np.sin, 1.0, 1.0)
    with pytest.raises(ValueError, match="a < b"):
        function_inner_product(np.sin, np.sin, 0.0, np.inf)
    with pytest.raises(ValueError, match="n_nodes"):
        function_inner_product(np.sin, np.sin, 0.0, 1.0, n_nodes=0)
    with pytest.raises(ValueError, match="f returned NaN"):
        function_inner_product(
            lambda t: np.where(t > 0, np.nan, t), np.sin, -1.0, 1.0
        )
