"""In-place operations (``add_``, ``mul_``, ``copy_``, ``t[i] = v``, ...) and how autograd sees them.

Without autograd an in-place op just writes into the tensor's array. With autograd the new value is
computed out of place from a copy of the old one (so nodes that saved the old value keep it), written
into the array, and the tensor's ``grad_fn`` is rebased onto the new node. If the tensor is a view, the
write is recorded on its base instead (``CopySlices``), and the view is re-derived from the base.
Every in-place change bumps the version counter, which backward checks against saved tensors.
"""

from .. import dtypes
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import edge_to
from ..creation import tensor
from ..random import normal_array, uniform_array
from ..tensor import Tensor, make_tensor
from . import elementwise as ew
from .convert import cast, to_copy
from .index import CopySlices, IndexPut, normalize_index, put
from .op import Op, xp_of

LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_LEAF_MESSAGE = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def _tensor_args_need_grad(args):
    return any(isinstance(a, Tensor) and a._requires_grad for a in args)


def apply_inplace(self, compute, *args):
    """Replace ``self``'s values with ``compute(self, *args)`` (an out-of-place op), in place."""
    if _grad_state.enabled:
        if self._requires_grad and self.grad_fn is None and self._base is None:
            raise RuntimeError(LEAF_MESSAGE)
        base = self._base
        if base is not None and base._requires_grad and base.grad_fn is None:
            raise RuntimeError(VIEW_LEAF_MESSAGE)
        if self._requires_grad or _tensor_args_need_grad(args):
            return _inplace_with_graph(self, compute, args)
    with no_grad():
        result = compute(self, *args)
    _write(self, result)
    return self


def _check_castable(self, result):
    src, dst = result._data.dtype, self._data.dtype
    if dtypes.from_numpy(src).category > dtypes.from_numpy(dst).category:
        raise RuntimeError(f"result type {dtypes.legacy_name(src)} can't be cast to the desired output type "
                           f"{dtypes.legacy_name(dst)}")


def _write(self, result):
    _check_castable(self, result)
    data = result._data
    if data.shape != self._data.shape:
        xp_of(data).broadcast_to(data, self._data.shape)  # raises PyTorch-like on a shape mismatch
    self._data[...] = data
    self._bump_version()


def _inplace_with_graph(self, compute, args):
    if self._multi_view is not None and self._requires_grad:
        index, name = self._multi_view
        raise RuntimeError(
            f"Output {index} of {name} is a view and is being modified inplace. This view is the output of a "
            "function that returns multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one.")
    old = make_tensor(self._data.copy(), self._device)
    old._requires_grad = self._requires_grad
    old.grad_fn = self.grad_fn
    old._output_nr = self._output_nr
    result = compute(old, *args)
    _write(self, result)
    if not result._requires_grad:
        return self
    if self._data.dtype != result._data.dtype:
        result = cast(result, dtypes.from_numpy(self._data.dtype))
    base = self._base
    if base is None:
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = True
        return self
    _record_on_base(self, base, result)
    return self


def _record_on_base(view, base, result):
    """Record ``view[...] = result`` on ``base``: base gets a CopySlices node, the view a fresh grad_fn."""
    view_fn = view._view_fn
    node = object.__new__(_ViewWrite)
    node.view_fn = view_fn
    node.value_shape = result._data.shape
    node._edges = (edge_to(base), edge_to(result))
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    with enable_grad():
        fresh = _ViewOfBase.apply(base, view_fn=view_fn)
    view.grad_fn = fresh.grad_fn
    view._output_nr = 0
    view._requires_grad = True


class _ViewWrite(Op):
    """The base's node after a write through one of its views."""

    __slots__ = ("value_shape", "view_fn")
    _name = "CopySlices"
    saves_tensors = False

    def backward(self, g):
        gb = g.copy()
        self.view_fn(gb)[...] = 0
        return gb, self.view_fn(g).reshape(self.value_shape)

    def backward_graph(self, g):
        eb, ev = self._edges
        gb = gv = None
        if eb is not None:
            outside = xp_of(g._data).ones(g._data.shape, dtype=g._data.dtype)
            self.view_fn(outside)[...] = 0
            gb = g * make_tensor(outside, g._device)
        if ev is not None:
            gv = _ViewOfBase.apply(g, view_fn=self.view_fn).reshape(self.value_shape)
        return gb, gv


class _ViewOfBase(Op):
    __slots__ = ("shape", "view_fn")
    _name = "AsStridedBackward0"
    saves_tensors = False

    def forward(self, base, view_fn=None):
        self.view_fn, self.shape = view_fn, base.shape
        return view_fn(base)

    def backward(self, g):
        return (_into_zeros(g, self.view_fn, self.shape),)

    def backward_graph(self, g):
        return (_IntoZeros.apply(g, view_fn=self.view_fn, shape=self.shape),)


def _into_zeros(g, view_fn, shape):
    """Zeros of the base's ``shape`` with ``g`` written through ``view_fn``: the transpose of taking the view."""
    out = xp_of(g).zeros(shape, dtype=g.dtype)
    view_fn(out)[...] = g
    return out


