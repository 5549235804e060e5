"""Op table entries: rotations, splits, windows, interleaving and combinations (engine/ops/rotate.py,
splits.py, unfold.py, interleave.py, combine.py)."""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S, Tensor


def _samples(*samples):
    return lambda dtype: list(samples)


def _op(name, samples, errors=(), method=True, function=True, **options):
    """``m.name(x, ...)`` (or ``x.name(...)`` where torch has no function), the other spelling a variant."""
    as_method = lambda m, x, *a, **k: getattr(x, name)(*a, **k)  # noqa: E731
    as_function = lambda m, *xs, **k: getattr(m, name)(*xs, **k)  # noqa: E731
    variants = {"method": as_method} if method and function else {}
    return OpInfo(
        name,
        as_function if function else as_method,
        samples,
        variants=variants,
        error_inputs=lambda: errors,
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        **options,
    )


def _err(name, shapes, args, exc, match, **kwargs):
    return ErrorInput(S(name, *shapes, args=args, **kwargs), exc, match)


_P = (3, 4)
_X3 = (2, 3, 4)

SHAPE_EXTRA = [
    _op(
        "roll",
        _samples(
            S("flat", _P, args=(5,)),
            S("dim 1", _P, args=(1, 1)),
            S("negative dim and shift", _P, args=(-2, -1)),
            S("two dims", _X3, kwargs={"shifts": (1, -5), "dims": (0, 2)}),
            S("shift tuple flat", _P, args=((3,),)),
            S("0d", (), args=(2,)),
            S("empty", (0, 3), args=(1, 0)),
        ),
        [
            _err("misaligned", [_P], ((1, 2),), RuntimeError, "shifts and dimensions must align. shifts: 2, dims:0"),
            _err("dim out of range", [_P], (1, 2), IndexError, "Dimension out of range"),
        ],
    ),
    _op(
        "rot90",
        _samples(
            S("k=1", _P),
            S("k=2", _P, args=(2,)),
            S("k=3", _P, args=(3,)),
            S("k=-1", _P, args=(-1,)),
            S("k=4", _P, args=(4,)),
            S("dims 2,0", _X3, args=(1, (2, 0))),
            S("dims -1,-2", _X3, kwargs={"k": 1, "dims": [-1, -2]}),
            S("empty", (0, 3)),
        ),
        [
            _err(
                "same dims",
                [_P],
                (1, (0, -2)),
                RuntimeError,
                "expected rotation dims to be different, but got dim0 = 0 and dim1 = -2",
            ),
            _err(
                "three dims", [_X3], (1, (0, 1, 2)), RuntimeError, "expected total rotation dims == 2, but got dims = 3"
            ),
            _err("1d", [(3,)], (), RuntimeError, "expected total dims >= 2, but got total dims = 1"),
        ],
    ),
    _op("fliplr", _samples(S("2d", _P), S("3d", _X3)), [_err("1d", [(3,)], (), RuntimeError, "Input must be >= 2-d.")]),
    _op("flipud", _samples(S("1d", (4,)), S("2d", _P)), [_err("0d", [()], (), RuntimeError, "Input must be >= 1-d.")]),
    _op(
        "tensor_split",
        _samples(
            S("sections", (7, 2), args=(3,)),
            S("more sections than rows", (3, 2), args=(5,)),
            S("indices", _P, args=([1, 3],), kwargs={"dim": 1}),
            S("unsorted indices", (5, 2), args=((3, 1),)),
            S("index beyond", (3, 2), args=([2, 9],)),
            S("negative dim", _X3, args=(2, -1)),
            S("tensor sections", (5, 2), args=(Tensor(2),)),
            S("tensor indices", _P, args=(Tensor([1, 2]), 1)),
            S("empty", (0, 3), args=(2,)),
        ),
        [
            _err("0 sections", [_P], (0,), RuntimeError, "number of sections must be larger than 0, got 0"),
            _err("0d", [()], (2,), RuntimeError, "expected at least a 1-dimensional tensor"),
            _err("2d indices", [_P], (Tensor([[1]]),), RuntimeError, "zero-dimensional or one-dimensional tensor"),
        ],
    ),
    *[
        _op(name, _samples(*samples), errors)
        for name, samples, errors in [
            (
                "hsplit",
                [S("2d", (3, 6), args=(3,)), S("1d", (6,), args=(2,)), S("indices", (3, 6), args=([1, 4],))],
                [
                    _err("0d", [()], (2,), RuntimeError, "torch.hsplit requires a tensor with at least 1 dimension"),
                    _err(
                        "indivisible",
                        [_P],
                        (3,),
                        RuntimeError,
                        "the size of the dimension 4 is not divisible by the split_size 3",
                    ),
                ],
            ),
            (
                "vsplit",
                [S("2d", (6, 2), args=(2,)), S("indices", (6, 2), args=([2],))],
                [_err("1d", [(4,)], (2,), RuntimeError, "torch.vsplit requires a tensor with at least 2 dimension")],
            ),
            (
                "dsplit",
                [S("3d", (2, 2, 6), args=(3,)), S("indices", (2, 2, 6), args=([1, 5],))],
                [_err("2d", [_P], (2,), RuntimeError, "torch.dsplit requires a tensor with at least 3 dimension")],
            ),
        ]
    ],
    _op(
        "unfold",
        _samples(
            S("size 2 step 1", _P, args=(1, 2, 1)),
            S("step 2", (3, 7), args=(1, 3, 2)),
            S("dim 0 negative", _X3, args=(-3, 1, 1)),
            S("step beyond size", (9, 2), args=(0, 2, 4)),
            S("whole", _P, args=(1, 4, 1)),
            S("size 0", _P, args=(1, 0, 1)),
            S("0d", (), args=(0, 1, 1)),
        ),
        [
            _err(
                "too large", [_P], (1, 5, 1), RuntimeError, "maximum size for tensor at dimension 1 is 4 but size is 5"
            ),
            _err("step 0", [_P], (1, 2, 0), RuntimeError, "step is 0 but must be > 0"),
            _err("negative size", [_P], (1, -1, 1), RuntimeError, "size is -1 but must be >= 0"),
        ],
        function=False,
    ),
    _op(
        "repeat_interleave",
        _samples(
            S("int flat", _P, args=(2,)),
            S("int dim", _P, args=(3, 1)),
            S("tensor dim", _P, args=(Tensor([1, 0, 2]), 0)),
            S("0d tensor", _P, args=(Tensor(2), -1)),
            S("one-element tensor", _P, args=(Tensor([2]), 1)),
            S("output_size", _P, args=(Tensor([2, 1, 1]),), kwargs={"dim": 0, "output_size": 4}),
            S("0d input", (), args=(3,)),
            S("zero repeats", _P, args=(0, 1)),
        ),
        [
            _err(
                "size mismatch",
                [_P],
                (Tensor([1, 2]), 0),
                RuntimeError,
                "repeats must have the same size as input along dim",
            ),
            _err("negative", [_P], (-1,), RuntimeError, "Repeats must be non-negative"),
            _err("negative tensor", [_P], (Tensor([1, -2, 0]), 0), RuntimeError, "repeats can not be negative"),
            _err("2d repeats", [_P], (Tensor([[1]]), 0), RuntimeError, "repeats must be 0-dim or 1-dim tensor"),
            _err(
                "output_size",
                [_P],
                (2, 0),
                RuntimeError,
                "Invalid output_size, expected 6 but got 5",
                kwargs={"output_size": 5},
            ),
        ],
    ),
    OpInfo(
        "repeat_interleave(repeats)",
        lambda m, r: m.repeat_interleave(r),
        _samples(S("counts", np.array([1, 0, 3]), dtypes=("int64",))),
        dtypes=("int64",),
        supports_grad=False,
    ),
    _op(
        "moveaxis",
        _samples(S("one", _X3, args=(0, -1)), S("two", _X3, args=((0, 1), (2, 0)))),
    ),
    OpInfo(
        "meshgrid",
        lambda m, *xs, **k: m.meshgrid(*xs, **k),
        _samples(
            S("ij", (2,), (3,), kwargs={"indexing": "ij"}),
            S("xy", (2,), (3,), (4,), kwargs={"indexing": "xy"}),
            S("one", (3,), kwargs={"indexing": "xy"}),
            S("0d", (), (3,), kwargs={"indexing": "xy"}),
            S("empty", (0,), (3,), kwargs={"indexing": "ij"}),
        ),
        variants={"list": lambda m, *xs, **k: m.meshgrid(list(xs), **k)},
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        error_inputs=lambda: [
            ErrorInput(
                S("bad indexing", (2,), (3,), kwargs={"indexing": "foo"}),
                RuntimeError,
                'indexing must be one of "xy" or "ij"',
            ),
            ErrorInput(S("2d", (2, 2), (3,), kwargs={"indexing": "ij"}), RuntimeError, "Expected 0D or 1D tensor"),
            ErrorInput(
                S("dtypes", (2,), (3,), dtypes=(None, "float64"), kwargs={"indexing": "ij"}),
                RuntimeError,
                "meshgrid expects all tensors to have the same dtype",
            ),
        ],
    ),
    OpInfo(
        "cartesian_prod",
        lambda m, *xs: m.cartesian_prod(*xs),
        _samples(S("two", (2,), (3,)), S("three", (2,), (1,), (3,)), S("one", (4,)), S("empty", (0,), (3,))),
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        error_inputs=lambda: [ErrorInput(S("2d", (2, 2)), RuntimeError, "Expect a 1D vector, but got shape [2, 2]")],
    ),
    _op(
        "combinations",
        _samples(
            S("r=2", (4,)),
            S("r=3", (5,), args=(3,)),
            S("with replacement", (3,), kwargs={"r": 2, "with_replacement": True}),
            S("r=0", (3,), kwargs={"r": 0}),
            S("r beyond", (3,), args=(5,)),
            S("empty", (0,)),
        ),
        [
            _err("2d", [_P], (), RuntimeError, "Expect a 1D vector, but got shape [3, 4]"),
            _err("negative r", [(3,)], (-1,), RuntimeError, "Expect a non-negative number, but got -1"),
        ],
        method=False,
    ),
    OpInfo(
        "block_diag",
        lambda m, *xs: m.block_diag(*xs),
        _samples(
            S("two", (2, 2), (3, 1)),
            S("1d and 0d", (2, 3), (3,), ()),
            S("one", (2, 3)),
            S("empty", (0, 2), (2, 0)),
            S("promotion", (2, 2), (1, 2), dtypes=(None, "float64")),
        ),
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        error_inputs=lambda: [
            ErrorInput(S("3d", (2, 2, 2)), RuntimeError, "Input tensors must have 2 or fewer dimensions. Input 0 has 3")
        ],
    ),
    *[
        OpInfo(
            name,
            lambda m, *xs, name=name: getattr(m, name)(*xs),
            _samples(S("0d", ()), S("1d", (3,)), S("2d", (2, 3)), S("3d", (2, 1, 3)), S("several", (), (3,), (2, 3))),
            variants={"list": lambda m, *xs, name=name: getattr(m, name)(list(xs))},
            dtypes=FLOATS_AND_INT,
            supports_gradgrad=True,
        )
        for name in ("atleast_1d", "atleast_2d", "atleast_3d")
    ],
    *[
        OpInfo(
            name,
            lambda m, *xs, name=name: getattr(m, name)(list(xs)),
            _samples(*samples),
            variants={"tuple": lambda m, *xs, name=name: getattr(m, name)(tuple(xs))},
            dtypes=FLOATS_AND_INT,
            supports_gradgrad=True,
        )
        for name, samples in [
            ("dstack", [S("1d", (3,), (3,)), S("2d", (2, 3), (2, 3)), S("3d", (2, 3, 1), (2, 3, 2)), S("0d", (), ())]),
            ("column_stack", [S("mixed", (3,), (3, 2), (3, 1)), S("0d", (), ()), S("2d", (2, 1), (2, 3))]),
            ("row_stack", [S("1d", (3,), (3,)), S("mixed", (3,), (2, 3)), S("0d", (), ())]),
        ]
    ],
    _op("ravel", _samples(S("2d", _P), S("3d", _X3), S("0d", ()), S("empty", (0, 3)))),
    _op(
        "tile",
        _samples(
            S("same length", _P, args=((2, 1),)),
            S("shorter", _X3, args=((2,),)),
            S("longer", _P, args=((2, 1, 2),)),
            S("0d", (), args=((3,),)),
            S("zero", _P, args=((0, 2),)),
        ),
    ),
    _op(
        "broadcast_to",
        _samples(
            S("row", (3,), args=((2, 3),)), S("column", (3, 1), args=((2, 3, 4),)), S("-1", (3, 1), args=((-1, 2),))
        ),
        [_err("mismatch", [(3,)], ((2, 4),), RuntimeError, "The expanded size of the tensor (4) must match")],
    ),
    OpInfo(
        "broadcast_tensors",
        lambda m, *xs: m.broadcast_tensors(*xs),
        _samples(S("two", (3,), (2, 1)), S("three", (1, 3), (2, 1), ()), S("one", (2, 3)), S("empty", (0, 1), (3,))),
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        error_inputs=lambda: [
            ErrorInput(
                S("mismatch", (3,), (2, 4)),
                RuntimeError,
                "The size of tensor a (3) must match the size of tensor b (4)",
            )
        ],
    ),
]
