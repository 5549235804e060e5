"""Op table entries: losses (engine/ops/loss.py), normalisation (norm.py), dropout (dropout.py) and the
activations (activation.py), called through ``F(m)``: the engine's functions or ``torch.nn.functional``."""

from __future__ import annotations

import types

import numpy as np

import engine
from engine.ops import activation, dropout, loss, norm

from .core import FLOATS, OpInfo, S, call_error, is_float, with_call_errors

EF = types.SimpleNamespace(
    **{name: getattr(mod, name) for mod in (loss, norm, activation, dropout) for name in mod.__all__}
)


def F(m):
    """The engine's functional ops or ``torch.nn.functional``."""
    return EF if m is engine else m.nn.functional


def _targets(shape, n_classes, seed=0, ignore=None):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_classes, size=shape).astype(np.int64)
    if ignore is not None and t.size > 1:
        t.reshape(-1)[::3] = ignore
    return t


REDUCTIONS = ("mean", "sum", "none")
CLASS_SHAPES = [
    ("(N,C)", (6, 5), (6,)),
    ("(N,C,L)", (2, 4, 3), (2, 3)),
    ("(N,C,H,W)", (2, 4, 3, 2), (2, 3, 2)),
    ("(N,C,D,H,W)", (2, 3, 2, 2, 2), (2, 2, 2, 2)),
    ("(C,)", (5,), ()),
]


def _class_samples(*, smoothing, ignore_index, seed, probabilities=False):
    def samples(dtype):
        out = []
        for name, xs, ts in CLASS_SHAPES:
            c = xs[1] if len(xs) > 1 else xs[0]
            t = _targets(ts, c, seed=seed, ignore=ignore_index if ts else None)
            w = np.linspace(0.2, 2.0, c)
            for reduction in REDUCTIONS:
                kw = {"reduction": reduction}
                if ignore_index != -100:
                    kw["ignore_index"] = ignore_index
                out.append(
                    S(
                        f"{name},{reduction}",
                        xs,
                        t,
                        kwargs=kw,
                        dtypes=(None, "int64"),
                        grad=(True, False),
                        low=-4,
                        high=4,
                    )
                )
            for ls in smoothing:
                kw = {"label_smoothing": ls} if ls else {}
                out.append(
                    S(
                        f"{name},w,ls={ls}",
                        xs,
                        t,
                        w,
                        kwargs=kw,
                        dtypes=(None, "int64", None),
                        grad=(True, False, False),
                        low=-4,
                        high=4,
                    )
                )
        if probabilities:
            rng = np.random.default_rng(1)
            for shape in [(6, 5), (2, 4, 3, 2), (5,)]:
                p = rng.random(shape)
                p /= p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
                c = shape[1] if len(shape) > 1 else shape[0]
                for reduction in REDUCTIONS:
                    out.append(
                        S(
                            f"probs{shape},{reduction}",
                            shape,
                            p,
                            kwargs={"reduction": reduction, "label_smoothing": 0.2},
                        )
                    )
                out.append(S(f"probs{shape},w", shape, p, np.linspace(0.5, 1.5, c), grad=(True, True, False)))
            t = np.array([1, 1, 1, 0, 3, 2, 1])
            for ii in (-100, 1):
                out.append(
                    S(
                        f"ignore={ii},w,ls",
                        (7, 4),
                        t,
                        np.array([0.5, 2.0, 1.0, 3.0]),
                        kwargs={"ignore_index": ii, "label_smoothing": 0.3},
                        dtypes=(None, "int64", None),
                        grad=(True, False, False),
                    )
                )
            ignored = np.array([-100, -100])
            out += [
                S(
                    f"all ignored,{r}",
                    (2, 3),
                    ignored,
                    dtypes=(None, "int64"),
                    grad=False,
                    kwargs={"label_smoothing": 0.2, "reduction": r},
                )
                for r in REDUCTIONS
            ]
            out.append(
                S(
                    "all ignored,mean,grad",
                    (2, 3),
                    ignored,
                    dtypes=(None, "int64"),
                    grad=(True, False),
                    kwargs={"label_smoothing": 0.2},
                    gradcheck=False,
                )
            )
            if is_float(dtype):
                x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4], [-1e4, 1e4, 3.0]])
                out.append(
                    S(
                        "extreme logits",
                        x,
                        np.array([1, 2, 2, 0]),
                        dtypes=(None, "int64"),
                        grad=(True, False),
                        kwargs={"label_smoothing": 0.1},
                        gradcheck=False,
                        rtol=1e-5,
                    )
                )
        return out

    return samples


