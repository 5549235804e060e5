"""The full-width convolution path (``engine.ops.conv_wide``) against PyTorch: every option it takes or
hands back to the generic path (groups, dilation, 'same' and asymmetric padding, mixed strides, C >= K
input gradients), in one chunk and in many, and non-finite inputs, whose gradients must keep PyTorch's
inf/NaN pattern."""

import numpy as np
import pytest

import engine
from engine import backend
from engine.ops import conv_wide

torch = pytest.importorskip("torch")

CASES = [
    dict(n=5, c=3, h=12, w=11, k=6, kh=5, kw=3, stride=1, padding=0, dilation=1, groups=1, bias=True),
    dict(n=3, c=4, h=9, w=10, k=4, kh=3, kw=3, stride=1, padding=1, dilation=1, groups=2, bias=False),
    dict(n=2, c=2, h=11, w=9, k=3, kh=3, kw=2, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=1, bias=True),
    dict(n=7, c=6, h=8, w=8, k=12, kh=3, kw=3, stride=1, padding="same", dilation=2, groups=3, bias=True),
    dict(n=40, c=3, h=32, w=32, k=6, kh=5, kw=5, stride=1, padding=0, dilation=1, groups=1, bias=True),
    dict(n=1, c=1, h=5, w=5, k=1, kh=1, kw=1, stride=1, padding=0, dilation=1, groups=1, bias=True),
    dict(n=3, c=8, h=9, w=7, k=4, kh=4, kw=2, stride=1, padding="same", dilation=(2, 1), groups=1, bias=True),
    dict(n=3, c=8, h=9, w=7, k=4, kh=3, kw=3, stride=1, padding=(2, 1), dilation=1, groups=4, bias=False),
    dict(n=9, c=16, h=8, w=8, k=16, kh=3, kw=3, stride=1, padding=1, dilation=1, groups=1, bias=False),
    dict(n=5, c=4, h=9, w=8, k=6, kh=3, kw=3, stride=2, padding=1, dilation=1, groups=1, bias=True),
    dict(n=3, c=3, h=11, w=13, k=5, kh=4, kw=5, stride=(1, 3), padding=(1, 2), dilation=1, groups=1, bias=True),
]


def _run(m, x, w, b, case):
    X = m.tensor(x, requires_grad=True)
    W = m.tensor(w, requires_grad=True)
    B = m.tensor(b, requires_grad=True) if case["bias"] else None
    y = m.nn.functional.conv2d(X, W, B, stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                               groups=case["groups"])
    weights = np.cos(np.arange(np.prod(tuple(y.shape)))).reshape(tuple(y.shape)).astype(x.dtype)
    (y * m.tensor(weights)).sum().backward()
    return [y.detach().numpy(), X.grad.numpy(), W.grad.numpy()] + ([B.grad.numpy()] if B is not None else [])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's own note
@pytest.mark.parametrize("chunk_bytes", [conv_wide._CHUNK_BYTES, 1], ids=["one-chunk", "chunk-per-image"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_conv2d_matches_torch(case, dtype, chunk_bytes, monkeypatch):
    monkeypatch.setattr(conv_wide, "_CHUNK_BYTES", chunk_bytes)
    wide_calls = []
    forward = conv_wide.forward
    monkeypatch.setattr(conv_wide, "forward", lambda *a: wide_calls.append(1) or forward(*a))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    w = rng.standard_normal((case["k"], case["c"] // case["groups"], case["kh"], case["kw"])).astype(dtype)
    b = rng.standard_normal(case["k"]).astype(dtype)
    with backend.prefer("wide"):  # float32 calls would take the compiled kernels
        ours = _run(engine, x, w, b, case)
    theirs = _run(torch, x, w, b, case)
    column_stride = case["stride"] if isinstance(case["stride"], int) else case["stride"][1]
    assert bool(wide_calls) == (column_stride == 1)  # the path under test was taken
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert ours[0].flags.c_contiguous
    for a, e in zip(ours, theirs):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=10 * tol)


@pytest.mark.parametrize("stride", [1, (2, 1)])
@pytest.mark.parametrize("where", ["input", "weight"])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_non_finite_values_keep_torchs_gradient_pattern(bad, where, stride):
    """inf/NaN where the wrapped columns read them (the start of a row; with a row stride, a row no window
    reads), or in the weight: every gradient keeps PyTorch's pattern."""
    x = np.ones((1, 2, 5, 4), np.float32)
    w = np.ones((3, 2, 2, 2), np.float32)
    if where == "input":
        x[0, 0, 1, 0] = bad
        x[0, 1, 2, 0] = bad
    else:
        w[1, 0, 1, 1] = bad
    results = []
    for m in (engine, torch):
        X, W = m.tensor(x, requires_grad=True), m.tensor(w, requires_grad=True)
        with backend.prefer("wide"):
            y = m.nn.functional.conv2d(X, W, stride=stride)
            if m is engine:
                assert y.grad_fn._impl.name == "wide"
            y.backward(m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(np.float32)))
        results.append([y.detach().numpy(), X.grad.numpy(), W.grad.numpy()])
    for a, e in zip(*results):
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(e))
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5)
