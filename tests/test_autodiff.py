"""Tests of m4ml.autodiff: every operation's gradient against finite
differences, over several shapes and seeds, plus hand-derived gradients,
broadcasting, reused nodes and the error paths."""

import numpy as np
import pytest

from m4ml.autodiff import Tensor, as_tensor, gradient, unbroadcast
from m4ml.vector_calculus import numerical_gradient, numerical_jacobian

SEEDS = [0, 1, 2]
# Central differences with h = 1e-6 on O(1) values: truncation O(h^2) and
# round-off O(eps / h), both below 1e-8; the tolerances leave room.
RTOL, ATOL = 1e-6, 1e-7


def check_op(op, *arrays, seed=0):
    """Compare the engine's gradient of sum(op(...) * R) with finite
    differences, for a random weight R of the output's shape (a plain sum
    would hide transposed or permuted gradients)."""
    out_shape = op(*[Tensor(a) for a in arrays]).shape
    R = np.random.default_rng(seed + 100).standard_normal(out_shape)

    def loss(*tensors):
        return (op(*tensors) * R).sum()

    grads = gradient(loss, *arrays)
    grads = grads if len(arrays) > 1 else (grads,)
    for k, (a, g) in enumerate(zip(arrays, grads, strict=True)):

        def f(v, k=k):
            args = [Tensor(b) for b in arrays]
            args[k] = Tensor(v)
            return loss(*args).item()

        assert g.shape == np.shape(a)
        np.testing.assert_allclose(
            g, numerical_gradient(f, a), rtol=RTOL, atol=ATOL
        )


def away_from_zero(rng, shape, low=0.2):
    """Random entries with |x| >= low, for ops with a kink or pole at 0."""
    x = rng.uniform(low, 2.0, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


# --------------------------------------------------------------------------
# Unary operations
# --------------------------------------------------------------------------

UNARY = {
    "neg": (lambda t: -t, "any"),
    "exp": (lambda t: t.exp(), "any"),
    "log": (lambda t: t.log(), "positive"),
    "tanh": (lambda t: t.tanh(), "any"),
    "relu": (lambda t: t.relu(), "nonzero"),
    "sigmoid": (lambda t: t.sigmoid(), "any"),
    "square": (lambda t: t**2, "any"),
    "cube": (lambda t: t**3, "any"),
    "sqrt": (lambda t: t**0.5, "positive"),
    "reciprocal": (lambda t: t ** (-1), "nonzero"),
    "sum": (lambda t: t.sum(), "any"),
    "mean": (lambda t: t.mean(), "any"),
    "sum-axis0": (lambda t: t.sum(axis=0), "any"),
    "sum-last-keepdims": (lambda t: t.sum(axis=-1, keepdims=True), "any"),
    "mean-axis0": (lambda t: t.mean(axis=0), "any"),
    "reshape": (lambda t: t.reshape(-1), "any"),
    "transpose": (lambda t: t.T, "any"),
    "getitem-first": (lambda t: t[0], "any"),
    "getitem-slice": (lambda t: t[1:], "any"),
    "getitem-repeated": (lambda t: t[[0, 1, 0, 0]], "any"),
    "reused": (lambda t: t * t.exp() + t, "any"),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name, shape, seed):
    op, domain = UNARY[name]
    rng = np.random.default_rng(seed)
    if domain == "positive":
        x = rng.uniform(0.2, 2.0, size=shape)
    elif domain == "nonzero":
        x = away_from_zero(rng, shape)
    else:
        x = rng.standard_normal(shape)
    check_op(op, x, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_unary_ops_on_scalars(seed):
    x = np.random.default_rng(seed).uniform(0.2, 2.0)
    for name in ["neg", "exp", "log", "tanh", "sigmoid", "cube", "sqrt"]:
        check_op(UNARY[name][0], x, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_forward_values_match_numpy(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4)) * 5
    t = Tensor(x)
    np.testing.assert_allclose(
        t.sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-14
    )
    np.testing.assert_allclose(t.relu().data, np.maximum(x, 0))
    np.testing.assert_allclose(t.tanh().data, np.tanh(x))
    np.testing.assert_allclose(t.mean(axis=1).data, x.mean(axis=1), rtol=1e-14)
    np.testing.assert_allclose(t.sum(axis=(0, 1)).data, x.sum(), rtol=1e-14)
    np.testing.assert_array_equal(t.transpose(1, 0).data, x.T)
    np.testing.assert_array_equal(t[:, [2, 0]].data, x[:, [2, 0]])


def test_sigmoid_does_not_overflow():
    t = Tensor([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(t.sigmoid().data, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (0, 2, 1)])
def test_transpose_with_axes(axes, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, 4))
    check_op(lambda t: t.transpose(axes), x, seed=seed)
    check_op(lambda t: t.transpose(*axes), x, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, (0, 2), (1, 2), None])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_over_axes(axis, keepdims, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, 4))
    check_op(lambda t: t.sum(axis=axis, keepdims=keepdims), x, seed=seed)
    check_op(lambda t: t.mean(axis=axis, keepdims=keepdims), x, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "index",
    [
        (1, 2),
        (slice(None), 0),
        (slice(0, 2), slice(1, 3)),
        ([0, 2, 2], [1, 1, 3]),
        (Ellipsis, -1),
    ],
)
def test_getitem_gradients(index, seed):
    x = np.random.default_rng(seed).standard_normal((3, 4))
    check_op(lambda t: t[index], x, seed=seed)


