"""First- and second-order optimisers, written to be read.

Chapter *Continuous optimisation* derives each method; the functions here
are the ones it runs. Every optimiser returns the whole path of iterates
(the starting point included), so that a chapter can plot it or measure
how fast the error shrinks, and each validates its arguments so that a
wrong call fails loudly instead of silently diverging.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable

import numpy as np

from m4ml.validation import check_generator

Grad = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------
# Argument checks shared by the optimisers
# --------------------------------------------------------------------------


def _check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise ValueError(f"the learning rate must be a number, got {lr!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be positive, got {lr!r}")
    return float(lr)


def _check_steps(n_steps) -> int:
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
        raise ValueError(
            f"n_steps must be a non-negative int, got {n_steps!r}"
        )
    if n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps}")
    return int(n_steps)


def _check_unit(value, name: str) -> float:
    """A number in [0, 1): a momentum or a decay rate."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise ValueError(f"eps must be a non-negative number, got {eps!r}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a non-negative number, got {eps!r}")
    return float(eps)


def _check_x0(x0) -> np.ndarray:
    x = np.array(x0, dtype=float)  # a copy: the caller's array is kept
    if not np.all(np.isfinite(x)):
        raise ValueError("x0 contains NaN or infinite entries")
    return x


def _check_batch(n_data, batch_size, rng) -> None:
    check_generator(rng)
    for name, value in [("n_data", n_data), ("batch_size", batch_size)]:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if n_data < 1:
        raise ValueError(f"n_data must be a positive int, got {n_data}")
    if not 1 <= batch_size <= n_data:
        raise ValueError(
            f"batch_size must be between 1 and n_data={n_data}, "
            f"got {batch_size}"
        )


def _call(fun: Grad, x: np.ndarray, name: str = "grad") -> np.ndarray:
    """Evaluate a gradient and insist that it has the shape of ``x``."""
    return _check_shape(fun(x), x, name)


def _check_shape(g, x: np.ndarray, name: str) -> np.ndarray:
    g = np.asarray(g, dtype=float)
    if g.shape != x.shape:
        raise ValueError(
            f"{name} returned shape {g.shape}, but the iterate has shape "
            f"{x.shape}: a gradient has the shape of its variable"
        )
    return g


# --------------------------------------------------------------------------
# Gradient descent, with and without momentum
# --------------------------------------------------------------------------


