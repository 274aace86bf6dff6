"""Tests of m4ml.calculus against closed forms, sympy and scipy."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import sympy as sp

from m4ml.calculus import (
    central_difference,
    forward_difference,
    monte_carlo_integral,
    power_law_fit,
    sigmoid,
    simpson,
    taylor_polynomial,
    taylor_remainder_bound,
    trapezoid,
)

# (f, f', f'', f''') for smooth test functions, with a point where the
# second and third derivatives are not zero.
FUNCTIONS = {
    "exp": (np.exp, np.exp, np.exp, np.exp, 0.7),
    "sin": (np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), 1.1),
    "log": (
        np.log,
        lambda x: 1 / x,
        lambda x: -1 / x**2,
        lambda x: 2 / x**3,
        1.5,
    ),
    "cube": (
        lambda x: x**3 - x,
        lambda x: 3 * x**2 - 1,
        lambda x: 6 * x,
        lambda x: 6.0 + 0 * x,
        0.8,
    ),
}


# ------------------------------------------------------------ derivatives


@pytest.mark.parametrize("name", FUNCTIONS)
def test_forward_difference_leading_error_term(name):
    # f(x+h) - f(x) = h f' + h^2 f''/2 + O(h^3): error / h -> f''(x) / 2
    f, df, d2f, _, x = FUNCTIONS[name]
    h = 1e-4
    err = forward_difference(f, x, h) - df(x)
    assert isinstance(err, float)
    np.testing.assert_allclose(err / h, d2f(x) / 2, rtol=1e-3)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_central_difference_leading_error_term(name):
    # error = h^2 f'''(x) / 6 + O(h^4) (the cubic has no O(h^4) term)
    f, df, _, d3f, x = FUNCTIONS[name]
    h = 1e-3
    err = central_difference(f, x, h) - df(x)
    np.testing.assert_allclose(err / h**2, d3f(x) / 6, rtol=1e-3)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_fitted_orders_are_one_and_two(name):
    f, df, _, _, x = FUNCTIONS[name]
    h = np.logspace(-1, -3, 9)
    fwd = np.abs(forward_difference(f, x, h) - df(x))
    cen = np.abs(central_difference(f, x, h) - df(x))
    assert abs(power_law_fit(h, fwd).exponent - 1) < 0.05
    assert abs(power_law_fit(h, cen).exponent - 2) < 0.05


def test_differences_broadcast_over_points_and_steps():
    x = np.linspace(0.0, 1.0, 5)
    d = central_difference(np.sin, x[:, None], np.array([1e-3, 1e-4]))
    assert d.shape == (5, 2)
    np.testing.assert_allclose(
        d, np.cos(x)[:, None] * np.ones(2), rtol=0, atol=1e-6
    )


def test_differences_of_polynomials_are_exact_in_low_degree():
    # forward differences are exact for lines, central ones for quadratics
    x, h = 0.5, 0.25  # dyadic numbers: every operation is exact
    assert forward_difference(lambda t: 3 * t + 1, x, h) == 3.0
    assert central_difference(lambda t: t**2, x, h) == 2 * x


@pytest.mark.parametrize("fn", [forward_difference, central_difference])
@pytest.mark.parametrize("h", [0.0, -1e-3, np.nan, np.inf, [1e-3, 0.0]])
def test_differences_reject_bad_steps(fn, h):
    with pytest.raises(ValueError, match="step h must be positive"):
        fn(np.sin, 1.0, h)


def test_differences_reject_non_finite_points():
    with pytest.raises(ValueError, match="x must be finite"):
        forward_difference(np.sin, np.nan, 1e-3)


# ---------------------------------------------------------------- sigmoid


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_matches_scipy_expit(seed):
    x = 30 * np.random.default_rng(seed).standard_normal(200)
    np.testing.assert_allclose(
        sigmoid(x), scipy.special.expit(x), rtol=1e-15, atol=0
    )


def test_sigmoid_is_stable_at_extreme_arguments():
    # filterwarnings=error: an overflow in exp would fail this test
    x = np.array([-1e308, -1000.0, -745.0, 0.0, 40.0, 1000.0, 1e308])
    s = sigmoid(x)
    assert np.all(np.isfinite(s))
    np.testing.assert_array_equal(s[[0, 1]], 0.0)
    assert 0 < s[2] < 1e-300  # exp(-745) is subnormal, not zero
    np.testing.assert_array_equal(s[[3, 5, 6]], [0.5, 1.0, 1.0])
    assert sigmoid(-40.0) == pytest.approx(math.exp(-40), rel=1e-14)


def test_sigmoid_symmetry_and_derivative():
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), atol=1e-16)
    s = sigmoid(x)
    np.testing.assert_allclose(
        central_difference(sigmoid, x, 1e-5), s * (1 - s), rtol=0, atol=1e-10
    )


def test_sigmoid_derivative_symbolically():
    t = sp.symbols("t", real=True)
    sig = 1 / (1 + sp.exp(-t))
    assert sp.simplify(sp.diff(sig, t) - sig * (1 - sig)) == 0


def test_sigmoid_returns_float_for_scalars():
    assert isinstance(sigmoid(2), float)
    assert sigmoid(np.array([[0.0]])).shape == (1, 1)


# ----------------------------------------------------------------- Taylor


@pytest.mark.parametrize("degree", [0, 1, 2, 5, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_taylor_polynomial_matches_numpy_polynomial(degree, seed):
    rng = np.random.default_rng(seed)
    d = rng.standard_normal(degree + 1)
    a = rng.uniform(-1, 1)
    x = rng.uniform(-2, 2, size=7)
    coef = d / np.array([math.factorial(k) for k in range(degree + 1)])
    expected = np.polynomial.Polynomial(coef)(x - a)
    np.testing.assert_allclose(
        taylor_polynomial(d, a, x), expected, rtol=1e-12, atol=1e-12
    )


def test_taylor_polynomial_of_sin_and_high_degree_exp():
    x = np.linspace(-1, 1, 11)
    d_sin = [0.0, 1.0, 0.0, -1.0] * 5  # sin, cos, -sin, -cos at 0
    np.testing.assert_allclose(
        taylor_polynomial(d_sin, 0.0, x), np.sin(x), rtol=0, atol=1e-15
    )
    # degree 400 would overflow 400!; the nested scheme does not
    assert taylor_polynomial(np.ones(401), 0.0, 3.0) == pytest.approx(
        math.exp(3.0), rel=1e-14
    )


@pytest.mark.parametrize("degree", [0, 1, 3, 6])
def test_taylor_error_within_lagrange_bound_for_exp(degree):
    a = 0.3
    x = np.linspace(-2, 2, 101)
    err = np.abs(
        np.exp(x) - taylor_polynomial(np.full(degree + 1, np.exp(a)), a, x)
    )
    bound = taylor_remainder_bound(np.exp(np.maximum(x, a)), a, x, degree)
    assert np.all(err <= bound * (1 + 1e-12) + 1e-15)
    # and the bound is not wildly loose: within a factor e^|x - a|
    # (away from a, where the error is below round-off)
    mask = np.abs(x - a) > 0.5
    assert np.all(
        bound[mask] <= err[mask] * np.exp(np.abs(x - a)[mask]) * (1 + 1e-9)
    )


def test_taylor_remainder_bound_closed_form():
    x = np.array([-1.5, 0.0, 0.5, 2.0])
    expected = 2.0 * np.abs(x - 0.5) ** 5 / math.factorial(5)
    np.testing.assert_allclose(
        taylor_remainder_bound(2.0, 0.5, x, 4), expected, rtol=1e-14
    )
    # 100**301 and 301! overflow float64; their ratio does not
    expected = math.exp(301 * math.log(100.0) - math.lgamma(302))
    assert taylor_remainder_bound(1.0, 0.0, 100.0, 300) == pytest.approx(
        expected, rel=1e-11
    )


@pytest.mark.parametrize(
    "derivatives, match",
    [
        ([], "non-empty 1-D"),
        ([[1.0]], "non-empty 1-D"),
        ([1.0, np.inf], "derivatives must be finite"),
    ],
)
def test_taylor_polynomial_rejects_bad_derivatives(derivatives, match):
    with pytest.raises(ValueError, match=match):
        taylor_polynomial(derivatives, 0.0, 1.0)


def test_taylor_rejects_bad_centre_degree_and_bound():
    with pytest.raises(ValueError, match="a must be a finite number"):
        taylor_polynomial([1.0], [0.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="degree must be an integer"):
        taylor_remainder_bound(1.0, 0.0, 1.0, 2.5)
    with pytest.raises(ValueError, match="degree must be at least 0"):
        taylor_remainder_bound(1.0, 0.0, 1.0, -1)
    with pytest.raises(ValueError, match="non-negative"):
        taylor_remainder_bound(-1.0, 0.0, 1.0, 2)


# -------------------------------------------------------------- integrals

# (f, a, b, exact integral)
INTEGRALS = {
    "sin": (np.sin, 0.0, np.pi, 2.0),
    "exp": (np.exp, -1.0, 2.0, math.exp(2) - math.exp(-1)),
    "gauss": (
        lambda x: np.exp(-(x**2) / 2),
        -3.0,
        3.0,
        math.sqrt(2 * math.pi) * math.erf(3 / math.sqrt(2)),
    ),
    "rational": (lambda x: 1 / (1 + x**2), 0.0, 2.0, math.atan(2.0)),
    "reversed": (np.cos, 1.0, 0.0, -math.sin(1.0)),
}


@pytest.mark.parametrize("name", INTEGRALS)
@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_trapezoid_matches_scipy(name, n):
    f, a, b, _ = INTEGRALS[name]
    x = np.linspace(a, b, n + 1)
    np.testing.assert_allclose(
        trapezoid(f, a, b, n),
        scipy.integrate.trapezoid(f(x), x),
        rtol=1e-13,
        atol=1e-15,
    )


@pytest.mark.parametrize("name", INTEGRALS)
@pytest.mark.parametrize("n", [2, 4, 10, 64])
def test_simpson_matches_scipy(name, n):
    # n even means an odd number of points, where scipy uses the plain rule
    f, a, b, _ = INTEGRALS[name]
    x = np.linspace(a, b, n + 1)
    np.testing.assert_allclose(
        simpson(f, a, b, n),
        scipy.integrate.simpson(f(x), x=x),
        rtol=1e-13,
        atol=1e-15,
    )


@pytest.mark.parametrize("name", INTEGRALS)
def test_rules_converge_at_orders_two_and_four(name):
    f, a, b, exact = INTEGRALS[name]
    n = np.array([16, 32, 64, 128, 256])
    t_err = [abs(trapezoid(f, a, b, int(k)) - exact) for k in n]
    s_err = [abs(simpson(f, a, b, int(k)) - exact) for k in n]
    assert abs(power_law_fit(n, t_err).exponent + 2) < 0.05
    assert abs(power_law_fit(n, s_err).exponent + 4) < 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trapezoid_error_constant_and_simpson_exact_for_cubics(seed):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(4)
    a, b = np.sort(rng.uniform(-2, 2, 2))
    p = np.polynomial.Polynomial(c)
    exact = p.integ()(b) - p.integ()(a)
    assert simpson(p, a, b, 2) == pytest.approx(exact, rel=1e-12, abs=1e-12)
    # for a quadratic the trapezoid error is exactly (b-a) h^2 f'' / 12
    q = np.polynomial.Polynomial(c[:3])
    n = 10
    h = (b - a) / n
    err = trapezoid(q, a, b, n) - (q.integ()(b) - q.integ()(a))
    assert err == pytest.approx((b - a) * h**2 * 2 * c[2] / 12, rel=1e-8)


def test_rules_accept_constant_functions():
    assert trapezoid(lambda x: 2.0, 0.0, 3.0, 4) == 6.0
    assert simpson(lambda x: 2.0, 0.0, 3.0, 4) == pytest.approx(6.0)


@pytest.mark.parametrize("rule", [trapezoid, simpson])
def test_rules_reject_bad_arguments(rule):
    with pytest.raises(ValueError, match="n must be an integer"):
        rule(np.sin, 0.0, 1.0, 4.0)
    with pytest.raises(ValueError, match="n must be an integer"):
        rule(np.sin, 0.0, 1.0, True)
    with pytest.raises(ValueError, match="n must be at least"):
        rule(np.sin, 0.0, 1.0, 0)
    with pytest.raises(ValueError, match="b must be a finite number"):
        rule(np.sin, 0.0, np.inf, 4)
    with pytest.raises(ValueError, match="NaN or infinite"):
        rule(lambda x: np.where(x < 0.5, x, np.inf), 0.0, 1.0, 4)
    with pytest.raises(ValueError, match="must act elementwise"):
        rule(lambda x: np.ones(3), 0.0, 1.0, 4)


def test_simpson_rejects_odd_n():
    with pytest.raises(ValueError, match="even n, got 3"):
        simpson(np.sin, 0.0, 1.0, 3)


# ------------------------------------------------------------ Monte Carlo


@pytest.mark.parametrize("name", INTEGRALS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_monte_carlo_within_four_standard_errors(name, seed):
    f, a, b, exact = INTEGRALS[name]
    rng = np.random.default_rng(seed)
    est, se = monte_carlo_integral(f, a, b, 20_000, rng)
    assert se > 0
    assert abs(est - exact) <= 4 * se


def test_monte_carlo_standard_error_formula():
    # f(x) = x on [0, 1]: Var(U) = 1/12, so se ~ sqrt(1 / (12 n))
    rng = np.random.default_rng(3)
    n = 40_000
    _, se = monte_carlo_integral(lambda x: x, 0.0, 1.0, n, rng)
    assert se == pytest.approx(math.sqrt(1 / (12 * n)), rel=0.02)


def test_monte_carlo_is_reproducible_and_uses_the_generator():
    r1 = monte_carlo_integral(np.exp, 0.0, 1.0, 100, np.random.default_rng(7))
    r2 = monte_carlo_integral(np.exp, 0.0, 1.0, 100, np.random.default_rng(7))
    r3 = monte_carlo_integral(np.exp, 0.0, 1.0, 100, np.random.default_rng(8))
    assert r1 == r2 and r1 != r3
    assert r1.estimate == r1[0] and r1.standard_error == r1[1]


def test_monte_carlo_rms_error_shrinks_like_inverse_root_n():
    rng = np.random.default_rng(4)
    ns = np.array([100, 400, 1600, 6400])
    rms = []
    for n in ns:
        errs = [
            monte_carlo_integral(np.exp, 0.0, 1.0, int(n), rng).estimate
            - (math.e - 1)
            for _ in range(300)
        ]
        rms.append(np.sqrt(np.mean(np.square(errs))))
    assert abs(power_law_fit(ns, rms).exponent + 0.5) < 0.1


def test_monte_carlo_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n must be at least 2"):
        monte_carlo_integral(np.sin, 0.0, 1.0, 1, rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        monte_carlo_integral(np.sin, 0.0, 1.0, 10, 42)
    with pytest.raises(ValueError, match="a must be a finite number"):
        monte_carlo_integral(np.sin, np.nan, 1.0, 10, rng)


# ---------------------------------------------------------- power law fit


@pytest.mark.parametrize(
    "p, C", [(1.0, 0.5), (2.0, 3.0), (-0.5, 10.0), (4.0, 1e-3)]
)
def test_power_law_fit_recovers_exact_power_laws(p, C):
    x = np.logspace(-3, 2, 12)
    fit = power_law_fit(x, C * x**p)
    assert fit.exponent == pytest.approx(p, rel=1e-12, abs=1e-12)
    assert fit.coefficient == pytest.approx(C, rel=1e-10)


def test_power_law_fit_matches_scipy_linregress():
    rng = np.random.default_rng(5)
    x = np.logspace(0, 3, 20)
    y = 2.0 * x**1.5 * np.exp(0.1 * rng.standard_normal(20))
    ref = scipy.stats.linregress(np.log(x), np.log(y))
    fit = power_law_fit(x, y)
    assert fit.exponent == pytest.approx(ref.slope, rel=1e-12)
    assert fit.coefficient == pytest.approx(np.exp(ref.intercept), rel=1e-12)


@pytest.mark.parametrize(
    "x, y, match",
    [
        ([1.0, 2.0], [1.0, 0.0], "positive"),
        ([1.0, -2.0], [1.0, 2.0], "positive"),
        ([1.0, 1.0], [1.0, 2.0], "two distinct"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "equal length"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "1-D"),
    ],
)
def test_power_law_fit_rejects_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        power_law_fit(x, y)
