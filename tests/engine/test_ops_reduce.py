"""Reductions against PyTorch: sum/mean/var/std/prod/amax/amin over every kind of ``dim``, max/min
with and without ``dim``, argmax/argmin, norm, softmax/log_softmax/logsumexp (also at logits of
±1e4) and their gradients; integer and bool reductions."""

from __future__ import annotations

import numpy as np
import pytest
from optest import check, check_error

import engine

SHAPE = (3, 4, 5)

# ----------------------------------------------------------------------------------------------
# sum / mean / var / std / prod / amax / amin
# ----------------------------------------------------------------------------------------------

DIM_KWARGS = [
    ("all", {}),
    ("dim=None", {"dim": None}),
    ("dim=1", {"dim": 1}),
    ("dim=0", {"dim": 0}),
    ("dim=-1", {"dim": -1}),
    ("dim=(0,2)", {"dim": (0, 2)}),
    ("dim=(-1,0)", {"dim": (-1, 0)}),
    ("dim=[1]", {"dim": [1]}),
    ("dim=1,keepdim", {"dim": 1, "keepdim": True}),
    ("dim=(0,2),keepdim", {"dim": (0, 2), "keepdim": True}),
    ("dim=-2,keepdim=False", {"dim": -2, "keepdim": False}),
]


def _np_reduce(np_name, kwargs):
    def ref(x):
        axis = kwargs.get("dim")
        if isinstance(axis, list):
            axis = tuple(axis)
        return getattr(np, np_name)(x, axis=axis, keepdims=kwargs.get("keepdim", False))

    return ref


@pytest.mark.parametrize("kwargs", [k for _, k in DIM_KWARGS], ids=[n for n, _ in DIM_KWARGS])
@pytest.mark.parametrize("name, np_name", [("sum", "sum"), ("mean", "mean"), ("amax", "max"), ("amin", "min")])
def test_reduce_dims(name, np_name, kwargs):
    check(lambda m, x: getattr(x, name)(**kwargs), [SHAPE], np_fn=_np_reduce(np_name, kwargs))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_reduce_function_form(name):
    check(lambda m, x: getattr(m, name)(x, 1), [SHAPE])
    check(lambda m, x: getattr(m, name)(x, dim=(0, 1), keepdim=True), [SHAPE])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "var", "std"])
def test_reduce_0d_input(name):
    kwargs = {"unbiased": False} if name in ("var", "std") else {}
    check(lambda m, x: getattr(x, name)(**kwargs), [()])
    if name not in ("var", "std"):
        check(lambda m, x: getattr(x, name)(dim=0), [()])
        check(lambda m, x: getattr(x, name)(dim=-1, keepdim=True), [()])


def test_sum_positional_keepdim_and_dtype():
    check(lambda m, x: x.sum(1, True), [SHAPE])
    check(lambda m, x: x.sum(dtype=m.float64), [SHAPE])


def test_mean_large_sum_tolerance():
    check(lambda m, x: x.sum(), [(40, 50)], atol=1e-3, rtol=1e-4)
    check(lambda m, x: x.mean(0), [(200, 3)])


VAR_KWARGS = [
    ("default", {}),
    ("dim=1", {"dim": 1}),
    ("dim=-1,keepdim", {"dim": -1, "keepdim": True}),
    ("dim=(0,2)", {"dim": (0, 2)}),
    ("unbiased=False", {"unbiased": False}),
    ("dim=1,unbiased=False", {"dim": 1, "unbiased": False}),
    ("dim=1,unbiased=True", {"dim": 1, "unbiased": True}),
    ("dim=1,correction=0", {"dim": 1, "correction": 0}),
    ("dim=1,correction=2", {"dim": 1, "correction": 2}),
    ("correction=1", {"correction": 1}),
    ("dim=(0,2),correction=0,keepdim", {"dim": (0, 2), "correction": 0, "keepdim": True}),
]


def _np_var(kwargs, std=False):
    def ref(x):
        axis = kwargs.get("dim")
        ddof = kwargs.get("correction", 1 if kwargs.get("unbiased", True) else 0)
        f = np.std if std else np.var
        return f(x.astype(np.float64), axis=axis, ddof=ddof, keepdims=kwargs.get("keepdim", False))

    return ref


@pytest.mark.parametrize("kwargs", [k for _, k in VAR_KWARGS], ids=[n for n, _ in VAR_KWARGS])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name, kwargs):
    check(lambda m, x: getattr(x, name)(**kwargs), [SHAPE], np_fn=_np_var(kwargs, std=name == "std"))


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_function_form_positional_dim(name):
    check(lambda m, x: getattr(m, name)(x, 1), [SHAPE])
    check(lambda m, x: getattr(m, name)(x, dim=0, unbiased=False, keepdim=True), [SHAPE])


