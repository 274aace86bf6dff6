"""Derivatives by finite differences, the book's reference for gradients.

Chapter *Vector calculus and automatic differentiation* explains these;
every gradient derived by hand in the book is compared with them.

Layout convention. The gradient of a scalar function has the shape of its
argument; the Jacobian of ``f: R^n -> R^m`` is the ``m x n`` matrix of
partial derivatives ``d f_i / d x_j`` (numerator layout), so for a scalar
function it is a row, the transpose of the gradient. For arrays of any
shape, :func:`numerical_jacobian` returns shape ``f(x).shape + x.shape``.

Besides finite differences the module has the softmax function and its
Jacobian, and :func:`jacobian_chain`, which multiplies the Jacobians of a
composition in the order of forward-mode or of reverse-mode automatic
differentiation and counts the cost of each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "directional_derivative",
    "jacobian_chain",
    "numerical_gradient",
    "numerical_hessian",
    "numerical_jacobian",
    "softmax",
    "softmax_jacobian",
]


def numerical_gradient(
    f: Callable[[np.ndarray], float], x, h: float = 1e-6
) -> np.ndarray:
    """Gradient of a scalar function by central differences.

    Computes ``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for every entry
    ``x_i`` of an array of any shape; the result has the shape of ``x``.
    The truncation error is ``O(h^2)`` and the round-off error about
    ``eps |f| / h``, so ``h`` near ``eps ** (1/3)`` (about ``6e-6``)
    balances them.

    Parameters
    ----------
    f : callable
        A function of an array shaped like ``x``, returning a scalar.
    x : array_like
        The point; it is not modified.
    h : float
        The step, positive.

    Returns
    -------
    numpy.ndarray
        The gradient, with the shape of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> g = numerical_gradient(lambda v: np.sum(v ** 3), np.array([1.0, 2.0]))
    >>> np.allclose(g, [3.0, 12.0])
    True
    """
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h!r}")
    x = np.array(x, dtype=float)  # a copy, perturbed in place below
    grad = np.empty_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + h
        f_plus = _scalar(f(x))
        flat_x[i] = old - h
        f_minus = _scalar(f(x))
        flat_x[i] = old
        flat_g[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_jacobian(
    f: Callable[[np.ndarray], np.ndarray], x, h: float = 1e-6
) -> np.ndarray:
    """Jacobian of an array-valued function by central differences.

    In the book's numerator layout the Jacobian of ``f: R^n -> R^m`` is the
    ``m x n`` matrix with entries ``d f_i / d x_j``. For arrays of any
    shape the result has shape ``f(x).shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> J = numerical_jacobian(lambda v: A @ v, np.array([0.5, -1.0]))
    >>> np.allclose(J, A)
    True
    """
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h!r}")
    x = np.array(x, dtype=float)
    out_shape = np.shape(f(x))
    jac = np.empty((int(np.prod(out_shape)), x.size))
    flat_x = x.reshape(-1)
    for j in range(flat_x.size):
        old = flat_x[j]
        flat_x[j] = old + h
        f_plus = np.asarray(f(x), dtype=float).reshape(-1)
        flat_x[j] = old - h
        f_minus = np.asarray(f(x), dtype=float).reshape(-1)
        flat_x[j] = old
        jac[:, j] = (f_plus - f_minus) / (2 * h)
    return jac.reshape(out_shape + x.shape)


def directional_derivative(
    f: Callable[[np.ndarray], np.ndarray], x, u, h: float = 1e-6
):
    """Directional derivative by central differences, ``J_f(x) u``.

    Computes ``(f(x + h u) - f(x - h u)) / (2 h)``, an approximation with
    error ``O(h^2)`` of the directional derivative ``D_u f(x)``: for a
    scalar ``f`` this is ``grad f(x) . u``, and for an array-valued ``f``
    the Jacobian-vector product ``J_f(x) u``. It costs two evaluations of
    ``f`` whatever the size of ``x``. The direction is not normalised.

    Parameters
    ----------
    f : callable
        A function of an array shaped like ``x``.
    x, u : array_like
        The point and the direction, of the same shape.
    h : float
        The step, positive.

    Returns
    -------
    float or numpy.ndarray
        A float if ``f`` returns a scalar, else an array of the shape of
        ``f(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> d = directional_derivative(lambda v: v @ v, [1.0, 2.0], [1.0, 0.0])
    >>> round(d, 6)
    2.0
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> directional_derivative(lambda v: A @ v, [5.0, 6.0], [1.0, 1.0])
    array([3., 7.])
    """
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h!r}")
    x = np.asarray(x, dtype=float)
    u = np.asarray(u, dtype=float)
    if x.shape != u.shape:
        raise ValueError(
            f"x has shape {x.shape} but the direction u has shape {u.shape}"
        )
    f_plus = np.asarray(f(x + h * u), dtype=float)
    f_minus = np.asarray(f(x - h * u), dtype=float)
    d = (f_plus - f_minus) / (2 * h)
    return float(d) if d.ndim == 0 else d


def numerical_hessian(
    f: Callable[[np.ndarray], float], x, h: float = 1e-4
) -> np.ndarray:
    """Hessian of a scalar function of a vector by central differences.

    Entry ``(i, j)`` is ``[f(x + h e_i + h e_j) - f(x + h e_i - h e_j)
    - f(x - h e_i + h e_j) + f(x - h e_i - h e_j)] / (4 h^2)``, a central
    difference of central differences. Its truncation error is ``O(h^2)``
    and its round-off error about ``eps |f| / h^2``, so the default step
    is larger than for a gradient; the result is exactly symmetric.

    Parameters
    ----------
    f : callable
        A scalar function of a 1-D array.
    x : array_like
        The point, a 1-D array of length ``n``.
    h : float
        The step, positive.

    Returns
    -------
    numpy.ndarray
        The ``n x n`` Hessian.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> H = numerical_hessian(lambda v: 0.5 * v @ A @ v, [0.3, -0.2])
    >>> np.allclose(H, A)
    True
    """
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h!r}")
    x = np.array(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    n = x.size
    eye = np.eye(n) * h
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = eye[i], eye[j]
            H[i, j] = H[j, i] = (
                _scalar(f(x + ei + ej))
                - _scalar(f(x + ei - ej))
                - _scalar(f(x - ei + ej))
                + _scalar(f(x - ei - ej))
            ) / (4 * h * h)
    return H


def softmax(z) -> np.ndarray:
    """The softmax of a vector: ``exp(z_i) / sum_k exp(z_k)``.

    The maximum is subtracted first, which changes nothing mathematically
    (numerator and denominator are both multiplied by ``exp(-max z)``) but
    keeps ``exp`` from overflowing.

    Examples
    --------
    >>> import numpy as np
    >>> p = softmax([1000.0, 1000.0, 1000.0 + np.log(2.0)])
    >>> np.allclose(p, [0.25, 0.25, 0.5])
    True
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"z must be a non-empty 1-D array, got {z.shape}")
    e = np.exp(z - np.max(z))
    return e / e.sum()


