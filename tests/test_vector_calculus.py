"""Tests of m4ml.vector_calculus against closed-form derivatives."""

import numpy as np
import pytest

from m4ml.vector_calculus import numerical_gradient, numerical_jacobian


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
