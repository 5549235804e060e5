"""``interpolate`` against PyTorch over many sizes and scale factors: the nearest modes must pick exactly PyTorch's
source indices (computed in float32 for float32 inputs) and the linear modes (also antialiased) its weights, in
both precisions, forward and backward."""

import numpy as np
import pytest

import engine
from engine.ops import dense
from engine.ops.dense import once
from engine.ops.interpolate import interpolate

torch = pytest.importorskip("torch")

MODES = [("nearest", 1, False), ("nearest", 2, False), ("nearest-exact", 1, False), ("nearest-exact", 2, False),
         ("linear", 1, False), ("bilinear", 2, False), ("bicubic", 2, False), ("trilinear", 3, False),
         ("area", 2, False), ("bilinear", 2, True), ("bicubic", 2, True)]
SIZES = [1, 3, 5, 7, 16]
RESIZES = [{"scale_factor": 2}, {"scale_factor": 0.5}, {"scale_factor": 1.7}, {"scale_factor": 0.3},
           {"scale_factor": 3.3, "recompute_scale_factor": True}, {"size": 1}, {"size": 6}, {"size": 13}]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode, dims, antialias", MODES, ids=[f"{m}-{d}d{'-aa' * a}" for m, d, a in MODES])
def test_matches_pytorch_over_sizes(mode, dims, antialias, dtype):
    rng = np.random.default_rng(0)
    aligns = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    tol = 2e-5 if dtype == "float32" else 1e-12
    checked = 0
    for n in SIZES if dims < 3 else SIZES[:3]:
        for kw in RESIZES:
            if int(n * kw.get("scale_factor", 1)) == 0:
                continue
            for align in aligns:
                x = rng.standard_normal((2, 3, *(n,) * dims)).astype(dtype)
                tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
                t = torch.nn.functional.interpolate(tx, mode=mode, align_corners=align, antialias=antialias, **kw)
                e = interpolate(ex, mode=mode, align_corners=align, antialias=antialias, **kw)
                assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
                np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=tol, rtol=tol,
                                           err_msg=f"{n} {kw} {align}")
                g = rng.standard_normal(tuple(t.shape)).astype(dtype)
                t.backward(torch.tensor(g))
                e.backward(engine.tensor(g))
                np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=tol * 20, rtol=tol,
                                           err_msg=f"{n} {kw} {align}")
                checked += 1
    assert checked > 20


def test_one_node_and_pytorch_name():
    x = engine.randn(2, 3, 4, 4, requires_grad=True)
    y = interpolate(x, scale_factor=2, mode="bilinear")
    assert y.grad_fn.name() == "UpsampleBilinear2DBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"


def test_float32_stays_float32():
    y = interpolate(engine.randn(1, 2, 5, 5), scale_factor=1.5, mode="bicubic")
    assert y.dtype == engine.float32 and y.numpy().dtype == np.float32


def test_same_size_is_a_copy():
    x = engine.randn(1, 2, 4, 4)
    y = interpolate(x, size=(4, 4), mode="bilinear")
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    y.add_(1)
    assert not np.array_equal(y.numpy(), x.numpy())


def test_integer_input_rejected():
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        interpolate(engine.arange(16).reshape(1, 1, 4, 4), scale_factor=2)


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_deprecated_spellings_warn_and_match_pytorch(name):
    x = np.random.default_rng(4).standard_normal((1, 2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        ours = getattr(engine.nn.functional, name)(engine.tensor(x), scale_factor=2)
    with pytest.warns(UserWarning):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), scale_factor=2)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_half_precision_keeps_its_dtype_and_accumulates_in_float32(mode, dtype):
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 5)).astype(np.float32)
    ex = engine.tensor(x).to(getattr(engine, dtype)).requires_grad_()
    tx = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
    e = interpolate(ex, scale_factor=1.6, mode=mode)
    t = torch.nn.functional.interpolate(tx, scale_factor=1.6, mode=mode)
    assert str(e.dtype) == str(t.dtype)
    e.float().square().sum().backward()
    t.float().square().sum().backward()
    assert str(ex.grad.dtype) == str(tx.grad.dtype)
    ulp = 2.0 ** -7 if dtype == "bfloat16" else 2.0 ** -10  # one rounding apart at most, relative
    np.testing.assert_allclose(e.float().detach().numpy(), t.float().detach().numpy(), rtol=2 * ulp, atol=2 * ulp)
    np.testing.assert_allclose(ex.grad.float().numpy(), tx.grad.float().numpy(), rtol=4 * ulp, atol=4 * ulp)


UINT8 = [(mode, aa, align) for mode in ("nearest", "nearest-exact", "bilinear", "bicubic")
         for aa in ((False, True) if mode in ("bilinear", "bicubic") else (False,))
         for align in ((False, True) if mode in ("bilinear", "bicubic") else (None,))]