def gradient_descent(
    grad: Grad, x0, lr: float, n_steps: int, momentum: float = 0.0
) -> np.ndarray:
    """Gradient descent, optionally with heavy-ball momentum.

    With velocity ``v_0 = 0`` each step computes::

        v_{k+1} = momentum * v_k - lr * grad(x_k)
        x_{k+1} = x_k + v_{k+1}

    which is the heavy-ball iteration
    ``x_{k+1} = x_k - lr * grad(x_k) + momentum * (x_k - x_{k-1})``.
    With ``momentum = 0`` it is plain gradient descent.

    Parameters
    ----------
    grad : callable
        The gradient of the objective; ``grad(x)`` must have the shape of
        ``x``.
    x0 : array_like
        The starting point, of any shape; it is not modified.
    lr : float
        The learning rate (step size), positive.
    n_steps : int
        The number of steps, non-negative.
    momentum : float
        The momentum coefficient, in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        The iterates ``x_0, ..., x_{n_steps}``, of shape
        ``(n_steps + 1,) + x0.shape``.

    Raises
    ------
    ValueError
        For a non-positive learning rate, a momentum outside ``[0, 1)``,
        a bad ``n_steps``, a non-finite ``x0``, or a gradient of the wrong
        shape.

    Examples
    --------
    >>> xs = gradient_descent(lambda x: 2 * x, [1.0], lr=0.25, n_steps=3)
    >>> xs.ravel().tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    lr = _check_lr(lr)
    n_steps = _check_steps(n_steps)
    momentum = _check_unit(momentum, "momentum")
    x = _check_x0(x0)
    path = np.empty((n_steps + 1,) + x.shape)
    path[0] = x
    v = np.zeros_like(x)
    for k in range(n_steps):
        v = momentum * v - lr * _call(grad, x)
        x = x + v
        path[k + 1] = x
    return path


def heavy_ball_parameters(lam_min: float, lam_max: float):
    """Polyak's learning rate and momentum for a quadratic.

    For a quadratic whose Hessian has eigenvalues in ``[lam_min, lam_max]``
    the choice ::

        lr = 4 / (sqrt(lam_max) + sqrt(lam_min)) ** 2
        momentum = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1)) ** 2

    with ``kappa = lam_max / lam_min`` makes the heavy-ball iteration
    converge at the rate ``sqrt(momentum)``.

    Parameters
    ----------
    lam_min, lam_max : float
        Bounds on the eigenvalues, ``0 < lam_min <= lam_max``.

    Returns
    -------
    lr, momentum : float

    Examples
    --------
    >>> lr, beta = heavy_ball_parameters(1.0, 9.0)
    >>> round(lr, 12), round(beta, 12)
    (0.25, 0.25)
    """
    lam_min, lam_max = float(lam_min), float(lam_max)
    if not (np.isfinite(lam_max) and 0 < lam_min <= lam_max):
        raise ValueError(
            "need 0 < lam_min <= lam_max < inf, got "
            f"lam_min={lam_min!r}, lam_max={lam_max!r}"
        )
    a, b = np.sqrt(lam_min), np.sqrt(lam_max)
    return float(4 / (a + b) ** 2), float(((b - a) / (b + a)) ** 2)


# --------------------------------------------------------------------------
# Stochastic gradient descent
# --------------------------------------------------------------------------


def minibatch_indices(
    n_data: int, batch_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw one minibatch: ``batch_size`` distinct indices, uniformly.

    Every subset of ``batch_size`` of the indices ``0, ..., n_data - 1`` is
    equally likely, so each index is in the batch with probability
    ``batch_size / n_data``. :func:`sgd` draws its minibatches here.

    Parameters
    ----------
    n_data : int
        The number of training examples, positive.
    batch_size : int
        The minibatch size, between 1 and ``n_data``.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    numpy.ndarray
        The indices, an integer array of length ``batch_size``.

    Examples
    --------
    >>> import numpy as np
    >>> idx = minibatch_indices(10, 4, np.random.default_rng(0))
    >>> len(set(idx.tolist())), bool(idx.min() >= 0 and idx.max() < 10)
    (4, True)
    """
    _check_batch(n_data, batch_size, rng)
    return rng.choice(n_data, size=batch_size, replace=False)


def sgd(
    grad_batch: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x0,
    lr: float,
    n_steps: int,
    batch_size: int,
    n_data: int,
    rng: np.random.Generator,
    momentum: float = 0.0,
) -> np.ndarray:
    """Minibatch stochastic gradient descent.

    At every step a minibatch of ``batch_size`` distinct indices is drawn
    uniformly from ``0, ..., n_data - 1`` (without replacement within the
    batch, independently across steps), and the step uses
    ``grad_batch(x, idx)``, the average gradient of those examples. The
    update is that of :func:`gradient_descent` with the minibatch gradient
    in place of the full one.

    Parameters
    ----------
    grad_batch : callable
        ``grad_batch(x, idx)`` returns the mean gradient of the examples
        ``idx`` (an integer array) at ``x``, with the shape of ``x``.
    x0 : array_like
        The starting point; it is not modified.
    lr : float
        The learning rate, positive.
    n_steps : int
        The number of steps, non-negative.
    batch_size : int
        The minibatch size, between 1 and ``n_data``.
    n_data : int
        The number of training examples, positive.
    rng : numpy.random.Generator
        The source of randomness.
    momentum : float
        The heavy-ball momentum, in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        The iterates, of shape ``(n_steps + 1,) + x0.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.array([1.0, 2.0, 3.0, 6.0])
    >>> g = lambda x, idx: x - data[idx].mean(keepdims=True)
    >>> xs = sgd(g, [0.0], 0.5, 200, batch_size=4, n_data=4,
    ...          rng=np.random.default_rng(0))
    >>> round(float(xs[-1, 0]), 6)  # a full batch: the mean of the data
    3.0
    """
    lr = _check_lr(lr)
    n_steps = _check_steps(n_steps)
    momentum = _check_unit(momentum, "momentum")
    _check_batch(n_data, batch_size, rng)
    x = _check_x0(x0)
    path = np.empty((n_steps + 1,) + x.shape)
    path[0] = x
    v = np.zeros_like(x)
    for k in range(n_steps):
        idx = minibatch_indices(n_data, batch_size, rng)
        g = _check_shape(grad_batch(x, idx), x, "grad_batch")
        v = momentum * v - lr * g
        x = x + v
        path[k + 1] = x
    return path


