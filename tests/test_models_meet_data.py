"""Tests of m4ml.models_meet_data against scikit-learn and closed forms."""

import math

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.model_selection import train_test_split as sk_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)

from m4ml.matrix_decompositions import pinv
from m4ml.models_meet_data import (
    BiasVariance,
    Standardization,
    bias_variance_decomposition,
    cross_validate,
    double_descent_curve,
    fit_polynomial,
    k_fold_indices,
    linear_smoother_bias_variance,
    one_hot,
    polynomial_features,
    random_features,
    ridge_fit,
    standardize_apply,
    standardize_fit,
    train_test_split,
)

SEEDS = [0, 1, 2]


def mse(y, p):
    return float(np.mean((y - p) ** 2))


# --------------------------------------------------------------------------
# one-hot encoding
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        load_iris().target,
        load_wine().target,
        np.array(["red", "green", "blue", "green", "red"]),
        np.array([3.5, -1.0, 3.5, 7.0]),
        np.array([4]),
    ],
)
def test_one_hot_matches_sklearn(labels):
    expected = OneHotEncoder(sparse_output=False).fit_transform(
        labels.reshape(-1, 1)
    )
    got = one_hot(labels)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got.sum(axis=1), np.ones(len(labels)))


@pytest.mark.parametrize("seed", SEEDS)
def test_one_hot_with_given_classes_in_any_order(seed):
    rng = np.random.default_rng(seed)
    classes = np.array(["c", "a", "d", "b"])
    idx = rng.integers(0, 4, size=30)
    got = one_hot(classes[idx], classes=classes)
    np.testing.assert_array_equal(got, np.eye(4)[idx])
    # Classes that never occur still get a (zero) column.
    assert one_hot(["a"], classes=classes).shape == (1, 4)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="unknown category 'z'"):
        one_hot(["a", "z"], classes=["a", "b"])
    with pytest.raises(ValueError, match="unknown category 5"):
        one_hot([5], classes=[1, 2, 9])
    with pytest.raises(ValueError, match="repeated"):
        one_hot([1, 2], classes=[1, 2, 1])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        one_hot([])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        one_hot([[1, 2]])
    with pytest.raises(ValueError, match="classes must be a non-empty"):
        one_hot([1], classes=[])


# --------------------------------------------------------------------------
# standardisation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(2, 1), (30, 4), (200, 10)])
def test_standardize_matches_sklearn(shape, seed):
    rng = np.random.default_rng(seed)
    X_train = rng.normal(5.0, 3.0, size=shape) * rng.uniform(
        0.1, 100, shape[1]
    )
    X_test = rng.normal(4.0, 2.0, size=(7, shape[1]))
    scaler = StandardScaler().fit(X_train)
    stats = standardize_fit(X_train)
    assert isinstance(stats, Standardization)
    np.testing.assert_allclose(stats.mean, scaler.mean_, rtol=1e-13)
    np.testing.assert_allclose(stats.scale, scaler.scale_, rtol=1e-12)
    Z = standardize_apply(X_train, stats)
    np.testing.assert_allclose(Z, scaler.transform(X_train), atol=1e-12)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        standardize_apply(X_test, stats),
        scaler.transform(X_test),
        rtol=1e-12,
        atol=1e-12,
    )


def test_standardize_constant_feature_is_centred_like_sklearn():
    X = np.column_stack([np.full(5, 0.1), np.arange(5.0), np.zeros(5)])
    stats = standardize_fit(X)
    np.testing.assert_array_equal(stats.scale[[0, 2]], [1.0, 1.0])
    Z = standardize_apply(X, stats)
    np.testing.assert_allclose(Z[:, [0, 2]], 0.0, atol=1e-15)
    np.testing.assert_allclose(
        Z, StandardScaler().fit_transform(X), atol=1e-15
    )


