"""The normalisation layers (LayerNorm, GroupNorm, InstanceNorm1d/2d, RMSNorm, LocalResponseNorm) against PyTorch's:
same repr, state dict keys and shapes, and with the same (random) weights the same outputs, gradients and running
statistics, in training and eval mode; their errors; and the compiled layer/group norm kernels at sizes that
the op table's small samples do not reach (threaded shares, long rows, large means, strided inputs)."""

import warnings

import numpy as np
import pytest

import engine
from engine import backend
from engine.ops import dense
from engine.ops.dense import rows

torch = pytest.importorskip("torch")

LAYERS = [
    ("LayerNorm", lambda m: m.nn.LayerNorm(6), (4, 6)),
    ("LayerNorm 2 dims", lambda m: m.nn.LayerNorm((3, 5), eps=1e-3), (2, 4, 3, 5)),
    ("LayerNorm no affine", lambda m: m.nn.LayerNorm([5], elementwise_affine=False), (3, 2, 5)),
    ("LayerNorm no bias", lambda m: m.nn.LayerNorm(5, bias=False), (3, 2, 5)),
    ("GroupNorm", lambda m: m.nn.GroupNorm(2, 6), (3, 6, 4, 5)),
    ("GroupNorm 3d", lambda m: m.nn.GroupNorm(3, 6, eps=1e-3), (2, 6, 7)),
    ("GroupNorm no affine", lambda m: m.nn.GroupNorm(1, 4, affine=False), (2, 4, 3, 3)),
    ("GroupNorm no bias", lambda m: m.nn.GroupNorm(4, 4, bias=False), (2, 4, 3)),
    ("InstanceNorm1d", lambda m: m.nn.InstanceNorm1d(4), (3, 4, 6)),
    ("InstanceNorm1d unbatched", lambda m: m.nn.InstanceNorm1d(4, affine=True), (4, 6)),
    ("InstanceNorm1d tracked", lambda m: m.nn.InstanceNorm1d(4, momentum=0.3, affine=True, track_running_stats=True),
     (3, 4, 6)),
    ("InstanceNorm2d", lambda m: m.nn.InstanceNorm2d(3, eps=1e-3), (2, 3, 4, 5)),
    ("InstanceNorm2d tracked", lambda m: m.nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5)),
    ("InstanceNorm2d cumulative", lambda m: m.nn.InstanceNorm2d(3, momentum=None, track_running_stats=True),
     (2, 3, 4, 5)),
    ("InstanceNorm2d unbatched", lambda m: m.nn.InstanceNorm2d(3, track_running_stats=True), (3, 4, 5)),
    ("RMSNorm", lambda m: m.nn.RMSNorm(5), (3, 5)),
    ("RMSNorm 2 dims", lambda m: m.nn.RMSNorm([4, 5], eps=1e-3), (2, 3, 4, 5)),
    ("RMSNorm no affine", lambda m: m.nn.RMSNorm(5, elementwise_affine=False), (3, 2, 5)),
    ("LocalResponseNorm", lambda m: m.nn.LocalResponseNorm(3), (2, 5, 4, 4)),
    ("LocalResponseNorm options", lambda m: m.nn.LocalResponseNorm(2, alpha=0.5, beta=0.6, k=2.0), (2, 5, 7)),
]


