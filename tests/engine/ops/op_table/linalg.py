"""Op table entries: linear algebra (engine/linalg) and BLAS-style products, cdist and cross (engine/ops/blas.py).

Random samples are made well-conditioned inside the call, so gradients and finite differences are meaningful:
``_dominant`` adds a diagonal that dominates each row, ``_spd`` builds ``A A^T + n I``, ``_sym`` ``A + A^T``.
Singular and eigen vectors are compared through sign-invariant functions (``U @ Vh``, ``V * V``), as their signs
are arbitrary.

Double backward is claimed by every differentiable entry but ``cdist``, whose double backward PyTorch does not
implement (``_cdist_backward``), so there is nothing to compare ours with: it is checked in
``tests/engine/ops/test_linalg_double_backward.py`` instead.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S, with_call_errors

TOL = {"float32": (1e-4, 1e-3)}


def _eye(m, x):
    return m.eye(x.shape[-1], dtype=x.dtype, device=x.device)


def _dominant(m, x):
    return x + 2 * x.shape[-1] * _eye(m, x)


def _spd(m, x):
    return x @ x.mT + x.shape[-1] * _eye(m, x)


def _sym(m, x):
    return x + x.mT


def _singular(n=3):
    a = np.zeros((n, n))
    a[0, 0] = 1
    return a


# rank 2 with distinct singular values, det exactly 0: det's gradient takes the SVD route
_RANK_2 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])

_DISTINCT = np.array([[2.0, 0.3, 0.0], [0.1, 3.0, 0.2], [0.0, 0.5, 4.0]])  # distinct singular values

SQUARE = [S("3x3", (3, 3)), S("batch 2x4x4", (2, 4, 4)), S("batch 2x1x3x3", (2, 1, 3, 3)), S("1x1", (1, 1))]
RECT = [S("4x3", (4, 3)), S("3x4", (3, 4)), S("batch 2x3x3", (2, 3, 3)), S("batch 2x2x4x3", (2, 2, 4, 3))]


def _square(dtype):
    return SQUARE


def _rect(dtype):
    return RECT


def _err(name, shape, match, exc=RuntimeError, **options):
    return ErrorInput(S(name, shape, **options), exc, match)


def _matrix_errors(name, call=None, square=True):
    """PyTorch's refusals of a 1-D, integer or non-square ``A``; ``call(m, x)`` is the raw call for entries whose
    op first conditions the matrix."""
    errors = [
        ("1d", (3,), f"{name}: The input tensor A must have at least 2 dimensions.", None),
        ("int64", (3, 3), f"{name}: Expected a floating point or complex tensor as input. Got Long", ("int64",)),
    ]
    if square:
        errors.append(("2x3", (2, 3), f"{name}: A must be batches of square matrices, but they are 2 by 3 matrices",
                       None))
    return [_call_err(n, call, (shape,), match, dtypes=dtypes) for n, shape, match, dtypes in errors]


def _call_err(name, call, inputs, match, dtypes=None):
    """An error input; with ``call``, the error runs that call instead of the entry's op (``with_call_errors``)."""
    kwargs = {} if call is None else {"call": call}
    return ErrorInput(S(name, *inputs, kwargs=kwargs, dtypes=dtypes), RuntimeError, match)


def _inv(m, x):
    return m.linalg.inv(x)


def _solve(m, a, b):
    return m.linalg.solve(a, b)


def _solve_triangular(m, a, b):
    return m.linalg.solve_triangular(a, b, upper=True)


def _cholesky(m, x):
    return m.linalg.cholesky(x)


def _singular_batch():
    return np.stack([np.eye(3), _singular()])


def _deprecated(fn):
    """``fn`` with the deprecation warning of ``torch.cholesky``/``torch.qr`` silenced (PyTorch gives it once per
    process)."""

    def call(m, *xs, **kw):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", r"torch\.(cholesky|qr) is deprecated", UserWarning)
            return fn(m, *xs, **kw)

    return call


def _svd(m, x, **kw):
    u, s, vh = m.linalg.svd(x, full_matrices=False, **kw)
    return s, u @ vh


def _legacy_svd(m, x, **kw):
    u, s, v = m.svd(x, **kw)
    k = s.shape[-1]
    return s, u[..., :k] @ v[..., :k].mT


