"""Transfer learning: reusing a trained network on a new task.

The code of the chapter *Transfer learning*
(``book/deep_learning/transfer.md``). A network pretrained on a source
task is split into a *body* (every layer but the last) and a *head* (the
last affine layer). On a target task we can

- train a new head on the frozen body's features (a *linear probe*),
- train the new head and the body together (*fine-tuning*), or
- train the same architecture from random weights (*from scratch*);

:func:`compare_transfer` runs all three over several seeds. For a shift
of the inputs between the tasks, :func:`gaussian_density_ratio` and
:func:`classifier_density_ratio` give importance weights and
:func:`importance_weighted_risk` the weighted risk estimate. The layer
:class:`LoRAAffine` adapts a frozen weight matrix by a trainable low-rank
update ``W + A B``, and :func:`best_low_rank_update` is the best such
update in the Frobenius norm (the truncated SVD).
"""

from __future__ import annotations

import numpy as np

from m4ml.logistic_regression import _positive_int, fit_logistic
from m4ml.mlp import Affine, Layer, Sequential, accuracy, init_mlp, train
from m4ml.validation import check_generator

__all__ = [
    "Frozen",
    "LoRAAffine",
    "balanced_subset",
    "best_low_rank_update",
    "classifier_density_ratio",
    "compare_transfer",
    "fine_tune",
    "gaussian_density_ratio",
    "importance_weighted_risk",
    "linear_probe",
    "new_head",
    "pretrain",
    "split_body_head",
]


class Frozen(Layer):
    """A layer (or network) whose parameters are not trained.

    The wrapped layer runs forward and backward as usual, so gradients
    still flow to earlier layers, but ``params`` is empty, so
    :func:`m4ml.mlp.sgd_step` and :func:`m4ml.mlp.train` never change it.

    Parameters
    ----------
    layer : Layer
        The layer to freeze; it is shared, not copied.

    Examples
    --------
    >>> frozen = Frozen(Affine([[2.0]]))
    >>> frozen.forward(np.array([[1.0]])).tolist(), frozen.params
    ([[2.0]], {})
    >>> frozen.backward(np.array([[1.0]])).tolist()
    [[2.0]]
    """

    def __init__(self, layer: Layer) -> None:
        super().__init__()
        if not isinstance(layer, Layer):
            raise TypeError(f"not a Layer: {layer!r}")
        self.layer = layer

    def forward(self, x, training: bool = True) -> np.ndarray:
        return self.layer.forward(x, training)

    def backward(self, dout) -> np.ndarray:
        return self.layer.backward(dout)


class LoRAAffine(Layer):
    """A frozen affine map plus a trainable low-rank update.

    The layer computes ``x (W + A B) + b`` with ``W`` (shape ``(d_in,
    d_out)``) and ``b`` fixed and only ``A`` (``(d_in, r)``) and ``B``
    (``(r, d_out)``) trained: ``r (d_in + d_out)`` parameters instead of
    ``d_in d_out``. ``A`` starts random and ``B`` at zero, so the layer
    starts as the pretrained map. The backward pass is

    ``dL/dA = x^T G B^T``, ``dL/dB = (x A)^T G``, ``dL/dx = G (W + A B)^T``

    for the upstream gradient ``G = dL/d(output)``.

    Parameters
    ----------
    W : array_like, shape (d_in, d_out)
        The pretrained weights, kept fixed.
    b : array_like, shape (d_out,), optional
        The fixed bias; zeros if omitted.
    rank : int
        The rank ``r`` of the update, ``1 <= r <= min(d_in, d_out)``.
    rng : numpy.random.Generator
        Source of the initial ``A``, with entries ``N(0, 1 / d_in)``.

    Examples
    --------
    >>> lora = LoRAAffine(np.eye(3), rank=1, rng=np.random.default_rng(0))
    >>> sorted(lora.params), lora.params["A"].shape, lora.params["B"].shape
    (['A', 'B'], (3, 1), (1, 3))
    >>> lora.forward(np.array([[1.0, 2.0, 3.0]])).tolist()  # B = 0
    [[1.0, 2.0, 3.0]]
    """

    def __init__(self, W, b=None, *, rank: int, rng) -> None:
        super().__init__()
        W = np.array(W, dtype=np.float64)
        if W.ndim != 2 or not np.all(np.isfinite(W)):
            raise ValueError(f"W must be a finite 2-D array, got {W.shape}")
        d_in, d_out = W.shape
        b = np.zeros(d_out) if b is None else np.array(b, dtype=np.float64)
        if b.shape != (d_out,):
            raise ValueError(f"b must have shape ({d_out},), got {b.shape}")
        rank = _positive_int(rank, "rank")
        if rank > min(d_in, d_out):
            raise ValueError(
                f"rank must be at most min(d_in, d_out) = {min(d_in, d_out)}"
                f", got {rank}"
            )
        check_generator(rng)
        self.W, self.b = W, b
        A = rng.standard_normal((d_in, rank)) / np.sqrt(d_in)
        self.params = {"A": A, "B": np.zeros((rank, d_out))}
        self.grads = {"A": np.zeros_like(A), "B": np.zeros((rank, d_out))}
        self._x = None

    def weight(self) -> np.ndarray:
        """The effective weight matrix ``W + A B``."""
        return self.W + self.params["A"] @ self.params["B"]

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"input must have shape (N, {self.W.shape[0]}), got {x.shape}"
            )
        self._x = x
        return x @ self.weight() + self.b

    def backward(self, dout) -> np.ndarray:
        x = self._cached("_x")
        A, B = self.params["A"], self.params["B"]
        self.grads["A"] = x.T @ (dout @ B.T)
        self.grads["B"] = (x @ A).T @ dout
        return dout @ self.weight().T


