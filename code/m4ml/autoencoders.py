"""Autoencoders and variational autoencoders.

The code of the chapter *Autoencoders and variational autoencoders*
(``book/deep_learning/autoencoders.md``):

- a linear autoencoder, trained by gradient descent with
  :func:`m4ml.mlp.train`, whose optimum spans the principal subspace;
- the closed-form evidence lower bound (ELBO) of a linear-Gaussian
  latent-variable model, in which every term of
  ``log p(x) = ELBO + KL(q || p(z | x))`` can be computed exactly;
- the score-function (REINFORCE) and reparameterisation estimators of the
  gradient of a Gaussian expectation;
- a variational autoencoder (VAE) with a Bernoulli decoder, built from the
  layers of :mod:`m4ml.mlp`, with the backward pass through the
  reparameterisation ``z = mu + exp(log_var / 2) * eps`` written by hand,
  and trained with :func:`m4ml.optimization.adam`.

Rows are examples throughout: a batch is an ``(N, D)`` array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from m4ml.calculus import sigmoid
from m4ml.mlp import Affine, Sequential, init_mlp, train
from m4ml.optimization import adam
from m4ml.validation import check_generator

__all__ = [
    "assign_parameters",
    "flatten_parameters",
    "gaussian_kl_to_standard_normal",
    "init_vae",
    "linear_autoencoder",
    "linear_gaussian_elbo",
    "reparameterisation_gradient",
    "score_function_gradient",
    "squared_error",
    "train_linear_autoencoder",
    "train_vae",
    "vae_importance_log_likelihood",
    "vae_negative_elbo",
]


def _finite(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _data(X, name: str = "X") -> np.ndarray:
    X = _finite(X, name)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"{name} must be a non-empty 2-D array, got {X.shape}"
        )
    return X


def gaussian_kl_to_standard_normal(mu, log_var):
    """``KL(N(mu, diag(exp(log_var))) || N(0, I))``, one value per row.

    For a diagonal Gaussian with means ``mu_j`` and variances
    ``exp(log_var_j)``, ::

        KL = (1/2) sum_j (exp(log_var_j) + mu_j**2 - 1 - log_var_j),

    the special case of the Gaussian divergence with ``N(0, I)`` second.
    The variance enters through its logarithm, as a VAE encoder outputs it.

    Parameters
    ----------
    mu, log_var : array_like, shape (k,) or (N, k)
        Means and log-variances, finite, of the same shape.

    Returns
    -------
    float or numpy.ndarray of shape (N,)
        The divergence in nats, per row for 2-D input.

    Raises
    ------
    ValueError
        If the shapes differ, are not 1-D or 2-D, or a value is not finite.

    Examples
    --------
    >>> gaussian_kl_to_standard_normal([0.0, 0.0], [0.0, 0.0])
    0.0
    >>> gaussian_kl_to_standard_normal([[1.0], [0.0]], [[0.0], [np.log(2)]])
    array([0.5       , 0.15342641])
    """
    m = _finite(mu, "mu")
    lv = _finite(log_var, "log_var")
    if m.shape != lv.shape:
        raise ValueError(
            f"mu and log_var must have the same shape, got {m.shape} and "
            f"{lv.shape}"
        )
    if m.ndim not in (1, 2) or m.shape[-1] == 0:
        raise ValueError(f"mu must have shape (k,) or (N, k), got {m.shape}")
    kl = 0.5 * np.sum(np.exp(lv) + m**2 - 1.0 - lv, axis=-1)
    return float(kl) if m.ndim == 1 else kl


# --------------------------------------------------------------------------
# Linear autoencoders


def squared_error(outputs, targets) -> tuple[float, np.ndarray]:
    """Mean squared reconstruction error per row, and its gradient.

    ``L = (1/N) sum_n ||y_n - t_n||^2`` for outputs ``y_n`` and targets
    ``t_n``, with gradient ``dL/dY = 2 (Y - T) / N``; the pair has the
    form that :func:`m4ml.mlp.train` expects of a loss.

    Examples
    --------
    >>> loss, grad = squared_error([[1.0, 2.0]], [[0.0, 0.0]])
    >>> loss, grad.tolist()
    (5.0, [[2.0, 4.0]])
    """
    Y = _data(outputs, "outputs")
    T = _data(targets, "targets")
    if Y.shape != T.shape:
        raise ValueError(
            f"outputs {Y.shape} and targets {T.shape} differ in shape"
        )
    R = Y - T
    return float(np.sum(R**2) / len(Y)), 2.0 * R / len(Y)


def linear_autoencoder(
    D: int, k: int, rng: np.random.Generator, scale: float = 0.1
) -> Sequential:
    """A linear autoencoder ``x -> (x E + c) F + d`` with a k-wide code.

    Two :class:`m4ml.mlp.Affine` layers and no nonlinearity between
    them: the encoder ``E`` is ``(D, k)``, the decoder ``F`` is
    ``(k, D)``, both with entries ``N(0, scale**2)``; biases start at 0.

    Examples
    --------
    >>> ae = linear_autoencoder(5, 2, np.random.default_rng(0))
    >>> [layer.params["W"].shape for layer in ae.layers]
    [(5, 2), (2, 5)]
    """
    D, k = int(D), int(k)
    if not 1 <= k <= D:
        raise ValueError(f"need 1 <= k <= D, got k = {k}, D = {D}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    rng = check_generator(rng)
    E = scale * rng.standard_normal((D, k))
    F = scale * rng.standard_normal((k, D))
    return Sequential([Affine(E), Affine(F)])


def train_linear_autoencoder(
    X,
    k: int,
    rng: np.random.Generator,
    lr: float,
    n_epochs: int,
    batch_size: int | None = None,
    scale: float = 0.1,
) -> tuple[Sequential, dict[str, list[float]]]:
    """Fit a linear autoencoder to ``X`` by gradient descent.

    The model of :func:`linear_autoencoder` is trained with
    :func:`m4ml.mlp.train` on the loss :func:`squared_error`, with the
    inputs as their own targets. With the default ``batch_size=None``
    every step uses all rows (full-batch gradient descent).

    Parameters
    ----------
    X : array_like, shape (N, D)
        The data; centre it first to compare with PCA.
    k : int
        The width of the code, ``1 <= k <= D``.
    rng : numpy.random.Generator
        Source of the initial weights and of the shuffling.
    lr : float
        The learning rate.
    n_epochs : int
        Passes over the data.
    batch_size : int, optional
        Rows per step; all of them if omitted.
    scale : float
        Standard deviation of the initial weights.

    Returns
    -------
    model : Sequential
        The trained autoencoder; ``model.layers[1].params["W"]`` is the
        decoder, whose rows span the learned subspace.
    history : dict
        ``"train"``: the mean squared error of every epoch.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3)) * [3.0, 1.0, 0.1]
    >>> ae, hist = train_linear_autoencoder(X - X.mean(0), 1, rng, 0.05,
    ...                                     300)
    >>> bool(hist["train"][-1] < 1.1 * np.sum(np.var(X, 0)[1:]))
    True
    """
    X = _data(X)
    rng = check_generator(rng)
    model = linear_autoencoder(X.shape[1], k, rng, scale)
    bs = len(X) if batch_size is None else int(batch_size)
    history = train(
        model, X, X, rng, lr, n_epochs, batch_size=bs, loss=squared_error
    )
    return model, history


# --------------------------------------------------------------------------
# The ELBO of a linear-Gaussian model


def linear_gaussian_elbo(x, W, b, sigma2: float, m, S) -> float:
    """The ELBO of ``q = N(m, S)`` in a linear-Gaussian model, exactly.

    The model is ``z ~ N(0, I_k)`` and ``x | z ~ N(W z + b, sigma2 I_D)``.
    For a Gaussian ``q(z) = N(m, S)`` both terms of
    ``ELBO = E_q[log p(x | z)] - KL(q || p(z))`` have closed forms: ::

        E_q[log p(x | z)] = -(D/2) log(2 pi sigma2)
                            - (||x - W m - b||^2 + tr(W S W^T)) / (2 sigma2)
        KL(q || p(z)) = (1/2) (tr S + m^T m - k - log det S).

    Parameters
    ----------
    x : array_like, shape (D,)
        One observation.
    W : array_like, shape (D, k)
        The loading matrix.
    b : array_like, shape (D,)
        The offset.
    sigma2 : float
        The noise variance, positive.
    m : array_like, shape (k,)
        The mean of ``q``.
    S : array_like, shape (k, k)
        The covariance of ``q``, symmetric positive definite.

    Returns
    -------
    float
        The ELBO in nats.

    Raises
    ------
    ValueError
        For mismatched shapes, ``sigma2 <= 0`` or ``S`` not positive
        definite.

    Examples
    --------
    >>> # D = k = 1, W = 0: x ~ N(0, 1) whatever q is, and q = p(z) is exact
    >>> elbo = linear_gaussian_elbo([0.0], [[0.0]], [0.0], 1.0, [0.0], [[1.0]])
    >>> round(elbo, 6), round(-0.5 * math.log(2 * math.pi), 6)
    (-0.918939, -0.918939)
    """
    x = _finite(x, "x")
    W = _finite(W, "W")
    b = _finite(b, "b")
    m = _finite(m, "m")
    S = _finite(S, "S")
    if x.ndim != 1 or W.ndim != 2 or W.shape[0] != x.size:
        raise ValueError(
            f"need x of shape (D,) and W of shape (D, k); got {x.shape} and "
            f"{W.shape}"
        )
    D, k = W.shape
    if b.shape != (D,) or m.shape != (k,) or S.shape != (k, k):
        raise ValueError(
            f"need b ({D},), m ({k},) and S ({k}, {k}); got {b.shape}, "
            f"{m.shape} and {S.shape}"
        )
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be positive, got {sigma2!r}")
    if not np.allclose(S, S.T, rtol=1e-12, atol=1e-14):
        raise ValueError("S must be symmetric")
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        raise ValueError("S must be positive definite") from None
    r = x - W @ m - b
    WL = W @ L  # tr(W S W^T) = ||W L||_F^2
    expected_loglik = -0.5 * D * math.log(2 * math.pi * sigma2) - (
        r @ r + np.sum(WL**2)
    ) / (2 * sigma2)
    log_det_S = 2.0 * np.sum(np.log(np.diag(L)))
    kl_prior = 0.5 * (np.trace(S) + m @ m - k - log_det_S)
    return float(expected_loglik - kl_prior)


# --------------------------------------------------------------------------
# Two gradient estimators


def _location_scale(mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    m = np.atleast_1d(_finite(mu, "mu"))
    s = np.atleast_1d(_finite(sigma, "sigma"))
    if m.ndim != 1 or m.shape != s.shape:
        raise ValueError(
            f"mu and sigma must be scalars or 1-D of one shape, got "
            f"{m.shape} and {s.shape}"
        )
    if not np.all(s > 0):
        raise ValueError("sigma must be positive")
    return m, s


def _draws(n, rng, d) -> np.ndarray:
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    return check_generator(rng).standard_normal((n, d))


def score_function_gradient(
    f: Callable[[np.ndarray], np.ndarray],
    mu,
    sigma,
    n: int,
    rng: np.random.Generator,
    baseline: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Score-function (REINFORCE) estimates of a Gaussian gradient.

    For ``J(mu, sigma) = E[f(z)]``, ``z ~ N(mu, diag(sigma**2))``, the
    identity ``grad J = E[(f(z) - c) grad log q(z)]`` (any constant ``c``,
    the baseline) gives one unbiased estimate per draw
    ``z = mu + sigma * eps``: ::

        d/dmu:    (f(z) - c) * eps / sigma
        d/dsigma: (f(z) - c) * (eps**2 - 1) / sigma

    Only values of ``f`` are needed, never its derivative.

    Parameters
    ----------
    f : callable
        Maps an ``(n, d)`` array of points to ``n`` values.
    mu, sigma : float or array_like, shape (d,)
        Means and standard deviations (positive) of the Gaussian.
    n : int
        The number of draws.
    rng : numpy.random.Generator
        Source of the draws.
    baseline : float
        The constant ``c`` subtracted from ``f``.

    Returns
    -------
    g_mu, g_sigma : numpy.ndarray, shape (n, d)
        One estimate per draw; their column means estimate the gradient.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g_mu, g_s = score_function_gradient(
    ...     lambda z: np.sum(z**2, axis=1), 1.0, 1.0, 200_000, rng)
    >>> np.round([g_mu.mean(), g_s.mean()], 1)  # exact: 2 mu, 2 sigma
    array([2., 2.])
    """
    m, s = _location_scale(mu, sigma)
    eps = _draws(n, rng, m.size)
    values = np.asarray(f(m + s * eps), dtype=np.float64)
    if values.shape != (eps.shape[0],):
        raise ValueError(
            f"f must return shape ({eps.shape[0]},), got {values.shape}"
        )
    w = (values - float(baseline))[:, None]
    return w * eps / s, w * (eps**2 - 1.0) / s