def _legacy_svd_method(m, x, **kw):
    u, s, v = x.svd(**kw)
    k = s.shape[-1]
    return s, u[..., :k] @ v[..., :k].mT


def _eigh(m, x, **kw):
    values, vectors = m.linalg.eigh(_sym(m, x), **kw)
    return values, vectors * vectors


def _solve_samples(dtype):
    return [
        S("3x3 & 3", (3, 3), (3,)),
        S("3x3 & 3x2", (3, 3), (3, 2)),
        S("batch A, broadcast B", (2, 3, 3), (3, 2)),
        S("batch of vectors", (2, 3, 3), (2, 3)),
        S("broadcast A", (3, 3), (2, 3, 2)),
        S("left=False", (3, 3), (2, 3), kwargs={"left": False}),
    ]


def _norm_samples(dtype):
    zero_row = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    return [
        S("all", (3, 4)),
        S("ord=1 dim=1", (3, 4), kwargs={"ord": 1, "dim": 1}),
        S("ord=inf dim=-1 keepdim", (3, 4), kwargs={"ord": math.inf, "dim": -1, "keepdim": True}),
        S("ord=nuc 2d", (3, 4), kwargs={"ord": "nuc"}),
        S("ord=-1 2d", (3, 4), kwargs={"ord": -1}),
        S("fro dim=(0, 2)", (2, 3, 4), kwargs={"dim": (0, 2)}),
        S("2-norm at 0", zero_row, kwargs={"dim": 1}, gradcheck=False),
    ]


def _vector_norm_samples(dtype):
    zero_row = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    return [
        S("ord=2 all", (3, 4)),
        S("ord=1 dim=0", (3, 4), kwargs={"ord": 1, "dim": 0}),
        S("ord=3 dim=(0, 2) keepdim", (2, 3, 4), kwargs={"ord": 3, "dim": (0, 2), "keepdim": True}),
        S("ord=inf", (3, 4), kwargs={"ord": math.inf, "dim": -1}),
        S("ord=-inf", (3, 4), kwargs={"ord": -math.inf}),
        S("ord=0", (3, 4), kwargs={"ord": 0}, grad=False),
        S("0-d", (), kwargs={"ord": 2}),
        S("dtype=float64", (3, 4), kwargs={"dtype": "float64"}),
        S("subgradient at 0", zero_row, kwargs={"dim": 1}, gradcheck=False),
    ]


def _matrix_norm_samples(dtype):
    out = [S(f"ord={o}", (2, 3, 4), kwargs={"ord": o}) for o in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)]
    return [
        *out,
        S("ord=1 dim=(2, 0) keepdim", (2, 3, 4), kwargs={"ord": 1, "dim": (2, 0), "keepdim": True}),
        S("ord=nuc dim=(0, 2) keepdim", (2, 3, 4), kwargs={"ord": "nuc", "dim": (0, 2), "keepdim": True}),
    ]


def _with_dtype(fn):
    """``fn(m, x, **kw)`` with a ``dtype`` name resolved to ``m``'s dtype."""

    def op(m, x, dtype=None, **kw):
        return fn(m, x, **kw) if dtype is None else fn(m, x, dtype=getattr(m, dtype), **kw)

    return op


def _lu_solve(m, a, b, **kw):
    return m.linalg.lu_solve(*m.linalg.lu_factor(_dominant(m, a)), b, **kw)


def _lu_solve_samples(dtype):
    return [
        S("3x3 & 3x2", (3, 3), (3, 2)),
        S("batch A, broadcast B", (2, 3, 3), (3, 2)),
        S("broadcast A", (3, 3), (2, 3, 4)),
        S("adjoint", (2, 3, 3), (2, 3, 1), kwargs={"adjoint": True}),
        S("left=False", (3, 3), (2, 3), kwargs={"left": False}),
        S("left=False adjoint", (2, 3, 3), (4, 3), kwargs={"left": False, "adjoint": True}),
    ]


def _lstsq(m, a, b, fields=("solution", "rank"), **kw):
    """``lstsq``'s fields; by default those with a meaning for the gradient (the others carry none, in PyTorch
    too: their gradient is dropped)."""
    out = m.linalg.lstsq(a, b, **kw)
    return tuple(getattr(out, f) for f in fields)