class _IntoZeros(Op):
    """``_ViewOfBase``'s backward as a node, for double backward; its own backward takes the view again."""

    __slots__ = ("view_fn",)
    _name = "AsStridedScatterBackward0"
    saves_tensors = False

    def forward(self, g, view_fn=None, shape=None):
        self.view_fn = view_fn
        return _into_zeros(g, view_fn, shape)

    def backward(self, g):
        return (self.view_fn(g),)

    def backward_graph(self, g):
        return (_ViewOfBase.apply(g, view_fn=self.view_fn),)


# ----- the in-place methods -----
def _as_value(self, value):
    if isinstance(value, Tensor):
        return value
    return tensor(value, dtype=self.dtype, device=self._device)


def add_(self, other, *, alpha=1):
    return apply_inplace(self, lambda s, o: ew.add(s, o, alpha=alpha), other)


def sub_(self, other, *, alpha=1):
    return apply_inplace(self, lambda s, o: ew.sub(s, o, alpha=alpha), other)


def mul_(self, other):
    return apply_inplace(self, ew.mul, other)


def div_(self, other, *, rounding_mode=None):
    return apply_inplace(self, lambda s, o: ew.div(s, o, rounding_mode=rounding_mode), other)


def pow_(self, exponent):
    return apply_inplace(self, ew.pow, exponent)


def neg_(self):
    return apply_inplace(self, ew.neg)


def abs_(self):
    return apply_inplace(self, ew.abs)


def exp_(self):
    return apply_inplace(self, ew.exp)


def log_(self):
    return apply_inplace(self, ew.log)


def sqrt_(self):
    return apply_inplace(self, ew.sqrt)


def sigmoid_(self):
    return apply_inplace(self, ew.sigmoid)


def tanh_(self):
    return apply_inplace(self, ew.tanh)


def relu_(self):
    return apply_inplace(self, ew.relu)


def clamp_(self, min=None, max=None):
    return apply_inplace(self, lambda s: ew.clamp(s, min, max))


clip_ = clamp_


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    return apply_inplace(self, _copy_compute, src)


def _copy_compute(s, o):
    value = to_copy(o, s._device, dtypes.from_numpy(s._data.dtype), copy=True)
    if value._data.shape != s._data.shape:
        value = value.expand(tuple(s.shape)).clone()
    if s._requires_grad:  # the old values are overwritten: no gradient reaches them
        return _Overwrite.apply(s, value)
    return value


class _Overwrite(Op):
    """``copy_`` as a node: the output is the source; the old destination gets a zero gradient."""

    __slots__ = ()
    _name = "CopyBackwards"
    saves_tensors = False

    def forward(self, dst, src):
        return src

    def backward(self, g):
        return g * 0, g

    backward_graph = backward


def fill_(self, value):
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")

    def compute(s, v):
        if isinstance(v, Tensor):
            return _Overwrite.apply(s, v.to(s.dtype).expand(tuple(s.shape)).clone()) if s._requires_grad \
                else v.to(s.dtype).expand(tuple(s.shape))
        data = xp_of(s._data).full(s._data.shape, v, dtype=s._data.dtype)
        if s._requires_grad:
            return _Overwrite.apply(s, make_tensor(data, s._device))
        return make_tensor(data, s._device)

    if not isinstance(value, Tensor) and not (_grad_state.enabled and self._requires_grad):
        if self._requires_grad and self.grad_fn is None and self._base is None and _grad_state.enabled:
            raise RuntimeError(LEAF_MESSAGE)
        self._data.fill(value)
        self._bump_version()
        return self
    return apply_inplace(self, compute, value)


def zero_(self):
    return fill_(self, 0)


def t_(self):
    if self._data.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
    self._data = self._data.T
    self._bump_version()
    return self


def uniform_(self, a=0.0, b=1.0, generator=None):
    return _fill_random(self, uniform_array(self._data.shape, a, b, self._device, generator))


def normal_(self, mean=0.0, std=1.0, generator=None):
    return _fill_random(self, normal_array(self._data.shape, mean, std, self._device, generator))


def _fill_random(self, data):
    if self._requires_grad and self.grad_fn is None and _grad_state.enabled:
        raise RuntimeError(LEAF_MESSAGE)
    self._data[...] = data
    self._bump_version()
    return self


def setitem(self, index, value):
    """``self[index] = value``: in place; differentiable through both ``self`` and ``value``."""
    idx, basic = normalize_index(index, self._data.shape, self._device)
    if not isinstance(value, Tensor):
        if _grad_state.enabled and self._requires_grad:
            value = _as_value(self, value)
        else:
            if self._requires_grad and self.grad_fn is None and _grad_state.enabled:
                raise RuntimeError(LEAF_MESSAGE)
            put(self._data, idx, value)
            self._bump_version()
            return
    if value._data.dtype != self._data.dtype:
        value = cast(value, dtypes.from_numpy(self._data.dtype))
    apply_inplace(self, lambda s, v: CopySlices.apply(s, v, index=idx, basic=basic) if basic else
                  _index_put(s, v, idx), value)


def _index_put(s, v, idx):
    return IndexPut.apply(s, v, index=idx, basic=False)