def _randomised(layer, rng):
    """``layer`` (PyTorch's) with random parameters and running statistics, so that they all matter."""
    with torch.no_grad():
        for name, value in layer.state_dict().items():
            if value.dtype.is_floating_point:
                values = rng.uniform(0.5, 1.5, tuple(value.shape)) if "var" in name else rng.standard_normal(
                    tuple(value.shape))
                value.copy_(torch.tensor(values))
    return layer


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_pytorch(name, make, shape, training):
    rng = np.random.default_rng(0)
    tlayer, elayer = _randomised(make(torch), rng), make(engine)
    assert repr(elayer) == repr(tlayer)
    tsd = tlayer.state_dict()
    assert [(k, tuple(v.shape)) for k, v in elayer.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tsd.items()]
    elayer.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})
    tlayer.train(training)
    elayer.train(training)
    for step in range(2):  # the second step sees the running statistics the first one left
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
        tout, eout = tlayer(tx), elayer(ex)
        np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-5)
        g = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
        tout.backward(torch.tensor(g))
        eout.backward(engine.tensor(g))
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        for (pname, tp), (_, ep) in zip(tlayer.named_parameters(), elayer.named_parameters(), strict=True):
            np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=pname)
        for key, value in tlayer.state_dict().items():
            np.testing.assert_allclose(elayer.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{key} after step {step}")


def test_float64_layers_keep_float64():
    for layer in (engine.nn.LayerNorm(4, dtype=engine.float64), engine.nn.GroupNorm(2, 4, dtype=engine.float64),
                  engine.nn.RMSNorm(4, dtype=engine.float64)):
        x = engine.randn(3, 4, dtype=engine.float64)
        assert layer.weight.dtype == engine.float64 and layer(x).dtype == engine.float64


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    """eps=None is float32's epsilon for float32 (and float16) inputs and float64's for float64: visible on an
    input whose mean square is far below it."""
    x = np.full((2, 3), 1e-5)
    for dt in ("float32", "float64", "float16"):
        t = torch.nn.functional.rms_norm(torch.tensor(x, dtype=getattr(torch, dt)), (3,))
        e = engine.nn.functional.rms_norm(engine.tensor(x, dtype=getattr(engine, dt)), (3,))
        assert e.dtype == getattr(engine, dt)
        np.testing.assert_allclose(e.float().numpy(), t.float().numpy(), rtol=1e-3)


ERRORS = [
    (lambda m: m.nn.GroupNorm(3, 4), ValueError, "num_channels (4) must be divisible by num_groups (3)"),
    (lambda m: m.nn.InstanceNorm1d(3)(m.zeros(2, 3, 4, 5)), ValueError, "expected 2D or 3D input (got 4D input)"),
    (lambda m: m.nn.InstanceNorm2d(3)(m.zeros(3, 4)), ValueError, "expected 3D or 4D input (got 2D input)"),
    (lambda m: m.nn.InstanceNorm1d(3, affine=True)(m.zeros(2, 4, 5)), ValueError,
     "expected input's size at dim=1 to match num_features (3), but got: 4."),
    (lambda m: m.nn.InstanceNorm2d(3, track_running_stats=True).eval()(m.zeros(2, 3, 1, 1)), None, None),
    (lambda m: m.nn.InstanceNorm2d(3)(m.zeros(2, 3, 1, 1)), ValueError,
     "Expected more than 1 spatial element when training, got input size torch.Size([2, 3, 1, 1])"),
    (lambda m: m.nn.LayerNorm(4)(m.zeros(2, 5)), RuntimeError,
     "Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 5]"),
    (lambda m: m.nn.GroupNorm(2, 4)(m.zeros(2, 6, 3)), RuntimeError,
     "Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape [4] "
     "and input of shape [2, 6, 3]"),
    (lambda m: m.nn.RMSNorm(4)(m.zeros(2, 5)), RuntimeError,
     "Given normalized_shape=[4], expected input with shape [*4], but got input of size[2, 5]"),
    (lambda m: m.nn.LocalResponseNorm(2)(m.zeros(2, 5)), ValueError,
     "Expected 3D or higher dimensionality                          input (got 2 dimensions)"),
    (lambda m: m.nn.functional.layer_norm(m.ones(2, 3, dtype=m.int64), (3,)), NotImplementedError,
     "\"LayerNormKernelImpl\" not implemented for 'Long'"),
    (lambda m: m.nn.functional.group_norm(m.ones(2, 4, 3, dtype=m.int32), 2), NotImplementedError,
     "\"GroupNormKernelImpl\" not implemented for 'Int'"),
    (lambda m: m.nn.functional.rms_norm(m.ones(2, 3, dtype=m.int64), (3,)), NotImplementedError,
     "\"rms_norm\" not implemented for 'Long'"),
    (lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 4, dtype=m.int64)), NotImplementedError,
     "\"batch_norm\" not implemented for 'Long'"),
    (lambda m: m.nn.functional.layer_norm(m.ones(2, 3), (3,), m.ones(3, dtype=m.float64)), RuntimeError,
     "mixed dtype (CPU): expect parameter to have scalar type of Float"),
    (lambda m: m.nn.functional.group_norm(m.ones(2, 4, 3, dtype=m.float64), 2, m.ones(4)), RuntimeError,
     "mixed dtype (CPU): all inputs must share same datatype."),
    (lambda m: m.nn.functional.layer_norm(m.ones(2, 3, dtype=m.bfloat16), (3,), m.ones(3), m.zeros(3)), None, None),
]


