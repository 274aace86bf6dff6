"""Tests of m4ml.linear_algebra against numpy and scipy references."""

import numpy as np
import pytest
import scipy.linalg

from m4ml.linear_algebra import (
    affine_matrix,
    change_of_basis,
    coordinates,
    null_space,
    rank,
    rref,
    solve,
    special_solutions,
)

EPS = np.finfo(np.float64).eps
SEEDS = [0, 1, 2]


def low_rank(rng, m, n, r):
    """A random m x n matrix of rank r (with probability one)."""
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


def loose_tol(A):
    """A tolerance far above round-off and far below the nonzero pivots.

    Random low-rank products leave round-off up to about 10 n eps ||A||
    where an exact computation has zeros (more than the default tolerance
    in rare cases); their nonzero pivots are of order one.
    """
    return 1e-9 * np.max(np.sum(np.abs(A), axis=1))


# --------------------------------------------------------------------------
# solve
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 5, 20, 60])
def test_solve_matches_numpy(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    x = solve(A, b)
    x_ref = np.linalg.solve(A, b)
    assert x.shape == (n,)
    # Both solvers are backward stable: forward errors are at most about
    # n * cond(A) * eps relative to |x|.
    bound = 10 * n * np.linalg.cond(A) * EPS
    assert np.linalg.norm(x - x_ref) <= bound * np.linalg.norm(x_ref)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 3, 30])
