"""Tests of m4ml.logistic_regression against scipy and scikit-learn."""

import warnings

import numpy as np
import pytest
import scipy.special
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression

from m4ml.autodiff import gradient
from m4ml.calculus import sigmoid as calculus_sigmoid
from m4ml.logistic_regression import (
    ConvergenceWarning,
    add_intercept,
    binary_cross_entropy,
    fit_logistic,
    fit_softmax,
    irls_step,
    logistic_hessian,
    logsumexp,
    one_hot,
    predict_proba,
    sigmoid,
    softmax,
    softmax_cross_entropy,
)
from m4ml.vector_calculus import numerical_gradient, numerical_jacobian
from m4ml.vector_calculus import softmax as softmax_1d

SEEDS = [0, 1, 2]


def standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return standardise(X), y


def synthetic_binary(rng, n=120, d=3, scale=1.0):
    """Overlapping classes: a logistic model with random weights."""
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) * scale
    y = (rng.random(n) < sigmoid(X @ w + 0.3)).astype(int)
    return X, y


def sklearn_binary(X, y, lam, fit_intercept=True):
    """scikit-learn's fit of the same problem: C = 1 / (lam N)."""
    model = LogisticRegression(
        C=1.0 / (lam * len(y)),
        fit_intercept=fit_intercept,
        solver="newton-cholesky",
        tol=1e-14,
        max_iter=1000,
    )
    return model.fit(X, y)


# --------------------------------------------------------------------------
# sigmoid, softmax, logsumexp
# --------------------------------------------------------------------------


def test_sigmoid_is_the_calculus_sigmoid():
    assert sigmoid is calculus_sigmoid
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    np.testing.assert_allclose(sigmoid(z), scipy.special.expit(z), rtol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "shape, axis", [((7,), -1), ((5, 4), 1), ((5, 4), 0), ((3, 2, 6), -1)]
)
def test_logsumexp_and_softmax_match_scipy(seed, shape, axis):
    rng = np.random.default_rng(seed)
    z = 30 * rng.standard_normal(shape)
    np.testing.assert_allclose(
        logsumexp(z, axis=axis),
        scipy.special.logsumexp(z, axis=axis),
        rtol=1e-14,
    )
    p = softmax(z, axis=axis)
    np.testing.assert_allclose(
        p, scipy.special.softmax(z, axis=axis), rtol=1e-13, atol=1e-300
    )
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-14)


def test_logsumexp_keepdims_shape():
    z = np.zeros((3, 4))
    assert logsumexp(z, axis=1, keepdims=True).shape == (3, 1)
    assert logsumexp(z, axis=0).shape == (4,)
    assert isinstance(logsumexp([1.0, 2.0]), float)


