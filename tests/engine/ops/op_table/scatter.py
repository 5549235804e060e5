"""Op table entries: gather, scatter, index-along-a-dimension and mask ops (engine/ops/scatter.py,
index_dim.py, masked.py).

Index tensors are constants (``Tensor``). Gradient samples give ``src`` the index's shape: PyTorch's backward
of scatter-like ops returns a gradient of the index's shape and fails on a larger ``src`` (the engine gives
the full one), so larger sources are forward-only. Plain ``scatter`` and ``index_copy`` take unique positions
(PyTorch leaves the winner of repeated ones unspecified); the accumulating ops take repeated ones.
"""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S, Tensor, call_error, with_call_errors

X = (3, 4)
_REPEATED = Tensor([[0, 0, 3], [1, 1, 1], [2, 3, 2]])  # along dim 1 of X
_EMPTY = Tensor(np.zeros((3, 0), dtype=np.int64).tolist(), "int64")
_MASK = Tensor([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
_ROW_MASK = Tensor([[False, True, True, False]])
_3D_INDEX = Tensor(np.random.default_rng(3).integers(0, 3, size=(2, 3, 4)).tolist())


def _method(name):
    return lambda m, x, *args, **kw: getattr(x, name)(*args, **kw)


# ----- gather and take_along_dim -----
def _gather_samples(dtype):
    return [
        S("dim1 repeated", X, args=(1, _REPEATED)),
        S("dim0", X, args=(0, Tensor([[0, 1, 2, 0], [2, 2, 0, 1]]))),
        S("neg dim", X, args=(-1, Tensor([[3], [0], [3]]))),
        S("index smaller", X, args=(0, Tensor([[1, 2]]))),
        S("empty index", X, args=(1, _EMPTY)),
        S("3d", (3, 3, 4), args=(1, _3D_INDEX)),
        S("int32 index", X, args=(1, Tensor([[0, 3]], "int32"))),
        S("0d", (), args=(0, Tensor(0))),
        S("0d input 1d index", (), args=(0, Tensor([0, 0]))),
    ]


def _gather_errors():
    def e(name, dim, index, exc, match):
        return ErrorInput(S(name, X, args=(dim, index)), exc, match)

    return [
        e("float index", 1, Tensor([[0.0]]), RuntimeError, "gather(): Expected dtype int32/int64 for index"),
        e("out of range", 1, Tensor([[0, 4]]), RuntimeError, "index 4 is out of bounds for dimension 1 with size 4"),
        e("negative", 1, Tensor([[-1]]), RuntimeError, "index -1 is out of bounds for dimension 1 with size 4"),
        e("rank", 1, Tensor([0]), RuntimeError, "Index tensor must have the same number of dimensions as input"),
        e("size", 1, Tensor([[0]] * 4), RuntimeError, "Size does not match at dimension 0 expected index [4, 1]"),
        e("dim", 2, Tensor([[0]]), IndexError, "Dimension out of range (expected to be in range of [-2, 1]"),
    ]


def _take_along_dim_samples(dtype):
    return [
        S("dim1", X, args=(Tensor([[0], [3], [1]]), 1)),
        S("neg dim repeated", X, args=(Tensor([[2, 2, 0, 1]]), -2)),
        S("flattened", X, args=(Tensor([0, 11, 11]),)),
        S("broadcast", (3, 1, 4), args=(Tensor(np.zeros((1, 5, 2), dtype=np.int64).tolist()), 2)),
    ]


def _take_along_dim_errors():
    return [
        ErrorInput(S("int32", X, args=(Tensor([[0]], "int32"), 1)), RuntimeError,
                   "torch.take_along_dim(): dtype of indices should be Long but got Int"),
        ErrorInput(S("rank", X, args=(Tensor([0]), 1)), RuntimeError,
                   "input and indices should have the same number of dimensions"),
        ErrorInput(S("broadcast", X, args=(Tensor([[0], [1]]), 1)), RuntimeError,
                   "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0"),
    ]


# ----- scatter, scatter_add, scatter_reduce -----
def _scatter(m, x, src, dim, index, **kw):
    return m.scatter(x, dim, index, src, **kw)


def _scatter_samples(dtype):
    return [
        S("dim1", X, (3, 2), args=(1, Tensor([[0, 2], [3, 1], [1, 0]]))),
        S("neg dim", X, (1, 4), args=(-2, Tensor([[2, 0, 1, 0]]))),
        S("empty index", X, (3, 0), args=(1, _EMPTY)),
        S("0d", (), (), args=(0, Tensor(0))),
        S("src larger", X, X, args=(1, Tensor([[0, 2], [3, 1]])), grad=False),
        S("reduce add", X, (3, 3), args=(1, _REPEATED), kwargs={"reduce": "add"}, grad=False),
        S("reduce multiply", X, (3, 3), args=(1, _REPEATED), kwargs={"reduce": "multiply"}, grad=False),
    ]


def _scatter_value(m, x, dim, index, value, **kw):
    return m.scatter(x, dim, index, value, **kw)


def _scatter_value_samples(dtype):
    return [
        S("value", X, args=(1, Tensor([[0, 2], [3, 1], [1, 0]]), 2.5)),
        S("neg dim int value", X, args=(-2, Tensor([[2, 0, 1, 0]]), -1)),
        S("reduce multiply", X, args=(1, _REPEATED, 2.0), kwargs={"reduce": "multiply"}, grad=False),
        S("reduce add", X, args=(1, _REPEATED, 1.5), kwargs={"reduce": "add"}, grad=False),
        S("0d", (), args=(0, Tensor(0), 3.0)),
    ]


def _scatter_errors():
    return [
        ErrorInput(S("dtype", X, (1, 1), dtypes=(None, "float64"), args=(1, Tensor([[0]]))), RuntimeError,
                   "scatter(): Expected self.dtype to be equal to src.dtype"),
        ErrorInput(S("index larger", X, X, args=(1, Tensor([[0] * 5] * 2))), RuntimeError,
                   "Expected index [2, 5] to be no larger than self [3, 4] apart from dimension 1"),
        ErrorInput(S("src smaller", X, (1, 1), args=(1, Tensor([[0, 0]]))), RuntimeError,
                   "to be no larger size than src [1, 1]"),
        ErrorInput(S("out of range", X, X, args=(1, Tensor([[4]]))), RuntimeError,
                   "index 4 is out of bounds for dimension 1 with size 4"),
        ErrorInput(S("reduce", X, X, args=(1, Tensor([[0]])), kwargs={"reduce": "max"}), RuntimeError,
                   "reduce argument must be either add or multiply."),
    ]


def _scatter_add(m, x, src, dim, index):
    return m.scatter_add(x, dim, index, src)


def _accumulating_samples(**kwargs):
    def samples(dtype):
        return [
            S("dim1 repeated", X, (3, 3), args=(1, _REPEATED), kwargs=kwargs),
            S("dim0 repeated", X, (2, 4), args=(0, Tensor([[0, 2, 2, 1], [0, 2, 1, 1]])), kwargs=kwargs),
            S("neg dim", X, (3, 1), args=(-1, Tensor([[3], [0], [3]])), kwargs=kwargs),
            S("3d", (3, 3, 4), (2, 3, 4), args=(1, _3D_INDEX), kwargs=kwargs),
            S("empty index", X, (3, 0), args=(1, _EMPTY), kwargs=kwargs),
            S("0d", (), (), args=(0, Tensor(0)), kwargs=kwargs),
            S("src larger", X, X, args=(1, _REPEATED), kwargs=kwargs, grad=False),
        ]

    return samples


_REDUCE_MESSAGE = "reduce argument must be either sum, prod, mean, amax or amin, got foo"


def _scatter_reduce(m, x, src, dim, index, reduce, **kw):
    return m.scatter_reduce(x, dim, index, src, reduce, **kw)


_ZEROS = np.array([[0.0, 1.5, 2.0, -1.0], [0.5, 0.0, 3.0, 0.5], [2.0, -0.5, 0.0, 1.5]])
_SRC_ZEROS = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, -1.5], [0.5, 1.0, 0.0]])  # two zeros reach [1, 1]
_SRC_ONE_ZERO = np.array([[1.0, 0.0, 2.0], [0.0, 0.5, -1.5], [0.5, 1.0, 0.0]])  # at most one per position


