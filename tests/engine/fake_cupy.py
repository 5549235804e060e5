"""A NumPy-backed stand-in for CuPy, to test the engine's device plumbing on a machine without a GPU.

What it proves, and what it does not
------------------------------------
This module is **not** CuPy and says nothing about whether the engine's kernels run correctly on a GPU
(numerics, dtype rules, CuPy API gaps, performance). It proves the *plumbing*:

* transfers happen where they should (host -> device through ``asarray``, device -> host through
  ``asnumpy``; both are counted in :attr:`FakeCupy.transfers`);
* host and device arrays are never mixed silently: like CuPy, a ufunc or array function given a plain
  ``numpy.ndarray`` (ndim > 0) raises ``TypeError``, and arrays of two different devices raise
  :class:`FakePeerAccessError`;
* kernels run with the right device current: CuPy launches a kernel on the *current* device, so an op
  on arrays of ``cuda:1`` while ``cuda:0`` is current fails (CuPy without peer access) or silently
  computes on the wrong GPU (with it). The stand-in raises :class:`FakePeerAccessError` in that case;
* results land on the right device: every array the module hands out is a :class:`FakeCudaArray` whose
  ``device.id`` says where it lives; new allocations go to the current device (set by
  ``cuda.Device(i)`` used as a context manager), results of ops on device arrays stay on that device.
  Like CuPy, nothing returns NumPy scalars: full reductions and scalar indexing give 0-d device arrays.

Like CuPy's, its arrays are not ``numpy.ndarray`` (so the host kernels and ``engine.backend.is_host``
refuse them) and ``np.asarray`` of one raises ``TypeError``; NumPy's functions and ufuncs called on them
dispatch to the stand-in (``__array_function__``, ``__array_ufunc__``). Known gap: array methods
(``astype``, ``copy``, ``sum``, ...) do not check that their array's device is current, which some of
CuPy's do. The real-CuPy tests in ``test_cuda.py`` cover the same key checks on a GPU machine.

Use: ``engine.backend.install_cuda_module(FakeCupy(device_count=2))``, and ``install_cuda_module(None)``
to remove it (the ``fake_cuda`` fixture in ``conftest.py`` does both).
"""

from __future__ import annotations

import types

import numpy as np

__all__ = [
    "FakeCUDARuntimeError",
    "FakeCudaArray",
    "FakeCupy",
    "FakeDevice",
    "FakePeerAccessError",
]


class FakeCUDARuntimeError(RuntimeError):
    """Stands in for ``cupy.cuda.runtime.CUDARuntimeError``."""


class FakePeerAccessError(ValueError):
    """What CuPy raises (a ``ValueError``) for a kernel given arrays of a device that is not current."""


# The device that is current for allocations and kernels: a stack, pushed by ``cuda.Device.__enter__``.
# It is shared by every FakeCupy instance, so arrays (and generators cached by the engine) made under an
# earlier instance still agree with the one installed now.
_current = [0]


def current_device_id():
    return _current[-1]


class FakeDevice:
    """Like ``cupy.cuda.Device``: has ``.id``; as a context manager, makes that device current."""

    __slots__ = ("_count", "id")

    def __init__(self, device=None, _count=None):
        self.id = current_device_id() if device is None else int(device)
        self._count = _count

    def __enter__(self):
        if self._count is not None and not 0 <= self.id < self._count:
            raise FakeCUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        _current.append(self.id)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False

    def use(self):
        _current[-1] = self.id

    def synchronize(self):
        pass

    def __eq__(self, other):
        return isinstance(other, FakeDevice) and other.id == self.id

    def __hash__(self):
        return hash(("fake-cuda-device", self.id))

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _MemoryPointer:
    """Like ``cupy.cuda.MemoryPointer``: ``.ptr`` is the address (here, of the host buffer)."""

    __slots__ = ("device_id", "ptr")

    def __init__(self, ptr, device_id):
        self.ptr = ptr
        self.device_id = device_id


def _plain(a):
    return a._a


def as_fake(array, device_id):
    """View a host array (or NumPy scalar) as a device array on ``device_id`` (no copy)."""
    return FakeCudaArray(np.asarray(array), device_id)


# Array functions that only make views or read metadata (no kernel launch), so they need not run with
# the array's device current.
_NO_KERNEL = frozenset({
    "array2string", "array_repr", "array_str", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays",
    "broadcast_to", "can_cast", "expand_dims", "flip", "fliplr", "flipud", "iscomplexobj", "isrealobj",
    "may_share_memory", "moveaxis", "ndim", "ravel", "reshape", "result_type", "rollaxis", "shape",
    "shares_memory", "size", "split", "array_split", "squeeze", "swapaxes", "transpose",
})
# Positional arguments that may be host data: split points, like CuPy accepts a NumPy array there.
_HOST_ARGS_OK = {"split": {1}, "array_split": {1}}