def _pointwise_samples(*options, weighted=False):
    def samples(dtype):
        out = []
        for opt in options:
            for reduction in REDUCTIONS:
                out.append(S(f"{opt},{reduction}", (4, 5), (4, 5), kwargs={"reduction": reduction, **opt}))
        if weighted:
            out += [
                S(f"weighted,{r}", (3, 4), (3, 4), (3, 4), kwargs={"reduction": r}, low=0.1, high=2) for r in REDUCTIONS
            ]
        return out

    return samples


def _loss(name, samples, errors=(), **options):
    return OpInfo(
        name, lambda m, *xs, **kw: getattr(F(m), name)(*xs, **kw), samples, error_inputs=lambda: errors, **options
    )


_CE_ERRORS = [
    call_error(
        "target out of range",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 10])),
        [(3, 5)],
        IndexError,
        "Target 10 is out of bounds.",
    ),
    call_error(
        "negative target",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, -1, 0])),
        [(3, 5)],
        IndexError,
        "Target -1 is out of bounds.",
    ),
    call_error(
        "unbatched out of range",
        lambda m, x: F(m).cross_entropy(x, m.tensor(5)),
        [(3,)],
        IndexError,
        "Target 5 is out of bounds.",
    ),
    call_error(
        "float target",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1.0, 2.0, 3.0])),
        [(3, 5)],
        RuntimeError,
        "expected target dtype to be Long or Byte, but got Float",
    ),
    call_error(
        "int32 target",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3], dtype=m.int32)),
        [(3, 5)],
        RuntimeError,
        "expected target dtype to be Long or Byte, but got Int",
    ),
    call_error(
        "batch mismatch",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3, 4])),
        [(3, 5)],
        ValueError,
        "Expected input batch_size (3) to match target batch_size (4).",
    ),
    call_error(
        "long prob target",
        lambda m, x: F(m).cross_entropy(x, m.zeros(3, 5, dtype=m.int64)),
        [(3, 5)],
        RuntimeError,
        "Expected floating point type for target with class probabilities, got Long",
    ),
    call_error(
        "3d target size",
        lambda m, x: F(m).cross_entropy(x, m.zeros(2, 4, dtype=m.int64)),
        [(2, 5, 3)],
        RuntimeError,
        "Expected target size [2, 3], got [2, 4]",
    ),
    call_error(
        "4d target dim",
        lambda m, x: F(m).cross_entropy(x, m.zeros(2, 3, dtype=m.int64)),
        [(2, 5, 3, 4)],
        RuntimeError,
        "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2",
    ),
    call_error(
        "weight size",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3]), weight=m.ones(4)),
        [(3, 5)],
        RuntimeError,
        "weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: [4]",
    ),
    call_error(
        "prob weight size",
        lambda m, x: F(m).cross_entropy(x, m.ones(3, 5), weight=m.ones(4)),
        [(3, 5)],
        RuntimeError,
        "cross_entropy: weight tensor should be defined either for all 5 classes or no classes",
    ),
    call_error(
        "label smoothing",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3]), label_smoothing=1.5),
        [(3, 5)],
        RuntimeError,
        "label_smoothing must be between 0.0 and 1.0. Got: 1.5",
    ),
    call_error(
        "reduction",
        lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3]), reduction="foo"),
        [(3, 5)],
        ValueError,
        "foo is not a valid value for reduction",
    ),
]
_NLL_ERRORS = [
    call_error(
        "0-d input",
        lambda m, x: F(m).nll_loss(x, m.tensor(0)),
        [()],
        ValueError,
        "Expected 1 or more dimensions (got 0)",
    ),
    call_error(
        "multi-target",
        lambda m, x: F(m).nll_loss(x, m.zeros(3, 2, dtype=m.int64)),
        [(3, 5)],
        RuntimeError,
        "0D or 1D target tensor expected, multi-target not supported",
    ),
]