def softmax_jacobian(z) -> np.ndarray:
    """The Jacobian of the softmax at ``z``: ``diag(p) - p p^T``.

    Entry ``(i, j)`` is ``d p_i / d z_j = p_i (delta_ij - p_j)`` with
    ``p = softmax(z)``; the matrix is symmetric and its rows sum to zero.

    Examples
    --------
    >>> import numpy as np
    >>> J = softmax_jacobian([0.0, 0.0])
    >>> J
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


def jacobian_chain(
    jacobians: Sequence[np.ndarray], mode: str = "reverse"
) -> tuple[np.ndarray, int]:
    """Multiply the Jacobians of a composition, as forward or reverse mode.

    For ``f = f_L o ... o f_1`` with Jacobians ``J_1, ..., J_L`` (``J_k``
    of shape ``n_k x n_(k-1)``, listed in the order the functions are
    applied), the chain rule gives ``J = J_L ... J_1``. Forward mode
    multiplies from the right, starting with the ``n_0`` columns of the
    identity: one Jacobian-vector product per input. Reverse mode
    multiplies from the left, starting with the ``n_L`` rows of the
    identity: one vector-Jacobian product per output. Both give the same
    matrix; the number of scalar multiplications is ``n_0 C`` and ``n_L C``
    respectively, where ``C = sum_k n_k n_(k-1)`` is the cost of one pass.

    Parameters
    ----------
    jacobians : sequence of 2-D arrays
        ``J_1, ..., J_L`` with matching inner dimensions.
    mode : {"forward", "reverse"}
        The order of the products.

    Returns
    -------
    J : numpy.ndarray
        The ``n_L x n_0`` Jacobian of the composition.
    n_mult : int
        The number of scalar multiplications used.

    Examples
    --------
    >>> import numpy as np
    >>> J1, J2 = np.ones((3, 2)), np.ones((1, 3))
    >>> jacobian_chain([J1, J2], "forward")
    (array([[3., 3.]]), 18)
    >>> jacobian_chain([J1, J2], "reverse")
    (array([[3., 3.]]), 9)
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")
    mats = [np.asarray(J, dtype=float) for J in jacobians]
    if not mats:
        raise ValueError("need at least one Jacobian")
    for k, J in enumerate(mats):
        if J.ndim != 2:
            raise ValueError(f"Jacobian {k + 1} is not a 2-D array")
        if k and J.shape[1] != mats[k - 1].shape[0]:
            raise ValueError(
                f"Jacobian {k + 1} has {J.shape[1]} columns but Jacobian "
                f"{k} has {mats[k - 1].shape[0]} rows"
            )
    n_mult = 0
    if mode == "forward":
        M = np.eye(mats[0].shape[1])  # n_0 tangent vectors, pushed forward
        for J in mats:
            n_mult += J.shape[0] * J.shape[1] * M.shape[1]
            M = J @ M
    else:
        M = np.eye(mats[-1].shape[0])  # n_L adjoint vectors, pulled back
        for J in reversed(mats):
            n_mult += M.shape[0] * J.shape[0] * J.shape[1]
            M = M @ J
    return M, n_mult


def _scalar(value) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.size != 1:
        raise ValueError(
            f"f must return a scalar, got an array of shape {arr.shape}"
        )
    return float(arr.reshape(()))
