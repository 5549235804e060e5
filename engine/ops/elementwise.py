"""Elementwise operations: arithmetic with broadcasting and PyTorch's type promotion, math functions,
comparisons, ``where``, ``clamp``, ``maximum``/``minimum``."""

import numbers

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import state as _grad_state
from ..backend import CPU, Implementation
from ..creation import tensor
from ..tensor import Tensor, make_tensor
from . import jit, relu_kernels
from .convert import cast, promote_pair
from .op import Op, binary, common_device, compute, sum_to, translate_array_error, unbroadcast, write_out, xp_of
from .piecewise import constant_in

_Scalar = (numbers.Number, np.number, np.bool_)


# ----- operands and type promotion -----
def _scalar_tensor(value, like):
    return tensor(value, device=like._device)


def _promoted(a, b):
    """Bring ``a`` (a tensor) and ``b`` (tensor or Python scalar) to PyTorch's common dtype."""
    if isinstance(b, Tensor):
        return promote_pair(a, b)
    if isinstance(b, _Scalar):
        category = dtypes.scalar_category(b)
        a_dt = dtypes.from_numpy(a._data.dtype)
        if category > a_dt.category:
            a = cast(a, dtypes.default_for_category(category))
        elif category == 1 and a_dt.category == 1 and not _fits(b, a._data.dtype):
            b = np.array(b).astype(a._data.dtype)[()]  # wraps around, as PyTorch's integer types do
        return a, b
    if isinstance(b, np.ndarray):
        return _promoted(a, tensor(b, device=a._device))
    raise TypeError(f"unsupported operand type: {type(b).__name__}")


def _fits(value, np_dtype):
    info = np.iinfo(np_dtype)
    return info.min <= value <= info.max


def _binary(tensor_op, scalar_op, a, b):
    a, b = _promoted(a, b)
    if isinstance(b, Tensor):
        return tensor_op.apply(a, b)
    return scalar_op.apply(a, other=b)


def _times_constant(g, factor):
    """``g`` times a piecewise-constant ``factor`` (an array: a mask, a sign), a constant in ``g``'s graph."""
    return g * make_tensor(factor.astype(g._data.dtype, copy=False), g._device)


def _zero_where(cond, t):
    """``t`` with zeros where the array ``cond`` holds, differentiable in ``t``."""
    zero = t.new_zeros(())
    return Where.apply(zero, t, cond=cond)


def _float_operand(a):
    """Math functions on integer tensors compute in the default float type, as PyTorch does."""
    if a._data.dtype.kind in "biu":
        return cast(a, dtypes.get_default_dtype())
    return a


# ----- arithmetic -----
class Add(Op):
    """``a + alpha * b``; ``Sub`` is the same node with ``np.subtract`` and the opposite sign for ``b``."""

    __slots__ = ("alpha", "sa", "sb")
    _name = "AddBackward0"
    saves_tensors = False
    ufunc = np.add
    sign = 1

    def forward(self, a, b, alpha=1):
        self.sa, self.sb, self.alpha = a.shape, b.shape, alpha
        return binary(self.ufunc, a, b if alpha == 1 else alpha * b)

    def backward(self, g):
        scale = self.sign * self.alpha
        return unbroadcast(g, self.sa), unbroadcast(g if scale == 1 else g * scale, self.sb)

    def backward_graph(self, g):
        scale = self.sign * self.alpha
        return sum_to(g, self.sa), sum_to(g if scale == 1 else g * scale, self.sb)


class Sub(Add):
    __slots__ = ()
    _name = "SubBackward0"
    ufunc = np.subtract
    sign = -1


class AddScalar(Op):
    __slots__ = ()
    _name = "AddBackward0"
    saves_tensors = False
    ufunc = np.add

    def forward(self, a, other):
        return binary(self.ufunc, a, other)

    def backward(self, g):
        return (g,)

    def backward_graph(self, g):
        return (g,)


class SubScalar(AddScalar):
    __slots__ = ()
    _name = "SubBackward0"
    ufunc = np.subtract


class RSubScalar(Op):
    __slots__ = ()
    _name = "RsubBackward1"
    saves_tensors = False

    def forward(self, a, other):
        return other - a

    def backward(self, g):
        return (-g,)

    backward_graph = backward