@pytest.mark.parametrize("shift", [1000.0, -1000.0, 1e5])
def test_stable_at_huge_logits(shift):
    z = np.array([0.0, 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        big = softmax(z + shift)
        lse = logsumexp(z + shift)
    np.testing.assert_array_equal(big, softmax(z))  # exact, after shifting
    np.testing.assert_allclose(
        lse, shift + scipy.special.logsumexp(z), rtol=1e-15
    )
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        naive = np.exp(z + shift) / np.exp(z + shift).sum()
    if abs(shift) >= 1000:
        assert np.isnan(naive).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_invariant_to_a_constant(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((4, 6))
    c = 50 * rng.standard_normal((4, 1))
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=1e-12)
    np.testing.assert_allclose(
        logsumexp(z + c), logsumexp(z) + c[:, 0], rtol=1e-13
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_agrees_with_vector_calculus(seed):
    z = 5 * np.random.default_rng(seed).standard_normal(8)
    np.testing.assert_allclose(softmax(z), softmax_1d(z), rtol=1e-14)


def test_logsumexp_bounds():
    rng = np.random.default_rng(3)
    z = 10 * rng.standard_normal((50, 7))
    lse = logsumexp(z)
    assert np.all(z.max(axis=1) <= lse)
    assert np.all(lse <= z.max(axis=1) + np.log(7) + 1e-12)


def test_minus_infinity_is_a_zero_probability():
    p = softmax([0.0, -np.inf, np.log(3.0)])
    np.testing.assert_allclose(p, [0.25, 0.0, 0.75], rtol=1e-15)
    assert logsumexp([-np.inf, -np.inf]) == -np.inf


@pytest.mark.parametrize(
    "z, match",
    [
        (1.0, "at least one dimension"),
        (np.zeros((2, 0)), "empty axis"),
        ([0.0, np.nan], "NaN"),
        ([0.0, np.inf], r"\+inf"),
    ],
)
def test_logsumexp_errors(z, match):
    with pytest.raises(ValueError, match=match):
        logsumexp(z)


def test_softmax_of_all_minus_infinity_raises():
    with pytest.raises(ValueError, match="-inf"):
        softmax([-np.inf, -np.inf])


# --------------------------------------------------------------------------
# the binary loss, its gradient and Hessian
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "lam, intercept", [(0.0, False), (0.3, False), (0.3, True)]
)
def test_binary_gradient_by_finite_differences(seed, lam, intercept):
    rng = np.random.default_rng(seed)
    X, y = synthetic_binary(rng, n=60, d=4)
    if intercept:
        X = add_intercept(X)
    w = rng.standard_normal(X.shape[1])
    _, g = binary_cross_entropy(w, X, y, lam, intercept)
    fd = numerical_gradient(
        lambda v: binary_cross_entropy(v, X, y, lam, intercept)[0], w
    )
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_gradient_by_autodiff(seed):
    rng = np.random.default_rng(seed)
    X, y = synthetic_binary(rng, n=40, d=3)
    w = rng.standard_normal(3)
    lam = 0.2

    def loss(v):
        z = X @ v
        return ((z.exp() + 1.0).log() - y * z).mean() + 0.5 * lam * (
            v * v
        ).sum()

    np.testing.assert_allclose(
        binary_cross_entropy(w, X, y, lam)[1],
        gradient(loss, w),
        rtol=1e-12,
    )


def test_binary_loss_is_finite_for_huge_logits():
    X = np.array([[1.0], [-1.0]])
    loss, g = binary_cross_entropy(np.array([1000.0]), X, [1, 0])
    assert loss == 0.0 and np.all(g == 0.0)
    loss, _ = binary_cross_entropy(np.array([-1000.0]), X, [1, 0])
    np.testing.assert_allclose(loss, 1000.0, rtol=1e-15)
    # a tiny loss keeps its relative accuracy: log(1 + e^-40) ~ e^-40
    loss, _ = binary_cross_entropy(np.array([40.0]), X, [1, 0])
    np.testing.assert_allclose(loss, np.log1p(np.exp(-40.0)), rtol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lam, intercept", [(0.0, False), (0.5, True)])
def test_hessian_matches_finite_differences_and_is_psd(seed, lam, intercept):
    rng = np.random.default_rng(seed)
    X, y = synthetic_binary(rng, n=50, d=4)
    X = add_intercept(X) if intercept else X
    w = rng.standard_normal(X.shape[1])
    H = logistic_hessian(w, X, lam, intercept)
    fd = numerical_jacobian(
        lambda v: binary_cross_entropy(v, X, y, lam, intercept)[1], w
    )
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=0)
    eig = np.linalg.eigvalsh(H)
    assert eig[0] >= -1e-14
    bound = np.linalg.eigvalsh(X.T @ X)[-1] / (4 * len(y)) + lam
    assert eig[-1] <= bound * (1 + 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_irls_step_is_a_newton_step(seed, lam):
    rng = np.random.default_rng(seed)
    X, y = synthetic_binary(rng, n=80, d=3)
    X = add_intercept(X)
    w = 0.5 * rng.standard_normal(4)
    _, g = binary_cross_entropy(w, X, y, lam, True)
    newton = w - np.linalg.solve(logistic_hessian(w, X, lam, True), g)
    np.testing.assert_allclose(
        irls_step(w, X, y, lam, True), newton, rtol=1e-10, atol=1e-12
    )


# --------------------------------------------------------------------------
# fit_logistic against scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [1e-1, 1e-2, 1e-3])
def test_fit_logistic_matches_sklearn_on_breast_cancer(lam):
    X, y = breast_cancer()
    fit = fit_logistic(X, y, lam=lam, tol=1e-12)
    sk = sklearn_binary(X, y, lam)
    scale = np.max(np.abs(fit.coef))
    np.testing.assert_allclose(
        fit.coef, sk.coef_[0], rtol=0, atol=1e-9 * scale
    )
    np.testing.assert_allclose(fit.intercept, sk.intercept_[0], atol=1e-9)
    np.testing.assert_allclose(
        predict_proba(X, fit.coef, fit.intercept),
        sk.predict_proba(X)[:, 1],
        rtol=0,
        atol=1e-10,
    )
    assert fit.converged and fit.grad_norms[-1] <= 1e-12


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fit_logistic_matches_sklearn_on_synthetic(seed, fit_intercept):
    rng = np.random.default_rng(seed)
    X, y = synthetic_binary(rng, n=150, d=4, scale=2.0)
    lam = 0.05
    fit = fit_logistic(X, y, lam=lam, fit_intercept=fit_intercept, tol=1e-12)
    sk = sklearn_binary(X, y, lam, fit_intercept=fit_intercept)
    np.testing.assert_allclose(fit.coef, sk.coef_[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        fit.intercept, float(sk.intercept_[0]), atol=1e-9
    )
    if not fit_intercept:
        assert fit.intercept == 0.0


def test_newton_converges_quadratically():
    X, y = breast_cancer()
    fit = fit_logistic(X, y, lam=1e-2, tol=1e-12)
    g = fit.grad_norms
    # the local phase: gradient below 1e-2 and the next one above round-off
    local = (g[:-1] < 1e-2) & (g[1:] > 1e-14)
    assert local.sum() >= 2
    assert np.all(g[1:][local] <= 20 * g[:-1][local] ** 2)
    assert np.all(np.diff(fit.losses) <= 1e-15)  # monotone (line search)


def test_separable_data_without_penalty_warns():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 1, (20, 2)), rng.normal(3, 1, (20, 2))])
    y = np.repeat([0, 1], 20)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        fit = fit_logistic(X, y, lam=0.0)
    assert not fit.converged
    fit_pen = fit_logistic(X, y, lam=1e-3)
    assert fit_pen.converged
    assert np.linalg.norm(fit_pen.coef) < np.linalg.norm(fit.coef)


def test_separable_gradient_descent_norm_grows():
    rng = np.random.default_rng(1)
    X = add_intercept(
        np.vstack([rng.normal(-2, 1, (15, 2)), rng.normal(2, 1, (15, 2))])
    )
    y = np.repeat([0, 1], 15)
    w = np.zeros(3)
    norms = []
    for _ in range(3000):
        w = w - 1.0 * binary_cross_entropy(w, X, y)[1]
        norms.append(np.linalg.norm(w))
    assert np.all(np.diff(norms) > 0)
    assert norms[-1] > 1.5 * norms[100]


def test_fit_logistic_max_iter_warns():
    X, y = breast_cancer()
    with pytest.warns(ConvergenceWarning, match="stopped after 2"):
        fit = fit_logistic(X, y, lam=1e-3, max_iter=2)
    assert not fit.converged and fit.n_iter == 2
    assert fit.losses.shape == (3,) and fit.grad_norms.shape == (3,)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=[0, 1, 2, 1]), "0 or 1"),
        (dict(y=[0, 1, -1, 1]), "0 or 1"),
        (dict(y=[0, 1]), "shape"),
        (dict(lam=-1.0), "non-negative"),
        (dict(lam=np.inf), "non-negative"),
        (dict(lam="big"), "real number"),
        (dict(max_iter=0), "max_iter"),
        (dict(tol=0.0), "tol"),
        (dict(X=np.ones(4)), "2-D"),
        (dict(X=[[1.0], [np.nan], [0.0], [1.0]]), "finite"),
    ],
)
def test_fit_logistic_errors(kwargs, match):
    args = dict(X=[[0.0], [1.0], [2.0], [3.0]], y=[0, 1, 0, 1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fit_logistic(**args)


def test_loss_function_errors():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="w must have shape"):
        binary_cross_entropy(np.zeros(3), X, [0, 1, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        binary_cross_entropy(np.zeros(2), X, [0, 1, 0.5])
    with pytest.raises(ValueError, match="w must have shape"):
        logistic_hessian(np.zeros(1), X)
    with pytest.raises(ValueError, match="exactly 0 or 1"):
        irls_step(np.array([1000.0, 0.0]), X, [0, 1, 1])
    with pytest.raises(ValueError, match="coef must have shape"):
        predict_proba(X, np.zeros(3))


# --------------------------------------------------------------------------
# softmax regression
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k, intercept", [(3, True), (5, False)])
def test_softmax_gradient_by_finite_differences(seed, k, intercept):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    X = add_intercept(X) if intercept else X
    y = rng.integers(0, k, 40)
    W = rng.standard_normal((X.shape[1], k))
    lam = 0.25
    _, G = softmax_cross_entropy(W, X, y, lam, intercept)
    fd = numerical_gradient(
        lambda V: softmax_cross_entropy(V, X, y, lam, intercept)[0], W
    )
    np.testing.assert_allclose(G, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_two_class_softmax_is_logistic(seed):
    rng = np.random.default_rng(seed)
    X, y = synthetic_binary(rng, n=30, d=3)
    W = rng.standard_normal((3, 2))
    w = W[:, 1] - W[:, 0]
    np.testing.assert_allclose(
        softmax_cross_entropy(W, X, y)[0],
        binary_cross_entropy(w, X, y)[0],
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        predict_proba(X, W)[:, 1], predict_proba(X, w), rtol=1e-13
    )


def multiclass_data(name):
    loader = {"iris": load_iris, "wine": load_wine}[name]
    X, y = loader(return_X_y=True)
    return standardise(X), y


@pytest.mark.parametrize(
    "name, lam", [("iris", 1e-1), ("iris", 1e-2), ("wine", 1e-1)]
)
def test_fit_softmax_matches_sklearn(name, lam):
    X, y = multiclass_data(name)
    n = len(y)
    fit = fit_softmax(X, y, lam=lam, tol=1e-9)
    sk = LogisticRegression(
        C=1.0 / (lam * n),
        solver="newton-cholesky",
        tol=1e-14,
        max_iter=1000,
    ).fit(X, y)
    W_sk = np.vstack([sk.intercept_ - sk.intercept_.mean(), sk.coef_.T])
    loss_sk = softmax_cross_entropy(W_sk, add_intercept(X), y, lam, True)[0]
    np.testing.assert_allclose(fit.losses[-1], loss_sk, rtol=1e-12)
    np.testing.assert_allclose(fit.coef, sk.coef_.T, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.intercept, W_sk[0], rtol=0, atol=1e-6)
    P = predict_proba(X, fit.coef, fit.intercept)
    np.testing.assert_allclose(P, sk.predict_proba(X), rtol=0, atol=1e-7)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(fit.intercept.sum(), 0.0, atol=1e-12)
    assert np.all(np.diff(fit.losses) <= 1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_fit_softmax_without_intercept(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((90, 3))
    y = np.argmax(
        X @ rng.standard_normal((3, 3)) + rng.standard_normal((90, 3)), axis=1
    )
    lam = 0.1
    fit = fit_softmax(X, y, lam=lam, fit_intercept=False, tol=1e-10)
    sk = LogisticRegression(
        C=1.0 / (lam * 90),
        fit_intercept=False,
        solver="newton-cholesky",
        tol=1e-14,
        max_iter=1000,
    ).fit(X, y)
    np.testing.assert_allclose(fit.coef, sk.coef_.T, rtol=0, atol=1e-8)
    assert np.all(fit.intercept == 0)


def test_fit_softmax_warns_and_errors():
    X, y = multiclass_data("iris")
    with pytest.warns(ConvergenceWarning, match="fit_softmax stopped"):
        fit = fit_softmax(X, y, lam=1e-3, max_iter=5)
    assert not fit.converged and fit.n_iter == 5
    with pytest.raises(ValueError, match="integers"):
        fit_softmax(X, y + 0.5)
    with pytest.raises(ValueError, match="integers"):
        fit_softmax(X, y - 1)
    with pytest.raises(ValueError, match="below the number of classes"):
        fit_softmax(X, y, n_classes=2)
    with pytest.raises(ValueError, match="non-negative"):
        fit_softmax(X, y, lam=-0.1)
    with pytest.raises(ValueError, match="lr"):
        fit_softmax(X, y, lr=0.0)
    with pytest.raises(ValueError, match="W must have shape"):
        softmax_cross_entropy(np.zeros((4, 1)), X, np.zeros(150, int))


def test_one_hot():
    Y = one_hot([0, 2, 1, 2], 3)
    np.testing.assert_array_equal(Y.argmax(axis=1), [0, 2, 1, 2])
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="below the number"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="n_classes"):
        one_hot([0], 0)