def test_getitem_boolean_mask():
    x = np.array([1.0, -2.0, 3.0])
    t = Tensor(x)
    t[x > 0].sum().backward()
    np.testing.assert_array_equal(t.grad, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("shape", [(12,), (3, 4), (2, 6)])
def test_reshape_forms(shape):
    x = np.arange(12.0).reshape(shape)
    a = Tensor(x).reshape(4, 3).data
    b = Tensor(x).reshape((4, 3)).data
    np.testing.assert_array_equal(a, b)
    check_op(lambda t: t.reshape(2, 2, 3), x)


# --------------------------------------------------------------------------
# Binary operations and broadcasting
# --------------------------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
SHAPE_PAIRS = [
    ((3,), (3,)),
    ((4, 3), (3,)),
    ((4, 3), (4, 1)),
    ((1, 3), (4, 1)),
    ((2, 3, 4), (3, 1)),
    ((), (3, 2)),
    ((3, 2), ()),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_with_broadcasting(name, shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shapes[0])
    b = away_from_zero(rng, shapes[1], low=0.5)  # a safe denominator
    check_op(BINARY[name], a, b, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_numbers_and_arrays_on_either_side(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(2, 3))
    c = rng.uniform(0.5, 2.0, size=3)  # a constant numpy array
    ops = [
        lambda t: 2.0 + t,
        lambda t: t + 2.0,
        lambda t: 2.0 - t,
        lambda t: t - 2.0,
        lambda t: 3.0 * t,
        lambda t: t * 3.0,
        lambda t: 1.0 / t,
        lambda t: t / 4.0,
        lambda t: c * t,
        lambda t: c - t,
        lambda t: c / t,
        lambda t: t @ c,
        lambda t: np.ones((4, 2)) @ t,
    ]
    for op in ops:
        assert isinstance(op(Tensor(x)), Tensor)
        check_op(op, x, seed=seed)


def test_unbroadcast_sums_copies():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(
        unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None]
    )
    np.testing.assert_array_equal(unbroadcast(g, ()), g.sum())
    np.testing.assert_array_equal(unbroadcast(g, g.shape), g)


# --------------------------------------------------------------------------
# Matrix products
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 2)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((1, 5), (5, 1)),
        ((6, 2), (2, 6)),
    ],
    ids=str,
)
def test_matmul_gradients(shapes, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shapes[0])
    B = rng.standard_normal(shapes[1])
    np.testing.assert_allclose((Tensor(A) @ Tensor(B)).data, A @ B)
    check_op(lambda a, b: a @ b, A, B, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_matmul_gradients_are_the_closed_forms(seed):
    # C = A B with upstream gradient G: grad_A = G B^T, grad_B = A^T G.
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    G = rng.standard_normal((3, 5))
    a, b = Tensor(A), Tensor(B)
    (a @ b).backward(G)
    np.testing.assert_allclose(a.grad, G @ B.T, rtol=1e-13)
    np.testing.assert_allclose(b.grad, A.T @ G, rtol=1e-13)


# --------------------------------------------------------------------------
# Graphs: reused nodes, seeds, order
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_reused_nodes_accumulate(seed):
    # f(x) = sum(y * y + y) with y = tanh(x): y is used three times.
    x = np.random.default_rng(seed).standard_normal(5)
    t = Tensor(x)
    y = t.tanh()
    (y * y + y).sum().backward()
    expected = (2 * np.tanh(x) + 1) * (1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-13)
    np.testing.assert_allclose(y.grad, 2 * np.tanh(x) + 1, rtol=1e-13)


def test_same_operand_twice():
    t = Tensor(3.0)
    (t * t).backward()
    assert t.grad == 6.0
    u = Tensor(2.0)
    (u + u + u).backward()
    assert u.grad == 3.0


def test_gradients_are_arrays_of_the_tensor_shape():
    a, b = Tensor(2.0), Tensor(np.ones((2, 3)))
    (a * b).sum().backward()
    assert isinstance(a.grad, np.ndarray) and a.grad.shape == ()
    assert a.grad == 6.0
    assert b.grad.shape == (2, 3)


def test_vjps_are_the_local_derivatives():
    a, b = Tensor(2.0), Tensor(5.0)
    ga, gb = (a * b).vjps(1.0)
    assert (float(ga), float(gb)) == (5.0, 2.0)
    assert a.vjps(1.0) == ()
    # a broadcast operand gets its gradient summed to its own shape
    w, x = Tensor(np.ones(3)), Tensor(np.ones((4, 3)))
    gw, gx = (w * x).vjps(np.ones((4, 3)))
    np.testing.assert_array_equal(gw, [4.0, 4.0, 4.0])
    assert gx.shape == (4, 3)


def test_backward_twice_does_not_double():
    t = Tensor([1.0, 2.0])
    y = (t**2).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(t.grad, [2.0, 4.0])


def test_interior_nodes_get_adjoints_and_inputs_keep_values():
    x = np.array([0.5, -1.0])
    t = Tensor(x)
    z = t * 2.0
    loss = (z**2).sum()
    loss.backward()
    np.testing.assert_allclose(z.grad, 2 * z.data)
    np.testing.assert_array_equal(t.data, x)
    assert loss.grad == 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_backward_is_a_vector_jacobian_product(seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    v = rng.standard_normal(3)

    def f(v_):
        return np.tanh(W @ v_)

    t = Tensor(x)
    (Tensor(W) @ t).tanh().backward(v)
    J = numerical_jacobian(f, x)
    np.testing.assert_allclose(t.grad, J.T @ v, rtol=RTOL, atol=ATOL)


def test_topological_order_puts_parents_first():
    a, b = Tensor(1.0, "a"), Tensor(2.0, "b")
    c = a * b
    d = c + a
    e = d * c
    order = e.topological_order()
    pos = {id(t): i for i, t in enumerate(order)}
    assert len(order) == 5
    for node in order:
        for parent in node.parents:
            assert pos[id(parent)] < pos[id(node)]
    assert order[-1] is e


def test_long_chain_does_not_recurse():
    t = Tensor(1.0)
    y = t
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(t.grad, 1.0001**5000, rtol=1e-10)


def test_as_tensor_and_copies():
    t = Tensor([1.0])
    assert as_tensor(t) is t
    assert as_tensor(2).data.dtype == np.float64
    x = np.array([1.0, 2.0])
    u = Tensor(x)
    x[0] = 5.0
    assert u.data[0] == 1.0  # the data were copied
    assert Tensor(u).data is not u.data
    assert "name='w'" in repr(Tensor(1.0, "w"))
    assert Tensor([[1.0, 2.0]]).ndim == 2 and Tensor([1.0, 2.0]).size == 2
    assert Tensor([[3.5]]).item() == 3.5


# --------------------------------------------------------------------------
# A small MLP against hand-derived backpropagation
# --------------------------------------------------------------------------


def mlp_loss(W1, b1, W2, b2, X, y):
    """Mean squared error of a one-hidden-layer tanh network."""
    H = (X @ W1.T + b1).tanh()
    out = H @ W2 + b2
    return ((out - y) ** 2).mean()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("N, D, M", [(5, 3, 4), (8, 2, 6), (1, 4, 1)])
def test_mlp_gradients_match_hand_backprop(N, D, M, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((N, D)), rng.standard_normal(N)
    W1, b1 = rng.standard_normal((M, D)), rng.standard_normal(M)
    W2, b2 = rng.standard_normal(M), rng.standard_normal()
    grads = gradient(lambda *p: mlp_loss(*p, X, y), W1, b1, W2, b2)
    # By hand: A = X W1^T + b1, H = tanh A, r = H W2 + b2 - y.
    H = np.tanh(X @ W1.T + b1)
    r = H @ W2 + b2 - y
    g_out = 2 * r / N
    g_A = np.outer(g_out, W2) * (1 - H**2)
    hand = (g_A.T @ X, g_A.sum(axis=0), H.T @ g_out, g_out.sum())
    params = [W1, b1, W2, b2]
    for k, (g, h) in enumerate(zip(grads, hand, strict=True)):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-14)

        def f(v, k=k):
            p = [Tensor(q) for q in params]
            p[k] = Tensor(v)
            return mlp_loss(*p, Tensor(X), Tensor(y)).item()

        np.testing.assert_allclose(
            g, numerical_gradient(f, params[k]), rtol=RTOL, atol=ATOL
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_sigmoid_network_against_finite_differences(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 3))
    W = rng.standard_normal((3, 5))
    v = rng.standard_normal(5)

    def f(w):
        h = (Tensor(X) @ w).relu()
        return (h @ Tensor(v)).sigmoid().log().sum()

    g = gradient(f, W)
    np.testing.assert_allclose(
        g,
        numerical_gradient(lambda w: f(Tensor(w)).item(), W),
        rtol=RTOL,
        atol=ATOL,
    )


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def test_backward_on_a_non_scalar_needs_a_seed():
    with pytest.raises(ValueError, match="without a seed gradient"):
        (Tensor([1.0, 2.0]) * 2.0).backward()
    with pytest.raises(ValueError, match="seed gradient has shape"):
        (Tensor([1.0, 2.0]) * 2.0).backward(np.ones(3))


def test_matmul_shape_errors():
    with pytest.raises(ValueError, match="shape mismatch"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape mismatch"):
        Tensor(np.ones(3)) @ np.ones(4)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        Tensor(np.ones((2, 2, 2))) @ Tensor(np.ones((2, 2)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        Tensor(2.0) @ Tensor(np.ones(2))


def test_other_errors():
    with pytest.raises(ValueError, match="positive entries"):
        Tensor([1.0, 0.0]).log()
    with pytest.raises(ValueError, match="exponent must be a constant"):
        Tensor(2.0) ** Tensor(2.0)
    with pytest.raises(ValueError, match="exponent must be a constant"):
        Tensor(2.0) ** np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="out of range"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        Tensor(np.ones((2, 3))).sum(axis=(1, -1))
    with pytest.raises(ValueError, match="cannot unbroadcast"):
        unbroadcast(np.ones(3), (2, 3))
    with pytest.raises(ValueError, match="cannot unbroadcast"):
        unbroadcast(np.ones((2, 3)), (2,))
    with pytest.raises(ValueError, match="one entry"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="index with"):
        Tensor([1.0, 2.0])[Tensor(0.0)]
    with pytest.raises(ValueError, match="at least one array"):
        gradient(lambda: Tensor(1.0))
    with pytest.raises(ValueError, match="must return a Tensor"):
        gradient(lambda t: 1.0, np.ones(2))
