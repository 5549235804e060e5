"""Pooling, padding, upsampling and pixel-shuffle layers against PyTorch's: same ``repr`` and state dict, the same
outputs and input gradients in training and eval mode, and PyTorch's errors for bad arguments."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

LAYERS = [
    ("MaxPool1d", lambda m: m.nn.MaxPool1d(3, 2, padding=1), (2, 3, 9)),
    ("MaxPool1d dilated ceil", lambda m: m.nn.MaxPool1d(2, 3, dilation=2, ceil_mode=True), (2, 3, 10)),
    ("MaxPool1d indices", lambda m: m.nn.MaxPool1d(2, return_indices=True), (3, 8)),
    ("MaxPool2d indices", lambda m: m.nn.MaxPool2d(2, return_indices=True), (2, 3, 6, 6)),
    ("AvgPool1d", lambda m: m.nn.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
    ("AvgPool1d ceil", lambda m: m.nn.AvgPool1d(2, ceil_mode=True), (2, 3, 7)),
    ("AdaptiveAvgPool1d", lambda m: m.nn.AdaptiveAvgPool1d(4), (2, 3, 9)),
    ("AdaptiveMaxPool1d", lambda m: m.nn.AdaptiveMaxPool1d(4), (2, 3, 9)),
    ("AdaptiveMaxPool1d indices", lambda m: m.nn.AdaptiveMaxPool1d(3, return_indices=True), (2, 3, 9)),
    ("AdaptiveMaxPool2d", lambda m: m.nn.AdaptiveMaxPool2d((3, 2)), (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d indices", lambda m: m.nn.AdaptiveMaxPool2d(2, return_indices=True), (2, 3, 6, 6)),
    ("AdaptiveMaxPool2d None", lambda m: m.nn.AdaptiveMaxPool2d((None, 3)), (2, 3, 5, 7)),
    ("LPPool1d", lambda m: m.nn.LPPool1d(2, 3, stride=2), (2, 3, 9)),
    ("LPPool2d", lambda m: m.nn.LPPool2d(1.5, (2, 3), ceil_mode=True), (2, 3, 7, 8)),
    ("Upsample nearest", lambda m: m.nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample bilinear size", lambda m: m.nn.Upsample(size=(7, 9), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample bicubic", lambda m: m.nn.Upsample(scale_factor=(1.5, 2.0), mode="bicubic", align_corners=True),
     (2, 3, 4, 5)),
    ("Upsample linear", lambda m: m.nn.Upsample(scale_factor=2.5, mode="linear"), (2, 3, 5)),
    ("Upsample nearest-exact", lambda m: m.nn.Upsample(size=7, mode="nearest-exact"), (2, 3, 5)),
    ("Upsample recompute", lambda m: m.nn.Upsample(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
     (2, 3, 5, 4)),
    ("UpsamplingNearest2d", lambda m: m.nn.UpsamplingNearest2d(scale_factor=3), (2, 3, 3, 4)),
    ("UpsamplingBilinear2d", lambda m: m.nn.UpsamplingBilinear2d(size=(6, 7)), (2, 3, 3, 4)),
    ("PixelShuffle", lambda m: m.nn.PixelShuffle(2), (2, 12, 3, 4)),
    ("PixelUnshuffle", lambda m: m.nn.PixelUnshuffle(3), (2, 2, 6, 9)),
    ("ZeroPad1d", lambda m: m.nn.ZeroPad1d((1, 2)), (2, 3, 5)),
    ("ZeroPad2d", lambda m: m.nn.ZeroPad2d(2), (2, 3, 4, 5)),
    ("ZeroPad2d negative", lambda m: m.nn.ZeroPad2d((-1, 2, 0, 1)), (2, 3, 4, 5)),
    ("ZeroPad3d", lambda m: m.nn.ZeroPad3d((1, 0, 0, 1, 2, 1)), (1, 2, 3, 4, 5)),
    ("ConstantPad1d", lambda m: m.nn.ConstantPad1d(2, 3.5), (2, 3, 5)),
    ("ConstantPad2d", lambda m: m.nn.ConstantPad2d((1, 2, 0, 3), -1.0), (3, 4, 5)),
    ("ConstantPad3d", lambda m: m.nn.ConstantPad3d(1, 0.5), (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", lambda m: m.nn.ReflectionPad1d((3, 1)), (2, 3, 5)),
    ("ReflectionPad2d", lambda m: m.nn.ReflectionPad2d(4), (2, 3, 8, 8)),
    ("ReflectionPad3d", lambda m: m.nn.ReflectionPad3d((1, 2, 2, 1, 1, 0)), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", lambda m: m.nn.ReplicationPad1d(3), (2, 3, 5)),
    ("ReplicationPad2d", lambda m: m.nn.ReplicationPad2d((1, 2, 3, 0)), (2, 3, 4, 5)),
    ("ReplicationPad3d", lambda m: m.nn.ReplicationPad3d(1), (1, 2, 3, 4, 5)),
    ("CircularPad1d", lambda m: m.nn.CircularPad1d((2, 1)), (2, 3, 5)),
    ("CircularPad2d", lambda m: m.nn.CircularPad2d(1), (2, 3, 4, 5)),
    ("CircularPad3d", lambda m: m.nn.CircularPad3d((1, 0, 1, 0, 0, 1)), (1, 2, 3, 4, 5)),
]


def _values(out):
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_pytorch(name, make, shape, training):
    tlayer, elayer = make(torch), make(engine)
    assert repr(elayer) == repr(tlayer)
    assert list(elayer.state_dict()) == list(tlayer.state_dict())
    tlayer.train(training)
    elayer.train(training)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if name.startswith("LPPool"):
        x = np.abs(x) + 0.5  # fractional powers of negative numbers are NaN on both sides
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    touts, eouts = _values(tlayer(tx)), _values(elayer(ex))
    assert len(touts) == len(eouts)
    for t, e in zip(touts, eouts):
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(touts[0].shape)).astype(np.float32)
    touts[0].backward(torch.tensor(g))
    eouts[0].backward(engine.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


ERRORS = [
    ("CircularPad1d 4d", lambda m: m.nn.CircularPad1d(1), (1, 2, 3, 4)),
    ("CircularPad2d 2d", lambda m: m.nn.CircularPad2d(1), (3, 4)),
    ("ReflectionPad1d too wide", lambda m: m.nn.ReflectionPad1d(5), (1, 2, 5)),
    ("MaxPool1d 4d", lambda m: m.nn.MaxPool1d(2), (1, 2, 3, 4)),
    ("AvgPool1d too small", lambda m: m.nn.AvgPool1d(6), (2, 3, 5)),
    ("Upsample bilinear 3d", lambda m: m.nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 5)),
    ("Upsample nearest align", lambda m: m.nn.Upsample(scale_factor=2, align_corners=True), (2, 3, 5)),
    ("PixelShuffle channels", lambda m: m.nn.PixelShuffle(2), (2, 5, 3, 3)),
    ("PixelUnshuffle width", lambda m: m.nn.PixelUnshuffle(2), (2, 4, 4, 5)),
]


@pytest.mark.parametrize("name, make, shape", ERRORS, ids=[case[0] for case in ERRORS])
def test_layer_errors_match_pytorch(name, make, shape):
    x = np.zeros(shape, dtype=np.float32)
    with pytest.raises(Exception) as theirs:
        make(torch)(torch.tensor(x))
    with pytest.raises(type(theirs.value)) as ours:
        make(engine)(engine.tensor(x))
    assert str(ours.value) == str(theirs.value)


def test_functional_names_are_exported():
    names = ["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
             "lp_pool1d", "lp_pool2d", "interpolate", "pixel_shuffle", "pixel_unshuffle", "affine_grid", "grid_sample",
             "max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "upsample"]
    for name in names:
        assert callable(getattr(engine.nn.functional, name)), name