def test_solve_backward_error_is_round_off(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    x = solve(A, b)
    residual = np.linalg.norm(A @ x - b, np.inf)
    scale = np.linalg.norm(A, np.inf) * np.linalg.norm(x, np.inf)
    # Partial pivoting on random matrices has small growth: the residual is
    # a modest multiple of n * eps * ||A|| ||x||.
    assert residual <= 10 * n * EPS * scale


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, k", [(1, 1), (4, 3), (25, 7)])
def test_solve_matrix_of_right_hand_sides(n, k, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    B = rng.standard_normal((n, k))
    X = solve(A, B)
    assert X.shape == (n, k)
    bound = 10 * n * np.linalg.cond(A) * EPS
    np.testing.assert_allclose(
        X, np.linalg.solve(A, B), rtol=0, atol=bound * np.abs(X).max()
    )
    for j in range(k):  # column by column, the same answer up to the
        # order of summation in the matrix products (round-off only)
        np.testing.assert_allclose(
            X[:, j], solve(A, B[:, j]), rtol=0, atol=bound * np.abs(X).max()
        )


def test_solve_small_example_exactly():
    # 2x - y = 1, x + y = 5 has the solution (2, 3); dyadic arithmetic
    # makes every step exact.
    np.testing.assert_array_equal(solve([[2, -1], [1, 1]], [1, 5]), [2, 3])


def test_solve_pivots_on_a_tiny_entry():
    # Without row exchanges the multiplier 1e20 destroys the answer.
    A = np.array([[1e-20, 1.0], [1.0, 1.0]])
    b = np.array([1.0, 2.0])
    np.testing.assert_allclose(solve(A, b), [1.0, 1.0], rtol=1e-15)


def test_solve_inverse_by_identity():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((6, 6))
    A_inv = solve(A, np.eye(6))
    np.testing.assert_allclose(A @ A_inv, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(A_inv, np.linalg.inv(A), atol=1e-12)


def test_solve_leaves_inputs_alone():
    A = np.array([[0.0, 1.0], [1.0, 1.0]])
    b = np.array([1.0, 2.0])
    A0, b0 = A.copy(), b.copy()
    solve(A, b)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize(
    "A",
    [
        [[1.0, 2.0], [2.0, 4.0]],
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
        [[0.0, 0.0], [0.0, 0.0]],
    ],
)
def test_solve_rejects_singular(A):
    with pytest.raises(ValueError, match="singular: no pivot in column"):
        solve(A, np.ones(len(A)))


def test_solve_rejects_numerically_singular():
    # 1 + 2 eps differs from 1, but the second pivot 2 eps is round-off.
    A = [[1.0, 1.0], [1.0, 1.0 + 2 * EPS]]
    with pytest.raises(ValueError, match="singular"):
        solve(A, [1.0, 2.0])
    # An explicit tolerance below it accepts the matrix.
    x = solve(A, [1.0, 1.0 + 2 * EPS], tol=EPS)
    np.testing.assert_allclose(x, [0.0, 1.0], atol=1e-12)


def test_solve_rejects_random_singular_with_loose_tol():
    rng = np.random.default_rng(3)
    A = low_rank(rng, 8, 8, 5)
    with pytest.raises(ValueError, match="singular"):
        solve(A, np.ones(8), tol=loose_tol(A))


@pytest.mark.parametrize(
    "A, b, message",
    [
        (np.ones((2, 3)), np.ones(2), r"A must be square, got shape \(2, 3\)"),
        (np.eye(3), np.ones(2), r"b must have shape \(3,\) or \(3, k\)"),
        (np.eye(3), np.ones((2, 2)), r"got shape \(2, 2\)"),
        (np.eye(2), np.ones((2, 2, 1)), r"b must have shape"),
        (np.ones(3), np.ones(3), "A must be a 2-D array"),
        (np.zeros((0, 0)), np.ones(0), "must not be empty"),
        ([[1.0, np.nan], [0.0, 1.0]], np.ones(2), "NaN or infinite"),
        (np.eye(2), [1.0, np.inf], "b contains NaN or infinite"),
    ],
)
def test_solve_rejects_bad_shapes_and_values(A, b, message):
    with pytest.raises(ValueError, match=message):
        solve(A, b)


# --------------------------------------------------------------------------
# rref, rank, null spaces
# --------------------------------------------------------------------------

SHAPES_AND_RANKS = [
    (1, 1, 1),
    (3, 3, 2),
    (4, 6, 2),
    (6, 4, 3),
    (5, 5, 5),
    (10, 7, 1),
    (7, 12, 7),
]


def test_rref_known_example():
    A = [[1, 2, 1, 4], [2, 4, 0, 2], [3, 6, 1, 6]]
    R, pivots = rref(A)
    expected = [[1, 2, 0, 1], [0, 0, 1, 3], [0, 0, 0, 0]]
    np.testing.assert_allclose(R, expected, atol=1e-15)
    assert pivots == (0, 2)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", SHAPES_AND_RANKS)
def test_rref_structure(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    R, pivots = rref(A, tol=loose_tol(A))
    assert len(pivots) == r == np.linalg.matrix_rank(A)
    assert list(pivots) == sorted(pivots)
    # Pivot columns are columns of the identity; rows below r are zero.
    np.testing.assert_array_equal(R[:, list(pivots)], np.eye(m)[:, :r])
    np.testing.assert_array_equal(R[r:], 0.0)
    # Each pivot is the first nonzero entry of its row.
    for i, p in enumerate(pivots):
        np.testing.assert_allclose(R[i, :p], 0.0, atol=1e-9)
    # Row operations keep the row space: stacking adds no rank.
    assert np.linalg.matrix_rank(np.vstack([A, R[:r]])) == r
    # The non-pivot columns of A are the combinations that R records.
    np.testing.assert_allclose(
        A, A[:, list(pivots)] @ R[:r], atol=1e-10 * np.abs(A).max()
    )


def test_rref_default_tol_on_exact_data():
    A = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=float)
    assert rref(A)[1] == (0, 1)
    assert rref(np.zeros((2, 3)))[1] == ()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", SHAPES_AND_RANKS)
def test_rank_matches_numpy(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    assert rank(A) == np.linalg.matrix_rank(A) == r
    assert rank(A.T) == r  # row rank = column rank
    assert isinstance(rank(A), int)


def test_rank_of_zero_and_tolerance():
    assert rank(np.zeros((3, 4))) == 0
    A = np.diag([1.0, 1e-3, 1e-12])
    assert rank(A) == 3
    assert rank(A, tol=1e-6) == 2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", SHAPES_AND_RANKS)
def test_null_space_matches_scipy(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    N = null_space(A)
    assert N.shape == (n, n - r)
    np.testing.assert_allclose(N.T @ N, np.eye(n - r), atol=1e-12)
    np.testing.assert_allclose(A @ N, 0.0, atol=1e-12 * np.abs(A).max())
    # Bases differ; the orthogonal projectors onto the subspace agree.
    N_ref = scipy.linalg.null_space(A)
    np.testing.assert_allclose(N @ N.T, N_ref @ N_ref.T, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", SHAPES_AND_RANKS)
def test_rank_plus_nullity_is_n(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    assert rank(A) + null_space(A).shape[1] == n
    R, pivots = rref(A, tol=loose_tol(A))
    S = special_solutions(A, tol=loose_tol(A))
    assert len(pivots) + S.shape[1] == n


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m, n, r", SHAPES_AND_RANKS)
def test_special_solutions_are_a_null_space_basis(m, n, r, seed):
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, r)
    S = special_solutions(A, tol=loose_tol(A))
    assert S.shape == (n, n - r)
    np.testing.assert_allclose(A @ S, 0.0, atol=1e-9 * np.abs(A).max())
    if n > r:
        assert np.linalg.matrix_rank(S) == n - r  # independent
        # ... and spanning the same subspace as the SVD basis
        both = np.hstack([S, null_space(A)])
        assert np.linalg.matrix_rank(both) == n - r


def test_full_column_rank_has_trivial_null_space():
    A = np.eye(4)[:, :3]
    assert null_space(A).shape == (3, 0)
    assert special_solutions(A).shape == (3, 0)


@pytest.mark.parametrize("func", [rref, rank, null_space, special_solutions])
@pytest.mark.parametrize(
    "A, message",
    [
        (np.ones(3), "2-D"),
        (np.ones((2, 2, 2)), "2-D"),
        (np.zeros((0, 3)), "empty"),
        ([[np.inf, 1.0]], "NaN or infinite"),
    ],
)
def test_subspace_functions_reject_bad_input(func, A, message):
    with pytest.raises(ValueError, match=message):
        func(A)


# --------------------------------------------------------------------------
# coordinates and change of basis
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_coordinates_reconstruct(n, seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, n))
    x = rng.standard_normal(n)
    c = coordinates(x, B)
    np.testing.assert_allclose(B @ c, x, atol=1e-12)
    np.testing.assert_allclose(c, np.linalg.solve(B, x), atol=1e-11)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 4, 10])
def test_change_of_basis_matches_inverse_formula(n, seed):
    rng = np.random.default_rng(seed)
    T = rng.standard_normal((n, n))
    B = rng.standard_normal((n, n))
    C = change_of_basis(T, B)
    atol = 1e-10 * np.linalg.cond(B) * np.abs(T).max()
    np.testing.assert_allclose(C, np.linalg.inv(B) @ T @ B, atol=atol)
    np.testing.assert_allclose(B @ C, T @ B, atol=atol)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 3, 6])
def test_change_of_basis_keeps_invariants(n, seed):
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((n, n))
    T = S + S.T  # symmetric: real eigenvalues, distinct with probability 1
    B = rng.standard_normal((n, n))
    C = change_of_basis(T, B)
    tol = 1e-9 * np.linalg.cond(B) * np.abs(T).max()
    assert abs(np.trace(C) - np.trace(T)) <= tol
    assert abs(np.linalg.det(C) - np.linalg.det(T)) <= tol * max(
        1.0, abs(np.linalg.det(T))
    )
    eig_C = np.linalg.eigvals(C)
    np.testing.assert_allclose(eig_C.imag, 0.0, atol=tol)
    np.testing.assert_allclose(
        np.sort(eig_C.real), np.linalg.eigvalsh(T), atol=tol
    )


def test_change_of_basis_identity_and_eigenbasis():
    T = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_array_equal(change_of_basis(T, np.eye(2)), T)
    # The columns (1, 0) and (1, 1) are eigenvectors with eigenvalues 2, 3.
    B = np.array([[1.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(
        change_of_basis(T, B), np.diag([2.0, 3.0]), atol=1e-15
    )


@pytest.mark.parametrize(
    "T, B, message",
    [
        (np.ones((2, 3)), np.eye(2), r"T must be square"),
        (np.eye(2), np.eye(3), r"B must have the shape \(2, 2\)"),
        (np.eye(2), np.ones((2, 3)), r"B must have the shape"),
        (np.eye(2), [[1.0, 2.0], [2.0, 4.0]], "not a basis"),
        (np.eye(2), np.zeros((2, 2)), "not a basis"),
        (np.eye(2), [[1.0, np.nan], [0.0, 1.0]], "NaN"),
    ],
)
def test_change_of_basis_rejects_bad_basis(T, B, message):
    with pytest.raises(ValueError, match=message):
        change_of_basis(T, B)


@pytest.mark.parametrize(
    "x, B, message",
    [
        (np.ones(2), np.ones((2, 3)), "B must be square"),
        (np.ones(3), np.eye(2), "b must have shape"),
        (np.ones(2), [[1.0, 1.0], [1.0, 1.0]], "not a basis"),
    ],
)
def test_coordinates_rejects_bad_input(x, B, message):
    with pytest.raises(ValueError, match=message):
        coordinates(x, B)


# --------------------------------------------------------------------------
# affine maps
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, m, p", [(1, 1, 1), (2, 3, 2), (5, 4, 3)])
def test_affine_composition_is_matrix_product(n, m, p, seed):
    rng = np.random.default_rng(seed)
    A1, b1 = rng.standard_normal((m, n)), rng.standard_normal(m)
    A2, b2 = rng.standard_normal((p, m)), rng.standard_normal(p)
    X = rng.standard_normal((n, 10))  # ten points as columns
    direct = A2 @ (A1 @ X + b1[:, None]) + b2[:, None]
    H = affine_matrix(A2, b2) @ affine_matrix(A1, b1)
    assert H.shape == (p + 1, n + 1)
    homogeneous = H @ np.vstack([X, np.ones((1, 10))])
    np.testing.assert_allclose(homogeneous[:p], direct, atol=1e-12)
    np.testing.assert_array_equal(homogeneous[p], 1.0)
    # The composite is the affine map (A2 A1, A2 b1 + b2).
    np.testing.assert_allclose(
        H, affine_matrix(A2 @ A1, A2 @ b1 + b2), atol=1e-12
    )


@pytest.mark.parametrize(
    "A, b, message",
    [
        (np.eye(2), np.ones(3), r"b must have shape \(2,\)"),
        (np.eye(2), np.ones((2, 1)), r"got shape \(2, 1\)"),
        (np.ones(2), np.ones(2), "2-D"),
    ],
)
def test_affine_matrix_rejects_bad_shapes(A, b, message):
    with pytest.raises(ValueError, match=message):
        affine_matrix(A, b)