class Mul(Op):
    __slots__ = ("a", "b")
    _name = "MulBackward0"
    saves = 1

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary(np.multiply, a, b)

    def backward(self, g):
        ea, eb = self._edges
        a, b = self.a, self.b
        return (None if ea is None else unbroadcast(g * b, a.shape),
                None if eb is None else unbroadcast(g * a, b.shape))

    def backward_graph(self, g):
        ea, eb = self._edges
        a, b = self.saved_input(0, self.a), self.saved_input(1, self.b)
        return (None if ea is None else sum_to(g * b, self.a.shape),
                None if eb is None else sum_to(g * a, self.b.shape))


class MulScalar(Op):
    __slots__ = ("other",)
    _name = "MulBackward0"
    saves_tensors = False

    def forward(self, a, other):
        self.other = other
        return binary(np.multiply, a, other)

    def backward(self, g):
        return (g * self.other,)

    def backward_graph(self, g):
        return (g * self.other,)


class Div(Op):
    __slots__ = ("a", "b")
    _name = "DivBackward0"
    saves = 1

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary(np.true_divide, a, b)

    def backward(self, g):
        ea, eb = self._edges
        a, b = self.a, self.b
        ga = None if ea is None else unbroadcast(g / b, a.shape)
        gb = None if eb is None else unbroadcast(-g * a / (b * b), b.shape)
        return ga, gb

    def backward_graph(self, g):
        ea, eb = self._edges
        b = self.saved_input(1, self.b)
        ga = None if ea is None else sum_to(g / b, self.a.shape)
        gb = None if eb is None else sum_to(-g * self.saved_input(0, self.a) / (b * b), self.b.shape)
        return ga, gb


class DivScalar(Op):
    __slots__ = ("other",)
    _name = "DivBackward0"
    saves_tensors = False

    def forward(self, a, other):
        self.other = other
        return binary(np.true_divide, a, other)

    def backward(self, g):
        return (g / self.other,)

    backward_graph = backward


class RDivScalar(Op):
    __slots__ = ("other", "out")
    _name = "DivBackward0"
    saves = 2

    def forward(self, a, other):
        self.other = other
        self.out = other / a
        return self.out

    def backward(self, g):
        out = self.out
        return (-g * out * out / self.other if self.other != 0 else g * 0,)

    def backward_graph(self, g):
        if self.other == 0:
            return (g * 0,)
        out = self.saved_output(self.out)
        return (-g * out * out / self.other,)


class Pow(Op):
    __slots__ = ("a", "b", "out")
    _name = "PowBackward1"
    saves = 3

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        ea, eb = self._edges
        a, b, out = self.a, self.b, self.out
        xp = xp_of(a)
        ga = gb = None
        if ea is not None:
            ga = unbroadcast(g * b * xp.where(b == 0, 1, a ** (b - 1)), a.shape)
        if eb is not None:
            gb = unbroadcast(g * out * xp.log(xp.where(a > 0, a, 1)) * (a > 0), b.shape)
        return ga, gb

    def backward_graph(self, g):
        ea, eb = self._edges
        a, b = self.a, self.b
        at = self.saved_input(0, a)
        ga = gb = None
        if ea is not None:
            bt = self.saved_input(1, b)
            ga = sum_to(_zero_where(b == 0, g * bt * at ** (bt - 1)), a.shape)
        if eb is not None:
            # log(a) where a > 0, else log(1) = 0: the array formula's mask, differentiable in a
            one = make_tensor(xp_of(a).ones((), dtype=a.dtype), g._device)
            log_a = Where.apply(at, one, cond=a > 0).log()
            gb = sum_to(g * self.saved_output(self.out) * log_a, b.shape)
        return ga, gb


class PowScalar(Op):
    __slots__ = ("a", "other")
    _name = "PowBackward0"
    saves = 1

    def forward(self, a, other):
        self.a, self.other = a, other
        if other == 2:
            return a * a
        return a ** other

    def backward(self, g):
        p = self.other
        if p == 0:
            return (g * 0,)
        if p == 2:
            return (g * 2 * self.a,)
        return (g * p * self.a ** (p - 1),)

    def backward_graph(self, g):
        p = self.other
        if p == 0:
            return (g * 0,)
        return (g * (self.saved_input(0, self.a) ** (p - 1) * p),)