def _bce_logits_samples(dtype):
    rng = np.random.default_rng(5)
    t = rng.random((4, 3))
    w, pw = np.array([0.5, 1.0, 2.0]), np.array([3.0, 0.5, 1.0])
    out = []
    for reduction in REDUCTIONS:
        out.append(S(f"{reduction}", (4, 3), t, kwargs={"reduction": reduction}, low=-5, high=5))
        out.append(
            S(
                f"w,pw,{reduction}",
                (4, 3),
                t,
                w,
                pw,
                kwargs={"reduction": reduction},
                grad=(True, True, False, False),
                low=-5,
                high=5,
            )
        )
    out.append(S("w only", (4, 3), t, w, grad=(True, True, False), low=-5, high=5))
    if is_float(dtype):
        x = np.array([1e4, -1e4, 100.0, -100.0, 0.0])
        out.append(
            S(
                "extreme logits",
                x,
                np.array([0.0, 1.0, 0.3, 0.7, 1.0]),
                np.ones(5),
                np.full(1, 2.0),
                kwargs={"reduction": "none"},
                grad=(True, True, False, False),
                gradcheck=False,
                rtol=1e-6,
            )
        )
    return out


def _bce_samples(dtype):
    rng = np.random.default_rng(6)
    x = rng.uniform(0.05, 0.95, (4, 3))
    t = rng.random((4, 3))
    out = []
    for reduction in REDUCTIONS:
        out.append(S(reduction, x, t, kwargs={"reduction": reduction}))
        out.append(
            S(
                f"w,{reduction}",
                x,
                t,
                np.array([0.5, 1.0, 2.0]),
                kwargs={"reduction": reduction},
                grad=(True, True, False),
            )
        )
    if is_float(dtype):
        out.append(
            S(
                "log clamped at -100",
                np.array([0.0, 1.0, 1e-30, 0.5]),
                np.array([1.0, 0.0, 1.0, 0.5]),
                kwargs={"reduction": "none"},
                grad=False,
                gradcheck=False,
            )
        )
    return out


def _bn(m, x, rm, rv, *wb, training=False, **kw):
    return F(m).batch_norm(x * 2 + 1, rm, rv, *wb, training=training, **kw)


def _bn_samples(dtype):
    rng = np.random.default_rng(7)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    out = []
    for shape in [(8, 3), (4, 3, 5), (4, 3, 3, 2)]:
        for training in (True, False):
            kw = {"training": training, "momentum": 0.3, "eps": 1e-4}
            mode = "train" if training else "eval"
            out.append(S(f"{shape},{mode}", shape, rm, rv, kwargs=kw, grad=(True, False, False)))
            out.append(
                S(f"{shape},{mode},affine", shape, rm, rv, (3,), (3,), kwargs=kw, grad=(True, False, False, True, True))
            )
    return out


_BN_ERRORS = [
    call_error(
        "batch of one",
        lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), training=True),
        [(1, 3)],
        ValueError,
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])",
    ),
    call_error(
        "4d batch of one",
        lambda m, x: F(m).batch_norm(x, None, None, training=True),
        [(1, 3, 1, 1)],
        ValueError,
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 3, 1, 1])",
    ),
    call_error(
        "eval without stats",
        lambda m, x: F(m).batch_norm(x, None, None),
        [(2, 3)],
        RuntimeError,
        "running_mean must be defined in evaluation mode",
    ),
    call_error(
        "running size",
        lambda m, x: F(m).batch_norm(x, m.zeros(4), m.ones(4)),
        [(2, 3)],
        RuntimeError,
        "running_mean should contain 3 elements not 4",
    ),
    call_error(
        "weight size",
        lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), m.ones(4)),
        [(2, 3)],
        RuntimeError,
        "weight should contain 3 elements not 4",
    ),
    call_error(
        "eps",
        lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), training=True, eps=0),
        [(2, 3)],
        ValueError,
        "batch_norm eps must be positive during training, but got 0",
    ),
]


