"""Shape operations: views (view, reshape, squeeze, permute, transpose, expand, split, ...) and copies
(repeat, cat, stack).

A view shares its base's storage and version counter and remembers how to rebuild itself from the
base's array, so an in-place change through the view can be recorded on the base (see inplace.py).
"""

import math

import numpy as np

from .. import dtypes
from ..backend import is_host
from ..tensor import Tensor, make_tensor, wrap_dim
from .convert import cast, clone
from .op import Op, compute, sum_to, unbroadcast, untracked, xp_of
from .reduce import normalize_dims

_new = object.__new__


def mark_view(out, base, fn):
    """Record that tensor ``out`` is ``fn(base's array)``, sharing ``base``'s storage."""
    root = base._base
    if root is None:
        root, view_fn = base, fn
    else:
        parent_fn = base._view_fn

        def view_fn(a):
            return fn(parent_fn(a))

    out._base = root
    out._view_fn = view_fn
    counter = root._version_counter
    if counter is None:
        counter = root._version_counter = [0]
    out._version_counter = counter
    return out


def _view(op, x, fn, **options):
    return mark_view(op.apply(x, **options), x, fn)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(map(int, shape))


def infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; PyTorch's error when the sizes cannot match."""
    if -1 not in shape and math.prod(shape) == numel and (not shape or min(shape) >= 0):
        return shape  # the usual call, checked in one pass
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = (*shape[:neg[0]], numel // known, *shape[neg[0] + 1:])
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    for s in shape:
        if s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
    return shape


def _reshape_view(x, shape):
    """``x`` reshaped without copying, or None when the strides do not allow it."""
    if is_host(x):
        if x.flags.c_contiguous:  # always a view, without np.reshape's wrapper (0.5 us)
            return x.reshape(shape)
        try:
            return np.reshape(x, shape, copy=False)
        except ValueError:
            return None
    out = x.reshape(shape)
    return out if out.data.ptr == x.data.ptr or x.size == 0 else None


class View(Op):
    __slots__ = ("in_shape",)
    _name = "ViewBackward0"
    saves_tensors = False

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        out = _reshape_view(x, shape)
        if out is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                "spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return out

    def backward(self, g):
        return (g.reshape(self.in_shape),)

    backward_graph = backward


class ReshapeCopy(View):
    __slots__ = ()
    _name = "UnsafeViewBackward0"

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        return x.reshape(shape)


def _reshaped(input, shape, out):
    """Tensor ``input`` viewed as ``shape`` (resolved), ``out`` its array so reshaped: the node only where a
    gradient is recorded (``untracked``: the view's array is all there is to it)."""
    if untracked(input):
        t = _new(Tensor)
        t._data = out
        t._device = input._device
    else:
        t = View.apply(input, shape=shape)
    return mark_view(t, input, lambda a: _reshape_view(a, shape))


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return _view_dtype(input, shape[0])
    shape = infer_shape(_shape_arg(shape), input._data.size)
    out = _reshape_view(input._data, shape)
    if out is None:
        return View.apply(input, shape=shape)  # raises PyTorch's error
    return _reshaped(input, shape, out)


def _view_dtype(input, dtype):
    """``view(dtype)``: the same bytes read as another dtype (not differentiable, as in PyTorch)."""
    target = dtypes.to_dtype(dtype).np
    x = input._data
    if target.itemsize != x.dtype.itemsize and (x.ndim == 0 or x.shape[-1] * x.itemsize % target.itemsize):
        raise RuntimeError("self.size(-1) must be divisible by the ratio of the element sizes to view "
                           f"{x.dtype} as {target} (different element sizes)")
    out = compute(lambda a: (a if a.flags.c_contiguous else a.copy()).view(target), input)
    if input._requires_grad and target.kind == "f" and target == x.dtype:
        return view(input, input._data.shape)
    return mark_view(out, input, lambda a: a.view(target))


def reshape(input, *shape):
    shape = infer_shape(_shape_arg(shape), input._data.size)
    out = _reshape_view(input._data, shape)
    if out is not None:
        return _reshaped(input, shape, out)
    return ReshapeCopy.apply(input, shape=shape)


def view_as(input, other):
    return view(input, tuple(other.shape))


def reshape_as(input, other):
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start, end = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    new = (*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])
    return reshape(input, new)


def unflatten(input, dim, sizes):
    d = normalize_dims(dim, input._data.ndim)[0]
    shape = input._data.shape
    sizes = infer_shape(tuple(sizes), shape[d])
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


