"""Tests of m4ml.vector_calculus against closed-form derivatives."""

import numpy as np
import pytest

from m4ml.vector_calculus import (
    directional_derivative,
    jacobian_chain,
    numerical_gradient,
    numerical_hessian,
    numerical_jacobian,
    softmax,
    softmax_jacobian,
)

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_of_cubic_sum_any_shape(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    g = numerical_gradient(lambda v: np.sum(np.sin(v) * v**2), x)
    expected = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, expected, rtol=1e-7, atol=1e-8)


def test_gradient_does_not_modify_its_input():
    x = np.array([1.0, 2.0])
    numerical_gradient(lambda v: v @ v, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_central_differences_are_second_order():
    # halving h divides the error of a smooth function by about 4
    x = np.array([0.7])
    errors = [
        abs(
            numerical_gradient(lambda v: np.exp(v[0]), x, h=h)[0] - np.exp(0.7)
        )
        for h in (1e-2, 5e-3)
    ]
    assert 3.5 < errors[0] / errors[1] < 4.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobian_of_linear_and_elementwise_maps(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((3, 5))
    x = rng.standard_normal(5)
    np.testing.assert_allclose(
        numerical_jacobian(lambda v: A @ v, x), A, rtol=1e-8, atol=1e-9
    )
    J = numerical_jacobian(np.tanh, x)
    np.testing.assert_allclose(J, np.diag(1 - np.tanh(x) ** 2), atol=1e-9)


def test_jacobian_shape_for_matrix_input():
    X = np.ones((2, 3))
    assert numerical_jacobian(lambda M: M.sum(axis=0), X).shape == (3, 2, 3)


def test_errors():
    with pytest.raises(ValueError, match="step h must be positive"):
        numerical_gradient(np.sum, np.ones(2), h=0.0)
    with pytest.raises(ValueError, match="step h must be positive"):
        numerical_jacobian(np.sin, np.ones(2), h=-1.0)
    with pytest.raises(ValueError, match="must return a scalar"):
        numerical_gradient(lambda v: v, np.ones(3))


# --------------------------------------------------------------------------
# Matrix-calculus identities of the chapter, against finite differences
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("N, D", [(6, 3), (20, 5), (3, 1)])
def test_least_squares_gradient(N, D, seed):
    rng = np.random.default_rng(seed)
    X, y, w = (
        rng.standard_normal((N, D)),
        rng.standard_normal(N),
        rng.standard_normal(D),
    )
    g = numerical_gradient(lambda v: np.sum((X @ v - y) ** 2), w)
    np.testing.assert_allclose(g, 2 * X.T @ (X @ w - y), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 5])
def test_quadratic_form_gradient_and_hessian(n, seed):
    rng = np.random.default_rng(seed)
    A, x = rng.standard_normal((n, n)), rng.standard_normal(n)
    g = numerical_gradient(lambda v: v @ A @ v, x)
    np.testing.assert_allclose(g, (A + A.T) @ x, rtol=1e-7, atol=1e-8)
    H = numerical_hessian(lambda v: v @ A @ v, x)
    # a quadratic has zero third derivatives: only round-off, eps/h^2
    np.testing.assert_allclose(H, A + A.T, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 4])
