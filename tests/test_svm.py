"""Tests of m4ml.svm against scikit-learn, scipy and closed forms."""

import numpy as np
import pytest
import scipy.optimize
from sklearn.datasets import (
    load_breast_cancer,
    make_blobs,
    make_circles,
    make_moons,
)
from sklearn.metrics import pairwise
from sklearn.svm import SVC

from m4ml.svm import (
    SVMModel,
    dual_objective,
    fit_svm,
    geometric_margin,
    hinge_loss,
    hinge_subgradient_descent,
    kernel_matrix,
    linear_kernel,
    poly2_feature_map,
    polynomial_kernel,
    primal_objective,
    rbf_kernel,
    signed_distance,
    smo,
)

EPS = np.finfo(np.float64).eps
SEEDS = [0, 1, 2]


def standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def dataset(name, seed, n=80):
    """Small standardised binary problems with labels in {-1, +1}."""
    if name == "blobs":
        X, y = make_blobs(n, centers=2, cluster_std=2.0, random_state=seed)
    elif name == "moons":
        X, y = make_moons(n, noise=0.2, random_state=seed)
    elif name == "circles":
        X, y = make_circles(n, noise=0.1, factor=0.5, random_state=seed)
    elif name == "cancer":
        data = load_breast_cancer()
        rng = np.random.default_rng(seed)
        idx = rng.choice(data.target.size, size=n, replace=False)
        X, y = data.data[idx], data.target[idx]
    else:  # pragma: no cover - a typo in a test
        raise KeyError(name)
    return standardise(X), 2 * y - 1


def sklearn_alpha(svc, n):
    """The multipliers of a fitted SVC, zeros included."""
    alpha = np.zeros(n)
    alpha[svc.support_] = np.abs(svc.dual_coef_[0])
    return alpha


