"""Linear regression: least squares, ridge, lasso and the Bayesian view.

Chapter *Linear regression* derives every function here and checks it
against closed forms and scikit-learn. The functions follow the chapter:

* features from basis functions (:func:`polynomial_basis`,
  :func:`rbf_basis`);
* maximum likelihood under Gaussian noise, which is least squares plus the
  mean squared residual as the noise variance (:func:`maximum_likelihood`);
* MAP estimation with a Gaussian prior, which is ridge regression
  (:func:`ridge`);
* MAP estimation with a Laplace prior, which is the lasso, solved by
  proximal gradient descent with soft-thresholding (:func:`soft_threshold`,
  :func:`lasso_objective`, :func:`lasso`);
* the Gaussian posterior over the weights and the predictive distribution
  (:func:`bayesian_linear_regression`, :func:`predictive`).

Conventions. ``X`` (or ``Phi``) is the ``(N, D)`` design matrix, one
example per row, and ``y`` the ``(N,)`` targets. No function adds an
intercept: include a column of ones in the design matrix, or centre the
data first (the chapter explains why the two agree for least squares).
The objectives are, with ``lam >= 0``,

* ridge: ``||y - X w||^2 + lam ||w||^2`` (the scaling of scikit-learn's
  ``Ridge(alpha=lam, fit_intercept=False)``);
* lasso: ``1/2 ||y - X w||^2 + lam ||w||_1``, which is ``N`` times the
  objective of scikit-learn's ``Lasso(alpha=lam / N,
  fit_intercept=False)``.

The package depends on numpy alone.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "bayesian_linear_regression",
    "lasso",
    "lasso_objective",
    "maximum_likelihood",
    "polynomial_basis",
    "predictive",
    "rbf_basis",
    "ridge",
    "soft_threshold",
]


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _finite(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def _design(X, name: str = "X") -> np.ndarray:
    M = _finite(X, name)
    if M.ndim != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array (N, D), got shape {M.shape}"
        )
    return M


def _targets(y, n_rows: int, name: str = "X") -> np.ndarray:
    v = _finite(y, "y")
    if v.shape != (n_rows,):
        raise ValueError(
            f"y must have shape ({n_rows},) to match the {n_rows} rows of "
            f"{name}, got shape {v.shape}"
        )
    return v


def _scalar(value, name: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    ok = v > 0 if positive else v >= 0
    if not (np.isfinite(v) and ok):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be finite and {kind}, got {value!r}")
    return v


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def _points(x, name: str = "x") -> np.ndarray:
    """Inputs as an (N, d) array: a 1-D array is N scalar inputs."""
    arr = _finite(x, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty array of shape (N,) or (N, d), "
            f"got shape {arr.shape}"
        )
    return arr


def _cholesky(S: np.ndarray, name: str) -> np.ndarray:
    if not np.allclose(S, S.T, rtol=1e-10, atol=0.0):
        raise ValueError(f"{name} must be symmetric")
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite") from None


def _forward(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L Z = B`` for lower-triangular ``L`` by forward substitution."""
    Z = np.empty_like(B, dtype=np.float64)
    for i in range(L.shape[0]):
        Z[i] = (B[i] - L[i, :i] @ Z[:i]) / L[i, i]
    return Z


# --------------------------------------------------------------------------
# Basis functions
# --------------------------------------------------------------------------


def polynomial_basis(x, degree: int) -> np.ndarray:
    """The polynomial features ``1, x, x^2, ..., x^degree`` of scalars.

    Parameters
    ----------
    x : array_like, shape (N,)
        Scalar inputs.
    degree : int
        The largest power, ``>= 0``.

    Returns
    -------
    numpy.ndarray, shape (N, degree + 1)
        Row ``n`` is ``(1, x_n, x_n^2, ..., x_n^degree)``: the
        Vandermonde matrix with increasing powers.

    Raises
    ------
    ValueError
        If ``x`` is not a finite 1-D array or ``degree`` is not an
        integer ``>= 0``.

    Examples
    --------
    >>> polynomial_basis([2.0, -1.0], 3)
    array([[ 1.,  2.,  4.,  8.],
           [ 1., -1.,  1., -1.]])
    """
    xv = _finite(x, "x")
    if xv.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {xv.shape}")
    degree = _count(degree, "degree", 0)
    return xv[:, None] ** np.arange(degree + 1)