def test_standardize_errors():
    stats = standardize_fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features"):
        standardize_apply(np.ones((2, 3)), stats)
    with pytest.raises(ValueError, match="2 dimensions"):
        standardize_fit(np.ones(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        standardize_fit([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="must not be empty"):
        standardize_fit(np.ones((0, 2)))


# --------------------------------------------------------------------------
# polynomial features and fits
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("degree", [0, 1, 3, 8])
def test_polynomial_features_match_vander_and_sklearn(degree, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=11)
    Phi = polynomial_features(x, degree)
    np.testing.assert_allclose(
        Phi, np.vander(x, degree + 1, increasing=True), rtol=1e-15
    )
    sk = PolynomialFeatures(degree).fit_transform(x.reshape(-1, 1))
    np.testing.assert_allclose(Phi, sk, rtol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("degree", [0, 2, 5])
def test_fit_polynomial_matches_numpy_polyfit(degree, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=25)
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(25)
    w = fit_polynomial(x, y, degree)
    np.testing.assert_allclose(
        w,
        np.polynomial.polynomial.polyfit(x, y, degree),
        rtol=1e-9,
        atol=1e-12,
    )


def test_fit_polynomial_interpolates_beyond_n_points():
    x, y = np.array([-1.0, 0.0, 2.0]), np.array([1.0, -1.0, 4.0])
    w = fit_polynomial(x, y, 5)  # more coefficients than points
    np.testing.assert_allclose(
        np.polynomial.polynomial.polyval(x, w), y, atol=1e-12
    )
    np.testing.assert_allclose(
        w, pinv(polynomial_features(x, 5)) @ y, rtol=1e-10, atol=1e-12
    )


def test_polynomial_errors():
    with pytest.raises(ValueError, match="degree must be an integer >= 0"):
        polynomial_features([1.0], -1)
    with pytest.raises(ValueError, match="degree must be an integer"):
        polynomial_features([1.0], 1.5)
    with pytest.raises(ValueError, match="1 dimensions"):
        polynomial_features(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="same length"):
        fit_polynomial([1.0, 2.0], [1.0], 1)


# --------------------------------------------------------------------------
# ridge
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(40, 3), (20, 20), (10, 30)])
@pytest.mark.parametrize("lam", [1e-3, 1.0, 50.0])
@pytest.mark.parametrize("intercept", [True, False])
def test_ridge_matches_sklearn(shape, lam, intercept, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape) + 2.0
    y = X @ rng.standard_normal(shape[1]) + 3.0 + rng.standard_normal(shape[0])
    w, b = ridge_fit(X, y, lam, fit_intercept=intercept)
    sk = Ridge(alpha=lam, fit_intercept=intercept, solver="svd").fit(X, y)
    np.testing.assert_allclose(w, sk.coef_, rtol=1e-8, atol=1e-10)
    assert b == pytest.approx(sk.intercept_, rel=1e-8, abs=1e-10)
    assert isinstance(b, float)


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_zero_penalty_is_least_squares(seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    w, b = ridge_fit(X, y, 0.0)
    lr = LinearRegression().fit(X, y)
    np.testing.assert_allclose(w, lr.coef_, rtol=1e-10)
    assert b == pytest.approx(lr.intercept_, rel=1e-10, abs=1e-12)


def test_ridge_errors():
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        ridge_fit(np.ones((3, 1)), np.ones(3), -1.0)
    with pytest.raises(ValueError, match="lam must be a finite"):
        ridge_fit(np.ones((3, 1)), np.ones(3), math.inf)
    with pytest.raises(ValueError, match="y must have 3 entries"):
        ridge_fit(np.ones((3, 1)), np.ones(2), 1.0)


# --------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------


def _assert_partition(train, test, n):
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(
        np.sort(np.concatenate([train, test])), np.arange(n)
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "n, fraction", [(2, 0.5), (10, 0.25), (101, 0.2), (442, 0.3)]
)
def test_train_test_split_sizes_match_sklearn(n, fraction, seed):
    train, test = train_test_split(n, fraction, np.random.default_rng(seed))
    _assert_partition(train, test, n)
    sk_train, sk_test = sk_split(np.arange(n), test_size=fraction)
    assert (len(train), len(test)) == (len(sk_train), len(sk_test))
    again = train_test_split(n, fraction, np.random.default_rng(seed))
    np.testing.assert_array_equal(again[1], test)


def test_train_test_split_is_uniform():
    # Each index lands in the test set with probability 3/10.
    rng = np.random.default_rng(0)
    counts = np.zeros(10)
    reps = 4000
    for _ in range(reps):
        counts[train_test_split(10, 0.3, rng)[1]] += 1
    se = math.sqrt(0.3 * 0.7 / reps)
    np.testing.assert_allclose(counts / reps, 0.3, atol=4.5 * se)


def test_train_test_split_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        train_test_split(10, 0.0, rng)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        train_test_split(10, 1.0, rng)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        train_test_split(1, 0.5, rng)
    with pytest.raises(ValueError, match="leaves no training data"):
        train_test_split(3, 0.9, rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        train_test_split(10, 0.5, 0)


@pytest.mark.parametrize("n, k", [(2, 2), (10, 3), (17, 5), (50, 10), (7, 7)])
def test_k_fold_matches_sklearn_kfold(n, k):
    ours = list(k_fold_indices(n, k))
    theirs = list(KFold(n_splits=k).split(np.zeros(n)))
    assert len(ours) == k
    for (tr, va), (sk_tr, sk_va) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(tr, sk_tr)
        np.testing.assert_array_equal(va, sk_va)
        _assert_partition(tr, va, n)
    # The validation folds partition the data.
    np.testing.assert_array_equal(
        np.sort(np.concatenate([va for _, va in ours])), np.arange(n)
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, k", [(10, 3), (23, 4)])
def test_k_fold_shuffled_partitions(n, k, seed):
    folds = list(k_fold_indices(n, k, np.random.default_rng(seed)))
    sizes = sorted(len(va) for _, va in folds)
    assert sizes == sorted([n // k + 1] * (n % k) + [n // k] * (k - n % k))
    for tr, va in folds:
        _assert_partition(tr, va, n)
    np.testing.assert_array_equal(
        np.sort(np.concatenate([va for _, va in folds])), np.arange(n)
    )
    # Shuffled folds are not the contiguous ones (for these seeds).
    assert any(np.any(np.diff(va) > 1) for _, va in folds)


def test_k_fold_errors_are_raised_at_call_time():
    with pytest.raises(ValueError, match="2 <= k <= n = 5, got k = 1"):
        k_fold_indices(5, 1)
    with pytest.raises(ValueError, match="2 <= k <= n = 5, got k = 6"):
        k_fold_indices(5, 6)
    with pytest.raises(ValueError, match="k must be an integer"):
        k_fold_indices(5, 2.0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        k_fold_indices(5, 2, rng=3)


# --------------------------------------------------------------------------
# cross-validation
# --------------------------------------------------------------------------


def _standardised_ridge(lam):
    def fit(X, y):
        stats = standardize_fit(X)
        return stats, ridge_fit(standardize_apply(X, stats), y, lam)

    def predict(model, X):
        stats, (w, b) = model
        return standardize_apply(X, stats) @ w + b

    return fit, predict


@pytest.mark.parametrize("k", [2, 5, 10])
@pytest.mark.parametrize("lam", [0.0, 1.0, 100.0])
def test_cross_validate_matches_cross_val_score(k, lam):
    X, y = load_diabetes(return_X_y=True, scaled=False)
    fit, predict = _standardised_ridge(lam)
    ours = cross_validate(fit, predict, mse, X, y, k)
    model = (
        make_pipeline(StandardScaler(), Ridge(alpha=lam, solver="svd"))
        if lam > 0
        else make_pipeline(StandardScaler(), LinearRegression())
    )
    theirs = -cross_val_score(
        model, X, y, cv=KFold(n_splits=k), scoring="neg_mean_squared_error"
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_validate_shuffled_matches_kfold_with_same_folds(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((37, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.standard_normal(37)
    fit, predict = _standardised_ridge(0.5)
    ours = cross_validate(fit, predict, mse, X, y, 4, np.random.default_rng(9))
    folds = list(k_fold_indices(37, 4, np.random.default_rng(9)))
    expected = [
        mse(y[va], predict(fit(X[tr], y[tr]), X[va])) for tr, va in folds
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-14)


def test_cross_validate_leave_one_out_closed_form():
    # For least squares, the leave-one-out residual is r_n / (1 - h_nn).
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(15), rng.standard_normal((15, 2))])
    y = rng.standard_normal(15)
    losses = cross_validate(
        lambda A, b: np.linalg.lstsq(A, b, rcond=None)[0],
        lambda w, A: A @ w,
        mse,
        X,
        y,
        k=15,
    )
    H = X @ np.linalg.pinv(X)
    r = y - H @ y
    np.testing.assert_allclose(losses, (r / (1 - np.diag(H))) ** 2, rtol=1e-10)


def test_cross_validate_errors():
    fit, predict = _standardised_ridge(1.0)
    with pytest.raises(ValueError, match="same number of examples"):
        cross_validate(fit, predict, mse, np.ones((4, 2)), np.ones(3), 2)
    with pytest.raises(ValueError, match="2 <= k <= n = 4"):
        cross_validate(fit, predict, mse, np.ones((4, 2)), np.ones(4), 5)


# --------------------------------------------------------------------------
# bias-variance
# --------------------------------------------------------------------------


def _poly_fit_predict(degree):
    def fit_predict(x, y, x_new):
        w = fit_polynomial(x, y, degree)
        return np.polynomial.polynomial.polyval(x_new, w)

    return fit_predict


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("degree", [0, 1, 3, 6])
def test_bias_variance_monte_carlo_matches_closed_form(degree, seed):
    rng = np.random.default_rng(seed)
    x_tr = np.sort(rng.uniform(-1, 1, 15))
    x_te = np.linspace(-0.9, 0.9, 25)
    f = np.sin
    sigma, M = 0.5, 1500
    mc = bias_variance_decomposition(
        _poly_fit_predict(degree), f, x_tr, x_te, sigma, M, rng
    )
    H = polynomial_features(x_te, degree) @ pinv(
        polynomial_features(x_tr, degree)
    )
    exact = linear_smoother_bias_variance(H, f(x_tr), f(x_te), sigma)
    assert isinstance(mc, BiasVariance)
    assert mc.noise == exact.noise == sigma**2
    # The theorem: measured test error = bias^2 + variance + noise.
    total = mc.bias2 + mc.variance + mc.noise
    assert abs(mc.test_mse - total) <= 4 * mc.se
    # Each term against its closed form. The variance estimate averages
    # per-point sample variances of Gaussian predictions, each with
    # relative standard error sqrt(2 / (M - 1)).
    var_se = exact.variance * math.sqrt(2 / (M - 1))
    assert abs(mc.variance - exact.variance) <= 4 * var_se
    # The squared bias estimate is biased upwards by variance / M.
    bias_se = 2 * math.sqrt(exact.bias2 * exact.variance / M) + (
        exact.variance / M
    )
    assert abs(mc.bias2 - exact.bias2) <= 4 * bias_se + exact.variance / M
    assert abs(mc.test_mse - exact.test_mse) <= 0.05 * exact.test_mse


def test_bias_variance_without_noise_is_exact():
    x = np.linspace(-1, 1, 8)
    bv = bias_variance_decomposition(
        _poly_fit_predict(2),
        np.cos,
        x,
        x[::2],
        0.0,
        5,
        np.random.default_rng(0),
    )
    assert bv.variance == pytest.approx(0.0, abs=1e-28)
    assert bv.test_mse == pytest.approx(bv.bias2, rel=1e-12)
    w = fit_polynomial(x, np.cos(x), 2)
    expected = np.mean(
        (np.polynomial.polynomial.polyval(x[::2], w) - np.cos(x[::2])) ** 2
    )
    assert bv.bias2 == pytest.approx(expected, rel=1e-10)


def test_linear_smoother_mean_of_n_targets():
    # Predicting by the training mean: variance sigma^2 / N at every x.
    N, sigma = 6, 2.0
    H = np.full((3, N), 1 / N)
    ft = np.arange(N, dtype=float)
    out = linear_smoother_bias_variance(H, ft, np.zeros(3), sigma)
    assert out.variance == pytest.approx(sigma**2 / N, rel=1e-14)
    assert out.bias2 == pytest.approx(ft.mean() ** 2, rel=1e-14)
    assert out.test_mse == pytest.approx(
        out.bias2 + out.variance + sigma**2, rel=1e-14
    )
    assert out.se == 0.0


def test_bias_variance_errors():
    fp = _poly_fit_predict(1)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_datasets must be an integer"):
        bias_variance_decomposition(fp, np.sin, [0.0, 1.0], [0.5], 1.0, 1, rng)
    with pytest.raises(ValueError, match="noise_std must be a finite"):
        bias_variance_decomposition(
            fp, np.sin, [0.0, 1.0], [0.5], -1.0, 5, rng
        )
    with pytest.raises(ValueError, match="non-empty"):
        bias_variance_decomposition(fp, np.sin, [], [0.5], 1.0, 5, rng)
    with pytest.raises(TypeError, match="Generator"):
        bias_variance_decomposition(
            fp, np.sin, [0.0, 1.0], [0.5], 1.0, 5, None
        )
    with pytest.raises(ValueError, match="H must have shape"):
        linear_smoother_bias_variance(
            np.ones((2, 3)), np.ones(3), np.ones(3), 1.0
        )


# --------------------------------------------------------------------------
# double descent
# --------------------------------------------------------------------------


def test_random_features_formula():
    rng = np.random.default_rng(0)
    X, W, b = (rng.standard_normal(s) for s in [(5, 3), (3, 4), (4,)])
    np.testing.assert_allclose(
        random_features(X, W, b), np.tanh(X @ W + b), rtol=1e-15
    )
    with pytest.raises(ValueError, match="shapes do not match"):
        random_features(X, W[:2], b)
    with pytest.raises(ValueError, match="shapes do not match"):
        random_features(X, W, b[:3])


@pytest.mark.parametrize("seed", SEEDS)
def test_double_descent_curve_properties(seed):
    rng = np.random.default_rng(seed)
    N, D = 12, 3
    X, Xt = rng.standard_normal((N, D)), rng.standard_normal((50, D))
    y, yt = np.sin(X[:, 0]), np.sin(Xt[:, 0])
    Ps = np.array([1, 4, 8, 12, 20, 100])
    dd = double_descent_curve(X, y, Xt, yt, Ps, 3, rng)
    assert dd.train_mse.shape == dd.test_mse.shape == (3, Ps.size)
    np.testing.assert_array_equal(dd.n_features, Ps)
    # Nested features: the training error never increases with P.
    assert np.all(np.diff(dd.train_mse, axis=1) <= 1e-12)
    # From P = N on, min-norm least squares interpolates.
    assert np.all(dd.train_mse[:, Ps >= N] < 1e-12 * np.mean(y**2))
    assert np.all(dd.train_mse[:, 0] > 1e-3)
    # The same seed gives the same curve.
    again = double_descent_curve(
        X, y, Xt, yt, Ps, 3, np.random.default_rng(seed + 100)
    )
    again2 = double_descent_curve(
        X, y, Xt, yt, Ps, 3, np.random.default_rng(seed + 100)
    )
    np.testing.assert_array_equal(again.test_mse, again2.test_mse)


def test_double_descent_matches_pinv_with_the_same_features():
    rng = np.random.default_rng(5)
    N, D = 10, 2
    X, y = rng.standard_normal((N, D)), rng.standard_normal(N)
    dd = double_descent_curve(X, y, X, y, [3, 25], 1, np.random.default_rng(7))
    # Replay the draw of the features.
    g = np.random.default_rng(7)
    W = g.standard_normal((D, 25)) / math.sqrt(D)
    b = g.standard_normal(25)
    F = np.tanh(X @ W + b)
    for i, P in enumerate([3, 25]):
        w = np.linalg.lstsq(F[:, :P], y, rcond=None)[0]
        assert dd.weight_norm[0, i] == pytest.approx(
            np.linalg.norm(w), rel=1e-8
        )
        assert dd.train_mse[0, i] == pytest.approx(
            mse(y, F[:, :P] @ w), rel=1e-8, abs=1e-20
        )


def test_double_descent_errors():
    X, y = np.ones((4, 2)), np.ones(4)
    rng = np.random.default_rng(0)
    for bad in ([3, 2], [0, 2], [1.5, 2.5], []):
        with pytest.raises(ValueError, match="strictly increasing"):
            double_descent_curve(X, y, X, y, bad, 1, rng)
    with pytest.raises(ValueError, match="same length"):
        double_descent_curve(X, y[:3], X, y, [1], 1, rng)
    with pytest.raises(ValueError, match="same columns"):
        double_descent_curve(X, y, np.ones((4, 3)), y, [1], 1, rng)
    with pytest.raises(ValueError, match="n_trials"):
        double_descent_curve(X, y, X, y, [1], 0, rng)