class RPowScalar(Op):
    """``scalar ** tensor``."""

    __slots__ = ("base", "out")
    _name = "PowBackward2"
    saves = 2

    def forward(self, a, base):
        self.base = base
        self.out = xp_of(a).power(a.dtype.type(base), a)
        return self.out

    def backward(self, g):
        return (g * self.out * float(np.log(self.base)) if self.base > 0 else g * 0,)

    def backward_graph(self, g):
        if self.base > 0:
            return (g * self.saved_output(self.out) * float(np.log(self.base)),)
        return (g * 0,)


def _fast(ufunc, general, tensor_op, scalar_op, kinds="fiub"):
    """The operator ``general`` with a shortcut for the common cases: two tensors of one dtype and
    device, or a floating tensor and a Python float."""

    def op(self, other):
        if other.__class__ is Tensor:
            a, b = self._data, other._data
            if a.dtype is b.dtype and self._device is other._device and self._device is CPU and \
                    a.dtype.kind in kinds:
                if (self._requires_grad or other._requires_grad) and _grad_state.enabled:
                    return tensor_op.apply(self, other)
                try:
                    return make_tensor(binary(ufunc, a, b), self._device)
                except ValueError as e:
                    raise translate_array_error(e, (a, b)) from None
        elif other.__class__ is float and self._device is CPU:
            a = self._data
            if a.dtype.kind == "f":
                if self._requires_grad and _grad_state.enabled:
                    return scalar_op.apply(self, other=other)
                return make_tensor(binary(ufunc, a, other), self._device)
        return general(self, other)

    op.__name__ = general.__name__
    return op


def _check_alpha(input, other, alpha):
    ints = input._data.dtype.kind in "biu" and (not isinstance(other, Tensor) or other._data.dtype.kind in "biu")
    if ints and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")


def _binary_alpha(tensor_op, scalar_op, input, other, alpha):
    """``input`` combined with ``alpha * other`` by ``add`` or ``sub``'s nodes."""
    if alpha == 1:
        return _binary(tensor_op, scalar_op, input, other)
    _check_alpha(input, other, alpha)
    a, b = _promoted(input, other)
    if isinstance(b, Tensor):
        return tensor_op.apply(a, b, alpha=alpha)
    return scalar_op.apply(a, other=b * alpha)


def add(input, other, *, alpha=1, out=None):
    if not isinstance(input, Tensor):
        input, other = _scalar_tensor(input, other), other
    return write_out(_binary_alpha(Add, AddScalar, input, other, alpha), out, "add")


def sub(input, other, *, alpha=1, out=None):
    if not isinstance(input, Tensor):
        input = _scalar_tensor(input, other)
    a_bool = input._data.dtype.kind == "b"
    b_bool = isinstance(other, Tensor) and other._data.dtype.kind == "b"
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return write_out(_binary_alpha(Sub, SubScalar, input, other, alpha), out, "sub")


def rsub(input, other):
    """``other - input`` for a scalar ``other``."""
    a, b = _promoted(input, other)
    if isinstance(b, Tensor):
        return Sub.apply(b, a)
    return RSubScalar.apply(a, other=b)


def mul(input, other, *, out=None):
    if not isinstance(input, Tensor):
        input, other = other, input
    return write_out(_binary(Mul, MulScalar, input, other), out, "mul")


def div(input, other, *, rounding_mode=None, out=None):
    if not isinstance(input, Tensor):
        return write_out(rdiv(other, input), out, "div")
    if rounding_mode is not None:
        return write_out(_rounded_div(input, other, rounding_mode, differentiable=True), out, "div")
    a, b = _promoted(input, other)
    if a._data.dtype.kind in "biu" and (not isinstance(b, Tensor) or b._data.dtype.kind in "biu"):
        default = dtypes.get_default_dtype()
        a = cast(a, default)
        b = cast(b, default) if isinstance(b, Tensor) else b
    return write_out(Div.apply(a, b) if isinstance(b, Tensor) else DivScalar.apply(a, other=b), out, "div")


class RoundedDiv(Op):
    """``div`` with a ``rounding_mode``: piecewise constant, so its gradients are zeros (PyTorch's DivBackward2)."""

    __slots__ = ("shapes",)
    _name = "DivBackward2"
    saves_tensors = False

    def forward(self, *arrays, divide=None):
        self.shapes = [a.shape for a in arrays]
        return divide(*arrays)

    def backward(self, g):
        zero = g * 0
        return tuple(unbroadcast(zero, shape) for shape in self.shapes)

    def backward_graph(self, g):
        zero = g * 0
        return tuple(sum_to(zero, shape) for shape in self.shapes)


