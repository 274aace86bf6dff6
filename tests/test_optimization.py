"""Tests of m4ml.optimization against closed forms and scipy."""

import numpy as np
import pytest
import scipy.optimize

from m4ml.optimization import (
    adam,
    ema,
    gradient_descent,
    heavy_ball_parameters,
    minibatch_indices,
    newton,
    rmsprop,
    sgd,
    solve_qp_kkt,
)

EPS = np.finfo(np.float64).eps
SEEDS = [0, 1, 2]


def random_spd(rng, n, kappa=10.0):
    """A random SPD matrix with eigenvalues spread over [1, kappa]."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([[1.0, kappa], rng.uniform(1.0, kappa, n)])[:n]
    if n == 1:
        lam = np.array([kappa])
    return (Q * lam) @ Q.T


def quadratic(rng, n, kappa=10.0):
    A = random_spd(rng, n, kappa)
    b = rng.standard_normal(n)
    return A, b, np.linalg.solve(A, b)


# --------------------------------------------------------------------------
# gradient_descent
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 3, 10])
def test_gd_converges_to_the_minimiser_of_a_quadratic(n, seed):
    rng = np.random.default_rng(seed)
    A, b, x_star = quadratic(rng, n)
    lam = np.linalg.eigvalsh(A)
    path = gradient_descent(
        lambda x: A @ x - b,
        rng.standard_normal(n),
        2 / (lam[0] + lam[-1]),
        300,
    )
    assert path.shape == (301, n)
    # rate (kappa - 1)/(kappa + 1) <= 9/11: 300 steps reach round-off.
    np.testing.assert_allclose(
        path[-1], x_star, rtol=0, atol=1e-10 * (1 + np.linalg.norm(x_star))
    )


@pytest.mark.parametrize(
    "a, lr", [(1.0, 0.3), (4.0, 0.1), (2.0, 0.9), (0.5, 3.9)]
)
def test_gd_on_a_1d_quadratic_is_a_geometric_sequence(a, lr):
    x0 = 1.7
    path = gradient_descent(lambda x: a * x, [x0], lr, 25)
    k = np.arange(26)
    np.testing.assert_allclose(
        path[:, 0], (1 - lr * a) ** k * x0, rtol=1e-12, atol=1e-300
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_gd_error_is_a_matrix_power(seed):
    rng = np.random.default_rng(seed)
    A, b, x_star = quadratic(rng, 5)
    x0 = rng.standard_normal(5)
    path = gradient_descent(lambda x: A @ x - b, x0, 0.05, 30)
    expected = np.linalg.matrix_power(np.eye(5) - 0.05 * A, 30) @ (x0 - x_star)
    np.testing.assert_allclose(
        path[30] - x_star,
        expected,
        rtol=0,
        atol=1e-12 * np.linalg.norm(x0 - x_star),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_gd_stability_threshold(seed):
    rng = np.random.default_rng(seed)
    A, b, x_star = quadratic(rng, 8)
    lam_max = np.linalg.eigvalsh(A)[-1]
    x0 = x_star + rng.standard_normal(8)
    e0 = np.linalg.norm(x0 - x_star)

    def final(lr):
        return np.linalg.norm(
            gradient_descent(lambda x: A @ x - b, x0, lr, 1500)[-1] - x_star
        )

    assert final(0.99 * 2 / lam_max) < 1e-6 * e0
    assert final(1.01 * 2 / lam_max) > 1e3 * e0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_momentum_matches_the_heavy_ball_recurrence(beta, seed):
    rng = np.random.default_rng(seed)
    A, b, _ = quadratic(rng, 4)
    x0 = rng.standard_normal(4)
    lr = 0.05
    path = gradient_descent(lambda x: A @ x - b, x0, lr, 40, momentum=beta)
    prev, x = x0.copy(), x0.copy()
    for k in range(40):
        x, prev = x - lr * (A @ x - b) + beta * (x - prev), x
        np.testing.assert_allclose(path[k + 1], x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 2, 2)])
def test_gd_keeps_the_shape_and_does_not_modify_x0(shape):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape)
    keep = x0.copy()
    path = gradient_descent(lambda x: 2 * x, x0, 0.25, 3)
    assert path.shape == (4,) + shape
    np.testing.assert_array_equal(x0, keep)
    np.testing.assert_allclose(path[3], 0.5**3 * x0, rtol=1e-15)


def test_gd_zero_steps_returns_the_start():
    path = gradient_descent(lambda x: x, [1.0, 2.0], 0.1, 0)
    np.testing.assert_array_equal(path, [[1.0, 2.0]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=0.0), "learning rate must be positive"),
        (dict(lr=-0.1), "learning rate must be positive"),
        (dict(lr=np.nan), "learning rate must be positive"),
        (dict(lr=np.inf), "learning rate must be positive"),
        (dict(lr=True), "learning rate must be a number"),
        (dict(lr="0.1"), "learning rate must be a number"),
        (dict(momentum=1.0), r"momentum must be in \[0, 1\)"),
        (dict(momentum=-0.1), r"momentum must be in \[0, 1\)"),
        (dict(n_steps=-1), "non-negative int"),
        (dict(n_steps=2.0), "non-negative int"),
        (dict(n_steps=True), "non-negative int"),
    ],
)
def test_gd_rejects_bad_arguments(kwargs, match):
    args = dict(grad=lambda x: x, x0=[1.0], lr=0.1, n_steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        gradient_descent(**args)


def test_gd_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"grad returned shape \(3,\)"):
        gradient_descent(lambda x: np.ones(3), np.zeros(2), 0.1, 2)
    with pytest.raises(ValueError, match="grad returned shape"):
        gradient_descent(lambda x: np.ones((2, 1)), np.zeros(2), 0.1, 2)


def test_gd_rejects_a_non_finite_start():
    with pytest.raises(ValueError, match="x0 contains NaN"):
        gradient_descent(lambda x: x, [1.0, np.nan], 0.1, 2)


def test_gd_accepts_numpy_integer_steps():
    path = gradient_descent(lambda x: x, [1.0], 0.5, np.int64(2))
    assert path.shape == (3, 1)


# --------------------------------------------------------------------------
# heavy_ball_parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lam_min, lam_max", [(1.0, 1.0), (1.0, 4.0), (0.5, 50.0), (2.0, 2e4)]
)
def test_heavy_ball_spectral_radius_is_sqrt_beta(lam_min, lam_max):
    lr, beta = heavy_ball_parameters(lam_min, lam_max)
    kappa = lam_max / lam_min
    assert np.isclose(
        np.sqrt(beta),
        (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1),
        rtol=1e-12,
        atol=1e-15,
    )
    for lam in np.linspace(lam_min, lam_max, 101):
        T = np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])
        radius = np.max(np.abs(np.linalg.eigvals(T)))
        # double roots at the endpoints move by ~sqrt(eps)
        assert abs(radius - np.sqrt(beta)) <= 1e-7


@pytest.mark.parametrize("seed", SEEDS)
def test_heavy_ball_beats_gd_on_an_ill_conditioned_quadratic(seed):
    rng = np.random.default_rng(seed)
    A, b, x_star = quadratic(rng, 20, kappa=400.0)
    lam = np.linalg.eigvalsh(A)
    lr, beta = heavy_ball_parameters(lam[0], lam[-1])
    x0 = np.zeros(20)
    hb = gradient_descent(lambda x: A @ x - b, x0, lr, 400, momentum=beta)
    gd = gradient_descent(lambda x: A @ x - b, x0, 2 / (lam[0] + lam[-1]), 400)
    e_hb = np.linalg.norm(hb[-1] - x_star)
    e_gd = np.linalg.norm(gd[-1] - x_star)
    # predicted factors: (19/21)^400 ~ 4e-18 vs (399/401)^400 ~ 0.14
    assert e_hb < 1e-8 * np.linalg.norm(x_star)
    assert e_gd > 1e-3 * np.linalg.norm(x_star)


@pytest.mark.parametrize(
    "lam_min, lam_max", [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0), (1.0, np.inf)]
)
def test_heavy_ball_parameters_reject_bad_bounds(lam_min, lam_max):
    with pytest.raises(ValueError, match="need 0 < lam_min <= lam_max"):
        heavy_ball_parameters(lam_min, lam_max)


# --------------------------------------------------------------------------
# minibatch_indices and sgd
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, B", [(1, 1), (10, 3), (50, 50), (1000, 32)])
def test_minibatch_indices_are_distinct_and_in_range(n, B, seed):
    idx = minibatch_indices(n, B, np.random.default_rng(seed))
    assert idx.shape == (B,)
    assert len(set(idx.tolist())) == B
    assert idx.min() >= 0 and idx.max() < n


@pytest.mark.parametrize("seed", SEEDS)
def test_minibatch_inclusion_probability_is_b_over_n(seed):
    rng = np.random.default_rng(seed)
    n, B, reps = 20, 5, 20000
    counts = np.zeros(n)
    for _ in range(reps):
        counts[minibatch_indices(n, B, rng)] += 1
    p = B / n
    se = np.sqrt(p * (1 - p) / reps)
    # 20 binomial proportions, each within 4.5 standard errors
    assert np.all(np.abs(counts / reps - p) <= 4.5 * se)


@pytest.mark.parametrize("seed", SEEDS)
def test_minibatch_gradient_variance_formula(seed):
    rng = np.random.default_rng(seed)
    N, B, reps = 40, 10, 20000
    G = rng.standard_normal((N, 2))
    g_bar = G.mean(0)
    sigma2 = np.mean(np.sum((G - g_bar) ** 2, 1))
    sq = np.array(
        [
            np.sum((G[minibatch_indices(N, B, rng)].mean(0) - g_bar) ** 2)
            for _ in range(reps)
        ]
    )
    expected = sigma2 / B * (N - B) / (N - 1)
    assert abs(sq.mean() - expected) <= 4 * sq.std(ddof=1) / np.sqrt(reps)


@pytest.mark.parametrize("seed", SEEDS)
def test_sgd_with_the_full_batch_is_gradient_descent(seed):
    rng = np.random.default_rng(seed)
    N, D = 30, 4
    X, y = rng.standard_normal((N, D)), rng.standard_normal(N)

    def grad_batch(w, idx):
        # a sum in index order, so that every permutation gives the same
        # floating-point result up to reordering error
        Xb = X[np.sort(idx)]
        return Xb.T @ (Xb @ w - y[np.sort(idx)]) / len(idx)

    w0 = rng.standard_normal(D)
    full = gradient_descent(
        lambda w: X.T @ (X @ w - y) / N, w0, 0.05, 50, momentum=0.5
    )
    stoch = sgd(grad_batch, w0, 0.05, 50, N, N, rng, momentum=0.5)
    np.testing.assert_allclose(stoch, full, rtol=1e-12, atol=1e-12)


def test_sgd_is_reproducible_and_uses_the_batches_it_draws():
    data = np.arange(10.0)
    seen = []

    def grad_batch(x, idx):
        seen.append(np.array(idx))
        return x - data[idx].mean(keepdims=True)

    p1 = sgd(grad_batch, [0.0], 0.1, 5, 3, 10, np.random.default_rng(7))
    batches = seen.copy()
    p2 = sgd(grad_batch, [0.0], 0.1, 5, 3, 10, np.random.default_rng(7))
    np.testing.assert_array_equal(p1, p2)
    rng = np.random.default_rng(7)
    for b in batches:
        np.testing.assert_array_equal(b, minibatch_indices(10, 3, rng))


@pytest.mark.parametrize("seed", SEEDS)
def test_sgd_converges_on_average_for_least_squares(seed):
    rng = np.random.default_rng(seed)
    N, D = 500, 3
    X = rng.standard_normal((N, D))
    w_true = rng.standard_normal(D)
    y = X @ w_true  # no noise: every example agrees on the minimiser

    def grad_batch(w, idx):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)

    path = sgd(grad_batch, np.zeros(D), 0.1, 400, 8, N, rng)
    # without noise at the optimum SGD converges linearly
    np.testing.assert_allclose(path[-1], w_true, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_size=0), "batch_size must be between 1 and n_data"),
        (dict(batch_size=11), "batch_size must be between 1 and n_data"),
        (dict(batch_size=2.0), "batch_size must be a positive int"),
        (dict(n_data=0, batch_size=1), "n_data must be a positive int"),
        (dict(lr=0.0), "learning rate must be positive"),
        (dict(momentum=1.5), r"momentum must be in \[0, 1\)"),
        (dict(n_steps=-2), "non-negative int"),
    ],
)
def test_sgd_rejects_bad_arguments(kwargs, match):
    args = dict(
        grad_batch=lambda x, idx: x,
        x0=[1.0],
        lr=0.1,
        n_steps=3,
        batch_size=2,
        n_data=10,
        rng=np.random.default_rng(0),
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sgd(**args)


def test_sgd_rejects_a_seed_for_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random"):
        sgd(lambda x, idx: x, [1.0], 0.1, 3, 2, 10, rng=0)


def test_sgd_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="grad_batch returned shape"):
        sgd(
            lambda x, idx: np.ones(2),
            [1.0],
            0.1,
            2,
            1,
            5,
            np.random.default_rng(0),
        )


def test_minibatch_indices_reject_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="between 1 and n_data"):
        minibatch_indices(5, 6, rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        minibatch_indices(5, 2, np.random.RandomState(0))


# --------------------------------------------------------------------------
# ema, rmsprop and adam
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_ema_matches_the_weighted_sum(beta, shape, seed):
    rng = np.random.default_rng(seed)
    T = 30
    g = rng.standard_normal((T,) + shape)
    raw = ema(g, beta, bias_correction=False)
    corrected = ema(g, beta)
    for t in range(1, T + 1):
        w = (1 - beta) * beta ** (t - np.arange(1, t + 1))
        expected = np.tensordot(w, g[:t], axes=1)
        np.testing.assert_allclose(
            raw[t - 1], expected, rtol=1e-10, atol=1e-14
        )
        np.testing.assert_allclose(
            corrected[t - 1], expected / (1 - beta**t), rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.999])
def test_ema_of_a_constant_is_exact_after_correction(beta):
    g = np.tile([0.25, -3.0, 7.5], (100, 1))
    np.testing.assert_allclose(ema(g, beta), g, rtol=1e-12)
    t = np.arange(1, 101)[:, None]
    np.testing.assert_allclose(
        ema(g, beta, bias_correction=False), (1 - beta**t) * g, rtol=1e-12
    )


def test_ema_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        ema([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="at least 1-D"):
        ema(1.0, 0.5)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1,), (4,), (2, 3)])
def test_adam_first_step_is_lr_per_coordinate(shape, seed):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)
    x0 = rng.standard_normal(shape)
    lr = 0.01
    path = adam(lambda x: G, x0, lr, 1, eps=0.0)
    np.testing.assert_allclose(path[1] - x0, -lr * np.sign(G), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_matches_a_direct_implementation(seed):
    rng = np.random.default_rng(seed)
    A, b, _ = quadratic(rng, 6)
    x0 = rng.standard_normal(6)
    lr, b1, b2, eps = 0.02, 0.8, 0.99, 1e-6
    path = adam(lambda x: A @ x - b, x0, lr, 60, beta1=b1, beta2=b2, eps=eps)
    x, m, v = x0.copy(), np.zeros(6), np.zeros(6)
    for t in range(1, 61):
        g = A @ x - b
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(path[t], x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_is_invariant_to_scaling_the_loss(seed):
    rng = np.random.default_rng(seed)
    A, b, _ = quadratic(rng, 5)
    x0 = rng.standard_normal(5)
    p1 = adam(lambda x: A @ x - b, x0, 0.05, 80, eps=0.0)
    p2 = adam(lambda x: 1e4 * (A @ x - b), x0, 0.05, 80, eps=0.0)
    np.testing.assert_allclose(p2, p1, rtol=1e-9, atol=1e-12)


def test_adam_steps_on_a_linear_function_are_constant():
    c = np.array([1e-4, -2.0, 30.0])
    steps = np.diff(adam(lambda x: c, np.zeros(3), 0.1, 25), axis=0)
    np.testing.assert_allclose(
        steps, np.tile(-0.1 * c / (np.abs(c) + 1e-8), (25, 1)), rtol=1e-10
    )


def test_adam_without_bias_correction_overshoots_at_first():
    c = np.array([3.0, -1.0])
    first = adam(
        lambda x: c, np.zeros(2), 0.1, 1, eps=0.0, bias_correction=False
    )[1]
    np.testing.assert_allclose(
        first, -0.1 * (0.1 / np.sqrt(0.001)) * np.sign(c), rtol=1e-12
    )


def test_adam_zero_gradient_gives_no_step_even_with_eps_zero():
    path = adam(lambda x: np.zeros_like(x), [1.0, 2.0], 0.1, 3, eps=0.0)
    np.testing.assert_array_equal(path, np.tile([1.0, 2.0], (4, 1)))


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_reaches_the_minimiser_of_a_badly_scaled_quadratic(seed):
    rng = np.random.default_rng(seed)
    d = 10.0 ** np.linspace(0, 3, 6)  # axis-aligned, kappa = 1000
    x_star = rng.standard_normal(6)
    path = adam(lambda x: d * (x - x_star), np.zeros(6), 0.05, 1500)
    np.testing.assert_allclose(path[-1], x_star, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(beta1=1.0), r"beta1 must be in \[0, 1\)"),
        (dict(beta1=-0.5), r"beta1 must be in \[0, 1\)"),
        (dict(beta2=1.0), r"beta2 must be in \[0, 1\)"),
        (dict(beta2="0.9"), "beta2 must be a number"),
        (dict(eps=-1e-8), "eps must be a non-negative number"),
        (dict(lr=-1.0), "learning rate must be positive"),
        (dict(n_steps=1.5), "non-negative int"),
    ],
)
def test_adam_rejects_bad_arguments(kwargs, match):
    args = dict(grad=lambda x: x, x0=[1.0], lr=0.1, n_steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        adam(**args)


def test_adam_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="grad returned shape"):
        adam(lambda x: np.ones(4), np.zeros(3), 0.1, 2)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 0.99])
def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_rho(rho):
    rng = np.random.default_rng(0)
    G = rng.standard_normal(5) * 100
    path = rmsprop(lambda x: G, np.zeros(5), 0.01, 1, rho=rho, eps=0.0)
    np.testing.assert_allclose(
        path[1], -0.01 / np.sqrt(1 - rho) * np.sign(G), rtol=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_rmsprop_matches_a_direct_implementation(seed):
    rng = np.random.default_rng(seed)
    A, b, _ = quadratic(rng, 4)
    x0 = rng.standard_normal(4)
    path = rmsprop(lambda x: A @ x - b, x0, 0.01, 40, rho=0.8, eps=1e-6)
    x, s = x0.copy(), np.zeros(4)
    for t in range(40):
        g = A @ x - b
        s = 0.8 * s + 0.2 * g * g
        x = x - 0.01 * g / (np.sqrt(s) + 1e-6)
        np.testing.assert_allclose(path[t + 1], x, rtol=1e-12, atol=1e-14)


def test_rmsprop_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\)"):
        rmsprop(lambda x: x, [1.0], 0.1, 2, rho=1.0)
    with pytest.raises(ValueError, match="eps must be a non-negative"):
        rmsprop(lambda x: x, [1.0], 0.1, 2, eps=np.nan)
    with pytest.raises(ValueError, match="grad returned shape"):
        rmsprop(lambda x: np.ones(2), [1.0], 0.1, 2)


# --------------------------------------------------------------------------
# newton
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, kappa", [(1, 1.0), (4, 10.0), (15, 1e6)])
def test_newton_solves_a_quadratic_in_one_step(n, kappa, seed):
    rng = np.random.default_rng(seed)
    A, b, x_star = quadratic(rng, n, kappa)
    path = newton(
        lambda x: A @ x - b, lambda x: A, 10 * rng.standard_normal(n), 1
    )
    assert path.shape == (2, n)
    bound = 100 * np.linalg.cond(A) * EPS * (1 + np.linalg.norm(x_star))
    assert np.linalg.norm(path[1] - x_star) <= bound


def test_newton_converges_quadratically_in_1d():
    path = newton(lambda x: np.exp(x) - 2.0, lambda x: np.exp(x), 3.0, 8)
    assert path.shape == (9,)
    e = path - np.log(2.0)
    keep = np.abs(e[:-1]) > 1e-7
    ratios = e[1:][keep] / e[:-1][keep] ** 2
    assert np.all(ratios <= 0.5)  # e^xi / (2 e^x_k) with xi < x_k
    assert abs(ratios[-1] - 0.5) < 1e-3
    assert abs(e[-1]) <= 4 * EPS


@pytest.mark.parametrize("seed", SEEDS)
def test_newton_minimises_a_logistic_loss(seed):
    rng = np.random.default_rng(seed)
    N = 100
    X = np.column_stack([np.ones(N), rng.standard_normal((N, 2))])
    y = (rng.random(N) < 0.5).astype(float)

    def loss(w):
        z = X @ w
        return np.mean(np.logaddexp(0, z) - y * z)

    def grad(w):
        return X.T @ (1 / (1 + np.exp(-X @ w)) - y) / N

    def hess(w):
        p = 1 / (1 + np.exp(-X @ w))
        return (X.T * (p * (1 - p))) @ X / N

    path = newton(grad, hess, np.zeros(3), 12)
    ref = scipy.optimize.minimize(
        loss, np.zeros(3), jac=grad, method="BFGS", options={"gtol": 1e-10}
    )
    np.testing.assert_allclose(path[-1], ref.x, atol=1e-7)
    assert np.linalg.norm(grad(path[-1])) < 1e-13


def test_newton_rejects_bad_arguments():
    A = np.eye(2)
    with pytest.raises(ValueError, match=r"hess returned shape \(3, 3\)"):
        newton(lambda x: x, lambda x: np.eye(3), [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="the Hessian is singular"):
        newton(lambda x: x, lambda x: np.zeros((2, 2)), [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="x0 must be a scalar or 1-D"):
        newton(lambda x: x, lambda x: A, np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="grad returned shape"):
        newton(lambda x: np.ones(3), lambda x: A, [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="non-negative int"):
        newton(lambda x: x, lambda x: A, [1.0, 2.0], -1)


# --------------------------------------------------------------------------
# solve_qp_kkt
# --------------------------------------------------------------------------


def random_qp(rng, n, m):
    """A feasible QP whose unconstrained minimiser is often infeasible."""
    M = rng.standard_normal((n, n))
    P = M @ M.T + 0.5 * np.eye(n)
    q = 3 * rng.standard_normal(n)
    G = rng.standard_normal((m, n))
    h = G @ rng.standard_normal(n) * 0.1 + rng.uniform(0.1, 1.0, m)
    return P, q, G, h


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n, m", [(1, 1), (2, 3), (3, 5), (5, 8)])
def test_qp_satisfies_kkt_and_matches_slsqp(n, m, seed):
    rng = np.random.default_rng(seed)
    P, q, G, h = random_qp(rng, n, m)
    x, mu = solve_qp_kkt(P, q, G, h)
    assert x.shape == (n,) and mu.shape == (m,)
    slack = G @ x - h
    scale = 1 + np.abs(q).max() + np.abs(h).max()
    np.testing.assert_allclose(P @ x + q + G.T @ mu, 0, atol=1e-9 * scale)
    assert np.all(mu >= 0)
    assert np.all(slack <= 1e-9 * scale)
    np.testing.assert_allclose(mu * slack, 0, atol=1e-9 * scale)
    ref = scipy.optimize.minimize(
        lambda z: 0.5 * z @ P @ z + q @ z,
        np.zeros(n),
        jac=lambda z: P @ z + q,
        method="SLSQP",
        constraints=[
            {"type": "ineq", "fun": lambda z: h - G @ z, "jac": lambda z: -G}
        ],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert ref.success
    f = lambda z: 0.5 * z @ P @ z + q @ z  # noqa: E731
    # the KKT point is the global minimiser: never worse than SLSQP
    assert f(x) <= f(ref.x) + 1e-9 * scale
    np.testing.assert_allclose(x, ref.x, atol=1e-5 * scale)


def test_qp_with_an_interior_minimiser_has_zero_multipliers():
    P = np.diag([2.0, 1.0])
    x, mu = solve_qp_kkt(P, [-2.0, -1.0], np.eye(2), [5.0, 5.0])
    np.testing.assert_allclose(x, [1.0, 1.0], rtol=1e-14)
    np.testing.assert_array_equal(mu, [0.0, 0.0])


def test_qp_projection_onto_the_nonnegative_orthant():
    y = np.array([1.5, -2.0, 0.3, -0.1])
    x, mu = solve_qp_kkt(np.eye(4), -y, -np.eye(4), np.zeros(4))
    np.testing.assert_allclose(x, np.maximum(y, 0), atol=1e-15)
    np.testing.assert_allclose(mu, np.maximum(-y, 0), atol=1e-15)


def test_qp_with_redundant_active_constraints():
    # the same constraint twice: its multiplier is not unique, x is
    x, mu = solve_qp_kkt(
        np.eye(2), [-2.0, 0.0], [[1.0, 0.0], [1.0, 0.0]], [1.0, 1.0]
    )
    np.testing.assert_allclose(x, [1.0, 0.0], atol=1e-14)
    np.testing.assert_allclose(mu.sum(), 1.0, rtol=1e-14)


@pytest.mark.parametrize(
    "args, match",
    [
        (([[1.0, 1.0], [0.0, 1.0]], [0, 0], [[1, 0]], [1]), "symmetric"),
        (
            ([[1.0, 0.0], [0.0, -1.0]], [0, 0], [[1, 0]], [1]),
            "positive definite",
        ),
        (([[1.0]], [0, 0], [[1, 0]], [1]), r"P must have shape \(2, 2\)"),
        ((np.eye(2), [0, 0], [[1, 0, 0]], [1]), "G must have shape"),
        ((np.eye(2), [0, 0], [[1, 0]], [1, 2]), "G must have shape"),
        ((np.eye(2), [0, np.nan], [[1, 0]], [1]), "q contains NaN"),
        (
            (np.eye(1), [0.0], np.ones((21, 1)), np.ones(21)),
            "at most 20 constraints",
        ),
        (
            (np.eye(1), [0.0], [[1.0], [-1.0]], [-1.0, -1.0]),
            "cannot be satisfied",
        ),
    ],
)
def test_qp_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        solve_qp_kkt(*args)
