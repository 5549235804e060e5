"""Op table entries: distances (engine/ops/distance.py) and the margin and likelihood losses
(engine/ops/embedding_loss.py, likelihood_loss.py), called through ``m.nn.functional``."""

from __future__ import annotations

import warnings

import numpy as np

from .core import OpInfo, S, call_error, with_call_errors

REDUCTIONS = ("mean", "sum", "none")
_RNG = np.random.default_rng(16)
_SIGNS = np.where(_RNG.random(6) < 0.5, -1.0, 1.0)


def _fn(name):
    return with_call_errors(lambda m, *a, **kw: getattr(m.nn.functional, name)(*a, **kw))


def _entry(name, samples, errors=(), **info):
    return OpInfo(name, _fn(name), samples, error_inputs=lambda: errors, supports_gradgrad=True, **info)


def _pairwise_samples(dtype):
    return [
        S("p=2", (5, 4), (5, 4)),
        S("p=1,keepdim", (5, 4), (5, 4), kwargs={"p": 1.0, "keepdim": True}),
        S("p=3,eps", (3, 6), (3, 6), kwargs={"p": 3.0, "eps": 1e-3}),
        S("broadcast", (5, 4), (4,)),
        S("1-d", (6,), (6,)),
    ]


def _cosine_samples(dtype):
    return [
        S("dim=1", (5, 4), (5, 4)),
        S("dim=0", (5, 4), (5, 4), kwargs={"dim": 0}),
        S("broadcast,3d", (2, 3, 4), (3, 4), kwargs={"dim": -1}),
        S("zero vector", np.zeros((2, 3)), (2, 3), gradcheck=False),
    ]


def _normalize_samples(dtype):
    return [
        S("p=2", (4, 5)),
        S("p=1,dim=0", (4, 5), kwargs={"p": 1.0, "dim": 0}),
        S("zero row", np.array([[0.0, 0.0], [3.0, -4.0]]), gradcheck=False),
    ]


def _margin_ranking_samples(dtype):
    out = [
        S(f"{r}", (6,), (6,), _SIGNS, kwargs={"reduction": r}, grad=(True, True, False)) for r in REDUCTIONS
    ]
    out.append(S("margin", (6,), (6,), _SIGNS, kwargs={"margin": 0.5}, grad=(True, True, False)))
    return out


def _triplet_samples(dtype):
    out = [S(f"{r}", (5, 4), (5, 4), (5, 4), kwargs={"reduction": r}) for r in REDUCTIONS]
    out += [
        S("p=1,swap", (5, 4), (5, 4), (5, 4), kwargs={"p": 1, "swap": True, "margin": 2.0}),
        S("1-d", (4,), (4,), (4,), kwargs={"margin": 3.0}),
    ]
    return out


def _triplet_distance(m, a, p, n, distance=None, **kw):
    """With PyTorch's default distance, or one given by name: cosine distance, squared L2."""
    fns = {
        "cosine": lambda x, y: 1 - m.nn.functional.cosine_similarity(x, y),
        "squared": lambda x, y: ((x - y) ** 2).sum(-1),
    }
    return m.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=fns.get(distance), **kw)


def _triplet_distance_samples(dtype):
    out = [S(f"default,{r}", (5, 4), (5, 4), (5, 4), kwargs={"reduction": r}) for r in REDUCTIONS]
    out += [
        S("cosine,swap", (5, 4), (5, 4), (5, 4), kwargs={"distance": "cosine", "swap": True, "margin": 0.5}),
        S("squared", (5, 4), (5, 4), (5, 4), kwargs={"distance": "squared", "margin": 4.0}),
    ]
    return out


def _cosine_embedding_samples(dtype):
    out = [
        S(f"{r}", (6, 4), (6, 4), _SIGNS, kwargs={"reduction": r}, grad=(True, True, False)) for r in REDUCTIONS
    ]
    out += [
        S("margin", (6, 4), (6, 4), _SIGNS, kwargs={"margin": -0.3}, grad=(True, True, False)),
        S("0-d target", (4,), (4,), np.array(-1.0), kwargs={"margin": -0.5}, grad=(True, True, False)),
    ]
    return out


