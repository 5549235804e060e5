"""Tensor formatting that reproduces PyTorch's ``repr(tensor)`` output.

This module is a clean port of the rules in ``torch/_tensor_str.py`` (PyTorch 2.13)
for dense, strided, real-valued tensors held as NumPy arrays.  It knows nothing
about the engine's Tensor class: the caller hands over the host values, the dtype
name and the already computed ``key=value`` suffixes, and gets back the string.

Public API:

* :func:`format_tensor` -- the repr of one tensor.
* :func:`set_printoptions` / :func:`get_printoptions` / :func:`printoptions` --
  module-level print options mirroring ``torch.set_printoptions``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .dtypes import FLOAT_KINDS

__all__ = ["format_tensor", "get_printoptions", "printoptions", "set_printoptions"]

# The engine's default floating dtype: tensors of this dtype, of int64 and of bool
# do not print a ``dtype=`` suffix (empty tensors only omit it for this one).
_DEFAULT_DTYPE = "float32"
_IMPLICIT_DTYPES = frozenset({_DEFAULT_DTYPE, "int64", "bool"})
_DTYPE_PREFIX = "torch."  # dtypes print with PyTorch's names, as ``repr(engine.float16)`` does
_PREFIX = "tensor("


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the print options, with the same semantics as ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") is applied first and the explicit
    arguments override it.  As in PyTorch, ``sci_mode`` is always assigned, so a
    call that leaves it out resets it to automatic (``None``).
    """
    if profile is not None:
        # PyTorch silently ignores unknown profile names; so do we.
        for key, value in _PROFILES.get(profile, {}).items():
            setattr(_OPTS, key, value)
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as keyword arguments for :func:`set_printoptions`."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options (same arguments as :func:`set_printoptions`)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------------------
# Element formatter
# ---------------------------------------------------------------------------


class _Formatter:
    """Decides one element format (int/fixed/scientific) and width for a whole tensor.

    ``sample`` holds the values the decision is based on: the whole tensor, or only
    its edge items when the tensor is summarised.
    """

    def __init__(self, sample: np.ndarray) -> None:
        self.floating = sample.dtype.kind in FLOAT_KINDS
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = sample.reshape(-1)

        if not self.floating:
            # Integers and bools: widest of their ``str`` forms.
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(str(value)))
            return

        finite_nonzero = flat[np.isfinite(flat) & (flat != 0)]
        if finite_nonzero.size == 0:
            return

        magnitudes = np.abs(finite_nonzero)
        smallest = float(magnitudes.min())
        largest = float(magnitudes.max())
        self.int_mode = bool(np.all(finite_nonzero == np.ceil(finite_nonzero)))
        if _OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = _OPTS.sci_mode

        values = finite_nonzero.tolist()
        precision = _OPTS.precision
        if self.sci_mode:
            widths = (len(f"{v:.{precision}e}") for v in values)
        elif self.int_mode:
            # Room for the trailing "." that marks an integer-valued float.
            widths = (len(f"{v:.0f}") + 1 for v in values)
        else:
            widths = (len(f"{v:.{precision}f}") for v in values)
        self.max_width = max(self.max_width, *widths)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{_OPTS.precision}f}"
        return text.rjust(self.max_width)


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------