def _scatter_reduce_samples(reduce):
    def samples(dtype):
        out = []
        for include_self in (True, False):
            kw = {"include_self": include_self}
            out += [S(f"{name} self={include_self}", *s.inputs, args=(*s.args, reduce), kwargs=kw, grad=s.grad)
                    for s in _accumulating_samples()(dtype) for name in [s.name]]
            if reduce == "prod":
                out.append(S(f"zeros self={include_self}", _ZEROS, _SRC_ONE_ZERO, args=(1, _REPEATED, reduce),
                             kwargs=kw))
        return out

    return samples


def _two_zeros_samples(dtype):
    """Products where two zeros of src reach one position: first derivatives only (PyTorch refuses the second,
    and so do we, with its message)."""
    return [S(f"self={include_self}", _ZEROS, _SRC_ZEROS, args=(1, _REPEATED, "prod"),
              kwargs={"include_self": include_self}) for include_self in (True, False)]


# ----- index_select, index_add, index_copy, index_fill -----
def _index_select_samples(dtype):
    return [
        S("dim0 repeated", (4, 5), args=(0, Tensor([0, 3, 3]))),
        S("neg dim", (4, 5), args=(-1, Tensor([4, 0]))),
        S("empty", (4, 5), args=(1, Tensor([], "int64"))),
        S("0d index", (4, 5), args=(0, Tensor(1))),
        S("int32", (4, 5), args=(1, Tensor([2, 2], "int32"))),
        S("0d input", (), args=(0, Tensor([0]))),
    ]


