"""The engine's dtypes (``engine.float32``, ``engine.long``, ...) and PyTorch's type-promotion rules."""

import ml_dtypes
import numpy as np


class dtype:
    """A tensor element type; wraps the NumPy dtype that stores it."""

    __slots__ = ("category", "is_floating_point", "itemsize", "name", "np")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2

    def __repr__(self):  # PyTorch's spelling: code written for torch prints and compares these
        return f"torch.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))

    @property
    def is_signed(self):
        return self.category == 2 or self.np.kind == "i"


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2)  # NumPy arrays of ml_dtypes' bfloat16 (CPU only)

# NumPy's kind of the float dtypes: "f", and "V" for ml_dtypes' bfloat16 (the engine holds no other "V").
FLOAT_KINDS = "fV"

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, bfloat16)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
ALIASES = {
    "bool": bool_, "uint8": uint8, "int8": int8, "short": int16, "int16": int16, "int": int32,
    "int32": int32, "long": int64, "int64": int64, "half": float16, "float16": float16,
    "float": float32, "float32": float32, "double": float64, "float64": float64, "bfloat16": bfloat16,
}

_default_float = float32

# PyTorch's legacy scalar-type names, which its error messages use ("Float", "Long", ...)
_LEGACY_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "bfloat16": "BFloat16"}


def legacy_name(np_dtype):
    """``Float`` for float32, ``Long`` for int64, ...: how PyTorch's messages name a dtype."""
    name = np.dtype(np_dtype).name
    return _LEGACY_NAMES.get(name, name)


def from_name(name):
    return _BY_NAME[name]


def from_numpy(np_dtype):
    """The engine dtype of a NumPy dtype; a clear TypeError for the ones we do not support."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        try:
            return _BY_NP[np.dtype(np_dtype)]
        except (KeyError, TypeError):
            raise TypeError(
                f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
                "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
            ) from None


def to_dtype(d):
    """Accept an engine dtype, a NumPy dtype, a Python type or a name; return an engine dtype."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        key = d[len("torch."):] if d.startswith("torch.") else d
        if key in ALIASES:
            return ALIASES[key]
    return from_numpy(d)


def check_device(dt, dev):
    """Refuse bfloat16 off the CPU: CuPy has no bfloat16 arrays."""
    if dt is bfloat16 and dev.type != "cpu":
        raise TypeError(f"bfloat16 is not supported on device {dev}: CuPy has no bfloat16 arrays (keep "
                        "bfloat16 tensors on the CPU, or use float16 on the GPU)")


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    """The dtype of Python floats made tensors and of factory functions' results: a floating engine dtype
    only (PyTorch refuses ``float``, names and NumPy dtypes too)."""
    global _default_float
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the default type")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def scalar_category(value):
    if isinstance(value, (bool, np.bool_)):
        return 0
    if isinstance(value, (int, np.integer)):
        return 1
    return 2


def default_for_category(category):
    return (bool_, int64, _default_float)[category]


def promote(a, b):
    """Promote two engine dtypes of the same standing, the way torch.promote_types does."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return from_numpy(np.promote_types(a.np, b.np))


def result_type(a_dtype, a_dim, b_dtype, b_dim):
    """PyTorch's result type for a binary op; a ``b_dim`` of None marks a Python scalar.

    Dimensioned tensors outrank zero-dim tensors, which outrank Python scalars, except that an operand
    of a higher category (bool < integer < floating) always lifts the result into its category.
    """
    if b_dim is None:
        cat = b_dtype
        if cat <= a_dtype.category:
            return a_dtype
        return default_for_category(cat)
    a_rank = 1 if a_dim else 0
    b_rank = 1 if b_dim else 0
    if a_rank == b_rank:
        return promote(a_dtype, b_dtype)
    hi, lo = (a_dtype, b_dtype) if a_rank > b_rank else (b_dtype, a_dtype)
    if lo.category > hi.category:
        return lo
    return hi