def _rounded_div(a, b, mode, differentiable=False):
    """``a / b`` rounded by ``mode``; outside the graph unless ``differentiable`` (``floor_divide`` has no
    derivative in PyTorch; ``div``'s rounding modes have zeros)."""
    if mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{mode}'")
    a, b = _promoted(a, b)
    rounding = np.floor if mode == "floor" else np.trunc

    def divide(x, y=b):
        return rounding(np.true_divide(x, y)).astype(x.dtype, copy=False)

    tensors = (a, b) if isinstance(b, Tensor) else (a,)
    if differentiable:
        return RoundedDiv.apply(*tensors, divide=divide)
    return compute(divide, *tensors)


def rdiv(input, other):
    """``other / input`` for a scalar ``other``."""
    a = input
    if a._data.dtype.kind in "biu":
        a = cast(a, dtypes.get_default_dtype())
    a, b = _promoted(a, other)
    if isinstance(b, Tensor):
        return Div.apply(b, a)
    return RDivScalar.apply(a, other=b)


def true_divide(input, other):
    return div(input, other)


def floor_divide(input, other):
    return _rounded_div(input, other, "floor")


class Remainder(Op):
    """``a % b`` with the sign of ``b``, as Python and PyTorch define it: ``a - floor(a / b) * b``."""

    __slots__ = ("a", "b")
    _name = "RemainderBackward1"
    saves = 1

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary(np.mod, a, b)

    def backward(self, g):
        ea, eb = self._edges
        a, b = self.a, self.b
        return (None if ea is None else unbroadcast(g, a.shape),
                None if eb is None else unbroadcast(-g * xp_of(g).floor(a / b), b.shape))

    def backward_graph(self, g):
        ea, eb = self._edges
        if eb is None:
            return sum_to(g, self.a.shape), None
        quotient = (self.saved_input(0, self.a) / self.saved_input(1, self.b)).floor()  # zero derivative
        return None if ea is None else sum_to(g, self.a.shape), sum_to(-g * quotient, self.b.shape)


class RemainderScalar(AddScalar):
    """``a % scalar``: the gradient passes unchanged."""

    __slots__ = ()
    _name = "RemainderBackward0"
    ufunc = np.mod


def remainder(input, other):
    return _binary(Remainder, RemainderScalar, input, other)


def pow(input, exponent):
    if not isinstance(input, Tensor):
        return rpow(exponent, input)
    if isinstance(exponent, Tensor):
        a, b = _promoted(input, exponent)
        return Pow.apply(a, b)
    a, b = _promoted(input, exponent)
    return PowScalar.apply(a, other=b)


def rpow(input, base):
    a, b = _promoted(input, base)
    if isinstance(b, Tensor):
        return Pow.apply(b, a)
    return RPowScalar.apply(a, base=b)


# ----- unary math -----
class _Unary(Op):
    """A unary op whose backward multiplies by a derivative computed from the input and/or output."""

    __slots__ = ("x", "y")
    saves = 1

    def forward(self, x):
        self.x = x
        self.y = y = self.f(x)
        return y

    def backward(self, g):
        return (g * self.df(self.x, self.y),)

    def _graph_formula(self, g):
        return (g * self.df_graph(self.saved_input(0, self.x), self.saved_output(self.y)),)


def _unary(name, f, df, saves=1, torch_name=None, df_graph=None):
    """A ``_Unary`` op class; ``df_graph(x, y)`` is ``df`` in tensor ops, for the double backward."""
    cls = type(name, (_Unary,), {
        "__slots__": (), "_name": torch_name or f"{name}Backward0", "saves": saves,
        "f": staticmethod(f), "df": staticmethod(df),
        "df_graph": staticmethod(df_graph), "backward_graph": _Unary._graph_formula if df_graph else None,
    })
    return cls


_LN2, _LN10 = float(np.log(2)), float(np.log(10))


def _sign(x):
    """PyTorch's ``sign``, 0 at NaN: also ``abs``'s derivative."""
    return xp_of(x).nan_to_num(xp_of(x).sign(x))


class Neg(Op):
    __slots__ = ()
    _name = "NegBackward0"
    saves_tensors = False

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)

    backward_graph = backward