PROD_KWARGS = [
    ("all", {}),
    ("dim=1", {"dim": 1}),
    ("dim=-1,keepdim", {"dim": -1, "keepdim": True}),
    ("dim=0", {"dim": 0}),
]


@pytest.mark.parametrize("kwargs", [k for _, k in PROD_KWARGS], ids=[n for n, _ in PROD_KWARGS])
def test_prod(kwargs):
    check(lambda m, x: x.prod(**kwargs), [(3, 4)], low=0.5, high=1.5)


_ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5], [2.0, -0.5, 1.0, 1.5]], dtype=np.float32)


@pytest.mark.parametrize("kwargs", [k for _, k in PROD_KWARGS], ids=[n for n, _ in PROD_KWARGS])
def test_prod_with_zeros_gradient(kwargs):
    check(lambda m, x: x.prod(**kwargs), [_ZEROS])


_TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, -4.0]], dtype=np.float32)

TIE_OPS = [
    ("amax()", lambda m, x: x.amax()),
    ("amax(1)", lambda m, x: x.amax(1)),
    ("amin(dim=1,keepdim)", lambda m, x: x.amin(dim=1, keepdim=True)),
    ("amax((0,1))", lambda m, x: x.amax((0, 1))),
    ("max()", lambda m, x: x.max()),
    ("min()", lambda m, x: x.min()),
]


@pytest.mark.parametrize("name, fn", TIE_OPS, ids=[t[0] for t in TIE_OPS])
def test_amax_max_ties_distribute_gradient_evenly(name, fn):
    check(fn, [_TIES], gradcheck=False)


# ----------------------------------------------------------------------------------------------
# max / min with and without dim, argmax / argmin
# ----------------------------------------------------------------------------------------------

MAXMIN = [
    ("max()", lambda m, x: x.max()),
    ("min()", lambda m, x: x.min()),
    ("m.max(x)", lambda m, x: m.max(x)),
    ("max(1)", lambda m, x: x.max(1)),
    ("max(dim=-1)", lambda m, x: x.max(dim=-1)),
    ("max(dim=0,keepdim)", lambda m, x: x.max(dim=0, keepdim=True)),
    ("min(1)", lambda m, x: x.min(1)),
    ("min(dim=-2,keepdim)", lambda m, x: x.min(dim=-2, keepdim=True)),
    ("m.max(x,1)", lambda m, x: m.max(x, 1)),
    ("m.min(x,dim=2)", lambda m, x: m.min(x, dim=2)),
    ("max(1).values", lambda m, x: x.max(1).values),
    ("min(1).indices", lambda m, x: x.min(1).indices),
    ("max(x,y)", lambda m, x: m.max(x, 0.5 * x)),
]


@pytest.mark.parametrize("name, fn", MAXMIN, ids=[t[0] for t in MAXMIN])
def test_max_min(name, fn):
    check(fn, [SHAPE])