def _ln_samples(dtype):
    out = []
    for shape in [(4, 3, 5), (3, 4, 2, 3)]:
        ns = shape[-2:]
        out.append(S(f"{shape}", shape, args=(ns,), kwargs={"eps": 1e-4}))
        out.append(S(f"{shape},affine", shape, ns, ns, kwargs={"normalized_shape": ns, "eps": 1e-4}))
        out.append(S(f"{shape},last", shape, args=((shape[-1],),)))
    return out


def _ln(m, x, *args, normalized_shape=None, **kw):
    if normalized_shape is not None:
        return F(m).layer_norm(x, normalized_shape, *args, **kw)
    return F(m).layer_norm(x, *args, **kw)


def _gn_samples(dtype):
    out = []
    for shape, groups in [((2, 6, 4), 3), ((3, 4, 2, 3), 2), ((3, 8), 2)]:
        out.append(S(f"{shape},g={groups}", shape, kwargs={"num_groups": groups}))
        out.append(S(f"{shape},g={groups},affine", shape, (shape[1],), (shape[1],), kwargs={"num_groups": groups}))
    return out


def _gn(m, x, *wb, num_groups):
    return F(m).group_norm(x, num_groups, *wb)


_LN_ERRORS = [
    call_error(
        "shape",
        lambda m, x: F(m).layer_norm(x, [5]),
        [(3, 4)],
        RuntimeError,
        "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[3, 4]",
    ),
    call_error(
        "weight",
        lambda m, x: F(m).layer_norm(x, (3, 4), weight=m.ones(4)),
        [(3, 4)],
        RuntimeError,
        "Expected weight to be of same shape as normalized_shape, but got weight of shape [4] and "
        "normalized_shape = [3, 4]",
    ),
]
_GN_ERRORS = [
    call_error(
        "groups",
        lambda m, x: F(m).group_norm(x, 4),
        [(2, 6, 4)],
        RuntimeError,
        "Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 6, 4] and "
        "num_groups=4",
    ),
    call_error(
        "1d",
        lambda m, x: F(m).group_norm(x, 3),
        [(6,)],
        RuntimeError,
        "Expected at least 2 dimensions for input tensor but received 1",
    ),
]
_NORM_TOL = {"float32": (5e-5, 1e-4)}


def _weighted(name):
    def fn(m, x, y, w=None, **kw):
        return getattr(F(m), name)(x, y, **kw) if w is None else getattr(F(m), name)(x, y, weight=w, **kw)

    return fn