Exp = _unary("Exp", lambda x: xp_of(x).exp(x), lambda x, y: y, saves=2, df_graph=lambda x, y: y)
Log = _unary("Log", lambda x: xp_of(x).log(x), lambda x, y: 1 / x, df_graph=lambda x, y: 1 / x)
Log2 = _unary("Log2", lambda x: xp_of(x).log2(x), lambda x, y: 1 / (x * np.log(2)),
              df_graph=lambda x, y: 1 / (x * _LN2))
Log10 = _unary("Log10", lambda x: xp_of(x).log10(x), lambda x, y: 1 / (x * np.log(10)),
               df_graph=lambda x, y: 1 / (x * _LN10))
Log1p = _unary("Log1p", lambda x: xp_of(x).log1p(x), lambda x, y: 1 / (1 + x), df_graph=lambda x, y: 1 / (1 + x))
Expm1 = _unary("Expm1", lambda x: xp_of(x).expm1(x), lambda x, y: y + 1, saves=2, df_graph=lambda x, y: y + 1)
Sqrt = _unary("Sqrt", lambda x: xp_of(x).sqrt(x), lambda x, y: 0.5 / y, saves=2, df_graph=lambda x, y: 0.5 / y)
Rsqrt = _unary("Rsqrt", lambda x: 1 / xp_of(x).sqrt(x), lambda x, y: -0.5 * y * y * y, saves=2,
               df_graph=lambda x, y: -0.5 * y * y * y)
Sin = _unary("Sin", lambda x: xp_of(x).sin(x), lambda x, y: xp_of(x).cos(x), df_graph=lambda x, y: x.cos())
Cos = _unary("Cos", lambda x: xp_of(x).cos(x), lambda x, y: -xp_of(x).sin(x), df_graph=lambda x, y: -x.sin())
Tan = _unary("Tan", lambda x: xp_of(x).tan(x), lambda x, y: 1 + y * y, saves=2, df_graph=lambda x, y: 1 + y * y)
Tanh = _unary("Tanh", lambda x: xp_of(x).tanh(x), lambda x, y: 1 - y * y, saves=2, df_graph=lambda x, y: 1 - y * y)
Abs = _unary("Abs", lambda x: xp_of(x).abs(x), lambda x, y: _sign(x), df_graph=lambda x, y: Sign.apply(x))
Reciprocal = _unary("Reciprocal", lambda x: 1 / x, lambda x, y: -y * y, saves=2, df_graph=lambda x, y: -(y * y))
Square = _unary("Square", lambda x: x * x, lambda x, y: 2 * x, torch_name="PowBackward0",
                df_graph=lambda x, y: 2 * x)
Atan = _unary("Atan", lambda x: xp_of(x).arctan(x), lambda x, y: 1 / (1 + x * x),
              df_graph=lambda x, y: 1 / (1 + x * x))
Asin = _unary("Asin", lambda x: xp_of(x).arcsin(x), lambda x, y: 1 / xp_of(x).sqrt(1 - x * x),
              df_graph=lambda x, y: 1 / (1 - x * x).sqrt())
Acos = _unary("Acos", lambda x: xp_of(x).arccos(x), lambda x, y: -1 / xp_of(x).sqrt(1 - x * x),
              df_graph=lambda x, y: -1 / (1 - x * x).sqrt())
Sinh = _unary("Sinh", lambda x: xp_of(x).sinh(x), lambda x, y: xp_of(x).cosh(x), df_graph=lambda x, y: x.cosh())
Cosh = _unary("Cosh", lambda x: xp_of(x).cosh(x), lambda x, y: xp_of(x).sinh(x), df_graph=lambda x, y: x.sinh())


def _sigmoid(x):
    # exp(-x) may overflow to inf, and 1 / (1 + inf) is the correct 0 (NumPy's warnings are off).
    if x.ndim == 0:
        return 1 / (1 + np.exp(-x))
    t = np.negative(x)
    np.exp(t, out=t)
    np.add(t, 1, out=t)
    return np.reciprocal(t, out=t)


Sigmoid = _unary("Sigmoid", _sigmoid, lambda x, y: y * (1 - y), saves=2, df_graph=lambda x, y: y * (1 - y))