def _scan(obj, found, path_ok):
    """Collect device arrays in ``obj`` (into ``found``) and refuse host arrays, as CuPy does."""
    if isinstance(obj, FakeCudaArray):
        found.append(obj)
    elif isinstance(obj, np.ndarray):
        if obj.ndim > 0 and not path_ok:
            raise TypeError(f"Unsupported type {type(obj)} (fake_cupy: a host numpy.ndarray of shape "
                            f"{obj.shape} was mixed with device arrays; transfer it first)")
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _scan(o, found, path_ok)


def _unwrap(obj, outmap):
    if isinstance(obj, FakeCudaArray):
        p = _plain(obj)
        outmap[id(p)] = obj
        return p
    if isinstance(obj, list):
        return [_unwrap(o, outmap) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_unwrap(o, outmap) for o in obj)
    return obj


def _wrap(res, device_id, outmap):
    if isinstance(res, FakeCudaArray):
        return res
    if isinstance(res, np.ndarray):
        back = outmap.get(id(res))
        return back if back is not None else as_fake(res, device_id)
    if isinstance(res, np.generic):
        return as_fake(res, device_id)
    if isinstance(res, tuple):
        return tuple(_wrap(r, device_id, outmap) for r in res)
    if isinstance(res, list):
        return [_wrap(r, device_id, outmap) for r in res]
    return res


def _device_call(func, name, args, kwargs, kernel=True):
    """Run NumPy's ``func`` on device arrays the way CuPy would, and hand back device arrays."""
    found = []
    host_ok = _HOST_ARGS_OK.get(name, ())
    for i, a in enumerate(args):
        _scan(a, found, i in host_ok)
    for k, v in kwargs.items():
        _scan(v, found, k in ("indices_or_sections",))
    ids = {a._fake_device_id for a in found}
    if len(ids) > 1:
        raise FakePeerAccessError(f"fake_cupy: {name} got arrays of devices {sorted(ids)}; CuPy cannot mix "
                                  "arrays of different devices in one kernel")
    current = current_device_id()
    if ids:
        (device_id,) = ids
        if kernel and device_id != current:
            raise FakePeerAccessError(
                f"The device where the array resides ({device_id}) is different from the current device "
                f"({current}). Peer access is unavailable between these devices. (fake_cupy: {name} ran "
                "without the array's device made current)")
    else:
        device_id = current
    outmap = {}
    res = func(*_unwrap(args, outmap), **{k: _unwrap(v, outmap) for k, v in kwargs.items()})
    return _wrap(res, device_id, outmap)


class FakeCudaArray:
    """A device array of the stand-in: a host array ``_a`` that plays a device array, ``.device.id`` saying
    which fake GPU holds it. Attributes and methods are NumPy's, run the way CuPy runs them (device results,
    refusals of host arrays and other devices); NumPy functions and ufuncs called on it dispatch here."""

    __slots__ = ("__weakref__", "_a", "_fake_device_id")
    __array_priority__ = 100

    def __init__(self, array, device_id):
        self._a = array
        self._fake_device_id = device_id

    @property
    def device(self):
        return FakeDevice(self._fake_device_id)

    @property
    def data(self):
        return _MemoryPointer(self._a.__array_interface__["data"][0], self._fake_device_id)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr, self._fake_device_id, {}) if isinstance(attr, np.ndarray) else attr
        method = getattr(np.ndarray, name)

        def call(*args, **kwargs):
            return _device_call(method, name, (self, *args), kwargs, kernel=False)

        return call

    def get(self, stream=None, order="C", out=None):
        """Like ``cupy.ndarray.get``: a host copy."""
        return np.array(self._a, copy=True, order=order)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
                        "a NumPy array explicitly. (fake_cupy)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        func = ufunc if method == "__call__" else getattr(ufunc, method)
        return _device_call(func, f"{ufunc.__name__}.{method}", inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        return _device_call(func, name, args, kwargs, kernel=name not in _NO_KERNEL)

    def __getitem__(self, key):
        found = []
        _scan(key, found, True)  # CuPy accepts host index arrays (it copies them over)
        if any(k._fake_device_id != self._fake_device_id for k in found):
            raise FakePeerAccessError("fake_cupy: index array on another device")
        return _wrap(self._a[_unwrap(key, {})], self._fake_device_id, {})  # a scalar index gives a 0-d array

    def __setitem__(self, key, value):
        found = []
        _scan(value, found, False)
        _scan(key, found, True)
        if any(v._fake_device_id != self._fake_device_id for v in found):
            raise FakePeerAccessError("fake_cupy: assigned value on another device")
        self._a[_unwrap(key, {})] = _unwrap(value, {})

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(self._a)

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        raise TypeError("fake_cupy: refusing to pickle a device array; copy it to the host first")

    __hash__ = None


def _operator(name):
    method = getattr(np.ndarray, name)

    def op(self, *args):
        return _device_call(method, name, (self, *args), {})

    op.__name__ = name
    return op


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
              "rshift"):
    for _form in ("__{}__", "__r{}__", "__i{}__"):
        setattr(FakeCudaArray, _form.format(_name), _operator(_form.format(_name)))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__", "__lt__", "__le__", "__eq__", "__ne__", "__gt__",
              "__ge__", "__divmod__", "__rdivmod__"):
    setattr(FakeCudaArray, _name, _operator(_name))


