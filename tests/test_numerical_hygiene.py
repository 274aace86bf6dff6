"""Tests for m4ml.numerical_hygiene against numpy, math and exact rationals."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from m4ml.analytic_geometry import least_squares
from m4ml.numerical_hygiene import (
    EPS,
    ill_conditioned_matrix,
    kahan_sum,
    least_squares_errors,
    least_squares_problem,
    optimal_step,
    relative_error,
    symmetric_relative_error,
    ulp_distance,
)

U = EPS / 2


# ------------------------------------------------------------ errors


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(3,), (4, 5), (2, 3, 2)])
def test_relative_error_matches_numpy_norms(seed, shape):
    rng = np.random.default_rng(seed)
    exact = rng.standard_normal(shape)
    computed = exact + 1e-3 * rng.standard_normal(shape)
    expected = np.linalg.norm((computed - exact).ravel()) / np.linalg.norm(
        exact.ravel()
    )
    assert relative_error(computed, exact) == pytest.approx(
        expected, rel=1e-14
    )
    assert relative_error(exact, exact) == 0.0


def test_relative_error_is_scale_free():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    for scale in (1e-100, 1e100):
        assert relative_error(scale * a, scale * b) == pytest.approx(
            relative_error(a, b), rel=1e-14
        )


def test_relative_error_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="zero"):
        relative_error([1.0], [0.0])
    with pytest.raises(ValueError, match="finite"):
        relative_error([np.nan], [1.0])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_symmetric_relative_error_properties(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, 7))
    r = symmetric_relative_error(a, b)
    assert r == symmetric_relative_error(b, a)  # symmetric
    assert 0.0 <= r <= 2.0
    expected = np.linalg.norm(a - b) / max(
        np.linalg.norm(a), np.linalg.norm(b)
    )
    assert r == pytest.approx(expected, rel=1e-14)
    assert symmetric_relative_error(a, -a) == pytest.approx(2.0, rel=1e-15)
    assert symmetric_relative_error(3.0 * a, 3.0 * b) == pytest.approx(
        r, rel=1e-14
    )


def test_symmetric_relative_error_floor_and_errors():
    assert symmetric_relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    r = symmetric_relative_error([1e-40], [0.0], floor=1e-30)
    assert r == pytest.approx(1e-10, rel=1e-15)
    with pytest.raises(ValueError, match="floor must be positive"):
        symmetric_relative_error([1.0], [1.0], floor=0.0)
    with pytest.raises(ValueError, match="shapes differ"):
        symmetric_relative_error([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        symmetric_relative_error([np.inf], [1.0])


# ------------------------------------------------------------ ulps


@pytest.mark.parametrize("x", [1.0, -1.0, 0.1, 1e-300, -3e200, 5e-324, 0.0])
@pytest.mark.parametrize("steps", [1, 2, 17])
def test_ulp_distance_counts_nextafter_steps(x, steps):
    y = x
    for _ in range(steps):
        y = np.nextafter(y, np.inf)
    assert ulp_distance(x, y) == steps
    assert ulp_distance(y, x) == steps
    assert isinstance(ulp_distance(x, y), int)


def test_ulp_distance_across_zero_and_arrays():
    tiny = 5e-324  # the smallest subnormal
    assert ulp_distance(-tiny, tiny) == 2
    assert ulp_distance(-0.0, 0.0) == 0
    assert ulp_distance(-tiny, 0.0) == 1
    a = np.array([1.0, 2.0, 0.1 + 0.2])
    b = np.array([1.0, 2.0 + 2 * np.spacing(2.0), 0.3])
    out = ulp_distance(a, b)
    assert out.dtype == np.int64
    assert out.tolist() == [0, 2, 1]


@pytest.mark.parametrize("seed", [0, 1])
def test_ulp_distance_matches_spacing(seed):
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_normal(20)) * 10.0 ** rng.integers(-30, 30, 20)
    k = rng.integers(0, 1000, 20)
    # within one binade, k ulps apart means a difference of k * spacing
    y = x + k * np.spacing(x)
    same_binade = np.floor(np.log2(x)) == np.floor(np.log2(y))
    assert np.array_equal(ulp_distance(x, y)[same_binade], k[same_binade])


def test_ulp_distance_errors():
    with pytest.raises(ValueError, match="finite"):
        ulp_distance(np.nan, 1.0)
    with pytest.raises(ValueError, match="finite"):
        ulp_distance(1.0, np.inf)


# ------------------------------------------------------------ sums


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 10, 5000])
def test_kahan_sum_is_within_two_u_of_exact(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
    exact = sum(Fraction(v) for v in x.tolist())
    err = abs(Fraction(kahan_sum(x)) - exact)
    bound = 2 * U * math.fsum(np.abs(x)) + 2 * U * abs(float(exact))
    assert float(err) <= bound


def test_kahan_sum_beats_the_plain_loop():
    x = np.full(200_000, 0.1)
    exact = math.fsum(x)
    loop = float(np.cumsum(x)[-1])
    assert ulp_distance(kahan_sum(x), exact) <= 1
    assert ulp_distance(loop, exact) > 1000


def test_kahan_sum_edge_cases():
    assert kahan_sum([]) == 0.0
    assert kahan_sum([2.5]) == 2.5
    assert kahan_sum([1.0, 1e-16, 1e-16, 1e-16, 1e-16]) == math.fsum(
        [1.0, 1e-16, 1e-16, 1e-16, 1e-16]
    )
    with pytest.raises(ValueError, match="1-D"):
        kahan_sum([[1.0, 2.0]])
    with pytest.raises(ValueError, match="finite"):
        kahan_sum([1.0, np.nan])


# ------------------------------------------------------------ steps


@pytest.mark.parametrize(
    "f_scale, deriv_scale", [(1.0, 1.0), (3.0, 0.2), (1e-4, 50.0)]
)
def test_optimal_step_minimises_the_error_model(f_scale, deriv_scale):
    h = np.geomspace(1e-12, 1e-1, 200_001)
    central = h**2 * deriv_scale / 6 + EPS * f_scale / h
    forward = h * deriv_scale / 2 + 2 * EPS * f_scale / h
    for method, model in [("central", central), ("forward", forward)]:
        best = h[np.argmin(model)]
        assert optimal_step(f_scale, deriv_scale, method) == pytest.approx(
            best, rel=1e-3
        )


def test_optimal_step_closed_forms_and_errors():
    assert optimal_step() == pytest.approx((3 * EPS) ** (1 / 3), rel=1e-15)
    eps32 = float(np.finfo(np.float32).eps)
    assert optimal_step(eps=eps32) == pytest.approx(
        (3 * eps32) ** (1 / 3), rel=1e-15
    )
    assert optimal_step(method="forward") == pytest.approx(
        2 * math.sqrt(EPS), rel=1e-15
    )
    with pytest.raises(ValueError, match="method"):
        optimal_step(method="backward")
    with pytest.raises(ValueError, match="f_scale must be positive"):
        optimal_step(f_scale=0.0)
    with pytest.raises(ValueError, match="deriv_scale must be positive"):
        optimal_step(deriv_scale=-1.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        optimal_step(eps=np.nan)


# ------------------------------------------------ conditioning experiments


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("m, n", [(2, 2), (10, 4), (50, 7)])
@pytest.mark.parametrize("cond", [1.0, 1e3, 1e8])
def test_ill_conditioned_matrix_has_the_condition_number(seed, m, n, cond):
    X = ill_conditioned_matrix(m, n, cond, np.random.default_rng(seed))
    assert X.shape == (m, n)
    s = np.linalg.svd(X, compute_uv=False)
    np.testing.assert_allclose(
        s, np.geomspace(1.0, 1.0 / cond, n), rtol=0, atol=50 * EPS
    )
    assert np.linalg.cond(X) == pytest.approx(cond, rel=100 * cond * EPS)


def test_ill_conditioned_matrix_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="m >= n >= 2"):
        ill_conditioned_matrix(3, 4, 10.0, rng)
    with pytest.raises(ValueError, match="m >= n >= 2"):
        ill_conditioned_matrix(3, 1, 10.0, rng)
    with pytest.raises(ValueError, match="cond"):
        ill_conditioned_matrix(4, 3, 0.5, rng)
    with pytest.raises(TypeError, match="Generator"):
        ill_conditioned_matrix(4, 3, 10.0, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("residual", [0.0, 0.3, 5.0])
def test_least_squares_problem_has_known_solution(seed, residual):
    X, y, w = least_squares_problem(
        30, 5, 100.0, np.random.default_rng(seed), residual=residual
    )
    r = y - X @ w
    np.testing.assert_allclose(X.T @ r, 0.0, atol=1e-12 * (1 + residual))
    assert np.linalg.norm(r) == pytest.approx(
        residual * np.linalg.norm(X @ w), rel=1e-12, abs=1e-15
    )
    # w is the least-squares solution: numpy's lstsq recovers it
    w_np = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(w_np, w, rtol=0, atol=1e-11 * (1 + residual))


def test_least_squares_problem_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="residual"):
        least_squares_problem(5, 3, 10.0, rng, residual=-1.0)
    with pytest.raises(ValueError, match="no room"):
        least_squares_problem(3, 3, 10.0, rng, residual=0.1)


def test_least_squares_errors_shows_the_two_rates():
    rng = np.random.default_rng(5)
    conds = np.array([1e2, 1e4, 1e6])
    err = least_squares_errors(conds, rng, m=30, n=6)
    assert err.shape == (3, 2)
    assert np.all(err[:, 1] <= 10 * conds * EPS)  # QR: kappa eps
    assert np.all(err[:, 0] <= 10 * conds**2 * EPS)  # normal: kappa^2 eps
    assert err[-1, 0] > 100 * err[-1, 1]


def test_least_squares_errors_agree_with_direct_solves():
    conds = [10.0, 1e5]
    err = least_squares_errors(conds, np.random.default_rng(9), m=12, n=3)
    rng = np.random.default_rng(9)  # the same problems again
    for i, cond in enumerate(conds):
        X, y, w = least_squares_problem(12, 3, cond, rng)
        w_qr = least_squares(X, y)
        w_ne = np.linalg.solve(X.T @ X, X.T @ y)
        assert err[i, 1] == relative_error(w_qr, w)
        assert err[i, 0] == relative_error(w_ne, w)


def test_least_squares_errors_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        least_squares_errors([[10.0]], np.random.default_rng(0))
    with pytest.raises(ValueError, match="cond"):
        least_squares_errors([0.1], np.random.default_rng(0))