def _summarized_values(values: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (``get_summarized_data``), flattened.

    Only the set of values matters to the formatter, so the stacking PyTorch does
    is replaced by a flat concatenation.
    """
    edge = _OPTS.edgeitems
    if values.ndim == 0:
        return values.reshape(-1)
    if values.ndim == 1:
        if values.shape[0] > 2 * edge:
            # Mirrors PyTorch exactly, including ``x[-0:]`` meaning the whole
            # vector when edgeitems is 0.
            return np.concatenate((values[:edge], values[-edge:]))
        return values
    if not edge:
        return values[:0].reshape(-1)
    if values.shape[0] > 2 * edge:
        rows = [*range(edge), *range(values.shape[0] - edge, values.shape[0])]
    else:
        rows = range(values.shape[0])
    return np.concatenate([_summarized_values(values[i]).reshape(-1) for i in rows])


def _vector_str(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    element_length = formatter.width() + 2  # element plus ", "
    per_line = max(1, (_OPTS.linewidth - indent) // element_length)
    edge = _OPTS.edgeitems

    if summarize and not edge:
        data = ["..."]
    elif summarize and values.shape[0] > 2 * edge:
        data = [
            *(formatter.format(v) for v in values[:edge].tolist()),
            " ...",
            *(formatter.format(v) for v in values[-edge:].tolist()),
        ]
    else:
        data = [formatter.format(v) for v in values.tolist()]

    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, formatter)

    edge = _OPTS.edgeitems
    count = values.shape[0]
    if summarize and count > 2 * edge:
        slices = [
            *(_nested_str(values[i], indent + 1, summarize, formatter) for i in range(edge)),
            "...",
            *(_nested_str(values[i], indent + 1, summarize, formatter) for i in range(count - edge, count)),
        ]
    else:
        slices = [_nested_str(values[i], indent + 1, summarize, formatter) for i in range(count)]

    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _body_str(values: np.ndarray, indent: int) -> str:
    if values.size == 0:
        return "[]"
    summarize = values.size > _OPTS.threshold
    formatter = _Formatter(_summarized_values(values) if summarize else values)
    return _nested_str(values, indent, summarize, formatter)


def _add_suffixes(body: str, suffixes: list[tuple[str, int]], indent: int) -> str:
    """Append ``(text, measured_length)`` suffixes, wrapping as PyTorch does."""
    parts = [body]
    # PyTorch's own arithmetic (including its off-by-two when there is no newline).
    last_line_len = len(body) - body.rfind("\n") + 1
    for suffix, length in suffixes:
        if last_line_len + length + 2 > _OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + length
        else:
            parts.append(", " + suffix)
            last_line_len += length + 2
    parts.append(")")
    return "".join(parts)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def format_tensor(values: Any, dtype_name: str, suffixes: list[str]) -> str:
    """Return the PyTorch-style ``repr`` of a tensor.

    Args:
        values: the tensor's elements as a host NumPy array (any shape, including
            0-d and empty).
        dtype_name: the engine dtype name, e.g. ``"float32"``, ``"int64"``, ``"bool"``.
        suffixes: ``key=value`` strings computed by the caller, such as
            ``"device='cuda:0'"``, ``"requires_grad=True"`` or
            ``"grad_fn=<AddBackward0>"``.  As in PyTorch, ``device=`` suffixes are
            placed before the ``size=``/``dtype=`` ones; all others follow them, in
            the given order.

    Example::

        >>> format_tensor(np.full((2, 2), 4.5, dtype=np.float32), "float32", [])
        'tensor([[4.5000, 4.5000],\\n        [4.5000, 4.5000]])'
    """
    values = np.asarray(values)
    indent = len(_PREFIX)
    if values.size == 0:
        # Show the shape unless it is (0,), and always show a non-default dtype
        # since there are no elements to infer it from.
        show_size = values.ndim != 1
        show_dtype = dtype_name != _DEFAULT_DTYPE
        body = "[]"
    else:
        show_size = not _OPTS.edgeitems
        show_dtype = dtype_name not in _IMPLICIT_DTYPES
        body = _body_str(values, indent)

    # Each suffix goes with the length its line-wrap decision uses.
    measured = [(s, len(s)) for s in suffixes if s.startswith("device=")]
    if show_size:
        size = f"size={tuple(values.shape)}"
        measured.append((size, len(size)))
    if show_dtype:
        dtype_text = f"dtype={_DTYPE_PREFIX}{dtype_name}"
        measured.append((dtype_text, len(dtype_text)))
    measured += [(s, len(s)) for s in suffixes if not s.startswith("device=")]
    return _add_suffixes(_PREFIX + body, measured, indent)