class _CompiledRelu(Implementation):
    """``relu_kernels``: host float32/float64, one threaded pass each way."""

    name = "compiled"

    @staticmethod
    def applies(x):
        return jit.takes_floats(x)

    @staticmethod
    def forward(node, x):
        node.y = y = relu_kernels.forward(x)
        return y

    @staticmethod
    def backward(node, g):
        return (relu_kernels.backward(node.y, g),)


class _GenericRelu(Implementation):
    @staticmethod
    def forward(node, x):
        node.y = y = xp_of(x).maximum(x, 0)
        return y

    @staticmethod
    def backward(node, g):
        return (g * ~(node.y <= 0),)  # NaN inputs pass the gradient, as in PyTorch


class Relu(Op):
    __slots__ = ("y",)
    _name = "ReluBackward0"
    saves = 2
    implementations = (_CompiledRelu, _GenericRelu)

    def backward_graph(self, g):
        # tied to the output with a zero derivative, as PyTorch's threshold_backward reads it; NaN passes
        return (constant_in(_times_constant(g, ~(self.y <= 0)), self.saved_output(self.y)),)


class _NoGrad(Op):
    """Piecewise-constant functions: their gradient is zero everywhere (as PyTorch defines it)."""

    __slots__ = ()
    saves_tensors = False

    def forward(self, x):
        return self.f(x)

    def backward(self, g):
        return (g * 0,)

    backward_graph = backward


def _piecewise(name, f):
    return type(name, (_NoGrad,), {"__slots__": (), "_name": f"{name}Backward0", "f": staticmethod(f)})


Sign = _piecewise("Sign", _sign)
Floor = _piecewise("Floor", lambda x: xp_of(x).floor(x))
Ceil = _piecewise("Ceil", lambda x: xp_of(x).ceil(x))
Round = _piecewise("Round", lambda x: xp_of(x).round(x))
Trunc = _piecewise("Trunc", lambda x: xp_of(x).trunc(x))


def _float_unary(op):
    def fn(input):
        return op.apply(_float_operand(input))

    fn.__name__ = op.__name__.lower()
    return fn


def _same_dtype_unary(op):
    def fn(input):
        return op.apply(input)

    fn.__name__ = op.__name__.lower()
    return fn


exp = _float_unary(Exp)
log = _float_unary(Log)
log2 = _float_unary(Log2)
log10 = _float_unary(Log10)
log1p = _float_unary(Log1p)
expm1 = _float_unary(Expm1)
sqrt = _float_unary(Sqrt)
rsqrt = _float_unary(Rsqrt)
sin = _float_unary(Sin)
cos = _float_unary(Cos)
tan = _float_unary(Tan)
tanh = _float_unary(Tanh)
sigmoid = _float_unary(Sigmoid)
reciprocal = _float_unary(Reciprocal)
atan = _float_unary(Atan)
asin = _float_unary(Asin)
acos = _float_unary(Acos)
sinh = _float_unary(Sinh)
cosh = _float_unary(Cosh)
abs = _same_dtype_unary(Abs)
relu = _same_dtype_unary(Relu)
sign = _same_dtype_unary(Sign)
square = _same_dtype_unary(Square)


def neg(input):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(input)


def _rounding(op):
    def fn(input):
        if input._data.dtype.kind in "biu":
            return input.clone()
        return op.apply(input)

    fn.__name__ = op.__name__.lower()
    return fn


floor = _rounding(Floor)
ceil = _rounding(Ceil)
round = _rounding(Round)
trunc = _rounding(Trunc)


# ----- clamp, maximum, minimum, where -----
class Clamp(Op):
    __slots__ = ("mask",)
    _name = "ClampBackward1"
    saves_tensors = False

    def forward(self, x, min=None, max=None):
        xp = xp_of(x)
        y = xp.clip(x, min, max)
        self.mask = (y == x) if x.dtype.kind in dtypes.FLOAT_KINDS else None
        return y

    def backward(self, g):
        return (g * self.mask,)

    def backward_graph(self, g):
        return (_times_constant(g, self.mask),)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min if isinstance(min, Tensor) else _scalar_tensor(min, input))
        if max is not None:
            out = minimum(out, max if isinstance(max, Tensor) else _scalar_tensor(max, input))
        return out
    a = input
    for bound in (min, max):
        if bound is not None:
            a, _ = _promoted(a, bound)
    return Clamp.apply(a, min=min, max=max)


clip = clamp