def _index_select_errors():
    def e(name, shape, index, exc, match):
        return ErrorInput(S(name, shape, args=(1 if shape else 0, index)), exc, match)

    return [
        e("2d index", X, Tensor([[0]]), IndexError, "index_select(): Index is supposed to be a vector"),
        e("float index", X, Tensor([0.0]), RuntimeError, "index_select(): Expected dtype int32 or int64 for index"),
        e("out of range", X, Tensor([4]), RuntimeError, "INDICES element is out of DATA bounds, id=4 axis_dim=4"),
        e("0d two values", (), Tensor([0, 0]), RuntimeError, "Index to scalar can have only 1 value, got 2 value(s)"),
    ]


def _index_add(m, x, source, dim, index, **kw):
    return m.index_add(x, dim, index, source, **kw)


def _index_add_samples(dtype):
    return [
        S("dim0 repeated", (4, 3), (3, 3), args=(0, Tensor([0, 2, 0]))),
        S("alpha", (4, 3), (3, 3), args=(0, Tensor([0, 2, 0])), kwargs={"alpha": 2}),
        S("neg dim", (4, 3), (4, 2), args=(-1, Tensor([2, 2]))),
        S("empty", (4, 3), (0, 3), args=(0, Tensor([], "int64"))),
        S("int32", (4, 3), (1, 3), args=(0, Tensor([3], "int32"))),
        S("0d", (), (), args=(0, Tensor([0]))),
    ]


def _index_source_errors(name):
    e = ErrorInput
    dtype_match = ("index_copy_(): self and source expected to have the same dtype" if name == "index_copy"
                   else "index_add_(): self (Float) and source (Double) must have the same scalar type")
    shape_match = ("index_copy_(): Source/destination tensor must have same slice shapes" if name == "index_copy"
                   else "source tensor shape must match self tensor shape, excluding the specified dimension")
    count_match = (f"{name}_(): Number of indices (2) should be equal to source.size(dim)" if name == "index_copy"
                   else f"{name}_(): Number of indices (2) should be equal to source.size(dim): (1), for dim: 1")
    out = [
        e(S("count", X, (3, 1), args=(1, Tensor([0, 1]))), IndexError if name == "index_copy" else RuntimeError,
          count_match),
        e(S("dtype", X, (3, 1), dtypes=(None, "float64"), args=(1, Tensor([0]))), RuntimeError, dtype_match),
        e(S("shape", X, (2, 1), args=(1, Tensor([0]))), RuntimeError, shape_match),
    ]
    if name == "index_add":
        out += [
            e(S("out of range", X, (3, 1), args=(1, Tensor([4]))), RuntimeError,
              "index 4 is out of bounds for dimension 1 with size 4"),
            e(S("float index", X, (3, 1), args=(1, Tensor([0.0]))), RuntimeError,
              "index_add_(): Expected dtype int32/int64 for index but got: Float"),
        ]
    else:
        out += [
            e(S("out of range", X, (3, 1), args=(1, Tensor([-1]))), IndexError,
              "index_copy_(): index -1 is out of bounds for dimension 1 with size 4"),
            e(S("int32 index", X, (3, 1), args=(1, Tensor([0], "int32"))), RuntimeError,
              "index_copy_(): Expected a long tensor for index, but got Int"),
        ]
    return out