def _kl_div(m, *a, **kw):
    """kl_div; reduction='mean' warns on both sides (test_loss_layers checks the warning), here it is muted."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "reduction: 'mean' divides")
        return m.nn.functional.kl_div(*a, **kw)


def _hinge_samples(dtype):
    out = [S(f"{r}", (6, 4), np.repeat(_SIGNS[:, None], 4, 1), kwargs={"reduction": r}, grad=(True, False))
           for r in REDUCTIONS]
    out.append(S("margin,1-d", (6,), _SIGNS, kwargs={"margin": 0.5}, grad=(True, False)))
    return out


def _soft_margin_samples(dtype):
    out = [S(f"{r}", (6, 4), np.repeat(_SIGNS[:, None], 4, 1), kwargs={"reduction": r}, grad=(True, False))
           for r in REDUCTIONS]
    out.append(S("float targets", (6,), (6,), grad=(True, False)))
    return out


def _multi_margin(m, x, t, weighted=False, **kw):
    w = m.linspace(0.5, 2.0, x.shape[-1], dtype=x.dtype, device=x.device) if weighted else None
    return m.nn.functional.multi_margin_loss(x, t, weight=w, **kw)


def _multi_margin_samples(dtype):
    t = np.array([1, 0, 4, 2, 4, 3])
    out = [S(f"{r}", (6, 5), t, kwargs={"reduction": r}, dtypes=(None, "int64"), grad=(True, False))
           for r in REDUCTIONS]
    out += [
        S("p=2,margin,weight", (6, 5), t, kwargs={"p": 2, "margin": 0.5, "weighted": True}, dtypes=(None, "int64"),
          grad=(True, False)),
        S("1-d", (5,), np.array([3]), kwargs={"reduction": "none"}, dtypes=(None, "int64"), grad=(True, False)),
        S("1-d,0-d target", (5,), np.array(3), kwargs={"reduction": "none"}, dtypes=(None, "int64"),
          grad=(True, False)),
    ]
    return out


def _prob_rows(shape):
    p = _RNG.random(shape) + 0.05
    return p / p.sum(axis=-1, keepdims=True)


def _kl_samples(dtype):
    t = _prob_rows((4, 5))
    logp = np.log(_prob_rows((4, 5)))
    out = [S(f"{r}", logp, t, kwargs={"reduction": r}) for r in (*REDUCTIONS, "batchmean")]
    out += [
        S("log_target", logp, np.log(t), kwargs={"reduction": "batchmean", "log_target": True}),
        S("zero target", logp, np.array([0.0, 0.2, 0.3, 0.5, 0.0]), kwargs={"reduction": "sum"}, grad=(True, False)),
    ]
    return out


def _poisson_samples(dtype):
    counts = _RNG.poisson(2.0, (4, 5)).astype(np.float64)
    out = [S(f"{r}", (4, 5), counts, kwargs={"reduction": r}, grad=(True, False)) for r in REDUCTIONS]
    out += [
        S("rate,full", (4, 5), counts, kwargs={"log_input": False, "full": True}, positive=True, low=0.2, high=3,
          grad=(True, False)),
        S("full,target grad", (4, 5), counts + 1.5, kwargs={"full": True, "reduction": "sum"}),
    ]
    return out


def _gaussian_samples(dtype):
    out = [S(f"{r}", (4, 3), (4, 3), (4, 3), kwargs={"reduction": r}, positive=True, low=0.1, high=2)
           for r in REDUCTIONS]
    out += [
        S("per-row var,full", (4, 3), (4, 3), (4,), kwargs={"full": True}, positive=True, low=0.1, high=2),
        S("heteroscedastic", (4, 3), (4, 3), (4, 1), kwargs={"reduction": "sum"}, positive=True, low=0.1, high=2),
        S("var below eps", (3,), (3,), np.array([1e-9, 0.5, 2.0]), kwargs={"eps": 1e-3}, gradcheck=False),
    ]
    return out


def _gaussian_float_var(m, x, t, **kw):
    return m.nn.functional.gaussian_nll_loss(x, t, 0.7, **kw)


def _multilabel_samples(dtype):
    t = (_RNG.random((4, 5)) < 0.5).astype(np.float64)
    out = [S(f"{r}", (4, 5), t, kwargs={"reduction": r}, grad=(True, False)) for r in REDUCTIONS]
    out.append(S("weight", (4, 5), t, kwargs={"weighted": True}, grad=(True, False)))
    out.append(S("soft targets,3d", (2, 3, 4), (2, 3, 4), positive=True, low=0, high=1))
    return out


def _multilabel(m, x, t, weighted=False, **kw):
    w = m.linspace(0.5, 2.0, x.shape[-1], dtype=x.dtype, device=x.device) if weighted else None
    return m.nn.functional.multilabel_soft_margin_loss(x, t, weight=w, **kw)


DISTANCE_LOSS = [
    _entry("pairwise_distance", _pairwise_samples),
    _entry(
        "cosine_similarity",
        _cosine_samples,
        [
            call_error(
                "shapes",
                lambda m, x: m.nn.functional.cosine_similarity(x, m.ones(3, 5)),
                [(3, 4)],
                RuntimeError,
                "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 1",
            ),
            call_error(
                "ints",
                lambda m, x: m.nn.functional.cosine_similarity(m.ones(3, 4, dtype=m.int64), m.ones(3, 4,
                                                                                                   dtype=m.int64)),
                [(3, 4)],
                RuntimeError,
                "expected common dtype to be floating point, yet common dtype is Long",
            ),
        ],
    ),
    _entry("normalize", _normalize_samples),
    _entry(
        "margin_ranking_loss",
        _margin_ranking_samples,
        [
            call_error(
                "dims",
                lambda m, x: m.nn.functional.margin_ranking_loss(x, x, m.ones(1, 4)),
                [(4,)],
                RuntimeError,
                "margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
                "torch.Size([4]), input2: torch.Size([4]), target: torch.Size([1, 4]) ",
            ),
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.margin_ranking_loss(x, x, x, reduction="foo"),
                [(4,)],
                ValueError,
                "foo is not a valid value for reduction",
            ),
        ],
    ),
    _entry(
        "triplet_margin_loss",
        _triplet_samples,
        [
            call_error(
                "dims",
                lambda m, x: m.nn.functional.triplet_margin_loss(x, x, x[0]),
                [(3, 4)],
                RuntimeError,
                "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
                "but got: anchor 2D, positive 2D, and negative 1D inputs",
            ),
            call_error(
                "margin",
                lambda m, x: m.nn.functional.triplet_margin_loss(x, x, x, margin=0.0),
                [(3, 4)],
                ValueError,
                "margin must be greater than 0, got 0.0",
            ),
        ],
    ),
    OpInfo(
        "triplet_margin_with_distance_loss",
        with_call_errors(_triplet_distance),
        _triplet_distance_samples,
        error_inputs=lambda: [
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.triplet_margin_with_distance_loss(x, x, x, reduction="foo"),
                [(3, 4)],
                ValueError,
                "foo is not a valid value for reduction",
            ),
            call_error(
                "margin",
                lambda m, x: m.nn.functional.triplet_margin_with_distance_loss(x, x, x, margin=-1.0),
                [(3, 4)],
                ValueError,
                "margin must be greater than 0, got -1.0",
            ),
        ],
        supports_gradgrad=True,
    ),
    _entry(
        "cosine_embedding_loss",
        _cosine_embedding_samples,
        [
            call_error(
                "target dims",
                lambda m, x: m.nn.functional.cosine_embedding_loss(x, x, m.ones(3, 1)),
                [(3, 4)],
                RuntimeError,
                "0D or 1D target tensor expected, multi-target not supported",
            ),
            call_error(
                "input dims",
                lambda m, x: m.nn.functional.cosine_embedding_loss(x, x, m.ones(3)),
                [(3,)],
                RuntimeError,
                "1D target tensor expects 2D input tensors, but found inputs with sizes [3] and [3].",
            ),
        ],
    ),
    _entry("hinge_embedding_loss", _hinge_samples),
    _entry(
        "soft_margin_loss",
        _soft_margin_samples,
        [
            call_error(
                "target grad",
                lambda m, x: m.nn.functional.soft_margin_loss(x, x.detach().requires_grad_()),
                [(3,)],
                RuntimeError,
                "The function 'soft_margin_loss' is not differentiable with respect to argument 'target'.",
            ),
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.soft_margin_loss(x, x, reduction="foo"),
                [(3,)],
                ValueError,
                "foo is not a valid value for reduction",
            ),
        ],
    ),
    OpInfo(
        "multi_margin_loss",
        with_call_errors(_multi_margin),
        _multi_margin_samples,
        error_inputs=lambda: [
            call_error("p", lambda m, x: m.nn.functional.multi_margin_loss(x, m.tensor([0, 1, 2]), p=3), [(3, 4)],
                       ValueError, "only p == 1 and p == 2 supported"),
            call_error("weight dims", lambda m, x: m.nn.functional.multi_margin_loss(
                x, m.tensor([0, 1, 2]), weight=m.ones(2, 4)), [(3, 4)], ValueError, "weight must be one-dimensional"),
            call_error("weight size", lambda m, x: m.nn.functional.multi_margin_loss(
                x, m.tensor([0, 1, 2]), weight=m.ones(3)), [(3, 4)], RuntimeError,
                "inconsistent weight size, expected 4 but got [3]"),
            call_error("target range", lambda m, x: m.nn.functional.multi_margin_loss(x, m.tensor([0, 4, 2])),
                       [(3, 4)], RuntimeError, "target out of range"),
            call_error("target size", lambda m, x: m.nn.functional.multi_margin_loss(x, m.tensor([0, 1])),
                       [(3, 4)], RuntimeError, "multi_margin_loss: target tensor should be 1-D with size equal to the "
                       "number of input samples (batch size). Expected target size [3], but got [2]. Input has shape "
                       "[3, 4]."),
            call_error("3-d", lambda m, x: m.nn.functional.multi_margin_loss(x, m.tensor([0, 1])), [(2, 3, 4)],
                       RuntimeError, "Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                       "[2, 3, 4]"),
            call_error("float target", lambda m, x: m.nn.functional.multi_margin_loss(x, m.tensor([0.0, 1.0, 2.0])),
                       [(3, 4)], RuntimeError, "expected scalar type Long but found Float"),
        ],
        supports_gradgrad=False,  # PyTorch has none to compare with (ours, a composition, has one)
    ),
    OpInfo(
        "kl_div",
        with_call_errors(_kl_div),
        _kl_samples,
        supports_gradgrad=True,
        error_inputs=lambda: [
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.kl_div(x, x, reduction="bad"),
                [(3,)],
                ValueError,
                "bad is not a valid value for reduction",
            ),
        ],
    ),
    _entry(
        "poisson_nll_loss",
        _poisson_samples,
        [
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.poisson_nll_loss(x, x, reduction="bad"),
                [(3,)],
                ValueError,
                "bad is not a valid value for reduction",
            ),
        ],
    ),
    _entry(
        "gaussian_nll_loss",
        _gaussian_samples,
        [
            call_error(
                "negative var",
                lambda m, x: m.nn.functional.gaussian_nll_loss(x, x, -x.abs()),
                [(3,)],
                ValueError,
                "var has negative entry/entries",
            ),
            call_error(
                "var size",
                lambda m, x: m.nn.functional.gaussian_nll_loss(x, x, m.ones(2, 2)),
                [(3, 4)],
                ValueError,
                "var is of incorrect size",
            ),
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.gaussian_nll_loss(x, x, x.abs(), reduction="bad"),
                [(3,)],
                ValueError,
                "bad is not valid",
            ),
        ],
    ),
    OpInfo(
        "gaussian_nll_loss float var",
        _gaussian_float_var,
        lambda dtype: [S(f"{r}", (4, 3), (4, 3), kwargs={"reduction": r}) for r in REDUCTIONS],
        supports_gradgrad=True,
    ),
    OpInfo(
        "multilabel_soft_margin_loss",
        with_call_errors(_multilabel),
        _multilabel_samples,
        error_inputs=lambda: [
            call_error(
                "reduction",
                lambda m, x: m.nn.functional.multilabel_soft_margin_loss(x, x, reduction="bad"),
                [(3, 2)],
                ValueError,
                "bad is not valid",
            ),
        ],
        supports_gradgrad=True,
    ),
]

__all__ = ["DISTANCE_LOSS"]
