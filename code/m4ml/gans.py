"""Generative adversarial networks in one dimension.

The code of the chapter *Generative adversarial networks*
(``book/deep_learning/gans.md``): the optimal discriminator and the value
of the minimax game for densities tabulated on a grid, the Jensen-Shannon
divergence, the two losses of a GAN with their backward passes, a small
trainer that alternates gradient steps on a generator and a
discriminator (both multilayer perceptrons from :mod:`m4ml.mlp`), and the
Wasserstein-1 distance between two samples on the line.
"""

from __future__ import annotations

import math

import numpy as np

from m4ml.information_theory import grid_kl, kl_divergence
from m4ml.losses import binary_cross_entropy_with_logits
from m4ml.mlp import Sequential, init_mlp, sgd_step
from m4ml.validation import check_generator

__all__ = [
    "discriminator_loss",
    "gan_value",
    "generator_loss",
    "js_divergence",
    "optimal_discriminator",
    "train_gan",
    "wasserstein_1d",
]

GENERATOR_LOSSES = ("non-saturating", "saturating")


def _densities(p, q, names=("p_data", "p_model")):
    a = np.asarray(p, dtype=np.float64)
    b = np.asarray(q, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got "
            f"{a.shape} and {b.shape}"
        )
    for arr, name in zip((a, b), names, strict=True):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        if np.any(arr < 0):
            raise ValueError(f"{name} must be non-negative (a density)")
    return a, b


def _dx(dx) -> float:
    if not (
        isinstance(dx, (int, float, np.floating))
        and math.isfinite(dx)
        and dx > 0
    ):
        raise ValueError(f"dx must be a positive number, got {dx!r}")
    return float(dx)


def optimal_discriminator(p_data, p_model):
    """The discriminator ``D* = p_data / (p_data + p_model)``.

    For a fixed generator with density ``p_model`` this ``D*`` maximises
    the value of the GAN game pointwise. Where both densities vanish every
    value of ``D`` is optimal (the point carries no weight); we return 1/2
    there, the answer of a discriminator that cannot tell.

    Parameters
    ----------
    p_data, p_model : array_like
        Non-negative densities (or probabilities) evaluated at the same
        points; any shape, the same for both.

    Returns
    -------
    numpy.ndarray
        ``D*`` at every point, in ``[0, 1]``.

    Raises
    ------
    ValueError
        For mismatched shapes, negative or non-finite values.

    Examples
    --------
    >>> optimal_discriminator([3.0, 1.0, 0.0, 0.0], [1.0, 1.0, 2.0, 0.0])
    array([0.75, 0.5 , 0.  , 0.5 ])
    """
    a, b = _densities(p_data, p_model)
    total = a + b
    live = total > 0
    return np.where(live, a / np.where(live, total, 1.0), 0.5)


def gan_value(d, p_data, p_model, dx: float) -> float:
    """The value ``V(D, G)`` of the GAN game, by quadrature on a grid.

    ``V = int p_data log D + p_model log(1 - D) dx``, approximated by the
    Riemann sum over equally spaced points. A term whose density is zero
    counts as zero (``0 log 0 = 0``); if ``D = 0`` where ``p_data > 0`` (or
    ``D = 1`` where ``p_model > 0``) the value is ``-inf``.

    Parameters
    ----------
    d : array_like, shape (K,)
        The discriminator's probabilities ``D(x_k)`` in ``[0, 1]``.
    p_data, p_model : array_like, shape (K,)
        The two densities at the grid points.
    dx : float
        The grid spacing.

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.linspace(-8, 8, 1601)
    >>> p = np.exp(-x**2 / 2) / np.sqrt(2 * np.pi)
    >>> round(gan_value(np.full_like(x, 0.5), p, p, x[1] - x[0]), 6)
    -1.386294
    """
    a, b = _densities(p_data, p_model)
    D = np.asarray(d, dtype=np.float64)
    if D.shape != a.shape:
        raise ValueError(
            f"d must have the shape {a.shape} of the densities, got {D.shape}"
        )
    if not np.all((D >= 0) & (D <= 1)):
        raise ValueError("d must lie in [0, 1]")
    dx = _dx(dx)
    with np.errstate(divide="ignore"):
        log_d = np.where(a > 0, np.log(np.where(a > 0, D, 1.0)), 0.0)
        log_1md = np.where(b > 0, np.log(np.where(b > 0, 1.0 - D, 1.0)), 0.0)
    return float(np.sum(a * log_d + b * log_1md) * dx)