def _index_copy(m, x, source, dim, index):
    return m.index_copy(x, dim, index, source)


def _index_copy_samples(dtype):
    return [
        S("dim0", (4, 3), (2, 3), args=(0, Tensor([2, 0]))),
        S("neg dim", (4, 3), (4, 1), args=(-1, Tensor([1]))),
        S("empty", (4, 3), (0, 3), args=(0, Tensor([], "int64"))),
        S("0d", (), (), args=(0, Tensor([0]))),
    ]


def _index_fill(m, x, *value, dim, index, const=None):
    return m.index_fill(x, dim, index, value[0] if value else const)


def _index_fill_samples(dtype):
    return [
        S("dim0 repeated", (4, 3), kwargs={"dim": 0, "index": Tensor([0, 2, 2]), "const": 1.5}),
        S("tensor value", (4, 3), (), kwargs={"dim": 1, "index": Tensor([2, 0, 2])}),
        S("negative index", (4, 3), kwargs={"dim": -1, "index": Tensor([-1]), "const": -2}, grad=False),
        S("empty", (4, 3), kwargs={"dim": 0, "index": Tensor([], "int64"), "const": 1.0}),
        S("0d", (), kwargs={"dim": 0, "index": Tensor([0]), "const": 2.0}),
    ]


def _index_fill_errors():
    def e(name, index, value, exc, match, inputs=((4, 3),)):
        return ErrorInput(S(name, *inputs, kwargs={"dim": 1, "index": index, "const": value}), exc, match)

    return [
        e("out of range", Tensor([3]), 1.0, IndexError, "index 3 is out of bounds for dimension 1 with size 3"),
        e("int32 index", Tensor([0], "int32"), 1.0, IndexError, "index_fill_(): Expected dtype int64 for index."),
        ErrorInput(S("1d value", (4, 3), (2,), kwargs={"dim": 1, "index": Tensor([0])}), RuntimeError,
                   "index_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s)."),
    ]


# ----- masks -----
def _masked_fill(m, x, *value, mask, const=None):
    return m.masked_fill(x, mask, value[0] if value else const)


def _masked_fill_samples(dtype):
    return [
        S("same shape", X, kwargs={"mask": _MASK, "const": 2.5}),
        S("row mask", X, kwargs={"mask": _ROW_MASK, "const": -1}),
        S("tensor value", X, (), kwargs={"mask": _MASK}),
        S("0d", (), kwargs={"mask": Tensor(True), "const": 1.0}),
        S("empty", (0, 4), kwargs={"mask": _ROW_MASK, "const": 1.0}),
    ]


def _masked_fill_broadcast_samples(dtype):
    """Out of place only: the mask is larger than the tensor, so the result is too."""
    return [S("larger mask", (4,), kwargs={"mask": _MASK, "const": 3.0})]


def _masked_fill_errors():
    return [
        ErrorInput(S("float mask", X, kwargs={"mask": Tensor([[1.0]]), "const": 1.0}), RuntimeError,
                   "masked_fill_ only supports boolean masks, but got mask with dtype float"),
        ErrorInput(S("1d value", X, (2,), kwargs={"mask": _MASK}), RuntimeError,
                   "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s)."),
        call_error("inplace larger mask", lambda m, x: x.masked_fill_(m.ones(2, 3, 4, dtype=m.bool), 1.0), (X,),
                   RuntimeError, "output with shape [3, 4] doesn't match the broadcast shape [2, 3, 4]"),
    ]


def _masked_select_samples(dtype):
    return [
        S("same shape", X, args=(_MASK,)),
        S("row mask", X, args=(_ROW_MASK,)),
        S("larger mask", (4,), args=(_MASK,)),
        S("none", X, args=(Tensor([False]),)),
        S("0d", (), args=(Tensor(True),)),
    ]


def _masked_scatter(m, x, source, mask):
    return m.masked_scatter(x, mask, source)


