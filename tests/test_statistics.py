"""Tests of m4ml.statistics against scipy.stats, scikit-learn and theory."""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.naive_bayes import GaussianNB

from m4ml.statistics import (
    GaussianNaiveBayes,
    bias_variance_mse,
    bootstrap_ci,
    bootstrap_distribution,
    fit_gaussian_naive_bayes,
    gaussian_log_likelihood,
    interval_coverage,
    map_gaussian_mean,
    mle_gaussian,
    t_cdf,
    t_confidence_interval,
    t_ppf,
    t_test,
)

SEEDS = [0, 1, 2]


# --------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m", [1, 7, 1000])
def test_bias_variance_mse_decomposition(m, seed):
    rng = np.random.default_rng(seed)
    est = rng.normal(2.0, 3.0, size=m)
    s = bias_variance_mse(est, true_value=1.5)
    assert s.bias == pytest.approx(est.mean() - 1.5, rel=1e-13, abs=1e-13)
    assert s.variance == pytest.approx(np.var(est), rel=1e-12, abs=1e-14)
    assert s.mse == pytest.approx(np.mean((est - 1.5) ** 2), rel=1e-12)
    # The empirical decomposition is an identity, exact up to round-off.
    assert s.mse == pytest.approx(s.bias**2 + s.variance, rel=1e-12)
    assert all(isinstance(v, float) for v in s)