class Squeeze(Op):
    __slots__ = ("in_shape",)
    _name = "SqueezeBackward0"
    saves_tensors = False

    def forward(self, x, axes=None):
        self.in_shape = x.shape
        return x.squeeze(axes)

    def backward(self, g):
        return (g.reshape(self.in_shape),)

    backward_graph = backward


class SqueezeDim(Squeeze):
    __slots__ = ()
    _name = "SqueezeBackward1"


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
        op = Squeeze
    else:
        dims = normalize_dims(dim, len(shape)) if shape else ()
        axes = tuple(d for d in dims if shape[d] == 1)
        op = SqueezeDim
    return _view(op, input, lambda a: a.squeeze(axes), axes=axes)


class Unsqueeze(Op):
    __slots__ = ("axis",)
    _name = "UnsqueezeBackward0"
    saves_tensors = False

    def forward(self, x, axis=0):
        self.axis = axis
        return xp_of(x).expand_dims(x, axis)

    def backward(self, g):
        return (g.squeeze(self.axis),)

    backward_graph = backward


def unsqueeze(input, dim):
    axis = wrap_dim(dim, input._data.ndim + 1)
    return _view(Unsqueeze, input, lambda a: xp_of(a).expand_dims(a, axis), axis=axis)


class Permute(Op):
    __slots__ = ("inverse",)
    _name = "PermuteBackward0"
    saves_tensors = False

    def forward(self, x, axes=()):
        self.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    def backward(self, g):
        return (g.transpose(self.inverse),)

    def backward_graph(self, g):
        return (g.permute(self.inverse),)


class Transpose(Permute):
    __slots__ = ()
    _name = "TransposeBackward0"


class TransposeT(Permute):
    __slots__ = ()
    _name = "TBackward0"


def permute(input, *dims):
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
                           f"to len(dims) = {len(dims)}")
    axes = tuple(wrap_dim(d, n) for d in dims)
    if len(set(axes)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view(Permute, input, lambda a: a.transpose(axes), axes=axes)


def _swap_axes(n, d0, d1):
    axes = list(range(n))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return tuple(axes)


def transpose(input, dim0, dim1):
    n = input._data.ndim
    if n == 0:
        return input
    d0, d1 = (normalize_dims(d, n)[0] for d in (dim0, dim1))
    axes = _swap_axes(n, d0, d1)
    return _view(Transpose, input, lambda a: a.transpose(axes), axes=axes)


swapaxes = swapdims = transpose


def t(input):
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    axes = tuple(reversed(range(n)))
    return _view(TransposeT, input, lambda a: a.transpose(axes), axes=axes)


def T(input):
    n = input._data.ndim
    axes = tuple(reversed(range(n)))
    return _view(Permute, input, lambda a: a.transpose(axes), axes=axes)


def mT(input):
    return transpose(input, -2, -1)


class Expand(Op):
    __slots__ = ("in_shape",)
    _name = "ExpandBackward0"
    saves_tensors = False

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        return xp_of(x).broadcast_to(x, shape)

    def backward(self, g):
        return (unbroadcast(g, self.in_shape),)

    def backward_graph(self, g):
        return (sum_to(g, self.in_shape),)


def expand(input, *sizes):
    target = expanded_shape(input, _shape_arg(sizes))
    return _view(Expand, input, lambda a: xp_of(a).broadcast_to(a, target), shape=target)


def expanded_shape(input, sizes):
    """The shape that ``input.expand(*sizes)`` gives (-1 keeps a size), with PyTorch's errors where it cannot."""
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            target.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            s = cur
        if cur != 1 and s != cur:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                               f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shape)}")
        target.append(s)
    return tuple(target)


def expand_as(input, other):
    return expand(input, tuple(other.shape))


class Repeat(Op):
    __slots__ = ("in_shape", "orig_shape", "reps")
    _name = "RepeatBackward0"
    saves_tensors = False

    def forward(self, x, reps=()):
        self.orig_shape = x.shape
        lead = len(reps) - x.ndim
        self.in_shape = (1,) * lead + x.shape
        self.reps = reps
        return xp_of(x).tile(x.reshape(self.in_shape), reps)

    def backward(self, g):  # the same for arrays and, with create_graph, tensors
        return (g.reshape(self._split()).sum(self._repeats()).reshape(self.orig_shape),)

    backward_graph = backward

    def _split(self):
        """Every axis split into (repeat, size): the gradient sums over the repeats."""
        return tuple(n for r, s in zip(self.reps, self.in_shape) for n in (r, s))

    def _repeats(self):
        return tuple(range(0, 2 * len(self.reps), 2))


