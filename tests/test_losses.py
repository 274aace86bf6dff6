"""Tests of m4ml.losses against scipy and finite differences."""

import numpy as np
import pytest
import scipy.special

from m4ml.losses import binary_cross_entropy_with_logits, softmax_cross_entropy
from m4ml.vector_calculus import numerical_gradient


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1, 2), (5, 3), (16, 10)])
def test_softmax_cross_entropy_matches_scipy_and_finite_differences(
    seed, shape
):
    rng = np.random.default_rng(seed)
    Z = 3 * rng.standard_normal(shape)
    y = rng.integers(0, shape[1], size=shape[0])
    loss, grad = softmax_cross_entropy(Z, y)
    logp = scipy.special.log_softmax(Z, axis=1)
    assert loss == pytest.approx(-logp[np.arange(shape[0]), y].mean())
    fd = numerical_gradient(lambda W: softmax_cross_entropy(W, y)[0], Z)
    np.testing.assert_allclose(grad, fd, atol=1e-8)
    # each row of the gradient sums to zero (probabilities minus one-hot)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    loss, grad = softmax_cross_entropy(Z, np.array([1, 2]))
    expected = (2000.0 + (1000.0 + np.log1p(np.exp(-1.0)) - 999.0)) / 2
    assert loss == pytest.approx(expected)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    ("logits", "labels", "match"),
    [
        (np.zeros(3), np.zeros(3, int), "2-D"),
        (np.zeros((2, 3)), np.zeros(3, int), "shape"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), "integer"),
        (np.zeros((2, 3)), np.array([0, 3]), "0..2"),
        (np.array([[np.nan, 0.0]]), np.array([0]), "finite"),
        (np.zeros((0, 3)), np.zeros(0, int), "empty"),
    ],
)
def test_softmax_cross_entropy_rejects_bad_input(logits, labels, match):
    with pytest.raises(ValueError, match=match):
        softmax_cross_entropy(logits, labels)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 7, 50])
def test_binary_cross_entropy_matches_closed_form_and_finite_differences(
    seed, n
):
    rng = np.random.default_rng(seed)
    z = 4 * rng.standard_normal(n)
    y = rng.uniform(size=n)  # soft targets are allowed
    loss, grad = binary_cross_entropy_with_logits(z, y)
    p = scipy.special.expit(z)
    assert loss == pytest.approx(
        np.mean(-y * np.log(p) - (1 - y) * np.log1p(-p))
    )
    fd = numerical_gradient(
        lambda v: binary_cross_entropy_with_logits(v, y)[0], z
    )
    np.testing.assert_allclose(grad, fd, atol=1e-8)


def test_binary_cross_entropy_is_stable_for_huge_logits():
    loss, grad = binary_cross_entropy_with_logits(
        np.array([800.0, -800.0, 800.0]), np.array([1.0, 0.0, 0.0])
    )
    assert loss == pytest.approx(800.0 / 3)
    np.testing.assert_allclose(grad, [0.0, 0.0, 1 / 3], atol=1e-300)


@pytest.mark.parametrize(
    ("z", "y", "match"),
    [
        (np.zeros((2, 2)), np.zeros((2, 2)), "1-D"),
        (np.zeros(3), np.zeros(2), "shape"),
        (np.zeros(2), np.array([0.0, 1.5]), r"\[0, 1\]"),
        (np.array([np.inf, 0.0]), np.zeros(2), "finite"),
    ],
)
def test_binary_cross_entropy_rejects_bad_input(z, y, match):
    with pytest.raises(ValueError, match=match):
        binary_cross_entropy_with_logits(z, y)