def _masked_scatter_samples(dtype):
    return [
        S("same shape", X, (6,), args=(_MASK,)),
        S("source larger", X, (3, 5), args=(_MASK,)),
        S("row mask", X, (3, 2), args=(_ROW_MASK,)),
        S("none", X, (2,), args=(Tensor([False]),)),
        S("0d", (), (1,), args=(Tensor(True),)),
    ]


def _masked_scatter_broadcast_samples(dtype):
    return [S("larger mask", (4,), (8,), args=(_MASK,))]


def _masked_scatter_errors():
    return [
        ErrorInput(S("few", X, (5,), args=(_MASK,)), RuntimeError,
                   "Number of elements of source < number of ones in mask"),
        ErrorInput(S("dtype", X, (6,), dtypes=(None, "float64"), args=(_MASK,)), RuntimeError,
                   "masked_scatter: expected self and source to have same dtypes but gotFloat and Double"),
        ErrorInput(S("float mask", X, (12,), args=(Tensor([[1.0]]),)), RuntimeError,
                   "masked_scatter_ only supports boolean masks, but got mask with dtype Float"),
    ]


# ----- where the nonzeros are -----
_SPARSE = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])


def _nonzero_samples(dtype):
    out = [
        S("2d", _SPARSE),
        S("1d", np.array([0.0, 2.0, 0.0, -1.0])),
        S("3d", _SPARSE.reshape(2, 2, 3)),
        S("0d nonzero", np.array(2.0)),
        S("0d zero", np.array(0.0)),
        S("empty", (0, 3)),
    ]
    if dtype == "float32":
        out.append(S("bool", (3, 4), dtypes=("bool",)))
    return out


def _no_grad(name, op, samples, **options):
    return OpInfo(name, op, samples, supports_grad=False, dtypes=FLOATS_AND_INT, **options)