def best_low_rank_update(W0, W_target, rank: int):
    """The best update of rank at most ``r`` from ``W0`` towards a target.

    Minimises ``||W0 + A B - W_target||_F`` over ``A`` (``(m, r)``) and
    ``B`` (``(r, n)``). By the Eckart-Young-Mirsky theorem the minimiser's
    product ``A B`` is the truncated SVD of the difference ``D = W_target -
    W0``; it is factored as ``A = U_r S_r^(1/2)``, ``B = S_r^(1/2) V_r^T``.

    Parameters
    ----------
    W0, W_target : array_like, shape (m, n)
        The pretrained and the target weights.
    rank : int
        ``1 <= r <= min(m, n)``.

    Returns
    -------
    A : numpy.ndarray, shape (m, r)
    B : numpy.ndarray, shape (r, n)

    Examples
    --------
    >>> D = np.diag([3.0, 1.0])
    >>> A, B = best_low_rank_update(np.zeros((2, 2)), D, 1)
    >>> np.round(A @ B, 12).tolist()
    [[3.0, 0.0], [0.0, 0.0]]
    """
    W0 = np.asarray(W0, dtype=np.float64)
    W_target = np.asarray(W_target, dtype=np.float64)
    if W0.ndim != 2 or W0.shape != W_target.shape:
        raise ValueError(
            f"W0 and W_target must be 2-D of equal shape, got {W0.shape} "
            f"and {W_target.shape}"
        )
    rank = _positive_int(rank, "rank")
    if rank > min(W0.shape):
        raise ValueError(f"rank must be at most {min(W0.shape)}, got {rank}")
    U, s, Vt = np.linalg.svd(W_target - W0, full_matrices=False)
    root = np.sqrt(s[:rank])
    return U[:, :rank] * root, root[:, None] * Vt[:rank]


def split_body_head(model: Sequential) -> tuple[Sequential, Affine]:
    """Split a network into its body (all but the last layer) and head.

    The body and head share their arrays with ``model``.

    Examples
    --------
    >>> net = init_mlp([4, 8, 3], np.random.default_rng(0))
    >>> body, head = split_body_head(net)
    >>> len(body.layers), head.params["W"].shape
    (2, (8, 3))
    """
    if not isinstance(model, Sequential) or len(model.layers) < 2:
        raise ValueError("model must be a Sequential of at least 2 layers")
    head = model.layers[-1]
    if not isinstance(head, Affine):
        raise ValueError("the last layer of model must be an Affine head")
    return Sequential(model.layers[:-1]), head


def new_head(d_in: int, n_classes: int, rng) -> Affine:
    """A fresh affine head with Xavier-scaled random weights.

    Examples
    --------
    >>> new_head(8, 3, np.random.default_rng(0)).params["W"].shape
    (8, 3)
    """
    d_in = _positive_int(d_in, "d_in")
    n_classes = _positive_int(n_classes, "n_classes")
    check_generator(rng)
    scale = np.sqrt(2.0 / (d_in + n_classes))
    return Affine(scale * rng.standard_normal((d_in, n_classes)))


