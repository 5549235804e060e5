"""The one place that knows NumPy from CuPy: devices, their array modules, transfers between them, whether
an array is a host array, and which of an op's implementations runs a call.

A ``device`` is interned: ``device('cuda:0') is device('cuda', 0)``, so ops compare devices by
identity; a bare ``'cuda'`` means the current CUDA device (:func:`set_current_cuda_index`). The default
device (:func:`set_default_device`, or ``with device(...):``) is where factory functions given no device
make their tensors. The CUDA array module is CuPy when it imports and sees a GPU; tests may install a
stand-in module with :func:`install_cuda_module` to exercise the device plumbing on a machine without one.
"""

import contextlib
import ctypes
import re
import sys

import numpy as np

_DEVICE_RE = re.compile(r"^(cpu|cuda)(?::(0|[1-9]\d*))?$")
_devices = {}
_current_cuda_index = 0


class device:
    __slots__ = ("index", "type")

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int) and index is None:
            type_or_str, index = "cuda", type_or_str
        m = _DEVICE_RE.match(str(type_or_str)) if isinstance(type_or_str, str) else None
        if m is None:
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type_or_str}"
            )
        kind, idx = m.group(1), m.group(2)
        if idx is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type_or_str}")
            index = int(idx)
        if kind == "cpu":
            index = None
        elif index is None:
            index = _current_cuda_index
        key = (kind, index)
        dev = _devices.get(key)
        if dev is None:
            dev = object.__new__(cls)
            object.__setattr__(dev, "type", kind)
            object.__setattr__(dev, "index", index)
            _devices[key] = dev
        return dev

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return self is other

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        """``with device('cuda'):`` makes this the default device inside the block (nestable)."""
        global _default_device
        _outer_defaults.append(_default_device)
        _default_device = self
        return self

    def __exit__(self, *exc):
        global _default_device
        _default_device = _outer_defaults.pop()
        return False


CPU = device("cpu")
_default_device = CPU
_outer_defaults = []  # the default devices that enclosing ``with device(...)`` blocks will restore


def set_default_device(dev):
    """Make factory functions given no ``device`` create tensors on ``dev`` (None: the CPU)."""
    global _default_device
    _default_device = CPU if dev is None else device(dev)


def get_default_device():
    return _default_device


def factory_device(dev):
    """The device a factory function given ``device=dev`` creates its tensor on."""
    if dev is None:
        return _default_device
    return device(dev)

_cuda_module = None  # CuPy, or a stand-in installed by tests
_cuda_probe_done = False


def _probe_cupy():
    global _cuda_module, _cuda_probe_done
    _cuda_probe_done = True
    try:
        import cupy
    except Exception:  # CuPy absent or broken: no CUDA device
        return
    try:
        if cupy.cuda.runtime.getDeviceCount() > 0:
            _cuda_module = cupy
    except Exception:  # CuPy installed, but no driver or no GPU
        return


def cuda_module():
    """The CUDA array module (CuPy or the installed stand-in), or None."""
    if not _cuda_probe_done:
        _probe_cupy()
    return _cuda_module


def install_cuda_module(module):
    """Use ``module`` as the CUDA array module (a CuPy-compatible stand-in for tests); None removes it."""
    global _cuda_module, _cuda_probe_done
    _cuda_module = module
    _cuda_probe_done = module is not None


def cuda_device_count():
    mod = cuda_module()
    return 0 if mod is None else int(mod.cuda.runtime.getDeviceCount())


def current_cuda_index():
    return _current_cuda_index


def set_current_cuda_index(index):
    """Make CUDA device ``index`` current: where a bare ``'cuda'`` points and where CuPy allocates."""
    global _current_cuda_index
    array_module(device("cuda", index)).cuda.Device(index).use()
    _current_cuda_index = index


def array_module(dev):
    """``numpy`` for the CPU, CuPy (or its stand-in) for CUDA devices."""
    if dev is CPU:
        return np
    mod = cuda_module()
    if mod is None:
        raise RuntimeError(
            "Torch not compiled with CUDA enabled" if "cupy" not in sys.modules else
            "CUDA is not available: CuPy is installed but found no usable GPU"
        )
    if dev.index >= cuda_device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal (asked for {dev}, "
                           f"{cuda_device_count()} device(s) present)")
    return mod


class _NullContext:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL = _NullContext()


def device_context(dev):
    """A context manager that makes ``dev`` current for array allocation (a no-op on the CPU)."""
    if dev is CPU:
        return _NULL
    return array_module(dev).cuda.Device(dev.index)


def device_of(array):
    """The device an array of either module lives on."""
    where = getattr(array, "device", "cpu")  # NumPy 2 arrays say "cpu"; CuPy's carry a Device
    if isinstance(where, str):
        return CPU
    return device("cuda", int(where.id))


def transfer(array, src, dst):
    """Copy ``array`` from device ``src`` to ``dst`` (returns it unchanged when they are the same)."""
    if src is dst:
        return array
    if dst is CPU:
        return array_module(src).asnumpy(array)
    mod = array_module(dst)
    with mod.cuda.Device(dst.index):
        if src is CPU:
            return mod.asarray(array)
        return mod.array(array, copy=True)  # device to device, made on the current (target) device


def is_host(array):
    """Whether ``array`` is a host (NumPy) array, which the compiled CPU kernels and threaded paths take."""
    return array.__class__ is np.ndarray


class Implementation:
    """One way to compute an op. ``applies`` decides from shapes, dtypes, options and the array type alone
    (never a pass over the data); ``forward(node, *arrays, **options)`` and ``backward(node, *grads)`` keep
    on the node what they share. Ops list theirs, fastest first, in ``implementations``."""

    name = "generic"

    @staticmethod
    def applies(*arrays, **options):
        return True


_preferred = frozenset()
_disabled = frozenset()


def choose(implementations, arrays, options):
    """The implementation of an op that runs this call: the first that applies, among those :func:`prefer`
    names when one of them applies, and never one that :func:`disable` names."""
    if not (_preferred or _disabled):  # the usual case, in a tight loop: this runs on every op call
        for impl in implementations:
            if impl.applies(*arrays, **options):
                return impl
    elif _preferred:
        for impl in implementations:
            if impl.name in _preferred and impl.applies(*arrays, **options):
                return impl
    for impl in implementations:
        if impl.name not in _disabled and impl.applies(*arrays, **options):
            return impl
    raise RuntimeError(f"no implementation of this op takes the call (disabled: {sorted(_disabled)})")


def prefer(*names):
    """Within the block, ops take the named implementations wherever they apply (for tests and benchmarks)."""
    return _joined("_preferred", names)


def disable(*names):
    """Within the block, ops never take the named implementations (for tests and benchmarks)."""
    return _joined("_disabled", names)


@contextlib.contextmanager
def _joined(setting, names):
    """Within the block, the module's name set ``setting`` also holds ``names``."""
    module = globals()
    saved = module[setting]
    module[setting] = saved | frozenset(names)
    try:
        yield
    finally:
        module[setting] = saved


def _tune_allocator():
    """Keep freed large blocks in glibc's heap instead of returning them to the OS.

    Every op allocates its result; without this each multi-megabyte result is a fresh mmap whose pages
    fault in on first touch, which costs as much as the arithmetic on it.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, (1 << 31) - 1)


_tune_allocator()
