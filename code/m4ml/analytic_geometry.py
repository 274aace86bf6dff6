"""Norms, inner products, orthogonality and projections, written in numpy.

Chapter *Analytic geometry* explains these functions and checks them
against :mod:`numpy.linalg` and :mod:`scipy.linalg`. They favour clarity
over speed: :func:`gram_schmidt` is the textbook modified Gram-Schmidt
loop (with a second pass of reorthogonalisation by default), and
:func:`project` and :func:`orthogonal_complement` are built on it.
:func:`least_squares` uses numpy's Householder QR and our own
:func:`back_substitution`.

Inner products. Every function that measures lengths or angles takes an
optional matrix ``M``; the inner product is then ``<x, y>_M = x^T M y``,
which is an inner product exactly when ``M`` is symmetric positive
definite (SPD), and ``M = None`` means the dot product ``x^T y``. An ``M``
that is not SPD raises a :class:`ValueError`.

Tolerances. A float64 computation cannot tell an exact zero from
round-off of size ``eps * scale``, where ``eps`` is the machine epsilon
(about ``2.2e-16``). A function that must decide whether a column is
linearly dependent on earlier ones takes a ``tol`` argument, whose
default is ``max(m, n) * eps * scale`` as in
:func:`numpy.linalg.matrix_rank`; the scale is described in each
docstring.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "angle",
    "back_substitution",
    "function_inner_product",
    "givens",
    "gram_schmidt",
    "inner_product",
    "least_squares",
    "lp_norm",
    "orthogonal_complement",
    "project",
    "projection_matrix",
    "rotation_2d",
]

EPS = np.finfo(np.float64).eps


# --------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------


def _as_array(x, name: str, ndims=(1, 2)) -> np.ndarray:
    """A float64 copy of a non-empty finite array with an allowed ndim."""
    a = np.array(x, dtype=np.float64)
    if a.ndim not in ndims:
        allowed = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be a {allowed} array, got {a.ndim}-D")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return a


def _as_matrix(A, name: str = "A") -> np.ndarray:
    return _as_array(A, name, ndims=(2,))


def _as_spd(M, n: int) -> np.ndarray:
    """Validate the matrix of an inner product on R^n: SPD, n x n."""
    Mm = _as_matrix(M, "M")
    if Mm.shape != (n, n):
        raise ValueError(
            f"M must have shape ({n}, {n}) for vectors of length {n}, "
            f"got shape {Mm.shape}"
        )
    scale = float(np.max(np.abs(Mm)))
    if np.max(np.abs(Mm - Mm.T)) > 10 * n * EPS * scale:
        raise ValueError("M must be symmetric to define an inner product")
    try:
        np.linalg.cholesky((Mm + Mm.T) / 2)
    except np.linalg.LinAlgError:
        raise ValueError(
            "M must be positive definite to define an inner product "
            "(its Cholesky factorisation failed)"
        ) from None
    return Mm


# --------------------------------------------------------------------------
# Norms, inner products and angles
# --------------------------------------------------------------------------


def lp_norm(x, p: float = 2.0, axis: int = -1):
    """The p-norm ``(sum_i |x_i|^p)^(1/p)``, or ``max_i |x_i|`` if p = inf.

    For ``p >= 1`` this is a norm. For ``0 < p < 1`` the same formula is
    positive and homogeneous but breaks the triangle inequality (its unit
    ball is not convex); the function computes it anyway, because the
    chapter draws it. The sum is computed on ``x / max|x_i|`` and scaled
    back, so that large or tiny entries do not overflow or underflow.

    Parameters
    ----------
    x : array_like, shape (n,) or (k, n)
        One vector, or a stack of vectors (any shape, see ``axis``).
    p : float
        The exponent, ``0 < p <= inf``.
    axis : int
        The axis that holds the entries of each vector.

    Returns
    -------
    float or numpy.ndarray
        The norm of each vector: a float for a single vector.

    Raises
    ------
    ValueError
        If ``p`` is not in ``(0, inf]`` or ``x`` has non-finite entries.

    Examples
    --------
    >>> lp_norm([3.0, -4.0]), lp_norm([3.0, -4.0], 1), lp_norm([3.0, -4.0],
    ...                                                       np.inf)
    (5.0, 7.0, 4.0)
    >>> lp_norm([[1.0, 1.0], [0.0, 2.0]], p=0.5)
    array([4., 2.])
    """
    p = float(p)
    if not p > 0:
        raise ValueError(f"p must be positive (or inf), got {p}")
    a = np.abs(np.asarray(x, dtype=np.float64))
    if a.ndim == 0 or a.size == 0:
        raise ValueError(f"x must be a non-empty array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("x contains NaN or infinite entries")
    big = np.max(a, axis=axis, keepdims=True)
    if p == np.inf:
        out = np.squeeze(big, axis=axis)
    else:
        safe = np.where(big > 0, big, 1.0)
        total = np.sum((a / safe) ** p, axis=axis, keepdims=True)
        out = np.squeeze(big * total ** (1.0 / p), axis=axis)
    return float(out) if out.ndim == 0 else out


def inner_product(x, y, M=None) -> float:
    """The inner product ``<x, y>_M = x^T M y`` (the dot product if no M).

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Two vectors of the same length.
    M : array_like, shape (n, n), optional
        A symmetric positive definite matrix; ``None`` means the identity.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, an entry is not finite, or ``M`` is not SPD.

    Examples
    --------
    >>> inner_product([1.0, 2.0], [3.0, -1.0])
    1.0
    >>> inner_product([1.0, 0.0], [0.0, 1.0], M=[[2.0, 1.0], [1.0, 2.0]])
    1.0
    """
    xv = _as_array(x, "x", ndims=(1,))
    yv = _as_array(y, "y", ndims=(1,))
    if xv.shape != yv.shape:
        raise ValueError(
            f"x and y must have the same shape, got {xv.shape} and {yv.shape}"
        )
    if M is None:
        return float(xv @ yv)
    return float(xv @ _as_spd(M, xv.size) @ yv)


def angle(x, y, M=None) -> float:
    """The angle between two nonzero vectors, in radians, in ``[0, pi]``.

    It is ``arccos(<x, y>_M / (||x||_M ||y||_M))``, where ``||x||_M =
    sqrt(<x, x>_M)``; the Cauchy-Schwarz inequality puts the cosine in
    ``[-1, 1]``. Near 0 and pi, ``arccos`` turns the round-off in the
    cosine into an error of order ``sqrt(eps)``, so we compute the same
    angle as ``2 arctan2(||u - v||_M, ||u + v||_M)`` for the unit vectors
    ``u = x / ||x||_M`` and ``v = y / ||y||_M``, which is accurate for
    every angle (the two lengths are ``2 sin(t/2)`` and ``2 cos(t/2)``).

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Two nonzero vectors of the same length.
    M : array_like, shape (n, n), optional
        The SPD matrix of the inner product; ``None`` means the identity.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a vector is zero (the angle is undefined), or as in
        :func:`inner_product`.

    Examples
    --------
    >>> float(np.degrees(angle([1.0, 0.0], [1.0, 1.0])).round(10))
    45.0
    >>> M = [[2.0, 1.0], [1.0, 2.0]]  # e_1 and e_2 are not M-orthogonal
    >>> float(np.degrees(angle([1.0, 0.0], [0.0, 1.0], M=M)).round(10))
    60.0
    """
    xv = _as_array(x, "x", ndims=(1,))
    yv = _as_array(y, "y", ndims=(1,))
    if xv.shape != yv.shape:
        raise ValueError(
            f"x and y must have the same shape, got {xv.shape} and {yv.shape}"
        )
    Mm = None if M is None else _as_spd(M, xv.size)

    def norm(v):
        return np.sqrt(v @ v if Mm is None else v @ Mm @ v)

    if norm(xv) == 0 or norm(yv) == 0:
        raise ValueError("the angle with the zero vector is undefined")
    u, v = xv / norm(xv), yv / norm(yv)
    return float(2 * np.arctan2(norm(u - v), norm(u + v)))


# --------------------------------------------------------------------------
# Gram-Schmidt, complements and projections
# --------------------------------------------------------------------------


def _orthonormalise(V, Q0, MQ0, M, tol, passes):
    """Extend the M-orthonormal columns Q0 by the columns of V (MGS).

    Returns the new columns, their images under M, and the coefficients:
    row i of ``C`` holds the M-inner products with column i of
    ``[Q0, Qnew]`` (summed over the passes) and the residual norms.
    """
    m, n = V.shape
    k0 = Q0.shape[1]
    Q = np.zeros((m, k0 + min(m, n)))
    MQ = np.zeros_like(Q)
    Q[:, :k0], MQ[:, :k0] = Q0, MQ0
    C = np.zeros((k0 + min(m, n), n))
    k = k0
    for j in range(n):
        v = V[:, j].copy()
        for _ in range(passes):
            for i in range(k):  # modified GS: one direction at a time
                c = MQ[:, i] @ v
                v -= c * Q[:, i]
                C[i, j] += c
        Mv = v if M is None else M @ v
        norm_v = float(np.sqrt(max(v @ Mv, 0.0)))
        if norm_v > tol and k < Q.shape[1]:
            Q[:, k] = v / norm_v
            MQ[:, k] = Mv / norm_v
            C[k, j] = norm_v
            k += 1
    return Q[:, k0:k], MQ[:, k0:k], C[:k]


def gram_schmidt(
    A,
    tol: float | None = None,
    *,
    M=None,
    reorthogonalize: bool = True,
    return_r: bool = False,
):
    """Orthonormal columns spanning the column space of ``A``.

    Modified Gram-Schmidt: each column of ``A`` in turn has its components
    along the orthonormal vectors found so far subtracted, one at a time,
    and what is left is normalised and kept. A column whose remainder has
    norm ``<= tol`` lies (numerically) in the span of the earlier ones and
    is dropped, so the result has ``r`` columns, ``r`` the numerical rank.

    With ``reorthogonalize=True`` (the default) each column is
    orthogonalised twice. One pass loses orthogonality in proportion to
    the condition number of ``A``; two passes give orthogonality to
    round-off ("twice is enough") at twice the cost.

    Parameters
    ----------
    A : array_like, shape (m, n)
        The vectors to orthonormalise, as columns.
    tol : float, optional
        A remainder with norm ``<= tol`` counts as zero. The default is
        ``max(m, n) * eps * max_j ||a_j||``: the round-off that
        orthogonalisation leaves of a column in the span of earlier ones,
        relative to the longest column (a stand-in for the largest
        singular value of :func:`numpy.linalg.matrix_rank`). Pass
        ``tol=0`` to drop only exact zeros.
    M : array_like, shape (m, m), optional
        The SPD matrix of the inner product ``<x, y>_M = x^T M y``; the
        columns are then M-orthonormal, ``Q^T M Q = I``.
    reorthogonalize : bool
        Orthogonalise each column twice (default) or once.
    return_r : bool
        Also return ``R``.

    Returns
    -------
    Q : numpy.ndarray, shape (m, r)
        Orthonormal columns; ``span(q_1..q_i)`` is the span of the first
        columns of ``A`` that were kept.
    R : numpy.ndarray, shape (r, n)
        Only if ``return_r``: upper-triangular (echelon when columns are
        dropped) with a positive first entry in each row and
        ``A = Q R`` up to the dropped remainders. With full column rank
        this is the QR factorisation whose ``R`` has a positive diagonal.

    Raises
    ------
    ValueError
        If ``A`` is not a non-empty finite 2-D array, ``tol`` is negative,
        or ``M`` is not SPD of matching size.

    Examples
    --------
    >>> Q, R = gram_schmidt([[3.0, 1.0], [4.0, 2.0]], return_r=True)
    >>> Q
    array([[ 0.6, -0.8],
           [ 0.8,  0.6]])
    >>> R
    array([[5. , 2.2],
           [0. , 0.4]])
    >>> gram_schmidt([[1.0, 2.0], [1.0, 2.0]]).shape  # dependent column
    (2, 1)
    """
    Am = _as_matrix(A)
    m, n = Am.shape
    Mm = None if M is None else _as_spd(M, m)
    if tol is None:
        sq = np.sum(Am * (Am if Mm is None else Mm @ Am), axis=0)
        tol = max(m, n) * EPS * float(np.sqrt(np.max(sq)))
    elif not tol >= 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    Q, _, R = _orthonormalise(
        Am,
        np.zeros((m, 0)),
        np.zeros((m, 0)),
        Mm,
        tol,
        passes=2 if reorthogonalize else 1,
    )
    return (Q, R) if return_r else Q


def orthogonal_complement(B, tol: float | None = None) -> np.ndarray:
    """An orthonormal basis of the orthogonal complement of ``col(B)``.

    First ``Q = gram_schmidt(B, tol)``; then Gram-Schmidt continues with
    the standard basis vectors ``e_1, ..., e_m``, keeping those whose
    remainder has norm above ``1 / (2 sqrt(m))``. The kept vectors are
    orthogonal to ``col(B)`` and there are exactly ``m - r`` of them: if
    a unit vector ``u`` were orthogonal to all kept vectors, some
    ``|u_i| >= 1 / sqrt(m)`` and ``e_i`` would have been kept.

    Parameters
    ----------
    B : array_like, shape (m, n)
        Columns spanning the subspace.
    tol : float, optional
        Passed to :func:`gram_schmidt` to decide the rank of ``B``.

    Returns
    -------
    numpy.ndarray, shape (m, m - r)
        Orthonormal columns spanning ``{x : B^T x = 0}``.

    Examples
    --------
    >>> orthogonal_complement([[1.0], [1.0]]) * np.sqrt(2)
    array([[ 1.],
           [-1.]])
    """
    Q = gram_schmidt(B, tol)
    m = Q.shape[0]
    Qc, _, _ = _orthonormalise(
        np.eye(m), Q, Q, None, tol=0.5 / np.sqrt(m), passes=2
    )
    return Qc


def _span_basis(B, m, tol, M):
    Bm = _as_array(B, "B")
    if Bm.ndim == 1:
        Bm = Bm[:, None]
    if Bm.shape[0] != m:
        raise ValueError(
            f"B must have {m} rows to match x, got shape {Bm.shape}"
        )
    return gram_schmidt(Bm, tol, M=M)


def projection_matrix(B, tol: float | None = None, M=None) -> np.ndarray:
    """The matrix ``P`` of the orthogonal projection onto ``col(B)``.

    With an M-orthonormal basis ``Q`` of ``col(B)`` from
    :func:`gram_schmidt`, ``P = Q Q^T M``; for the dot product that is
    the symmetric ``Q Q^T``, which equals ``B (B^T B)^{-1} B^T`` when the
    columns of ``B`` are independent. Dependent columns are allowed: the
    span is what matters.

    Parameters
    ----------
    B : array_like, shape (m, n) or (m,)
        Columns spanning the subspace (one vector spans a line).
    tol : float, optional
        Passed to :func:`gram_schmidt`.
    M : array_like, shape (m, m), optional
        The SPD matrix of the inner product.

    Returns
    -------
    numpy.ndarray, shape (m, m)

    Examples
    --------
    >>> projection_matrix([1.0, 1.0])
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    Bm = _as_array(B, "B")
    m = Bm.shape[0]
    Mm = None if M is None else _as_spd(M, m)
    Q = _span_basis(Bm, m, tol, Mm)
    return Q @ (Q.T if Mm is None else Q.T @ Mm)