def rbf_basis(x, centres, lengthscale: float, bias: bool = True):
    """Gaussian radial basis features ``exp(-||x - c||^2 / (2 l^2))``.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, d)
        Inputs: ``N`` scalars, or ``N`` points in ``R^d``.
    centres : array_like, shape (K,) or (K, d)
        The centres ``c_k``, in the same space as the inputs.
    lengthscale : float
        The width ``l > 0`` of every bump.
    bias : bool
        Prepend a column of ones (a constant feature).

    Returns
    -------
    numpy.ndarray, shape (N, K) or (N, K + 1)
        Entry ``(n, k)`` is ``exp(-||x_n - c_k||^2 / (2 l^2))``, after the
        column of ones if ``bias`` is true.

    Raises
    ------
    ValueError
        If the inputs are not finite, the dimensions of ``x`` and
        ``centres`` differ, or ``lengthscale`` is not positive.

    Examples
    --------
    >>> rbf_basis([0.0, 1.0], [0.0], lengthscale=1.0, bias=False)
    array([[1.        ],
           [0.60653066]])
    """
    X = _points(x, "x")
    C = _points(centres, "centres")
    if X.shape[1] != C.shape[1]:
        raise ValueError(
            f"x has points in R^{X.shape[1]} but centres in R^{C.shape[1]}"
        )
    ell = _scalar(lengthscale, "lengthscale", positive=True)
    sq = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=-1)
    Phi = np.exp(-sq / (2 * ell**2))
    if bias:
        Phi = np.hstack([np.ones((X.shape[0], 1)), Phi])
    return Phi


# --------------------------------------------------------------------------
# Maximum likelihood and ridge regression
# --------------------------------------------------------------------------


def ridge(X, y, lam: float) -> np.ndarray:
    """Ridge regression: the minimiser of ``||y - X w||^2 + lam ||w||^2``.

    For ``lam > 0`` the minimiser is unique,
    ``w = (X^T X + lam I)^{-1} X^T y``. It is computed without forming an
    inverse (or even ``X^T X``) as the ordinary least-squares solution of
    the augmented system ::

        [      X      ]       [ y ]
        [ sqrt(lam) I ] w  ~  [ 0 ]

    (whose squared residual norm is ``||y - X w||^2 + lam ||w||^2``) by
    :func:`numpy.linalg.lstsq`, an SVD. With ``lam = 0`` this is ordinary
    least squares; if ``X`` is then rank deficient, the
    minimum-norm minimiser is returned.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The design matrix.
    y : array_like, shape (N,)
        The targets.
    lam : float
        The regularisation strength, ``>= 0``. It equals scikit-learn's
        ``alpha`` in ``Ridge(alpha=lam, fit_intercept=False)``.

    Returns
    -------
    numpy.ndarray, shape (D,)

    Raises
    ------
    ValueError
        For a negative or non-finite ``lam``, non-finite data, or shapes
        that do not match.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> y = np.array([1.0, 2.0, 3.0])
    >>> ridge(X, y, 0.0).round(12)  # least squares
    array([1., 2.])
    >>> ridge(X, y, 1.0).round(12)  # (X^T X + I)^{-1} X^T y
    array([0.875, 1.375])
    """
    Xm = _design(X)
    yv = _targets(y, Xm.shape[0])
    lam = _scalar(lam, "lam", positive=False)
    D = Xm.shape[1]
    A = np.vstack([Xm, np.sqrt(lam) * np.eye(D)])
    b = np.concatenate([yv, np.zeros(D)])
    return np.linalg.lstsq(A, b, rcond=None)[0]


def maximum_likelihood(Phi, y) -> tuple[np.ndarray, float]:
    """Maximum likelihood for ``y = Phi w + noise``, noise ``N(0, s2 I)``.

    The log-likelihood is maximised by the least-squares weights ``w``
    (minimum-norm ones if ``Phi`` is rank deficient) and, given them, by
    the mean squared residual ``s2 = ||y - Phi w||^2 / N``.

    Parameters
    ----------
    Phi : array_like, shape (N, D)
        The design matrix of features.
    y : array_like, shape (N,)
        The targets.

    Returns
    -------
    w : numpy.ndarray, shape (D,)
        The maximum-likelihood weights.
    noise_var : float
        The maximum-likelihood noise variance (zero if the fit is
        exact, in which case the likelihood has no maximum).

    Examples
    --------
    >>> Phi = polynomial_basis(np.array([0.0, 1.0, 2.0, 3.0]), 1)
    >>> w, s2 = maximum_likelihood(Phi, [0.0, 1.0, 1.0, 2.0])
    >>> w.round(12), round(s2, 12)
    (array([0.1, 0.6]), 0.05)
    """
    P = _design(Phi, "Phi")
    yv = _targets(y, P.shape[0], "Phi")
    w = ridge(P, yv, 0.0)
    r = yv - P @ w
    return w, float(r @ r / yv.size)