@pytest.mark.parametrize("call, exc, match", ERRORS, ids=[str(e[2])[:40] for e in ERRORS])
def test_errors_as_pytorch(call, exc, match):
    """The same error type and message as PyTorch's (or, where exc is None, no error in either)."""
    for m in (torch, engine):
        if exc is None:
            call(m)
            continue
        with pytest.raises(exc) as info:
            call(m)
        assert str(info.value) == match, m.__name__


def test_instance_norm_warns_on_channel_mismatch_without_affine():
    for m in (torch, engine):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.nn.InstanceNorm1d(3)(m.ones(2, 4, 5))
        assert [str(w.message) for w in caught] == [
            "input's size at dim=1 does not match num_features. You can silence this warning by not passing in "
            "num_features, which is not used because affine=False"], m.__name__


KERNEL_CASES = [
    # (name, fn(m, x, w, b), x shape, parameter shape)
    ("layer_norm (N,C)", lambda m, x, w, b: m.nn.functional.layer_norm(x, (96,), w, b), (343, 96), (96,)),
    # (343 rows of 96 are shared unevenly over the threads; 8 x 70 rows of 48 take one)
    ("layer_norm (N,L,C)", lambda m, x, w, b: m.nn.functional.layer_norm(x, (48,), w, b), (8, 70, 48), (48,)),
    ("layer_norm 2 dims", lambda m, x, w, b: m.nn.functional.layer_norm(x, (6, 50), w, b), (130, 6, 50), (6, 50)),
    ("layer_norm long rows", lambda m, x, w, b: m.nn.functional.layer_norm(x, (3000,), w, b), (50, 3000), (3000,)),
    ("group_norm", lambda m, x, w, b: m.nn.functional.group_norm(x, 4, w, b), (6, 16, 30, 30), (16,)),
    ("group_norm (N,C)", lambda m, x, w, b: m.nn.functional.group_norm(x, 8, w, b), (2000, 64), (64,)),
    ("group_norm G=C", lambda m, x, w, b: m.nn.functional.group_norm(x, 12, w, b), (3, 12, 40, 40), (12,)),
]


