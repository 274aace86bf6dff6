"""Tests of m4ml.cnn: convolution against scipy, gradients against finite
differences, pooling, im2col and the layers inside a trained network."""

import numpy as np
import pytest
import scipy.signal

from m4ml.cnn import (
    Conv2D,
    Flatten,
    MaxPool2D,
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_loop,
    conv_output_size,
    im2col,
    init_cnn,
    max_pool2d,
    max_pool2d_backward,
    receptive_field,
)
from m4ml.mlp import ReLU, Sequential, accuracy, init_mlp, train
from m4ml.vector_calculus import numerical_gradient

# (N, C, H, W, F, KH, KW, stride, padding): square and non-square images
# and kernels, strides 1-3, paddings 0-2, all with integer output sizes.
CASES = [
    (2, 1, 5, 5, 1, 3, 3, 1, 0),
    (2, 3, 6, 7, 2, 3, 2, 1, 1),
    (1, 2, 7, 7, 3, 3, 3, 2, 0),
    (3, 2, 8, 6, 2, 2, 2, 2, 0),
    (1, 1, 9, 9, 2, 3, 3, 3, 0),
    (2, 2, 5, 6, 2, 3, 4, 1, 2),
    (1, 3, 6, 6, 4, 1, 1, 1, 0),
    (2, 1, 6, 6, 1, 4, 4, 2, 1),
]


def _data(case, seed):
    N, C, H, W, F, KH, KW, s, p = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, KH, KW))
    b = rng.standard_normal(F)
    return rng, x, w, b, s, p