# --------------------------------------------------------------------------
# The lasso
# --------------------------------------------------------------------------


def soft_threshold(z, t):
    """The soft-thresholding operator ``sign(z) * max(|z| - t, 0)``.

    It is the proximal operator of ``t |.|``: for each entry,
    ``soft_threshold(z, t) = argmin_w 1/2 (w - z)^2 + t |w|``. Entries
    with ``|z| <= t`` become exactly zero; the others move ``t`` towards
    zero.

    Parameters
    ----------
    z : array_like
        The input.
    t : float or array_like
        The threshold, ``>= 0``, broadcast against ``z``.

    Returns
    -------
    numpy.ndarray or float
        An array of the broadcast shape (a float for scalar inputs).

    Raises
    ------
    ValueError
        If a threshold is negative or an input is not finite.

    Examples
    --------
    >>> soft_threshold([-3.0, -0.5, 0.0, 0.5, 3.0], 1.0)
    array([-2.,  0.,  0.,  0.,  2.])
    """
    zv = _finite(z, "z")
    tv = _finite(t, "t")
    if np.any(tv < 0):
        raise ValueError("the threshold t must be non-negative")
    out = np.sign(zv) * np.maximum(np.abs(zv) - tv, 0.0) + 0.0  # no -0.0
    return float(out) if out.ndim == 0 else out


def lasso_objective(X, y, w, lam: float) -> float:
    """The lasso objective ``1/2 ||y - X w||^2 + lam ||w||_1``.

    Examples
    --------
    >>> lasso_objective([[1.0], [1.0]], [1.0, 3.0], [2.0], 0.5)
    2.0
    """
    Xm = _design(X)
    yv = _targets(y, Xm.shape[0])
    wv = _finite(w, "w")
    if wv.shape != (Xm.shape[1],):
        raise ValueError(
            f"w must have shape ({Xm.shape[1]},), got shape {wv.shape}"
        )
    lam = _scalar(lam, "lam", positive=False)
    r = yv - Xm @ wv
    return float(0.5 * r @ r + lam * np.sum(np.abs(wv)))