# --------------------------------------------------------------------------
# Adaptive methods: moving averages, RMSProp, Adam
# --------------------------------------------------------------------------


def ema(values, beta: float, bias_correction: bool = True) -> np.ndarray:
    """Exponential moving averages started at zero, as in Adam.

    For values ``g_1, g_2, ...`` (stacked along the first axis) computes
    ``m_t = beta * m_{t-1} + (1 - beta) * g_t`` with ``m_0 = 0`` and, with
    bias correction, returns ``m_t / (1 - beta ** t)``.

    Parameters
    ----------
    values : array_like
        The sequence, of shape ``(T,) + shape``.
    beta : float
        The decay rate, in ``[0, 1)``.
    bias_correction : bool
        Whether to divide by ``1 - beta ** t``.

    Returns
    -------
    numpy.ndarray
        ``m_1, ..., m_T`` (corrected or not), of the shape of ``values``.

    Examples
    --------
    >>> ema([2.0, 2.0, 2.0], 0.5, bias_correction=False).tolist()
    [1.0, 1.5, 1.75]
    >>> ema([2.0, 2.0, 2.0], 0.5).tolist()
    [2.0, 2.0, 2.0]
    """
    beta = _check_unit(beta, "beta")
    g = np.asarray(values, dtype=float)
    if g.ndim == 0:
        raise ValueError("values must be a sequence (at least 1-D)")
    out = np.empty_like(g)
    m = np.zeros(g.shape[1:])
    for t in range(g.shape[0]):
        m = beta * m + (1 - beta) * g[t]
        out[t] = m / (1 - beta ** (t + 1)) if bias_correction else m
    return out


def rmsprop(
    grad: Grad,
    x0,
    lr: float,
    n_steps: int,
    rho: float = 0.9,
    eps: float = 1e-8,
) -> np.ndarray:
    """RMSProp: steps scaled by a moving root mean square of the gradients.

    With ``s_0 = 0`` each step computes, entrywise, ::

        s_t = rho * s_{t-1} + (1 - rho) * g_t ** 2
        x_t = x_{t-1} - lr * g_t / (sqrt(s_t) + eps)

    where ``g_t = grad(x_{t-1})``.

    Parameters
    ----------
    grad : callable
        The gradient; ``grad(x)`` has the shape of ``x``.
    x0 : array_like
        The starting point; it is not modified.
    lr : float
        The learning rate, positive.
    n_steps : int
        The number of steps, non-negative.
    rho : float
        The decay rate of the moving average, in ``[0, 1)``.
    eps : float
        A small non-negative number that keeps the division finite.

    Returns
    -------
    numpy.ndarray
        The iterates, of shape ``(n_steps + 1,) + x0.shape``.

    Examples
    --------
    >>> xs = rmsprop(lambda x: 4 * x, [1.0, -1.0], lr=0.01, n_steps=1,
    ...              rho=0.75, eps=0.0)
    >>> xs[1].round(12).tolist()  # the first step is lr / sqrt(1 - rho)
    [0.98, -0.98]
    """
    lr = _check_lr(lr)
    n_steps = _check_steps(n_steps)
    rho = _check_unit(rho, "rho")
    eps = _check_eps(eps)
    x = _check_x0(x0)
    path = np.empty((n_steps + 1,) + x.shape)
    path[0] = x
    s = np.zeros_like(x)
    for t in range(n_steps):
        g = _call(grad, x)
        s = rho * s + (1 - rho) * g**2
        x = x - lr * _safe_ratio(g, np.sqrt(s) + eps)
        path[t + 1] = x
    return path


