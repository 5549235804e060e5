"""conv2d, max/avg/adaptive pooling and pad against PyTorch: forward values and gradients w.r.t. input,
weight and bias over the options, PyTorch's tie-breaking in max-pool backward, the error messages, and
float64 gradchecks that run with or without torch."""

from __future__ import annotations

import types

import numpy as np
import pytest
from optest import HAVE_TORCH, check, check_error, requires_torch, run_gradcheck

import engine
from engine.ops.conv import conv2d
from engine.ops.pad import pad
from engine.ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

OURS = types.SimpleNamespace(conv2d=conv2d, max_pool2d=max_pool2d, avg_pool2d=avg_pool2d,
                             adaptive_avg_pool2d=adaptive_avg_pool2d, adaptive_max_pool2d=adaptive_max_pool2d,
                             pad=pad)


def F(m):
    """The functional namespace of the module under test (ours until engine.nn.functional is wired)."""
    return OURS if m is engine else m.nn.functional


TOL = {"atol": 1e-4, "rtol": 1e-4}

# ----------------------------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------------------------

CONV_CASES = [
    # (id, input shape, weight shape, bias, kwargs)
    ("plain", (2, 3, 8, 8), (4, 3, 3, 3), True, {}),
    ("lenet-conv1", (4, 3, 32, 32), (6, 3, 5, 5), True, {}),
    ("lenet-conv2", (4, 6, 14, 14), (16, 6, 5, 5), True, {}),
    ("batch1", (1, 3, 7, 6), (2, 3, 3, 3), True, {}),
    ("stride2", (2, 3, 9, 8), (4, 3, 3, 3), True, {"stride": 2}),
    ("stride-tuple", (2, 3, 9, 8), (4, 3, 3, 3), True, {"stride": (2, 1)}),
    ("padding1", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": 1}),
    ("padding-tuple", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": (2, 1)}),
    ("same", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": "same"}),
    ("same-even-kernel", (2, 3, 6, 7), (4, 3, 4, 2), True, {"padding": "same"}),
    ("same-dilated", (2, 3, 9, 9), (4, 3, 3, 2), True, {"padding": "same", "dilation": (2, 3)}),
    ("valid", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": "valid"}),
    ("dilation", (2, 3, 9, 9), (4, 3, 3, 3), True, {"dilation": 2}),
    ("dilation-tuple", (2, 3, 9, 9), (4, 3, 3, 2), True, {"dilation": (1, 3)}),
    ("all-options", (2, 4, 11, 10), (6, 2, 3, 2), True,
     {"stride": (2, 3), "padding": (1, 2), "dilation": (2, 1), "groups": 2}),
    ("groups2", (2, 4, 7, 7), (6, 2, 3, 3), True, {"groups": 2}),
    ("depthwise", (2, 4, 7, 7), (4, 1, 3, 3), True, {"groups": 4, "padding": 1}),
    ("depthwise-multiplier", (2, 3, 7, 7), (6, 1, 3, 3), False, {"groups": 3}),
    ("no-bias", (2, 3, 8, 8), (4, 3, 3, 3), False, {}),
    ("non-square-kernel", (2, 3, 8, 9), (4, 3, 2, 4), True, {}),
    ("1x1", (2, 5, 4, 4), (3, 5, 1, 1), True, {}),
    ("kernel-equals-input", (2, 3, 4, 5), (2, 3, 4, 5), True, {}),
    ("unbatched", (3, 7, 6), (2, 3, 3, 3), True, {"padding": 1}),
]


def _conv_fn(kwargs, bias):
    if bias:
        return lambda m, x, w, b: F(m).conv2d(x, w, b, **kwargs)
    return lambda m, x, w: F(m).conv2d(x, w, **kwargs)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("xs, ws, bias, kwargs", [c[1:] for c in CONV_CASES], ids=[c[0] for c in CONV_CASES])
def test_conv2d(xs, ws, bias, kwargs):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(_conv_fn(kwargs, bias), shapes, np_fn=lambda *a: _np_conv(*a, **kwargs), gradcheck=False, **TOL)


def _np_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct NumPy reference (a loop over kernel offsets), for the forward value without torch."""
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    kh, kw = w.shape[2:]
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        ph, pw = (0, 0) if padding == "valid" else pair(padding)
        pads = ((ph, ph), (pw, pw))
    x = np.pad(x, ((0, 0), (0, 0), *pads))
    oh = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    k, cg = w.shape[:2]
    out = np.zeros((x.shape[0], k, oh, ow), dtype=np.float64)
    for g in range(groups):
        xs, ws = x[:, g * cg:(g + 1) * cg], w[g * k // groups:(g + 1) * k // groups]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
                out[:, g * k // groups:(g + 1) * k // groups] += np.einsum("nchw,kc->nkhw", patch, ws[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    out = out.astype(x.dtype)
    return out[0] if unbatched else out


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("xs, ws, bias, kwargs", [c[1:] for c in CONV_CASES if np.prod(c[1]) <= 500],
                         ids=[c[0] for c in CONV_CASES if np.prod(c[1]) <= 500])
def test_conv2d_gradcheck(xs, ws, bias, kwargs):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(_conv_fn(kwargs, bias), shapes, gradcheck=True, **TOL)


@pytest.mark.parametrize("grad", [(True, False, False), (False, True, False), (False, False, True),
                                  (False, True, True)])
def test_conv2d_partial_grads(grad):
    check(lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1), [(2, 3, 6, 6), (4, 3, 3, 3), (4,)], grad=grad, **TOL)


def test_conv2d_chain_and_grad_fn():
    """A conv feeding a conv (the layout of one output is the next one's input) and the node's name."""
    check(lambda m, x, w1, w2: F(m).conv2d(F(m).conv2d(x, w1, padding=1).relu(), w2, stride=2),
          [(2, 3, 6, 6), (4, 3, 3, 3), (5, 4, 3, 3)], gradcheck=True, **TOL)
    x = engine.randn(1, 3, 5, 5)
    w = engine.randn(2, 3, 3, 3, requires_grad=True)
    out = conv2d(x, w)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    assert out.is_contiguous()
    assert out.dtype == engine.float32


def test_conv2d_large_batch_blocks():
    """Enough images that the column matrix is built in several blocks."""
    # weight and bias gradients sum ~30,000 float32 products: compare relative to their size
    loose = {"grad_atol": 1e-2, "grad_rtol": 1e-3, **TOL}
    check(lambda m, x, w, b: F(m).conv2d(x, w, b), [(40, 3, 32, 32), (6, 3, 5, 5), (6,)], gradcheck=False,
          np_fn=_np_conv, **loose)
    check(lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1, groups=2), [(70, 4, 14, 14), (8, 2, 3, 3), (8,)],
          gradcheck=False, np_fn=lambda x, w, b: _np_conv(x, w, b, padding=1, groups=2), **loose)


def test_conv2d_empty_batch():
    out = conv2d(engine.zeros(0, 3, 5, 5), engine.randn(2, 3, 3, 3), engine.randn(2))
    assert tuple(out.shape) == (0, 2, 3, 3)


CONV_ERRORS = [
    ((1, 1, 32, 32), (6, 3, 5, 5), {}, "Given groups=1, weight of size [6, 3, 5, 5], expected input[1, 1, 32, 32] "
                                        "to have 3 channels, but got 1 channels instead"),
    ((2, 4, 8, 8), (6, 2, 3, 3), {"groups": 3}, "Given groups=3, weight of size [6, 2, 3, 3], expected "
                                                 "input[2, 4, 8, 8] to have 6 channels, but got 4 channels instead"),
    ((2, 6, 8, 8), (6, 2, 3, 3), {"groups": 4}, "Given groups=4, expected weight to be divisible by 4 at "
                                                 "dimension 0, but got weight of size [[6, 2, 3, 3]] instead"),
    ((2, 3, 4, 4), (6, 3, 5, 5), {}, "Calculated padded input size per channel: (4 x 4). Kernel size: (5 x 5). "
                                     "Kernel size can't be greater than actual input size"),
    ((2, 3, 4, 4, 4), (6, 3, 5, 5), {}, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input "
                                        "of size: [2, 3, 4, 4, 4]"),
    ((3, 4), (6, 3, 5, 5), {}, "Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    ((2, 6, 8, 8), (6, 2, 3, 3), {"groups": 0}, "non-positive groups is not supported"),
    ((2, 6, 8, 8), (6, 6, 3, 3), {"stride": 0}, "non-positive stride is not supported"),
    ((2, 6, 8, 8), (6, 6, 3, 3), {"padding": -1}, "negative padding is not supported"),
    ((2, 6, 8, 8), (6, 6, 3, 3), {"dilation": 0}, "non-positive dilation is not supported"),
    ((2, 6, 8, 8), (6, 6, 3, 3), {"padding": "same", "stride": 2},
     "padding='same' is not supported for strided convolutions"),
    ((2, 6, 8, 8), (6, 6, 3, 3), {"padding": "foo"}, "Invalid padding string: 'foo'"),
    ((2, 6, 8, 8), (6, 6, 3, 3), {"stride": (1, 2, 3)}, "expected stride to be a single integer value or a list "
                                                        "of 2 values to match the convolution dimensions, but got "
                                                        "stride=[1, 2, 3]"),
]


@pytest.mark.parametrize("xs, ws, kwargs, match", CONV_ERRORS)
def test_conv2d_errors(xs, ws, kwargs, match):
    check_error(lambda m, x, w: F(m).conv2d(x, w, **kwargs), RuntimeError, match, [xs, ws])


def test_conv2d_bias_and_dtype_errors():
    check_error(lambda m, x, w, b: F(m).conv2d(x, w, b, groups=3), RuntimeError,
                "Given weight of size [6, 2, 3, 3], expected bias to be 1-dimensional with 6 elements, but got "
                "bias of size [5] instead", [(2, 6, 8, 8), (6, 2, 3, 3), (5,)])
    check_error(lambda m, x, w: F(m).conv2d(x, w), RuntimeError, "expected scalar type Double but found Float",
                [(2, 3, 8, 8), (6, 3, 3, 3)], dtype=["float64", "float32"])
    check_error(lambda m, x, w, b: F(m).conv2d(x, w, b), RuntimeError,
                "Input type (float) and bias type (double) should be the same",
                [(2, 3, 8, 8), (6, 3, 3, 3), (6,)], dtype=["float32", "float32", "float64"])


# ----------------------------------------------------------------------------------------------
# max_pool2d
# ----------------------------------------------------------------------------------------------

POOL_CASES = [
    ("k2", (2, 3, 8, 8), {"kernel_size": 2}),
    ("k2-odd-input", (2, 3, 7, 9), {"kernel_size": 2}),
    ("k3-s2", (2, 3, 9, 8), {"kernel_size": 3, "stride": 2}),
    ("k3-s1-overlap", (2, 2, 6, 7), {"kernel_size": 3, "stride": 1}),
    ("k3-s2-pad1", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("ceil", (2, 3, 7, 9), {"kernel_size": 2, "ceil_mode": True}),
    ("ceil-k3-s2-pad1", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("ceil-last-window-dropped", (1, 2, 6, 6), {"kernel_size": 2, "stride": 5, "padding": 1, "ceil_mode": True}),
    ("tuple-args", (2, 3, 9, 10), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
    ("empty-stride", (2, 3, 8, 8), {"kernel_size": 2, "stride": ()}),
    ("unbatched", (3, 8, 8), {"kernel_size": 2}),
    ("batch1", (1, 3, 6, 6), {"kernel_size": 3, "stride": 3}),
]


@pytest.mark.parametrize("shape, kwargs", [c[1:] for c in POOL_CASES], ids=[c[0] for c in POOL_CASES])
def test_max_pool2d(shape, kwargs):
    check(lambda m, x: F(m).max_pool2d(x, **kwargs), [shape], gradcheck=True)


DIL_CASES = [
    ("dilation2", (2, 2, 9, 9), {"kernel_size": 3, "stride": 1, "dilation": 2}),
    ("dilation-pad", (2, 2, 9, 10), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (2, 1)}),
    ("dilation-ceil", (1, 2, 10, 9), {"kernel_size": 2, "stride": 3, "dilation": 2, "ceil_mode": True}),
]


@pytest.mark.parametrize("shape, kwargs", [c[1:] for c in DIL_CASES], ids=[c[0] for c in DIL_CASES])
def test_max_pool2d_dilation(shape, kwargs):
    check(lambda m, x: F(m).max_pool2d(x, **kwargs), [shape], gradcheck=True)


@pytest.mark.parametrize("shape, kwargs", [c[1:] for c in POOL_CASES + DIL_CASES],
                         ids=[c[0] for c in POOL_CASES + DIL_CASES])
def test_max_pool2d_return_indices(shape, kwargs):
    out = check(lambda m, x: F(m).max_pool2d(x, return_indices=True, **kwargs), [shape])
    assert out[1].dtype == engine.int64
    assert out[0].grad_fn.name() == "MaxPool2DWithIndicesBackward0"


def _first_max_reference(x, k, s, g):
    """Gradient of max-pool (no padding) routed to the first maximum in scan order, by loops."""
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    gx = np.zeros_like(x)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = x[b, ch, i * s:i * s + k, j * s:j * s + k]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    gx[b, ch, i * s + r, j * s + q] += g[b, ch, i, j]
    return gx


@pytest.mark.parametrize("k, s", [(2, 2), (3, 1), (3, 2), (2, 1)])
@pytest.mark.parametrize("kind", ["all-equal", "few-values"])
def test_max_pool2d_ties(k, s, kind):
    """Ties go to the first maximum of each window in scan order; overlapping windows accumulate."""
    rng = np.random.default_rng(1)
    if kind == "all-equal":
        x = np.ones((2, 3, 7, 8), dtype=np.float32)
    else:
        x = rng.integers(0, 3, size=(2, 3, 7, 8)).astype(np.float32)
    # (no finite-difference gradcheck: a max over ties is not differentiable; the loop reference below decides)
    check(lambda m, t: F(m).max_pool2d(t, k, s), [x], atol=0, rtol=0, grad_atol=1e-6, gradcheck=False)
    check(lambda m, t: F(m).max_pool2d(t, k, s, return_indices=True), [x], atol=0, rtol=0, grad_atol=1e-6,
          gradcheck=False)
    xe = engine.tensor(x, requires_grad=True)
    out = max_pool2d(xe, k, s)
    g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(engine.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), _first_max_reference(x, k, s, g), atol=1e-6)


@requires_torch
@pytest.mark.parametrize("kernel_path", [True, False], ids=["compiled", "numpy"])
def test_max_pool2d_nan_and_minus_inf_windows(kernel_path):
    """A window holding NaN gives NaN, as in PyTorch; a window of -inf gives -inf. The compiled kernel also
    routes the gradient as PyTorch does (to the window's last NaN, and to the first -inf)."""
    import torch

    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(1, 2, 6, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    x[0, 1, 2:4, 2:4] = -np.inf
    results = []
    for m in (engine, torch):
        t = m.tensor(x, requires_grad=True)
        with engine.backend.prefer("compiled" if kernel_path else "generic"):
            out, index = m.nn.functional.max_pool2d(t, 2, return_indices=True)
            out.backward(m.ones_like(out))
        results.append((out.detach().numpy(), index.numpy(), t.grad.numpy()))
    (out, index, grad), (t_out, t_index, t_grad) = results
    np.testing.assert_array_equal(out, t_out)  # NaN where torch has NaN, -inf where it has -inf
    if kernel_path:
        np.testing.assert_array_equal(index, t_index)
        np.testing.assert_array_equal(grad, t_grad)


def test_max_pool2d_integer_and_padding_value():
    check(lambda m, x: F(m).max_pool2d(x, 3, 2, 1), [(1, 2, 5, 5)], dtype="int64", grad=False)
    # all-negative input: padding must act as -inf, not 0
    check(lambda m, x: F(m).max_pool2d(x, 3, 1, 1), [(1, 2, 5, 5)], low=-5, high=-1)


POOL_ERRORS = [
    ({"kernel_size": 2, "padding": 2}, (2, 3, 5, 5),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    ({"kernel_size": 6}, (2, 3, 5, 5),
     "Given input size: (3x5x5). Calculated output size: (3x0x0). Output size is too small"),
    ({"kernel_size": 2, "stride": 0}, (2, 3, 5, 5), "stride should not be zero"),
    ({"kernel_size": 2, "dilation": 0}, (2, 3, 5, 5),
     "dilation should be greater than zero, but got dilationH: 0 dilationW: 0"),
    ({"kernel_size": (2, 2, 2)}, (2, 3, 5, 5), "max_pool2d: kernel_size must either be a single int, or a tuple "
                                              "of two ints"),
    ({"kernel_size": 2}, (5, 5), "non-empty 3D or 4D (batch mode) tensor expected for input"),
    ({"kernel_size": 2}, (2, 5, 5, 5, 5), "non-empty 3D or 4D (batch mode) tensor expected for input"),
    ({"kernel_size": 2}, (2, 3, 0, 5), "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
                                       "input, but got:[2, 3, 0, 5]"),
]


@pytest.mark.parametrize("kwargs, shape, match", POOL_ERRORS)
def test_max_pool2d_errors(kwargs, shape, match):
    check_error(lambda m, x: F(m).max_pool2d(x, **kwargs), RuntimeError, match, [shape])


def test_max_pool2d_empty_batch():
    out = max_pool2d(engine.zeros(0, 3, 4, 4), 2)
    assert tuple(out.shape) == (0, 3, 2, 2)


# ----------------------------------------------------------------------------------------------
# avg_pool2d
# ----------------------------------------------------------------------------------------------

AVG_CASES = [
    ("k2", (2, 3, 8, 8), {"kernel_size": 2}),
    ("k3-s2", (2, 3, 9, 8), {"kernel_size": 3, "stride": 2}),
    ("overlap", (2, 2, 6, 7), {"kernel_size": 3, "stride": 1}),
    ("pad", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("pad-exclude", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ("ceil", (2, 3, 7, 9), {"kernel_size": 2, "ceil_mode": True}),
    ("ceil-pad", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("ceil-pad-exclude", (2, 3, 8, 9),
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ("divisor", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 5}),
    ("tuple-args", (2, 3, 9, 10), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
    ("unbatched", (3, 8, 8), {"kernel_size": 2}),
]


@pytest.mark.parametrize("shape, kwargs", [c[1:] for c in AVG_CASES], ids=[c[0] for c in AVG_CASES])
def test_avg_pool2d(shape, kwargs):
    out = check(lambda m, x: F(m).avg_pool2d(x, **kwargs), [shape], gradcheck=True)
    assert out.grad_fn.name() == "AvgPool2DBackward0"


def test_avg_pool2d_errors():
    check_error(lambda m, x: F(m).avg_pool2d(x, 2, padding=2), RuntimeError,
                "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",
                [(2, 3, 5, 5)])
    check_error(lambda m, x: F(m).avg_pool2d(x, 6), RuntimeError,
                "Given input size: (3x5x5). Calculated output size: (3x0x0). Output size is too small", [(2, 3, 5, 5)])
    check_error(lambda m, x: F(m).avg_pool2d(x, 2, divisor_override=0), RuntimeError, "divisor must be not zero",
                [(2, 3, 5, 5)])


# ----------------------------------------------------------------------------------------------
# adaptive pooling
# ----------------------------------------------------------------------------------------------

ADAPTIVE_CASES = [
    ("global", (2, 3, 7, 6), 1),
    ("divisible", (2, 3, 8, 6), (4, 3)),
    ("uneven", (2, 3, 7, 9), (3, 4)),
    ("upsampling", (2, 2, 3, 4), (5, 6)),
    ("none-entry", (2, 3, 7, 9), (None, 4)),
    ("int", (2, 3, 7, 9), 5),
    ("unbatched", (3, 7, 9), (2, 3)),
]


@pytest.mark.parametrize("shape, size", [c[1:] for c in ADAPTIVE_CASES], ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_avg_pool2d(shape, size):
    check(lambda m, x: F(m).adaptive_avg_pool2d(x, size), [shape], gradcheck=True)


@pytest.mark.parametrize("shape, size", [c[1:] for c in ADAPTIVE_CASES], ids=[c[0] for c in ADAPTIVE_CASES])
def test_adaptive_max_pool2d(shape, size):
    check(lambda m, x: F(m).adaptive_max_pool2d(x, size), [shape], gradcheck=True)
    out = check(lambda m, x: F(m).adaptive_max_pool2d(x, size, return_indices=True), [shape])
    assert out[0].grad_fn.name() == "AdaptiveMaxPool2DBackward0"
    assert out[1].dtype == engine.int64


@pytest.mark.parametrize("size", [(3, 4), (2, 2), 1])
def test_adaptive_max_pool2d_ties(size):
    x = np.random.default_rng(2).integers(0, 2, size=(2, 3, 7, 8)).astype(np.float32)
    check(lambda m, t: F(m).adaptive_max_pool2d(t, size, return_indices=True), [x], atol=0, rtol=0,
          gradcheck=False)


def test_adaptive_errors():
    check_error(lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 2, 2)), RuntimeError,
                "adaptive_avg_pool2d: output_size must be 2", [(2, 3, 5, 5)])
    check_error(lambda m, x: F(m).adaptive_avg_pool2d(x, 2), RuntimeError,
                "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5, 5]", [(5, 5)])
    check_error(lambda m, x: F(m).adaptive_avg_pool2d(x, 2), RuntimeError,
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input "
                "has sizes [2, 3, 0, 5] with dimension 2 being empty", [(2, 3, 0, 5)])


# ----------------------------------------------------------------------------------------------
# pad
# ----------------------------------------------------------------------------------------------

PAD_CASES = [
    ("constant-1d", "constant", (2, 3, 5), (1, 2)),
    ("constant-2d", "constant", (2, 3, 4, 5), (1, 2, 2, 1)),
    ("constant-3d", "constant", (2, 3, 4, 5), (1, 0, 0, 1, 2, 1)),
    ("constant-all-dims", "constant", (3, 4), (1, 1, 2, 0)),
    ("constant-negative", "constant", (2, 3, 4, 5), (-1, 2, 2, -2)),
    ("reflect-1d", "reflect", (2, 3, 5), (2, 4)),
    ("reflect-1d-2d-input", "reflect", (3, 5), (1, 3)),
    ("reflect-2d", "reflect", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("reflect-2d-unbatched", "reflect", (3, 4, 5), (1, 2, 3, 1)),
    ("reflect-3d", "reflect", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2)),
    ("reflect-cifar-crop", "reflect", (2, 3, 8, 8), (4, 4, 4, 4)),
    ("replicate-1d", "replicate", (2, 3, 5), (3, 6)),
    ("replicate-2d", "replicate", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("replicate-3d", "replicate", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2)),
    ("circular-1d", "circular", (2, 3, 5), (2, 4)),
    ("circular-2d", "circular", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("circular-negative", "circular", (2, 3, 5), (-1, 2)),
    ("circular-3d", "circular", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2)),
]


@pytest.mark.parametrize("mode, shape, amounts", [c[1:] for c in PAD_CASES], ids=[c[0] for c in PAD_CASES])
def test_pad(mode, shape, amounts):
    check(lambda m, x: F(m).pad(x, amounts, mode=mode), [shape], gradcheck=True)


def test_pad_value_and_names():
    check(lambda m, x: F(m).pad(x, (1, 2, 0, 1), value=3.5), [(2, 3, 4)])
    x = engine.randn(1, 2, 4, 4, requires_grad=True)
    assert pad(x, (1, 1)).grad_fn.name() == "ConstantPadNdBackward0"
    assert pad(x, (1, 1, 1, 1), mode="reflect").grad_fn.name() == "ReflectionPad2DBackward0"
    assert pad(x, (1, 1, 1, 1), mode="replicate").grad_fn.name() == "ReplicationPad2DBackward0"
    assert pad(x[0, 0], (1, 1), mode="replicate").grad_fn.name() == "ReplicationPad1DBackward0"


PAD_ERRORS = [
    ((2, 3, 5, 5), (1, 2, 3), {}, RuntimeError, "Padding length must be divisible by 2"),
    ((2, 3, 5, 5), (1,) * 10, {}, RuntimeError, "Padding length should be less than or equal to two times the "
                                                "input dimension but got padding length 10 and input of dimension 4"),
    ((2, 3, 5, 5), (1, 2), {"mode": "reflect"}, NotImplementedError,
     "Padding size 2 is not supported for 4D input tensor."),
    ((2, 3, 5, 5), (1, 2), {"mode": "foo"}, NotImplementedError, "Unrecognised padding mode foo"),
    ((2, 3, 5, 5), (1, 2, 1, 1), {"mode": "reflect", "value": 1.0}, RuntimeError,
     'Padding mode "reflect" doesn\'t take in value argument'),
    ((1, 1, 5), (5, 1), {"mode": "reflect"}, RuntimeError,
     "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (5, 1) "
     "at dimension 2 of input [1, 1, 5]"),
    ((1, 1, 5), (6, 1), {"mode": "circular"}, RuntimeError, "Padding value causes wrapping around more than once."),
]


@pytest.mark.parametrize("shape, amounts, kwargs, exc, match", PAD_ERRORS)
def test_pad_errors(shape, amounts, kwargs, exc, match):
    check_error(lambda m, x: F(m).pad(x, amounts, **kwargs), exc, match, [shape])


# ----------------------------------------------------------------------------------------------
# the CIFAR-10 Net's layers together, float32 throughout, and the tutorial's flatten
# ----------------------------------------------------------------------------------------------

def test_lenet_layers_chain():
    def net(m, x, w1, b1, w2, b2):
        f = F(m)
        y = f.max_pool2d(f.conv2d(x, w1, b1).relu(), 2)
        y = f.max_pool2d(f.conv2d(y, w2, b2).relu(), 2)
        return y.view(-1, 16 * 5 * 5)

    out = check(net, [(4, 3, 32, 32), (6, 3, 5, 5), (6,), (16, 6, 5, 5), (16,)], grad=[False, True, True, True, True],
                gradcheck=False, **TOL)
    assert out.dtype == engine.float32


def test_float32_stays_float32():
    x = engine.randn(2, 3, 8, 8, requires_grad=True)
    w = engine.randn(4, 3, 3, 3, requires_grad=True)
    b = engine.randn(4, requires_grad=True)
    y = avg_pool2d(max_pool2d(conv2d(x, w, b, padding=1), 2), 2, padding=1)
    y = adaptive_avg_pool2d(pad(y, (1, 1, 1, 1), mode="reflect"), (2, 3))
    y.sum().backward()
    for t in (y, x.grad, w.grad, b.grad):
        assert t.dtype == engine.float32


@pytest.mark.skipif(HAVE_TORCH, reason="covered against torch")
def test_gradcheck_without_torch_smoke():
    arrays = [np.random.default_rng(0).standard_normal(s) for s in ((1, 2, 5, 5), (3, 2, 3, 3))]
    run_gradcheck(lambda m, x, w: conv2d(x, w, padding=1, stride=2), arrays, [True, True])


@requires_torch
def test_torch_reference_is_used():
    """Guard: with torch present, the comparisons above really ran against it."""
    import torch

    assert hasattr(torch.nn.functional, "conv2d")