# --------------------------------------------------------------------------
# Geometry and losses
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_signed_distance_is_the_distance_to_the_foot_point(d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((7, d))
    w, b = rng.standard_normal(d), float(rng.standard_normal())
    dist = signed_distance(X, w, b)
    # The foot point p = x - dist * w / ||w|| lies on the hyperplane ...
    feet = X - dist[:, None] * w / np.linalg.norm(w)
    np.testing.assert_allclose(feet @ w + b, 0.0, atol=1e-13)
    # ... and minimises ||x - p|| over the hyperplane (scipy, SLSQP).
    for x, r in zip(X[:3], dist[:3], strict=True):
        res = scipy.optimize.minimize(
            lambda p, x=x: np.sum((x - p) ** 2),
            np.zeros(d),
            constraints=[{"type": "eq", "fun": lambda p: p @ w + b}],
            method="SLSQP",
            options={"ftol": 1e-14},
        )
        np.testing.assert_allclose(np.sqrt(res.fun), abs(r), atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_geometric_margin_is_scale_invariant(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 3))
    w, b = rng.standard_normal(3), 0.3
    y = np.where(X @ w + b > 0, 1, -1)
    g = geometric_margin(X, y, w, b)
    assert g > 0
    np.testing.assert_allclose(
        geometric_margin(X, y, 7.5 * w, 7.5 * b), g, rtol=1e-14
    )
    np.testing.assert_allclose(
        g, np.min(np.abs(X @ w + b)) / np.linalg.norm(w), rtol=1e-14
    )


def test_hinge_loss_values_and_upper_bound_on_zero_one():
    z = np.linspace(-3, 3, 601)
    h = hinge_loss(z)
    np.testing.assert_array_equal(h, np.maximum(0.0, 1.0 - z))
    assert np.all(h >= (z <= 0))
    assert hinge_loss(2.0) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_primal_objective_matches_its_definition(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((15, 4))
    y = rng.choice([-1, 1], size=15)
    w, b, C = rng.standard_normal(4), 0.2, 0.7
    f = X @ w + b
    expected = 0.5 * w @ w + C * sum(
        max(0.0, 1 - yi * fi) for yi, fi in zip(y, f, strict=True)
    )
    np.testing.assert_allclose(
        primal_objective(w, b, X, y, C), expected, rtol=1e-14
    )


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1, 1), (5, 2), (30, 7)])
def test_kernels_match_sklearn(shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    Y = rng.standard_normal((4, shape[1]))
    np.testing.assert_allclose(
        linear_kernel(X, Y), pairwise.linear_kernel(X, Y), rtol=1e-14
    )
    for gamma in [None, 0.3]:
        np.testing.assert_allclose(
            rbf_kernel(X, Y, gamma=gamma),
            pairwise.rbf_kernel(X, Y, gamma=gamma),
            rtol=1e-12,
            atol=1e-15,
        )
        for degree, coef0 in [(1, 0.0), (2, 1.0), (3, -0.5)]:
            np.testing.assert_allclose(
                polynomial_kernel(X, Y, degree, gamma, coef0),
                pairwise.polynomial_kernel(X, Y, degree, gamma, coef0),
                rtol=1e-12,
                atol=1e-14,
            )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf"])
@pytest.mark.parametrize("shape", [(10, 2), (60, 3), (40, 50)])
def test_gram_matrices_are_symmetric_psd(kernel, shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    K = kernel_matrix(X, kernel=kernel, gamma=0.5, degree=3, coef0=1.0)
    np.testing.assert_allclose(K, K.T, rtol=1e-14, atol=0)
    lam = np.linalg.eigvalsh(K)
    # eigenvalues of a PSD matrix are >= 0 up to n * eps * ||K||
    assert lam[0] >= -shape[0] * EPS * np.abs(lam).max()


def test_a_non_kernel_has_a_negative_eigenvalue():
    """The PSD test can fail: -||x - y|| is not a valid kernel on R."""
    x = np.linspace(0, 1, 5)[:, None]
    K = np.abs(x - x.T)
    assert np.linalg.eigvalsh(K)[0] < -0.1


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 2, 4])
@pytest.mark.parametrize(
    ("gamma", "coef0"), [(1.0, 1.0), (0.3, 0.0), (2.0, 3.5)]
)
def test_poly2_feature_map_reproduces_the_kernel(d, gamma, coef0, seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((6, d)), rng.standard_normal((5, d))
    phi_x = poly2_feature_map(X, gamma, coef0)
    assert phi_x.shape == (6, (d + 1) * (d + 2) // 2)
    np.testing.assert_allclose(
        phi_x @ poly2_feature_map(Y, gamma, coef0).T,
        polynomial_kernel(X, Y, degree=2, gamma=gamma, coef0=coef0),
        rtol=1e-13,
        atol=1e-13,
    )


# --------------------------------------------------------------------------
# fit_svm against scikit-learn
# --------------------------------------------------------------------------

# LIBSVM (inside SVC) caches the kernel matrix in single precision, so its
# solution is accurate only to about 1e-6 relative; ours (SMO in float64,
# tol 1e-10) is far closer to the exact optimum. We compare within 1e-4.
SK_TOL = 1e-4

CASES = [
    ("blobs", "linear", {}, 1.0),
    ("blobs", "linear", {}, 0.05),
    ("blobs", "rbf", {"gamma": 0.5}, 10.0),
    ("moons", "rbf", {"gamma": 2.0}, 1.0),
    ("moons", "poly", {"gamma": 1.0, "degree": 3, "coef0": 1.0}, 1.0),
    ("circles", "rbf", {"gamma": 1.0}, 3.0),
    ("circles", "poly", {"gamma": 1.0, "degree": 2, "coef0": 0.5}, 0.5),
    ("cancer", "linear", {}, 0.1),
    ("cancer", "rbf", {"gamma": 0.02}, 5.0),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("data", "kernel", "params", "C"), CASES)
def test_fit_svm_matches_sklearn_svc(data, kernel, params, C, seed):
    X, y = dataset(data, seed)
    model = fit_svm(X, y, C, kernel, tol=1e-10, **params)
    svc = SVC(C=C, kernel=kernel, tol=1e-10, **params).fit(X, y)
    X_test = X + 0.1 * np.random.default_rng(seed).standard_normal(X.shape)
    for Z in (X, X_test):
        f, f_sk = model.decision_function(Z), svc.decision_function(Z)
        np.testing.assert_allclose(f, f_sk, rtol=SK_TOL, atol=SK_TOL)
        agree = model.predict(Z) == svc.predict(Z)
        # predictions may differ only where the score is within tolerance
        assert np.all(agree | (np.abs(f_sk) < 2 * SK_TOL))
    np.testing.assert_allclose(
        model.alpha, sklearn_alpha(svc, y.size), rtol=0, atol=SK_TOL * C
    )
    # Our optimum is at least as good as LIBSVM's (the dual is maximised).
    K = kernel_matrix(X, kernel=kernel, **params)
    assert dual_objective(model.alpha, K, y) >= dual_objective(
        sklearn_alpha(svc, y.size), K, y
    ) - 1e-9 * (1 + abs(dual_objective(model.alpha, K, y)))


@pytest.mark.parametrize("seed", SEEDS)
def test_support_vectors_match_sklearn(seed):
    X, y = dataset("moons", seed)
    model = fit_svm(X, y, 1.0, "rbf", gamma=1.0, tol=1e-10)
    svc = SVC(C=1.0, kernel="rbf", gamma=1.0, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(model.support, np.sort(svc.support_))
    np.testing.assert_array_equal(model.support_vectors, X[model.support])


@pytest.mark.parametrize("seed", SEEDS)
def test_gamma_scale_default_matches_sklearn(seed):
    X, y = dataset("moons", seed, n=50)
    model = fit_svm(X, y, 1.0, "rbf")
    svc = SVC(C=1.0, kernel="rbf", gamma="scale", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.gamma, svc._gamma, rtol=1e-14)
    np.testing.assert_allclose(
        model.decision_function(X), svc.decision_function(X), atol=SK_TOL
    )


# --------------------------------------------------------------------------
# Optimality: KKT conditions, duality, primal solvers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("data", "kernel", "params", "C"), CASES)
def test_kkt_conditions_hold_at_the_dual_solution(
    data, kernel, params, C, seed
):
    X, y = dataset(data, seed)
    tol = 1e-10
    model = fit_svm(X, y, C, kernel, tol=tol, **params)
    a = model.alpha
    assert np.all((a >= 0) & (a <= C))
    assert abs(a @ y) <= 1e-12 * (1 + a.sum())
    z = y * model.decision_function(X)
    # SMO stops when the KKT violation is <= tol; allow round-off on top.
    slack = 10 * tol + 1e-12 * (1 + np.abs(z).max())
    assert np.all(z[a == 0] >= 1 - slack)
    assert np.all(z[a == C] <= 1 + slack)
    free = (a > 0) & (a < C)
    np.testing.assert_allclose(z[free], 1.0, rtol=0, atol=slack)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_strong_duality_and_primal_qp_for_the_linear_kernel(C, seed):
    X, y = dataset("blobs", seed, n=40)
    model = fit_svm(X, y, C, tol=1e-12)
    w, b = model.coef, model.intercept
    dual = dual_objective(model.alpha, linear_kernel(X), y)
    primal = primal_objective(w, b, X, y, C)
    np.testing.assert_allclose(primal, dual, rtol=1e-9)
    # The primal QP in v = (w, b, xi), solved by scipy's SLSQP (which may
    # report a failed line search once it is at round-off level).
    n, d = X.shape
    A = np.hstack([y[:, None] * X, y[:, None], np.eye(n)])
    G = np.hstack([np.zeros((n, d + 1)), np.eye(n)])
    c = np.concatenate([np.zeros(d + 1), C * np.ones(n)])
    cons = [
        {"type": "ineq", "fun": lambda v: A @ v - 1, "jac": lambda v: A},
        {"type": "ineq", "fun": lambda v: v[d + 1 :], "jac": lambda v: G},
    ]
    res = scipy.optimize.minimize(
        lambda v: 0.5 * v[:d] @ v[:d] + c @ v,
        np.concatenate([np.zeros(d + 1), np.ones(n)]),
        jac=lambda v: np.concatenate([v[:d], np.zeros(n + 1)]) + c,
        constraints=cons,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    np.testing.assert_allclose(res.x[:d], w, atol=1e-5)
    # b is unique only when some 0 < alpha_i < C; compare objectives.
    np.testing.assert_allclose(
        primal_objective(res.x[:d], res.x[d], X, y, C), primal, rtol=1e-8
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_hard_margin_geometric_margin_is_one_over_norm_w(seed):
    X, y = make_blobs(40, centers=2, cluster_std=0.6, random_state=seed)
    y = 2 * y - 1
    model = fit_svm(X, y, np.inf, tol=1e-12)
    w, b = model.coef, model.intercept
    assert np.all(model.alpha < np.inf)
    np.testing.assert_allclose(
        geometric_margin(X, y, w, b), 1 / np.linalg.norm(w), rtol=1e-9
    )
    svc = SVC(C=1e8, kernel="linear", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(w, svc.coef_[0], rtol=1e-4, atol=1e-4)


def test_hard_margin_on_inseparable_data_does_not_converge():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([1, -1, 1])
    with pytest.raises(RuntimeError, match="did not converge"):
        fit_svm(X, y, np.inf, max_iter=200)


@pytest.mark.parametrize("seed", SEEDS)
def test_subgradient_descent_approaches_the_dual_solution(seed):
    X, y = dataset("blobs", seed, n=60)
    model = fit_svm(X, y, 1.0, tol=1e-12)
    W, B = hinge_subgradient_descent(X, y, 1.0, 5000)
    assert W.shape == (5001, 2) and B.shape == (5001,)
    np.testing.assert_allclose(W[-1], model.coef, atol=2e-2)
    gap_late = primal_objective(W[-1], B[-1], X, y, 1.0) - primal_objective(
        model.coef, model.intercept, X, y, 1.0
    )
    gap_early = primal_objective(W[50], B[50], X, y, 1.0) - primal_objective(
        model.coef, model.intercept, X, y, 1.0
    )
    assert -1e-9 <= gap_late < gap_early


@pytest.mark.parametrize("seed", SEEDS)
def test_poly_kernel_equals_linear_svm_on_explicit_features(seed):
    X, y = dataset("circles", seed, n=60)
    kernel = fit_svm(
        X, y, 1.0, "poly", gamma=0.7, degree=2, coef0=1.0, tol=1e-12
    )
    Phi = poly2_feature_map(X, gamma=0.7, coef0=1.0)
    linear = fit_svm(Phi, y, 1.0, "linear", tol=1e-12)
    np.testing.assert_allclose(
        kernel.decision_function(X), linear.decision_function(Phi), atol=1e-8
    )


def test_removing_non_support_vectors_changes_nothing():
    X, y = dataset("moons", 0)
    full = fit_svm(X, y, 1.0, "rbf", gamma=1.0, tol=1e-12)
    sv = fit_svm(
        X[full.support], y[full.support], 1.0, "rbf", gamma=1.0, tol=1e-12
    )
    np.testing.assert_allclose(
        sv.decision_function(X), full.decision_function(X), atol=1e-9
    )


def test_smo_solves_a_two_point_problem_in_closed_form():
    # Points at +-r on a line: w = 1 / r, alpha = 1 / (2 r^2) for C large.
    r = 2.0
    K = np.array([[r * r, -r * r], [-r * r, r * r]])
    alpha, b, n_iter = smo(K, [1, -1], C=100.0)
    np.testing.assert_allclose(alpha, 1 / (2 * r * r), rtol=1e-14)
    assert b == 0.0 and n_iter == 1
    # With C below 1 / (2 r^2) both multipliers are at the bound.
    alpha, b, _ = smo(K, [1, -1], C=0.05)
    np.testing.assert_array_equal(alpha, [0.05, 0.05])


def test_model_is_frozen_and_coef_is_linear_only():
    X, y = dataset("moons", 0, n=30)
    model = fit_svm(X, y, 1.0, "rbf", gamma=1.0)
    assert isinstance(model, SVMModel)
    with pytest.raises(ValueError, match="only for the linear kernel"):
        _ = model.coef
    with pytest.raises(AttributeError):
        model.intercept = 0.0


# --------------------------------------------------------------------------
# Error paths
# --------------------------------------------------------------------------


X4 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
Y4 = np.array([-1, -1, 1, 1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": [0, 0, 1, 1]}, "labels must be -1 or \\+1"),
        ({"y": [1, 1, 1, 1]}, "both classes"),
        ({"y": [1, -1, 1]}, "must have 4 entries"),
        ({"C": 0.0}, "C must be positive"),
        ({"C": -1.0}, "C must be positive"),
        ({"C": np.nan}, "C must be positive"),
        ({"C": "1"}, "C must be a positive number"),
        ({"kernel": "sigmoid"}, "unknown kernel"),
        ({"kernel": "poly", "degree": 0}, "degree must be a positive int"),
        ({"kernel": "poly", "degree": 2.5}, "degree must be a positive int"),
        ({"kernel": "rbf", "gamma": -1.0}, "gamma must be positive"),
        ({"tol": 0.0}, "tol must be positive"),
        ({"max_iter": 0}, "max_iter must be a positive int"),
    ],
)
def test_fit_svm_rejects_bad_arguments(kwargs, match):
    args = {"X": X4, "y": Y4} | kwargs
    with pytest.raises(ValueError, match=match):
        fit_svm(**args)


def test_bad_data_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        fit_svm(np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="NaN"):
        fit_svm([[np.nan, 0.0], [1.0, 0.0]], [1, -1])
    with pytest.raises(ValueError, match="same number of columns"):
        linear_kernel(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="coef0 must be non-negative"):
        poly2_feature_map(X4, coef0=-1.0)
    with pytest.raises(ValueError, match="unknown kernel"):
        kernel_matrix(X4, kernel="cosine")
    with pytest.raises(ValueError, match="w must be finite and nonzero"):
        signed_distance(X4, [0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="w must have 2 entries"):
        signed_distance(X4, [1.0], 1.0)


def test_smo_rejects_bad_kernel_matrices():
    with pytest.raises(ValueError, match="symmetric"):
        smo([[1.0, 2.0], [0.0, 1.0]], [1, -1], 1.0)
    with pytest.raises(ValueError, match="shape"):
        smo(np.eye(3), [1, -1], 1.0)
    with pytest.raises(ValueError, match="K must have shape"):
        dual_objective([1.0, 1.0], np.eye(3), [1, -1])


def test_subgradient_descent_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_steps"):
        hinge_subgradient_descent(X4, Y4, 1.0, -1)
    with pytest.raises(ValueError, match="w0 must have shape"):
        hinge_subgradient_descent(X4, Y4, 1.0, 3, w0=[1.0])
    with pytest.raises(ValueError, match="C must be positive"):
        hinge_subgradient_descent(X4, Y4, 0.0, 3)
