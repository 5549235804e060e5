"""Anomaly mode, as ``torch.autograd.detect_anomaly`` / ``set_detect_anomaly``: while it is on, every op's
forward output and every backward node's gradients are checked for values that are not finite, and the first
op whose result is not finite is recorded (``NonFiniteOrigin``): its name, forward or backward, the module it
ran inside and statistics of its inputs and outputs. As in PyTorch, a backward node that returns NaN raises
``RuntimeError`` ("Function 'SqrtBackward0' returned nan values in its 0th output.").

Off, it costs one flag test per op (``Op.apply``, ``untracked``), per module call and per backward node.
"""

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np

from ..backend import array_module, device_of, is_host
from ..dtypes import FLOAT_KINDS
from ..tensor import Tensor


class _State:
    __slots__ = ("check_nan", "enabled", "forward", "modules", "names", "origin")

    def __init__(self):
        self.enabled = False
        self.check_nan = True
        self.origin = None  # the first NonFiniteOrigin since anomaly mode was turned on
        self.modules = []  # the modules whose forward is running, innermost last
        self.names = {}  # module or id(tensor) -> the name to report it by
        self.forward = {}  # graph node -> (module, input tensors), to describe a backward by its forward


state = _State()


@dataclass(frozen=True)
class TensorStats:
    """A tensor's shape, dtype, counts of values that are not finite (and of those, NaN), and min, max, mean and
    std of the finite ones (NaN when there are none); ``name``: the parameter it is, when known."""

    shape: tuple
    dtype: str
    non_finite: int
    nan: int
    min: float
    max: float
    mean: float
    std: float
    name: str | None = None

    @classmethod
    def of(cls, array, name=None):
        xp = np if is_host(array) else array_module(device_of(array))
        if array.dtype.kind not in FLOAT_KINDS:
            values, bad, nan = array.astype(np.float64).reshape(-1), 0, 0
        else:
            finite = xp.isfinite(array)
            values = array[finite].astype(np.float64)
            bad = int(array.size - int(finite.sum()))
            nan = int(xp.isnan(array).sum()) if bad else 0
        stats = (float(values.min()), float(values.max()), float(values.mean()), float(values.std())) \
            if values.size else (float("nan"),) * 4
        return cls(tuple(array.shape), str(array.dtype), bad, nan, *stats, name=name)

    @property
    def size(self):
        return math.prod(self.shape)

    def describe(self):
        """'fc.weight [4×3] min 0, max 2, mean 1, std 0.5' and, when some are not finite, how many."""
        shape = "×".join(str(s) for s in self.shape) or "scalar"
        text = f"{self.name + ' ' if self.name else ''}[{shape}]"
        if self.non_finite < self.size:
            text += f" min {self.min:.4g}, max {self.max:.4g}, mean {self.mean:.4g}, std {self.std:.4g}"
        if not self.non_finite:
            return text
        kinds = " and ".join(f"{n} {kind}" for n, kind in ((self.non_finite - self.nan, "inf"), (self.nan, "NaN"))
                             if n)
        return f"{text}{',' if self.non_finite < self.size else ''} {kinds} of {self.size}"


@dataclass(frozen=True)
class NonFiniteOrigin:
    """The first op whose result was not finite. ``op``: its name (``exp``); ``node``: its graph node's name
    (``ExpBackward0``); ``direction``: 'forward' or 'backward'; ``module``: the name of the module it ran
    inside (None outside any) and ``module_type`` its class; ``inputs``: the op's forward inputs; ``outputs``:
    what it produced (for a backward, the gradients of its inputs); ``grad_outputs``: for a backward, the
    gradients that flowed in. ``inputs_finite``: False when an input was already not finite (a parameter or a
    constant), so the op passed the value on rather than made it."""

    op: str
    node: str
    direction: str
    module: str | None
    module_type: str | None
    inputs: tuple
    outputs: tuple
    grad_outputs: tuple = ()
    inputs_finite: bool = True

    def where(self):
        """"layer 'fc1' (Linear)", the class of an unnamed module ('CrossEntropyLoss'), or '' outside modules."""
        if self.module:
            return f"layer '{self.module}' ({self.module_type})"
        return self.module_type or ""

    def describe(self):
        """One or two sentences: the op, the direction, the layer, and its inputs' statistics."""
        op = f"{self.op} (forward)" if self.direction == "forward" else f"the backward of {self.op} ({self.node})"
        where = f" in {self.where()}" if self.where() else " outside any module"
        if not self.inputs_finite:
            bad = "; ".join(s.describe() for s in (*self.inputs, *self.grad_outputs) if s.non_finite)
            return f"the first op whose result is not finite is {op}{where}, and an input was already not finite: {bad}"
        made = "; ".join(s.describe() for s in self.outputs if s.non_finite)
        inputs = "; ".join(s.describe() for s in self.inputs) or "not recorded"
        text = f"the first op to make a value that is not finite is {op}{where}: it made {made} from finite inputs " \
               f"({inputs})"
        if self.grad_outputs:
            text += f" and finite incoming gradients ({'; '.join(s.describe() for s in self.grad_outputs)})"
        return text