def repeat(input, *sizes):
    reps = _shape_arg(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                           "of tensor")
    return Repeat.apply(input, reps=reps)


class Cat(Op):
    __slots__ = ("axis", "sizes")
    _name = "CatBackward0"
    saves_tensors = False

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return xp_of(xs[0]).concatenate(xs, axis=axis)

    def backward(self, g):
        bounds = np.cumsum(self.sizes)[:-1]
        return tuple(xp_of(g).split(g, bounds, axis=self.axis))

    def backward_graph(self, g):
        return Split.apply(g, sizes=tuple(self.sizes), axis=self.axis)


def _promote_all(tensors):
    dts = {t._data.dtype for t in tensors}
    if len(dts) == 1:
        return tensors
    target = dtypes.from_numpy(tensors[0]._data.dtype)
    for t in tensors[1:]:
        target = dtypes.promote(target, dtypes.from_numpy(t._data.dtype))
    return [cast(t, target) for t in tensors]


def cat(tensors, dim=0, *, out=None):
    tensors = [t for t in tensors]
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # PyTorch skips legacy empty 1-D tensors of shape (0,).
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = parts[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = normalize_dims(dim, ref.ndim)[0]
    for i, t in enumerate(parts):
        s = t._data.shape
        if len(s) != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {len(s)}")
        for d in range(ref.ndim):
            if d != axis and s[d] != ref.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. Expected size "
                                   f"{ref.shape[d]} but got size {s[d]} for tensor number {i} in the list.")
    parts = _promote_all(parts)
    result = Cat.apply(*parts, axis=axis)
    if out is not None:
        out._data = result._data
        return out
    return result


concat = concatenate = cat


class Stack(Op):
    __slots__ = ("axis",)
    _name = "StackBackward0"
    saves_tensors = False

    def forward(self, *xs, axis=0):
        self.axis = axis
        return xp_of(xs[0]).stack(xs, axis=axis)

    def backward(self, g):
        xp = xp_of(g)
        return tuple(xp.take(g, i, axis=self.axis) for i in range(g.shape[self.axis]))

    def backward_graph(self, g):
        n = g.shape[self.axis]
        return Unbind.apply(g, sizes=(1,) * n, axis=self.axis)


def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(t._data.shape)} at entry {i}")
    result = Stack.apply(*_promote_all(tensors), axis=wrap_dim(dim, len(shape) + 1))
    if out is not None:
        out._data = result._data
        return out
    return result


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t._data.ndim > 1 else t.reshape(1, -1) for t in tensors], 0)


class Split(Op):
    """Cut along an axis into pieces that are views of the input."""

    __slots__ = ("axis", "in_shape", "sizes")
    _name = "SplitWithSizesBackward0"
    saves_tensors = False

    @property
    def num_outputs(self):
        return len(self.sizes)

    def forward(self, x, sizes=(), axis=0):
        self.sizes, self.axis, self.in_shape = sizes, axis, x.shape
        bounds = np.cumsum(sizes)[:-1]
        return tuple(xp_of(x).split(x, bounds, axis=axis))

    def backward(self, *grads):
        xp = xp_of(next(g for g in grads if g is not None))
        parts = []
        for g, size in zip(grads, self.sizes):
            if g is None:
                shape = list(self.in_shape)
                shape[self.axis] = size
                g = xp.zeros(shape, dtype=next(g for g in grads if g is not None).dtype)
            parts.append(g)
        return (xp.concatenate(parts, axis=self.axis),)

    def backward_graph(self, *grads):
        return (Cat.apply(*self._filled(grads), axis=self.axis),)

    def _filled(self, grads):
        """The gradient tensors, zeros where an output got none."""
        ref = next(g for g in grads if g is not None)
        xp = xp_of(ref._data)
        parts = []
        for g, size in zip(grads, self.sizes):
            if g is None:
                shape = list(self.in_shape)
                shape[self.axis] = size
                g = make_tensor(xp.zeros(shape, dtype=ref._data.dtype), ref._device)
            parts.append(g)
        return parts


