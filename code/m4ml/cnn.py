"""Convolutional layers with explicit forward and backward passes.

The code of the chapter *Convolutional networks*
(``book/deep_learning/cnn.md``). Images are batches of shape
``(N, C, H, W)``: ``N`` examples, ``C`` channels, height ``H`` and width
``W``. A bank of ``F`` filters has shape ``(F, C, KH, KW)``.

"Convolution" here means what deep-learning libraries compute: the
cross-correlation ``y[n, f, i, j] = b[f] + sum_{c, u, v}
w[f, c, u, v] x[n, c, i s + u, j s + v]`` of the zero-padded input, with no
flip of the kernel. The fast path unrolls every receptive field into a row
of a matrix (:func:`im2col`), so that the layer is one matrix product.

The layers :class:`Conv2D`, :class:`MaxPool2D` and :class:`Flatten`
follow the layer protocol of :mod:`m4ml.mlp`, so a convolutional network
is an :class:`m4ml.mlp.Sequential` trained by :func:`m4ml.mlp.train`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from m4ml.mlp import Affine, Layer, ReLU, Sequential
from m4ml.validation import check_generator

__all__ = [
    "Conv2D",
    "Flatten",
    "MaxPool2D",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_loop",
    "conv_output_size",
    "im2col",
    "init_cnn",
    "max_pool2d",
    "max_pool2d_backward",
    "receptive_field",
]


def conv_output_size(n: int, k: int, stride: int = 1, padding: int = 0):
    """The length ``(n + 2 p - k) / s + 1`` of a convolution's output.

    Parameters
    ----------
    n : int
        Input length (height or width).
    k : int
        Kernel length.
    stride : int
        Step ``s`` between neighbouring windows, positive.
    padding : int
        Zeros ``p`` added on each side, non-negative.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input, or if the windows
        do not tile the padded input exactly (``s`` does not divide
        ``n + 2 p - k``).

    Examples
    --------
    >>> conv_output_size(8, 3), conv_output_size(8, 3, padding=1)
    (6, 8)
    >>> conv_output_size(7, 3, stride=2)
    3
    """
    n, k, stride, padding = int(n), int(k), int(stride), int(padding)
    if n < 1 or k < 1:
        raise ValueError(f"sizes must be positive, got n={n}, k={k}")
    if stride < 1:
        raise ValueError(f"stride must be positive, got {stride}")
    if padding < 0:
        raise ValueError(f"padding must be non-negative, got {padding}")
    span = n + 2 * padding - k
    if span < 0:
        raise ValueError(
            f"kernel of size {k} is larger than the padded input of "
            f"size {n + 2 * padding}"
        )
    if span % stride:
        raise ValueError(
            f"the output size ({n} + 2*{padding} - {k})/{stride} + 1 is "
            "not an integer; change the padding or the stride"
        )
    return span // stride + 1


def _check_input(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {x.shape}")
    return x


def _check_pair(x: np.ndarray, w) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"w must have shape (F, C, KH, KW), got {w.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w has {w.shape[1]} input channels but x has {x.shape[1]}"
        )
    return w


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    if padding == 0:
        return x
    p = int(padding)
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def im2col(x, kh: int, kw: int, stride: int = 1, padding: int = 0):
    """Unroll every receptive field of a batch of images into a row.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        The images.
    kh, kw : int
        Height and width of the kernel.
    stride, padding : int
        As in :func:`conv2d`.

    Returns
    -------
    numpy.ndarray, shape (N * OH * OW, C * KH * KW)
        Row ``(n * OH + i) * OW + j`` holds the window of image ``n``
        whose top-left corner is at ``(i s, j s)`` of the padded image,
        flattened in the order (channel, row, column) of a filter
        ``w[f]``.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> im2col(x, 2, 2).tolist()
    [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], \
