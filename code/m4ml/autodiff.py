"""A small reverse-mode automatic differentiation engine.

Chapter *Vector calculus and automatic differentiation* builds this engine
and explains it; later chapters use it to check the gradients they derive
by hand. A :class:`Tensor` wraps a float64 numpy array (a scalar is an
array of shape ``()``). Every operation on tensors returns a new tensor
that remembers its operands (its *parents*) and a function that computes
its *vector-Jacobian product*: given the gradient of the final output with
respect to the result, the gradients with respect to the operands.
:meth:`Tensor.backward` visits the recorded graph in reverse topological
order and applies these functions, which is backpropagation.

Conventions. Gradients have the shape of the tensor they belong to (the
book's layout convention). Operands are broadcast as in numpy; since
broadcasting copies an operand, its gradient is the sum of the copies'
gradients, which :func:`unbroadcast` computes. A tensor used several times
(a *reused node*) receives the sum of the gradients of its uses.

Examples
--------
>>> x = Tensor([1.0, 2.0, 3.0])
>>> y = (x * x).sum()          # y = x1^2 + x2^2 + x3^2
>>> y.backward()
>>> x.grad                     # dy/dx = 2x
array([2., 4., 6.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Tensor", "as_tensor", "gradient", "unbroadcast"]


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient down to the shape of an operand that was broadcast.

    Broadcasting an array of shape ``shape`` to ``grad.shape`` copies it
    along new leading axes and along its axes of length 1. The adjoint of
    copying is adding, so the gradient of the operand is ``grad`` summed
    over exactly those axes.

    Parameters
    ----------
    grad : numpy.ndarray
        A gradient with the broadcast shape.
    shape : tuple of int
        The shape of the operand before broadcasting.

    Returns
    -------
    numpy.ndarray
        An array of shape ``shape``.

    Examples
    --------
    >>> unbroadcast(np.ones((4, 3)), (3,))
    array([4., 4., 4.])
    >>> unbroadcast(np.ones((4, 3)), (4, 1)).shape
    (4, 1)
    """
    grad = np.asarray(grad, dtype=float)
    shape = tuple(shape)
    error = f"cannot unbroadcast shape {grad.shape} to {shape}"
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(error)
    grad = grad.sum(axis=tuple(range(extra)))  # new leading axes
    stretched = tuple(
        i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1
    )
    grad = grad.sum(axis=stretched, keepdims=True)  # axes of length 1
    if grad.shape != shape:
        raise ValueError(error)
    return np.asarray(grad)  # a 0-d array rather than a numpy scalar


def as_tensor(value) -> Tensor:
    """Return ``value`` if it is a :class:`Tensor`, else wrap it in one.

    Examples
    --------
    >>> as_tensor(2.0).data
    array(2.)
    """
    return value if isinstance(value, Tensor) else Tensor(value)