def lasso(
    X,
    y,
    lam: float,
    n_iter: int = 100_000,
    tol: float = 1e-10,
    accelerated: bool = False,
    w0=None,
    history: bool = False,
):
    """The lasso by proximal gradient descent (ISTA or FISTA).

    Minimises ``F(w) = 1/2 ||y - X w||^2 + lam ||w||_1`` (``N`` times
    scikit-learn's lasso objective with ``alpha = lam / N``). With the
    Lipschitz constant ``L = ||X||_2^2`` of the gradient of the smooth
    part, each ISTA step is a gradient step followed by the proximal
    operator of the penalty::

        w <- soft_threshold(w - X^T (X w - y) / L, lam / L)

    so coefficients become exactly zero. ISTA decreases ``F`` at every
    step. FISTA (``accelerated=True``) takes the same step from an
    extrapolated point ``z``; it converges faster but is not monotone,
    and its momentum is reset whenever it points uphill (the adaptive
    restart of O'Donoghue and Candes).

    Iteration stops when ``L ||w_new - z||_2 <= tol * max|X^T y|``, with
    ``z`` the point the step started from, or after ``n_iter`` steps.
    The optimality conditions then hold at the returned ``w`` up to
    ``tol * max|X^T y|``: ``|X_j^T r| <= lam`` where ``w_j = 0`` and
    ``X_j^T r = lam sign(w_j)`` elsewhere, for ``r = y - X w``.

    Parameters
    ----------
    X : array_like, shape (N, D)
        The design matrix (centre it, or include a column of ones, which
        is then penalised too).
    y : array_like, shape (N,)
        The targets.
    lam : float
        The regularisation strength, ``>= 0``.
    n_iter : int
        The largest number of steps, ``>= 1``.
    tol : float
        The stopping tolerance, relative to ``max|X^T y|``; ``>= 0``.
    accelerated : bool
        Use FISTA instead of ISTA.
    w0 : array_like, shape (D,), optional
        The starting point (a warm start); zeros by default.
    history : bool
        Also return the objective after every step.

    Returns
    -------
    w : numpy.ndarray, shape (D,)
        The final iterate.
    objective : numpy.ndarray, shape (k + 1,)
        Only if ``history``: ``F`` at the start and after each of the
        ``k`` steps taken.

    Raises
    ------
    ValueError
        For a negative ``lam`` or ``tol``, a bad ``n_iter``, non-finite
        data or mismatched shapes.

    Examples
    --------
    >>> X = np.eye(3)  # orthonormal columns: one step is exact
    >>> lasso(X, np.array([3.0, -0.5, 1.5]), lam=1.0)
    array([2. , 0. , 0.5])
    """
    Xm = _design(X)
    yv = _targets(y, Xm.shape[0])
    lam = _scalar(lam, "lam", positive=False)
    tol = _scalar(tol, "tol", positive=False)
    n_iter = _count(n_iter, "n_iter", 1)
    D = Xm.shape[1]
    if w0 is None:
        w = np.zeros(D)
    else:
        w = _finite(w0, "w0").copy()
        if w.shape != (D,):
            raise ValueError(f"w0 must have shape ({D},), got {w.shape}")
    objective = [lasso_objective(Xm, yv, w, lam)] if history else None
    L = float(np.linalg.norm(Xm, 2)) ** 2
    Xty = Xm.T @ yv
    scale = float(np.max(np.abs(Xty)))
    if L == 0.0 or scale == 0.0:  # X^T r = 0 for every w: w = 0 is optimal
        w = np.zeros(D)
        if history:
            objective.append(lasso_objective(Xm, yv, w, lam))
        return (w, np.array(objective)) if history else w
    G = Xm.T @ Xm  # D x D: each step costs O(D^2), not O(N D)
    z, t = w.copy(), 1.0  # FISTA's extrapolated point and momentum
    for _ in range(n_iter):
        base = z if accelerated else w
        w_new = soft_threshold(base - (G @ base - Xty) / L, lam / L)
        gap = L * float(np.linalg.norm(w_new - base))
        if accelerated:
            if (base - w_new) @ (w_new - w) > 0:  # momentum points uphill
                z, t = w_new, 1.0
            else:
                t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
                z = w_new + ((t - 1.0) / t_new) * (w_new - w)
                t = t_new
        w = w_new
        if history:
            objective.append(lasso_objective(Xm, yv, w, lam))
        if gap <= tol * scale:
            break
    return (w, np.array(objective)) if history else w


# --------------------------------------------------------------------------
# Bayesian linear regression
# --------------------------------------------------------------------------


