"""Linear systems, subspaces and changes of basis, written out in numpy.

Chapter *Linear algebra: vectors, matrices and linear maps* explains these
functions and checks them against :mod:`numpy.linalg`. They favour clarity
over speed: :func:`solve` and :func:`rref` are the textbook algorithms with
partial pivoting, written with whole-row numpy operations, and
:func:`rank` and :func:`null_space` use the singular value decomposition,
as numerical libraries do.

Tolerances. A float64 computation cannot tell an exact zero from round-off
of size ``eps * scale``, where ``eps`` is the machine epsilon (about
``2.2e-16``) and ``scale`` is the size of the matrix. Every function that
must decide whether a number is zero therefore takes a ``tol`` argument,
whose default is ``max(m, n) * eps * scale``. For :func:`rank` and
:func:`null_space` the scale is the largest singular value (the convention
of :func:`numpy.linalg.matrix_rank`); for the elimination functions
:func:`solve` and :func:`rref` it is the infinity norm ``max_i sum_j
|A_ij|`` (the convention of MATLAB's ``rref``). Round-off in elimination
can exceed that default by a small factor, so a matrix that is singular
only up to round-off may need a larger ``tol``; see the chapter.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "affine_matrix",
    "change_of_basis",
    "coordinates",
    "null_space",
    "rank",
    "rref",
    "solve",
    "special_solutions",
]

EPS = np.finfo(np.float64).eps


def _as_matrix(A, name: str = "A") -> np.ndarray:
    """Return a float64 copy of a 2-D array, or raise a clear ValueError."""
    M = np.array(A, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {M.ndim} dims")
    if M.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return M


def _default_tol(M: np.ndarray, scale: float) -> float:
    return max(M.shape) * EPS * scale


def _inf_norm(M: np.ndarray) -> float:
    return float(np.max(np.sum(np.abs(M), axis=1)))


def solve(A, b, tol: float | None = None) -> np.ndarray:
    """Solve ``A x = b`` by Gaussian elimination with partial pivoting.

    Elimination works on the columns one at a time. In column ``k`` it
    swaps into row ``k`` the remaining row whose entry in that column is
    largest in absolute value (the pivot), then subtracts multiples of
    row ``k`` from the rows below to make their entries in column ``k``
    zero. The result is an upper-triangular system, solved from the last
    unknown upwards (back substitution). The cost is about ``2 n^3 / 3``
    flops for the elimination and ``2 n^2`` per right-hand side.

    Parameters
    ----------
    A : array_like, shape (n, n)
        The square coefficient matrix.
    b : array_like, shape (n,) or (n, k)
        One right-hand side, or ``k`` of them as columns.
    tol : float, optional
        A pivot with absolute value ``<= tol`` counts as zero. The default
        is ``n * eps * ||A||_inf``, about the size of the round-off that
        elimination leaves where an exactly singular matrix has a zero.

    Returns
    -------
    numpy.ndarray
        The solution, with the shape of ``b``.

    Raises
    ------
    ValueError
        If ``A`` is not square, if ``b`` does not have ``n`` rows, if an
        input has NaN or infinite entries, or if ``A`` is singular or
        numerically singular (a pivot not larger than ``tol``).

    Examples
    --------
    >>> solve([[2.0, -1.0], [1.0, 1.0]], [1.0, 5.0])
    array([2., 3.])
    >>> solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: A is singular: no pivot in column 1 ...
    """
    U = _as_matrix(A)
    n = U.shape[0]
    if U.shape != (n, n):
        raise ValueError(f"A must be square, got shape {U.shape}")
    rhs = np.array(b, dtype=np.float64)
    if rhs.ndim not in (1, 2) or rhs.shape[0] != n:
        raise ValueError(
            f"b must have shape ({n},) or ({n}, k) to match A of shape "
            f"{U.shape}, got shape {rhs.shape}"
        )
    if not np.all(np.isfinite(rhs)):
        raise ValueError("b contains NaN or infinite entries")
    if tol is None:
        tol = _default_tol(U, _inf_norm(U))
    B = rhs.reshape(n, -1).copy()

    for k in range(n):
        p = k + int(np.argmax(np.abs(U[k:, k])))
        if abs(U[p, k]) <= tol:
            raise ValueError(
                f"A is singular: no pivot in column {k} (largest candidate "
                f"{abs(U[p, k]):.1e} <= tol {tol:.1e})"
            )
        if p != k:
            U[[k, p]] = U[[p, k]]
            B[[k, p]] = B[[p, k]]
        multipliers = U[k + 1 :, k] / U[k, k]
        U[k + 1 :, k:] -= np.outer(multipliers, U[k, k:])
        B[k + 1 :] -= np.outer(multipliers, B[k])

    X = np.empty_like(B)
    for k in range(n - 1, -1, -1):
        X[k] = (B[k] - U[k, k + 1 :] @ X[k + 1 :]) / U[k, k]
    return X.reshape(rhs.shape)


def rref(A, tol: float | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
    """Reduced row echelon form and pivot columns, by Gauss-Jordan.

    Works through the columns from left to right. When a column has an
    entry larger than ``tol`` in the rows not yet used, the largest one
    becomes a pivot: its row is swapped up, divided by the pivot, and
    subtracted from every other row so that the pivot column becomes a
    column of the identity. A column without such an entry is free.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Any matrix.
    tol : float, optional
        Entries with absolute value ``<= tol`` count as zero. The default
        is ``max(m, n) * eps * ||A||_inf``.

    Returns
    -------
    R : numpy.ndarray, shape (m, n)
        The reduced row echelon form: each nonzero row starts with a 1
        (its pivot), pivots move right going down, each pivot column is a
        column of the identity, and zero rows come last.
    pivots : tuple of int
        The indices of the pivot columns; ``len(pivots)`` is the rank.

    Raises
    ------
    ValueError
        If ``A`` is not a non-empty finite 2-D array.

    Examples
    --------
    >>> R, pivots = rref([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]])
    >>> R
    array([[1., 2., 0.],
           [0., 0., 1.]])
    >>> pivots
    (0, 2)
    """
    R = _as_matrix(A)
    m, n = R.shape
    if tol is None:
        tol = _default_tol(R, _inf_norm(R))
    pivots: list[int] = []
    row = 0
    for col in range(n):
        if row == m:
            break
        p = row + int(np.argmax(np.abs(R[row:, col])))
        if abs(R[p, col]) <= tol:
            R[row:, col] = 0.0  # round-off, not information
            continue
        if p != row:
            R[[row, p]] = R[[p, row]]
        R[row] /= R[row, col]
        others = np.arange(m) != row
        R[others] -= np.outer(R[others, col], R[row])
        R[:, col] = 0.0
        R[row, col] = 1.0  # exactly a column of the identity
        pivots.append(col)
        row += 1
    R[row:] = 0.0
    R += 0.0  # turn any -0.0 into 0.0, for printing
    return R, tuple(pivots)


def special_solutions(A, tol: float | None = None) -> np.ndarray:
    """A basis of the null space of ``A`` read off its reduced echelon form.

    For each free (non-pivot) column ``j`` of ``R = rref(A)``, the special
    solution sets ``x_j = 1``, the other free unknowns to 0, and solves
    ``R x = 0`` for the pivot unknowns: ``x[pivots] = -R[:r, j]``. These
    ``n - r`` vectors are a basis of the null space (not orthonormal).

    Parameters
    ----------
    A : array_like, shape (m, n)
        Any matrix.
    tol : float, optional
        Passed to :func:`rref`.

    Returns
    -------
    numpy.ndarray, shape (n, n - r)
        The special solutions as columns, ``r`` being the number of pivots.

    Examples
    --------
    >>> special_solutions([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]])
    array([[-2.],
           [ 1.],
           [ 0.]])
    """
    R, pivots = rref(A, tol=tol)
    n = R.shape[1]
    r = len(pivots)
    free = [j for j in range(n) if j not in pivots]
    N = np.zeros((n, len(free)))
    for i, j in enumerate(free):
        N[j, i] = 1.0
        N[list(pivots), i] = -R[:r, j]
    return N + 0.0  # no -0.0 entries


def _singular_values(A, tol: float | None):
    M = _as_matrix(A)
    U, s, Vt = np.linalg.svd(M, full_matrices=True)
    if tol is None:
        tol = _default_tol(M, float(s[0]))
    r = int(np.count_nonzero(s > tol))
    return M, r, Vt


def rank(A, tol: float | None = None) -> int:
    """The rank of a matrix: the number of singular values above ``tol``.

    This is the convention of :func:`numpy.linalg.matrix_rank`: the
    default tolerance is ``max(m, n) * eps * sigma_max``, the size of the
    round-off that a backward-stable SVD leaves in singular values that
    are exactly zero. Elimination gives the same rank in exact arithmetic
    (the number of pivots of :func:`rref`) but is less reliable in
    floating point, because it cannot see how close a matrix is to one of
    lower rank.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Any matrix.
    tol : float, optional
        Singular values ``<= tol`` count as zero.

    Returns
    -------
    int
        The numerical rank, between 0 and ``min(m, n)``.

    Examples
    --------
    >>> rank([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    1
    """
    return _singular_values(A, tol)[1]


def null_space(A, tol: float | None = None) -> np.ndarray:
    """An orthonormal basis of the null space ``{x : A x = 0}``, via SVD.

    If ``A = U S V^T`` and ``r`` singular values exceed ``tol`` (see
    :func:`rank`), the last ``n - r`` columns of ``V`` are orthonormal and
    ``A`` maps them to (numerically) zero, so they are a basis of the
    null space.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Any matrix.
    tol : float, optional
        Singular values ``<= tol`` count as zero, as in :func:`rank`.

    Returns
    -------
    numpy.ndarray, shape (n, n - r)
        Orthonormal columns spanning the null space; zero columns if the
        null space is ``{0}``.

    Examples
    --------
    >>> N = null_space([[1.0, 1.0]])
    >>> N.shape
    (2, 1)
    >>> bool(abs(N[0, 0] + N[1, 0]) < 1e-15)
    True
    """
    _, r, Vt = _singular_values(A, tol)
    return Vt[r:].T.copy()


def coordinates(x, B) -> np.ndarray:
    """The coordinates of ``x`` in the basis given by the columns of ``B``.

    They are the unique ``c`` with ``B c = x``, found with :func:`solve`.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        A vector, or ``k`` vectors as columns.
    B : array_like, shape (n, n)
        The basis vectors as columns; must be invertible.

    Returns
    -------
    numpy.ndarray
        The coordinates, with the shape of ``x``.

    Raises
    ------
    ValueError
        If the columns of ``B`` are not a basis or the shapes do not match.

    Examples
    --------
    >>> coordinates([3.0, 1.0], [[1.0, 1.0], [0.0, 1.0]])
    array([2., 1.])
    """
    Bm = _as_matrix(B, "B")
    if Bm.shape[0] != Bm.shape[1]:
        raise ValueError(
            f"a basis of R^n needs n vectors: B must be square, "
            f"got shape {Bm.shape}"
        )
    try:
        return solve(Bm, x)
    except ValueError as err:
        if "singular" in str(err):
            raise ValueError(
                f"the columns of B are not a basis: {err}"
            ) from None
        raise


def change_of_basis(T, B) -> np.ndarray:
    """The matrix ``B^{-1} T B`` of the linear map ``T`` in the basis ``B``.

    If ``T`` is the matrix of a map in the standard basis and the columns
    of ``B`` are a basis, then ``B^{-1} T B`` maps the coordinates of a
    vector in that basis to the coordinates of its image. It is computed
    by solving ``B X = T B`` with :func:`solve`, never by forming
    ``B^{-1}``.

    Parameters
    ----------
    T : array_like, shape (n, n)
        The map in the standard basis.
    B : array_like, shape (n, n)
        The new basis vectors as columns; must be invertible.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        The matrix of the map in the new basis.

    Raises
    ------
    ValueError
        If ``T`` or ``B`` is not square, their sizes differ, or the
        columns of ``B`` are not a basis.

    Examples
    --------
    >>> change_of_basis([[2.0, 1.0], [0.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]])
    array([[2., 0.],
           [0., 3.]])
    """
    Tm = _as_matrix(T, "T")
    Bm = _as_matrix(B, "B")
    if Tm.shape[0] != Tm.shape[1]:
        raise ValueError(f"T must be square, got shape {Tm.shape}")
    if Bm.shape != Tm.shape:
        raise ValueError(
            f"B must have the shape {Tm.shape} of T, got shape {Bm.shape}"
        )
    return coordinates(Tm @ Bm, Bm)


def affine_matrix(A, b) -> np.ndarray:
    """The matrix of the affine map ``x -> A x + b`` in homogeneous form.

    Appending a 1 to ``x`` turns the affine map into the linear map
    ``[x; 1] -> [[A, b], [0, 1]] [x; 1]``, so that composing affine maps
    becomes multiplying these ``(m + 1) x (n + 1)`` matrices.

    Parameters
    ----------
    A : array_like, shape (m, n)
        The linear part.
    b : array_like, shape (m,)
        The translation.

    Returns
    -------
    numpy.ndarray, shape (m + 1, n + 1)
        ``[[A, b], [0, ..., 0, 1]]``.

    Raises
    ------
    ValueError
        If ``b`` is not a vector with one entry per row of ``A``.

    Examples
    --------
    >>> affine_matrix([[2.0, 0.0], [0.0, 3.0]], [1.0, -1.0])
    array([[ 2.,  0.,  1.],
           [ 0.,  3., -1.],
           [ 0.,  0.,  1.]])
    """
    Am = _as_matrix(A)
    bv = np.array(b, dtype=np.float64)
    m, n = Am.shape
    if bv.shape != (m,):
        raise ValueError(
            f"b must have shape ({m},) to match A of shape {Am.shape}, "
            f"got shape {bv.shape}"
        )
    H = np.zeros((m + 1, n + 1))
    H[:m, :n] = Am
    H[:m, n] = bv
    H[m, n] = 1.0
    return H
