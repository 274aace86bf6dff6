"""Support vector machines and kernels, in numpy.

Chapter *Support vector machines and kernels* derives everything here and
checks it against scikit-learn. The module covers

* the geometry of a linear classifier: signed distances to a hyperplane
  and the geometric margin (:func:`signed_distance`,
  :func:`geometric_margin`);
* the hinge loss and the primal and dual objectives of the soft-margin
  SVM (:func:`hinge_loss`, :func:`primal_objective`,
  :func:`dual_objective`);
* kernels and their Gram matrices (:func:`linear_kernel`,
  :func:`polynomial_kernel`, :func:`rbf_kernel`, :func:`kernel_matrix`)
  and the explicit feature map of the degree-2 polynomial kernel
  (:func:`poly2_feature_map`);
* two solvers: sequential minimal optimisation for the dual
  (:func:`smo`, wrapped by :func:`fit_svm`, which returns an
  :class:`SVMModel`), and subgradient descent on the primal hinge-loss
  objective (:func:`hinge_subgradient_descent`).

Labels are always ``-1`` and ``+1``; other labels (``0`` and ``1`` too)
raise a ``ValueError`` rather than being mapped silently. The package
depends on numpy alone.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

__all__ = [
    "KERNELS",
    "SVMModel",
    "dual_objective",
    "fit_svm",
    "geometric_margin",
    "hinge_loss",
    "hinge_subgradient_descent",
    "kernel_matrix",
    "linear_kernel",
    "poly2_feature_map",
    "polynomial_kernel",
    "primal_objective",
    "rbf_kernel",
    "signed_distance",
    "smo",
]

#: The kernels that :func:`fit_svm` and :func:`kernel_matrix` know.
KERNELS = ("linear", "poly", "rbf")


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _as_data(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty array of shape (n, d), "
            f"got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return X


def _pair(X, Y) -> tuple[np.ndarray, np.ndarray]:
    X = _as_data(X, "X")
    Y = X if Y is None else _as_data(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of columns, got "
            f"{X.shape[1]} and {Y.shape[1]}"
        )
    return X, Y


def _as_labels(y, n: int | None = None) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    if n is not None and y.size != n:
        raise ValueError(
            f"y must have {n} entries (one per row of X), got {y.size}"
        )
    values = set(np.unique(y).tolist())
    if not values <= {-1, 1}:
        raise ValueError(
            f"labels must be -1 or +1, got {sorted(values)}; map 0/1 "
            "labels with y = 2 * y - 1"
        )
    return y.astype(float)


def _positive(value, name: str, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    ok = value > 0 and (np.isfinite(value) or (allow_inf and value > 0))
    if not ok or np.isnan(value):
        raise ValueError(f"{name} must be positive, got {value!r}")
    return float(value)


def _gamma(gamma, d: int) -> float:
    if gamma is None:
        return 1.0 / d
    return _positive(gamma, "gamma")


def _degree(degree) -> int:
    if isinstance(degree, bool) or not isinstance(degree, numbers.Integral):
        raise ValueError(f"degree must be a positive int, got {degree!r}")
    if degree < 1:
        raise ValueError(f"degree must be a positive int, got {degree}")
    return int(degree)


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _weights(w, b, d: int | None = None) -> tuple[np.ndarray, float]:
    w = np.asarray(w, dtype=float).reshape(-1)
    if d is not None and w.size != d:
        raise ValueError(f"w must have {d} entries, got {w.size}")
    if not np.all(np.isfinite(w)) or not np.any(w):
        raise ValueError("w must be finite and nonzero")
    return w, _finite(b, "b")


# --------------------------------------------------------------------------
# Geometry: hyperplanes and margins
# --------------------------------------------------------------------------


def signed_distance(X, w, b) -> np.ndarray:
    """Signed distances of points to the hyperplane ``w^T x + b = 0``.

    The distance is ``(w^T x + b) / ||w||``: positive on the side that
    ``w`` points to, negative on the other, and its absolute value is the
    Euclidean distance from ``x`` to the hyperplane.

    Parameters
    ----------
    X : array_like, shape (n, d)
        The points, one per row.
    w : array_like, shape (d,)
        The normal vector of the hyperplane; must be nonzero.
    b : float
        The offset.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> signed_distance([[3.0, 4.0], [0.0, 0.0]], [3.0, 4.0], -5.0)
    array([ 4., -1.])
    """
    X = _as_data(X)
    w, b = _weights(w, b, X.shape[1])
    return (X @ w + b) / np.linalg.norm(w)


def geometric_margin(X, y, w, b) -> float:
    """The geometric margin ``min_i y_i (w^T x_i + b) / ||w||``.

    It is the distance from the hyperplane to the closest point when every
    point is on its correct side, and negative when some point is not.
    Unlike the functional margin ``y_i (w^T x_i + b)`` it does not change
    when ``(w, b)`` is multiplied by a positive number.

    Examples
    --------
    >>> X = [[2.0, 0.0], [-1.0, 0.0]]
    >>> float(geometric_margin(X, [1, -1], [1.0, 0.0], 0.0))
    1.0
    """
    X = _as_data(X)
    y = _as_labels(y, X.shape[0])
    return float(np.min(y * signed_distance(X, w, b)))


# --------------------------------------------------------------------------
# Losses and objectives
# --------------------------------------------------------------------------


def hinge_loss(z):
    """The hinge loss ``max(0, 1 - z)`` of a functional margin ``z``.

    Here ``z = y f(x)`` is the label times the score: positive when the
    prediction is right, at least 1 when it is right with room to spare.

    Examples
    --------
    >>> hinge_loss([-1.0, 0.0, 0.5, 1.0, 2.0])
    array([2. , 1. , 0.5, 0. , 0. ])
    """
    z = np.asarray(z, dtype=float)
    return np.maximum(0.0, 1.0 - z)


def primal_objective(w, b, X, y, C) -> float:
    """The soft-margin objective ``||w||^2 / 2 + C sum_i hinge(y_i f_i)``.

    Here ``f_i = w^T x_i + b``. Minimising it over ``(w, b)`` is the
    soft-margin SVM; the slack of point ``i`` at the optimum is its hinge
    loss.

    Examples
    --------
    >>> float(primal_objective([1.0], 0.0, [[2.0], [-0.5]], [1, -1], 1.0))
    1.0
    """
    X = _as_data(X)
    y = _as_labels(y, X.shape[0])
    w = np.asarray(w, dtype=float).reshape(-1)
    if w.size != X.shape[1]:
        raise ValueError(f"w must have {X.shape[1]} entries, got {w.size}")
    C = _positive(C, "C")
    b = _finite(b, "b")
    return float(0.5 * w @ w + C * hinge_loss(y * (X @ w + b)).sum())


def dual_objective(alpha, K, y) -> float:
    """The SVM dual ``sum_i a_i - sum_ij a_i a_j y_i y_j K_ij / 2``.

    The dual is maximised over ``0 <= a_i <= C`` with ``sum_i a_i y_i = 0``;
    at the optimum it equals the minimum of :func:`primal_objective`.

    Examples
    --------
    >>> float(dual_objective([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], [1, -1]))
    0.75
    """
    alpha = np.asarray(alpha, dtype=float).reshape(-1)
    K = np.asarray(K, dtype=float)
    y = _as_labels(y, alpha.size)
    if K.shape != (alpha.size, alpha.size):
        raise ValueError(
            f"K must have shape {(alpha.size, alpha.size)}, got {K.shape}"
        )
    v = alpha * y
    return float(alpha.sum() - 0.5 * v @ K @ v)


# --------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------


def linear_kernel(X, Y=None) -> np.ndarray:
    """The linear kernel ``k(x, y) = x^T y`` between the rows of X and Y.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional
        Defaults to ``X``, which gives the Gram matrix of ``X``.

    Returns
    -------
    numpy.ndarray, shape (n, m)

    Examples
    --------
    >>> linear_kernel([[1.0, 2.0]], [[3.0, 4.0], [1.0, 0.0]])
    array([[11.,  1.]])
    """
    X, Y = _pair(X, Y)
    return X @ Y.T


def polynomial_kernel(X, Y=None, degree=3, gamma=None, coef0=1.0):
    """The polynomial kernel ``(gamma x^T y + coef0) ** degree``.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional
        Defaults to ``X``.
    degree : int
        A positive integer.
    gamma : float, optional
        A positive scale; defaults to ``1 / d``, as in scikit-learn's
        ``sklearn.metrics.pairwise.polynomial_kernel``.
    coef0 : float
        The constant term. For ``coef0 >= 0`` the kernel is positive
        semidefinite for every degree.

    Returns
    -------
    numpy.ndarray, shape (n, m)

    Examples
    --------
    >>> polynomial_kernel([[1.0, 2.0]], [[3.0, 4.0]], degree=2, gamma=1.0)
    array([[144.]])
    """
    X, Y = _pair(X, Y)
    degree = _degree(degree)
    gamma = _gamma(gamma, X.shape[1])
    coef0 = _finite(coef0, "coef0")
    return (gamma * (X @ Y.T) + coef0) ** degree


def rbf_kernel(X, Y=None, gamma=None) -> np.ndarray:
    """The Gaussian (RBF) kernel ``exp(-gamma ||x - y||^2)``.

    Squared distances come from ``||x||^2 + ||y||^2 - 2 x^T y``, clipped at
    zero against round-off.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional
        Defaults to ``X``.
    gamma : float, optional
        A positive inverse squared length scale; defaults to ``1 / d``.

    Returns
    -------
    numpy.ndarray, shape (n, m)

    Examples
    --------
    >>> K = rbf_kernel([[0.0], [1.0]], gamma=np.log(2.0))
    >>> K.round(12)
    array([[1. , 0.5],
           [0.5, 1. ]])
    """
    X, Y = _pair(X, Y)
    gamma = _gamma(gamma, X.shape[1])
    sq = (
        np.einsum("ij,ij->i", X, X)[:, None]
        + np.einsum("ij,ij->i", Y, Y)[None, :]
        - 2.0 * (X @ Y.T)
    )
    return np.exp(-gamma * np.maximum(sq, 0.0))


def kernel_matrix(
    X, Y=None, kernel="linear", gamma=None, degree=3, coef0=0.0
) -> np.ndarray:
    """The matrix ``K_ij = k(x_i, y_j)`` of a named kernel.

    Parameters
    ----------
    X, Y : array_like
        As in :func:`linear_kernel`.
    kernel : {"linear", "poly", "rbf"}
    gamma, degree, coef0
        Passed to :func:`polynomial_kernel` or :func:`rbf_kernel`; ignored
        by the linear kernel.

    Examples
    --------
    >>> kernel_matrix([[1.0], [2.0]], kernel="poly", degree=2, gamma=1.0,
    ...               coef0=1.0)
    array([[ 4.,  9.],
           [ 9., 25.]])
    """
    if kernel == "linear":
        return linear_kernel(X, Y)
    if kernel == "poly":
        return polynomial_kernel(X, Y, degree=degree, gamma=gamma, coef0=coef0)
    if kernel == "rbf":
        return rbf_kernel(X, Y, gamma=gamma)
    raise ValueError(f"unknown kernel {kernel!r}; use one of {KERNELS}")


def poly2_feature_map(X, gamma=1.0, coef0=1.0) -> np.ndarray:
    """The feature map of the degree-2 polynomial kernel.

    Returns ``phi(x)`` with ``phi(x)^T phi(y) = (gamma x^T y + coef0)^2``:
    the coordinates are ``gamma x_i^2``, ``sqrt(2) gamma x_i x_j`` for
    ``i < j``, ``sqrt(2 gamma coef0) x_i`` and ``coef0``, so a point of
    ``R^d`` becomes a point of ``R^D`` with ``D = (d + 1)(d + 2) / 2``.

    Parameters
    ----------
    X : array_like, shape (n, d)
    gamma : float
        Positive.
    coef0 : float
        Non-negative (a negative ``coef0`` has no real feature map of this
        form).

    Returns
    -------
    numpy.ndarray, shape (n, (d + 1) * (d + 2) // 2)

    Examples
    --------
    >>> phi = poly2_feature_map([[1.0, 2.0], [3.0, 4.0]])
    >>> float(phi[0] @ phi[1]), (1.0 * 3 + 2.0 * 4 + 1.0) ** 2
    (144.0, 144.0)
    """
    X = _as_data(X)
    gamma = _positive(gamma, "gamma")
    coef0 = _finite(coef0, "coef0")
    if coef0 < 0:
        raise ValueError(f"coef0 must be non-negative, got {coef0}")
    d = X.shape[1]
    i, j = np.triu_indices(d)
    scale = np.where(i == j, 1.0, np.sqrt(2.0)) * gamma
    quadratic = X[:, i] * X[:, j] * scale
    linear = np.sqrt(2.0 * gamma * coef0) * X
    constant = np.full((X.shape[0], 1), coef0)
    return np.hstack([quadratic, linear, constant])


# --------------------------------------------------------------------------
# The dual solver: sequential minimal optimisation
# --------------------------------------------------------------------------


def _bias(alpha, grad, y, C, tol) -> float:
    """The offset b from the KKT conditions at a dual solution.

    For a free multiplier (0 < a_i < C) the KKT conditions give
    b = -y_i grad_i; with none, they only confine b to an interval,
    whose midpoint is returned (as LIBSVM does).
    """
    score = -y * grad
    free = (alpha > 0) & (alpha < C)
    if np.any(free):
        return float(np.mean(score[free]))
    lower = ((alpha == 0) & (y > 0)) | ((alpha == C) & (y < 0))
    upper = ((alpha == 0) & (y < 0)) | ((alpha == C) & (y > 0))
    lo = score[lower].max() if np.any(lower) else -np.inf
    hi = score[upper].min() if np.any(upper) else np.inf
    if np.isfinite(lo) and np.isfinite(hi):
        return float(0.5 * (lo + hi))
    return float(lo if np.isfinite(lo) else hi)


def smo(K, y, C, tol=1e-8, max_iter=100_000):
    """Solve the SVM dual by sequential minimal optimisation (SMO).

    Minimises ``a^T Q a / 2 - sum(a)`` with ``Q_ij = y_i y_j K_ij`` subject
    to ``0 <= a_i <= C`` and ``sum_i a_i y_i = 0`` (the dual, sign flipped).
    Each step changes two multipliers, ``a_i += y_i t`` and
    ``a_j -= y_j t``, which keeps ``sum_i a_i y_i = 0``; the step ``t`` is
    the exact minimiser along that line, clipped to the box. The pair is
    chosen as in LIBSVM (Fan, Chen and Lin, 2005): ``i`` is the index that
    violates the KKT conditions most, and ``j`` the one that promises the
    largest decrease of the objective. The iteration stops when the
    largest KKT violation ``m - M`` is at most ``tol``.

    Parameters
    ----------
    K : array_like, shape (n, n)
        A symmetric positive semidefinite kernel matrix.
    y : array_like, shape (n,)
        Labels in {-1, +1}, both present.
    C : float
        The box bound, positive; ``numpy.inf`` gives the hard margin
        (which diverges, and so raises, on non-separable data).
    tol : float
        Stopping tolerance on the KKT violation.
    max_iter : int
        Maximum number of two-variable steps.

    Returns
    -------
    alpha : numpy.ndarray, shape (n,)
        The multipliers; those at a bound are exactly 0 or C.
    b : float
        The offset, from :func:`_bias`.
    n_iter : int
        The number of steps taken.

    Raises
    ------
    ValueError
        For bad shapes or values.
    RuntimeError
        If the violation is still above ``tol`` after ``max_iter`` steps.

    Examples
    --------
    >>> alpha, b, n_iter = smo([[1.0, -1.0], [-1.0, 1.0]], [1, -1], C=10.0)
    >>> alpha.round(12).tolist(), round(b, 12)
    ([0.5, 0.5], 0.0)
    """
    K = np.asarray(K, dtype=float)
    y = _as_labels(y)
    n = y.size
    if K.shape != (n, n):
        raise ValueError(f"K must have shape {(n, n)}, got {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError("K contains NaN or infinite entries")
    if not np.allclose(K, K.T, rtol=1e-12, atol=1e-12):
        raise ValueError("K must be symmetric")
    if np.unique(y).size < 2:
        raise ValueError("y must contain both classes, -1 and +1")
    C = _positive(C, "C", allow_inf=True)
    tol = _positive(tol, "tol")
    if (
        isinstance(max_iter, bool)
        or not isinstance(max_iter, numbers.Integral)
        or max_iter < 1
    ):
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    tau = 1e-12  # guards the curvature of a pair of identical points
    diag = np.diag(K).copy()
    alpha = np.zeros(n)
    grad = -np.ones(n)  # gradient Q a - 1 at a = 0
    pos = y > 0
    for n_iter in range(max_iter + 1):
        score = -y * grad
        up = np.where(pos, alpha < C, alpha > 0)
        low = np.where(pos, alpha > 0, alpha < C)
        i = int(np.argmax(np.where(up, score, -np.inf)))
        m_up = score[i]
        m_low = np.min(np.where(low, score, np.inf))
        if m_up - m_low <= tol:
            break
        if n_iter == max_iter:
            raise RuntimeError(
                f"SMO did not converge in {max_iter} steps (KKT violation "
                f"{m_up - m_low:.2e} > tol {tol:.1e}); with C = inf the "
                "data may not be separable"
            )
        # Second-order choice of j: the largest decrease b^2 / (2 a).
        gap = m_up - score
        curv = np.maximum(diag[i] + diag - 2.0 * K[i], tau)
        cand = low & (gap > 0)
        j = int(np.argmax(np.where(cand, gap**2 / curv, -np.inf)))
        t = gap[j] / curv[j]
        # Largest feasible step: a_i + y_i t and a_j - y_j t in [0, C].
        t_i = C - alpha[i] if pos[i] else alpha[i]
        t_j = alpha[j] if pos[j] else C - alpha[j]
        t = min(t, t_i, t_j)
        alpha[i] += y[i] * t
        alpha[j] -= y[j] * t
        for k in (i, j):  # land exactly on a bound that was reached
            if alpha[k] < 1e-14 * max(1.0, t):
                alpha[k] = 0.0
            elif alpha[k] > C - 1e-14 * max(1.0, t, C):
                alpha[k] = C
        grad += t * y * (K[:, i] - K[:, j])
    grad = y * (K @ (alpha * y)) - 1.0  # fresh, free of accumulated drift
    return alpha, _bias(alpha, grad, y, C, tol), n_iter


# --------------------------------------------------------------------------
# The fitted model
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SVMModel:
    """A fitted support vector machine (returned by :func:`fit_svm`).

    The decision function is ``f(x) = sum_i dual_coef_i k(sv_i, x) + b``
    over the support vectors, with ``dual_coef_i = alpha_i y_i``.

    Attributes
    ----------
    support_vectors : numpy.ndarray, shape (n_sv, d)
        The training points with ``alpha_i > 0``.
    dual_coef : numpy.ndarray, shape (n_sv,)
        ``alpha_i y_i`` for the support vectors.
    intercept : float
        The offset ``b``.
    support : numpy.ndarray of int, shape (n_sv,)
        Indices of the support vectors in the training set.
    alpha : numpy.ndarray, shape (n,)
        Every multiplier, zeros included, in training order.
    C : float
        The box bound.
    kernel : str
        One of :data:`KERNELS`.
    gamma, degree, coef0 : float, int, float
        The kernel parameters (``gamma`` resolved to a number).
    n_iter : int
        SMO steps taken.
    """

    support_vectors: np.ndarray
    dual_coef: np.ndarray
    intercept: float
    support: np.ndarray
    alpha: np.ndarray
    C: float
    kernel: str
    gamma: float
    degree: int
    coef0: float
    n_iter: int

    def kernel_to(self, X) -> np.ndarray:
        """The kernel matrix between the rows of X and the SVs."""
        return kernel_matrix(
            X,
            self.support_vectors,
            self.kernel,
            gamma=self.gamma,
            degree=self.degree,
            coef0=self.coef0,
        )

    def decision_function(self, X) -> np.ndarray:
        """The scores ``f(x)`` of the rows of X; the sign is the class."""
        return self.kernel_to(X) @ self.dual_coef + self.intercept

    def predict(self, X) -> np.ndarray:
        """Labels in {-1, +1}: +1 where ``f(x) > 0`` (as scikit-learn)."""
        return np.where(self.decision_function(X) > 0, 1, -1)

    @property
    def coef(self) -> np.ndarray:
        """The weight vector ``w = sum_i alpha_i y_i x_i`` (linear only)."""
        if self.kernel != "linear":
            raise ValueError(
                f"w exists in input space only for the linear kernel, "
                f"not {self.kernel!r}"
            )
        return self.dual_coef @ self.support_vectors


def fit_svm(
    X,
    y,
    C=1.0,
    kernel="linear",
    gamma=None,
    degree=3,
    coef0=0.0,
    tol=1e-8,
    max_iter=100_000,
) -> SVMModel:
    """Fit a soft-margin support vector machine by solving its dual.

    Solves the dual problem with :func:`smo` on the kernel matrix of the
    training points. The parameters mean what they mean in
    scikit-learn's ``SVC``, with the same defaults for ``gamma``,
    ``degree`` and ``coef0`` (but a linear default kernel and a much
    smaller ``tol``), so that ``fit_svm(X, y, C, kernel, gamma=g)`` and
    ``SVC(C=C, kernel=kernel, gamma=g)`` fit the same model.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Training points.
    y : array_like, shape (n,)
        Labels in {-1, +1} (both present). Labels 0/1 raise a
        ``ValueError``: map them first with ``2 * y - 1``.
    C : float
        Positive; larger values penalise slack more. ``numpy.inf`` gives
        the hard-margin SVM, for separable data only.
    kernel : {"linear", "poly", "rbf"}
    gamma : float, optional
        Kernel scale for "poly" and "rbf"; defaults to
        ``1 / (d * X.var())``, scikit-learn's ``gamma="scale"``.
    degree : int
        Degree of the polynomial kernel.
    coef0 : float
        Constant term of the polynomial kernel.
    tol : float
        Stopping tolerance of SMO on the KKT violation.
    max_iter : int
        Maximum number of SMO steps.

    Returns
    -------
    SVMModel

    Raises
    ------
    ValueError
        For labels other than -1 and +1, only one class, ``C <= 0``, an
        unknown kernel, bad kernel parameters or bad shapes.

    Examples
    --------
    >>> X = [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]]
    >>> model = fit_svm(X, [-1, -1, 1, 1], C=10.0)
    >>> model.coef.round(6).tolist(), round(model.intercept, 6)
    ([1.0, -1.0], -1.0)
    >>> model.predict([[-1.0, 0.5], [4.0, 0.5]]).tolist()
    [-1, 1]
    """
    X = _as_data(X)
    y = _as_labels(y, X.shape[0])
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; use one of {KERNELS}")
    C = _positive(C, "C", allow_inf=True)
    degree = _degree(degree)
    coef0 = _finite(coef0, "coef0")
    if gamma is None:
        var = X.var()
        gamma = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
    gamma = _positive(gamma, "gamma")
    K = kernel_matrix(
        X, kernel=kernel, gamma=gamma, degree=degree, coef0=coef0
    )
    alpha, b, n_iter = smo(K, y, C, tol=tol, max_iter=max_iter)
    support = np.flatnonzero(alpha > 0)
    return SVMModel(
        support_vectors=X[support],
        dual_coef=alpha[support] * y[support],
        intercept=b,
        support=support,
        alpha=alpha,
        C=C,
        kernel=kernel,
        gamma=gamma,
        degree=degree,
        coef0=coef0,
        n_iter=n_iter,
    )


# --------------------------------------------------------------------------
# The primal solver: subgradient descent on the hinge loss
# --------------------------------------------------------------------------


def hinge_subgradient_descent(X, y, C, n_steps, w0=None, b0=0.0):
    """Minimise :func:`primal_objective` by subgradient descent.

    A subgradient of ``||w||^2 / 2 + C sum_i max(0, 1 - y_i f_i)`` is
    ``(w - C sum_{i in A} y_i x_i, -C sum_{i in A} y_i)``, where ``A`` is
    the set of points with ``y_i f_i < 1``. The step at iteration ``k``
    (from 1) is ``1 / k``, the classical choice for an objective that is
    1-strongly convex in ``w``; with it, ``w_{k+1}`` is the average of the
    vectors ``C sum_{i in A} y_i x_i`` seen so far. The path of the
    iterates is returned, the start included; the last iterate approaches
    the minimiser at a rate of roughly ``1 / k``, far slower than
    :func:`smo`.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels in {-1, +1}.
    C : float
        Positive.
    n_steps : int
        Number of steps, non-negative.
    w0 : array_like, shape (d,), optional
        Starting weights; zeros by default.
    b0 : float
        Starting offset.

    Returns
    -------
    W : numpy.ndarray, shape (n_steps + 1, d)
        The weights at every iteration.
    B : numpy.ndarray, shape (n_steps + 1,)
        The offsets at every iteration.

    Examples
    --------
    >>> W, B = hinge_subgradient_descent([[2.0], [-2.0]], [1, -1], 1.0, 200)
    >>> round(float(W[-1, 0]), 2), round(float(B[-1]), 2)
    (0.5, 0.0)
    """
    X = _as_data(X)
    y = _as_labels(y, X.shape[0])
    C = _positive(C, "C")
    if (
        isinstance(n_steps, bool)
        or not isinstance(n_steps, numbers.Integral)
        or n_steps < 0
    ):
        raise ValueError(
            f"n_steps must be a non-negative int, got {n_steps!r}"
        )
    d = X.shape[1]
    w = np.zeros(d) if w0 is None else np.asarray(w0, dtype=float).copy()
    if w.shape != (d,):
        raise ValueError(f"w0 must have shape {(d,)}, got {w.shape}")
    b = _finite(b0, "b0")
    W = np.empty((n_steps + 1, d))
    B = np.empty(n_steps + 1)
    W[0], B[0] = w, b
    for k in range(1, n_steps + 1):
        active = y * (X @ w + b) < 1
        g_w = w - C * (y[active] @ X[active])
        g_b = -C * y[active].sum()
        w = w - g_w / k
        b = b - g_b / k
        W[k], B[k] = w, b
    return W, B