@pytest.mark.parametrize("impl", ["compiled", "generic"])
@pytest.mark.parametrize("name, fn, shape, pshape", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
@pytest.mark.parametrize("params", ["affine", "weight", "bias", "none"])
def test_large_layer_and_group_norm(name, fn, shape, pshape, params, impl):
    """Inputs big enough to be shared over the threads (and, for layer norm's parameter gradients, more than one
    block of rows), with means far from zero per row: both implementations give PyTorch's values and
    gradients."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape) * 3
    x += rng.uniform(-300, 300, (*shape[:-1], 1))
    x = x.astype(np.float32)
    w, b = rng.standard_normal(pshape).astype(np.float32), rng.standard_normal(pshape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    results = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        W = m.tensor(w, requires_grad=True) if params in ("affine", "weight") else None
        if params == "bias" and m is torch:  # its group_norm fails backward with a bias alone: a weight of ones
            W = torch.ones(pshape)
        B = m.tensor(b, requires_grad=True) if params in ("affine", "bias") else None
        with backend.prefer(impl):
            y = fn(m, X, W, B)
            y.backward(m.tensor(g))
        results.append([y.detach().numpy(), X.grad.numpy(), *(p.grad.numpy() for p in (W, B) if p is not None
                                                              and p.requires_grad)])
    for e, t in zip(*results, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-3, atol=2e-4 * max(1.0, float(np.abs(t).max())))


def test_layer_norm_of_a_strided_input_and_gradient():
    """A transposed (channels-last view) input and a broadcast gradient go through the kernels as PyTorch's."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 32, 5, 6)).astype(np.float32)
    results = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        ln = m.nn.LayerNorm(32)
        y = ln(X.permute(0, 2, 3, 1))
        (y * m.tensor(np.arange(32, dtype=np.float32))).sum().backward()
        results.append([y.detach().numpy(), X.grad.numpy(), ln.weight.grad.numpy(), ln.bias.grad.numpy()])
    for e, t in zip(*results, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4)


# gradient -> (the shape it is expanded from, or None for a sum's; whether every row of it is the same)
GRADIENTS = {"a sum's": (None, True), "expanded from the normalised shape": ((3, 5), True),
             "expanded from the last axis": ((5,), False), "expanded over the batch": ((1, 6, 3, 5), False)}


# norm -> (the layer over (4, 6, 3, 5) inputs, whose rows (layer norm) or channel planes (group norm) are 15 values;
# the shape of its weight)
EXPANDED_NORMS = {"layer": (lambda m: m.nn.LayerNorm((3, 5)), (3, 5)), "group": (lambda m: m.nn.GroupNorm(2, 6), (6,))}


@pytest.mark.parametrize("norm", EXPANDED_NORMS)
@pytest.mark.parametrize("gradient", GRADIENTS)
def test_norm_of_an_expanded_gradient(gradient, norm, monkeypatch):
    """A gradient whose rows of 15 are all the same (a sum's, or one expanded from the last two axes) reaches the
    kernel as that one row; others as all their rows. Either way as PyTorch computes it."""
    source, one_row = GRADIENTS[gradient]
    make, weight_shape = EXPANDED_NORMS[norm]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6, 3, 5)).astype(np.float32)
    weight = rng.standard_normal(weight_shape).astype(np.float32)
    g = None if source is None else rng.standard_normal(source).astype(np.float32)
    given = []
    monkeypatch.setattr(dense, "rows", lambda a, m: given.append(rows(a, m)) or given[-1])
    results = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        layer = make(m)
        with m.no_grad():
            layer.weight.copy_(m.tensor(weight))
        y = layer(X)
        if g is None:
            y.sum().backward()
        else:
            y.backward(m.tensor(g).expand(*x.shape))
        results.append([X.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy()])
    assert [r.shape for r in given] == [(1 if one_row else 24, 15)]  # the compiled kernel's one call
    for e, t in zip(*results, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("norm", ["layer", "group"])
def test_a_constant_row_with_no_eps_gives_nan_as_pytorch_does(norm):
    """Its variance is 0 and eps adds nothing: 1 / sqrt(0) is infinite, and (x - mean) * inf is NaN (the
    compiled kernels raised ZeroDivisionError)."""
    results = []
    for m in (engine, torch):
        X = m.ones(2, 4, 3, requires_grad=True)
        if norm == "layer":
            y = m.nn.functional.layer_norm(X, (4, 3), eps=0.0)
        else:
            y = m.nn.functional.group_norm(X, 2, eps=0.0)
        y.sum().backward()
        results.append([y.detach().numpy(), X.grad.numpy()])
    for e, t in zip(*results, strict=True):
        np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
        assert np.isnan(e).all()


def test_compiled_and_generic_double_backward_agree():
    """Second derivatives of layer and group norm from a node made by either implementation are the same."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5))
    out = []
    for impl in ("compiled", "generic"):
        with backend.prefer(impl):
            grads = []
            for fn in (lambda t: engine.nn.functional.layer_norm(t, (4, 5)),
                       lambda t: engine.nn.functional.group_norm(t, 2)):
                X = engine.tensor(x, requires_grad=True)
                (gx,) = engine.autograd.grad((fn(X) ** 3).sum(), X, create_graph=True)
                (ggx,) = engine.autograd.grad((gx * gx).sum(), X)
                grads += [gx.detach().numpy(), ggx.numpy()]
        out.append(grads)
    for a, b in zip(*out, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


# norm -> (the layer, an input shape whose statistics' float16 sums pass 65,504)
HALF_NORMS = {"batch": (lambda m: m.nn.BatchNorm2d(4), (64, 4, 32, 32)),
              "group": (lambda m: m.nn.GroupNorm(1, 32), (1, 32, 64, 64)),
              "layer": (lambda m: m.nn.LayerNorm(8192), (2, 8192))}


@pytest.mark.parametrize("norm", HALF_NORMS)
def test_float16_is_computed_in_float32_as_pytorch(norm):
    """float16 layers keep float16 outputs, gradients and running statistics, computed in float32 as PyTorch's CPU
    kernels do (NumPy's float16 sums overflowed: every output was the bias)."""
    make, shape = HALF_NORMS[norm]
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 3).astype(np.float16)
    g = rng.standard_normal(shape).astype(np.float16)
    results = []
    for m in (engine, torch):
        layer = make(m).half()
        X = m.tensor(x, requires_grad=True)
        y = layer(X)
        y.backward(m.tensor(g))
        assert y.dtype == X.grad.dtype == layer.weight.grad.dtype == m.float16
        stats = [layer.running_mean.float().numpy()] if norm == "batch" else []
        results.append([y.detach().float().numpy(), X.grad.float().numpy(), layer.weight.grad.float().numpy(),
                         layer.bias.grad.float().numpy(), *stats])
    for ours, theirs in zip(*results, strict=True):
        scale = max(1.0, float(np.abs(theirs).max()))
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=4e-3 * scale)