def adam(
    grad: Grad,
    x0,
    lr: float,
    n_steps: int,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
) -> np.ndarray:
    """Adam: momentum and RMSProp, with bias-corrected moment estimates.

    With ``m_0 = v_0 = 0`` each step computes, entrywise, ::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t ** 2
        m_hat = m_t / (1 - beta1 ** t),  v_hat = v_t / (1 - beta2 ** t)
        x_t = x_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)

    where ``g_t = grad(x_{t-1})``. With ``bias_correction=False`` the raw
    ``m_t`` and ``v_t`` are used instead of ``m_hat`` and ``v_hat``.

    Parameters
    ----------
    grad : callable
        The gradient; ``grad(x)`` has the shape of ``x``.
    x0 : array_like
        The starting point; it is not modified.
    lr : float
        The learning rate, positive.
    n_steps : int
        The number of steps, non-negative.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in
        ``[0, 1)``.
    eps : float
        A small non-negative number that keeps the division finite.
    bias_correction : bool
        Whether to correct the zero-initialised moments.

    Returns
    -------
    numpy.ndarray
        The iterates, of shape ``(n_steps + 1,) + x0.shape``.

    Raises
    ------
    ValueError
        For a non-positive learning rate, betas outside ``[0, 1)``, a
        negative ``eps``, a bad ``n_steps`` or a gradient of the wrong
        shape.

    Examples
    --------
    >>> xs = adam(lambda x: 100 * x, [3.0, -2.0], lr=0.1, n_steps=1,
    ...           eps=0.0)
    >>> xs[1].round(12).tolist()  # the first step is lr per coordinate
    [2.9, -1.9]
    """
    lr = _check_lr(lr)
    n_steps = _check_steps(n_steps)
    beta1 = _check_unit(beta1, "beta1")
    beta2 = _check_unit(beta2, "beta2")
    eps = _check_eps(eps)
    x = _check_x0(x0)
    path = np.empty((n_steps + 1,) + x.shape)
    path[0] = x
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t in range(1, n_steps + 1):
        g = _call(grad, x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        if bias_correction:
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        else:
            m_hat, v_hat = m, v
        x = x - lr * _safe_ratio(m_hat, np.sqrt(v_hat) + eps)
        path[t] = x
    return path


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, with 0 where ``den`` is 0 (then ``num`` is 0 too).

    A zero second moment means that every gradient of that coordinate so
    far was zero, so the first moment is zero as well and no step is due.
    """
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


# --------------------------------------------------------------------------
# Newton's method
# --------------------------------------------------------------------------


def newton(
    grad: Grad,
    hess: Callable[[np.ndarray], np.ndarray],
    x0,
    n_steps: int,
) -> np.ndarray:
    """Newton's method for minimisation: ``x <- x - hess(x)^{-1} grad(x)``.

    Parameters
    ----------
    grad : callable
        The gradient of a function of a vector ``x`` of length ``n`` (or of
        a scalar), with the shape of ``x``.
    hess : callable
        The Hessian, of shape ``(n, n)`` (or a scalar for scalar ``x``).
    x0 : array_like
        The starting point, a scalar or a 1-D array.
    n_steps : int
        The number of steps, non-negative.

    Returns
    -------
    numpy.ndarray
        The iterates, of shape ``(n_steps + 1,) + x0.shape``.

    Raises
    ------
    ValueError
        For a bad ``n_steps``, ``x0`` of more than one dimension, a
        gradient or Hessian of the wrong shape, or a singular Hessian.

    Examples
    --------
    >>> import numpy as np
    >>> A, b = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0])
    >>> xs = newton(lambda x: A @ x - b, lambda x: A, [5.0, -7.0], 1)
    >>> np.allclose(xs[1], np.linalg.solve(A, b))  # one step suffices
    True
    """
    n_steps = _check_steps(n_steps)
    x = _check_x0(x0)
    if x.ndim > 1:
        raise ValueError(f"x0 must be a scalar or 1-D, got shape {x.shape}")
    n = x.size
    path = np.empty((n_steps + 1,) + x.shape)
    path[0] = x
    for k in range(n_steps):
        g = _call(grad, x).reshape(n)
        H = np.asarray(hess(x), dtype=float)
        if (H.size != 1) if x.ndim == 0 else (H.shape != (n, n)):
            raise ValueError(
                f"hess returned shape {H.shape}, expected {(n, n)}"
            )
        H = H.reshape(n, n)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise ValueError(f"the Hessian is singular at step {k}") from None
        x = x - step.reshape(x.shape)
        path[k + 1] = x
    return path


# --------------------------------------------------------------------------
# A small quadratic program, solved through its KKT conditions
# --------------------------------------------------------------------------


def solve_qp_kkt(P, q, G, h, tol: float = 1e-10):
    """Minimise ``x^T P x / 2 + q^T x`` subject to ``G x <= h`` via KKT.

    For symmetric positive definite ``P`` the problem is convex, so a point
    satisfying the KKT conditions is the global minimiser. This function
    tries every set ``S`` of active constraints (smallest first), solves
    the linear system of stationarity and ``G_S x = h_S``, ::

        [ P    G_S^T ] [ x   ]   [ -q  ]
        [ G_S  0     ] [ mu_S] = [ h_S ]

    and returns the first solution that is primal feasible
    (``G x <= h + tol``) and dual feasible (``mu >= -tol``). It costs up to
    ``2 ** m`` solves for ``m`` constraints: a teaching tool for small
    problems, not a solver.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Symmetric positive definite.
    q : array_like, shape (n,)
    G : array_like, shape (m, n)
    h : array_like, shape (m,)
    tol : float
        Relative tolerance of the feasibility tests, which absorbs the
        round-off of the linear solves.

    Returns
    -------
    x : numpy.ndarray, shape (n,)
        The minimiser.
    mu : numpy.ndarray, shape (m,)
        The Lagrange multipliers, zero for the inactive constraints.

    Raises
    ------
    ValueError
        For inconsistent shapes, ``P`` not symmetric positive definite,
        more than 20 constraints, or an infeasible problem.

    Examples
    --------
    >>> import numpy as np
    >>> # minimise (x - 2)^2 / 2 subject to x <= 1
    >>> x, mu = solve_qp_kkt([[1.0]], [-2.0], [[1.0]], [1.0])
    >>> x.tolist(), mu.tolist()
    ([1.0], [1.0])
    """
    P = np.atleast_2d(np.asarray(P, dtype=float))
    q = np.asarray(q, dtype=float).reshape(-1)
    G = np.atleast_2d(np.asarray(G, dtype=float))
    h = np.asarray(h, dtype=float).reshape(-1)
    n = q.size
    if P.shape != (n, n):
        raise ValueError(f"P must have shape {(n, n)}, got {P.shape}")
    if G.ndim != 2 or G.shape[1] != n or G.shape[0] != h.size:
        raise ValueError(
            f"G must have shape (m, {n}) and h shape (m,), got "
            f"{G.shape} and {h.shape}"
        )
    for name, M in [("P", P), ("q", q), ("G", G), ("h", h)]:
        if not np.all(np.isfinite(M)):
            raise ValueError(f"{name} contains NaN or infinite entries")
    if not np.allclose(P, P.T, rtol=1e-12, atol=0):
        raise ValueError("P must be symmetric")
    try:
        np.linalg.cholesky(P)
    except np.linalg.LinAlgError:
        raise ValueError("P must be positive definite") from None
    m = h.size
    if m > 20:
        raise ValueError(f"at most 20 constraints, got {m}")
    for size in range(m + 1):
        for S in itertools.combinations(range(m), size):
            S = list(S)
            if size and np.linalg.matrix_rank(G[S]) < size:
                continue  # dependent active constraints: no unique mu
            K = np.zeros((n + size, n + size))
            K[:n, :n] = P
            K[:n, n:] = G[S].T
            K[n:, :n] = G[S]
            rhs = np.concatenate([-q, h[S]])
            sol = np.linalg.solve(K, rhs)
            x, mu_S = sol[:n], sol[n:]
            size_Gx = np.abs(G) @ np.abs(x) + np.abs(h)
            primal_ok = np.all(G @ x - h <= tol * (1 + size_Gx))
            dual_ok = np.all(mu_S >= -tol * (1 + np.abs(mu_S).sum()))
            if primal_ok and dual_ok:
                mu = np.zeros(m)
                mu[S] = np.maximum(mu_S, 0.0)
                return x, mu
    raise ValueError("the constraints G x <= h cannot be satisfied")