def test_bias_variance_mse_errors():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        bias_variance_mse([], 0.0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        bias_variance_mse(np.ones((2, 2)), 0.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        bias_variance_mse([1.0, np.nan], 0.0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 10, 500])
def test_mle_gaussian_matches_scipy_fit(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(-1.0, 2.5, size=n)
    mu, var = mle_gaussian(x)
    loc, scale = scipy.stats.norm.fit(x)  # the maximum likelihood fit
    assert mu == pytest.approx(loc, rel=1e-12, abs=1e-14)
    assert var == pytest.approx(scale**2, rel=1e-10, abs=1e-14)
    assert var == pytest.approx(np.var(x), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_mle_gaussian_maximises_the_likelihood(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.5, size=40)
    mu, var = mle_gaussian(x)
    best = gaussian_log_likelihood(x, mu, var)
    for dmu, dvar in [
        (0.01, 0),
        (-0.01, 0),
        (0, 0.01),
        (0, -0.01),
        (0.1, 0.1),
    ]:
        assert gaussian_log_likelihood(x, mu + dmu, var + dvar) < best
    res = scipy.optimize.minimize(
        lambda p: -gaussian_log_likelihood(x, p[0], math.exp(p[1])),
        x0=[0.0, 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
    )
    assert res.x[0] == pytest.approx(mu, abs=1e-6)  # optimiser tolerance
    assert math.exp(res.x[1]) == pytest.approx(var, rel=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_log_likelihood_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=25)
    expected = scipy.stats.norm.logpdf(x, loc=0.3, scale=math.sqrt(2.0))
    assert gaussian_log_likelihood(x, 0.3, 2.0) == pytest.approx(
        expected.sum(), rel=1e-13
    )


def test_mle_and_likelihood_errors():
    with pytest.raises(ValueError, match="at least 1 observation"):
        mle_gaussian([])
    with pytest.raises(ValueError, match="1-D"):
        mle_gaussian(np.ones((2, 3)))
    with pytest.raises(ValueError, match="array of observations"):
        mle_gaussian(3.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        mle_gaussian([1.0, np.inf])
    with pytest.raises(ValueError, match="var must be a positive"):
        gaussian_log_likelihood([1.0], 0.0, 0.0)


# --------------------------------------------------------------------------
# MAP
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [0, 1, 5, 100])
def test_map_gaussian_mean_is_the_posterior_mode_and_mean(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, size=n)
    noise_var, m0, v0 = 4.0, -0.5, 0.8
    post_mean, post_var = map_gaussian_mean(x, noise_var, m0, v0)

    def neg_log_post(mu):
        return -(
            scipy.stats.norm.logpdf(mu, m0, math.sqrt(v0))
            + scipy.stats.norm.logpdf(x, mu, math.sqrt(noise_var)).sum()
        )

    res = scipy.optimize.minimize_scalar(
        neg_log_post, bracket=(-5, 5), tol=1e-12
    )
    assert post_mean == pytest.approx(res.x, abs=1e-7)  # Brent's tolerance
    # The weighted-average form, and the posterior by a fine grid.
    w = n * v0 / (n * v0 + noise_var)
    xbar = x.mean() if n else 0.0
    assert post_mean == pytest.approx(w * xbar + (1 - w) * m0, abs=1e-14)
    grid = np.linspace(
        post_mean - 12 * math.sqrt(post_var),
        post_mean + 12 * math.sqrt(post_var),
        20001,
    )
    log_post = -np.array([neg_log_post(g) for g in grid])
    dens = np.exp(log_post - log_post.max())
    dens /= np.trapezoid(dens, grid)
    mean_grid = np.trapezoid(grid * dens, grid)
    var_grid = np.trapezoid((grid - mean_grid) ** 2 * dens, grid)
    assert mean_grid == pytest.approx(post_mean, abs=1e-9)
    assert var_grid == pytest.approx(post_var, rel=1e-7)


def test_map_gaussian_mean_limits():
    x = np.array([1.0, 2.0, 6.0])
    # A very wide prior gives the sample mean; a very narrow one the prior.
    wide, _ = map_gaussian_mean(x, 1.0, 10.0, 1e12)
    narrow, _ = map_gaussian_mean(x, 1.0, 10.0, 1e-12)
    assert wide == pytest.approx(3.0, abs=1e-10)
    assert narrow == pytest.approx(10.0, abs=1e-10)
    assert map_gaussian_mean([], 1.0, 0.3, 2.0) == (0.3, 2.0)


def test_map_gaussian_mean_errors():
    with pytest.raises(ValueError, match="noise_var must be a positive"):
        map_gaussian_mean([1.0], 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="prior_var must be a positive"):
        map_gaussian_mean([1.0], 1.0, 0.0, -1.0)
    with pytest.raises(ValueError, match="prior_var must be finite"):
        map_gaussian_mean([1.0], 1.0, 0.0, math.inf)
    with pytest.raises(ValueError, match="1-D"):
        map_gaussian_mean([[1.0]], 1.0, 0.0, 1.0)


# --------------------------------------------------------------------------
# the t distribution
# --------------------------------------------------------------------------

DFS = [0.5, 1, 2, 3.5, 10, 29, 1000]


@pytest.mark.parametrize("df", DFS)
def test_t_cdf_matches_scipy(df):
    t = np.array(
        [
            -1e6,
            -40.0,
            -5.0,
            -2.0,
            -0.7,
            -1e-3,
            0.0,
            0.3,
            1.0,
            2.5,
            8.0,
            300.0,
            1e9,
        ]
    )
    cdf = t_cdf(t, df)
    # Relative accuracy in both tails: compare P(T <= t) for t < 0 and
    # P(T > t) for t > 0, both small numbers. Accuracy about df * 1e-15.
    lower = t < 0
    assert np.allclose(
        cdf[lower], scipy.stats.t.cdf(t[lower], df), rtol=1e-11, atol=0
    )
    assert np.allclose(
        1 - cdf[~lower],
        scipy.stats.t.sf(t[~lower], df),
        rtol=1e-11,
        atol=1e-16,
    )
    assert np.allclose(
        t_cdf(-t[~lower], df),
        scipy.stats.t.sf(t[~lower], df),
        rtol=1e-11,
        atol=0,
    )


def test_t_cdf_special_values():
    assert t_cdf(0.0, 7.0) == 0.5
    assert t_cdf(np.inf, 3.0) == 1.0
    assert t_cdf(-np.inf, 3.0) == 0.0
    t = np.linspace(-30, 30, 61)
    # df = 1 is the Cauchy distribution and df = 2 has a closed form.
    assert np.allclose(t_cdf(t, 1), 0.5 + np.arctan(t) / np.pi, rtol=1e-13)
    assert np.allclose(
        t_cdf(t, 2), 0.5 + t / (2 * np.sqrt(2 + t**2)), rtol=1e-13
    )
    assert isinstance(t_cdf(1.0, 4), float)
    assert t_cdf(np.zeros((2, 3)), 4).shape == (2, 3)


@pytest.mark.parametrize("df", DFS)
def test_t_ppf_matches_scipy_and_inverts_cdf(df):
    q = np.array(
        [1e-10, 1e-4, 0.01, 0.025, 0.2, 0.5, 0.7, 0.95, 0.975, 0.9999]
    )
    t = t_ppf(q, df)
    assert np.allclose(t, scipy.stats.t.ppf(q, df), rtol=1e-11, atol=1e-15)
    assert np.allclose(t_cdf(t, df), q, rtol=1e-12)
    assert np.all(np.diff(t) > 0)


def test_t_ppf_approaches_the_normal_quantile():
    z = scipy.stats.norm.ppf(0.975)
    gaps = [abs(t_ppf(0.975, df) - z) for df in (5, 50, 500, 5000)]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-3


def test_t_distribution_errors():
    with pytest.raises(ValueError, match="df must be a positive"):
        t_cdf(1.0, 0)
    with pytest.raises(ValueError, match="df must be finite"):
        t_ppf(0.5, math.inf)
    with pytest.raises(ValueError, match="NaN"):
        t_cdf(np.nan, 3)
    for q in (0.0, 1.0, -0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            t_ppf(q, 3)


# --------------------------------------------------------------------------
# intervals and tests
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 3, 10, 200])
@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.999])
def test_t_confidence_interval_matches_scipy(n, level, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, size=n)
    low, high = t_confidence_interval(x, level)
    ref = scipy.stats.t.interval(
        level, n - 1, loc=x.mean(), scale=scipy.stats.sem(x)
    )
    scale = abs(x.mean()) + scipy.stats.sem(x)
    assert low == pytest.approx(ref[0], rel=1e-11, abs=1e-11 * scale)
    assert high == pytest.approx(ref[1], rel=1e-11, abs=1e-11 * scale)
    assert isinstance(low, float) and isinstance(high, float)


def test_t_confidence_interval_batches_along_last_axis():
    rng = np.random.default_rng(3)
    x = rng.exponential(size=(4, 5, 8))
    low, high = t_confidence_interval(x, 0.9)
    assert low.shape == high.shape == (4, 5)
    l01, h01 = t_confidence_interval(x[0, 1], 0.9)
    assert low[0, 1] == pytest.approx(l01, rel=1e-15)
    assert high[0, 1] == pytest.approx(h01, rel=1e-15)


def test_t_confidence_interval_coverage_for_normal_data():
    rng = np.random.default_rng(11)
    reps, n, mu = 4000, 6, 1.7
    x = rng.normal(mu, 3.0, size=(reps, n))
    low, high = t_confidence_interval(x, 0.9)
    cover = interval_coverage(low, high, mu)
    se = math.sqrt(0.9 * 0.1 / reps)
    assert abs(cover - 0.9) < 4 * se  # exact coverage for normal data


def test_t_confidence_interval_errors():
    with pytest.raises(ValueError, match="at least 2 observations"):
        t_confidence_interval([1.0])
    with pytest.raises(ValueError, match="at least 2 observations"):
        t_confidence_interval(np.ones((3, 1)))
    for level in (0.0, 1.0, 95, -0.5):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            t_confidence_interval([1.0, 2.0], level)
    with pytest.raises(ValueError, match="NaN or infinite"):
        t_confidence_interval([1.0, np.nan, 2.0])


def test_interval_coverage():
    assert interval_coverage([0, 1, 2, 3], [1, 2, 3, 4], 1.0) == 0.5
    assert interval_coverage([[0.0]], [[0.0]], 0.0) == 1.0
    with pytest.raises(ValueError, match="equal shapes"):
        interval_coverage([0, 1], [1], 0.5)
    with pytest.raises(ValueError, match="equal shapes"):
        interval_coverage([], [], 0.5)
    with pytest.raises(ValueError, match="low <= high"):
        interval_coverage([2.0], [1.0], 1.5)
    with pytest.raises(ValueError, match="NaN"):
        interval_coverage([np.nan], [1.0], 0.5)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 5, 40])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_test_matches_scipy(n, alternative, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.4, 1.0, size=(6, n))
    stat, p = t_test(x, mu0=0.1, alternative=alternative)
    ref = scipy.stats.ttest_1samp(x, 0.1, axis=-1, alternative=alternative)
    assert np.allclose(stat, ref.statistic, rtol=1e-12)
    assert np.allclose(p, ref.pvalue, rtol=1e-10, atol=1e-15)
    s1, p1 = t_test(x[0], mu0=0.1, alternative=alternative)
    assert isinstance(s1, float) and isinstance(p1, float)