class _UfuncProxy:
    """``fake.exp`` and friends: a ufunc that refuses host arrays and allocates on the current device."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _device_call(self._ufunc, self.__name__, args, kwargs)

    def __getattr__(self, name):
        attr = getattr(self._ufunc, name)
        if name in ("reduce", "accumulate", "reduceat", "outer", "at"):
            def method(*args, **kwargs):
                return _device_call(attr, f"{self.__name__}.{name}", args, kwargs)

            return method
        return attr

    def __repr__(self):
        return f"<fake_cupy ufunc '{self.__name__}'>"


def _function_proxy(func, name):
    def proxy(*args, **kwargs):
        return _device_call(func, name, args, kwargs, kernel=name not in _NO_KERNEL)

    proxy.__name__ = name
    proxy.__doc__ = f"fake_cupy: numpy.{name} on device arrays"
    return proxy


class _FakeGenerator:
    """What ``fake.random.default_rng(seed)`` returns: NumPy's draws, handed out on the current device."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def __getattr__(self, name):
        attr = getattr(self._rng, name)
        if not callable(attr):
            return attr

        def draw(*args, **kwargs):  # parameters may be device arrays (poisson's rates), as CuPy takes them
            outmap = {}
            args, kwargs = _unwrap(args, outmap), {k: _unwrap(v, outmap) for k, v in kwargs.items()}
            return _wrap(attr(*args, **kwargs), current_device_id(), outmap)

        return draw


class _Runtime:
    def __init__(self, owner):
        self._owner = owner

    CUDARuntimeError = FakeCUDARuntimeError

    def getDeviceCount(self):
        return self._owner.device_count

    def getDevice(self):
        return current_device_id()

    def setDevice(self, i):
        FakeDevice(i).use()

    def deviceSynchronize(self):
        self._owner.synchronize_calls += 1


class _Cuda:
    def __init__(self, owner):
        self._owner = owner
        self.runtime = _Runtime(owner)

    def Device(self, device=None):
        return FakeDevice(device, _count=self._owner.device_count)

    def get_device_id(self):
        return current_device_id()


class _Random:
    def default_rng(self, seed=None):
        return _FakeGenerator(seed)


def _as_strided(x, shape=None, strides=None):
    """``cupy.lib.stride_tricks.as_strided``: a strided view of a device array, on its device."""
    return as_fake(np.lib.stride_tricks.as_strided(_plain(x), shape, strides), x._fake_device_id)


class FakeCupy(types.ModuleType):
    """A module object that looks like ``cupy`` to the engine; any NumPy name not defined here is
    forwarded to NumPy, with ufuncs and functions wrapped to work on (and return) device arrays."""

    ndarray = FakeCudaArray

    def __init__(self, device_count=2):
        super().__init__("fake_cupy", "A NumPy-backed stand-in for CuPy (tests only)")
        self.device_count = int(device_count)
        self.cuda = _Cuda(self)
        self.random = _Random()
        self.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))
        self.transfers = {"h2d": 0, "d2h": 0, "d2d": 0}
        self.synchronize_calls = 0

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(np, name)  # AttributeError for names NumPy lacks too
        if isinstance(attr, np.ufunc):
            return _UfuncProxy(attr)
        if callable(attr) and not isinstance(attr, type):
            return _function_proxy(attr, name)
        return attr  # dtypes, constants (pi, inf, newaxis)

    # ----- transfers -----
    def asarray(self, a, dtype=None, order=None):
        """Host -> device copy onto the current device (a device array on that device is returned as is)."""
        current = current_device_id()
        if isinstance(a, FakeCudaArray):
            if a._fake_device_id != current:
                self.transfers["d2d"] += 1
                a = as_fake(np.array(_plain(a), copy=True), current)
            return a if dtype is None else a.astype(dtype, copy=False)
        self.transfers["h2d"] += 1
        return as_fake(np.array(a, dtype=dtype, order=order or "K", copy=True), current)

    def array(self, obj, dtype=None, copy=True, order="K", ndmin=0):
        current = current_device_id()
        if isinstance(obj, FakeCudaArray) and obj._fake_device_id == current:
            out = np.array(_plain(obj), dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        else:
            self.transfers["d2d" if isinstance(obj, FakeCudaArray) else "h2d"] += 1
            src = _plain(obj) if isinstance(obj, FakeCudaArray) else obj
            out = np.array(src, dtype=dtype, copy=True, order=order, ndmin=ndmin)
        return as_fake(out, current)

    def asnumpy(self, a, stream=None, order="C", out=None):
        """Device -> host copy: always a plain ``numpy.ndarray``."""
        if isinstance(a, FakeCudaArray):
            self.transfers["d2h"] += 1
            return np.array(_plain(a), copy=True, order=order)
        return np.asarray(a, order=order)

    def get_array_module(self, *args):
        return self if any(isinstance(a, FakeCudaArray) for a in args) else np

    def is_fake(self):
        return True