def test_max_with_dim_is_named_tuple():
    x = engine.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], dtype=np.float32), requires_grad=True)
    out = x.max(dim=1)
    values, indices = out
    assert isinstance(out, tuple)
    np.testing.assert_array_equal(out.values.detach().numpy(), out[0].detach().numpy())
    np.testing.assert_array_equal(out.indices.numpy(), out[1].numpy())
    np.testing.assert_array_equal(values.detach().numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == engine.int64
    assert values.requires_grad and not indices.requires_grad
    out.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    mn = x.min(1)
    np.testing.assert_array_equal(mn.indices.numpy(), [0, 1])


def test_max_of_int_tensor():
    check(lambda m, x: x.max(1), [SHAPE], dtype="int64", grad=False)
    check(lambda m, x: x.max(), [SHAPE], dtype="int64", grad=False)


ARG = [
    ("argmax()", lambda m, x: x.argmax()),
    ("argmin()", lambda m, x: x.argmin()),
    ("argmax(1)", lambda m, x: x.argmax(1)),
    ("argmax(dim=-1)", lambda m, x: x.argmax(dim=-1)),
    ("argmin(dim=0)", lambda m, x: x.argmin(dim=0)),
    ("argmax(dim=1,keepdim)", lambda m, x: x.argmax(dim=1, keepdim=True)),
    ("argmin(dim=-1,keepdim)", lambda m, x: x.argmin(dim=-1, keepdim=True)),
    ("m.argmax(x,2)", lambda m, x: m.argmax(x, 2)),
    ("m.argmin(x)", lambda m, x: m.argmin(x)),
]


@pytest.mark.parametrize("name, fn", ARG, ids=[t[0] for t in ARG])
def test_argmax_argmin(name, fn):
    out = check(fn, [SHAPE])
    assert out.dtype == engine.int64


def test_argmax_ties_pick_first():
    check(lambda m, x: x.argmax(1), [_TIES], grad=False, np_fn=lambda x: np.argmax(x, 1))
    check(lambda m, x: x.argmin(1), [_TIES], grad=False, np_fn=lambda x: np.argmin(x, 1))


# ----------------------------------------------------------------------------------------------
# norm
# ----------------------------------------------------------------------------------------------

NORM = [
    ("norm()", lambda m, x: x.norm(), lambda x: np.linalg.norm(x.ravel())),
    ("m.norm(x)", lambda m, x: m.norm(x), lambda x: np.linalg.norm(x.ravel())),
    ("norm(p=1)", lambda m, x: x.norm(p=1), lambda x: np.abs(x).sum()),
    ("norm(p=2)", lambda m, x: x.norm(p=2), lambda x: np.linalg.norm(x.ravel())),
    ("norm(1)", lambda m, x: x.norm(1), lambda x: np.abs(x).sum()),
    ("norm(dim=1)", lambda m, x: x.norm(dim=1), lambda x: np.linalg.norm(x, axis=1)),
    ("norm(p=1,dim=0)", lambda m, x: x.norm(p=1, dim=0), lambda x: np.abs(x).sum(0)),
    (
        "norm(dim=-1,keepdim)",
        lambda m, x: x.norm(dim=-1, keepdim=True),
        lambda x: np.linalg.norm(x, axis=-1, keepdims=True),
    ),
    ("norm(p=3,dim=1)", lambda m, x: x.norm(p=3, dim=1), lambda x: (np.abs(x) ** 3).sum(1) ** (1 / 3)),
    ("norm(2,(0,1))", lambda m, x: x.norm(2, (0, 1)), lambda x: np.sqrt((x**2).sum((0, 1)))),
]


@pytest.mark.parametrize("name, fn, np_fn", NORM, ids=[t[0] for t in NORM])
def test_norm(name, fn, np_fn):
    check(fn, [(4, 5)], np_fn=np_fn)


def test_norm_of_zeros_has_zero_gradient():
    check(lambda m, x: x.norm(), [np.zeros((2, 3), dtype=np.float32)], gradcheck=False)
    check(lambda m, x: x.norm(dim=1), [np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)], gradcheck=False)


# ----------------------------------------------------------------------------------------------
# softmax / log_softmax / logsumexp, also at logits of ±1e4
# ----------------------------------------------------------------------------------------------

SOFTMAX = [
    ("softmax(0)", lambda m, x: m.softmax(x, 0)),
    ("softmax(dim=1)", lambda m, x: m.softmax(x, dim=1)),
    ("softmax(dim=-1)", lambda m, x: m.softmax(x, dim=-1)),
    ("x.softmax(-1)", lambda m, x: x.softmax(-1)),
    ("log_softmax(0)", lambda m, x: m.log_softmax(x, 0)),
    ("log_softmax(dim=1)", lambda m, x: m.log_softmax(x, dim=1)),
    ("x.log_softmax(dim=-1)", lambda m, x: x.log_softmax(dim=-1)),
    ("logsumexp(0)", lambda m, x: m.logsumexp(x, 0)),
    ("logsumexp(dim=1)", lambda m, x: m.logsumexp(x, dim=1)),
    ("logsumexp(-1,keepdim)", lambda m, x: m.logsumexp(x, -1, keepdim=True)),
    ("logsumexp((0,2))", lambda m, x: m.logsumexp(x, (0, 2))),
    ("x.logsumexp(1)", lambda m, x: x.logsumexp(1)),
]


def _large_logits(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1e4, 1e4], dtype=np.float32), size=SHAPE)
    return (x + rng.uniform(-3, 3, size=SHAPE)).astype(np.float32)


@pytest.mark.parametrize("name, fn", SOFTMAX, ids=[t[0] for t in SOFTMAX])
def test_softmax_family(name, fn):
    check(fn, [SHAPE])


@pytest.mark.parametrize("name, fn", SOFTMAX, ids=[t[0] for t in SOFTMAX])
def test_softmax_family_large_logits(name, fn):
    x = _large_logits()
    out = check(fn, [x], gradcheck=False, atol=1e-3)
    assert np.isfinite(out.detach().numpy()).all()
    t = engine.tensor(x, requires_grad=True)
    fn(engine, t).sum().backward()
    assert np.isfinite(t.grad.numpy()).all()