def test_t_test_p_values_are_uniform_under_the_null():
    rng = np.random.default_rng(5)
    x = rng.normal(2.0, 1.0, size=(4000, 7))
    _, p = t_test(x, mu0=2.0)
    ks = scipy.stats.kstest(p, "uniform")
    assert ks.pvalue > 1e-3  # a uniform sample passes at the 0.1% level
    _, p_alt = t_test(x, mu0=1.0)  # a false null: p-values pile up at 0
    assert scipy.stats.kstest(p_alt, "uniform").pvalue < 1e-10


def test_t_test_errors():
    with pytest.raises(ValueError, match="alternative must be"):
        t_test([1.0, 2.0], alternative="both")
    with pytest.raises(ValueError, match="zero variance"):
        t_test([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="at least 2 observations"):
        t_test([1.0])


# --------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------

STATISTICS = [np.mean, np.median, np.std, np.max]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("statistic", STATISTICS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("level", [0.8, 0.95])
def test_bootstrap_ci_reproduces_scipy_percentile(statistic, level, seed):
    x = np.random.default_rng(100 + seed).gamma(2.0, size=31)
    ours = bootstrap_ci(
        x, statistic, np.random.default_rng(seed), n_resamples=999, level=level
    )
    ref = scipy.stats.bootstrap(
        (x,),
        statistic,
        n_resamples=999,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    # The same generator draws the same resamples: equal to round-off.
    assert ours == pytest.approx(tuple(ref.confidence_interval), rel=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_bootstrap_distribution_vectorized_and_loop_agree(seed):
    x = np.random.default_rng(seed).normal(size=15)
    a = bootstrap_distribution(x, np.median, np.random.default_rng(seed), 50)
    b = bootstrap_distribution(
        x,
        lambda r: float(np.median(r)),
        np.random.default_rng(seed),
        50,
        vectorized=False,
    )
    assert np.array_equal(a, b)
    assert set(
        np.unique(
            bootstrap_distribution(x, np.max, np.random.default_rng(seed), 200)
        )
    ) <= set(x)


def test_bootstrap_distribution_of_the_mean_has_the_plug_in_variance():
    x = np.random.default_rng(8).exponential(size=20)
    reps = bootstrap_distribution(x, np.mean, np.random.default_rng(9), 40000)
    # Resampling from the data: mean x-bar, variance (biased var) / n.
    # Tolerances: 4 standard errors of the Monte Carlo mean and variance;
    # the relative standard error of a variance from M draws is about
    # sqrt(2 / M) for Gaussian draws, and we allow 20% more for the excess
    # kurtosis of a mean of 20 skewed values.
    sd = math.sqrt(np.var(x) / x.size)
    assert abs(reps.mean() - x.mean()) < 4 * sd / math.sqrt(40000)
    rel_se = 1.2 * math.sqrt(2 / 40000)
    assert reps.var() == pytest.approx(sd**2, rel=4 * rel_se)


def test_bootstrap_ci_coverage_for_the_mean_is_roughly_nominal():
    rng = np.random.default_rng(21)
    reps, n = 400, 40
    lows, highs = np.empty(reps), np.empty(reps)
    for i in range(reps):
        x = rng.normal(5.0, 2.0, size=n)
        lows[i], highs[i] = bootstrap_ci(
            x, np.mean, rng, n_resamples=500, level=0.9
        )
    cover = interval_coverage(lows, highs, 5.0)
    # Percentile intervals for a mean are a little short for small n.
    assert 0.9 - 4 * math.sqrt(0.09 / reps) - 0.02 < cover
    assert cover < 0.9 + 4 * math.sqrt(0.09 / reps)


def test_bootstrap_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="Generator"):
        bootstrap_ci([1.0, 2.0], np.mean, 0)
    with pytest.raises(ValueError, match="n_resamples must be a positive"):
        bootstrap_ci([1.0, 2.0], np.mean, rng, n_resamples=0)
    with pytest.raises(ValueError, match="n_resamples must be a positive"):
        bootstrap_ci([1.0, 2.0], np.mean, rng, n_resamples=10.5)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        bootstrap_ci([1.0, 2.0], np.mean, rng, level=1.0)
    with pytest.raises(ValueError, match="1-D"):
        bootstrap_ci(np.ones((3, 2)), np.mean, rng)
    with pytest.raises(ValueError, match="at least 1 observation"):
        bootstrap_ci([], np.mean, rng)
    with pytest.raises(ValueError, match="one number per resample"):
        bootstrap_ci([1.0, 2.0], lambda r, axis: r, rng)


# --------------------------------------------------------------------------
# Gaussian naive Bayes
# --------------------------------------------------------------------------

DATASETS = {
    "iris": load_iris(return_X_y=True),
    "wine": load_wine(return_X_y=True),
    "breast_cancer": load_breast_cancer(return_X_y=True),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("var_smoothing", [1e-9, 1e-3, 0.1])
def test_naive_bayes_matches_sklearn(name, var_smoothing):
    X, y = DATASETS[name]
    ours = fit_gaussian_naive_bayes(X, y, var_smoothing=var_smoothing)
    ref = GaussianNB(var_smoothing=var_smoothing).fit(X, y)
    assert np.array_equal(ours.classes, ref.classes_)
    assert np.allclose(ours.means, ref.theta_, rtol=1e-12, atol=0)
    assert np.allclose(ours.variances, ref.var_, rtol=1e-12, atol=0)
    assert np.allclose(ours.priors, ref.class_prior_, rtol=1e-14)
    assert ours.epsilon == pytest.approx(ref.epsilon_, rel=1e-14)
    # Log posteriors: sums of D terms of size up to ~1e3 (breast cancer),
    # computed in a different order, so agree to ~1e-9 absolute.
    assert np.allclose(
        ours.predict_log_proba(X),
        ref.predict_log_proba(X),
        rtol=1e-9,
        atol=1e-9,
    )
    assert np.allclose(
        ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-12
    )
    assert np.array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(30, 1, 2), (200, 5, 3), (60, 8, 4)])
def test_naive_bayes_on_synthetic_data(shape, seed):
    n, d, k = shape
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(["a", "b", "c", "d"])[:k], size=n)
    y[:k] = np.array(["a", "b", "c", "d"])[:k]  # every class appears
    X = rng.normal(size=(n, d)) + (y == "b")[:, None] * 2.0
    ours = fit_gaussian_naive_bayes(X, y)
    ref = GaussianNB().fit(X, y)
    X_new = rng.normal(size=(17, d)) * 3
    assert np.array_equal(ours.predict(X_new), ref.predict(X_new))
    assert np.allclose(
        ours.predict_log_proba(X_new),
        ref.predict_log_proba(X_new),
        rtol=1e-10,
        atol=1e-10,
    )
    assert np.allclose(ours.predict_proba(X_new).sum(axis=1), 1.0, rtol=1e-14)


def test_naive_bayes_is_bayes_theorem():
    X, y = DATASETS["iris"]
    model = fit_gaussian_naive_bayes(X, y)
    x = X[[0, 60, 120]]
    class_density = np.stack(
        [
            np.prod(
                scipy.stats.norm.pdf(
                    x, model.means[k], np.sqrt(model.variances[k])
                ),
                axis=1,
            )
            for k in range(3)
        ],
        axis=1,
    )
    post = (
        class_density
        * model.priors
        / (class_density * model.priors).sum(axis=1, keepdims=True)
    )
    assert np.allclose(model.predict_proba(x), post, rtol=1e-12, atol=1e-300)


def test_naive_bayes_is_stable_far_from_the_data():
    X, y = DATASETS["iris"]
    model = fit_gaussian_naive_bayes(X, y)
    far = np.full((1, 4), 1e4)  # every class density underflows to 0
    log_p = model.predict_log_proba(far)
    assert np.all(np.isfinite(log_p))
    assert np.exp(log_p).sum() == pytest.approx(1.0, rel=1e-14)


def test_naive_bayes_errors():
    X = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 3.0], [1.0, 4.0]])
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="zero variance within a class"):
        fit_gaussian_naive_bayes(X, y, var_smoothing=0.0)
    with pytest.raises(ValueError, match="non-negative"):
        fit_gaussian_naive_bayes(X, y, var_smoothing=-1.0)
    with pytest.raises(ValueError, match="y must have shape"):
        fit_gaussian_naive_bayes(X, y[:3])
    with pytest.raises(ValueError, match="non-empty 2-D"):
        fit_gaussian_naive_bayes(X[:, 0], y)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_gaussian_naive_bayes(np.where(X > 3, np.nan, X), y)
    model = fit_gaussian_naive_bayes(X, y)
    assert isinstance(model, GaussianNaiveBayes)
    with pytest.raises(ValueError, match="shape"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        model.predict_log_proba(np.ones(2))