class Maximum(Op):
    """Ties split the gradient in half; where a NaN is involved both inputs get it (PyTorch's formula)."""

    __slots__ = ("sa", "sb", "scale", "wins_a", "wins_b")
    _name = "MaximumBackward0"
    saves_tensors = False
    pick = staticmethod(np.maximum)

    def forward(self, a, b):
        y = self.pick(a, b)
        lt, gt = (a < b), (a > b)
        # where maximum's input a loses (a < b) it gets no gradient; for minimum the roles swap
        self.wins_a, self.wins_b = (~lt, ~gt) if self.pick is np.maximum else (~gt, ~lt)
        self.scale = xp_of(y).where(a == b, y.dtype.type(0.5), y.dtype.type(1))
        self.sa, self.sb = a.shape, b.shape
        return y

    def backward(self, g):
        g = g * self.scale
        return unbroadcast(g * self.wins_a, self.sa), unbroadcast(g * self.wins_b, self.sb)

    def backward_graph(self, g):
        ea, eb = self._edges
        return (None if ea is None else sum_to(_times_constant(g, self.scale * self.wins_a), self.sa),
                None if eb is None else sum_to(_times_constant(g, self.scale * self.wins_b), self.sb))


class Minimum(Maximum):
    __slots__ = ()
    _name = "MinimumBackward0"
    pick = staticmethod(np.minimum)


def maximum(input, other):
    a, b = _promoted(input, other)
    return Maximum.apply(a, b)


def minimum(input, other):
    a, b = _promoted(input, other)
    return Minimum.apply(a, b)


class Where(Op):
    __slots__ = ("cond", "sa", "sb")
    _name = "WhereBackward0"
    saves_tensors = False

    def forward(self, a, b, cond=None):
        self.cond, self.sa, self.sb = cond, a.shape, b.shape
        return xp_of(a).where(cond, a, b)

    def backward(self, g):
        c = self.cond
        zero = g.dtype.type(0)
        xp = xp_of(g)
        return (unbroadcast(xp.where(c, g, zero), self.sa), unbroadcast(xp.where(c, zero, g), self.sb))

    def backward_graph(self, g):
        ea, eb = self._edges
        return (None if ea is None else sum_to(_zero_where(~self.cond, g), self.sa),
                None if eb is None else sum_to(_zero_where(self.cond, g), self.sb))


def where(condition, input=None, other=None):
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(input, Tensor):
        input = _scalar_tensor(input, other if isinstance(other, Tensor) else condition)
        if isinstance(other, Tensor):
            input = cast(input, other.dtype) if input._data.ndim == 0 else input
    a, b = _promoted(input, other)
    if not isinstance(b, Tensor):
        b = cast(_scalar_tensor(b, a), a.dtype)
    if condition._device is not a._device or b._device is not a._device:
        common_device((condition, a, b))
    c = condition._data
    if c.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype}")
    return Where.apply(a, b, cond=c)


# ----- comparisons and logic (not differentiable) -----
def _compare(ufunc):
    def fn(input, other):
        if isinstance(other, Tensor):
            return compute(ufunc, input, other)
        if not isinstance(other, _Scalar):
            return compute(ufunc, input, tensor(other, device=input._device))
        return compute(lambda a: ufunc(a, other), input)

    fn.__name__ = ufunc.__name__
    return fn


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)
bitwise_and = _compare(np.bitwise_and)
bitwise_or = _compare(np.bitwise_or)
bitwise_xor = _compare(np.bitwise_xor)


def logical_not(input):
    return compute(np.logical_not, input)


def bitwise_not(input):
    return compute(np.logical_not if input._data.dtype.kind == "b" else np.invert, input)


def isnan(input):
    return compute(np.isnan, input)


def isinf(input):
    return compute(np.isinf, input)


def isfinite(input):
    return compute(np.isfinite, input)


def equal(input, other):
    same = compute(lambda a, b: a.shape == b.shape and bool((a == b).all()), input, other)
    return bool(same._data)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    def close(a, b=other):
        return xp_of(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)

    if isinstance(other, Tensor):
        return compute(close, input, other)
    return compute(close, input)


fast_add = _fast(np.add, add, Add, AddScalar)
fast_sub = _fast(np.subtract, sub, Sub, SubScalar, kinds="fiu")
fast_mul = _fast(np.multiply, mul, Mul, MulScalar)
fast_div = _fast(np.true_divide, div, Div, DivScalar, kinds="f")