def js_divergence(p, q, dx: float | None = None) -> float:
    """The Jensen-Shannon divergence ``JSD(p || q)`` in nats.

    ``JSD = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``.
    Without ``dx``, ``p`` and ``q`` are discrete distributions (summing to
    one); with ``dx`` they are densities on a uniform grid, and the two
    integrals are Riemann sums. Either way ``0 <= JSD <= log 2``.

    Parameters
    ----------
    p, q : array_like, shape (K,)
        Two distributions, or two densities on the same grid.
    dx : float, optional
        The grid spacing, for densities.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For mismatched shapes, negative entries, or (discrete case) vectors
        that do not sum to one.

    Examples
    --------
    >>> js_divergence([1.0, 0.0], [0.0, 1.0]) == math.log(2)  # disjoint
    True
    >>> js_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    """
    a, b = _densities(p, q, ("p", "q"))
    if a.ndim != 1:
        raise ValueError(f"p and q must be 1-D, got shape {a.shape}")
    m = 0.5 * (a + b)
    if dx is None:
        return float(0.5 * kl_divergence(a, m) + 0.5 * kl_divergence(b, m))
    dx = _dx(dx)
    with np.errstate(divide="ignore"):
        la, lb, lm = np.log(a), np.log(b), np.log(m)
    return 0.5 * grid_kl(la, lm, dx) + 0.5 * grid_kl(lb, lm, dx)


def wasserstein_1d(x, y) -> float:
    """The Wasserstein-1 distance between two samples of the same size.

    On the line the optimal transport plan between two empirical
    distributions with ``n`` atoms each matches the ``k``-th smallest
    point of one with the ``k``-th smallest of the other, so
    ``W_1 = mean |sort(x) - sort(y)|``.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Two samples, finite, of equal size ``n >= 1``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For samples that are not 1-D, differ in size, are empty or hold
        NaN or infinity.

    Examples
    --------
    >>> wasserstein_1d([0.0, 1.0], [3.0, 2.0])  # move each point by 2
    2.0
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"x and y must be 1-D samples, got shapes {a.shape}, {b.shape}"
        )
    if a.size != b.size or a.size == 0:
        raise ValueError(
            f"x and y must be non-empty and of equal size, got {a.size} "
            f"and {b.size}"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("x and y must be finite")
    return float(np.mean(np.abs(np.sort(a) - np.sort(b))))


def _column(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != 1 or x.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty sample of shape (N,) or (N, 1), "
            f"got {x.shape}"
        )
    return x


def discriminator_loss(disc: Sequential, x_real, x_fake) -> float:
    """The discriminator's loss ``-V``, with its backward pass.

    The discriminator outputs a logit ``a(x)`` and ``D(x) = s(a(x))``. Its
    loss is the negated value of the game on the two batches,
    ``-mean log D(x_real) - mean log(1 - D(x_fake))``, the sum of two
    binary cross-entropies (label 1 for real, 0 for fake). After the call
    ``disc``'s ``grads`` hold the gradient of this loss.

    Parameters
    ----------
    disc : Sequential
        A network from one input to one logit.
    x_real, x_fake : array_like, shape (N,) or (N, 1)
        A batch of data and a batch of generated points.

    Returns
    -------
    float
        The loss; ``log 4`` when ``D = 1/2`` everywhere.

    Examples
    --------
    >>> from m4ml.mlp import Affine
    >>> d = Sequential([Affine([[0.0]])])  # a discriminator saying 1/2
    >>> round(discriminator_loss(d, [1.0, 2.0], [0.0]), 6)  # log 4
    1.386294
    """
    xr, xf = _column(x_real, "x_real"), _column(x_fake, "x_fake")
    logits = disc.forward(np.vstack([xr, xf]))
    if logits.shape != (len(xr) + len(xf), 1):
        raise ValueError("the discriminator must output one logit per row")
    z = logits[:, 0]
    zr, zf = z[: len(xr)], z[len(xr) :]
    loss_r, g_r = binary_cross_entropy_with_logits(zr, np.ones_like(zr))
    loss_f, g_f = binary_cross_entropy_with_logits(zf, np.zeros_like(zf))
    disc.backward(np.concatenate([g_r, g_f])[:, None])
    return loss_r + loss_f


def generator_loss(
    gen: Sequential, disc: Sequential, z, kind: str = "non-saturating"
) -> float:
    """The generator's loss, with its backward pass through ``disc``.

    With ``x = G(z)`` and ``D = s(a(x))`` the two losses are

    - ``"saturating"``: ``mean log(1 - D(G(z)))``, the generator's part of
      the minimax value, whose gradient vanishes when ``D`` rejects the
      fakes confidently;
    - ``"non-saturating"``: ``-mean log D(G(z))``, the same fixed points
      but a strong gradient exactly there.

    After the call ``gen``'s ``grads`` hold the gradient of the loss with
    respect to the generator's parameters. The call also overwrites the
    ``grads`` of ``disc`` (with gradients that the trainer does not use).

    Parameters
    ----------
    gen : Sequential
        A network from the latent dimension to one output.
    disc : Sequential
        A network from one input to one logit.
    z : array_like, shape (N, k)
        Latent samples.
    kind : {"non-saturating", "saturating"}

    Returns
    -------
    float

    Examples
    --------
    >>> from m4ml.mlp import Affine
    >>> g = Sequential([Affine([[1.0]])])
    >>> d = Sequential([Affine([[0.0]])])  # D = 1/2
    >>> round(generator_loss(g, d, [[0.3]]), 6)  # -log(1/2)
    0.693147
    >>> round(generator_loss(g, d, [[0.3]], kind="saturating"), 6)
    -0.693147
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(
            f"kind must be one of {GENERATOR_LOSSES}, got {kind!r}"
        )
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"z must have shape (N, k), got {z.shape}")
    x = gen.forward(z)
    logits = disc.forward(x)
    if logits.shape != (len(z), 1):
        raise ValueError("the discriminator must output one logit per row")
    a = logits[:, 0]
    if kind == "non-saturating":
        loss, g = binary_cross_entropy_with_logits(a, np.ones_like(a))
    else:
        loss, g = binary_cross_entropy_with_logits(a, np.zeros_like(a))
        loss, g = -loss, -g
    gen.backward(disc.backward(g[:, None]))
    return loss