@pytest.mark.parametrize("first", [0.0, 2.5, 300.0, 5000.0])
@pytest.mark.parametrize("norm", ["layer", "group"])
def test_a_row_whose_first_value_lies_far_from_its_mean_as_pytorch(norm, first):
    """The compiled moments shift each row by its first value; one far from the mean (an outlier) made their one
    pass cancel digits (1e-4 to 7e-4 of the output), so such rows take a second pass: float32 results as close to
    float64's as PyTorch's float32 ones."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 2, 4096)).astype(np.float32)
    x[:, :, 0] = first
    results = []
    for m, dt in ((engine, np.float32), (torch, np.float32), (torch, np.float64)):
        t = m.tensor(x.astype(dt))
        y = (m.nn.functional.layer_norm(t, (2, 4096)) if norm == "layer" else m.nn.functional.group_norm(t, 1))
        results.append(y.double().numpy())
    ours, theirs, exact = results
    assert np.abs(ours - exact).max() <= max(2 * np.abs(theirs - exact).max(), 5e-7 * np.abs(exact).max())


@pytest.mark.parametrize("training", [False, True])
def test_running_statistics_on_another_device_are_refused(fake_cuda, training):
    """As PyTorch: running statistics on a GPU with an input on the CPU (or the other way round) raise, where the
    host's compiled kernel was handed the device's arrays."""
    x = engine.randn(2, 3, 4, 4)
    stats = (engine.zeros(3, device="cuda"), engine.ones(3, device="cuda"))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        engine.nn.functional.batch_norm(x, *stats, training=training)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        engine.nn.functional.batch_norm(x.cuda(), *(s.cpu() for s in stats), training=training)