def reparameterisation_gradient(
    grad_f: Callable[[np.ndarray], np.ndarray],
    mu,
    sigma,
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Reparameterisation (pathwise) estimates of a Gaussian gradient.

    Writing ``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` moves the
    parameters inside the expectation, ``J = E_eps[f(mu + sigma * eps)]``,
    and the chain rule gives one unbiased estimate per draw: ::

        d/dmu:    grad f(z)
        d/dsigma: grad f(z) * eps

    Parameters
    ----------
    grad_f : callable
        Maps an ``(n, d)`` array of points to the ``(n, d)`` gradients of
        ``f`` at them.
    mu, sigma, n, rng
        As in :func:`score_function_gradient`.

    Returns
    -------
    g_mu, g_sigma : numpy.ndarray, shape (n, d)
        One estimate per draw.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g_mu, g_s = reparameterisation_gradient(
    ...     lambda z: 2 * z, 1.0, 1.0, 20_000, rng)
    >>> np.round([g_mu.mean(), g_s.mean()], 1)  # exact: 2 mu, 2 sigma
    array([2., 2.])
    """
    m, s = _location_scale(mu, sigma)
    eps = _draws(n, rng, m.size)
    g = np.asarray(grad_f(m + s * eps), dtype=np.float64)
    if g.shape != eps.shape:
        raise ValueError(
            f"grad_f must return shape {eps.shape}, got {g.shape}"
        )
    return g, g * eps


# --------------------------------------------------------------------------
# Variational autoencoders


def init_vae(
    D: int, k: int, hidden: int, rng: np.random.Generator
) -> tuple[Sequential, Sequential]:
    """An encoder ``D -> hidden -> 2k`` and a decoder ``k -> hidden -> D``.

    Both are :func:`m4ml.mlp.init_mlp` networks with one ``tanh`` hidden
    layer (smooth, so finite differences can check the gradients) and
    Xavier initial weights. The encoder's ``2k`` outputs are the means
    and the log-variances of ``q(z | x)``; the decoder outputs logits.

    Examples
    --------
    >>> enc, dec = init_vae(64, 2, 16, np.random.default_rng(0))
    >>> enc.n_parameters(), dec.n_parameters()
    (1108, 1136)
    """
    D, k, hidden = int(D), int(k), int(hidden)
    if min(D, k, hidden) < 1:
        raise ValueError("D, k and hidden must be positive")
    rng = check_generator(rng)
    encoder = init_mlp([D, hidden, 2 * k], rng, "tanh", "xavier")
    decoder = init_mlp([k, hidden, D], rng, "tanh", "xavier")
    return encoder, decoder


def _binary(X) -> np.ndarray:
    X = _data(X)
    if not np.all((X == 0) | (X == 1)):
        raise ValueError("X must hold binary data, zeros and ones")
    return X


def vae_negative_elbo(
    encoder: Sequential,
    decoder: Sequential,
    X,
    eps,
    backward: bool = True,
) -> tuple[float, float, float]:
    """The mean negative ELBO of a Bernoulli VAE, and its gradients.

    For each row ``x`` the encoder gives ``(mu, log_var)``, the noise row
    ``eps`` gives ``z = mu + exp(log_var / 2) * eps``, and the decoder
    gives logits ``l``. The one-sample negative ELBO is ::

        -log p(x | z) + KL(q(z | x) || N(0, I)),
        -log p(x | z) = sum_j softplus(l_j) - x_j l_j.

    With ``backward=True`` the gradient of the batch mean is propagated
    by hand: ``dl = sigmoid(l) - x``, the decoder returns ``dz``, and
    through the reparameterisation ::

        dmu = dz + mu,
        dlog_var = dz * eps * exp(log_var / 2) / 2 + (exp(log_var) - 1) / 2,

    (the second terms from the KL), after which the encoder's backward
    pass stores every parameter gradient in the layers' ``grads``.

    Parameters
    ----------
    encoder, decoder : Sequential
        As made by :func:`init_vae`.
    X : array_like, shape (N, D)
        Binary data.
    eps : array_like, shape (N, k)
        The standard normal noise, one row per example; fixing it makes
        the loss a deterministic function of the parameters.
    backward : bool
        Whether to compute the gradients.

    Returns
    -------
    loss, reconstruction, kl : float
        The mean negative ELBO and its two parts, in nats per example.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> enc, dec = init_vae(4, 1, 3, rng)
    >>> X = np.array([[0.0, 1.0, 1.0, 0.0]])
    >>> loss, rec, kl = vae_negative_elbo(enc, dec, X, np.zeros((1, 1)))
    >>> bool(np.isclose(loss, rec + kl)), bool(kl >= 0)
    (True, True)
    """
    X = _binary(X)
    eps = _finite(eps, "eps")
    N = len(X)
    h = encoder.forward(X)
    if h.ndim != 2 or h.shape[1] % 2:
        raise ValueError("the encoder must output 2k columns")
    k = h.shape[1] // 2
    if eps.shape != (N, k):
        raise ValueError(f"eps must have shape ({N}, {k}), got {eps.shape}")
    mu, log_var = h[:, :k], h[:, k:]
    std = np.exp(0.5 * log_var)
    z = mu + std * eps
    logits = decoder.forward(z)
    if logits.shape != X.shape:
        raise ValueError(
            f"the decoder outputs {logits.shape}, the data are {X.shape}"
        )
    rec = np.sum(np.logaddexp(0.0, logits) - X * logits, axis=1)
    kl = gaussian_kl_to_standard_normal(mu, log_var)
    if backward:
        dz = decoder.backward((sigmoid(logits) - X) / N)
        dmu = dz + mu / N
        dlog_var = dz * eps * 0.5 * std + 0.5 * (std**2 - 1.0) / N
        encoder.backward(np.hstack([dmu, dlog_var]))
    return float(np.mean(rec + kl)), float(np.mean(rec)), float(np.mean(kl))


def flatten_parameters(
    models: Sequence[Sequential], grads: bool = False
) -> np.ndarray:
    """All parameters (or their gradients) of ``models`` in one vector.

    Examples
    --------
    >>> net = Sequential([Affine(np.eye(2), [1.0, 2.0])])
    >>> flatten_parameters([net]).tolist()
    [1.0, 0.0, 0.0, 1.0, 1.0, 2.0]
    """
    parts = [
        (g if grads else p).ravel()
        for model in models
        for p, g in model.parameters()
    ]
    return np.concatenate(parts)


def assign_parameters(models: Sequence[Sequential], theta) -> None:
    """Copy the vector ``theta`` into the parameters of ``models``.

    The inverse of :func:`flatten_parameters`: the arrays are updated in
    place, in the same order.

    Examples
    --------
    >>> net = Sequential([Affine(np.eye(2))])
    >>> assign_parameters([net], np.arange(6.0))
    >>> net.layers[0].params["b"].tolist()
    [4.0, 5.0]
    """
    theta = _finite(theta, "theta")
    sizes = [p.size for model in models for p, _ in model.parameters()]
    if theta.shape != (sum(sizes),):
        raise ValueError(
            f"theta must have shape ({sum(sizes)},), got {theta.shape}"
        )
    start = 0
    for model in models:
        for p, _ in model.parameters():
            p[...] = theta[start : start + p.size].reshape(p.shape)
            start += p.size


def train_vae(
    X,
    k: int,
    hidden: int,
    rng: np.random.Generator,
    lr: float = 0.01,
    n_epochs: int = 20,
    batch_size: int = 64,
) -> tuple[Sequential, Sequential, dict[str, list[float]]]:
    """Train a Bernoulli VAE on binary data with Adam.

    Each step takes a minibatch (rows reshuffled every epoch), draws fresh
    noise ``eps``, and computes the gradient of the mean negative ELBO by
    :func:`vae_negative_elbo`; :func:`m4ml.optimization.adam` takes the
    step on the vector of all parameters.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Binary training data.
    k, hidden : int
        Latent dimension and hidden width.
    rng : numpy.random.Generator
        Source of the initial weights, the shuffling and the noise.
    lr : float
        Adam's learning rate.
    n_epochs, batch_size : int
        Passes over the data and rows per step.

    Returns
    -------
    encoder, decoder : Sequential
        The trained networks.
    history : dict
        ``"elbo"``: the mean one-sample ELBO (in nats per example, the
        negative of the loss) of the minibatches of every epoch;
        ``"reconstruction"`` and ``"kl"``: its two parts,
        ``E_q[log p(x | z)]`` and ``KL(q || p(z))``.

    Raises
    ------
    FloatingPointError
        If the loss stops being finite (a learning rate too large).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((64, 6)) < [0.9, 0.9, 0.9, 0.1, 0.1, 0.1]) * 1.0
    >>> enc, dec, hist = train_vae(X, 1, 8, rng, lr=0.05, n_epochs=30,
    ...                            batch_size=16)
    >>> bool(hist["elbo"][-1] > hist["elbo"][0])
    True
    """
    X = _binary(X)
    rng = check_generator(rng)
    N, D = X.shape
    n_epochs, batch_size = int(n_epochs), int(batch_size)
    if n_epochs < 1 or batch_size < 1:
        raise ValueError("n_epochs and batch_size must be positive")
    encoder, decoder = init_vae(D, k, hidden, rng)
    models = (encoder, decoder)
    n_batches = math.ceil(N / batch_size)
    state = {"step": 0, "order": np.arange(N)}
    sums = np.zeros((n_epochs, 3))

    def grad(theta: np.ndarray) -> np.ndarray:
        epoch, batch = divmod(state["step"], n_batches)
        if batch == 0:
            state["order"] = rng.permutation(N)
        idx = state["order"][batch * batch_size : (batch + 1) * batch_size]
        assign_parameters(models, theta)
        eps = rng.standard_normal((len(idx), int(k)))
        with np.errstate(over="ignore", invalid="ignore"):
            parts = vae_negative_elbo(encoder, decoder, X[idx], eps)
        if not np.all(np.isfinite(parts)):
            raise FloatingPointError(
                f"the loss overflowed in epoch {epoch + 1}: the learning "
                f"rate {lr} is too large"
            )
        sums[epoch] += len(idx) * np.array(parts)
        state["step"] += 1
        return flatten_parameters(models, grads=True)

    path = adam(grad, flatten_parameters(models), lr, n_epochs * n_batches)
    assign_parameters(models, path[-1])
    means = sums / N
    history = {
        "elbo": (-means[:, 0]).tolist(),
        "reconstruction": (-means[:, 1]).tolist(),
        "kl": means[:, 2].tolist(),
    }
    return encoder, decoder, history


def vae_importance_log_likelihood(
    encoder: Sequential,
    decoder: Sequential,
    X,
    n_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Importance-sampling estimates of ``log p(x)`` under a trained VAE.

    With ``S`` draws ``z_s ~ q(z | x)`` the weights
    ``w_s = p(x | z_s) p(z_s) / q(z_s | x)`` have mean ``p(x)``, so ::

        log (1/S) sum_s w_s

    is a consistent estimate of ``log p(x)``; by Jensen's inequality its
    expectation is a lower bound that rises towards ``log p(x)`` with
    ``S``, and for ``S = 1`` it is the one-sample ELBO.

    Parameters
    ----------
    encoder, decoder : Sequential
        A trained VAE.
    X : array_like, shape (N, D)
        Binary data.
    n_samples : int
        The number ``S`` of draws per row.
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The estimates, in nats.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> enc, dec = init_vae(3, 1, 4, rng)
    >>> vae_importance_log_likelihood(enc, dec, np.eye(3), 10, rng).shape
    (3,)
    """
    X = _binary(X)
    S = int(n_samples)
    if S < 1:
        raise ValueError(f"n_samples must be positive, got {S}")
    rng = check_generator(rng)
    h = encoder.forward(X, False)
    k = h.shape[1] // 2
    mu, log_var = h[:, :k], h[:, k:]
    eps = rng.standard_normal((S,) + mu.shape)  # (S, N, k)
    z = mu + np.exp(0.5 * log_var) * eps
    logits = decoder.forward(z.reshape(-1, k), False).reshape(S, *X.shape)
    log_lik = -np.sum(np.logaddexp(0.0, logits) - X * logits, axis=2)
    # log p(z) - log q(z | x): the 2 pi terms cancel
    log_ratio = -0.5 * np.sum(z**2 - eps**2 - log_var, axis=2)
    log_w = log_lik + log_ratio  # (S, N)
    top = log_w.max(axis=0)
    return top + np.log(np.mean(np.exp(log_w - top), axis=0))