def test_softmax_all_minus_1e4_is_uniform():
    x = np.full((2, 4), -1e4, dtype=np.float32)
    check(lambda m, x: m.softmax(x, dim=1), [x], np_fn=lambda x: np.full((2, 4), 0.25), gradcheck=False)
    check(lambda m, x: m.logsumexp(x, dim=1), [x], gradcheck=False, atol=1e-3)


def test_softmax_float64():
    check(lambda m, x: m.softmax(x, dim=1), [SHAPE], dtype="float64")
    check(lambda m, x: m.log_softmax(x, dim=1), [SHAPE], dtype="float64")


def test_softmax_with_dtype_argument():
    check(lambda m, x: m.softmax(x, dim=1, dtype=m.float64), [SHAPE])


# ----------------------------------------------------------------------------------------------
# integer / bool reductions
# ----------------------------------------------------------------------------------------------

INT_REDUCE = [
    ("int64.sum()", lambda m, x: x.sum(), "int64", "int64"),
    ("int32.sum()", lambda m, x: x.sum(), "int32", "int64"),
    ("int32.sum(1)", lambda m, x: x.sum(1), "int32", "int64"),
    ("uint8.sum()", lambda m, x: x.sum(), "uint8", "int64"),
    ("bool.sum()", lambda m, x: x.sum(), "bool", "int64"),
    ("bool.sum(dim=0)", lambda m, x: x.sum(dim=0), "bool", "int64"),
    ("int32.prod(1)", lambda m, x: x.prod(1), "int32", "int64"),
    ("int32.amax(1)", lambda m, x: x.amax(1), "int32", "int32"),
    ("int32.max()", lambda m, x: x.max(), "int32", "int32"),
    ("int64.sum(dtype=float32)", lambda m, x: x.sum(dtype=m.float32), "int64", "float32"),
    ("int32.argmax()", lambda m, x: x.argmax(), "int32", "int64"),
]


@pytest.mark.parametrize("name, fn, in_dtype, out_dtype", INT_REDUCE, ids=[t[0] for t in INT_REDUCE])
def test_int_bool_reductions(name, fn, in_dtype, out_dtype):
    out = check(fn, [(3, 4)], dtype=in_dtype, grad=False, low=0, high=3)
    assert out.dtype == getattr(engine, out_dtype)


def test_mean_of_int_tensor_raises():
    check_error(lambda m, x: x.mean(), RuntimeError, "mean(): could not infer output dtype", [(3,)], dtype="int64")


def test_reduce_dim_out_of_range_raises():
    check_error(lambda m, x: x.sum(3), IndexError, "Dimension out of range", [(2, 3)])
    check_error(lambda m, x: x.amax(-3), IndexError, "Dimension out of range", [(2, 3)])


def test_reduce_empty_tensors():
    check(lambda m, x: x.sum(), [(0, 3)])
    check(lambda m, x: x.sum(0), [(0, 3)])
    check(lambda m, x: x.mean(0), [(0, 3)], gradcheck=False)  # nan, without NumPy's warning
    check(lambda m, x: x.prod(1), [(0, 3)])
    check_error(lambda m, x: x.amax(0), IndexError, "Expected reduction dim 0 to have non-zero size", [(0, 3)])
    check_error(lambda m, x: x.max(), RuntimeError, "numel() == 0", [(0, 3)])


def test_softmax_of_int_tensor_raises():
    check_error(lambda m, x: m.softmax(x, 0), RuntimeError, "not implemented for 'Long'", [(3,)], dtype="int64")


_NAN = np.array([[1.0, np.nan, -2.0], [0.5, 3.0, -1.0]], dtype=np.float32)

NAN_REDUCE = [
    ("max()", lambda m, x: x.max()),
    ("amax(1)", lambda m, x: x.amax(1)),
    ("max(1)", lambda m, x: x.max(1)),
    ("argmax(1)", lambda m, x: x.argmax(1)),
    ("sum(1)", lambda m, x: x.sum(1)),
    ("softmax(1)", lambda m, x: m.softmax(x, 1)),
    ("logsumexp(1)", lambda m, x: m.logsumexp(x, 1)),
]


@pytest.mark.parametrize("name, fn", NAN_REDUCE, ids=[o[0] for o in NAN_REDUCE])
def test_nan_in_reductions(name, fn):
    check(fn, [_NAN], gradcheck=False)


def test_reductions_of_requires_grad_keep_graph():
    out = check(lambda m, x: (x.sum(0) * x.mean(1, keepdim=True)).std(), [(4, 4)])
    assert out.requires_grad