@pytest.mark.parametrize("mode, antialias, align", UINT8, ids=[f"{m}-aa{int(a)}-{c}" for m, a, c in UINT8])
def test_uint8_images_match_pytorch_exactly(mode, antialias, align):
    """uint8 resizing rounds and clamps after each axis with PyTorch's int16 fixed-point weights: bit for bit."""
    rng = np.random.default_rng(7)
    for shape, kw in [((2, 3, 17, 13), {"scale_factor": 2}), ((2, 3, 17, 13), {"size": (7, 5)}),
                      ((1, 3, 32, 32), {"size": (24, 40)}), ((1, 1, 9, 9), {"scale_factor": 0.4})]:
        x = rng.integers(0, 256, shape).astype(np.uint8)
        t = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, antialias=antialias, align_corners=align, **kw)
        e = interpolate(engine.tensor(x), mode=mode, antialias=antialias, align_corners=align, **kw)
        assert e.dtype == engine.uint8
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=f"{shape} {kw}")


@pytest.mark.parametrize("mode, dims", [("linear", 1), ("area", 2), ("trilinear", 3)])
def test_uint8_modes_pytorch_refuses(mode, dims):
    x = np.zeros((1, 1, *(4,) * dims), dtype=np.uint8)
    with pytest.raises(NotImplementedError, match="not implemented for 'Byte'"):
        torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2 if mode != "area" else 0.5, mode=mode)
    with pytest.raises(NotImplementedError, match="not implemented for 'Byte'"):
        interpolate(engine.tensor(x), scale_factor=2 if mode != "area" else 0.5, mode=mode)


def test_uint8_on_the_cuda_stand_in(fake_cuda):
    x = np.random.default_rng(8).integers(0, 256, (1, 3, 9, 7)).astype(np.uint8)
    cpu = interpolate(engine.tensor(x), size=(5, 11), mode="bicubic", antialias=True)
    dev = interpolate(engine.tensor(x, device="cuda"), size=(5, 11), mode="bicubic", antialias=True)
    assert dev.device.type == "cuda" and dev.dtype == engine.uint8
    np.testing.assert_array_equal(dev.cpu().numpy(), cpu.numpy())


LONG = [(mode, kw, align, aa) for mode, kw, align in [
    ("bilinear", {"scale_factor": 2}, False), ("bilinear", {"size": (150, 40)}, True),
    ("bicubic", {"size": (97, 300)}, False), ("nearest", {"scale_factor": 1.5}, None),
    ("bilinear", {"size": (30, 20)}, False)] for aa in (False, True) if not (aa and mode == "nearest")]


@pytest.mark.parametrize("mode, kw, align, antialias", LONG, ids=[f"{m}-{kw}-aa{int(a)}" for m, kw, _, a in LONG])
def test_long_axes_go_block_by_block(mode, kw, align, antialias):
    """Axes longer than 64 take the blocked products (input and gradient, uint8 too); PyTorch's values."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 130, 77)).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    t = torch.nn.functional.interpolate(tx, mode=mode, align_corners=align, antialias=antialias, **kw)
    e = interpolate(ex, mode=mode, align_corners=align, antialias=antialias, **kw)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=2e-5, rtol=1e-5)
    g = rng.standard_normal(tuple(t.shape)).astype(np.float32)
    t.backward(torch.tensor(g))
    e.backward(engine.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-4, rtol=1e-5)
    u = rng.integers(0, 256, (1, 3, 130, 77)).astype(np.uint8)
    ours = interpolate(engine.tensor(u), mode=mode, align_corners=align, antialias=antialias, **kw)
    theirs = torch.nn.functional.interpolate(torch.tensor(u), mode=mode, align_corners=align, antialias=antialias, **kw)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# gradient -> (the shape the (4, 3, 5, 6) output's gradient is expanded from (None: a sum's, one value), how many
# times the products' result repeats over the batch and channels)
EXPANDED = {"a sum's": (None, 12), "over the batch": ((1, 3, 5, 6), 4), "over the channels": ((4, 1, 5, 6), 3),
            "over both": ((1, 1, 5, 6), 12), "over the batch and a row": ((1, 3, 5, 1), 4),
            "over a row only": ((4, 3, 5, 1), 1)}


@pytest.mark.parametrize("gradient", EXPANDED)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "area"])
def test_a_repeated_gradient_is_taken_once(mode, gradient, monkeypatch):
    """A gradient that repeats along the batch or channels (stride 0) goes through the products once, its result
    repeated: the input's gradient is PyTorch's, and a dense array of the engine's own."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 8, 9)).astype(np.float32)
    source, repeats = EXPANDED[gradient]
    g = None if source is None else rng.standard_normal(source).astype(np.float32)
    taken = []
    monkeypatch.setattr(dense, "once", lambda a, axes: taken.append(once(a, axes)) or taken[-1])
    grads = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        y = m.nn.functional.interpolate(X, size=(5, 6), mode=mode, **({} if mode == "area" else
                                                                     {"align_corners": False}))
        if g is None:
            y.sum().backward()
        else:
            y.backward(m.tensor(g).expand(*y.shape))
        grads.append(X.grad.numpy())
    assert [r for _, r in taken] == [repeats] and taken[0][0].size * repeats == 4 * 3 * 5 * 6
    assert grads[0].flags.writeable and grads[0].flags.c_contiguous
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
