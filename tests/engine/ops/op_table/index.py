"""Op table entries: index family."""

from __future__ import annotations

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S, Tensor

# ----------------------------------------------------------------------------------------------
# indexing (engine/ops/index.py): x[index] and y[index] = value
# ----------------------------------------------------------------------------------------------

_IX = (4, 5, 3)
_ALL = slice(None)


def _ix_name(index) -> str:
    def one(i):
        if isinstance(i, slice):
            parts = ["" if v is None else str(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2] if i.step is None else parts)
        if i is Ellipsis:
            return "..."
        if isinstance(i, Tensor):
            return f"T{i.values}"
        return str(i)

    return ",".join(one(i) for i in (index if isinstance(index, tuple) else (index,)))


_GETITEM = [
    # basic
    *[1, -1, (1, 2), (1, 2, 0), (-1, -2, -3), slice(1, 3), slice(None, None, 2)],
    *[(slice(1, None, 2), slice(None, None, 3)), (_ALL, slice(1, 4, 2)), slice(-3, -1), (slice(-1), slice(-2, None))],
    *[slice(10, None), slice(2, 1), slice(-100, 100), slice(2, 2), Ellipsis, (Ellipsis, 1), (1, Ellipsis)],
    *[
        (1, Ellipsis, 2),
        None,
        (Ellipsis, None),
        (_ALL, None, _ALL, None),
        (None, Ellipsis, 0),
        (1, None, slice(2, None)),
    ],
    Tensor(2),
    # advanced: lists and index tensors, repeated so gradients accumulate
    *[[0, 2, 2], Tensor([0, 2, 0]), Tensor([-1, 0, -1]), ([0, 1], [1, 2]), ([1, 1, 1], [2, 2, 0], [0, 0, 0])],
    *[Tensor([[0, 1], [3, 3]]), (_ALL, [0, 0, 3]), (Ellipsis, [2, 0, 2]), (slice(1, None), [0, 2])],
    *[([0, 2], _ALL, [1, 1]), (_ALL, [[0], [4]], [1, 2]), ([0, 3], None)],
    *[(0, [1, 2]), ([0, 1], slice(1, 3), 2), (1, _ALL, [0, 0]), (-1, [0, 4], slice(1, None))],
    *[[], (_ALL, []), Tensor([], "int64")],
    # boolean masks
    *[[True, False, True, True], (Tensor([True, False, True, True]), 1), (Ellipsis, Tensor([False, True, True]))],
    *[True, False],
]


def _getitem_samples(dtype):
    out = [S(f"x[{_ix_name(i)}]", _IX, args=(i,)) for i in _GETITEM]
    return (
        out
        + [S("1d x[3]", (6,), args=(3,)), S("1d x[[5,5,0]]", (6,), args=([5, 5, 0],))]
        + [S(f"0d x[{_ix_name(i)}]", (), args=(i,)) for i in (None, Ellipsis)]
    )


def _setitem(m, x, *value, index, const=None):
    """``y = x * 1; y[index] = value; return y``: the value a tensor input or the Python ``const``."""
    y = x * 1
    y[index] = value[0] if value else const
    return y


def _setitem_samples(dtype):
    tensor_values = [
        (0, (5, 3)),
        (0, (3,)),
        ((_ALL, 1), (4, 3)),
        ((slice(1, 3), slice(None, None, 2)), (3,)),
        ((1, 2), ()),
        ((1, 2, 0), ()),
        ((Ellipsis, 0), (4, 5)),
        ((Ellipsis, 0), (4, 1)),
        ([0, 2], (5, 3)),
        (([0, 2], [1, 4]), (2, 3)),
        ((_ALL, [1, 3]), (4, 2, 3)),
        ((None, 1), (1, 5, 3)),
        (slice(1, None), (1, 5, 3)),
    ]
    constants = [(0, 0.0), ((_ALL, 1), 2.5), ((1, 2, 0), -1), (slice(None, None, 2), 3), ([0, 3], 1.0), (Ellipsis, 1.0)]
    out = [S(f"y[{_ix_name(i)}]=w{w}", _IX, w, kwargs={"index": i}) for i, w in tensor_values]
    out += [S(f"y[{_ix_name(i)}]={c}", _IX, kwargs={"index": i, "const": c}) for i, c in constants]
    if dtype == "float32":  # the value is cast to the target's dtype
        out.append(S("float64 value", (3, 4), (4,), dtypes=("float32", "float64"), kwargs={"index": 0}))
    if dtype == "int64":  # a float constant truncates
        out += [
            S(f"y[{_ix_name(i)}]={c}", (3, 4), kwargs={"index": i, "const": c}) for i, c in [(0, 2.7), ((1, 1), -1.9)]
        ]
    return out


def _getitem_error(name, index, exc, match):
    return ErrorInput(S(name, _IX, args=(index,)), exc, match)


INDEX = [
    OpInfo(
        "__getitem__",
        lambda m, x, index: x[index],
        _getitem_samples,
        error_inputs=lambda: [
            _getitem_error("int out of range", 4, IndexError, "index 4 is out of bounds for dimension 0 with size 4"),
            _getitem_error(
                "neg out of range", (0, -6), IndexError, "index -6 is out of bounds for dimension 1 with size 5"
            ),
            _getitem_error("list out of range", [0, 7], IndexError, "out of bounds"),
            _getitem_error("too many indices", (0, 0, 0, 0), IndexError, "too many indices for tensor of dimension 3"),
            _getitem_error("negative step", slice(None, None, -1), ValueError, "step must be greater than zero"),
            _getitem_error("float index", 1.5, IndexError, "only integers, slices"),
            _getitem_error(
                "mask shape",
                Tensor([True, False, True]),
                IndexError,
                "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [4, 5, 3]",
            ),
            _getitem_error(
                "float tensor index",
                Tensor([0.0, 1.0]),
                IndexError,
                "tensors used as indices must be long, int, byte or bool tensors",
            ),
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    ),
    OpInfo(
        "__setitem__",
        _setitem,
        _setitem_samples,
        error_inputs=lambda: [
            ErrorInput(
                S("shape mismatch", _IX, (4,), kwargs={"index": 0}), RuntimeError, "must match the existing size"
            )
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    ),
]
