"""Op table entries: embedding lookups (engine/ops/embedding.py), called through ``m.nn.functional`` with the
weight first (the input the gradient is about) and the indices second."""

from __future__ import annotations

import numpy as np

from .core import OpInfo, S, Tensor, call_error, with_call_errors

_IDX = np.array([[1, 2, 2, 0], [6, 0, 1, 2]])
_FLAT = np.array([1, 2, 2, 6, 0, 1, 3, 2])
_OFFSETS = Tensor([0, 2, 2, 5])


def _lookup(name):
    return with_call_errors(lambda m, w, idx, *a, **kw: getattr(m.nn.functional, name)(idx, w, *a, **kw))


def _renormed(m, w, idx, **kw):
    """``max_norm`` rescales rows of the weight in place: a copy of the input takes that, not the leaf."""
    return m.nn.functional.embedding(idx, w * 1, **kw)


def _index_sample(name, idx, **options):
    return S(name, (7, 3), idx, dtypes=(None, "int64"), grad=(True, False), **options)


def _embedding_samples(dtype):
    return [
        _index_sample("plain", _IDX),
        _index_sample("0-d", np.array(3)),
        # the padding row's zero gradient and the frequency scaling are by design not the derivative
        _index_sample("padding_idx", _IDX, kwargs={"padding_idx": 2}, gradcheck=False),
        _index_sample("padding_idx<0", _IDX, kwargs={"padding_idx": -1}, gradcheck=False),
        _index_sample("scale_grad_by_freq", _IDX, kwargs={"scale_grad_by_freq": True, "padding_idx": 0},
                      gradcheck=False),
    ]


def _bag_samples(dtype):
    out = []
    for mode in ("sum", "mean", "max"):
        out += [
            _index_sample(f"{mode},2d", _IDX, kwargs={"mode": mode}),
            _index_sample(f"{mode},offsets", _FLAT, kwargs={"offsets": _OFFSETS, "mode": mode}),
            _index_sample(f"{mode},padding,last", _FLAT,
                          kwargs={"offsets": _OFFSETS, "mode": mode, "padding_idx": 2, "include_last_offset": True}),
        ]
    return out


def _weighted_bag_samples(dtype):
    return [S("per_sample_weights", (7, 3), _FLAT, (8,), dtypes=(None, "int64", None), grad=(True, False, True),
              kwargs={"offsets": _OFFSETS, "mode": "sum", "padding_idx": 1})]


def _bag(m, w, idx, psw=None, **kw):
    """``embedding_bag``, with per-sample weights as the third tensor when a sample gives them."""
    return m.nn.functional.embedding_bag(idx, w, per_sample_weights=psw, **kw)


def _idx_error(name, fn, idx, exc, match):
    return call_error(name, lambda m, w: fn(m, w, m.tensor(idx)), [(7, 3)], exc, match)


_EMBEDDING_ERRORS = [
    _idx_error("float indices", lambda m, w, i: m.nn.functional.embedding(i.double(), w), [1], RuntimeError,
               "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
               "but got torch.DoubleTensor instead (while checking arguments for embedding)"),
    _idx_error("out of range", lambda m, w, i: m.nn.functional.embedding(i, w), [7], IndexError,
               "index out of range in self"),
    _idx_error("negative", lambda m, w, i: m.nn.functional.embedding(i, w), [-1], IndexError,
               "index out of range in self"),
    _idx_error("weight 1-d", lambda m, w, i: m.nn.functional.embedding(i, w[0]), [1], RuntimeError,
               "'weight' must be 2-D"),
    _idx_error("padding_idx", lambda m, w, i: m.nn.functional.embedding(i, w, padding_idx=7), [1], AssertionError,
               "Padding_idx must be within num_embeddings"),
]


def _bag_error(name, idx, offsets, exc, match, **kw):
    return call_error(
        name,
        lambda m, w: m.nn.functional.embedding_bag(m.tensor(idx), w, None if offsets is None else m.tensor(offsets),
                                                   **kw),
        [(7, 3)], exc, match)


_BAG_ERRORS = [
    _bag_error("mode", [1, 2], [0, 1], ValueError, "mode has to be one of sum, mean or max", mode="foo"),
    _bag_error("offsets[0]", [1, 2], [1, 1], RuntimeError,
               "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
               "However, got 1"),
    _bag_error("offsets[-1]", [1, 2], [0, 3], RuntimeError,
               "offsets[-1] can not be greater than input's length 2 but got offsets[-1] of 3"),
    _bag_error("no offsets", [1, 2], None, ValueError, "offsets has to be a 1D Tensor but got None"),
    _bag_error("2d offsets", [[1, 2]], [0], ValueError,
               "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
               "sequences. However, found offsets of type"),
    _bag_error("3d input", [[[1, 2]]], None, ValueError,
               "input has to be 1D or 2D Tensor, but got Tensor of dimension 3"),
    _bag_error("max freq", [1, 2], [0, 1], ValueError,
               "max mode does not support scaling the gradient by the frequency", mode="max", scale_grad_by_freq=True),
    _bag_error("padding_idx", [1, 2], [0, 1], RuntimeError,
               "padding_idx must be within the number of embeddings, -7 through 6, but got 9", padding_idx=9),
    call_error("per_sample_weights mode",
               lambda m, w: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0, 1]),
                                                          per_sample_weights=m.ones(2), mode="mean"),
               [(7, 3)], NotImplementedError,
               "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
               "(got mode='mean'). Please open a feature request on GitHub."),
    call_error("per_sample_weights shape",
               lambda m, w: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0, 1]),
                                                          per_sample_weights=m.ones(3), mode="sum"),
               [(7, 3)], ValueError,
               "embedding_bag: If per_sample_weights (torch.Size([3])) is not None, then it must have the same shape "
               "as the input (torch.Size([2]))"),
]

EMBEDDING = [
    OpInfo("embedding", _lookup("embedding"), _embedding_samples, error_inputs=lambda: _EMBEDDING_ERRORS,
           supports_gradgrad=True),
    OpInfo("embedding(max_norm)", with_call_errors(_renormed),
           lambda dtype: [_index_sample("max_norm", _IDX, kwargs={"max_norm": 1.0}, gradcheck=False),
                          _index_sample("max_norm,p=1", _IDX, kwargs={"max_norm": 1.5, "norm_type": 1.0},
                                        gradcheck=False)]),
    OpInfo("embedding_bag", with_call_errors(_bag), _bag_samples, error_inputs=lambda: _BAG_ERRORS,
           supports_gradgrad=True),
    # PyTorch has no second derivative through per-sample weights to compare with
    OpInfo("embedding_bag(per_sample_weights)", _bag, _weighted_bag_samples),
]
