"""Op table entries: ``scaled_dot_product_attention`` (engine/ops/attention.py) against
``torch.nn.functional``'s, without dropout (its random mask is compared in test_attention.py)."""

from __future__ import annotations

import numpy as np

import engine
from engine.ops.attention import scaled_dot_product_attention

from .core import OpInfo, S, call_error, with_call_errors

_BOOL_MASK = np.random.default_rng(3).random((4, 6)) > 0.4
_BOOL_MASK[1] = False  # a query that may attend to nothing: zeros, as PyTorch's safe softmax gives


def _sdpa(m, q, k, v, mask=None, **kw):
    fn = scaled_dot_product_attention if m is engine else m.nn.functional.scaled_dot_product_attention
    return fn(q, k, v, attn_mask=mask, **kw)


def _samples(dtype):
    q, k, v = (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)
    return [
        S("4d", q, k, v),
        S("3d", (3, 4, 5), (3, 6, 5), (3, 6, 5)),
        S("2d", (4, 5), (6, 5), (6, 3)),
        S("causal", q, k, v, kwargs={"is_causal": True}),
        S("causal,square", (2, 5, 4), (2, 5, 4), (2, 5, 4), kwargs={"is_causal": True}),
        S("scale", q, k, v, kwargs={"scale": 0.3}),
        S("bool mask", q, k, v, _BOOL_MASK, dtypes=(None, None, None, "bool"), grad=(True, True, True, False)),
        S("float mask", q, k, v, (3, 4, 6)),
        S("float mask,batch", q, k, v, (2, 1, 4, 6), grad=(True, True, True, False)),
        S("broadcast batch", q, (1, 3, 6, 5), (3, 6, 7)),
        S("gqa", (2, 4, 4, 5), (2, 2, 6, 5), (2, 1, 6, 7), kwargs={"enable_gqa": True}),
        S("wide scores", q, k, v, low=-6, high=6, gradcheck=False),
        S("no keys", (2, 4, 5), (2, 0, 5), (2, 0, 5)),
        S("no queries", (2, 0, 5), (2, 6, 5), (2, 6, 5)),
    ]


_ERRORS = [
    call_error("1d", lambda m, x: _sdpa(m, x[0, 0, 0], x[0, 0, 0], x[0, 0, 0]), [(2, 3, 4, 5)], RuntimeError,
               "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: 1 key.dim: 1 and "
               "value.dim: 1 instead."),
    call_error("dtypes", lambda m, x: _sdpa(m, x, x.double(), x), [(2, 4, 5)], RuntimeError,
               "Expected query, key, and value to have the same dtype, but got query.dtype: float key.dtype: double "
               "and value.dtype: float instead."),
    call_error("mask dtype", lambda m, x: _sdpa(m, x, x, x, m.zeros(4, 4, dtype=m.int64)), [(2, 4, 5)], RuntimeError,
               "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
               "long int and  query.dtype: float instead."),
    call_error("mask and causal", lambda m, x: _sdpa(m, x, x, x, m.zeros(4, 4), is_causal=True), [(2, 4, 5)],
               RuntimeError, "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"),
    call_error("dropout", lambda m, x: _sdpa(m, x, x, x, dropout_p=2.0), [(2, 4, 5)], RuntimeError,
               "dropout probability has to be between 0 and 1, but got 2"),
    call_error("key width", lambda m, x: _sdpa(m, x, x[..., :4], x), [(2, 3, 4, 5)], RuntimeError,
               "Expected size for first two dimensions of batch2 tensor to be: [6, 5] but got: [6, 4]."),
    call_error("value length", lambda m, x: _sdpa(m, x, x, m.zeros(2, 3, 3, 7)), [(2, 3, 4, 5)], RuntimeError,
               "Expected size for first two dimensions of batch2 tensor to be: [6, 4] but got: [6, 3]."),
    call_error("mask shape", lambda m, x: _sdpa(m, x, x, x, m.zeros(5, 4)), [(2, 3, 4, 5)], RuntimeError,
               "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 2"),
    call_error("mask widens", lambda m, x: _sdpa(m, x, x, x, m.zeros(5, 1, 3, 4, 4)), [(2, 3, 4, 5)], RuntimeError,
               "output with shape [2, 3, 4, 4] doesn't match the broadcast shape [5, 2, 3, 4, 4]"),
    call_error("gqa heads", lambda m, x: _sdpa(m, x, x[:, :2], x[:, :2], enable_gqa=True), [(2, 3, 4, 5)],
               RuntimeError, "Number of heads in key and value must divide the number of heads in"),
]

ATTENTION = [
    OpInfo(
        "scaled_dot_product_attention",
        with_call_errors(_sdpa),
        _samples,
        error_inputs=lambda: _ERRORS,
        tolerances={"float32": (5e-5, 1e-4)},
        supports_gradgrad=True,
    ),
]
