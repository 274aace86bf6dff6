"""A registry of the matrix-calculus identities the book uses.

Appendix *Matrix-calculus reference* lists every derivative identity used
in the book, in the book's layout convention (gradients have the shape of
the variable; Jacobians are in numerator layout, with the output's axes
first), and verifies each against finite differences at build time.

Each identity is an :class:`Identity` record: a function ``f(x, **p)``,
its claimed derivative ``claimed(x, **p)``, and a generator
``sample(rng) -> (x, p)`` of a random point and random parameters at which
to compare them. :func:`numerical_derivative` computes the derivative of
the right kind by central differences (from :mod:`m4ml.vector_calculus`)
and :func:`evaluate` returns the claimed and the numerical derivative side
by side. :data:`IDENTITIES` holds the registry, in the order of the
appendix's tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from m4ml.calculus import sigmoid
from m4ml.logistic_regression import logsumexp, softmax
from m4ml.losses import (
    binary_cross_entropy_with_logits,
    gelu,
    leaky_relu,
    normal_cdf,
    relu,
    relu_grad,
    softmax_cross_entropy,
    softplus,
)
from m4ml.validation import check_generator
from m4ml.vector_calculus import (
    numerical_gradient,
    numerical_hessian,
    numerical_jacobian,
)

__all__ = [
    "IDENTITIES",
    "KINDS",
    "Identity",
    "by_key",
    "evaluate",
    "finite_difference_errors",
    "numerical_derivative",
]

#: The kinds of identity, one table each in the appendix.
KINDS = ("scalar-by-vector", "scalar-by-matrix", "jacobian", "hessian")


@dataclasses.dataclass(frozen=True)
class Identity:
    """One derivative identity and the means to check it.

    Attributes
    ----------
    key : str
        A short unique name, such as ``"logdet"``.
    kind : str
        One of :data:`KINDS`. Gradients of scalar functions
        (``"scalar-by-vector"``, ``"scalar-by-matrix"``) have the shape of
        the variable; a ``"jacobian"`` has shape
        ``f(x).shape + x.shape`` (numerator layout); a ``"hessian"`` is
        ``n x n`` for a vector variable of length ``n``.
    statement : str
        The identity in LaTeX with the book's macros, without dollars.
    ref : str
        A MyST cross-reference to where the book uses the identity.
    f : callable
        ``f(x, **params)``, the function differentiated.
    claimed : callable
        ``claimed(x, **params)``, the derivative the identity asserts.
    sample : callable
        ``sample(rng) -> (x, params)``: a random point and parameters.
    h : float
        The step of the central differences.
    rtol, atol : float
        The tolerance of the comparison: central differences have
        truncation error ``O(h^2)`` and round-off error ``O(eps |f| / h)``
        (``O(eps |f| / h^2)`` for a Hessian).
    """

    key: str
    kind: str
    statement: str
    ref: str
    f: Callable
    claimed: Callable
    sample: Callable
    h: float = 1e-6
    rtol: float = 1e-6
    atol: float = 1e-8

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; use one of {KINDS}")

    @property
    def claim(self) -> str:
        """The claim as a check states it (MyST markdown)."""
        return f"`{self.key}`: ${self.statement}$"


def numerical_derivative(identity: Identity, x, params=None) -> np.ndarray:
    """The derivative of ``identity.f`` at ``x`` by central differences.

    Parameters
    ----------
    identity : Identity
        Says which function and which kind of derivative.
    x : array_like
        The point.
    params : dict, optional
        The fixed parameters passed to ``identity.f``.

    Returns
    -------
    numpy.ndarray
        A gradient of the shape of ``x``, a Jacobian of shape
        ``f(x).shape + x.shape``, or an ``n x n`` Hessian.

    Examples
    --------
    >>> ident = by_key("sq-norm")
    >>> g = numerical_derivative(ident, np.array([1.0, -2.0]))
    >>> np.allclose(g, [2.0, -4.0])
    True
    """
    params = {} if params is None else dict(params)

    def func(v):
        return identity.f(v, **params)

    if identity.kind in ("scalar-by-vector", "scalar-by-matrix"):
        return numerical_gradient(func, x, h=identity.h)
    if identity.kind == "jacobian":
        return numerical_jacobian(func, x, h=identity.h)
    return numerical_hessian(func, x, h=identity.h)


def evaluate(identity: Identity, rng: np.random.Generator):
    """The claimed and the numerical derivative at a random point.

    Parameters
    ----------
    identity : Identity
        The identity to evaluate.
    rng : numpy.random.Generator
        Draws the point and the parameters with ``identity.sample``.

    Returns
    -------
    claimed, numerical : numpy.ndarray
        Arrays of the same shape, to be compared within
        ``identity.rtol`` and ``identity.atol``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> claimed, numeric = evaluate(by_key("logdet"), rng)
    >>> claimed.shape
    (4, 4)
    >>> np.allclose(claimed, numeric, rtol=1e-6, atol=1e-8)
    True
    """
    check_generator(rng)
    x, params = identity.sample(rng)
    claimed = np.asarray(identity.claimed(x, **params), dtype=float)
    numeric = numerical_derivative(identity, x, params)
    if claimed.shape != numeric.shape:
        raise ValueError(
            f"identity {identity.key!r}: the claimed derivative has shape "
            f"{claimed.shape} but the layout convention requires "
            f"{numeric.shape}"
        )
    return claimed, numeric


def finite_difference_errors(identity: Identity, steps, rng):
    """Largest error of central differences for each step ``h``.

    Evaluates the identity at one random point and, for every step in
    ``steps``, returns the largest absolute difference between the claimed
    derivative and central differences with that step. For a correct
    identity the error first falls like ``h^2`` (truncation) and then
    rises like ``eps / h`` (round-off): a V on log-log axes.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> err = finite_difference_errors(by_key("logdet"), [1e-2, 1e-5], rng)
    >>> bool(err[1] < err[0])
    True
    """
    steps = np.asarray(steps, dtype=float)
    if steps.ndim != 1 or np.any(steps <= 0):
        raise ValueError("steps must be a 1-D array of positive numbers")
    x, params = identity.sample(rng)
    claimed = np.asarray(identity.claimed(x, **params), dtype=float)
    errors = []
    for h in steps:
        fd = numerical_derivative(
            dataclasses.replace(identity, h=float(h)), x, params
        )
        errors.append(float(np.max(np.abs(fd - claimed))))
    return np.array(errors)


def by_key(key: str) -> Identity:
    """The identity of :data:`IDENTITIES` with the given key.

    Examples
    --------
    >>> by_key("softmax").kind
    'jacobian'
    """
    for identity in IDENTITIES:
        if identity.key == key:
            return identity
    raise ValueError(f"no identity with key {key!r}")


# --- random inputs -------------------------------------------------------


def _spd(rng, n):
    """A well-conditioned symmetric positive definite ``n x n`` matrix."""
    B = rng.standard_normal((n, n))
    return B @ B.T / n + np.eye(n)


def _posdet(rng, n):
    """A square matrix with positive determinant, away from singular."""
    # eigenvalues of G / sqrt(n) lie near the unit disk, so those of X lie
    # near the disk of radius 1 about 2: real parts positive, det X > 0
    X = rng.standard_normal((n, n)) / np.sqrt(n) + 2.0 * np.eye(n)
    if np.linalg.det(X) < 0:  # a rare draw far outside the disk
        X[0] *= -1.0
    return X


def _away_from_zero(rng, shape):
    """Entries with magnitude in [0.2, 2]: kinks of |x| and ReLU avoided."""
    mag = rng.uniform(0.2, 2.0, size=shape)
    return mag * rng.choice([-1.0, 1.0], size=shape)


def _vec(n):
    return lambda rng: (rng.standard_normal(n), {})


# --- helper functions used by several identities -------------------------


def _gauss_loglik(mu, Sigma, X, r):
    """``sum_n r_n log N(x_n | mu, Sigma)`` for rows ``x_n`` of ``X``."""
    sign, logdet = np.linalg.slogdet(Sigma)
    D = X - mu
    maha = np.einsum("ni,ni->n", D, np.linalg.solve(Sigma, D.T).T)
    d = X.shape[1]
    return float(-0.5 * np.sum(r * (maha + logdet + d * np.log(2 * np.pi))))


def _gauss_data(rng, n=6, d=3):
    X = rng.standard_normal((n, d))
    r = rng.uniform(0.1, 1.0, size=n)
    return X, r


def _logistic_loss(w, X, y, lam, R):
    z = X @ w
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * w @ R @ w)


def _logistic_sample(rng, n=20, d=4):
    X = np.column_stack([np.ones(n), rng.standard_normal((n, d - 1))])
    y = (rng.uniform(size=n) < 0.5).astype(float)
    R = np.diag([0.0] + [1.0] * (d - 1))  # the intercept is not penalised
    return rng.standard_normal(d), {"X": X, "y": y, "lam": 0.3, "R": R}


def _softmax_reg_loss(W, X, y, lam, R):
    Z = X @ W
    loss = np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y])
    return float(loss + 0.5 * lam * np.sum((R @ W) ** 2))


def _softmax_reg_grad(W, X, y, lam, R):
    P = softmax(X @ W, axis=1)
    Y = np.eye(W.shape[1])[y]
    return X.T @ (P - Y) / len(y) + lam * R @ W


def _softmax_reg_sample(rng, n=12, d=3, k=4):
    X = np.column_stack([np.ones(n), rng.standard_normal((n, d - 1))])
    y = rng.integers(0, k, size=n)
    R = np.diag([0.0] + [1.0] * (d - 1))  # R is a projection, R^T R = R
    return rng.standard_normal((d, k)), {"X": X, "y": y, "lam": 0.2, "R": R}


def _layer_sample(rng, n=5, d=3, k=4):
    W = rng.standard_normal((d, k))
    X = rng.standard_normal((n, d))
    b = rng.standard_normal(k)
    y = rng.integers(0, k, size=n)
    return W, {"X": X, "b": b, "y": y}


def _layer_loss_grad(X, W, b, y):
    """``G``, the gradient of the softmax cross-entropy at ``Z = XW + b``."""
    return softmax_cross_entropy(X @ W + b, y)[1]


def _batch_norm(X, eps):
    """``Xhat``: each column standardised with the batch mean and variance."""
    return (X - X.mean(0)) / np.sqrt(X.var(0) + eps)


def _batch_norm_grad(X, Ghat, eps):
    Xhat = _batch_norm(X, eps)
    g_bar = Ghat.mean(0)
    c_bar = (Ghat * Xhat).mean(0)
    return (Ghat - g_bar - Xhat * c_bar) / np.sqrt(X.var(0) + eps)


def _softmax_rows_vjp(S, Abar):
    A = softmax(S, axis=1)
    return A * (Abar - np.sum(A * Abar, axis=1, keepdims=True))


def _gauss_1d(theta, x):
    """``sum_n log N(x_n | mu, s2)`` with ``theta = (mu, s2)``."""
    mu, s2 = theta
    return float(
        -0.5 * x.size * np.log(2 * np.pi * s2)
        - np.sum((x - mu) ** 2) / (2 * s2)
    )


def _gauss_1d_score(theta, x):
    mu, s2 = theta
    return np.array(
        [
            np.sum(x - mu) / s2,
            -x.size / (2 * s2) + np.sum((x - mu) ** 2) / (2 * s2**2),
        ]
    )


def _inv_sample(rng, n=3):
    return _posdet(rng, n), {}


# --- the registry --------------------------------------------------------

_SV = "scalar-by-vector"
_SM = "scalar-by-matrix"
_J = "jacobian"
_H = "hessian"

IDENTITIES: list[Identity] = [
    # ----- scalar by vector: gradients with the shape of the vector -----
    Identity(
        "linear",
        _SV,
        r"\nabla_{\vx}(\va\T\vx) = \va",
        "{ref}`sec-vector-calculus-matrix-calculus`",
        lambda x, a: a @ x,
        lambda x, a: a,
        lambda rng: (rng.standard_normal(5), {"a": rng.standard_normal(5)}),
    ),
    Identity(
        "quadratic",
        _SV,
        r"\nabla_{\vx}(\vx\T\mA\vx) = (\mA + \mA\T)\vx",
        "{eq}`eq-vector-calculus-quadratic`",
        lambda x, A: x @ A @ x,
        lambda x, A: (A + A.T) @ x,
        lambda rng: (
            rng.standard_normal(4),
            {"A": rng.standard_normal((4, 4))},
        ),
    ),
    Identity(
        "quadratic-symmetric",
        _SV,
        r"\nabla_{\vx}\bigl(\tfrac12\vx\T\mA\vx - \vb\T\vx\bigr) = "
        r"\mA\vx - \vb \text{ for } \mA = \mA\T",
        "{eq}`eq-optimization-quadratic`",
        lambda x, A, b: 0.5 * x @ A @ x - b @ x,
        lambda x, A, b: A @ x - b,
        lambda rng: (
            rng.standard_normal(4),
            {"A": _spd(rng, 4), "b": rng.standard_normal(4)},
        ),
    ),
    Identity(
        "sq-norm",
        _SV,
        r"\nabla_{\vx}\norm{\vx}^2 = 2\vx",
        "{eq}`eq-linear-regression-ridge-objective`",
        lambda x: x @ x,
        lambda x: 2 * x,
        _vec(5),
    ),
    Identity(
        "l1-norm",
        _SV,
        r"\nabla_{\vx}\norm{\vx}_1 = \sign(\vx) \text{ where no } x_i = 0",
        "{prf:ref}`thm-linear-regression-lasso-kkt`",
        lambda x: np.sum(np.abs(x)),
        lambda x: np.sign(x),
        lambda rng: (_away_from_zero(rng, 5), {}),
    ),
    Identity(
        "least-squares",
        _SV,
        r"\nabla_{\vw}\norm{\mX\vw - \vy}^2 = 2\mX\T(\mX\vw - \vy)",
        "{eq}`eq-vector-calculus-least-squares`",
        lambda w, X, y: np.sum((X @ w - y) ** 2),
        lambda w, X, y: 2 * X.T @ (X @ w - y),
        lambda rng: (
            rng.standard_normal(3),
            {"X": rng.standard_normal((8, 3)), "y": rng.standard_normal(8)},
        ),
    ),
    Identity(
        "ridge",
        _SV,
        r"\nabla_{\vw}\bigl(\norm{\vy - \mX\vw}^2 + \lambda\norm{\vw}^2\bigr)"
        r" = 2\mX\T(\mX\vw - \vy) + 2\lambda\vw",
        "{eq}`eq-linear-regression-ridge-objective`",
        lambda w, X, y, lam: np.sum((y - X @ w) ** 2) + lam * w @ w,
        lambda w, X, y, lam: 2 * X.T @ (X @ w - y) + 2 * lam * w,
        lambda rng: (
            rng.standard_normal(3),
            {
                "X": rng.standard_normal((8, 3)),
                "y": rng.standard_normal(8),
                "lam": 0.7,
            },
        ),
    ),
    Identity(
        "logistic",
        _SV,
        r"\nabla_{\vw}J = \tfrac1N\mX\T(\vp - \vy) + \lambda\mR\vw",
        "{eq}`eq-logistic-regression-gradient`",
        _logistic_loss,
        lambda w, X, y, lam, R: (
            X.T @ (sigmoid(X @ w) - y) / len(y) + lam * R @ w
        ),
        _logistic_sample,
    ),
    Identity(
        "logsumexp",
        _SV,
        r"\nabla_{\vz}\operatorname{lse}(\vz) = \operatorname{softmax}(\vz)",
        "{eq}`eq-logistic-regression-lse`",
        lambda z: float(logsumexp(z)),
        lambda z: softmax(z),
        lambda rng: (2 * rng.standard_normal(5), {}),
    ),
    Identity(
        "cross-entropy",
        _SV,
        r"\nabla_{\vz}\bigl(-\log\operatorname{softmax}(\vz)_y\bigr) = "
        r"\vp - \ve_y",
        "{eq}`eq-vector-calculus-cross-entropy`",
        lambda z, y: float(logsumexp(z) - z[y]),
        lambda z, y: softmax(z) - np.eye(z.size)[y],
        lambda rng: (2 * rng.standard_normal(5), {"y": 3}),
    ),
    Identity(
        "soft-cross-entropy",
        _SV,
        r"\nabla_{\vz}\bigl(-\textstyle\sum_k t_k\log p_k\bigr) = \vp - \vt"
        r" \text{ for } \vt\T\vone = 1",
        "{eq}`eq-information-theory-cross-entropy`",
        lambda z, t: float(-t @ (z - logsumexp(z))),
        lambda z, t: softmax(z) - t,
        lambda rng: (
            2 * rng.standard_normal(5),
            {"t": rng.dirichlet(np.ones(5))},
        ),
    ),
    Identity(
        "bce-logits",
        _SV,
        r"\nabla_{\vz}\tfrac1N\textstyle\sum_n\bigl(\zeta(z_n) - y_nz_n\bigr)"
        r" = \tfrac1N(\sigma(\vz) - \vy)",
        "{eq}`eq-losses-bce-stable`",
        lambda z, y: binary_cross_entropy_with_logits(z, y)[0],
        lambda z, y: (sigmoid(z) - y) / z.size,
        lambda rng: (
            3 * rng.standard_normal(6),
            {"y": (rng.uniform(size=6) < 0.5).astype(float)},
        ),
    ),
    Identity(
        "chain-affine",
        _SV,
        r"\nabla_{\vx}\operatorname{lse}(\mA\vx + \vb) = "
        r"\mA\T\operatorname{softmax}(\mA\vx + \vb)",
        "{eq}`eq-vector-calculus-chain-gradient`",
        lambda x, A, b: float(logsumexp(A @ x + b)),
        lambda x, A, b: A.T @ softmax(A @ x + b),
        lambda rng: (
            rng.standard_normal(3),
            {"A": rng.standard_normal((5, 3)), "b": rng.standard_normal(5)},
        ),
    ),
    Identity(
        "gaussian-mean",
        _SV,
        r"\nabla_{\vmu}\textstyle\sum_n r_n\log\normal(\vx_n \mid \vmu, "
        r"\mSigma) = \mSigma\inv\sum_n r_n(\vx_n - \vmu)",
        "{eq}`eq-gmm-grad-mean`",
        lambda mu, Sigma, X, r: _gauss_loglik(mu, Sigma, X, r),
        lambda mu, Sigma, X, r: np.linalg.solve(
            Sigma, (r[:, None] * (X - mu)).sum(0)
        ),
        lambda rng: (
            rng.standard_normal(3),
            dict(
                zip(("X", "r"), _gauss_data(rng), strict=True),
                Sigma=_spd(rng, 3),
            ),
        ),
    ),
    Identity(
        "gaussian-1d",
        _SV,
        r"\nabla_{(\mu, \sigma^2)}\textstyle\sum_n\log\normal(x_n \mid \mu, "
        r"\sigma^2) = \Bigl(\frac{\sum_n(x_n - \mu)}{\sigma^2}, "
        r"-\frac{N}{2\sigma^2} + \frac{\sum_n(x_n - \mu)^2}{2\sigma^4}\Bigr)",
        "{eq}`eq-statistics-gaussian-score`",
        _gauss_1d,
        _gauss_1d_score,
        lambda rng: (
            np.array([rng.standard_normal(), rng.uniform(0.5, 2.0)]),
            {"x": rng.standard_normal(10)},
        ),
    ),
    Identity(
        "vae-kl",
        _SV,
        r"\nabla_{(\vmu, \boldsymbol{\nu})}\tfrac12\textstyle\sum_j"
        r"\bigl(e^{\nu_j} + \mu_j^2 - 1 - \nu_j\bigr) = "
        r"\bigl(\vmu, \tfrac12(e^{\boldsymbol{\nu}} - \vone)\bigr)",
        "{eq}`eq-autoencoders-kl-standard`",
        lambda v: 0.5 * np.sum(np.exp(v[3:]) + v[:3] ** 2 - 1 - v[3:]),
        lambda v: np.concatenate([v[:3], 0.5 * (np.exp(v[3:]) - 1)]),
        _vec(6),
    ),
    # ----- scalar by matrix: gradients with the shape of the matrix -----
    Identity(
        "bilinear",
        _SM,
        r"\nabla_{\mX}(\va\T\mX\vb) = \va\vb\T",
        "{eq}`eq-vector-calculus-bilinear`",
        lambda X, a, b: a @ X @ b,
        lambda X, a, b: np.outer(a, b),
        lambda rng: (
            rng.standard_normal((3, 4)),
            {"a": rng.standard_normal(3), "b": rng.standard_normal(4)},
        ),
    ),
    Identity(
        "trace-linear",
        _SM,
        r"\nabla_{\mX}\tr(\mA\mX) = \mA\T",
        "{prf:ref}`thm-gmm-m-step`",
        lambda X, A: np.trace(A @ X),
        lambda X, A: A.T,
        lambda rng: (
            rng.standard_normal((3, 4)),
            {"A": rng.standard_normal((4, 3))},
        ),
    ),
    Identity(
        "trace-quadratic",
        _SM,
        r"\nabla_{\mX}\tr(\mX\T\mA\mX) = (\mA + \mA\T)\mX",
        "{prf:ref}`thm-pca-min-error`",
        lambda X, A: np.trace(X.T @ A @ X),
        lambda X, A: (A + A.T) @ X,
        lambda rng: (
            rng.standard_normal((4, 2)),
            {"A": rng.standard_normal((4, 4))},
        ),
    ),
    Identity(
        "frobenius",
        _SM,
        r"\nabla_{\mW}\tfrac{\lambda}{2}\norm{\mW}_F^2 = \lambda\mW",
        "{eq}`eq-regularization-weight-decay`",
        lambda W, lam: 0.5 * lam * np.sum(W**2),
        lambda W, lam: lam * W,
        lambda rng: (rng.standard_normal((3, 4)), {"lam": 0.1}),
    ),
    Identity(
        "frobenius-ls",
        _SM,
        r"\nabla_{\mW}\norm{\mX\mW - \mY}_F^2 = 2\mX\T(\mX\mW - \mY)",
        "{eq}`eq-autoencoders-linear-loss`",
        lambda W, X, Y: np.sum((X @ W - Y) ** 2),
        lambda W, X, Y: 2 * X.T @ (X @ W - Y),
        lambda rng: (
            rng.standard_normal((3, 2)),
            {
                "X": rng.standard_normal((6, 3)),
                "Y": rng.standard_normal((6, 2)),
            },
        ),
    ),
    Identity(
        "affine-weights",
        _SM,
        r"\nabla_{\mW}\ell(\mX\mW + \vone\vb\T) = \mX\T\mG, \ "
        r"\mG = \nabla_{\mZ}\ell",
        "{eq}`eq-mlp-backprop`",
        lambda W, X, b, y: softmax_cross_entropy(X @ W + b, y)[0],
        lambda W, X, b, y: X.T @ _layer_loss_grad(X, W, b, y),
        _layer_sample,
    ),
    Identity(
        "affine-bias",
        _SV,
        r"\nabla_{\vb}\ell(\mX\mW + \vone\vb\T) = \mG\T\vone",
        "{eq}`eq-mlp-backprop`",
        lambda b, X, W, y: softmax_cross_entropy(X @ W + b, y)[0],
        lambda b, X, W, y: _layer_loss_grad(X, W, b, y).T @ np.ones(len(y)),
        lambda rng: (lambda W, p: (p.pop("b"), dict(p, W=W)))(
            *_layer_sample(rng)
        ),
    ),
    Identity(
        "affine-input",
        _SM,
        r"\nabla_{\mX}\ell(\mX\mW + \vone\vb\T) = \mG\mW\T",
        "{eq}`eq-mlp-backprop`",
        lambda X, W, b, y: softmax_cross_entropy(X @ W + b, y)[0],
        lambda X, W, b, y: _layer_loss_grad(X, W, b, y) @ W.T,
        lambda rng: (lambda W, p: (p.pop("X"), dict(p, W=W)))(
            *_layer_sample(rng)
        ),
    ),
    Identity(
        "softmax-rows",
        _SM,
        r"\nabla_{\mS}\tr\bigl(\overline{\mA}\T\operatorname{softmax}(\mS)"
        r"\bigr) = \mA \odot \bigl(\overline{\mA} - (\mA \odot "
        r"\overline{\mA})\vone\vone\T\bigr)",
        "{eq}`eq-attention-backward`",
        lambda S, Abar: np.sum(Abar * softmax(S, axis=1)),
        _softmax_rows_vjp,
        lambda rng: (
            rng.standard_normal((3, 4)),
            {"Abar": rng.standard_normal((3, 4))},
        ),
    ),
    Identity(
        "batch-norm",
        _SM,
        r"\pdv{\ell}{X_{nj}} = \bigl(\hat G_{nj} - \bar g_j - \hat X_{nj}"
        r"\bar c_j\bigr)\big/\sqrt{\sigma_j^2 + \epsilon}",
        "{eq}`eq-regularization-bn-backward`",
        lambda X, Ghat, eps: np.sum(Ghat * _batch_norm(X, eps)),
        _batch_norm_grad,
        lambda rng: (
            rng.standard_normal((6, 3)),
            {"Ghat": rng.standard_normal((6, 3)), "eps": 1e-3},
        ),
    ),
    Identity(
        "softmax-regression",
        _SM,
        r"\nabla_{\mW}J = \tfrac1N\mX\T(\mP - \mY) + \lambda\mR\mW",
        "{eq}`eq-logistic-regression-softmax-gradient`",
        _softmax_reg_loss,
        _softmax_reg_grad,
        _softmax_reg_sample,
    ),
    # [record-logdet]
    Identity(
        "logdet",
        _SM,
        r"\nabla_{\mX}\log\det\mX = \mX^{-\top}",
        "{eq}`eq-vector-calculus-logdet`",
        lambda X: np.linalg.slogdet(X)[1],
        lambda X: np.linalg.inv(X).T,
        lambda rng: (_posdet(rng, 4), {}),
    ),
    # [end-record-logdet]
    Identity(
        "inverse-bilinear",
        _SM,
        r"\nabla_{\mX}(\va\T\mX\inv\vb) = -\mX^{-\top}\va\vb\T\mX^{-\top}",
        "{eq}`eq-matrix-calculus-gaussian-cov`",
        lambda X, a, b: a @ np.linalg.solve(X, b),
        lambda X, a, b: (
            -np.linalg.inv(X).T @ np.outer(a, b) @ np.linalg.inv(X).T
        ),
        lambda rng: (
            _posdet(rng, 3),
            {"a": rng.standard_normal(3), "b": rng.standard_normal(3)},
        ),
    ),
    Identity(
        "trace-inverse",
        _SM,
        r"\nabla_{\mX}\tr(\mA\mX\inv) = -\mX^{-\top}\mA\T\mX^{-\top}",
        "{eq}`eq-pca-ppca-loglik`",
        lambda X, A: np.trace(A @ np.linalg.inv(X)),
        lambda X, A: -np.linalg.inv(X).T @ A.T @ np.linalg.inv(X).T,
        lambda rng: (_posdet(rng, 3), {"A": rng.standard_normal((3, 3))}),
    ),
    Identity(
        "ppca-covariance",
        _SM,
        r"\nabla_{\mC}\bigl(\log\det\mC + \tr(\mC\inv\mS)\bigr) = "
        r"\mC\inv - \mC\inv\mS\mC\inv \text{ for symmetric } \mC, \mS",
        "{eq}`eq-pca-ppca-loglik`",
        lambda C, S: np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, S)),
        lambda C, S: (
            np.linalg.inv(C) - np.linalg.inv(C) @ S @ np.linalg.inv(C)
        ),
        lambda rng: (_spd(rng, 3), {"S": _spd(rng, 3)}),
    ),
    Identity(
        "gaussian-covariance",
        _SM,
        r"\nabla_{\mSigma}\textstyle\sum_n r_n\log\normal(\vx_n \mid \vmu, "
        r"\mSigma) = \tfrac12\mSigma\inv\bigl(\sum_n r_n\vd_n\vd_n\T"
        r" - N_r\mSigma\bigr)\mSigma\inv",
        "{prf:ref}`thm-gmm-m-step`",
        lambda Sigma, mu, X, r: _gauss_loglik(mu, Sigma, X, r),
        lambda Sigma, mu, X, r: (
            0.5
            * np.linalg.inv(Sigma)
            @ ((r[:, None] * (X - mu)).T @ (X - mu) - r.sum() * Sigma)
            @ np.linalg.inv(Sigma)
        ),
        lambda rng: (
            _spd(rng, 3),
            dict(
                zip(("X", "r"), _gauss_data(rng), strict=True),
                mu=rng.standard_normal(3),
            ),
        ),
    ),
    Identity(
        "gaussian-precision",
        _SM,
        r"\nabla_{\mLambda}\bigl(\log\det\mLambda - \tr(\mLambda\mS)\bigr)"
        r" = \mLambda\inv - \mS \text{ for symmetric } \mLambda, \mS",
        "{prf:ref}`thm-gmm-m-step`",
        lambda L, S: np.linalg.slogdet(L)[1] - np.trace(L @ S),
        lambda L, S: np.linalg.inv(L) - S,
        lambda rng: (_spd(rng, 3), {"S": _spd(rng, 3)}),
    ),
    # ----- Jacobians, numerator layout: output axes first -----
    Identity(
        "linear-map",
        _J,
        r"\pdv{(\mA\vx)}{\vx} = \mA",
        "{prf:ref}`def-vector-calculus-jacobian`",
        lambda x, A: A @ x,
        lambda x, A: A,
        lambda rng: (
            rng.standard_normal(4),
            {"A": rng.standard_normal((3, 4))},
        ),
    ),
    Identity(
        "linear-in-matrix",
        _J,
        r"\pdv{(\mA\vx)_i}{A_{kl}} = \delta_{ik}x_l",
        "{eq}`eq-vector-calculus-linear-layer`",
        lambda A, x: A @ x,
        lambda A, x: np.einsum("ik,l->ikl", np.eye(A.shape[0]), x),
        lambda rng: (
            rng.standard_normal((3, 4)),
            {"x": rng.standard_normal(4)},
        ),
    ),
    Identity(
        "sigmoid",
        _J,
        r"\pdv{\sigma(\vx)}{\vx} = \diag\bigl(\sigma(\vx) \odot "
        r"(\vone - \sigma(\vx))\bigr)",
        "{eq}`eq-calculus-sigmoid-derivative`",
        lambda x: sigmoid(x),
        lambda x: np.diag(sigmoid(x) * (1 - sigmoid(x))),
        lambda rng: (2 * rng.standard_normal(5), {}),
    ),
    Identity(
        "tanh",
        _J,
        r"\pdv{\tanh(\vx)}{\vx} = \diag(\vone - \tanh^2(\vx))",
        "{eq}`eq-vector-calculus-layer-jacobian`",
        lambda x: np.tanh(x),
        lambda x: np.diag(1 - np.tanh(x) ** 2),
        _vec(5),
    ),
    Identity(
        "relu",
        _J,
        r"\pdv{\operatorname{relu}(\vx)}{\vx} = "
        r"\diag\bigl(\operatorname{step}(\vx)\bigr) \text{ where no } x_i = 0",
        "{prf:ref}`prop-losses-derivatives`",
        lambda x: relu(x),
        lambda x: np.diag(relu_grad(x)),
        lambda rng: (_away_from_zero(rng, 5), {}),
    ),
    Identity(
        "leaky-relu",
        _J,
        r"\pdv{\operatorname{LReLU}_\alpha(\vx)}{\vx} = "
        r"\diag\bigl(\alpha + (1 - \alpha)\operatorname{step}(\vx)\bigr)"
        r" \text{ where no } x_i = 0",
        "{prf:ref}`prop-losses-derivatives`",
        lambda x, alpha: leaky_relu(x, alpha),
        lambda x, alpha: np.diag(np.where(x > 0, 1.0, alpha)),
        lambda rng: (_away_from_zero(rng, 5), {"alpha": 0.1}),
    ),
    Identity(
        "gelu",
        _J,
        r"\pdv{\operatorname{GELU}(\vx)}{\vx} = "
        r"\diag\bigl(\Phi(\vx) + \vx \odot \varphi(\vx)\bigr)",
        "{prf:ref}`prop-losses-derivatives`",
        lambda x: gelu(x),
        lambda x: np.diag(
            normal_cdf(x) + x * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
        ),
        lambda rng: (2 * rng.standard_normal(5), {}),
    ),
    Identity(
        "softplus",
        _J,
        r"\pdv{\zeta(\vx)}{\vx} = \diag(\sigma(\vx))",
        "{prf:ref}`prop-losses-derivatives`",
        lambda x: softplus(x),
        lambda x: np.diag(sigmoid(x)),
        lambda rng: (2 * rng.standard_normal(5), {}),
    ),
    Identity(
        "softmax",
        _J,
        r"\pdv{\operatorname{softmax}(\vz)}{\vz} = \diag(\vp) - \vp\vp\T",
        "{eq}`eq-vector-calculus-softmax-jacobian`",
        lambda z: softmax(z),
        lambda z: np.diag(softmax(z)) - np.outer(softmax(z), softmax(z)),
        lambda rng: (2 * rng.standard_normal(5), {}),
    ),
    Identity(
        "tanh-layer",
        _J,
        r"\pdv{\tanh(\mW\vx + \vb)}{\vx} = \diag(\vone - \vf \odot \vf)\,\mW",
        "{eq}`eq-vector-calculus-layer-jacobian`",
        lambda x, W, b: np.tanh(W @ x + b),
        lambda x, W, b: np.diag(1 - np.tanh(W @ x + b) ** 2) @ W,
        lambda rng: (
            rng.standard_normal(4),
            {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)},
        ),
    ),
    Identity(
        "inverse",
        _J,
        r"\pdv{(\mX\inv)_{ij}}{X_{kl}} = -(\mX\inv)_{ik}(\mX\inv)_{lj}",
        "{eq}`eq-matrix-calculus-inverse`",
        lambda X: np.linalg.inv(X),
        lambda X: (
            -np.einsum("ik,lj->ijkl", np.linalg.inv(X), np.linalg.inv(X))
        ),
        _inv_sample,
    ),
    # ----- Hessians: the Jacobian of the gradient, symmetric -----
    Identity(
        "hess-quadratic",
        _H,
        r"\nabla^2_{\vx}(\vx\T\mA\vx) = \mA + \mA\T",
        "{eq}`eq-vector-calculus-quadratic`",
        lambda x, A: x @ A @ x,
        lambda x, A: A + A.T,
        lambda rng: (
            rng.standard_normal(4),
            {"A": rng.standard_normal((4, 4))},
        ),
        h=1e-4,
        rtol=1e-5,
        atol=1e-6,
    ),
    Identity(
        "hess-ridge",
        _H,
        r"\nabla^2_{\vw}\bigl(\norm{\vy - \mX\vw}^2"
        r" + \lambda\norm{\vw}^2\bigr) = 2(\mX\T\mX + \lambda\mI)",
        "{eq}`eq-linear-regression-ridge`",
        lambda w, X, y, lam: np.sum((y - X @ w) ** 2) + lam * w @ w,
        lambda w, X, y, lam: 2 * (X.T @ X + lam * np.eye(w.size)),
        lambda rng: (
            rng.standard_normal(3),
            {
                "X": rng.standard_normal((8, 3)),
                "y": rng.standard_normal(8),
                "lam": 0.7,
            },
        ),
        h=1e-4,
        rtol=1e-5,
        atol=1e-5,
    ),
    Identity(
        "hess-logistic",
        _H,
        r"\nabla^2_{\vw}J = \tfrac1N\mX\T\mS\mX + \lambda\mR",
        "{eq}`eq-logistic-regression-hessian`",
        _logistic_loss,
        lambda w, X, y, lam, R: (
            X.T @ np.diag(sigmoid(X @ w) * (1 - sigmoid(X @ w))) @ X / len(y)
            + lam * R
        ),
        _logistic_sample,
        h=1e-4,
        rtol=1e-5,
        atol=1e-6,
    ),
    Identity(
        "hess-logsumexp",
        _H,
        r"\nabla^2_{\vz}\operatorname{lse}(\vz) = \diag(\vp) - \vp\vp\T",
        "{prf:ref}`thm-logistic-regression-softmax-gradient`",
        lambda z: float(logsumexp(z)),
        lambda z: np.diag(softmax(z)) - np.outer(softmax(z), softmax(z)),
        lambda rng: (2 * rng.standard_normal(5), {}),
        h=1e-4,
        rtol=1e-5,
        atol=1e-6,
    ),
    Identity(
        "hess-gaussian-mean",
        _H,
        r"\nabla^2_{\vmu}\textstyle\sum_n r_n\log\normal(\vx_n \mid \vmu, "
        r"\mSigma) = -N_r\mSigma\inv",
        "{prf:ref}`thm-gmm-m-step`",
        lambda mu, Sigma, X, r: _gauss_loglik(mu, Sigma, X, r),
        lambda mu, Sigma, X, r: -r.sum() * np.linalg.inv(Sigma),
        lambda rng: (
            rng.standard_normal(3),
            dict(
                zip(("X", "r"), _gauss_data(rng), strict=True),
                Sigma=_spd(rng, 3),
            ),
        ),
        h=1e-4,
        rtol=1e-5,
        atol=1e-5,
    ),
]