def bayesian_linear_regression(
    Phi, y, noise_var: float, prior_cov, prior_mean=None
) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian posterior over the weights of a linear model.

    With prior ``w ~ N(m0, S0)`` and likelihood ``y | w ~ N(Phi w, s2 I)``
    the posterior is ``N(mN, SN)`` with ::

        SN^{-1} = S0^{-1} + Phi^T Phi / s2
        mN      = SN (S0^{-1} m0 + Phi^T y / s2)

    It is computed in whitened coordinates: with ``S0 = L L^T`` write
    ``w = m0 + L v``, so that ``v`` has prior ``N(0, I)`` and design
    ``Psi = Phi L / s``. The posterior precision of ``v``,
    ``M = I + Psi^T Psi``, has eigenvalues ``>= 1``, so its Cholesky
    factor ``M = R R^T`` is well conditioned; then ``B = L R^{-T}``
    (a triangular solve), ``SN = B B^T`` (symmetric positive semidefinite
    by construction) and ``mN = m0 + B R^{-1} Psi^T (y - Phi m0) / s``.
    No inverse is formed.

    Parameters
    ----------
    Phi : array_like, shape (N, D)
        The design matrix of features; ``N = 0`` rows is allowed (the
        posterior is then the prior).
    y : array_like, shape (N,)
        The targets.
    noise_var : float
        The noise variance ``s2 > 0``.
    prior_cov : float or array_like, shape (D,) or (D, D)
        The prior covariance ``S0``: a positive scalar (times the
        identity), a positive vector (the diagonal) or a symmetric
        positive definite matrix.
    prior_mean : array_like, shape (D,), optional
        The prior mean ``m0``, zero by default. Passing a previous
        posterior as the prior gives sequential updating.

    Returns
    -------
    mean : numpy.ndarray, shape (D,)
        The posterior mean ``mN``.
    cov : numpy.ndarray, shape (D, D)
        The posterior covariance ``SN``.

    Raises
    ------
    ValueError
        For a non-positive ``noise_var``, a prior covariance that is not
        symmetric positive definite, non-finite data or mismatched shapes.

    Examples
    --------
    >>> Phi = np.array([[1.0], [1.0]])  # two observations of w itself
    >>> m, S = bayesian_linear_regression(Phi, [1.0, 3.0], 1.0, 1.0)
    >>> m, S  # precision 1 + 2 = 3; mean (1 + 3) / 3
    (array([1.33333333]), array([[0.33333333]]))
    """
    P = _finite(Phi, "Phi")
    if P.ndim != 2 or P.shape[1] == 0:
        raise ValueError(
            f"Phi must be a 2-D array (N, D) with D >= 1, got shape {P.shape}"
        )
    N, D = P.shape
    yv = _targets(y, N, "Phi")
    s2 = _scalar(noise_var, "noise_var", positive=True)
    S0 = _finite(prior_cov, "prior_cov")
    if S0.ndim == 0:
        S0 = float(S0) * np.eye(D)
    elif S0.ndim == 1 and S0.shape == (D,):
        S0 = np.diag(S0)
    if S0.shape != (D, D):
        raise ValueError(
            f"prior_cov must be a scalar, shape ({D},) or ({D}, {D}), got "
            f"shape {np.shape(prior_cov)}"
        )
    L = _cholesky(S0, "prior_cov")
    m0 = (
        np.zeros(D)
        if prior_mean is None
        else _finite(prior_mean, "prior_mean")
    )
    if m0.shape != (D,):
        raise ValueError(
            f"prior_mean must have shape ({D},), got shape {m0.shape}"
        )
    s = np.sqrt(s2)
    Psi = (P @ L) / s
    R = np.linalg.cholesky(np.eye(D) + Psi.T @ Psi)
    Bt = _forward(R, L.T)  # B^T = R^{-1} L^T, so B = L R^{-T}
    u = _forward(R, Psi.T @ ((yv - P @ m0) / s))
    mean = m0 + Bt.T @ u
    cov = Bt.T @ Bt
    return mean, cov


def predictive(
    Phi_new, mean, cov, noise_var: float
) -> tuple[np.ndarray, np.ndarray]:
    """The posterior predictive mean and variance at new inputs.

    For ``y* = phi*^T w + noise`` with ``w ~ N(mean, cov)`` and
    independent noise ``N(0, s2)`` the prediction is Gaussian with mean
    ``phi*^T mean`` and variance ``phi*^T cov phi* + s2``: the
    uncertainty about the weights plus the noise.

    Parameters
    ----------
    Phi_new : array_like, shape (M, D)
        The features of ``M`` new inputs, one per row.
    mean : array_like, shape (D,)
        The posterior mean of the weights.
    cov : array_like, shape (D, D)
        The posterior covariance of the weights.
    noise_var : float
        The noise variance, ``>= 0`` (zero gives the distribution of the
        noise-free function value ``phi*^T w``).

    Returns
    -------
    pred_mean : numpy.ndarray, shape (M,)
    pred_var : numpy.ndarray, shape (M,)

    Raises
    ------
    ValueError
        For mismatched shapes, non-finite entries or a negative
        ``noise_var``.

    Examples
    --------
    >>> predictive([[1.0, 2.0]], [1.0, 1.0], np.eye(2), 0.5)
    (array([3.]), array([5.5]))
    """
    P = _design(Phi_new, "Phi_new")
    m = _finite(mean, "mean")
    S = _finite(cov, "cov")
    D = P.shape[1]
    if m.shape != (D,) or S.shape != (D, D):
        raise ValueError(
            f"mean and cov must have shapes ({D},) and ({D}, {D}) to match "
            f"Phi_new, got {m.shape} and {S.shape}"
        )
    s2 = _scalar(noise_var, "noise_var", positive=False)
    var_w = np.einsum("md,de,me->m", P, S, P)
    return P @ m, np.maximum(var_w, 0.0) + s2