def _scipy_conv(x, w, b, stride, padding):
    """Reference: scipy's 2-D correlation summed over channels."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
    N, F = x.shape[0], w.shape[0]
    out = []
    for n in range(N):
        maps = []
        for f in range(F):
            full = sum(
                scipy.signal.correlate2d(xp[n, c], w[f, c], mode="valid")
                for c in range(x.shape[1])
            )
            maps.append(full[::stride, ::stride] + b[f])
        out.append(maps)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_scipy_correlate2d(case, seed):
    _, x, w, b, s, p = _data(case, seed)
    # float64 round-off in sums of at most C*KH*KW = 27 products
    np.testing.assert_allclose(
        conv2d(x, w, b, s, p), _scipy_conv(x, w, b, s, p), atol=1e-12
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_conv2d_matches_scipy_nd_correlate_over_channels(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 3, 7, 6))
    w = rng.standard_normal((1, 3, 3, 2))
    # correlating the (C, H, W) volume with a (C, KH, KW) kernel in
    # "valid" mode sums over channels: one output plane
    ref = scipy.signal.correlate(x[0], w[0], mode="valid")[0]
    np.testing.assert_allclose(conv2d(x, w)[0, 0], ref, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_flipped_kernel_gives_true_convolution(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 1, 6, 5))
    k = rng.standard_normal((3, 2))
    ours = conv2d(x, k[::-1, ::-1][None, None])[0, 0]
    ref = scipy.signal.convolve2d(x[0, 0], k, mode="valid")
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # and without the flip it is not a convolution (k is not symmetric)
    assert not np.allclose(conv2d(x, k[None, None])[0, 0], ref)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", CASES)
def test_im2col_fast_path_equals_direct_loop(case, seed):
    _, x, w, b, s, p = _data(case, seed)
    np.testing.assert_allclose(
        conv2d(x, w, b, s, p), conv2d_loop(x, w, b, s, p), atol=1e-12
    )


@pytest.mark.parametrize("case", CASES)
def test_output_shape_follows_the_formula(case):
    N, C, H, W, F, KH, KW, s, p = case
    _, x, w, b, _, _ = _data(case, 0)
    oh = (H + 2 * p - KH) // s + 1
    ow = (W + 2 * p - KW) // s + 1
    assert conv2d(x, w, b, s, p).shape == (N, F, oh, ow)
    assert conv_output_size(H, KH, s, p) == oh
    assert im2col(x, KH, KW, s, p).shape == (N * oh * ow, C * KH * KW)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(case, seed):
    N, C, H, W, F, KH, KW, s, p = case
    rng, x, _, _, _, _ = _data(case, seed)
    cols = rng.standard_normal(im2col(x, KH, KW, s, p).shape)
    lhs = np.sum(im2col(x, KH, KW, s, p) * cols)
    rhs = np.sum(x * col2im(cols, x.shape, KH, KW, s, p))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", CASES)
def test_backward_matches_finite_differences(case, seed):
    rng, x, w, b, s, p = _data(case, seed)
    G = rng.standard_normal(conv2d(x, w, b, s, p).shape)
    dx, dw, db = conv2d_backward(G, x, w, s, p)
    # L = <G, conv(x, w, b)> is linear in each argument, so central
    # differences are exact up to round-off: tolerance 1e-6 relative
    num_x = numerical_gradient(lambda v: np.sum(G * conv2d(v, w, b, s, p)), x)
    num_w = numerical_gradient(lambda v: np.sum(G * conv2d(x, v, b, s, p)), w)
    num_b = numerical_gradient(lambda v: np.sum(G * conv2d(x, w, v, s, p)), b)
    np.testing.assert_allclose(dx, num_x, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, num_w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, num_b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_dx_is_full_convolution_with_flipped_kernel(seed, padding):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    G = rng.standard_normal(conv2d(x, w, padding=padding).shape)
    dx, _, _ = conv2d_backward(G, x, w, padding=padding)
    H, W = x.shape[2:]
    for n in range(2):
        for c in range(3):
            full = sum(
                scipy.signal.convolve2d(G[n, f], w[f, c], mode="full")
                for f in range(4)
            )
            # the full convolution is the gradient w.r.t. the padded
            # input; crop the padding away
            ref = full[padding : padding + H, padding : padding + W]
            np.testing.assert_allclose(dx[n, c], ref, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dw_is_correlation_of_input_with_output_gradient(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 6, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    G = rng.standard_normal(conv2d(x, w).shape)
    _, dw, _ = conv2d_backward(G, x, w)
    for f in range(3):
        for c in range(2):
            ref = scipy.signal.correlate2d(x[0, c], G[0, f], mode="valid")
            np.testing.assert_allclose(dw[f, c], ref, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_translation_equivariance_away_from_borders(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 10, 10))
    w = rng.standard_normal((3, 2, 3, 3))
    shifted = np.roll(x, (2, 1), axis=(2, 3))
    y, ys = conv2d(x, w), conv2d(shifted, w)
    # outputs whose windows avoid the wrapped rows and columns agree
    np.testing.assert_allclose(ys[..., 2:, 1:], y[..., :-2, :-1], atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 1), (3, 2)])
def test_max_pool_matches_a_loop_and_finite_differences(seed, size, stride):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 7, 7))  # continuous: no ties
    H = (7 - size) // stride + 1
    if (7 - size) % stride:
        with pytest.raises(ValueError, match="not an integer"):
            max_pool2d(x, size, stride)
        return
    ref = np.empty((2, 2, H, H))
    for i in range(H):
        for j in range(H):
            r, c = i * stride, j * stride
            ref[:, :, i, j] = x[:, :, r : r + size, c : c + size].max((2, 3))
    np.testing.assert_array_equal(max_pool2d(x, size, stride), ref)
    G = rng.standard_normal(ref.shape)
    dx = max_pool2d_backward(G, x, size, stride)
    num = numerical_gradient(
        lambda v: np.sum(G * max_pool2d(v, size, stride)), x, h=1e-7
    )
    # piecewise linear, no maximum within h of a tie: exact up to round-off
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-7)


def test_max_pool_gradient_goes_to_one_entry_on_ties():
    x = np.ones((1, 1, 2, 2))
    dx = max_pool2d_backward(np.full((1, 1, 1, 1), 3.0), x, 2)
    assert dx.sum() == 3.0 and np.count_nonzero(dx) == 1


@pytest.mark.parametrize(
    ("kernels", "strides", "expected"),
    [
        ([3], [1], 3),
        ([3, 3], [1, 1], 5),
        ([5, 5, 5], [1, 1, 1], 13),
        ([3, 2, 3], [1, 2, 1], 8),
        ([3, 3, 3], [2, 2, 1], 15),
    ],
)
def test_receptive_field_formula_and_gradient_footprint(
    kernels, strides, expected
):
    assert receptive_field(kernels, strides) == expected
    # the footprint of one output unit's gradient, through convolutions
    # with positive weights (no cancellation), is a square of that side
    n = 5  # output side; walk back to an input side that fits exactly
    for k, s in zip(kernels[::-1], strides[::-1], strict=True):
        n = (n - 1) * s + k
    net = Sequential(
        [
            Conv2D(np.ones((1, 1, k, k)), stride=s)
            for k, s in zip(kernels, strides, strict=True)
        ]
    )
    out = net.forward(np.zeros((1, 1, n, n)))
    seed = np.zeros_like(out)
    seed[0, 0, out.shape[2] // 2, out.shape[3] // 2] = 1.0
    grad = net.backward(seed)[0, 0]
    rows = np.flatnonzero(grad.any(axis=1))
    cols = np.flatnonzero(grad.any(axis=0))
    assert rows[-1] - rows[0] + 1 == expected
    assert cols[-1] - cols[0] + 1 == expected
    assert np.count_nonzero(grad) == expected**2


@pytest.mark.parametrize("seed", [0, 1])
def test_cnn_layers_backward_through_sequential(seed):
    rng = np.random.default_rng(seed)
    net = init_cnn((2, 6, 6), 3, 4, rng)
    X = rng.standard_normal((3, 2, 6, 6))
    G = rng.standard_normal((3, 4))
    net.forward(X)
    dX = net.backward(G)
    for param, grad in net.parameters():

        def f(v, param=param):
            saved = param.copy()
            param[...] = v
            value = float(np.sum(G * net.forward(X)))
            param[...] = saved
            return value

        # ReLU and max kinks are almost surely farther than h away
        num = numerical_gradient(f, param.copy())
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)
    num_x = numerical_gradient(lambda v: float(np.sum(G * net.forward(v))), X)
    np.testing.assert_allclose(dX, num_x, rtol=1e-5, atol=1e-7)


def test_parameter_count_of_conv_layer():
    net = init_cnn((3, 8, 8), 5, 10, np.random.default_rng(0), kernel=3)
    conv = 5 * 3 * 3 * 3 + 5
    dense = 5 * 4 * 4 * 10 + 10
    assert net.n_parameters() == conv + dense


def test_small_cnn_learns_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images[:, None] / 16.0
    y = digits.target
    rng = np.random.default_rng(0)
    net = init_cnn((1, 8, 8), 6, 10, rng)
    train(net, X[:1000], y[:1000], rng, lr=0.1, n_epochs=4)
    # a CNN that learned nothing would score about 0.1
    assert accuracy(net, X[1000:], y[1000:]) > 0.85


def test_flatten_then_dense_matches_mlp_on_pixels():
    rng = np.random.default_rng(1)
    mlp = init_mlp([16, 3], rng)
    X = rng.standard_normal((4, 1, 4, 4))
    net = Sequential([Flatten(), *mlp.layers])
    np.testing.assert_allclose(
        net.forward(X), mlp.forward(X.reshape(4, 16)), atol=0
    )


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((5, 7, 1, 0), "larger than the padded input"),
        ((5, 8, 1, 1), "larger than the padded input"),
        ((6, 3, 2, 0), "not an integer"),
        ((5, 3, 0, 0), "stride must be positive"),
        ((5, 3, 1, -1), "padding must be non-negative"),
        ((0, 3, 1, 0), "sizes must be positive"),
    ],
)
def test_output_size_errors(args, match):
    with pytest.raises(ValueError, match=match):
        conv_output_size(*args)


def test_conv2d_shape_errors():
    x = np.zeros((1, 2, 5, 5))
    with pytest.raises(ValueError, match="input channels"):
        conv2d(x, np.zeros((1, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        conv2d(np.zeros((2, 5, 5)), np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"\(F, C, KH, KW\)"):
        conv2d(x, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="b must have shape"):
        conv2d(x, np.zeros((2, 2, 3, 3)), b=np.zeros(3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(x, np.zeros((1, 2, 6, 6)))
    with pytest.raises(ValueError, match="not an integer"):
        conv2d(x, np.zeros((1, 2, 2, 2)), stride=2)
    with pytest.raises(ValueError, match="dout must have shape"):
        conv2d_backward(np.zeros((1, 1, 2, 2)), x, np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match="cols must have shape"):
        col2im(np.zeros((3, 3)), x.shape, 3, 3)


def test_pool_and_layer_errors():
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match="not an integer"):
        max_pool2d(x, 2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        max_pool2d(x, 6)
    with pytest.raises(ValueError, match="dout must have shape"):
        max_pool2d_backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 6, 6)), 2)
    with pytest.raises(ValueError, match="W must have shape"):
        Conv2D(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="b must have shape"):
        Conv2D(np.zeros((2, 1, 3, 3)), b=np.zeros(3))
    with pytest.raises(ValueError, match="size must be positive"):
        MaxPool2D(0)
    with pytest.raises(ValueError, match="one kernel size and one stride"):
        receptive_field([3, 3], [1])
    with pytest.raises(ValueError, match="must be odd"):
        init_cnn((1, 8, 8), 2, 10, np.random.default_rng(0), kernel=4)
    with pytest.raises(ValueError, match="must divide"):
        init_cnn((1, 9, 9), 2, 10, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="before forward"):
        Conv2D(np.zeros((1, 1, 3, 3))).backward(np.zeros((1, 1, 1, 1)))
    with pytest.raises(RuntimeError, match="before forward"):
        Sequential([MaxPool2D(2), ReLU()]).layers[0].backward(np.zeros(1))
