"""Derivatives by finite differences, the book's reference for gradients.

Chapter *Vector calculus and automatic differentiation* explains these;
every gradient derived by hand in the book is compared with them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


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


def _scalar(value) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.size != 1:
        raise ValueError(
            f"f must return a scalar, got an array of shape {arr.shape}"
        )
    return float(arr.reshape(()))