def forward_name(node_name):
    """``AddmmBackward0`` -> ``addmm``, ``LogSoftmaxBackward0`` -> ``log_softmax``."""
    base = re.sub(r"Backward\d*$", "", node_name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


class set_detect_anomaly:
    """Turn anomaly mode on or off (``mode``) until the block ends; ``check_nan``: raise when a backward node
    returns NaN. ``names`` (an engine extension): modules and parameters to report by name, such as
    ``dict(model.named_modules())`` and ``dict(model.named_parameters())`` merged (name -> object)."""

    def __init__(self, mode, check_nan=True, *, names=None):
        self.prev = (state.enabled, state.check_nan, state.origin, state.names, state.forward, state.modules)
        self.ended, self.found = False, None
        state.enabled, state.check_nan = bool(mode), bool(check_nan)
        if mode:
            state.origin, state.forward, state.modules = None, {}, []
            state.names = {_key(obj): name for name, obj in (names or {}).items()}

    @property
    def origin(self):
        """The first ``NonFiniteOrigin`` since the block began (until it ended), or None."""
        return self.found if self.ended else state.origin

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.ended, self.found = True, state.origin
        state.enabled, state.check_nan, state.origin, state.names, state.forward, state.modules = self.prev


class detect_anomaly(set_detect_anomaly):
    """``with detect_anomaly():`` anomaly mode on for the block (``as`` gives the object whose ``origin`` is the
    first op whose result was not finite)."""

    def __init__(self, check_nan=True, *, names=None):
        self.check_nan, self.names = check_nan, names
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        super().__init__(True, self.check_nan, names=self.names)
        return self


def is_anomaly_enabled():
    return state.enabled


def is_anomaly_check_nan_enabled():
    return state.check_nan


def _key(obj):
    return id(obj) if isinstance(obj, Tensor) else obj


def _arrays(values):
    return [v._data if isinstance(v, Tensor) else v for v in values if v is not None]


def _all_finite(arrays):
    for a in arrays:
        if a.dtype.kind in FLOAT_KINDS:
            xp = np if is_host(a) else array_module(device_of(a))
            if not bool(xp.isfinite(a).all()):
                return False
    return True


def _stats(values):
    return tuple(TensorStats.of(v._data if isinstance(v, Tensor) else v,
                                state.names.get(id(v)) if isinstance(v, Tensor) else None)
                 for v in values if v is not None)


def _named(module):
    """``(name, class name)`` of the module an op ran inside; ``(None, None)`` outside any."""
    if module is None:
        return None, None
    return state.names.get(module), type(module).__name__


def forward_inside(module, args, kwargs):
    """``module.forward`` with ``module`` as the current module, for the ops it runs to report."""
    state.modules.append(module)
    try:
        return module.forward(*args, **kwargs)
    finally:
        state.modules.pop()


def check_forward(node, inputs, out):
    """After op ``node`` made ``out`` (an array or a tuple of them) from tensors ``inputs``."""
    module = state.modules[-1] if state.modules else None
    if state.origin is None:
        outs = out if out.__class__ is tuple else (out,)
        if not _all_finite(outs):
            name, kind = _named(module)
            state.origin = NonFiniteOrigin(forward_name(node.name()), node.name(), "forward", name, kind,
                                           _stats(inputs), _stats(outs), (), _all_finite(_arrays(inputs)))
    state.forward[node] = (module, tuple(inputs))


def check_backward(node, grads, in_grads):
    """After graph node ``node`` turned the gradients ``grads`` of its outputs into ``in_grads``."""
    outs = _arrays(in_grads)
    if state.origin is None and not _all_finite(outs):
        module, inputs = state.forward.get(node, (None, ()))
        finite = _all_finite(_arrays(grads)) and _all_finite(_arrays(inputs))
        state.origin = NonFiniteOrigin(forward_name(node.name()), node.name(), "backward", *_named(module),
                                       _stats(inputs), _stats(outs), _stats(grads), finite)
    if state.check_nan:
        for i, g in enumerate(in_grads):
            if g is None:
                continue
            a = g._data if isinstance(g, Tensor) else g
            xp = np if is_host(a) else array_module(device_of(a))
            if a.dtype.kind in FLOAT_KINDS and bool(xp.isnan(a).any()):
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