_ALL_FIELDS = {"fields": ("solution", "residuals", "rank", "singular_values")}


def _lstsq_samples(dtype):
    deficient = np.array([[1.0, 2.0, 2.0], [0.5, -1.0, -1.0], [2.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    return [
        S("tall", (4, 3), (4, 2)),
        S("wide", (3, 4), (3, 2)),
        S("batch, vector B", (2, 4, 3), (2, 4)),
        S("broadcast B", (2, 5, 3), (1, 5, 2)),
        # singular values cut by rcond: PyTorch's gradient is still that of the whole pinv(A) B, not the derivative
        S("rcond gelsd", (3, 4), (3, 2), kwargs={"rcond": 0.5, "driver": "gelsd"}, grad=False),
        *(S(f"{d} fields", (2, 5, 3), (2, 5, 2), kwargs={"driver": d, **_ALL_FIELDS}, grad=False)
          for d in ("gels", "gelsy", "gelsd", "gelss")),
        S("gelsd wide fields", (3, 4), (3, 2), kwargs={"driver": "gelsd", **_ALL_FIELDS}, grad=False),
        S("rank-deficient gelss", deficient, (4, 2), kwargs={"driver": "gelss", **_ALL_FIELDS}, grad=False),
    ]


def _lstsq_errors():
    def err(name, inputs, match, **kw):
        return ErrorInput(S(name, *inputs, kwargs=kw), RuntimeError, match)

    return [
        err("1d A", ((3,), (3,)), "torch.linalg.lstsq: input must have at least 2 dimensions."),
        err("dims", ((5, 3), (2, 5, 2)), "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() "
            "and (input.dim() - other.dim()) <= 1"),
        err("rows", ((4, 3), (3, 2)), "torch.linalg.lstsq: input.size(-2) should match other.size(-2)"),
        err("vector rows", ((4, 3), (3,)), "torch.linalg.lstsq: input.size(-2) should match other.size(-1)"),
        err("driver", ((4, 3), (4, 2)), "torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, "
            "gelsd, gelss)", driver="x"),
        ErrorInput(S("dtypes", (4, 3), (4, 2), dtypes=("float32", "float64")), RuntimeError, "torch.linalg.lstsq: "
                   "Expected input and other to have the same dtype, but got input's dtype Float and other's dtype "
                   "Double"),
    ]


def _lu_errors(name):
    prefix = "linalg.lu" if name == "lu" else "torch.lu_factor"
    return [
        _err("1d", (3,), f"{prefix}: Expected tensor with 2 or more dimensions. Got size: [3] instead"),
        ErrorInput(S("int64", (3, 3), dtypes=("int64",)), NotImplementedError, "\"lu_cpu\" not implemented for "
                   "'Long'"),
        _err("pivot=False", (3, 3), "linalg.lu_factor: LU without pivoting is not implemented on the CPU",
             kwargs={"pivot": False}),
    ]


LU_SAMPLES = [*SQUARE, S("wide", (3, 5)), S("tall", (5, 3)), S("batch tall", (2, 5, 3)), S("batch wide", (2, 3, 4))]


_SOLVERS = ("numba", "lapack")  # engine.linalg.solvers: compiled LU for small host matrices, LAPACK

LINALG = [
    OpInfo(
        "linalg.inv",
        with_call_errors(lambda m, x: m.linalg.inv(_dominant(m, x))),
        _square,
        variants={"method": lambda m, x: _dominant(m, x).inverse(), "torch.inverse": lambda m, x: m.inverse(
            _dominant(m, x))},
        error_inputs=lambda: [
            *_matrix_errors("linalg.inv", _inv),
            _call_err("singular", _inv, (_singular(),), "linalg.inv: The diagonal element 2 is zero, the inversion "
                      "could not be completed because the input matrix is singular."),
            _call_err("singular in a batch", _inv, (_singular_batch(),), "linalg.inv: (Batch element 1): The "
                      "diagonal element 2 is zero"),
        ],
        implementations=_SOLVERS,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.det",
        lambda m, x: m.linalg.det(x),
        # PyTorch's gradient at an exactly singular matrix depends on its LAPACK (MKL on an AMD CPU gives 0, on an
        # Intel one the cofactors): the values are compared here, the gradient in test_linalg.py
        lambda dtype: [*SQUARE, S("empty batch", (0, 3, 3)), S("singular", _RANK_2, grad=False),
                       S("batch with a singular", np.stack([_RANK_2, _DISTINCT]), grad=False)],
        variants={"method": lambda m, x: x.det(), "torch.det": lambda m, x: m.det(x)},
        error_inputs=lambda: _matrix_errors("linalg.det"),
        implementations=_SOLVERS,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.slogdet",
        lambda m, x: tuple(m.linalg.slogdet(x)),
        _square,
        variants={"method": lambda m, x: tuple(x.slogdet())},
        error_inputs=lambda: _matrix_errors("linalg.slogdet"),
        implementations=_SOLVERS,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "logdet",
        lambda m, x: m.logdet(_spd(m, x)),
        _square,
        variants={"method": lambda m, x: _spd(m, x).logdet()},
        implementations=_SOLVERS,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.solve",
        with_call_errors(lambda m, a, b, **kw: m.linalg.solve(_dominant(m, a), b, **kw)),
        _solve_samples,
        error_inputs=lambda: [
            _call_err("shapes", _solve, ((3, 3), (2,)), "linalg.solve: Incompatible shapes of A and B for the "
                      "equation AX = B (3x3 and 2x1)"),
            _call_err("singular", _solve, (_singular(), (3,)), "torch.linalg.solve: The solver failed because the "
                      "input matrix is singular."),
        ],
        implementations=_SOLVERS,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.solve_triangular",
        with_call_errors(lambda m, a, b, **kw: m.linalg.solve_triangular(_dominant(m, a), b, **kw)),
        lambda dtype: [
            S("lower", (3, 3), (3, 2), kwargs={"upper": False}),
            S("upper, batch A", (2, 3, 3), (3, 4), kwargs={"upper": True}),
            S("broadcast A", (3, 3), (2, 3, 2), kwargs={"upper": False}),
            S("unitriangular", (4, 4), (4, 2), kwargs={"upper": True, "unitriangular": True}),
            S("left=False", (3, 3), (2, 3), kwargs={"upper": False, "left": False}),
        ],
        error_inputs=lambda: [
            _call_err("B 1d", _solve_triangular, ((3, 3), (3,)), "linalg.solve_triangular: The input tensor B must "
                      "have at least 2 dimensions."),
            _call_err("shapes", _solve_triangular, ((3, 3), (2, 1)), "linalg.solve_triangular: Incompatible shapes of "
                      "A and B for the equation AX = B (3x3 and 2x1)"),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.cholesky",
        with_call_errors(lambda m, x, **kw: m.linalg.cholesky(_spd(m, x), **kw)),
        lambda dtype: [*SQUARE, S("upper", (2, 3, 3), kwargs={"upper": True})],
        variants={"method": _deprecated(lambda m, x, **kw: _spd(m, x).cholesky(**kw)),
                  "torch.cholesky": _deprecated(lambda m, x, **kw: m.cholesky(_spd(m, x), **kw))},
        error_inputs=lambda: [
            *_matrix_errors("linalg.cholesky", _cholesky),
            _call_err("not positive-definite", _cholesky, (np.array([[1.0, 2.0], [2.0, 1.0]]),),
                      "linalg.cholesky: The factorization could not be completed because the input is not "
                      "positive-definite (the leading minor of order 2 is not positive-definite)."),
            _call_err("batch", _cholesky, (np.stack([np.eye(2), -np.eye(2)]),),
                      "linalg.cholesky: (Batch element 1): The factorization could not be completed"),
        ],
        implementations=_SOLVERS,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.qr",
        lambda m, x, **kw: tuple(m.linalg.qr(x, **kw)),
        lambda dtype: [
            *RECT,
            S("complete, wide", (3, 4), kwargs={"mode": "complete"}),
            S("complete, square", (2, 3, 3), kwargs={"mode": "complete"}),
            S("r", (4, 3), kwargs={"mode": "r"}, grad=False),
        ],
        error_inputs=lambda: [
            _err("mode", (3, 3), "qr received unrecognized mode 'x' but expected one of 'reduced' (default), 'r', or "
                 "'complete'", kwargs={"mode": "x"}),
            *_matrix_errors("linalg.qr", square=False),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.svd",
        _svd,
        _rect,
        error_inputs=lambda: _matrix_errors("linalg.svd", square=False),
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "svd",
        _legacy_svd,
        lambda dtype: [
            *RECT,
            S("some=False", (4, 3), kwargs={"some": False}),
            S("compute_uv=False", (2, 3, 4), kwargs={"compute_uv": False}, grad=False),
        ],
        variants={"method": _legacy_svd_method},
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "qr",
        _deprecated(lambda m, x, **kw: tuple(m.qr(x, **kw))),
        lambda dtype: [*RECT, S("some=False", (3, 4), kwargs={"some": False})],
        variants={"method": _deprecated(lambda m, x, **kw: tuple(x.qr(**kw)))},
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "pinverse",
        lambda m, x, **kw: m.pinverse(x, **kw),
        lambda dtype: [*RECT, S("rcond", np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]), kwargs={"rcond": 1e-3},
                                grad=False)],
        variants={"method": lambda m, x, **kw: x.pinverse(**kw)},
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.svdvals",
        lambda m, x: m.linalg.svdvals(x),
        _rect,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.eigh",
        with_call_errors(_eigh),
        lambda dtype: [*SQUARE, S("UPLO=U", (2, 3, 3), kwargs={"UPLO": "U"})],
        error_inputs=lambda: [
            # an integer A: PyTorch's message names its kernel ("linalg_eigh_cpu" not implemented for 'Long')
            *(e for e in _matrix_errors("linalg.eigh", lambda m, x, **kw: m.linalg.eigh(x, **kw))
              if e.sample.name != "int64"),
            _err("UPLO", (3, 3), "Expected UPLO argument to be 'L' or 'U', but got X", kwargs={"UPLO": "X"}),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.eigvalsh",
        lambda m, x: m.linalg.eigvalsh(_sym(m, x)),
        _square,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.pinv",
        lambda m, x, **kw: m.linalg.pinv(x, **kw),
        lambda dtype: [
            *RECT,
            S("hermitian", np.array([[4.0, 1.0, 0.5], [1.0, -3.0, 0.2], [0.5, 0.2, 2.0]]),
              kwargs={"hermitian": True}, grad=False),
            S("rank-deficient (rtol)", np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]), kwargs={"rtol": 1e-3},
              grad=False),
        ],
        error_inputs=lambda: [_err("1d", (3,), "linalg.pinv(Float{[3]}): expected a tensor with 2 or more dimensions")],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.matrix_power",
        with_call_errors(lambda m, x, n: m.linalg.matrix_power(_dominant(m, x) / x.shape[-1], n)),
        lambda dtype: [S(f"n={n}", (2, 3, 3), args=(n,)) for n in (0, 1, 3, 6, -2)],
        variants={"method": lambda m, x, n: (_dominant(m, x) / x.shape[-1]).matrix_power(n)},
        error_inputs=lambda: [
            ErrorInput(S("2x3", (2, 3), args=(2,), kwargs={"call": lambda m, x, n: m.linalg.matrix_power(x, n)}),
                       RuntimeError, "linalg.matrix_power: A must be batches of square matrices"),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.norm",
        lambda m, x, **kw: m.linalg.norm(x, **kw),
        _norm_samples,
        error_inputs=lambda: [_err("3d with ord", (2, 2, 2), "linalg.norm: If dim is not specified but ord is, the "
                                   "input must be 1D or 2D. Got 3D.", kwargs={"ord": 2})],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.vector_norm",
        _with_dtype(lambda m, x, **kw: m.linalg.vector_norm(x, **kw)),
        _vector_norm_samples,
        error_inputs=lambda: [_err("int64", (3,), "linalg.vector_norm: Expected a floating point or complex tensor "
                                   "as input. Got Long", dtypes=("int64",))],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.matrix_norm",
        lambda m, x, **kw: m.linalg.matrix_norm(x, **kw),
        _matrix_norm_samples,
        error_inputs=lambda: [
            _err("1d", (3,), "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
            _err("ord=3", (3, 3), "linalg.matrix_norm: Order 3 not supported.", kwargs={"ord": 3}),
            _err("one dim", (3, 3), "linalg.matrix_norm: dim must be a 2-tuple.", kwargs={"dim": (0,)}),
            _err("same dim", (3, 3), "linalg.matrix_norm: dims must be different. Got (0, 0)",
                 kwargs={"dim": (0, -2)}),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.multi_dot",
        lambda m, *xs: m.linalg.multi_dot(list(xs)),
        lambda dtype: [
            S("2 matrices", (3, 4), (4, 2)),
            S("vector, matrices, vector", (3,), (3, 4), (4, 5), (5,)),
        ],
        error_inputs=lambda: [
            ErrorInput(S("one", (3, 3)), RuntimeError, "multi_dot(): expected at least 2 tensors but got 1"),
            ErrorInput(S("3d", (2, 3, 3), (3, 3)), RuntimeError, "multi_dot(): the first tensor must be 1D or 2D"),
            ErrorInput(S("shapes", (3, 2), (3, 4)), RuntimeError, "multi_dot(): tensors 0 and 1 with shapes [3, 2] and "
                       "[3, 4] cannot be multiplied"),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.vecdot",
        lambda m, x, y, **kw: m.linalg.vecdot(x, y, **kw),
        lambda dtype: [S("dim=-1", (2, 3), (2, 3)), S("broadcast, dim=0", (3, 1), (3, 4), kwargs={"dim": 0})],
        error_inputs=lambda: [
            ErrorInput(S("dtypes", (2, 3), (3,), dtypes=("float32", "float64")), RuntimeError, "linalg.vecdot: "
                       "Expected x and y to have the same dtype, but found x of type Float and y of type Double"),
        ],
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.matrix_rank",
        lambda m, x, **kw: m.linalg.matrix_rank(x, **kw),
        lambda dtype: [
            *RECT,
            S("rank 1", np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])),
            S("atol", np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]), kwargs={"atol": 3.0}),
            S("hermitian", np.array([[5.0, 10.0], [10.0, 20.0]]), kwargs={"hermitian": True}),
            S("empty", (3, 0)),
        ],
        error_inputs=lambda: [_err("1d", (3,), "torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                                   "dimensions.")],
        supports_grad=False,
    ),
    OpInfo(
        "linalg.cross",
        lambda m, a, b, **kw: m.linalg.cross(a, b, **kw),
        lambda dtype: [
            S("4x3", (4, 3), (4, 3)),
            S("broadcast", (1, 3), (2, 3)),
            S("dim=0", (3, 2), (3, 2), kwargs={"dim": 0}),
        ],
        error_inputs=lambda: [
            ErrorInput(S("length 2", (2,), (2,)), RuntimeError, "linalg.cross: inputs dimension -1 must have length "
                       "3. Got 2 and 2"),
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.lu_factor",
        lambda m, x, **kw: tuple(m.linalg.lu_factor(x, **kw)),
        lambda dtype: LU_SAMPLES,
        error_inputs=lambda: [
            *_lu_errors("lu_factor"),
            _err("singular", _singular(), "torch.linalg.lu_factor: U[2,2] is zero and using it on lu_solve would "
                 "result in a division by zero."),
            _err("singular in a batch", _singular_batch(), "torch.linalg.lu_factor: (Batch element 1): U[2,2] is "
                 "zero"),
        ],
        implementations=("numba", "generic"),  # linalg.lu: compiled getrf of small square matrices
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.lu_factor_ex",
        lambda m, x, **kw: tuple(m.linalg.lu_factor_ex(x, **kw)),
        lambda dtype: [*LU_SAMPLES, S("singular", _singular(), grad=False),
                       S("singular in a batch", _singular_batch(), grad=False)],
        error_inputs=lambda: _lu_errors("lu_factor_ex"),
        implementations=("numba", "generic"),  # linalg.lu: compiled getrf of small square matrices
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.lu",
        lambda m, x, **kw: tuple(m.linalg.lu(x, **kw)),
        lambda dtype: LU_SAMPLES,
        error_inputs=lambda: _lu_errors("lu"),
        implementations=("numba", "generic"),  # linalg.lu: compiled getrf of small square matrices
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "lu_unpack",
        lambda m, x, **kw: tuple(m.lu_unpack(*m.linalg.lu_factor(x), **kw)),
        lambda dtype: [
            S("3x3", (3, 3)), S("batch wide", (2, 3, 4)), S("tall", (5, 3)),
            # PyTorch's own backward fails on the empty L and U ("triu: input tensor must have at least 2 dimensions")
            S("unpack_data=False", (2, 3, 3), kwargs={"unpack_data": False}, grad=False),
            S("unpack_pivots=False", (3, 3), kwargs={"unpack_pivots": False}),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.lu_solve",
        with_call_errors(_lu_solve),
        _lu_solve_samples,
        error_inputs=lambda: [
            _call_err("B 1d", _lu_solve, ((3, 3), (3,)), "linalg.lu_solve: The input tensor B must have at least 2 "
                      "dimensions."),
            _call_err("shapes", _lu_solve, ((3, 3), (2, 2)), "linalg.lu_solve: Incompatible shapes of A and B for the "
                      "equation AX = B (3x3 and 2x2)"),
            ErrorInput(S("dtypes", (3, 3), (3, 2), dtypes=("float32", "float64"), kwargs={"call": _lu_solve}),
                       RuntimeError, "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                       "Float and B of type Double instead"),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.matrix_exp",
        lambda m, x: m.linalg.matrix_exp(x),
        lambda dtype: [*SQUARE, S("large norm (squarings)", (2, 3, 3), low=-3, high=3), S("empty batch", (0, 2, 2))],
        variants={"method": lambda m, x: x.matrix_exp(), "torch.matrix_exp": lambda m, x: m.matrix_exp(x)},
        error_inputs=lambda: _matrix_errors("linalg.matrix_exp"),
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "linalg.lstsq",
        _lstsq,
        _lstsq_samples,
        error_inputs=_lstsq_errors,
        tolerances=TOL,
        supports_gradgrad=True,
    ),
]


def _accumulate_samples(shapes):
    def samples(dtype):
        out = [S("beta=1 alpha=1", *shapes), S("beta=2 alpha=3", *shapes, kwargs={"beta": 2, "alpha": 3})]
        if dtype.startswith("float"):
            out.append(S("beta=0.5 alpha=-1.5", *shapes, kwargs={"beta": 0.5, "alpha": -1.5}))
            nan = np.full(shapes[0], np.nan)
            out.append(S("beta=0 ignores NaN", nan, *shapes[1:], kwargs={"beta": 0}, gradcheck=False))
        out.append(S("broadcast input", shapes[0][-1:], *shapes[1:], kwargs={"beta": 2}))
        return out

    return samples


def _accumulate(name, shapes, errors, implementations=()):
    return OpInfo(
        name,
        lambda m, x, a, b, **kw: getattr(m, name)(x, a, b, **kw),
        _accumulate_samples(shapes),
        variants={"method": lambda m, x, a, b, **kw: getattr(x, name)(a, b, **kw)},
        error_inputs=lambda: errors,
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        implementations=implementations,
    )


def _accumulate_inplace(name, shapes):
    return OpInfo(
        f"{name}_",
        lambda m, x, a, b, **kw: getattr(x * 1, f"{name}_")(a, b, **kw),
        lambda dtype: [S("beta=1 alpha=1", *shapes), S("beta=2 alpha=3", *shapes, kwargs={"beta": 2, "alpha": 3})],
        # PyTorch's addbmm_ resizes a self of another shape (its kernel writes through ``out``); the others refuse
        error_inputs=lambda: [] if name == "addbmm" else [
            ErrorInput(S("broadcast self", (1,) * len(shapes[0]), *shapes[1:]), RuntimeError,
                       f"Bad in-place call: input tensor size {[1] * len(shapes[0])} and output tensor size "
                       f"{list(shapes[0])} should match"),
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    )


BLAS = [
    _accumulate("addmm", ((2, 4), (2, 3), (3, 4)), [
        ErrorInput(S("inner", (2, 2), (2, 3), (2, 3)), RuntimeError, "mat1 and mat2 shapes cannot be multiplied "
                   "(2x3 and 2x3)"),
        ErrorInput(S("input", (3,), (2, 3), (3, 2)), RuntimeError, "The expanded size of the tensor (2) must match "
                   "the existing size (3) at non-singleton dimension 1"),
        ErrorInput(S("dtypes", (2, 2), (2, 3), (3, 2), dtypes=("int64", None, None)), RuntimeError,
                   "self and mat2 must have the same dtype, but got Long and Float"),
    ]),
    _accumulate("addmv", ((2,), (2, 3), (3,)), [
        ErrorInput(S("size", (2,), (2, 3), (2,)), RuntimeError, "size mismatch, got input (2), mat (2x3), vec (2)"),
    ]),
    _accumulate("addbmm", ((2, 4), (3, 2, 5), (3, 5, 4)), [
        ErrorInput(S("batches", (2, 2), (2, 2, 3), (3, 3, 2)), RuntimeError, "batch1 and batch2 must have same "
                   "number of batches, got 2 and 3"),
    ]),
    _accumulate("baddbmm", ((3, 2, 4), (3, 2, 5), (3, 5, 4)), [
        ErrorInput(S("inner", (2, 2), (2, 2, 3), (2, 4, 2)), RuntimeError, "Expected size for first two dimensions "
                   "of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ], implementations=("threads", "generic")),  # blas.Addmm: the stack in shares over the threads, or whole
    _accumulate_inplace("addmm", ((2, 4), (2, 3), (3, 4))),
    _accumulate_inplace("addmv", ((2,), (2, 3), (3,))),
    _accumulate_inplace("addbmm", ((2, 4), (3, 2, 5), (3, 5, 4))),
    _accumulate_inplace("baddbmm", ((3, 2, 4), (3, 2, 5), (3, 5, 4))),
    OpInfo(
        "cdist",
        lambda m, a, b, **kw: m.cdist(a, b, **kw),
        lambda dtype: [
            S("p=2", (4, 3), (5, 3)),
            S("p=1 batched", (2, 4, 3), (2, 5, 3), kwargs={"p": 1.0}),
            S("p=inf", (4, 3), (5, 3), kwargs={"p": math.inf}),
            S("p=3 broadcast batch", (2, 1, 4, 3), (3, 5, 3), kwargs={"p": 3.0}),
            S("p=0", (4, 3), (5, 3), kwargs={"p": 0.0}),
            S("compute_mode", (4, 3), (5, 3), kwargs={"compute_mode": "donot_use_mm_for_euclid_dist"}),
            S("zero distance", np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([[1.0, 2.0]]), gradcheck=False),
        ],
        error_inputs=lambda: [
            ErrorInput(S("columns", (2, 3), (2, 4)), RuntimeError, "X1 and X2 must have the same number of columns. "
                       "X1: 3 X2: 4"),
            ErrorInput(S("1d", (3,), (2, 3)), RuntimeError, "cdist only supports at least 2D tensors, X1 got: 1D"),
            ErrorInput(S("p<0", (2, 3), (2, 3), kwargs={"p": -1.0}), RuntimeError, "cdist only supports non-negative "
                       "p values"),
        ],
        tolerances=TOL,
    ),
    OpInfo(  # Euclidean distances from a product: PyTorch differentiates these twice (not the others)
        "cdist by a product",
        lambda m, a, b, **kw: m.cdist(a, b, **kw),
        lambda dtype: [
            S("use_mm", (4, 3), (5, 3), kwargs={"compute_mode": "use_mm_for_euclid_dist"}),
            S("use_mm broadcast batch", (2, 1, 4, 3), (3, 5, 3), kwargs={"compute_mode": "use_mm_for_euclid_dist"}),
            S("more than 25 rows", (2, 30, 3), (2, 27, 3)),
            S("use_mm zero distance", np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([[1.0, 2.0]]),
              kwargs={"compute_mode": "use_mm_for_euclid_dist"}, gradcheck=False),
        ],
        tolerances=TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "cross",
        lambda m, a, b, **kw: m.cross(a, b, **kw),
        lambda dtype: [S("dim=1", (2, 3, 4), (2, 3, 4), kwargs={"dim": 1}), S("dim=-1 broadcast", (1, 3), (4, 3),
                                                                                kwargs={"dim": -1})],
        variants={"method": lambda m, a, b, **kw: a.cross(b, **kw)},
        error_inputs=lambda: [
            ErrorInput(S("length 2", (3, 2), (3, 2), kwargs={"dim": 1}), RuntimeError, "linalg.cross: inputs "
                       "dimension 1 must have length 3. Got 2 and 2"),
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    ),
]
