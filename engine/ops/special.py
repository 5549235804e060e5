"""The error function family: ``erf``, ``erfc``, ``erfinv`` as arrays (NumPy has none) and as differentiable ops.

``erf``/``erfc`` evaluate Cephes' rational approximations (ndtr.c) in the input's dtype. ``exp(-x^2)`` is
taken as ``exp(-m^2) exp(-(x^2 - m^2))`` with ``m`` ``x`` rounded to 1/128 (Cephes' expx2): ``m^2`` is exact,
so the tail keeps its relative accuracy where ``x^2`` alone would lose digits. ``erfinv`` starts from Giles'
single-precision approximation ("Approximating the erfinv function", 2010) and takes Newton steps on
``erf`` (on ``log(erfc)`` beyond 0.5, where ``1 - |y|`` is exact), which bring it to the dtype's precision.
"""

import math

import numpy as np

from .op import Op, xp_of

# Cephes ndtr.c: erf(x) = x T(x^2) / U(x^2) for |x| <= 1; erfc(x) = exp(-x^2) P(x) / Q(x) for 1 < x < 8,
# exp(-x^2) R(x) / S(x) from 8 on.
_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S8 = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
       1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)
# For float32 and below, |x| <= 1: erf(x) = x + x S(x^2), S fitted to erf(x)/x - 1 within 4e-11: the
# small correction term keeps the rounding of the evaluation near half an ulp (about 1.4 ulp at worst).
_S = (-9.67359405584392872e-06, 1.12682583367299213e-04, -8.48439770087493325e-04, 5.22105353736843428e-03,
      -2.68654383767024454e-02, 1.12837826237695740e-01, -3.76126384761788057e-01, 1.28379167062419086e-01)
# Giles' erfinv in w = -log(1 - y^2): central (w < 5, in w - 2.5) and tail (in sqrt(w) - 3) polynomials.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
               0.00943887047, 1.00167406, 2.83297682)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2


def _at_least_float32(fn):
    """``fn`` for half-precision arrays evaluated in float32 (its polynomials overflow float16), as PyTorch's
    CPU kernels compute half types, and rounded back."""

    def wrapped(x):
        if x.dtype.itemsize < 4:
            return fn(x.astype(np.float32)).astype(x.dtype)
        return fn(x)

    wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
    return wrapped


def _polevl(x, coefs):
    t = x.dtype.type
    y = x * t(coefs[0]) + t(coefs[1])
    for c in coefs[2:]:
        y *= x
        y += t(c)
    return y


def _exp_neg_square(a):
    """exp(-a^2) to the dtype's relative precision (Cephes' expx2)."""
    xp = xp_of(a)
    t = a.dtype.type
    m = xp.round(a * t(128)) * t(1 / 128)
    f = a - m
    return xp.exp(-(m * m)) * xp.exp(-(t(2) * m + f) * f)


def _erfc_pq(a):
    """erfc(a) exp(a^2) for 1 <= a < 8."""
    return _polevl(a, _P) / _polevl(a, _Q)


def _erf_inner(x):
    """erf(x) for |x| <= 1 (clipped there)."""
    small = xp_of(x).clip(x, -1, 1)
    z = small * small
    if x.dtype.itemsize >= 8:
        return small * _polevl(z, _T) / _polevl(z, _U)
    return small + small * _polevl(z, _S)


@_at_least_float32
def erf(x):
    """The error function of a floating array, elementwise, in its dtype: within 3 ulp in float64,
    1.5 ulp in float32 (no wider temporaries there)."""
    xp = xp_of(x)
    # Beyond 6, erfc < 3e-17: erf rounds to +-1 in float64 already; erfc's rounding errors are far below
    # erf's ulp, so its plain exp(-a^2) serves.
    a = xp.clip(xp.abs(x), 1, 6)
    outer = xp.copysign(1 - xp.exp(-(a * a)) * _erfc_pq(a), x)
    return xp.where(xp.abs(x) <= 1, _erf_inner(x), outer)


@_at_least_float32
def erfc(x):
    """1 - erf(x), elementwise, keeping its relative precision in the right tail."""
    xp = xp_of(x)
    a = xp.clip(xp.abs(x), 1, 30)  # 0 from 27 on, also for infinite x
    tail = _exp_neg_square(a) * xp.where(a < 8, _erfc_pq(a), _polevl(a, _R) / _polevl(a, _S8))
    return xp.where(xp.abs(x) <= 1, 1 - _erf_inner(x), xp.where(x > 0, tail, 2 - tail))


@_at_least_float32
def erfinv(y):
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside), elementwise, in the dtype of ``y``."""
    xp = xp_of(y)
    t = y.dtype.type
    ay = xp.abs(y)
    inside = ay < 1
    ay = xp.where(inside, ay, t(0))
    w = -xp.log((1 - ay) * (1 + ay))
    central = w < 5
    v = xp.where(central, w - t(2.5), xp.sqrt(w) - t(3))
    a = ay * xp.where(central, _polevl(v, _GILES_CENTRAL), _polevl(v, _GILES_TAIL))
    # Newton steps on erf(a) = |y| centrally and on log(erfc(a)) = log(1 - |y|) beyond 0.5 (nearly linear
    # there, and 1 - |y| is exact): four bring Giles' start, good to 4e-7 for 1 - |y| > 6e-8 and within
    # 0.5 beyond, to float64 precision.
    tail = ay > 0.5
    log_rest = xp.log(1 - ay)
    for _ in range(4):
        c = erfc(a)
        slope = xp.exp(a * a) * t(_SQRT_PI_OVER_2)
        a = a + xp.where(tail, (xp.log(c) - log_rest) * c, ay - erf(a)) * slope
    out = xp.copysign(a, y)
    return xp.where(inside, out, xp.where(xp.abs(y) == 1, xp.copysign(t(math.inf), y), t(math.nan)))


class Erf(Op):
    __slots__ = ("x",)
    _name = "ErfBackward0"
    saves = 1
    f = staticmethod(erf)
    sign = 1

    def forward(self, x):
        self.x = x
        return self.f(x)

    def backward(self, g):
        x = self.x
        return (g * xp_of(x).exp(-(x * x)) * x.dtype.type(self.sign * _TWO_OVER_SQRT_PI),)

    def backward_graph(self, g):
        x = self.saved_input(0, self.x)
        return (g * (-(x * x)).exp() * (self.sign * _TWO_OVER_SQRT_PI),)


class Erfc(Erf):
    __slots__ = ()
    _name = "ErfcBackward0"
    f = staticmethod(erfc)
    sign = -1


class Erfinv(Op):
    __slots__ = ("y",)
    _name = "ErfinvBackward0"
    saves = 2

    def forward(self, x):
        self.y = y = erfinv(x)
        return y

    def backward(self, g):
        y = self.y
        return (g * xp_of(y).exp(y * y) * y.dtype.type(_SQRT_PI_OVER_2),)

    def backward_graph(self, g):
        y = self.saved_output(self.y)
        return (g * (y * y).exp() * _SQRT_PI_OVER_2,)