LOSS = [
    OpInfo(
        "cross_entropy",
        with_call_errors(lambda m, *a, **kw: F(m).cross_entropy(*a, **kw)),
        _class_samples(smoothing=(0.0, 0.15), ignore_index=-100, seed=0, probabilities=True),
        error_inputs=lambda: _CE_ERRORS,
        supports_gradgrad=True,
    ),
    OpInfo(
        "nll_loss",
        with_call_errors(lambda m, *a, **kw: F(m).nll_loss(*a, **kw)),
        _class_samples(smoothing=(0.0,), ignore_index=2, seed=2),
        error_inputs=lambda: _NLL_ERRORS,
        supports_gradgrad=True,
    ),
    OpInfo(
        "mse_loss",
        with_call_errors(_weighted("mse_loss")),
        lambda dtype: [
            *_pointwise_samples({}, weighted=True)(dtype),
            *(
                [S("int target", (3, 4), np.arange(12).reshape(3, 4), dtypes=(None, "int64"), grad=(True, False))]
                if dtype == "float32"
                else []
            ),
        ],
        error_inputs=lambda: [
            call_error(
                "broadcast",
                lambda m, x: F(m).mse_loss(x, x[0, :4]),
                [(3, 5)],
                RuntimeError,
                "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1",
            ),
            call_error(
                "weight size",
                lambda m, x: F(m).mse_loss(x, m.zeros(3, 5), weight=m.ones(5)),
                [(3, 5)],
                ValueError,
                "Weights and input must have the same size.",
            ),
        ],
        supports_gradgrad=True,
    ),
    OpInfo("l1_loss", _weighted("l1_loss"), _pointwise_samples({}, weighted=True), supports_gradgrad=True),
    OpInfo(
        "smooth_l1_loss",
        with_call_errors(lambda m, *a, **kw: F(m).smooth_l1_loss(*a, **kw)),
        _pointwise_samples({}, {"beta": 0.5}, {"beta": 0.0}),
        error_inputs=lambda: [
            call_error(
                "beta",
                lambda m, x: F(m).smooth_l1_loss(x, m.zeros(3, 5), beta=-1.0),
                [(3, 5)],
                RuntimeError,
                "smooth_l1_loss does not support negative values for beta.",
            )
        ],
        supports_gradgrad=True,
    ),
    OpInfo(
        "huber_loss",
        with_call_errors(_weighted("huber_loss")),
        _pointwise_samples({}, {"delta": 0.4}, weighted=True),
        error_inputs=lambda: [
            call_error(
                "delta",
                lambda m, x: F(m).huber_loss(x, m.zeros(3, 5), delta=0.0),
                [(3, 5)],
                RuntimeError,
                "huber_loss does not support non-positive values for delta.",
            )
        ],
        supports_gradgrad=True,
    ),
    OpInfo(
        "binary_cross_entropy_with_logits",
        with_call_errors(
            lambda m, x, t, w=None, pw=None, **kw: F(m).binary_cross_entropy_with_logits(x, t, w, pos_weight=pw, **kw)
        ),
        _bce_logits_samples,
        error_inputs=lambda: [
            call_error(
                "size",
                lambda m, x: F(m).binary_cross_entropy_with_logits(x, m.zeros(3)),
                [(3, 5)],
                ValueError,
                "Target size (torch.Size([3])) must be the same as input size (torch.Size([3, 5]))",
            )
        ],
        supports_gradgrad=True,
    ),
    OpInfo(
        "binary_cross_entropy",
        with_call_errors(lambda m, *a, **kw: F(m).binary_cross_entropy(*a, **kw)),
        _bce_samples,
        error_inputs=lambda: [
            call_error(
                "input range",
                lambda m, x: F(m).binary_cross_entropy(x * 3, m.zeros(3, 5)),
                [(3, 5)],
                RuntimeError,
                "all elements of input should be between 0 and 1",
            ),
            call_error(
                "size",
                lambda m, x: F(m).binary_cross_entropy(m.sigmoid(x), m.zeros(3)),
                [(3, 5)],
                ValueError,
                "Using a target size (torch.Size([3])) that is different to the input size (torch.Size([3, 5])) "
                "is deprecated. Please ensure they have the same size.",
            ),
        ],
        supports_gradgrad=True,
    ),
]

NORM = [
    OpInfo(
        "batch_norm",
        with_call_errors(_bn),
        _bn_samples,
        error_inputs=lambda: _BN_ERRORS,
        implementations=("compiled", "generic"),
        tolerances=_NORM_TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "layer_norm",
        with_call_errors(_ln),
        _ln_samples,
        error_inputs=lambda: _LN_ERRORS,
        tolerances=_NORM_TOL,
        supports_gradgrad=True,
    ),
    OpInfo(
        "group_norm",
        with_call_errors(_gn),
        _gn_samples,
        error_inputs=lambda: _GN_ERRORS,
        tolerances=_NORM_TOL,
        supports_gradgrad=True,
    ),
]


def _dropout_samples(spatial):
    def samples(dtype):
        shape = (2, 3) + (2,) * spatial if spatial else (4, 5)
        return [
            S("p=0", shape, args=(0.0,)),
            S("p=1", shape, args=(1.0,), gradcheck=False),
            S("eval", shape, args=(0.5,), kwargs={"training": False}),
        ]

    return samples