def project(x, B, tol: float | None = None, M=None) -> np.ndarray:
    """The orthogonal projection of ``x`` onto the span of the columns of B.

    The projection is the point ``p`` of ``col(B)`` closest to ``x``,
    characterised by ``x - p`` being orthogonal to every column of ``B``.
    It is computed as ``Q (Q^T M x)`` with an (M-)orthonormal basis ``Q``
    of ``col(B)`` from :func:`gram_schmidt`, never by inverting ``B^T B``.
    ``B`` need not have independent columns: dependent ones are dropped
    by :func:`gram_schmidt`, since only the span matters; a ``B`` of zeros
    spans ``{0}`` and every projection is zero.

    Parameters
    ----------
    x : array_like, shape (m,) or (m, k)
        A vector, or ``k`` vectors as columns (each is projected).
    B : array_like, shape (m, n) or (m,)
        Columns spanning the subspace (one vector spans a line).
    tol : float, optional
        Passed to :func:`gram_schmidt` to decide which columns of ``B``
        are dependent.
    M : array_like, shape (m, m), optional
        The SPD matrix of the inner product; the residual ``x - p`` is
        then M-orthogonal to ``col(B)``.

    Returns
    -------
    numpy.ndarray
        The projection, with the shape of ``x``.

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, or ``M`` is
        not SPD.

    Examples
    --------
    >>> project([2.0, 0.0], [1.0, 1.0])
    array([1., 1.])
    >>> project([1.0, 2.0, 3.0], [[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    array([1., 0., 0.])
    """
    xv = _as_array(x, "x")
    m = xv.shape[0]
    Mm = None if M is None else _as_spd(M, m)
    Q = _span_basis(B, m, tol, Mm)
    Mx = xv if Mm is None else Mm @ xv
    return Q @ (Q.T @ Mx)