SCATTER = [
    OpInfo("gather", lambda m, x, dim, index: m.gather(x, dim, index), _gather_samples,
           variants={"method": _method("gather")}, error_inputs=_gather_errors, dtypes=FLOATS_AND_INT,
           supports_gradgrad=True, implementations=("compiled", "generic")),
    OpInfo("take_along_dim", lambda m, x, *args: m.take_along_dim(x, *args), _take_along_dim_samples,
           variants={"method": _method("take_along_dim")}, error_inputs=_take_along_dim_errors,
           dtypes=FLOATS_AND_INT, supports_gradgrad=True),
    OpInfo("scatter", _scatter, _scatter_samples, error_inputs=_scatter_errors, dtypes=FLOATS_AND_INT,
           supports_gradgrad=True,
           variants={"method": lambda m, x, src, dim, index, **kw: x.scatter(dim, index, src, **kw),
                     "inplace": lambda m, x, src, dim, index, **kw: (x * 1).scatter_(dim, index, src, **kw)}),
    OpInfo("scatter value", _scatter_value, _scatter_value_samples, dtypes=FLOATS_AND_INT, supports_gradgrad=True,
           variants={"keyword": lambda m, x, dim, index, value, **kw: m.scatter(x, dim, index, value=value, **kw),
                     "inplace": lambda m, x, dim, index, value, **kw: (x * 1).scatter_(dim, index, value, **kw)}),
    OpInfo("scatter_add", _scatter_add, _accumulating_samples(), dtypes=FLOATS_AND_INT, supports_gradgrad=True,
           implementations=("compiled", "multiply.at"),
           variants={"method": lambda m, x, src, dim, index: x.scatter_add(dim, index, src),
                     "inplace": lambda m, x, src, dim, index: (x * 1).scatter_add_(dim, index, src)},
           error_inputs=lambda: [ErrorInput(S("out of range", X, X, args=(0, Tensor([[3]]))), RuntimeError,
                                            "index 3 is out of bounds for dimension 0 with size 3")]),
    *[
        OpInfo(f"scatter_reduce {reduce}", _scatter_reduce, _scatter_reduce_samples(reduce), dtypes=FLOATS_AND_INT,
               variants={"method": lambda m, x, src, dim, index, r, **kw: x.scatter_reduce(dim, index, src, r, **kw),
                         "inplace": lambda m, x, src, dim, index, r, **kw:
                         (x * 1).scatter_reduce_(dim, index, src, r, **kw)},
               error_inputs=lambda: [ErrorInput(S("reduce", X, X, args=(1, Tensor([[0]]), "foo")), RuntimeError,
                                                _REDUCE_MESSAGE)],
               tolerances={"float32": (1e-5, 1e-3)},
               implementations={"prod": ("multiply.at", "rounds"), "sum": ("compiled", "multiply.at")}.get(reduce, ()),
               supports_gradgrad=True)
        for reduce in ("sum", "prod", "mean", "amax", "amin")
    ],
    OpInfo("scatter_reduce prod two zeros", _scatter_reduce, _two_zeros_samples,
           implementations=("multiply.at", "rounds")),
    OpInfo("index_select", lambda m, x, dim, index: m.index_select(x, dim, index), _index_select_samples,
           variants={"method": _method("index_select")}, error_inputs=_index_select_errors, dtypes=FLOATS_AND_INT,
           supports_gradgrad=True, implementations=("compiled", "generic")),
    OpInfo("index_add", _index_add, _index_add_samples, dtypes=FLOATS_AND_INT, supports_gradgrad=True,
           implementations=("compiled", "generic"),
           variants={"method": lambda m, x, s, dim, index, **kw: x.index_add(dim, index, s, **kw),
                     "inplace": lambda m, x, s, dim, index, **kw: (x * 1).index_add_(dim, index, s, **kw)},
           error_inputs=lambda: _index_source_errors("index_add")),
    OpInfo("index_copy", _index_copy, _index_copy_samples, dtypes=FLOATS_AND_INT, supports_gradgrad=True,
           variants={"method": lambda m, x, s, dim, index: x.index_copy(dim, index, s),
                     "inplace": lambda m, x, s, dim, index: (x * 1).index_copy_(dim, index, s)},
           error_inputs=lambda: _index_source_errors("index_copy")),
    OpInfo("index_fill", _index_fill, _index_fill_samples, dtypes=FLOATS_AND_INT, error_inputs=_index_fill_errors,
           supports_gradgrad=True,
           variants={"method": lambda m, x, *v, dim, index, const=None: x.index_fill(dim, index, v[0] if v else const),
                     "inplace": lambda m, x, *v, dim, index, const=None:
                     (x * 1).index_fill_(dim, index, v[0] if v else const)}),
    OpInfo("masked_fill", with_call_errors(_masked_fill), _masked_fill_samples, dtypes=FLOATS_AND_INT,
           error_inputs=_masked_fill_errors, supports_gradgrad=True,
           variants={"method": lambda m, x, *v, mask, const=None: x.masked_fill(mask, v[0] if v else const),
                     "inplace": lambda m, x, *v, mask, const=None: (x * 1).masked_fill_(mask, v[0] if v else const)}),
    OpInfo("masked_fill broadcast", _masked_fill, _masked_fill_broadcast_samples, dtypes=FLOATS_AND_INT,
           supports_gradgrad=True),
    OpInfo("masked_select", lambda m, x, mask: m.masked_select(x, mask), _masked_select_samples,
           variants={"method": _method("masked_select")}, dtypes=FLOATS_AND_INT, supports_gradgrad=True,
           error_inputs=lambda: [ErrorInput(S("float mask", X, args=(Tensor([[1.0]]),)), RuntimeError,
                                            "masked_select: expected BoolTensor for mask")]),
    OpInfo("masked_scatter", _masked_scatter, _masked_scatter_samples, dtypes=FLOATS_AND_INT, supports_gradgrad=True,
           error_inputs=_masked_scatter_errors,
           variants={"method": lambda m, x, s, mask: x.masked_scatter(mask, s),
                     "inplace": lambda m, x, s, mask: (x * 1).masked_scatter_(mask, s)}),
    OpInfo("masked_scatter broadcast", _masked_scatter, _masked_scatter_broadcast_samples, dtypes=FLOATS_AND_INT,
           supports_gradgrad=True),
    _no_grad("nonzero", lambda m, x: m.nonzero(x), _nonzero_samples, variants={"method": _method("nonzero")}),
    _no_grad("nonzero as_tuple", lambda m, x: m.nonzero(x, as_tuple=True), _nonzero_samples,
             variants={"method": lambda m, x: x.nonzero(as_tuple=True)}),
    _no_grad("argwhere", lambda m, x: m.argwhere(x), _nonzero_samples, variants={"method": _method("argwhere")}),
    _no_grad("where one argument", lambda m, x: m.where(x != 0), _nonzero_samples),
]
