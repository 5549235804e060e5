"""Matrix products: matmul (``@``) with NumPy's broadcasting rules, mm, bmm, mv, dot."""

import math

from ..autocast_state import state as _autocast
from ..autograd.graph import Node
from ..dtypes import legacy_name
from . import binary_kernels, gemm
from .op import Op, autocast_inputs, broadcast_shape, check_in_place_broadcast, sum_to, unbroadcast, write_out, xp_of
from .shape import expanded_shape


def _bias_on_rows(x, b):
    """Whether PyTorch adds a linear layer's bias ``b`` to the product's (rows, outputs) matrix (``addmm``, which
    expands the bias to it): where the input ``x`` is 2-D, or contiguous with a contiguous bias of one dimension that
    is not 1; otherwise it adds it in place to the product (which broadcasts the bias, but may not grow the
    product)."""
    return x.ndim == 2 or (x.flags.c_contiguous and b.flags.c_contiguous
                           and (b.ndim == 1 or sum(s != 1 for s in b.shape) == 1))


def _check_linear_shapes(x, w, bias):
    """PyTorch's errors for the shapes of a linear layer's input ``x``, weight ``w`` (arrays) and ``bias`` (a tensor,
    or None), in the order it meets them; then whether the bias goes on the product's rows (``_bias_on_rows``)."""
    if (w.ndim == 2 and x.ndim and x.shape[-1] == w.shape[1]
            and (bias is None or bias._data.shape == w.shape[:1])):  # a layer's call: nothing to check
        return False
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {x.ndim}D and {w.ndim}D")
    if w.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    on_rows = bias is not None and _bias_on_rows(x, bias._data)
    if on_rows and w.ndim == 1:
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    k, rows = x.shape[-1], math.prod(x.shape[:-1])
    if w.ndim == 1 and k != w.shape[0]:
        if x.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k}] and src [{w.shape[0]}] to have the "
                               f"same number of elements, but got {k} and {w.shape[0]} elements respectively")
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({w.shape[0]})")
    if w.ndim == 2 and k != w.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows if x.ndim > 1 else 1}x{k} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    if on_rows:
        expanded_shape(bias, (rows, w.shape[0]))
        return True
    if bias is not None:  # added in place to the product
        check_in_place_broadcast(x.shape[:-1] + w.shape[:-1], bias._data.shape)
    return False


def _check_same_dtype(a, b):
    if a._data.dtype != b._data.dtype and not _autocast.active:  # autocast casts both in Op.apply
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{legacy_name(a._data.dtype).lower()} != {legacy_name(b._data.dtype).lower()}")


class MatMul(Op):
    __slots__ = ("a", "b")
    _name = "MmBackward0"
    saves = 1

    def forward(self, a, b):
        self.a, self.b = a, b
        return gemm.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self._edges
        xp = xp_of(g)
        if a.ndim == 1 and b.ndim == 1:
            return (None if ea is None else g * b, None if eb is None else g * a)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if ea is not None:
            ga = gemm.matmul(g2, xp.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if eb is not None:
            gb = gemm.matmul(xp.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb

    def backward_graph(self, g):
        ea, eb = self._edges
        a, b = self.saved_input(0, self.a), self.saved_input(1, self.b)
        if a.ndim == 1 and b.ndim == 1:
            return (None if ea is None else g * b, None if eb is None else g * a)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g.unsqueeze(-2) if a.ndim == 1 else g
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = None if ea is None else sum_to(g2.matmul(b2.transpose(-1, -2)), a2.shape).reshape(a.shape)
        gb = None if eb is None else sum_to(a2.transpose(-1, -2).matmul(g2), b2.shape).reshape(b.shape)
        return ga, gb


class Mv(MatMul):
    __slots__ = ()
    _name = "MvBackward0"


class Dot(MatMul):
    __slots__ = ()
    _name = "DotBackward0"


class Bmm(MatMul):
    __slots__ = ()
    _name = "BmmBackward0"


class BatchedMatMul(MatMul):
    __slots__ = ()
    _name = "UnsafeViewBackward0"


def _broadcast_batch(sa, sb):
    """The number of matrices in a batched product; PyTorch's error when batch dims don't broadcast."""
    return math.prod(broadcast_shape(sa, sb))


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


def matmul(input, other, *, out=None):
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and "
                           f"{b.ndim}D")
    _check_same_dtype(input, other)
    batched = a.ndim > 2 and b.ndim > 2
    if batched:
        batch = _broadcast_batch(a.shape[:-2], b.shape[:-2])
        if a.shape[-1] != b.shape[-2]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{batch}, {a.shape[-1]}] but got: [{batch}, {b.shape[-2]}].")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                               f"[{b.shape[0]}] to have the same number of elements, but got {a.shape[0]} and "
                               f"{b.shape[0]} elements respectively")
        if b.ndim == 1:
            raise RuntimeError(f"size mismatch, got input ({a.shape[-2]}), mat ({_shape_str(a.shape)}), vec "
                               f"({b.shape[0]})")
        rows = a.size // a.shape[-1] if a.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a.shape[-1]} and "
                           f"{_shape_str(b.shape[-2:])})")
    if a.ndim == 1 and b.ndim == 1:
        op = Dot
    elif a.ndim == 2 and b.ndim == 2:
        op = MatMul
    elif a.ndim == 2 and b.ndim == 1:
        op = Mv
    elif a.ndim == 3 and b.ndim == 3 and a.shape[0] == b.shape[0]:
        op = Bmm
    else:
        op = BatchedMatMul
    return write_out(op.apply(input, other), out, "matmul")