# --------------------------------------------------------------------------
# Least squares
# --------------------------------------------------------------------------


def back_substitution(R, b) -> np.ndarray:
    """Solve ``R x = b`` for an upper-triangular, nonsingular ``R``.

    The last unknown first: ``x_k = (b_k - sum_{j>k} R_kj x_j) / R_kk``.
    Only the upper triangle of ``R`` is read.

    Parameters
    ----------
    R : array_like, shape (n, n)
        Upper triangular with a nonzero diagonal.
    b : array_like, shape (n,) or (n, k)
        One right-hand side or ``k`` of them as columns.

    Returns
    -------
    numpy.ndarray
        The solution, with the shape of ``b``.

    Raises
    ------
    ValueError
        If ``R`` is not square, ``b`` does not match, an entry is not
        finite, or a diagonal entry is zero.

    Examples
    --------
    >>> back_substitution([[2.0, 1.0], [0.0, 4.0]], [4.0, 8.0])
    array([1., 2.])
    """
    Rm = _as_matrix(R, "R")
    n = Rm.shape[0]
    if Rm.shape != (n, n):
        raise ValueError(f"R must be square, got shape {Rm.shape}")
    rhs = _as_array(b, "b")
    if rhs.shape[0] != n:
        raise ValueError(
            f"b must have {n} rows to match R, got shape {rhs.shape}"
        )
    if np.any(np.diag(Rm) == 0):
        raise ValueError("R is singular: a diagonal entry is zero")
    B = rhs.reshape(n, -1)
    X = np.empty_like(B)
    for k in range(n - 1, -1, -1):
        X[k] = (B[k] - Rm[k, k + 1 :] @ X[k + 1 :]) / Rm[k, k]
    return X.reshape(rhs.shape)