def _split_views(input, sizes, axis, op=Split):
    pieces = op.apply(input, sizes=tuple(sizes), axis=axis)
    bounds = [0, *np.cumsum(sizes).tolist()]
    for i, piece in enumerate(pieces):
        lo, hi = bounds[i], bounds[i + 1]
        index = (slice(None),) * axis + (slice(lo, hi),)
        mark_view(piece, input, lambda a, index=index: a[index])
        piece._multi_view = (i, op._name)
    return pieces


def split(input, split_size_or_sections, dim=0):
    axis = normalize_dims(dim, input._data.ndim)[0]
    n = input._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                               f"at dimension {axis}), but got split_sizes={sizes}")
    return _split_views(input, sizes, axis)


def chunk_sizes(length, chunks):
    """The pieces ``chunk`` cuts ``length`` into: ``ceil(length / chunks)`` each, the last one the rest; there can
    be fewer than ``chunks`` (6 in 4 chunks is 2, 2, 2), and an empty dimension is one empty piece."""
    if not length:
        return [0]
    step = -(-length // chunks)
    return [min(step, length - start) for start in range(0, length, step)]


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    axis = normalize_dims(dim, input._data.ndim)[0]
    return _split_views(input, chunk_sizes(input._data.shape[axis], chunks), axis)


def tensor_split(input, sections, dim=0):
    axis = normalize_dims(dim, input._data.ndim)[0]
    n = input._data.shape[axis]
    base, extra = divmod(n, sections)
    return _split_views(input, [base + 1] * extra + [base] * (sections - extra), axis)


class Unbind(Split):
    __slots__ = ()
    _name = "UnbindBackward0"

    def forward(self, x, sizes=(), axis=0):
        self.sizes, self.axis, self.in_shape = sizes, axis, x.shape
        return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))

    def backward(self, *grads):
        ref = next(g for g in grads if g is not None)
        xp = xp_of(ref)
        full = [xp.zeros_like(ref) if g is None else g for g in grads]
        return (xp.stack(full, axis=self.axis),)

    def backward_graph(self, *grads):
        ref = next(g for g in grads if g is not None)
        zeros = ref.new_zeros(ref.shape)
        return (Stack.apply(*[zeros if g is None else g for g in grads], axis=self.axis),)


def unbind(input, dim=0):
    axis = normalize_dims(dim, input._data.ndim)[0]
    n = input._data.shape[axis]
    pieces = Unbind.apply(input, sizes=(1,) * n, axis=axis)
    for i, piece in enumerate(pieces):
        index = (slice(None),) * axis + (i,)
        mark_view(piece, input, lambda a, index=index: a[index])
        piece._multi_view = (i, Unbind._name)
    return pieces


def narrow(input, dim, start, length):
    axis = normalize_dims(dim, input._data.ndim)[0]
    index = (slice(None),) * axis + (slice(start, start + length),)
    return input[index]


def select(input, dim, index):
    axis = normalize_dims(dim, input._data.ndim)[0]
    return input[(slice(None),) * axis + (index,)]


def movedim(input, source, destination):
    n = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    wrapped = {}
    for name, dims in (("source", src), ("destination", dst)):
        wrapped[name] = [wrap_dim(d, n) for d in dims]
        if len(set(wrapped[name])) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    if n == 0:
        return view(input, ())
    order = [d for d in range(n) if d not in wrapped["source"]]
    for s, d in sorted(zip(wrapped["source"], wrapped["destination"]), key=lambda p: p[1]):
        order.insert(d, s)
    return permute(input, *order)


_BACKWARDS = slice(None, None, -1)


def reversed_view(a, axes):
    """Array ``a`` reversed along ``axes``: a view by basic slicing, where ``xp.flip`` costs a Python-level
    check of the axes."""
    if not axes:
        return a
    index = [slice(None)] * a.ndim
    for d in axes:
        index[d] = _BACKWARDS
    return a[tuple(index)]


def flip(input, *dims):
    """``flip(x, dims)`` with a sequence, or ``x.flip(0, 1)`` with the dims spread, as PyTorch's method takes."""
    dims = dims[0] if len(dims) == 1 else dims
    return Flip.apply(input, axes=normalize_dims(dims, input._data.ndim) or ())


class Flip(Op):
    __slots__ = ("axes",)
    _name = "FlipBackward0"
    saves_tensors = False

    def forward(self, x, axes=()):
        self.axes = axes
        return reversed_view(x, axes).copy()

    def backward(self, g):
        return (reversed_view(g, self.axes),)

    def backward_graph(self, g):
        return (Flip.apply(g, axes=self.axes),)


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


__all__ = ["Tensor"]