def train_gan(
    x_data,
    rng: np.random.Generator,
    *,
    n_steps: int = 2000,
    batch_size: int = 64,
    lr_d: float = 0.05,
    lr_g: float = 0.05,
    hidden: int = 16,
    z_dim: int = 1,
    kind: str = "non-saturating",
    d_steps: int = 1,
    n_samples: int = 1000,
    snapshot_every: int = 100,
) -> dict:
    """Train a GAN on a 1-D sample by alternating SGD steps.

    Both players are MLPs from :func:`m4ml.mlp.init_mlp` with two hidden
    tanh layers of width ``hidden``: the generator maps ``z ~ N(0, I_k)``
    to a number, the discriminator a number to a logit. Each step takes
    ``d_steps`` gradient steps on :func:`discriminator_loss` (fresh
    minibatches of data and fakes), then one on :func:`generator_loss`.

    Parameters
    ----------
    x_data : array_like, shape (n,)
        The training sample.
    rng : numpy.random.Generator
        Source of the initial weights, minibatches and latent samples.
    n_steps, batch_size : int
        Generator steps, and points per minibatch.
    lr_d, lr_g : float
        Learning rates of the discriminator and generator.
    hidden, z_dim : int
        Hidden width of both networks; latent dimension.
    kind : {"non-saturating", "saturating"}
        The generator's loss.
    d_steps : int
        Discriminator steps per generator step.
    n_samples, snapshot_every : int
        Size of the fixed latent batch pushed through the generator every
        ``snapshot_every`` steps (and at the end).

    Returns
    -------
    dict
        ``"d_loss"``, ``"g_loss"``: the losses at every step;
        ``"samples"``: ``n_samples`` generated points after training;
        ``"snapshots"``: a list of ``(step, samples)`` pairs, step 0 being
        the untrained generator; ``"generator"``, ``"discriminator"``.

    Raises
    ------
    FloatingPointError
        If a loss becomes non-finite.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> data = rng.normal(3.0, 0.5, size=500)
    >>> out = train_gan(data, rng, n_steps=300, n_samples=500)
    >>> len(out["d_loss"]), out["samples"].shape
    (300, (500,))
    >>> bool(abs(out["samples"].mean() - 3.0) < 0.5)
    True
    """
    x_data = _column(x_data, "x_data")[:, 0]
    if not np.all(np.isfinite(x_data)):
        raise ValueError("x_data must be finite")
    check_generator(rng)
    ints = {
        "n_steps": n_steps,
        "batch_size": batch_size,
        "hidden": hidden,
        "z_dim": z_dim,
        "d_steps": d_steps,
        "n_samples": n_samples,
        "snapshot_every": snapshot_every,
    }
    for name, value in ints.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    for name, value in (("lr_d", lr_d), ("lr_g", lr_g)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if kind not in GENERATOR_LOSSES:
        raise ValueError(
            f"kind must be one of {GENERATOR_LOSSES}, got {kind!r}"
        )
    gen = init_mlp(
        [z_dim, hidden, hidden, 1], rng, activation="tanh", init="xavier"
    )
    disc = init_mlp(
        [1, hidden, hidden, 1], rng, activation="tanh", init="xavier"
    )
    z_fixed = rng.standard_normal((n_samples, z_dim))
    snapshots = [(0, gen.forward(z_fixed, False)[:, 0].copy())]
    history: dict = {"d_loss": [], "g_loss": []}
    n = len(x_data)
    for step in range(1, n_steps + 1):
        for _ in range(d_steps):
            real = x_data[rng.integers(n, size=batch_size)]
            fake = gen.forward(rng.standard_normal((batch_size, z_dim)))
            d_loss = discriminator_loss(disc, real, fake)
            sgd_step(disc, lr_d)
        g_loss = generator_loss(
            gen, disc, rng.standard_normal((batch_size, z_dim)), kind
        )
        sgd_step(gen, lr_g)
        finite = math.isfinite(d_loss) and math.isfinite(g_loss)
        if not finite:  # pragma: no cover - tanh layers keep losses finite
            raise FloatingPointError(
                f"a loss became non-finite at step {step}"
            )
        history["d_loss"].append(d_loss)
        history["g_loss"].append(g_loss)
        if step % snapshot_every == 0 or step == n_steps:
            snapshots.append((step, gen.forward(z_fixed, False)[:, 0].copy()))
    history["samples"] = snapshots[-1][1]
    history["snapshots"] = snapshots
    history["generator"] = gen
    history["discriminator"] = disc
    return history