def least_squares(
    X, y, min_norm: bool = False, tol: float | None = None
) -> np.ndarray:
    """The weights ``w`` that minimise ``||X w - y||``, via QR.

    With the reduced QR factorisation ``X = Q R`` (numpy's Householder
    QR), ``||X w - y||^2 = ||R w - Q^T y||^2 + ||y - Q Q^T y||^2``, so
    for ``X`` of full column rank the minimiser solves the triangular
    system ``R w = Q^T y`` (by :func:`back_substitution`). This is the
    solution of the normal equations ``X^T X w = X^T y``, found without
    forming ``X^T X``, whose condition number is the square of that of X.

    If ``X`` is rank deficient (numerically: fewer than ``n`` singular
    values above ``tol``), every ``w`` plus a null-space vector is also a
    minimiser. Then a :class:`ValueError` is raised, unless
    ``min_norm=True``, in which case the minimiser of smallest norm is
    returned, ``w = V_r S_r^{-1} U_r^T Q^T y`` from the SVD
    ``R = U S V^T`` (which equals ``pinv(X) @ y``).

    Parameters
    ----------
    X : array_like, shape (m, n)
        The design matrix, one example per row.
    y : array_like, shape (m,) or (m, k)
        Targets, or ``k`` target vectors as columns.
    min_norm : bool
        Return the minimum-norm solution when ``X`` is rank deficient.
    tol : float, optional
        Singular values ``<= tol`` count as zero. The default is
        ``max(m, n) * eps * sigma_max``, as in
        :func:`numpy.linalg.matrix_rank`.

    Returns
    -------
    numpy.ndarray, shape (n,) or (n, k)

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, or ``X`` is
        rank deficient and ``min_norm`` is false.

    Examples
    --------
    >>> X = [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    >>> w = least_squares(X, [1.0, 2.0, 4.0])
    >>> bool(np.allclose(w, [5 / 6, 3 / 2], rtol=1e-14))
    True
    >>> least_squares([[1.0, 1.0], [1.0, 1.0]], [2.0, 2.0], min_norm=True)
    array([1., 1.])
    """
    Xm = _as_matrix(X, "X")
    m, n = Xm.shape
    yv = _as_array(y, "y")
    if yv.shape[0] != m:
        raise ValueError(
            f"y must have {m} rows to match X of shape {Xm.shape}, got "
            f"shape {yv.shape}"
        )
    Q, R = np.linalg.qr(Xm)  # Q: (m, k), R: (k, n), k = min(m, n)
    c = Q.T @ yv
    s = np.linalg.svd(R, compute_uv=False)  # the singular values of X
    if tol is None:
        tol = max(m, n) * EPS * float(s[0])
    r = int(np.count_nonzero(s > tol))
    if r == n:
        return back_substitution(R, c)
    if not min_norm:
        raise ValueError(
            f"X is rank deficient: rank {r} < {n} columns (singular values "
            f"<= tol {tol:.1e} count as zero), so the least-squares "
            f"solution is not unique; pass min_norm=True for the "
            f"minimum-norm solution"
        )
    U, s, Vt = np.linalg.svd(R, full_matrices=False)
    coef = (U[:, :r].T @ c) / (s[:r] if c.ndim == 1 else s[:r, None])
    return Vt[:r].T @ coef