[4.0, 5.0, 7.0, 8.0]]
    """
    x = _check_input(x)
    N, C, H, W = x.shape
    oh = conv_output_size(H, kh, stride, padding)
    ow = conv_output_size(W, kw, stride, padding)
    xp = _pad(x, padding)
    # windows[n, c, i, j, u, v] = xp[n, c, i + u, j + v] (a view, no copy)
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride][:, :, :oh, :ow]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(N * oh * ow, -1)


def col2im(cols, x_shape, kh: int, kw: int, stride: int = 1, padding: int = 0):
    """The adjoint of :func:`im2col`: add every row back into its window.

    Entries of overlapping windows are summed, so that
    ``sum(im2col(x) * cols) == sum(x * col2im(cols))`` for all ``x``.

    Parameters
    ----------
    cols : array_like, shape (N * OH * OW, C * KH * KW)
        One row per window, as :func:`im2col` returns them.
    x_shape : tuple (N, C, H, W)
        The shape of the (unpadded) images.
    kh, kw, stride, padding : int
        As in :func:`im2col`.

    Returns
    -------
    numpy.ndarray, shape x_shape

    Examples
    --------
    >>> col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    N, C, H, W = (int(s) for s in x_shape)
    oh = conv_output_size(H, kh, stride, padding)
    ow = conv_output_size(W, kw, stride, padding)
    cols = np.asarray(cols, dtype=np.float64)
    if cols.shape != (N * oh * ow, C * kh * kw):
        raise ValueError(
            f"cols must have shape ({N * oh * ow}, {C * kh * kw}), "
            f"got {cols.shape}"
        )
    c6 = cols.reshape(N, oh, ow, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for u in range(kh):  # one strided slice per kernel offset
        for v in range(kw):
            rows = slice(u, u + stride * oh, stride)
            cols_ = slice(v, v + stride * ow, stride)
            xp[:, :, rows, cols_] += c6[:, :, u, v]
    return xp[:, :, padding : padding + H, padding : padding + W]


def conv2d(x, w, b=None, stride: int = 1, padding: int = 0):
    """Multichannel 2-D cross-correlation, as deep-learning libraries do it.

    ``y[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v]
    xp[n, c, i s + u, j s + v]``, where ``xp`` is ``x`` with ``p`` zeros
    added on every side. Computed as one matrix product of
    :func:`im2col` with the flattened filters.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        The images.
    w : array_like, shape (F, C, KH, KW)
        The filters.
    b : array_like, shape (F,), optional
        One bias per filter; zeros if omitted.
    stride : int
        Step ``s`` between windows.
    padding : int
        Zeros ``p`` added on each side of both spatial axes.

    Returns
    -------
    numpy.ndarray, shape (N, F, OH, OW)
        With ``OH = (H + 2 p - KH) / s + 1`` and likewise ``OW``.

    Raises
    ------
    ValueError
        For wrong shapes, mismatched channels or sizes that do not fit
        (see :func:`conv_output_size`).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0].tolist()
    [[10.0, 18.0], [42.0, 50.0]]
    """
    x = _check_input(x)
    w = _check_pair(x, w)
    F, C, kh, kw = w.shape
    N, _, H, W = x.shape
    oh = conv_output_size(H, kh, stride, padding)
    ow = conv_output_size(W, kw, stride, padding)
    b = np.zeros(F) if b is None else np.asarray(b, dtype=np.float64)
    if b.shape != (F,):
        raise ValueError(f"b must have shape ({F},), got {b.shape}")
    out = im2col(x, kh, kw, stride, padding) @ w.reshape(F, -1).T + b
    return out.reshape(N, oh, ow, F).transpose(0, 3, 1, 2)


def conv2d_loop(x, w, b=None, stride: int = 1, padding: int = 0):
    """:func:`conv2d` by the definition: a loop over output positions.

    Slow and plain, for checking the fast version.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_loop(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0].tolist()
    [[10.0, 18.0], [42.0, 50.0]]
    """
    x = _check_input(x)
    w = _check_pair(x, w)
    F, C, kh, kw = w.shape
    N, _, H, W = x.shape
    oh = conv_output_size(H, kh, stride, padding)
    ow = conv_output_size(W, kw, stride, padding)
    b = np.zeros(F) if b is None else np.asarray(b, dtype=np.float64)
    xp = _pad(x, padding)
    y = np.empty((N, F, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r, c = i * stride, j * stride
            patch = xp[:, :, r : r + kh, c : c + kw]
            # sum over (c, u, v) for every example n and filter f
            y[:, :, i, j] = np.einsum("ncuv,fcuv->nf", patch, w) + b
    return y


def conv2d_backward(dout, x, w, stride: int = 1, padding: int = 0):
    """Gradients of a loss through :func:`conv2d`.

    Given ``dout = dL/dy`` for ``y = conv2d(x, w, b, stride, padding)``:

    - ``dw[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j]
      xp[n, c, i s + u, j s + v]``, a cross-correlation of the input
      with the output gradient;
    - ``db[f] = sum_{n, i, j} dout[n, f, i, j]``;
    - ``dx`` sends each ``dout[n, f, i, j]`` back to the window it came
      from, weighted by ``w[f]``; for stride 1 this is the full
      convolution of ``dout`` with the (flipped) kernel.

    Parameters
    ----------
    dout : array_like, shape (N, F, OH, OW)
        Gradient of the loss with respect to the output.
    x, w, stride, padding
        The arguments of the forward call.

    Returns
    -------
    dx : numpy.ndarray, shape (N, C, H, W)
    dw : numpy.ndarray, shape (F, C, KH, KW)
    db : numpy.ndarray, shape (F,)

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x,
    ...                              np.ones((1, 1, 2, 2)))
    >>> dx[0, 0].tolist(), dw[0, 0].tolist(), db.tolist()
    ([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], \
[[8.0, 12.0], [20.0, 24.0]], [4.0])
    """
    x = _check_input(x)
    w = _check_pair(x, w)
    F, C, kh, kw = w.shape
    N, _, H, W = x.shape
    oh = conv_output_size(H, kh, stride, padding)
    ow = conv_output_size(W, kw, stride, padding)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != (N, F, oh, ow):
        raise ValueError(
            f"dout must have shape {(N, F, oh, ow)}, got {dout.shape}"
        )
    d2 = dout.transpose(0, 2, 3, 1).reshape(N * oh * ow, F)
    cols = im2col(x, kh, kw, stride, padding)
    dw = (d2.T @ cols).reshape(w.shape)
    db = d2.sum(axis=0)
    dx = col2im(d2 @ w.reshape(F, -1), x.shape, kh, kw, stride, padding)
    return dx, dw, db


def _pool_windows(x: np.ndarray, size: int, stride: int):
    N, C, H, W = x.shape
    oh = conv_output_size(H, size, stride)
    ow = conv_output_size(W, size, stride)
    win = sliding_window_view(x, (size, size), axis=(2, 3))
    win = win[:, :, ::stride, ::stride][:, :, :oh, :ow]
    return win.reshape(N, C, oh, ow, size * size), oh, ow


def max_pool2d(x, size: int, stride: int | None = None):
    """Max pooling: the largest entry of each ``size x size`` window.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
        The feature maps; each channel is pooled separately.
    size : int
        Side of the square window.
    stride : int, optional
        Step between windows; ``size`` (non-overlapping) if omitted.

    Returns
    -------
    numpy.ndarray, shape (N, C, OH, OW)
        ``OH = (H - size) / stride + 1`` and likewise ``OW``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    x = _check_input(x)
    stride = size if stride is None else stride
    win, _, _ = _pool_windows(x, size, stride)
    return win.max(axis=-1)


def max_pool2d_backward(dout, x, size: int, stride: int | None = None):
    """Gradient of a loss through :func:`max_pool2d`.

    Each ``dout[n, c, i, j]`` goes to the entry of its window that was
    the maximum (the first one, in row-major order, if there is a tie);
    every other entry gets nothing from that window. Overlapping windows
    add their contributions.

    Parameters
    ----------
    dout : array_like, shape (N, C, OH, OW)
        Gradient of the loss with respect to the pooled output.
    x, size, stride
        The arguments of the forward call.

    Returns
    -------
    numpy.ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> x = np.array([[[[1.0, 3.0], [2.0, 0.0]]]])
    >>> max_pool2d_backward(np.array([[[[5.0]]]]), x, 2)[0, 0].tolist()
    [[0.0, 5.0], [0.0, 0.0]]
    """
    x = _check_input(x)
    stride = size if stride is None else stride
    win, oh, ow = _pool_windows(x, size, stride)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != win.shape[:4]:
        raise ValueError(
            f"dout must have shape {win.shape[:4]}, got {dout.shape}"
        )
    arg = win.argmax(axis=-1)
    u, v = np.divmod(arg, size)
    n, c, i, j = np.indices(arg.shape)
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, i * stride + u, j * stride + v), dout)
    return dx


def receptive_field(kernels: Sequence[int], strides: Sequence[int]):
    """Side of the input region that one output unit of a stack sees.

    For layers with kernel sizes ``k_1, ..., k_L`` and strides
    ``s_1, ..., s_L`` (convolutions or pooling),
    ``r = 1 + sum_l (k_l - 1) s_1 ... s_{l-1}``.

    Examples
    --------
    >>> receptive_field([3, 3, 3], [1, 1, 1])
    7
    >>> receptive_field([3, 2, 3], [1, 2, 1])  # conv, pool, conv
    8
    """
    kernels, strides = list(kernels), list(strides)
    if len(kernels) != len(strides) or not kernels:
        raise ValueError("give one kernel size and one stride per layer")
    if min(kernels) < 1 or min(strides) < 1:
        raise ValueError("kernel sizes and strides must be positive")
    r, jump = 1, 1
    for k, s in zip(kernels, strides, strict=True):
        r += (int(k) - 1) * jump
        jump *= int(s)
    return r


class Conv2D(Layer):
    """A convolutional layer, :func:`conv2d` with learnable ``W`` and ``b``.

    Parameters
    ----------
    W : array_like, shape (F, C, KH, KW)
        The filters.
    b : array_like, shape (F,), optional
        The biases; zeros if omitted.
    stride, padding : int
        As in :func:`conv2d`.

    Examples
    --------
    >>> layer = Conv2D(np.ones((2, 1, 3, 3)), padding=1)
    >>> layer.forward(np.ones((1, 1, 4, 4))).shape
    (1, 2, 4, 4)
    >>> layer.backward(np.ones((1, 2, 4, 4))).shape, layer.grads["b"]
    ((1, 1, 4, 4), array([16., 16.]))
    """

    def __init__(self, W, b=None, stride: int = 1, padding: int = 0):
        super().__init__()
        W = np.array(W, dtype=np.float64)
        if W.ndim != 4:
            raise ValueError(
                f"W must have shape (F, C, KH, KW), got {W.shape}"
            )
        b = np.zeros(W.shape[0]) if b is None else np.array(b, np.float64)
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"b must have shape ({W.shape[0]},), got {b.shape}"
            )
        if int(stride) < 1 or int(padding) < 0:
            raise ValueError("stride must be >= 1 and padding >= 0")
        self.stride, self.padding = int(stride), int(padding)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = _check_input(x)
        self._x = x
        return conv2d(
            x, self.params["W"], self.params["b"], self.stride, self.padding
        )

    def backward(self, dout) -> np.ndarray:
        x = self._cached("_x")
        dx, dw, db = conv2d_backward(
            dout, x, self.params["W"], self.stride, self.padding
        )
        self.grads["W"], self.grads["b"] = dw, db
        return dx


class MaxPool2D(Layer):
    """A max-pooling layer, :func:`max_pool2d`; it has no parameters.

    Examples
    --------
    >>> pool = MaxPool2D(2)
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4)).shape
    (1, 1, 2, 2)
    """

    def __init__(self, size: int, stride: int | None = None):
        super().__init__()
        if int(size) < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = int(size)
        self.stride = self.size if stride is None else int(stride)
        if self.stride < 1:
            raise ValueError(f"stride must be positive, got {stride}")
        self._x = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = _check_input(x)
        self._x = x
        return max_pool2d(x, self.size, self.stride)

    def backward(self, dout) -> np.ndarray:
        return max_pool2d_backward(
            dout, self._cached("_x"), self.size, self.stride
        )


class Flatten(Layer):
    """Reshape ``(N, C, H, W)`` feature maps into rows ``(N, C H W)``.

    Examples
    --------
    >>> flat = Flatten()
    >>> flat.forward(np.zeros((2, 3, 4, 4))).shape
    (2, 48)
    >>> flat.backward(np.zeros((2, 48))).shape
    (2, 3, 4, 4)
    """

    def __init__(self) -> None:
        super().__init__()
        self._shape = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim < 2:
            raise ValueError(f"input must have a batch axis, got {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout) -> np.ndarray:
        return np.asarray(dout).reshape(self._cached("_shape"))


def init_cnn(
    in_shape: tuple[int, int, int],
    n_filters: int,
    n_classes: int,
    rng: np.random.Generator,
    kernel: int = 3,
    pool: int = 2,
) -> Sequential:
    """A small CNN: conv (same padding), ReLU, max pool, flatten, affine.

    Weights are drawn with He scaling, ``N(0, 2 / fan_in)``, where the
    fan-in of a filter is ``C KH KW``; biases start at zero.

    Parameters
    ----------
    in_shape : tuple (C, H, W)
        Shape of one input image.
    n_filters : int
        Number of filters ``F`` of the convolution.
    n_classes : int
        Number of outputs (logits).
    rng : numpy.random.Generator
        Source of the initial weights.
    kernel : int
        Odd kernel side; the padding ``(kernel - 1) / 2`` keeps ``H, W``.
    pool : int
        Side and stride of the pooling window; it must divide ``H, W``.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> net = init_cnn((1, 8, 8), 4, 10, np.random.default_rng(0))
    >>> net.forward(np.zeros((5, 1, 8, 8))).shape, net.n_parameters()
    ((5, 10), 690)
    """
    C, H, W = (int(s) for s in in_shape)
    if kernel % 2 != 1:
        raise ValueError(f"kernel must be odd, got {kernel}")
    if H % pool or W % pool:
        raise ValueError(f"pool {pool} must divide the image size {H}x{W}")
    check_generator(rng)
    fan_in = C * kernel * kernel
    conv_w = math.sqrt(2.0 / fan_in) * rng.standard_normal(
        (n_filters, C, kernel, kernel)
    )
    d_flat = n_filters * (H // pool) * (W // pool)
    dense_w = math.sqrt(2.0 / d_flat) * rng.standard_normal(
        (d_flat, n_classes)
    )
    return Sequential(
        [
            Conv2D(conv_w, padding=(kernel - 1) // 2),
            ReLU(),
            MaxPool2D(pool),
            Flatten(),
            Affine(dense_w),
        ]
    )
