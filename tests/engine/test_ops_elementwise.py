"""Elementwise ops against PyTorch: arithmetic with broadcasting and scalars, unary math, clamp,
maximum/minimum/where, comparisons, ``out=``/``alpha=``, type promotion, casts and numerical
stability at extreme inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optest import check, check_error

import engine
from engine import threads

# ----------------------------------------------------------------------------------------------
# binary arithmetic between tensors, with broadcasting
# ----------------------------------------------------------------------------------------------

BROADCAST_SHAPES = [
    pytest.param((3, 4), (3, 4), id="same"),
    pytest.param((3, 4), (4,), id="(3,4)&(4,)"),
    pytest.param((4,), (3, 4), id="(4,)&(3,4)"),
    pytest.param((2, 1, 4), (3, 1), id="(2,1,4)&(3,1)"),
    pytest.param((), (5,), id="0d&(5,)"),
    pytest.param((5,), (), id="(5,)&0d"),
    pytest.param((), (), id="0d&0d"),
]

# name, fn, numpy reference, needs positive inputs
BINARY_OPS = [
    ("add", lambda m, a, b: a + b, np.add, False),
    ("sub", lambda m, a, b: a - b, np.subtract, False),
    ("mul", lambda m, a, b: a * b, np.multiply, False),
    ("div", lambda m, a, b: a / b, np.divide, True),
    ("pow", lambda m, a, b: a**b, np.power, True),
    ("m.add", lambda m, a, b: m.add(a, b), np.add, False),
    ("m.sub", lambda m, a, b: m.sub(a, b), np.subtract, False),
    ("m.mul", lambda m, a, b: m.mul(a, b), np.multiply, False),
    ("m.div", lambda m, a, b: m.div(a, b), np.divide, True),
    ("m.pow", lambda m, a, b: m.pow(a, b), np.power, True),
    ("a.add", lambda m, a, b: a.add(b), np.add, False),
    ("a.sub", lambda m, a, b: a.sub(b), np.subtract, False),
    ("a.mul", lambda m, a, b: a.mul(b), np.multiply, False),
    ("a.div", lambda m, a, b: a.div(b), np.divide, True),
    ("a.pow", lambda m, a, b: a.pow(b), np.power, True),
    ("maximum", lambda m, a, b: m.maximum(a, b), np.maximum, False),
    ("minimum", lambda m, a, b: m.minimum(a, b), np.minimum, False),
]


@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_SHAPES)
@pytest.mark.parametrize("name, fn, np_fn, positive", BINARY_OPS, ids=[o[0] for o in BINARY_OPS])
def test_binary_broadcast(name, fn, np_fn, positive, shape_a, shape_b):
    check(fn, [shape_a, shape_b], np_fn=np_fn, positive=positive)


@pytest.mark.parametrize("name, fn, np_fn, positive", BINARY_OPS[:5], ids=[o[0] for o in BINARY_OPS[:5]])
def test_binary_float64(name, fn, np_fn, positive):
    check(fn, [(3, 4), (4,)], dtype="float64", np_fn=np_fn, positive=positive)


def test_div_negative_numerator():
    b = np.array([0.5, -1.5, 2.0, -0.75], dtype=np.float32)
    check(lambda m, a, b: a / b, [(3, 4), b], np_fn=np.divide)


def test_pow_negative_base_integer_exponent():
    b = np.array([2.0, 3.0, 1.0, 0.0], dtype=np.float32)
    check(lambda m, a, b: a**b, [(3, 4), b], np_fn=np.power, grad=[True, False])


# ----------------------------------------------------------------------------------------------
# Python scalars on either side
# ----------------------------------------------------------------------------------------------

SCALAR_OPS = [
    ("x+2", lambda m, x: x + 2, lambda x: x + 2, False),
    ("2+x", lambda m, x: 2 + x, lambda x: 2 + x, False),
    ("x+2.5", lambda m, x: x + 2.5, lambda x: x + 2.5, False),
    ("x-2", lambda m, x: x - 2, lambda x: x - 2, False),
    ("2-x", lambda m, x: 2 - x, lambda x: 2 - x, False),
    ("x*3", lambda m, x: x * 3, lambda x: x * 3, False),
    ("3*x", lambda m, x: 3 * x, lambda x: 3 * x, False),
    ("x*-0.5", lambda m, x: x * -0.5, lambda x: x * -0.5, False),
    ("x/2", lambda m, x: x / 2, lambda x: x / 2, False),
    ("2/x", lambda m, x: 2 / x, lambda x: 2 / x, True),
    ("x**2", lambda m, x: x**2, lambda x: x**2, False),
    ("x**3", lambda m, x: x**3, lambda x: x**3, False),
    ("x**0.5", lambda m, x: x**0.5, np.sqrt, True),
    ("x**-1", lambda m, x: x**-1, lambda x: 1 / x, True),
    ("x**-1.5", lambda m, x: x**-1.5, lambda x: x**-1.5, True),
    ("x**0", lambda m, x: x**0, lambda x: np.ones_like(x), False),
    ("x**1", lambda m, x: x**1, lambda x: x, False),
    ("2**x", lambda m, x: 2**x, lambda x: 2**x, False),
    ("0.5**x", lambda m, x: 0.5**x, lambda x: 0.5**x, False),
    ("m.pow(x,2)", lambda m, x: m.pow(x, 2), lambda x: x**2, False),
    ("x.pow(2.5)", lambda m, x: x.pow(2.5), lambda x: x**2.5, True),
    ("m.pow(2,x)", lambda m, x: m.pow(2, x), lambda x: 2**x, False),
    ("m.add(x,2)", lambda m, x: m.add(x, 2), lambda x: x + 2, False),
    ("m.mul(x,2)", lambda m, x: m.mul(x, 2), lambda x: x * 2, False),
    ("x.sub(2)", lambda m, x: x.sub(2), lambda x: x - 2, False),
    ("x.div(2)", lambda m, x: x.div(2), lambda x: x / 2, False),
]


@pytest.mark.parametrize("shape", [(3, 4), ()], ids=["3x4", "0d"])
@pytest.mark.parametrize("name, fn, np_fn, positive", SCALAR_OPS, ids=[o[0] for o in SCALAR_OPS])
def test_scalar_ops(name, fn, np_fn, positive, shape):
    check(fn, [shape], np_fn=np_fn, positive=positive)


# ----------------------------------------------------------------------------------------------
# unary math, function and method forms
# ----------------------------------------------------------------------------------------------


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY_OPS = [
    ("neg", np.negative, False),
    ("abs", np.abs, False),
    ("exp", np.exp, False),
    ("log", np.log, True),
    ("sqrt", np.sqrt, True),
    ("sin", np.sin, False),
    ("cos", np.cos, False),
    ("tanh", np.tanh, False),
    ("sigmoid", _np_sigmoid, False),
    ("relu", lambda x: np.maximum(x, 0), False),
]


@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("name, np_fn, positive", UNARY_OPS, ids=[o[0] for o in UNARY_OPS])
def test_unary(name, np_fn, positive, form):
    if form == "function":

        def fn(m, x):
            return getattr(m, name)(x)
    else:

        def fn(m, x):
            return getattr(x, name)()

    check(fn, [(4, 5)], np_fn=np_fn, positive=positive)


@pytest.mark.parametrize("name, np_fn, positive", UNARY_OPS, ids=[o[0] for o in UNARY_OPS])
def test_unary_float64_and_0d(name, np_fn, positive):
    check(lambda m, x: getattr(m, name)(x), [(3, 2)], dtype="float64", np_fn=np_fn, positive=positive)
    check(lambda m, x: getattr(m, name)(x), [()], np_fn=np_fn, positive=positive)


@pytest.mark.parametrize(
    "fn",
    [lambda m, x: -x, lambda m, x: abs(x), lambda m, x: +x],
    ids=["-x", "abs(x)", "+x"],
)
def test_unary_operators(fn):
    check(fn, [(3, 4)])


def test_relu_keeps_dtype_and_zero_gradient_for_negatives():
    x = np.array([-1.5, -0.25, 0.5, 2.0], dtype=np.float32)
    out = check(lambda m, x: m.relu(x), [x], np_fn=lambda x: np.maximum(x, 0))
    assert out.dtype == engine.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_of_a_large_array_with_nan_inf_and_zeros(dtype):
    """Large enough to be split over the threads; NaN passes forward and its gradient passes back, as in
    PyTorch, and a zero input gets no gradient."""
    x = np.random.default_rng(0).standard_normal(3 * threads.PARALLEL_MIN_SIZE).astype(dtype)
    x[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0]
    check(lambda m, t: m.relu(t), [x], np_fn=lambda x: np.maximum(x, 0), gradcheck=False)


def test_abs_of_int_tensor():
    check(lambda m, x: x.abs(), [(3, 4)], dtype="int64", grad=False, np_fn=np.abs)


def test_neg_of_int_tensor():
    check(lambda m, x: -x, [(3, 4)], dtype="int64", grad=False, np_fn=np.negative)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "sigmoid", "tanh"])
def test_unary_of_int_tensor_promotes_to_float(name):
    check(lambda m, x: getattr(m, name)(x), [(3, 4)], dtype="int64", grad=False, positive=True)


# ----------------------------------------------------------------------------------------------
# clamp
# ----------------------------------------------------------------------------------------------

CLAMP_OPS = [
    ("m.clamp(x,-.5,.5)", lambda m, x: m.clamp(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ("x.clamp(-.5,.5)", lambda m, x: x.clamp(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ("x.clamp(min=-.5,max=.5)", lambda m, x: x.clamp(min=-0.5, max=0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ("x.clamp(min=0.3)", lambda m, x: x.clamp(min=0.3), lambda x: np.maximum(x, 0.3)),
    ("x.clamp(max=0.3)", lambda m, x: x.clamp(max=0.3), lambda x: np.minimum(x, 0.3)),
    ("m.clamp(x,min=-1)", lambda m, x: m.clamp(x, min=-1), lambda x: np.maximum(x, -1)),
    ("m.clamp(x,max=1)", lambda m, x: m.clamp(x, max=1), lambda x: np.minimum(x, 1)),
    ("m.clip(x,-1,1)", lambda m, x: m.clip(x, -1, 1), lambda x: np.clip(x, -1, 1)),
    ("x.clamp(1,-1)", lambda m, x: x.clamp(1, -1), lambda x: np.full_like(x, -1)),  # min > max: max wins
]


@pytest.mark.parametrize("name, fn, np_fn", CLAMP_OPS, ids=[o[0] for o in CLAMP_OPS])
def test_clamp(name, fn, np_fn):
    check(fn, [(4, 6)], np_fn=np_fn)


def test_clamp_int_tensor_keeps_int():
    check(lambda m, x: x.clamp(-1, 1), [(4, 6)], dtype="int64", grad=False)


def test_clamp_int_tensor_float_bound_promotes():
    check(lambda m, x: x.clamp(min=0.5), [(4, 6)], dtype="int64", grad=False)


def test_clamp_without_bounds_raises():
    check_error(lambda m, x: m.clamp(x), RuntimeError, "At least one of 'min' or 'max' must not be None", [(2, 3)])


# ----------------------------------------------------------------------------------------------
# maximum / minimum / where
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_gradient(name):
    a = np.array([1.0, 2.0, -1.0, 0.5], dtype=np.float32)
    b = np.array([1.0, 1.0, -1.0, 3.0], dtype=np.float32)
    check(lambda m, a, b: getattr(m, name)(a, b), [a, b])


def test_maximum_int_tensors():
    check(lambda m, a, b: m.maximum(a, b), [(3, 4), (4,)], dtype="int64", grad=False, np_fn=np.maximum)


def test_maximum_mixed_dtype_promotes():
    check(lambda m, a, b: m.maximum(a, b), [(3, 4), (4,)], dtype=["int64", "float32"])


WHERE_CASES = [
    ("same", [(3, 4), (3, 4), (3, 4)]),
    ("broadcast", [(3, 1), (1, 4), ()]),
    ("broadcast2", [(4,), (3, 4), (3, 1)]),
]


@pytest.mark.parametrize("name, shapes", WHERE_CASES, ids=[c[0] for c in WHERE_CASES])
def test_where(name, shapes):
    check(
        lambda m, c, a, b: m.where(c, a, b),
        shapes,
        dtype=["bool", "float32", "float32"],
        np_fn=lambda c, a, b: np.where(c, a, b),
    )


def test_where_method_form():
    check(lambda m, c, a, b: a.where(c, b), [(3, 4), (3, 4), (4,)], dtype=["bool", "float32", "float32"])


def test_where_with_condition_from_comparison():
    check(lambda m, a, b: m.where(a > b, a, b), [(3, 4), (3, 4)], np_fn=np.maximum)


def test_where_with_scalar_other():
    check(lambda m, a: m.where(a > 0, a, 0.0), [(3, 4)], np_fn=lambda a: np.where(a > 0, a, 0.0))


def test_where_mixed_dtypes_promote():
    check(lambda m, c, a, b: m.where(c, a, b), [(3, 4), (3, 4), (3, 4)], dtype=["bool", "float32", "float64"])


def test_where_single_argument_is_nonzero():
    x = np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    check(lambda m, x: m.where(x), [x], grad=False)


# ----------------------------------------------------------------------------------------------
# comparisons
# ----------------------------------------------------------------------------------------------

_CMP_A = np.array([[0.0, 1.0, -1.0, 2.0], [1.0, 1.0, 0.5, -2.0], [3.0, -0.5, 0.0, 1.0]], dtype=np.float32)
_CMP_B = np.array([1.0, 1.0, 0.5, -2.0], dtype=np.float32)

COMPARISONS = [
    ("==", lambda m, a, b: a == b, np.equal),
    ("!=", lambda m, a, b: a != b, np.not_equal),
    ("<", lambda m, a, b: a < b, np.less),
    ("<=", lambda m, a, b: a <= b, np.less_equal),
    (">", lambda m, a, b: a > b, np.greater),
    (">=", lambda m, a, b: a >= b, np.greater_equal),
    ("m.eq", lambda m, a, b: m.eq(a, b), np.equal),
    ("m.ne", lambda m, a, b: m.ne(a, b), np.not_equal),
    ("m.lt", lambda m, a, b: m.lt(a, b), np.less),
    ("m.le", lambda m, a, b: m.le(a, b), np.less_equal),
    ("m.gt", lambda m, a, b: m.gt(a, b), np.greater),
    ("m.ge", lambda m, a, b: m.ge(a, b), np.greater_equal),
    ("a.eq", lambda m, a, b: a.eq(b), np.equal),
    ("a.gt", lambda m, a, b: a.gt(b), np.greater),
]


@pytest.mark.parametrize("name, fn, np_fn", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparison_tensor_tensor(name, fn, np_fn):
    out = check(fn, [_CMP_A, _CMP_B], grad=False, np_fn=np_fn)
    assert out.dtype == engine.bool
    assert not out.requires_grad


@pytest.mark.parametrize("name, fn, np_fn", COMPARISONS[:6], ids=[c[0] for c in COMPARISONS[:6]])
def test_comparison_with_scalar(name, fn, np_fn):
    check(lambda m, a: fn(m, a, 1.0), [_CMP_A], grad=False, np_fn=lambda a: np_fn(a, 1.0))
    check(lambda m, a: fn(m, 1, a), [_CMP_A], grad=False, np_fn=lambda a: np_fn(1, a))


def test_comparison_on_requires_grad_tensor_gives_no_grad():
    out = check(lambda m, a, b: a > b, [(3, 4), (3, 4)])
    assert out.grad_fn is None


def test_comparison_mixed_dtypes():
    check(lambda m, a, b: a < b, [(3, 4), (4,)], dtype=["int64", "float32"], grad=False)


def test_comparison_bool_tensors():
    check(lambda m, a, b: a == b, [(3, 4), (3, 4)], dtype="bool", grad=False)


# ----------------------------------------------------------------------------------------------
# out= and alpha=
# ----------------------------------------------------------------------------------------------


def test_add_out():
    def fn(m, x, y):
        result = m.empty(3, 4)
        returned = m.add(x, y, out=result)
        assert returned is result
        return result

    check(fn, [(3, 4), (4,)], grad=False, np_fn=np.add)


def test_add_out_with_requires_grad_raises():
    def fn(m, x, y):
        x.requires_grad_(True)
        return m.add(x, y, out=m.empty(3, 4))

    check_error(fn, RuntimeError, "don't support automatic differentiation", [(3, 4), (3, 4)])


@pytest.mark.parametrize("name", ["mul", "sub", "div"])
def test_out_other_ops(name):
    def fn(m, x, y):
        result = m.zeros(3, 4)
        getattr(m, name)(x, y, out=result)
        return result

    check(fn, [(3, 4), (3, 4)], grad=False, positive=True)


ALPHA_OPS = [
    ("x.add(y,alpha=2)", lambda m, x, y: x.add(y, alpha=2), lambda x, y: x + 2 * y),
    ("m.add(x,y,alpha=-0.5)", lambda m, x, y: m.add(x, y, alpha=-0.5), lambda x, y: x - 0.5 * y),
    ("x.sub(y,alpha=3)", lambda m, x, y: x.sub(y, alpha=3), lambda x, y: x - 3 * y),
    ("m.sub(x,y,alpha=2)", lambda m, x, y: m.sub(x, y, alpha=2), lambda x, y: x - 2 * y),
]


@pytest.mark.parametrize("name, fn, np_fn", ALPHA_OPS, ids=[o[0] for o in ALPHA_OPS])
def test_alpha(name, fn, np_fn):
    check(fn, [(3, 4), (4,)], np_fn=np_fn)


def test_alpha_float_on_int_tensors_raises():
    check_error(lambda m, x, y: x.add(y, alpha=0.5), RuntimeError, "alpha", [(3,), (3,)], dtype="int64")


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

ERRORS = [
    # name, fn, exception, message, input shapes, input dtypes
    (
        "broadcast mismatch",
        lambda m, a, b: a + b,
        RuntimeError,
        "The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 1",
        [(3, 4), (3,)],
        "float32",
    ),
    (
        "broadcast mismatch mul",
        lambda m, a, b: a * b,
        RuntimeError,
        "must match the size of tensor b",
        [(2, 3), (2, 1, 2)],
        "float32",
    ),
    (
        "where mismatch",
        lambda m, a, b: m.where(a > 0, a, b),
        RuntimeError,
        "must match the size of tensor",
        [(3, 4), (2, 4)],
        "float32",
    ),
    (
        "maximum mismatch",
        lambda m, a, b: m.maximum(a, b),
        RuntimeError,
        "must match the size of tensor",
        [(3, 4), (5,)],
        "float32",
    ),
    (
        "comparison mismatch",
        lambda m, a, b: a < b,
        RuntimeError,
        "must match the size of tensor",
        [(3, 4), (2,)],
        "float32",
    ),
    (
        "bool - bool",
        lambda m, a, b: a - b,
        RuntimeError,
        "Subtraction, the `-` operator, with two bool tensors is not supported",
        [(3,), (3,)],
        "bool",
    ),
    (
        "-bool",
        lambda m, a: -a,
        RuntimeError,
        "Negation, the `-` operator, on a bool tensor is not supported",
        [(3,)],
        "bool",
    ),
    (
        "int ** negative int",
        lambda m, a: a**-1,
        RuntimeError,
        "Integers to negative integer powers are not allowed",
        [(3,)],
        "int64",
    ),
]


@pytest.mark.parametrize("name, fn, exc, match, shapes, dtype", ERRORS, ids=[e[0] for e in ERRORS])
def test_elementwise_errors(name, fn, exc, match, shapes, dtype):
    check_error(fn, exc, match, shapes, dtype=dtype)


# ----------------------------------------------------------------------------------------------
# type promotion
# ----------------------------------------------------------------------------------------------

PROMOTION = [
    # name, fn, dtypes of the inputs, shapes of the inputs
    ("int64+2.5->float32", lambda m, a: a + 2.5, ["int64"], [(3,)]),
    ("2.5*int64->float32", lambda m, a: 2.5 * a, ["int64"], [(3,)]),
    ("int64*2->int64", lambda m, a: a * 2, ["int64"], [(3,)]),
    ("int32+2->int32", lambda m, a: a + 2, ["int32"], [(3,)]),
    ("int32+True->int32", lambda m, a: a + True, ["int32"], [(3,)]),
    ("int64/int64->float32", lambda m, a, b: a / b, ["int64", "int64"], [(3,), (3,)]),
    ("int64/2->float32", lambda m, a: a / 2, ["int64"], [(3,)]),
    ("2/int64->float32", lambda m, a: 2 / a, ["int64"], [(3,)]),
    ("float32+float64->float64", lambda m, a, b: a + b, ["float32", "float64"], [(3,), (3,)]),
    ("float32+0d float64->float32", lambda m, a, b: a + b, ["float32", "float64"], [(3,), ()]),
    ("int64+0d float64->float64", lambda m, a, b: a + b, ["int64", "float64"], [(3,), ()]),
    ("int32+0d int64->int32", lambda m, a, b: a + b, ["int32", "int64"], [(3,), ()]),
    ("0d int32+0d int64->int64", lambda m, a, b: a + b, ["int32", "int64"], [(), ()]),
    ("float16+float32->float32", lambda m, a, b: a + b, ["float16", "float32"], [(3,), (3,)]),
    ("float16+0d float32->float16", lambda m, a, b: a + b, ["float16", "float32"], [(3,), ()]),
    ("float16*2.5->float16", lambda m, a: a * 2.5, ["float16"], [(3,)]),
    ("uint8+int8->int16", lambda m, a, b: a + b, ["uint8", "int8"], [(3,), (3,)]),
    ("bool+1->int64", lambda m, a: a + 1, ["bool"], [(3,)]),
    ("bool*1.5->float32", lambda m, a: a * 1.5, ["bool"], [(3,)]),
    ("bool+int32->int32", lambda m, a, b: a + b, ["bool", "int32"], [(3,), (3,)]),
    ("int64**2->int64", lambda m, a: a**2, ["int64"], [(3,)]),
    ("int64**0.5->float32", lambda m, a: a**0.5, ["int64"], [(3,)]),
    ("2**int64->int64", lambda m, a: 2**a, ["int64"], [(3,)]),
    ("2.0**int64->float32", lambda m, a: 2.0**a, ["int64"], [(3,)]),
    ("int64-float32->float32", lambda m, a, b: a - b, ["int64", "float32"], [(3,), (3,)]),
]


@pytest.mark.parametrize("name, fn, dtypes, shapes", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_type_promotion(name, fn, dtypes, shapes):
    expected = name.rsplit("->", 1)[1]
    out = check(fn, shapes, dtype=dtypes, grad=False, positive=True, atol=1e-3, rtol=1e-3)
    assert out.dtype == getattr(engine, expected)


def test_promotion_backward_grads_keep_input_dtypes():
    x = engine.tensor([1.0, 2.0], dtype=engine.float32, requires_grad=True)
    y = engine.tensor([3.0, 4.0], dtype=engine.float64, requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.dtype == engine.float32
    assert y.grad.dtype == engine.float64
    check(lambda m, a, b: a * b + a, [(3, 4), (4,)], dtype=["float32", "float64"])


def test_promotion_0d_float64_scalar_backward():
    check(lambda m, a, b: a * b, [(3, 4), ()], dtype=["float32", "float64"])


# ----------------------------------------------------------------------------------------------
# casts
# ----------------------------------------------------------------------------------------------

CASTS = [
    ("float", lambda m, x: x.float(), "float32"),
    ("double", lambda m, x: x.double(), "float64"),
    ("half", lambda m, x: x.half(), "float16"),
    ("long", lambda m, x: x.long(), "int64"),
    ("int", lambda m, x: x.int(), "int32"),
    ("bool", lambda m, x: x.bool(), "bool"),
    ("to(float64)", lambda m, x: x.to(m.float64), "float64"),
    ("to(int64)", lambda m, x: x.to(m.int64), "int64"),
    ("to(dtype=float16)", lambda m, x: x.to(dtype=m.float16), "float16"),
    ("type(float64)", lambda m, x: x.type(m.float64), "float64"),
]

_CAST_X = np.array([[-1.7, -0.5, 0.0, 0.4], [1.5, 2.9, -2.2, 1.0]], dtype=np.float32)


@pytest.mark.parametrize("name, fn, expected", CASTS, ids=[c[0] for c in CASTS])
def test_cast_from_float32(name, fn, expected):
    out = check(fn, [_CAST_X], atol=1e-3, rtol=1e-3)
    assert out.dtype == getattr(engine, expected)


@pytest.mark.parametrize("name, fn, expected", CASTS, ids=[c[0] for c in CASTS])
def test_cast_from_int64(name, fn, expected):
    out = check(fn, [(3, 4)], dtype="int64", grad=False)
    assert out.dtype == getattr(engine, expected)


def test_cast_to_same_dtype_returns_self():
    x = engine.tensor([1.0, 2.0])
    assert x.to(engine.float32) is x
    assert x.float() is x


def test_cast_gradient_comes_back_in_input_dtype():
    out = check(lambda m, x: (x.double() * 2).half(), [(3, 4)], atol=1e-2, rtol=1e-2)
    assert out.dtype == engine.float16


def test_cast_to_int_cuts_the_graph():
    out = check(lambda m, x: x.long(), [(3, 4)])
    assert not out.requires_grad


# ----------------------------------------------------------------------------------------------
# numerical stability at extreme inputs: finite where torch is finite, and no NumPy warnings
# ----------------------------------------------------------------------------------------------

_EXTREME = np.array([-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4], dtype=np.float32)

STABILITY = [
    ("sigmoid", lambda m, x: m.sigmoid(x), lambda x: np.array([0, 0, 0.26894142, 0.5, 0.7310586, 1, 1])),
    ("tanh", lambda m, x: m.tanh(x), lambda x: np.tanh(x)),
    ("exp", lambda m, x: m.exp(x), None),  # inf at 1e4, like torch, silently
    ("softmax", lambda m, x: m.softmax(x, dim=0), None),
    ("log_softmax", lambda m, x: m.log_softmax(x, dim=0), None),
    ("softmax(3x)", lambda m, x: m.softmax(x * 3, dim=-1), None),
    ("relu", lambda m, x: m.relu(x), lambda x: np.maximum(x, 0)),
    ("logsumexp", lambda m, x: m.logsumexp(x, dim=0), None),
]


@pytest.mark.parametrize("name, fn, np_fn", STABILITY, ids=[s[0] for s in STABILITY])
def test_stability_extreme_inputs(name, fn, np_fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = check(fn, [_EXTREME], np_fn=np_fn, gradcheck=False)
        x = engine.tensor(_EXTREME, requires_grad=True)
        y = fn(engine, x)
        if name != "exp":
            assert np.isfinite(y.detach().numpy()).all()
        y.backward(engine.ones_like(y))
    assert not np.isnan(x.grad.numpy()).any()
    assert not np.isnan(out.detach().numpy()).any()


def test_sigmoid_gradient_vanishes_at_extremes():
    x = engine.tensor([-1e4, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.sigmoid(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_exp_overflow_is_inf_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = engine.exp(engine.tensor([1e4, -1e4]))
    np.testing.assert_array_equal(y.numpy(), [np.inf, 0.0])


SPECIAL_VALUES = [
    ("log(0)", lambda m, x: m.log(x), np.array([0.0, 1.0], dtype=np.float32)),
    ("x/0", lambda m, x: x / 0, np.array([1.0, -1.0, 0.0], dtype=np.float32)),
    ("sqrt(-1)", lambda m, x: m.sqrt(x), np.array([-1.0, 4.0], dtype=np.float32)),
    ("log(-1)", lambda m, x: m.log(x), np.array([-1.0, 1.0], dtype=np.float32)),
    ("x**-1 at 0", lambda m, x: x**-1, np.array([0.0, 2.0], dtype=np.float32)),
]


@pytest.mark.parametrize("name, fn, x", SPECIAL_VALUES, ids=[s[0] for s in SPECIAL_VALUES])
def test_special_values_without_warnings(name, fn, x):
    check(fn, [x], grad=False)


def _a(*values):
    return np.array(values, dtype=np.float32)


# Gradients at the points where an op is not differentiable follow torch's conventions.
KINKS = [
    ("abs at 0", lambda m, x: x.abs(), _a(0.0, 1.0, -1.0)),
    ("relu at 0", lambda m, x: x.relu(), _a(0.0, 1.0, -1.0)),
    ("sqrt at 0", lambda m, x: x.sqrt(), _a(0.0, 1.0)),
    ("x**0.5 at 0", lambda m, x: x**0.5, _a(0.0, 1.0)),
    ("x**2 at 0", lambda m, x: x**2, _a(0.0, 1.0)),
    ("x**0 at 0", lambda m, x: x**0, _a(0.0, 1.0)),
    ("log at 0", lambda m, x: x.log(), _a(0.0, 1.0)),
    ("clamp at bounds", lambda m, x: x.clamp(0, 1), _a(0.0, 1.0, 0.5, 2.0, -1.0)),
    ("clamp(min) at bound", lambda m, x: x.clamp(min=0.5), _a(0.5, 1.0, 0.0)),
    ("maximum with 0 at 0", lambda m, x: m.maximum(x, m.zeros_like(x)), _a(0.0, 1.0, -1.0)),
    ("where at tie", lambda m, x: m.where(x > 0, x, -x), _a(0.0, 1.0, -1.0)),
]


@pytest.mark.parametrize("name, fn, x", KINKS, ids=[k[0] for k in KINKS])
def test_gradient_at_kinks(name, fn, x):
    check(fn, [x], gradcheck=False)


def test_gradient_of_division_by_zero():
    check(lambda m, a, b: a / b, [_a(1.0, 0.0, -1.0), _a(0.0, 0.0, 0.0)], gradcheck=False)
    check(lambda m, a, b: a**b, [_a(0.0, 0.0, 1.0), _a(2.0, 0.0, 0.5)], gradcheck=False)


# NaN flows like torch's: the value propagates, and the gradient goes where torch sends it.
_NAN = _a(1.0, np.nan, -2.0, 3.0)

NAN_OPS = [
    ("relu", lambda m, x, y: x.relu()),
    ("maximum", lambda m, x, y: m.maximum(x, y)),
    ("minimum", lambda m, x, y: m.minimum(x, y)),
    ("clamp", lambda m, x, y: x.clamp(-1, 1)),
    ("abs", lambda m, x, y: x.abs()),
    ("sigmoid", lambda m, x, y: x.sigmoid()),
    ("where", lambda m, x, y: m.where(x > 0, x, y)),
]


@pytest.mark.parametrize("name, fn", NAN_OPS, ids=[o[0] for o in NAN_OPS])
def test_nan_propagation_and_gradient(name, fn):
    check(fn, [_NAN, (4,)], gradcheck=False)


def test_sum_of_huge_exp_then_log_is_stable_via_logsumexp():
    x = np.array([[1e4, 1e4 - 1.0], [-1e4, -1e4 + 2.0]], dtype=np.float32)
    check(lambda m, x: m.logsumexp(x, dim=1), [x], gradcheck=False)