class Tensor:
    """A float64 array that records the operations applied to it.

    Parameters
    ----------
    data : array_like
        The value; it is copied into a float64 array.
    name : str, optional
        A label for printing and drawing the computational graph.

    Attributes
    ----------
    data : numpy.ndarray
        The value computed in the forward pass.
    grad : numpy.ndarray or None
        After :meth:`backward` on an output that depends on this tensor,
        the gradient of that output with respect to ``data``, of the same
        shape; ``None`` before.
    parents : tuple of Tensor
        The operands this tensor was computed from (empty for an input).
    op : str
        The name of the operation that produced this tensor ("" for an
        input).

    Examples
    --------
    >>> w = Tensor([[1.0, 2.0], [3.0, 4.0]], name="W")
    >>> x = Tensor([1.0, -1.0], name="x")
    >>> loss = ((w @ x) ** 2).sum()    # ||W x||^2
    >>> loss.data
    array(2.)
    >>> loss.backward()
    >>> w.grad                         # 2 (W x) x^T
    array([[-2.,  2.],
           [-2.,  2.]])
    """

    # Make numpy defer to Tensor in mixed expressions such as array * t.
    __array_ufunc__ = None

    def __init__(
        self,
        data,
        name: str = "",
        *,
        parents: Sequence[Tensor] = (),
        vjp: Callable | None = None,
        op: str = "",
    ):
        if isinstance(data, Tensor):
            data = data.data  # a new input with the same value
        self.data = np.array(data, dtype=np.float64)
        self.grad: np.ndarray | None = None
        self.name = name
        self.parents = tuple(parents)
        self.op = op
        # vjp maps the gradient of this tensor to the gradients of the
        # parents (each before unbroadcasting).
        self._vjp = vjp

    # ------------------------------------------------------------------
    # Basic properties
    # ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of :attr:`data`."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes of :attr:`data`."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of entries of :attr:`data`."""
        return self.data.size

    @property
    def T(self) -> Tensor:
        """The transpose, as :meth:`transpose` with no arguments."""
        return self.transpose()

    def __repr__(self) -> str:
        label = f", name={self.name!r}" if self.name else ""
        return f"Tensor({self.data!r}{label})"

    def item(self) -> float:
        """The value of a one-entry tensor as a Python float."""
        if self.size != 1:
            raise ValueError(
                f"item() needs a tensor with one entry, got shape {self.shape}"
            )
        return float(self.data.reshape(()))

    # ------------------------------------------------------------------
    # Backpropagation
    # ------------------------------------------------------------------
    def topological_order(self) -> list[Tensor]:
        """All tensors this one depends on, each after its parents.

        The order comes from a depth-first search that emits a tensor once
        all its parents have been emitted; it is iterative, so long chains
        of operations do not hit Python's recursion limit.

        Examples
        --------
        >>> a = Tensor(2.0, name="a")
        >>> b = a * a + a
        >>> [t.op or t.name for t in b.topological_order()]
        ['a', 'mul', 'add']
        """
        order: list[Tensor] = []
        visited: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for parent in reversed(node.parents):
                if id(parent) not in visited:
                    stack.append((parent, False))
        return order

    def backward(self, grad=None) -> None:
        """Backpropagate: fill ``.grad`` of every tensor this one uses.

        Visits the graph in reverse topological order, so that the gradient
        of a tensor is complete (summed over all its uses) before it is
        passed on to the tensor's parents. Each call starts afresh: the
        gradients of the graph are first set to zero, not accumulated
        across calls.

        Parameters
        ----------
        grad : array_like, optional
            The seed: the vector ``v`` of the vector-Jacobian product
            ``J^T v`` to compute, with the shape of this tensor. It may be
            omitted only when this tensor has a single entry (then it is 1,
            and the result is the gradient).

        Raises
        ------
        ValueError
            If ``grad`` is omitted for a tensor with more than one entry, or
            has the wrong shape.

        Examples
        --------
        >>> x = Tensor([1.0, 2.0])
        >>> y = x * 3.0
        >>> y.backward([1.0, 10.0])     # J^T v with J = 3 I
        >>> x.grad
        array([ 3., 30.])
        """
        if grad is None:
            if self.size != 1:
                raise ValueError(
                    "backward() without a seed gradient needs a scalar "
                    f"output; this tensor has shape {self.shape}"
                )
            grad = np.ones_like(self.data)
        grad = np.array(grad, dtype=np.float64)
        if grad.shape != self.shape:
            raise ValueError(
                f"the seed gradient has shape {grad.shape}, "
                f"but the tensor has shape {self.shape}"
            )
        order = self.topological_order()
        for node in order:
            node.grad = np.zeros_like(node.data)
        self.grad = grad
        for node in reversed(order):  # children before their parents
            grads = node.vjps(node.grad)
            for parent, g in zip(node.parents, grads, strict=True):
                parent.grad += g  # a reused parent adds up its uses

    def vjps(self, grad) -> tuple[np.ndarray, ...]:
        """The gradients this tensor passes to its parents.

        If ``grad`` is the gradient of some output with respect to this
        tensor, the result holds, for each parent, the contribution of this
        use of the parent to the parent's gradient: the vector-Jacobian
        product ``J^T grad``, summed down to the parent's shape where the
        parent was broadcast. An input has no parents and returns ``()``.

        Examples
        --------
        >>> a, b = Tensor(2.0), Tensor(5.0)
        >>> (a * b).vjps(1.0)     # the local partial derivatives b and a
        (array(5.), array(2.))
        """
        if self._vjp is None:
            return ()
        grad = np.asarray(grad, dtype=np.float64)
        return tuple(
            unbroadcast(g, parent.shape)
            for parent, g in zip(self.parents, self._vjp(grad), strict=True)
        )

    # ------------------------------------------------------------------
    # Arithmetic, with numpy broadcasting
    # ------------------------------------------------------------------
    def __add__(self, other) -> Tensor:
        other = as_tensor(other)
        return Tensor(
            self.data + other.data,
            parents=(self, other),
            vjp=lambda g: (g, g),
            op="add",
        )

    def __radd__(self, other) -> Tensor:
        return as_tensor(other) + self

    def __neg__(self) -> Tensor:
        return Tensor(
            -self.data, parents=(self,), vjp=lambda g: (-g,), op="neg"
        )

    def __sub__(self, other) -> Tensor:
        other = as_tensor(other)
        return Tensor(
            self.data - other.data,
            parents=(self, other),
            vjp=lambda g: (g, -g),
            op="sub",
        )

    def __rsub__(self, other) -> Tensor:
        return as_tensor(other) - self

    def __mul__(self, other) -> Tensor:
        other = as_tensor(other)
        a, b = self.data, other.data
        return Tensor(
            a * b,
            parents=(self, other),
            vjp=lambda g: (g * b, g * a),
            op="mul",
        )

    def __rmul__(self, other) -> Tensor:
        return as_tensor(other) * self

    def __truediv__(self, other) -> Tensor:
        other = as_tensor(other)
        a, b = self.data, other.data
        return Tensor(
            a / b,
            parents=(self, other),
            vjp=lambda g: (g / b, -g * a / b**2),
            op="div",
        )

    def __rtruediv__(self, other) -> Tensor:
        return as_tensor(other) / self

    def __pow__(self, p) -> Tensor:
        if isinstance(p, Tensor) or np.ndim(p) != 0:
            raise ValueError("the exponent must be a constant number")
        p = float(p)
        x = self.data
        return Tensor(
            x**p,
            parents=(self,),
            vjp=lambda g: (g * p * x ** (p - 1),),
            op=f"pow {p:g}",
        )

    def __matmul__(self, other) -> Tensor:
        other = as_tensor(other)
        a, b = self.data, other.data
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(
                "matmul needs 1-D or 2-D operands, got shapes "
                f"{a.shape} and {b.shape}"
            )
        if a.shape[-1] != b.shape[0]:
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape} (the inner "
                "dimensions differ)"
            )

        def vjp(g):
            # Treat a vector on the left as a row and one on the right as a
            # column; then C = A B has gradients G B^T and A^T G.
            a2 = a.reshape(1, -1) if a.ndim == 1 else a
            b2 = b.reshape(-1, 1) if b.ndim == 1 else b
            g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))
            return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)

        return Tensor(a @ b, parents=(self, other), vjp=vjp, op="matmul")

    def __rmatmul__(self, other) -> Tensor:
        return as_tensor(other) @ self

    # ------------------------------------------------------------------
    # Reductions
    # ------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple of ints, or all axes).

        Examples
        --------
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).data
        array([4., 6.])
        """
        x = self.data
        axes = _normalize_axes(axis, x.ndim)

        def vjp(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, x.shape),)

        return Tensor(
            x.sum(axis=axes, keepdims=keepdims),
            parents=(self,),
            vjp=vjp,
            op="sum",
        )

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``: the sum divided by the number of terms.

        Examples
        --------
        >>> Tensor([1.0, 2.0, 6.0]).mean().data
        array(3.)
        """
        axes = _normalize_axes(axis, self.ndim)
        count = int(np.prod([self.shape[i] for i in axes]))
        return self.sum(axis=axes, keepdims=keepdims) / float(count)

    # ------------------------------------------------------------------
    # Elementwise functions
    # ------------------------------------------------------------------
    def exp(self) -> Tensor:
        """Elementwise exponential; its derivative is itself."""
        y = np.exp(self.data)
        return Tensor(y, parents=(self,), vjp=lambda g: (g * y,), op="exp")

    def log(self) -> Tensor:
        """Elementwise natural logarithm of positive entries."""
        x = self.data
        if np.any(x <= 0):
            raise ValueError("log needs positive entries")
        return Tensor(
            np.log(x), parents=(self,), vjp=lambda g: (g / x,), op="log"
        )

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent; tanh' = 1 - tanh^2."""
        y = np.tanh(self.data)
        return Tensor(
            y, parents=(self,), vjp=lambda g: (g * (1 - y**2),), op="tanh"
        )

    def relu(self) -> Tensor:
        """Elementwise max(x, 0); we take the derivative at 0 to be 0."""
        x = self.data
        return Tensor(
            np.maximum(x, 0.0),
            parents=(self,),
            vjp=lambda g: (g * (x > 0),),
            op="relu",
        )

    def sigmoid(self) -> Tensor:
        """Elementwise logistic sigmoid; sigma' = sigma (1 - sigma)."""
        # 1 / (1 + e^{-x}) = exp(-log(1 + e^{-x})), without overflow.
        y = np.exp(-np.logaddexp(0.0, -self.data))
        return Tensor(
            y, parents=(self,), vjp=lambda g: (g * y * (1 - y),), op="sigmoid"
        )

    # ------------------------------------------------------------------
    # Shapes and indexing
    # ------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        """The same entries in a new shape (as :meth:`numpy.reshape`)."""
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        old = self.shape
        return Tensor(
            self.data.reshape(shape),
            parents=(self,),
            vjp=lambda g: (g.reshape(old),),
            op="reshape",
        )

    def transpose(self, *axes) -> Tensor:
        """Permute the axes (reverse them if none are given)."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        perm = tuple(axes) if axes else tuple(reversed(range(self.ndim)))
        inverse = tuple(np.argsort(perm))
        return Tensor(
            self.data.transpose(perm),
            parents=(self,),
            vjp=lambda g: (g.transpose(inverse),),
            op="transpose",
        )

    def __getitem__(self, index) -> Tensor:
        x = self.data
        if isinstance(index, Tensor):
            raise ValueError("index with integers, slices or arrays")

        def vjp(g):
            # Scatter the gradient back; np.add.at adds repeated indices.
            out = np.zeros_like(x)
            np.add.at(out, index, g)
            return (out,)

        return Tensor(x[index], parents=(self,), vjp=vjp, op="getitem")


def _normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """Turn ``axis`` (None, an int or a tuple) into sorted axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for {ndim} axes")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def gradient(f: Callable[..., Tensor], *arrays):
    """Gradient of a scalar function of tensors, at numpy arrays.

    Wraps each array in a :class:`Tensor`, evaluates ``f``, backpropagates
    and returns the gradients as numpy arrays, each with the shape of its
    array. This is the form later chapters use to check a gradient derived
    by hand.

    Parameters
    ----------
    f : callable
        A function of ``len(arrays)`` tensors returning a one-entry tensor.
    *arrays : array_like
        The point at which to differentiate.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        One gradient per array (a single array if there is one argument).

    Examples
    --------
    >>> gradient(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]))
    array([ 3., 12.])
    >>> gw, gb = gradient(lambda w, b: (w * b).sum(), [1.0, 2.0], 3.0)
    >>> gb
    array(3.)
    """
    if not arrays:
        raise ValueError("gradient needs at least one array")
    inputs = [Tensor(a) for a in arrays]
    out = f(*inputs)
    if not isinstance(out, Tensor):
        raise ValueError("f must return a Tensor computed from its inputs")
    out.backward()
    grads = tuple(t.grad for t in inputs)
    return grads[0] if len(grads) == 1 else grads