def _dropout(name, spatial, errors):
    return OpInfo(
        name,
        with_call_errors(lambda m, *a, **kw: getattr(F(m), name)(*a, **kw)),
        _dropout_samples(spatial),
        error_inputs=lambda: errors,
        supports_gradgrad=True,
    )


DROPOUT = [
    _dropout(
        "dropout",
        0,
        [
            call_error(
                "p",
                lambda m, x: F(m).dropout(x, 1.5),
                [(3,)],
                ValueError,
                "dropout probability has to be between 0 and 1, but got 1.5",
            ),
        ],
    ),
    _dropout(
        "dropout1d",
        1,
        [
            call_error(
                "dims",
                lambda m, x: F(m).dropout1d(x),
                [(2, 3, 4, 4)],
                RuntimeError,
                "dropout1d: Expected 2D or 3D input, but received a 4D input.",
            ),
        ],
    ),
    _dropout(
        "dropout2d",
        2,
        [
            call_error(
                "p",
                lambda m, x: F(m).dropout2d(x, -0.5),
                [(2, 3, 4, 4)],
                ValueError,
                "dropout probability has to be between 0 and 1, but got -0.5",
            ),
        ],
    ),
    _dropout("dropout3d", 3, []),
]

ACTIVATIONS = [
    ("leaky_relu", [{}, {"negative_slope": 0.2}]),
    ("gelu", [{}, {"approximate": "tanh"}]),
    ("elu", [{}, {"alpha": 0.5}]),
    ("selu", [{}]),
    ("celu", [{"alpha": 2.0}]),
    ("silu", [{}]),
    ("mish", [{}]),
    ("softplus", [{}, {"beta": 2.0, "threshold": 3.0}]),
    ("hardtanh", [{}, {"min_val": -2.0, "max_val": 0.5}]),
    ("relu6", [{}]),
    ("hardsigmoid", [{}]),
    ("hardswish", [{}]),
    ("logsigmoid", [{}]),
]
# PyTorch has no double backward of hardsigmoid ("derivative for aten::hardsigmoid_backward is not implemented").
_NO_GRADGRAD = {"hardsigmoid"}
_INPLACE = {"leaky_relu", "elu", "silu", "hardtanh", "relu6", "mish", "hardswish"}
_ACT_ERRORS = {
    "gelu": [
        call_error(
            "approximate",
            lambda m, x: F(m).gelu(x, approximate="foo"),
            [(3,)],
            RuntimeError,
            "approximate argument must be either none or tanh.",
        )
    ],
    "hardtanh": [
        call_error(
            "range",
            lambda m, x: F(m).hardtanh(x, 2.0, 1.0),
            [(3,)],
            ValueError,
            "min_val cannot be greater than max_val",
        )
    ],
}


def _act_samples(name, options):
    def samples(dtype):
        out = [S(f"{kw}", (6, 7), kwargs=kw, low=-7, high=7) for kw in options]
        if name in _INPLACE:
            out.append(S("inplace", (4, 5), kwargs={"inplace_copy": True}, low=-4, high=4))
        if is_float(dtype):
            x = np.array([-1e4, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1e4])
            out += [S(f"extremes{kw}", x, kwargs=kw, gradcheck=False, rtol=1e-5) for kw in options]
        return out

    return samples


def _activation(name, options):
    def fn(m, x, inplace_copy=False, **kw):
        if inplace_copy:
            y = x * 1
            out = getattr(F(m), name)(y, inplace=True)
            assert out is y
            return out
        return getattr(F(m), name)(x, **kw)

    errors = _ACT_ERRORS.get(name, [])
    return OpInfo(
        name,
        with_call_errors(fn),
        _act_samples(name, options),
        error_inputs=lambda: errors,
        supports_gradgrad=name not in _NO_GRADGRAD,
    )


ACTIVATION = [_activation(name, options) for name, options in ACTIVATIONS]

__all__ = ["ACTIVATION", "DROPOUT", "EF", "FLOATS", "LOSS", "NORM", "F"]
