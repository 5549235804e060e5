"""Op table entry: ``ctc_loss`` (engine/ops/ctc_loss.py), called through ``m.nn.functional``, over its compiled
and array implementations."""

from __future__ import annotations

import numpy as np

from .core import OpInfo, S, Tensor, call_error, with_call_errors

_RNG = np.random.default_rng(21)
_T, _N, _C = 10, 4, 5
_PADDED = _RNG.integers(1, _C, (_N, 4))
_PADDED[0, 1:3] = 3  # a repeated label needs a blank between
_IN = (10, 9, 10, 6)
_TG = (4, 2, 0, 3)
_CONCAT = np.concatenate([_PADDED[i, :n] for i, n in enumerate(_TG)])


def _ctc(m, x, targets, input_lengths, target_lengths, raw=False, **kw):
    """On log_softmax outputs, where PyTorch's gradient formula is the true gradient (``raw``: on ``x`` itself)."""
    lp = x if raw else x.log_softmax(-1)
    return m.nn.functional.ctc_loss(lp, targets, input_lengths, target_lengths, **kw)


def _samples(dtype):
    shape = (_T, _N, _C)
    out = [
        S(f"padded,{r}", shape, args=(Tensor(_PADDED, "int64"), _IN, _TG), kwargs={"reduction": r})
        for r in ("mean", "sum", "none")
    ]
    out += [
        S("concatenated,tensor lengths", shape,
          args=(Tensor(_CONCAT, "int64"), Tensor(_IN, "int64"), Tensor(_TG, "int32"))),
        S("blank=2,int32 targets", shape, args=(Tensor(np.where(_PADDED == 2, 0, _PADDED), "int32"), _IN, _TG),
          kwargs={"blank": 2, "reduction": "sum"}),
        S("raw log_probs", shape, args=(Tensor(_PADDED, "int64"), _IN, _TG), kwargs={"raw": True, "reduction": "sum"},
          gradcheck=False),
        S("unbatched", (7, _C), args=(Tensor(_PADDED[0], "int64"), Tensor(7, "int64"), Tensor(4, "int64")),
          kwargs={"reduction": "none"}),
        S("empty input", shape, args=(Tensor(_PADDED, "int64"), (0, 9, 0, 6), (0, 2, 1, 3)),
          kwargs={"reduction": "none", "zero_infinity": True}),
        S("too short,zero_infinity", shape, args=(Tensor(_PADDED, "int64"), (2, 9, 10, 6), _TG),
          kwargs={"zero_infinity": True}),
        S("too short,inf", (4, 2, _C), args=(Tensor(_PADDED[:2], "int64"), (2, 4), (4, 2)),
          kwargs={"reduction": "none"}, grad=False),
    ]
    return out


def _error(name, call, exc, match):
    return call_error(name, call, [(_T, _N, _C)], exc, match)


_C_ARGS = "(while checking arguments for ctc_loss_allocate_outputs)"
_ERRORS = [
    _error("blank", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), _IN, _TG, blank=_C), RuntimeError,
           "blank must be in label range"),
    _error("input lengths size", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), _IN[:3], _TG),
           RuntimeError, "input_lengths must be of size batch_size"),
    _error("target lengths size", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), _IN, _TG[:3]),
           RuntimeError, "target_lengths must be of size batch_size"),
    _error("input too long", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), (11, 9, 10, 6), _TG),
           RuntimeError, f"Expected input_lengths to have value at most 10, but got value 11 {_C_ARGS}"),
    _error("negative input length", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), (-1, 9, 10, 6), _TG),
           RuntimeError, f"Expected input_lengths to have value at least 0, but got value -1 {_C_ARGS}"),
    _error("negative target length", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), _IN, (-1, 2, 0, 3)),
           RuntimeError, f"Expected target_lengths to have value at least 0, but got value -1 {_C_ARGS}"),
    _error("padded too narrow", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), _IN, (5, 2, 0, 3)),
           RuntimeError, "Expected tensor to have size at least 5 at dimension 1, but got size 4 for argument #2 "
           f"'targets' {_C_ARGS}"),
    _error("concatenated size", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_CONCAT[:-1]), _IN, _TG),
           RuntimeError, f"Expected tensor to have size 9 at dimension 0, but got size 8 for argument #2 'targets' "
           f"{_C_ARGS}"),
    _error("float lengths", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), m.tensor([10.0] * 4),
                                                                                           m.tensor(_TG)),
           RuntimeError, "input_lengths must be integral"),
    _error("mixed lengths", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), m.tensor(_IN), _TG),
           TypeError, "ctc_loss() received an invalid combination of arguments"),
    _error("int log_probs", lambda m, x: m.nn.functional.ctc_loss(x.long(), m.tensor(_PADDED), _IN, _TG),
           NotImplementedError, "\"ctc_loss_cpu\" not implemented for 'Long'"),
    _error("bfloat16", lambda m, x: m.nn.functional.ctc_loss(x.cpu().bfloat16(), m.tensor(_PADDED), _IN, _TG),
           NotImplementedError, "\"ctc_loss_cpu\" not implemented for 'BFloat16'"),
    _error("float16", lambda m, x: m.nn.functional.ctc_loss(x.half(), m.tensor(_PADDED), _IN, _TG),
           NotImplementedError, "\"ctc_loss_cpu\" not implemented for 'Half'"),
    _error("reduction", lambda m, x: m.nn.functional.ctc_loss(x, m.tensor(_PADDED), _IN, _TG, reduction="foo"),
           ValueError, "foo is not a valid value for reduction"),
]

CTC = [
    OpInfo(
        "ctc_loss",
        with_call_errors(_ctc),
        _samples,
        error_inputs=lambda: _ERRORS,
        implementations=("compiled", "generic"),
        tolerances={"float32": (2e-5, 1e-4)},
    )
]

__all__ = ["CTC"]