def mm(input, mat2):
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._data.shape[0]}, {input._data.shape[2]}] but got: "
                           f"[{mat2._data.shape[0]}, {mat2._data.shape[1]}].")
    return matmul(input, mat2)


def mv(input, vec):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec._data.ndim}, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    return matmul(input, vec)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.dtype != other._data.dtype and not _autocast.active:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{input.dtype} and {other.dtype}")
    return matmul(input, other)


def outer(input, vec2):
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


class _WeightTranspose(Node):
    """What ``Linear``'s ``next_functions`` shows for the weight: PyTorch's ``TBackward0`` of ``weight.t()``.
    Only for looking at the graph; gradients flow from ``Linear`` to the weight directly."""

    _name = "TBackward0"

    def __init__(self, weight_edge):
        self._edges = [weight_edge]


class Linear(Op):
    """``x @ W.T + b`` as one node (PyTorch's ``AddmmBackward0`` for 2-D input)."""

    __slots__ = ("bias_rows", "bias_shape", "w", "x")
    _name = "AddmmBackward0"
    saves = 1

    def name(self):
        return "AddmmBackward0" if len(self._edges) == 3 else "MmBackward0"

    @property
    def next_functions(self):
        """As PyTorch's ``addmm(bias, input, weight.t())`` lists them: the bias first, then the input, then the
        weight behind a ``TBackward0`` (printing tutorials walk this list by position)."""
        x, w, *bias = Node.next_functions.fget(self)
        return (*bias, x, (None, 0) if w[0] is None else (_WeightTranspose(self._edges[1]), 0))

    def forward(self, x, w, b=None, bias_rows=False):
        """``bias_rows``: a bias of several dimensions goes on the product's (rows, outputs) matrix (``linear``
        decides, from the tensors it was given), else it broadcasts to the product."""
        self.x, self.w, self.bias_shape = x, w, None if b is None else b.shape
        out = gemm.matmul(x, w.T)
        if b is None:
            return out
        self.bias_rows = bias_rows and b.ndim > 1
        if self.bias_rows:
            binary_kernels.add_row_(_rows(out), b)
            return out
        return binary_kernels.add_row_(out, b)

    def _bias_grad(self, g, g2, sum_rows, reduce_to):
        """The bias's gradient from the output's ``g`` (``g2`` its rows), where the bias was added to the rows or
        broadcast to the output."""
        if len(self.bias_shape) <= 1:
            return reduce_to(sum_rows(g2), self.bias_shape)
        return reduce_to(g2 if self.bias_rows else g, self.bias_shape)

    def backward(self, g):
        x, w = self.x, self.w
        edges = self._edges
        g2 = _rows(g)
        gx = None if edges[0] is None else gemm.matmul(g, w)
        gw = None if edges[1] is None else gemm.matmul(g2.T, _rows(x))
        if self.bias_shape is None:
            return gx, gw
        return gx, gw, None if edges[2] is None else self._bias_grad(g, g2, lambda a: a.sum(axis=0), unbroadcast)

    def backward_graph(self, g):
        edges = self._edges
        x, w = self.saved_input(0, self.x), self.saved_input(1, self.w)
        g2 = _rows(g)
        gx = None if edges[0] is None else g.matmul(w)
        gw = None if edges[1] is None else g2.transpose(0, 1).matmul(_rows(x))
        if self.bias_shape is None:
            return gx, gw
        return gx, gw, None if edges[2] is None else self._bias_grad(g, g2, lambda a: a.sum(0), sum_to)


def _rows(a):
    """An array or tensor as the matrix of its last axis's rows; ``reshape(-1, n)`` cannot size an empty one."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def linear(input, weight, bias=None):
    if _autocast.active:  # PyTorch checks the layouts of the cast tensors (a strided input's cast is contiguous)
        input, weight, *rest = autocast_inputs(Linear, input, weight, *(() if bias is None else (bias,)))
        bias = rest[0] if rest else None
    bias_rows = _check_linear_shapes(input._data, weight._data, bias)
    _check_same_dtype(input, weight)
    if weight._data.ndim == 1:  # PyTorch's ``matmul(input, weight.t())``, its bias added in place
        out = matmul(input, weight)
        return out if bias is None else out.add_(bias)
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias, bias_rows=bias_rows)