def test_log_det_gradient(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n)) + n * np.eye(n)
    if np.linalg.det(X) < 0:
        X[0] = -X[0]
    g = numerical_gradient(lambda M: np.linalg.slogdet(M)[1], X)
    np.testing.assert_allclose(g, np.linalg.inv(X).T, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_matrix_gradient_of_bilinear_form(seed):
    rng = np.random.default_rng(seed)
    a, b, X = (
        rng.standard_normal(3),
        rng.standard_normal(4),
        rng.standard_normal((3, 4)),
    )
    g = numerical_gradient(lambda M: a @ M @ b, X)
    np.testing.assert_allclose(g, np.outer(a, b), rtol=1e-7, atol=1e-8)


# --------------------------------------------------------------------------
# Directional derivatives and Hessians
# --------------------------------------------------------------------------


def running_example(v):
    return v[0] ** 2 + 2 * v[1] ** 2 + np.sin(v[0] * v[1])


@pytest.mark.parametrize("seed", SEEDS)
def test_directional_derivative_is_gradient_dot_direction(seed):
    rng = np.random.default_rng(seed)
    x, u = rng.standard_normal(2), rng.standard_normal(2)
    c = np.cos(x[0] * x[1])
    grad = np.array([2 * x[0] + x[1] * c, 4 * x[1] + x[0] * c])
    np.testing.assert_allclose(
        directional_derivative(running_example, x, u),
        grad @ u,
        rtol=1e-7,
        atol=1e-8,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_numerical_hessian_of_running_example(seed):
    x = np.random.default_rng(seed).standard_normal(2)
    s, c = np.sin(x[0] * x[1]), np.cos(x[0] * x[1])
    off = c - x[0] * x[1] * s
    H = np.array([[2 - x[1] ** 2 * s, off], [off, 4 - x[0] ** 2 * s]])
    Hn = numerical_hessian(running_example, x)
    np.testing.assert_array_equal(Hn, Hn.T)
    np.testing.assert_allclose(Hn, H, rtol=1e-6, atol=1e-6)


def test_hessian_step_is_second_order():
    x = np.array([0.4, -0.7])
    exact = numerical_hessian(running_example, x, h=1e-4)
    errors = [
        np.max(np.abs(numerical_hessian(running_example, x, h=h) - exact))
        for h in (4e-2, 2e-2)
    ]
    assert 3.5 < errors[0] / errors[1] < 4.5


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("K", [1, 2, 5, 10])
def test_softmax_jacobian_matches_finite_differences(K, seed):
    z = 3 * np.random.default_rng(seed).standard_normal(K)
    p = softmax(z)
    assert np.all(p > 0)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-15)
    J = softmax_jacobian(z)
    np.testing.assert_allclose(
        J, numerical_jacobian(softmax, z), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(J, J.T)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_is_shift_invariant_and_stable():
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z + 1000.0), softmax(z), rtol=1e-14)
    np.testing.assert_allclose(
        softmax(z), np.exp(z) / np.exp(z).sum(), rtol=1e-15
    )


# --------------------------------------------------------------------------
# Forward and reverse accumulation of a chain of Jacobians
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "sizes", [[5, 4, 3, 1], [1, 6, 6, 8], [3, 3], [2, 7, 1, 7, 2]]
)
def test_jacobian_chain_modes_agree_and_count(sizes, seed):
    rng = np.random.default_rng(seed)
    Js = [
        rng.standard_normal((sizes[k + 1], sizes[k]))
        for k in range(len(sizes) - 1)
    ]
    product = Js[0]
    for J in Js[1:]:
        product = J @ product
    one_pass = sum(sizes[k + 1] * sizes[k] for k in range(len(sizes) - 1))
    Jf, nf = jacobian_chain(Js, "forward")
    Jr, nr = jacobian_chain(Js, "reverse")
    np.testing.assert_allclose(Jf, product, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Jr, product, rtol=1e-12, atol=1e-12)
    assert nf == sizes[0] * one_pass
    assert nr == sizes[-1] * one_pass


def test_new_function_errors():
    with pytest.raises(ValueError, match="step h must be positive"):
        directional_derivative(np.sum, np.ones(2), np.ones(2), h=0.0)
    with pytest.raises(ValueError, match="direction u has shape"):
        directional_derivative(np.sum, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="step h must be positive"):
        numerical_hessian(np.sum, np.ones(2), h=-1e-3)
    with pytest.raises(ValueError, match="1-D array"):
        numerical_hessian(np.sum, np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        softmax(np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        softmax_jacobian([])
    with pytest.raises(ValueError, match="mode must be"):
        jacobian_chain([np.eye(2)], "sideways")
    with pytest.raises(ValueError, match="at least one"):
        jacobian_chain([])
    with pytest.raises(ValueError, match="columns but Jacobian"):
        jacobian_chain([np.ones((3, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="not a 2-D"):
        jacobian_chain([np.ones(3)])