# --------------------------------------------------------------------------
# Rotations
# --------------------------------------------------------------------------


def rotation_2d(theta: float) -> np.ndarray:
    """The matrix that rotates the plane anticlockwise by ``theta`` radians.

    Its columns are the images of ``e_1`` and ``e_2``:
    ``[[cos t, -sin t], [sin t, cos t]]``.

    Examples
    --------
    >>> rotation_2d(np.pi / 2).round(15) + 0.0
    array([[ 0., -1.],
           [ 1.,  0.]])
    """
    t = float(theta)
    if not np.isfinite(t):
        raise ValueError(f"theta must be finite, got {theta}")
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, -s], [s, c]])


def givens(n: int, i: int, j: int, theta: float) -> np.ndarray:
    """The rotation of R^n by ``theta`` in the plane of ``e_i`` and ``e_j``.

    It is the identity except in rows and columns ``i`` and ``j``, where
    it is :func:`rotation_2d`: it turns ``e_i`` towards ``e_j`` and leaves
    the other coordinates alone. In R^3, ``givens(3, 0, 1, t)``,
    ``givens(3, 1, 2, t)`` and ``givens(3, 2, 0, t)`` are the rotations
    about the z-, x- and y-axes.

    Parameters
    ----------
    n : int
        The dimension, at least 2.
    i, j : int
        Two different indices in ``0, ..., n - 1``.
    theta : float
        The angle in radians.

    Returns
    -------
    numpy.ndarray, shape (n, n)

    Examples
    --------
    >>> givens(3, 0, 2, np.pi / 2).round(15) + 0.0
    array([[ 0.,  0., -1.],
           [ 0.,  1.,  0.],
           [ 1.,  0.,  0.]])
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n}")
    if not (0 <= i < n and 0 <= j < n) or i == j:
        raise ValueError(
            f"i and j must be different indices in 0..{n - 1}, got {i}, {j}"
        )
    G = np.eye(int(n))
    G[np.ix_([i, j], [i, j])] = rotation_2d(theta)
    return G


# --------------------------------------------------------------------------
# Inner products of functions
# --------------------------------------------------------------------------


def function_inner_product(
    f: Callable, g: Callable, a: float, b: float, n_nodes: int = 64
) -> float:
    """The inner product ``int_a^b f(t) g(t) dt``, by Gauss-Legendre.

    The ``n_nodes``-point Gauss-Legendre rule integrates polynomials of
    degree up to ``2 n_nodes - 1`` exactly and converges very fast for
    smooth integrands; split the interval where ``f g`` has a kink.

    Parameters
    ----------
    f, g : callable
        Functions that accept and return numpy arrays (vectorised).
    a, b : float
        The interval, ``a < b``.
    n_nodes : int
        The number of quadrature nodes.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the interval is empty or not finite, ``n_nodes < 1``, or a
        function returns non-finite values or the wrong shape.

    Examples
    --------
    >>> ip = function_inner_product(np.sin, np.sin, -np.pi, np.pi)
    >>> bool(abs(ip - np.pi) < 1e-13)
    True
    >>> # t * t^2 has degree 3, so two nodes integrate it exactly
    >>> ip = function_inner_product(lambda t: t, lambda t: t**2, 0, 1, 2)
    >>> round(ip, 15)
    0.25
    """
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"need a finite interval a < b, got [{a}, {b}]")
    if int(n_nodes) != n_nodes or n_nodes < 1:
        raise ValueError(f"n_nodes must be a positive integer, got {n_nodes}")
    nodes, weights = np.polynomial.legendre.leggauss(int(n_nodes))
    t = (b - a) / 2 * nodes + (a + b) / 2
    values = []
    for name, h in (("f", f), ("g", g)):
        v = np.broadcast_to(np.asarray(h(t), dtype=np.float64), t.shape)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} returned NaN or infinite values")
        values.append(v)
    return float((b - a) / 2 * np.sum(weights * values[0] * values[1]))
