"""``Tensor``: an array on a device, with the autograd bookkeeping PyTorch users expect.

Only the class and what needs nothing but the array: the operations (``engine.ops``), the constructors
(``engine.creation``) and the autograd entry points (``engine.autograd``) sit above this module and are
attached as methods by ``engine._methods``, so this module imports none of them.
"""

import numbers

import numpy as np

from . import dtypes
from .backend import CPU, array_module, transfer
from .tensor_str import format_tensor

_new = object.__new__
_np_generic = np.generic


def make_tensor(data, dev=CPU):
    """Wrap an array of ``dev``'s module as a tensor (NumPy scalars become 0-d arrays)."""
    if isinstance(data, _np_generic):
        data = np.asarray(data)
    t = _new(Tensor)
    t._data = data
    t._device = dev
    return t


def wrap_dim(dim, ndim):
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor (a 0-d tensor accepts 0 and -1)."""
    if dim.__class__ is int:  # the common case without the ABC check (~0.3 us)
        if 0 <= dim < ndim:
            return dim
        if -ndim <= dim < 0:
            return dim + ndim
    n = ndim if ndim > 0 else 1
    if not isinstance(dim, numbers.Integral) or not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


class Size(tuple):
    """The shape of a tensor: a tuple that prints as PyTorch's does, ``torch.Size([5, 3])``."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


class Tensor:
    """A multi-dimensional array with PyTorch's semantics. ``Tensor(5, 3)`` is the legacy constructor."""

    # Defaults live on the class, so a new tensor pays only for the attributes that differ.
    _requires_grad = False
    _grad = None
    grad_fn = None
    _output_nr = 0
    _version_counter = None
    _base = None  # for a view: the tensor whose storage it shares
    _view_fn = None  # for a view: rebuilds it from the base's array
    _multi_view = None  # (output index, node name) for one of several views made at once (split, unbind)
    _hooks = None
    _post_accumulate_hooks = None
    _retains_grad = False
    _grad_accumulator = None
    _is_param = False
    __array_priority__ = 1000  # NumPy defers ndarray <op> Tensor to our reflected operators
    __hash__ = object.__hash__

    # ----- metadata -----
    @property
    def data(self):
        t = make_tensor(self._data, self._device)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    def _wrap_dim(self, dim):
        return wrap_dim(dim, self._data.ndim)

    @property
    def dtype(self):
        return dtypes.from_numpy(self._data.dtype)

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def stride(self, dim=None):
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self):
        return self._data.dtype.kind in dtypes.FLOAT_KINDS

    def data_ptr(self):
        if self._device is CPU:
            return self._data.__array_interface__["data"][0]
        return int(self._data.data.ptr)

    @property
    def _version(self):
        c = self._version_counter
        return 0 if c is None else c[0]

    def _bump_version(self):
        c = self._version_counter
        if c is None:
            self._version_counter = [1]
        else:
            c[0] += 1

    # ----- autograd attributes -----
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind not in dtypes.FLOAT_KINDS:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {tuple(value.shape)} "
                                   f"vs {tuple(self.shape)}")
            if value._device is not self._device:
                raise RuntimeError(f"assigned grad has data located on a different device: {value.device} "
                                   f"vs {self.device}")
        self._grad = value

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def retains_grad(self):
        return self._retains_grad

    def detach(self):
        """A tensor on the same storage, cut from the graph (it shares the version counter)."""
        t = make_tensor(self._data, self._device)
        if self._version_counter is None:
            self._version_counter = [0]
        t._version_counter = self._version_counter
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    # ----- conversion to Python and NumPy -----
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._host().reshape(()).item()

    def tolist(self):
        return self._host().tolist()

    def numpy(self, force=False):
        """The NumPy array that shares this CPU tensor's memory."""
        if force:
            return self.detach().cpu()._data
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if self._device is not CPU:
            raise TypeError(
                f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first."
            )
        return self._data

    def _host(self):
        return self._data if self._device is CPU else transfer(self._data, self._device, CPU)

    def __array__(self, dtype=None, copy=None):
        arr = self._host()
        return arr if dtype is None else arr.astype(dtype)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def _scalar(self, kind):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return kind(self.item())

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {'no values' if self._data.size == 0 else 'more than one value'}"
                " is ambiguous"
            )
        return bool(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return self._scalar(complex)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None):
        suffixes = []
        if self._device is not CPU:
            suffixes.append(f"device='{self._device}'")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self._host(), self._data.dtype.name, suffixes)

    __str__ = __repr__

    @property
    def xp(self):
        """The array module of this tensor's device (``numpy`` or ``cupy``)."""
        return array_module(self._device)
