"""``Tensor``: an array on a device, with the autograd bookkeeping PyTorch users expect.

The operations themselves live in ``engine.ops``; they are attached as methods by ``engine._methods``.
"""

import numbers

import numpy as np

from . import dtypes
from .backend import CPU, array_module, device, transfer
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
    n = ndim if ndim > 0 else 1
    if not isinstance(dim, numbers.Integral) or not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


class Size(tuple):
    """The shape of a tensor: a tuple that prints as ``engine.Size([5, 3])``."""

    __slots__ = ()

    def __repr__(self):
        return f"engine.Size({list(self)})"

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
    _retains_grad = False
    _grad_accumulator = None
    _is_param = False
    __array_priority__ = 1000  # NumPy defers ndarray <op> Tensor to our reflected operators
    __hash__ = object.__hash__

    def __init__(self, *args, dtype=None, device=None):
        from .creation import legacy_construct

        src = legacy_construct(args, dtype or dtypes.get_default_dtype(), device)
        self._data = src._data
        self._device = src._device

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
        return self._data.dtype.kind == "f"

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
        if value and self._data.dtype.kind != "f":
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

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        from .autograd.hooks import retain_grad

        retain_grad(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.hooks import register_tensor_hook

        return register_tensor_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd.engine import backward

        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs)

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

    def __reduce_ex__(self, protocol):
        from .creation import tensor

        return (tensor, (self._host().copy(),), None)

    def __deepcopy__(self, memo):
        from .creation import _deepcopy

        return _deepcopy(self, memo)

    # ----- devices -----
    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; ``copy=``, ``non_blocking=``."""
        dev, dt, copy = _parse_to(args, kwargs)
        from .ops.convert import to_copy

        return to_copy(self, dev, dt, copy)

    def cuda(self, device=None, non_blocking=False):
        target = _cuda_device(device)
        return self.to(target)

    def cpu(self):
        return self.to(CPU)

    def type(self, dtype=None, non_blocking=False):
        from .creation import legacy_type_dtype, legacy_type_name

        if dtype is None:
            return legacy_type_name(self)
        return self.to(legacy_type_dtype(dtype))

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self._device,
                      requires_grad=requires_grad)

    def _new_filled(self, fill, size, dtype, device, requires_grad):
        from .creation import full

        return full(_size_args(size), fill, dtype=dtype or self.dtype, device=device or self._device,
                    requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(1, size, dtype, device, requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(0, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return self._new_filled(fill_value, (size,), dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new_filled(0, size, dtype, device, requires_grad)

    @property
    def xp(self):
        """The array module of this tensor's device (``numpy`` or ``cupy``)."""
        return array_module(self._device)


def _size_args(size):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"size must be a tuple of ints, but got an element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _cuda_device(index):
    if index is None:
        return device("cuda", 0)
    if isinstance(index, device):
        return index
    if isinstance(index, str):
        return device(index)
    return device("cuda", int(index))


def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a._device, a.dtype
        elif isinstance(a, dtypes.dtype) or a in (float, int, bool):
            dt = a
        elif isinstance(a, (device, str, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            kwargs["non_blocking"] = a
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    if dev is not None:
        dev = _cuda_device(dev) if isinstance(dev, int) else device(dev)
    if dt is not None:
        dt = dtypes.to_dtype(dt)
    return dev, dt, copy

