"""The engine's ops, each described once as data (PyTorch's OpInfo idea); a helper module, not a test file.

An ``OpInfo`` names an op, says how to call it (``op(m, *tensors, *args, **kwargs)`` with ``m`` the
``engine`` or ``torch`` module, so one lambda serves both; ``torch_op`` where torch spells it differently),
gives its sample inputs and error inputs, the dtypes and devices it takes, whether gradients apply, its
tolerances and the known mismatches with PyTorch (``xfails``). ``test_op_table.py`` expands the table over
op × dtype × device × sample and compares with PyTorch through ``optest``.

Sample functions take the dtype under test and return ``SampleInput``s: shapes (random values) or NumPy
arrays (cast to the dtype under test), Python values as ``args``/``kwargs``. A sample that names its own
``dtypes`` (type promotion) is given with the float32 run only. Special values (NaN, ±inf, kinks, extreme
logits) are given for floating dtypes and skip finite differences (``gradcheck=False``).

Double backward: an entry whose op has a ``backward_graph`` formula claims ``supports_gradgrad``; the generic
``test_double_backward`` then runs ``gradgradcheck`` on its samples and compares one direction with torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float32", "float64")
FLOATS_AND_INT = (*FLOATS, "int64")
DEVICES = ("cpu", "cuda")


def is_float(dtype: str) -> bool:
    return dtype.startswith("float")


@dataclass(frozen=True)
class DType:
    """A dtype argument (``x.to(DType("float64"))``), resolved to ``m.float64`` on each side."""

    name: str

    def resolve(self, m):
        return getattr(m, self.name)


@dataclass(frozen=True)
class Tensor:
    """A constant tensor argument (an index tensor: ``x[Tensor([0, 2])]``), made with ``m.tensor`` on each side."""

    values: object
    dtype: str | None = None

    def resolve(self, m):
        return m.tensor(self.values, dtype=None if self.dtype is None else getattr(m, self.dtype))


def resolve(arg, m):
    """A sample's Python argument for module ``m``: ``DType``/``Tensor`` resolved, also inside tuples."""
    if isinstance(arg, (DType, Tensor)):
        return arg.resolve(m)
    if isinstance(arg, tuple):
        return tuple(resolve(a, m) for a in arg)
    return arg


@dataclass(frozen=True)
class SampleInput:
    """One call: ``inputs`` become tensors (a shape gives random values, an array is used as is)."""

    name: str
    inputs: tuple
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple | None = None  # per input, None: the dtype under test
    grad: bool | tuple = True
    low: float = -2
    high: float = 2
    positive: bool = False
    gradcheck: bool = True  # False at kinks, NaN and extremes, where finite differences mean nothing
    atol: float | None = None
    rtol: float | None = None

    def input_dtypes(self, dtype: str) -> list[str]:
        if self.dtypes is None:
            return [dtype] * len(self.inputs)
        return [dtype if d is None else d for d in self.dtypes]

    def arrays_or_shapes(self, dtype: str) -> list:
        return [
            spec.astype(d) if isinstance(spec, np.ndarray) else spec
            for spec, d in zip(self.inputs, self.input_dtypes(dtype), strict=True)
        ]


def S(name: str, *inputs, **options) -> SampleInput:
    return SampleInput(name, tuple(inputs), **options)


@dataclass(frozen=True)
class ErrorInput:
    """A call that must raise ``exc`` with ``match`` in its message, as torch does."""

    sample: SampleInput
    exc: type[BaseException]
    match: str


@dataclass(frozen=True)
class XFail:
    """A known mismatch with PyTorch; ``None`` fields match anything."""

    reason: str
    dtype: str | None = None
    device: str | None = None
    sample: str | None = None

    def applies(self, dtype: str, device: str, sample: str) -> bool:
        return all(
            want in (None, got) for want, got in ((self.dtype, dtype), (self.device, device), (self.sample, sample))
        )


@dataclass(frozen=True)
class OpInfo:
    name: str
    op: Callable
    sample_inputs: Callable[[str], Iterable[SampleInput]]
    torch_op: Callable | None = None
    variants: dict[str, Callable] = field(default_factory=dict)  # method/operator spellings, same signature
    ref: Callable | None = None  # NumPy reference, for runs without torch
    error_inputs: Callable[[], Iterable[ErrorInput]] = lambda: ()
    dtypes: tuple[str, ...] = FLOATS
    devices: tuple[str, ...] = DEVICES
    supports_grad: bool = True
    supports_gradgrad: bool = False
    tolerances: dict[str, tuple[float, float]] = field(default_factory=dict)  # dtype -> (atol, rtol)
    implementations: tuple[str, ...] = ()  # names the forward test prefers in turn (engine.backend.prefer)
    xfails: tuple[XFail, ...] = ()

    def samples(self, dtype: str) -> list[SampleInput]:
        samples = list(self.sample_inputs(dtype))
        names = [s.name for s in samples]
        assert len(set(names)) == len(names), f"{self.name}: sample names repeat: {names}"
        return samples

    def call(self, fn: Callable, sample: SampleInput) -> Callable:
        """``fn`` as ``optest.check`` calls it: ``(m, *tensors)``, the sample's Python arguments bound."""

        def bound(m, *tensors):
            args = [resolve(a, m) for a in sample.args]
            kwargs = {k: resolve(v, m) for k, v in sample.kwargs.items()}
            return fn(m, *tensors, *args, **kwargs)

        return bound


def _a(*values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def call_error(name, call, inputs, exc, match):
    """An error input carrying its whole call (``call(m, x)``), for arguments the table cannot resolve."""
    return ErrorInput(S(name, *inputs, kwargs={"call": call}), exc, match)


def with_call_errors(fn):
    """``fn(m, *xs, **kw)``, or the error input's whole call when it carries one (see ``call_error``)."""

    def op(m, *xs, call=None, **kw):
        return call(m, *xs) if call is not None else fn(m, *xs, **kw)

    return op