def pretrain(
    X,
    y,
    hidden,
    n_classes: int,
    rng,
    lr: float = 0.1,
    n_epochs: int = 30,
    batch_size: int = 32,
) -> Sequential:
    """Train a ReLU network from scratch on a source task.

    Parameters
    ----------
    X, y : array_like
        Source inputs (rows) and integer labels in ``0, ..., K-1``.
    hidden : sequence of int
        Hidden widths.
    n_classes : int
        ``K``.
    rng : numpy.random.Generator
        Source of the initial weights and of the shuffling.
    lr, n_epochs, batch_size
        As in :func:`m4ml.mlp.train`.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 2)); y = (X[:, 0] > 0).astype(int)
    >>> net = pretrain(X, y, [8], 2, rng, lr=0.5, n_epochs=20)
    >>> accuracy(net, X, y) > 0.9
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    check_generator(rng)
    model = init_mlp([X.shape[1], *hidden, n_classes], rng)
    train(model, X, y, rng, lr=lr, n_epochs=n_epochs, batch_size=batch_size)
    return model


def _copy(layer: Layer) -> Layer:
    """A deep copy of a Sequential of Affine and parameter-free layers."""
    if isinstance(layer, Sequential):
        return Sequential([_copy(sub) for sub in layer.layers])
    if isinstance(layer, Affine):
        return Affine(layer.params["W"], layer.params["b"])
    if layer.params:
        raise TypeError(f"cannot copy {type(layer).__name__}")
    return type(layer)()


def linear_probe(
    body: Sequential,
    X,
    y,
    n_classes: int,
    rng,
    lr: float = 0.1,
    n_epochs: int = 100,
    batch_size: int | None = None,
) -> Sequential:
    """Train a new head on the features of a frozen body.

    The features ``body(X)`` are computed once; the head is trained on
    them by :func:`m4ml.mlp.train` (softmax regression on the features).

    Parameters
    ----------
    body : Sequential
        The pretrained body; it is not changed.
    X, y : array_like
        Target inputs and labels.
    n_classes : int
        The number of target classes.
    rng : numpy.random.Generator
        Source of the head's initial weights, then of the shuffling.
    lr, n_epochs : float, int
        As in :func:`m4ml.mlp.train`.
    batch_size : int, optional
        Rows per step; all of them (full-batch) by default.

    Returns
    -------
    Sequential
        The frozen body followed by the trained head.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 2)); y = (X[:, 1] > 0).astype(int)
    >>> body, _ = split_body_head(init_mlp([2, 16, 2], rng))
    >>> probe = linear_probe(body, X, y, 2, rng, lr=0.5, n_epochs=200)
    >>> accuracy(probe, X, y) > 0.9
    True
    """
    check_generator(rng)
    H = body.forward(np.asarray(X, dtype=np.float64), False)
    head = new_head(H.shape[1], n_classes, rng)
    bs = len(H) if batch_size is None else batch_size
    train(
        Sequential([head]), H, y, rng, lr=lr, n_epochs=n_epochs, batch_size=bs
    )
    return Sequential([Frozen(body), head])


def fine_tune(
    model: Sequential,
    X,
    y,
    n_classes: int,
    rng,
    lr: float = 0.1,
    n_epochs: int = 100,
    batch_size: int | None = None,
    freeze: bool = False,
) -> Sequential:
    """Replace the head of a pretrained network and train on a new task.

    The pretrained ``model`` is copied, never changed. Its head is replaced
    by :func:`new_head`; with ``freeze=True`` the body is wrapped in
    :class:`Frozen`, so only the new head is trained (the gradients still
    pass through the body), otherwise every layer is trained.

    Parameters
    ----------
    model : Sequential
        The pretrained network.
    X, y, n_classes, rng, lr, n_epochs, batch_size
        As in :func:`linear_probe`.
    freeze : bool
        Train the head only.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 2)); y = (X[:, 1] > 0).astype(int)
    >>> net = init_mlp([2, 16, 3], rng)
    >>> tuned = fine_tune(net, X, y, 2, rng, lr=0.5, n_epochs=200)
    >>> accuracy(tuned, X, y) > 0.9
    True
    """
    check_generator(rng)
    body, _ = split_body_head(model)
    body = _copy(body)
    X = np.asarray(X, dtype=np.float64)
    d_feat = body.forward(X[:1], False).shape[1]
    head = new_head(d_feat, n_classes, rng)
    first = Frozen(body) if freeze else body
    tuned = Sequential([first, head])
    bs = len(X) if batch_size is None else batch_size
    train(tuned, X, y, rng, lr=lr, n_epochs=n_epochs, batch_size=bs)
    return tuned


def balanced_subset(y, n_per_class: int, rng) -> np.ndarray:
    """Indices of ``n_per_class`` random rows of every class in ``y``.

    Examples
    --------
    >>> idx = balanced_subset([0, 0, 1, 1, 1], 2, np.random.default_rng(0))
    >>> sorted(np.asarray([0, 0, 1, 1, 1])[idx].tolist())
    [0, 0, 1, 1]
    """
    y = np.asarray(y)
    n_per_class = _positive_int(n_per_class, "n_per_class")
    check_generator(rng)
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        if len(rows) < n_per_class:
            raise ValueError(
                f"class {c} has {len(rows)} rows, fewer than {n_per_class}"
            )
        idx.append(rng.choice(rows, n_per_class, replace=False))
    return np.concatenate(idx)


def compare_transfer(
    pretrained: Sequential,
    target_train,
    target_test,
    n_per_class: int,
    seeds,
    hidden,
    lr: float = 0.1,
    n_epochs: int = 100,
) -> dict[str, np.ndarray]:
    """Linear probe, fine-tuning and training from scratch, over seeds.

    For every seed a class-balanced subset of ``n_per_class`` labelled
    rows per class is drawn from ``target_train``; the three methods are
    trained on it by full-batch gradient descent with the same ``lr`` and
    ``n_epochs`` and scored on all of ``target_test``.

    Parameters
    ----------
    pretrained : Sequential
        A network trained on the source task.
    target_train, target_test : tuple (X, y)
        Target data; labels in ``0, ..., K-1``.
    n_per_class : int
        Labelled target rows per class.
    seeds : sequence of int
        One run of every method per seed.
    hidden : sequence of int
        Hidden widths of the from-scratch network.
    lr, n_epochs
        As in :func:`m4ml.mlp.train`.

    Returns
    -------
    dict
        ``"probe"``, ``"fine-tune"``, ``"scratch"``: test accuracies, one
        per seed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 2)); y = (X[:, 0] > 0).astype(int)
    >>> net = pretrain(X, y, [8], 2, rng, lr=0.5, n_epochs=10)
    >>> res = compare_transfer(net, (X, y), (X, y), 5, [0, 1], [8])
    >>> sorted(res), res["probe"].shape
    (['fine-tune', 'probe', 'scratch'], (2,))
    """
    X_tr, y_tr = (np.asarray(a) for a in target_train)
    X_te, y_te = (np.asarray(a) for a in target_test)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    body, _ = split_body_head(pretrained)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    out = {k: np.empty(len(seeds)) for k in ("probe", "fine-tune", "scratch")}
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        idx = balanced_subset(y_tr, n_per_class, rng)
        X, y = X_tr[idx], y_tr[idx]
        probe = linear_probe(body, X, y, n_classes, rng, lr, n_epochs)
        tuned = fine_tune(pretrained, X, y, n_classes, rng, lr, n_epochs)
        scratch = init_mlp([X.shape[1], *hidden, n_classes], rng)
        train(scratch, X, y, rng, lr=lr, n_epochs=n_epochs, batch_size=len(X))
        out["probe"][i] = accuracy(probe, X_te, y_te)
        out["fine-tune"][i] = accuracy(tuned, X_te, y_te)
        out["scratch"][i] = accuracy(scratch, X_te, y_te)
    return out


def gaussian_density_ratio(x, mean_p, mean_q, sigma: float = 1.0):
    """The ratio ``q(x) / p(x)`` of two Gaussians with one variance.

    For ``p = N(mean_p, sigma^2 I)`` and ``q = N(mean_q, sigma^2 I)`` the
    ratio is ``exp((mu_q - mu_p)^T x / sigma^2 - (|mu_q|^2 - |mu_p|^2) /
    (2 sigma^2))``, log-linear in ``x``.

    Parameters
    ----------
    x : array_like, shape (N, D) or (N,)
        Points (a 1-D array is read as ``N`` points in one dimension).
    mean_p, mean_q : array_like, shape (D,) or float
        The source and target means.
    sigma : float
        The common standard deviation, positive.

    Examples
    --------
    >>> gaussian_density_ratio([0.0, 1.0], 0.0, 1.0).round(4).tolist()
    [0.6065, 1.6487]
    """
    x = np.asarray(x, dtype=np.float64)
    X = x[:, None] if x.ndim == 1 else x
    mp = np.atleast_1d(np.asarray(mean_p, dtype=np.float64))
    mq = np.atleast_1d(np.asarray(mean_q, dtype=np.float64))
    if X.ndim != 2 or mp.shape != (X.shape[1],) or mq.shape != mp.shape:
        raise ValueError("x must be (N, D) and the means of shape (D,)")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    log_w = (X @ (mq - mp) - 0.5 * (mq @ mq - mp @ mp)) / sigma**2
    return np.exp(log_w)


def classifier_density_ratio(X_source, X_target, X=None, lam: float = 1e-3):
    """Density ratio ``q(x) / p(x)`` estimated by a domain classifier.

    A logistic regression learns ``P(target | x)`` from the pooled inputs
    (label 0 for source rows, 1 for target rows). By Bayes' rule
    ``q(x) / p(x) = (n_s / n_t) P(target | x) / P(source | x)``, which is
    ``(n_s / n_t) exp(logit)``.

    Parameters
    ----------
    X_source, X_target : array_like, shape (n_s, D) and (n_t, D)
        Unlabelled inputs of the two distributions.
    X : array_like, shape (N, D), optional
        Where to evaluate the ratio; ``X_source`` by default.
    lam : float
        The L2 penalty of :func:`m4ml.logistic_regression.fit_logistic`.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.standard_normal((2000, 1))
    >>> Xt = rng.standard_normal((2000, 1)) + 1.0
    >>> w = classifier_density_ratio(Xs, Xt, X=np.array([[0.5]]))
    >>> bool(abs(w[0] - 1.0) < 0.1)  # exact ratio exp(0.5 - 0.5) = 1
    True
    """
    Xs = np.asarray(X_source, dtype=np.float64)
    Xt = np.asarray(X_target, dtype=np.float64)
    if Xs.ndim != 2 or Xt.ndim != 2 or Xs.shape[1] != Xt.shape[1]:
        raise ValueError("X_source and X_target must be 2-D, equal width")
    X = Xs if X is None else np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != Xs.shape[1]:
        raise ValueError(f"X must have shape (N, {Xs.shape[1]})")
    pooled = np.vstack([Xs, Xt])
    label = np.r_[np.zeros(len(Xs)), np.ones(len(Xt))]
    fit = fit_logistic(pooled, label, lam=lam)
    logit = X @ fit.coef + fit.intercept
    return len(Xs) / len(Xt) * np.exp(logit)


def importance_weighted_risk(losses, weights) -> tuple[float, float]:
    """The importance-weighted mean of losses and its standard error.

    With source samples ``x_i ~ p`` and weights ``w_i = q(x_i) / p(x_i)``,
    ``mean(w_i * l_i)`` is an unbiased estimate of the target risk
    ``E_q[l]``; its standard error is the sample standard deviation of
    ``w_i l_i`` over ``sqrt(n)``.

    Parameters
    ----------
    losses, weights : array_like, shape (n,)
        Per-sample losses and non-negative weights, ``n >= 2``.

    Returns
    -------
    estimate, standard_error : float

    Examples
    --------
    >>> importance_weighted_risk([1.0, 3.0], [1.0, 1.0])
    (2.0, 1.0)
    """
    loss = np.asarray(losses, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if loss.ndim != 1 or loss.shape != w.shape or len(loss) < 2:
        raise ValueError("losses and weights must be 1-D, equal, n >= 2")
    if np.any(w < 0) or not np.all(np.isfinite(w * loss)):
        raise ValueError("weights must be finite and non-negative")
    terms = w * loss
    return float(terms.mean()), float(terms.std(ddof=1) / np.sqrt(len(w)))
