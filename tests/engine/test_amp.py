"""Mixed precision: ``autocast`` (PyTorch's casting rules per device type, nesting, decorator, gradients in the
parameters' dtypes) and ``GradScaler`` (scaling, unscaling, skipped steps, scale updates, state), against
PyTorch on the CPU; the CUDA table through the CuPy stand-in."""

import warnings

import numpy as np
import pytest
import torch

import engine
import engine.nn.functional as F

BF16_TOL = {"rtol": 2e-2, "atol": 2e-2}


def _both(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return engine.tensor(data), torch.tensor(data)


def _mlp(lib, seed=0):
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 4))
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
    return model


def _assert_close(ours, theirs, **tol):
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().float().numpy(), theirs.detach().float().numpy(), **(tol or BF16_TOL))


# (name, engine op, torch op) run inside autocast on float32 inputs (bfloat16 ones where marked)
_OPS = [
    ("matmul", lambda L, a, b: a @ b, False),
    ("mm", lambda L, a, b: L.mm(a, b), False),
    ("bmm", lambda L, a, b: L.bmm(a.reshape(2, 2, 4), b.reshape(2, 4, 2)), False),
    ("batched_matmul", lambda L, a, b: a.reshape(2, 2, 4) @ b, False),
    ("linear", lambda L, a, b: L.nn.functional.linear(a, b, b[0]), False),
    ("mv", lambda L, a, b: L.mv(a, b[:, 0]), False),
    ("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b), False),
    ("conv2d", lambda L, a, b: L.nn.functional.conv2d(a.reshape(1, 1, 4, 4), b.reshape(4, 1, 2, 2)), False),
    ("softmax", lambda L, a, b: L.softmax(a, 1), True),
    ("log_softmax", lambda L, a, b: L.log_softmax(a, 1), True),
    ("cross_entropy", lambda L, a, b: L.nn.functional.cross_entropy(a, L.tensor([0, 1, 2, 3])), True),
    ("nll_loss", lambda L, a, b: L.nn.functional.nll_loss(a, L.tensor([0, 1, 2, 3])), True),
    ("mse_loss", lambda L, a, b: L.nn.functional.mse_loss(a, b), True),
    ("l1_loss", lambda L, a, b: L.nn.functional.l1_loss(a, a * 2), True),
    ("bce_with_logits", lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(a, a.sigmoid()), True),
    ("prod", lambda L, a, b: a.prod(), True),
    ("sum", lambda L, a, b: a.sum(), True),
    ("exp", lambda L, a, b: a.exp(), True),
    ("relu", lambda L, a, b: a.relu(), True),
    ("conv_transpose2d", lambda L, a, b: L.nn.functional.conv_transpose2d(a.reshape(1, 1, 4, 4),
                                                                           b.reshape(1, 4, 2, 2)), False),
    ("conv1d", lambda L, a, b: L.nn.functional.conv1d(a.reshape(1, 4, 4), b.reshape(4, 4, 1)), False),
    ("prelu", lambda L, a, b: L.nn.functional.prelu(a.reshape(1, 4, 4), b[0]), False),
    ("sdpa", lambda L, a, b: L.nn.functional.scaled_dot_product_attention(a[None], b[None], a[None]), False),
    ("grid_sample", lambda L, a, b: L.nn.functional.grid_sample(a.reshape(1, 1, 4, 4), b.reshape(1, 2, 4, 2) / 3,
                                                                align_corners=False), True),
    ("ctc_loss", lambda L, a, b: L.nn.functional.ctc_loss(a.reshape(4, 1, 4).log_softmax(2), L.tensor([[1, 2]]),
                                                          L.tensor([4]), L.tensor([2])), True),
    ("addmm", lambda L, a, b: L.addmm(a, a, b, beta=0.5), False),
    ("addmm_mixed", lambda L, a, b: L.addmm(b, a, b), True),
    ("baddbmm", lambda L, a, b: L.baddbmm(a.reshape(2, 2, 4)[:, :, :2], a.reshape(2, 2, 4), b.reshape(2, 4, 2)),
     False),
    ("add_mixed", lambda L, a, b: a + b, True),
    ("cat_mixed", lambda L, a, b: L.cat([a, b]), True),
]


@pytest.mark.parametrize("name, fn, bf16_first", _OPS, ids=[o[0] for o in _OPS])
@pytest.mark.parametrize("fast", ["bfloat16", "float16"])
def test_cpu_op_dtypes_and_values_as_torch(name, fn, bf16_first, fast):
    a, ta = _both(4, 4, seed=1)
    b, tb = _both(4, 4, seed=2)
    if bf16_first:
        a, ta = a.to(getattr(engine, fast)), ta.to(getattr(torch, fast))
    with engine.autocast("cpu", dtype=getattr(engine, fast)):
        ours = fn(engine, a, b)
    with torch.autocast("cpu", dtype=getattr(torch, fast)):
        theirs = fn(torch, ta, tb)
    _assert_close(ours, theirs)


def test_cpu_training_step_as_torch():
    ours_m, theirs_m = _mlp(engine), _mlp(torch)
    x, tx = _both(5, 6, seed=3)
    target = [0, 3, 1, 2, 3]
    with engine.autocast("cpu"):
        h = ours_m[0](x)
        out = ours_m(x)
        loss = F.cross_entropy(out, engine.tensor(target))
    with torch.autocast("cpu"):
        th = theirs_m[0](tx)
        tout = theirs_m(tx)
        tloss = torch.nn.functional.cross_entropy(tout, torch.tensor(target))
    _assert_close(h, th)
    _assert_close(out, tout)
    _assert_close(loss, tloss)
    loss.backward()
    tloss.backward()
    for p, tp in zip(ours_m.parameters(), theirs_m.parameters()):
        assert p.grad.dtype is engine.float32
        _assert_close(p.grad, tp.grad, rtol=5e-2, atol=2e-2)


def test_nesting_disabled_region_and_state():
    a, b = _both(3, 3)[0], _both(3, 3, seed=1)[0]
    assert not engine.is_autocast_enabled("cpu") and not engine.is_autocast_enabled()
    assert engine.get_autocast_dtype("cpu") is engine.bfloat16
    assert engine.get_autocast_dtype("cuda") is engine.float16
    with engine.autocast("cpu"):
        assert engine.is_autocast_enabled("cpu") and not engine.is_autocast_enabled()
        e = engine.mm(a, b)
        with engine.autocast("cpu", enabled=False):
            assert not engine.is_autocast_enabled("cpu")
            f = engine.mm(a, e.float())
            with engine.autocast("cpu", dtype=engine.float16):
                assert engine.get_autocast_dtype("cpu") is engine.float16
                h = engine.mm(a, b)
            assert engine.get_autocast_dtype("cpu") is engine.bfloat16
        g = engine.mm(a, f)
    assert (e.dtype, f.dtype, g.dtype, h.dtype) == (engine.bfloat16, engine.float32, engine.bfloat16, engine.float16)
    assert not engine.is_autocast_enabled("cpu")
    assert engine.mm(a, b).dtype is engine.float32


def test_decorator_and_float64_inputs_left_alone():
    @engine.autocast("cpu")
    def product(x, y):
        return x @ y

    a = _both(3, 3)[0]
    assert product(a, a).dtype is engine.bfloat16
    assert product(a.double(), a.double()).dtype is engine.float64
    assert (a @ a).dtype is engine.float32
    with pytest.raises(TypeError, match="requires a callable"):
        engine.autocast("cpu")(3)


def test_weight_cast_cache():
    w = engine.nn.Parameter(_both(4, 4)[0])
    x = _both(2, 4, seed=5)[0]
    with engine.autocast("cpu"):
        y = (x @ w) + (x @ w)
        assert len(engine.autocast_state.state.cache) == 1
    assert not engine.autocast_state.state.cache
    y.float().sum().backward()
    tw = torch.nn.Parameter(_both(4, 4)[1])
    tx = _both(2, 4, seed=5)[1]
    with torch.autocast("cpu"):
        ty = (tx @ tw) + (tx @ tw)
    ty.float().sum().backward()
    _assert_close(w.grad, tw.grad)
    with engine.autocast("cpu", cache_enabled=False):
        x @ w
        assert not engine.autocast_state.state.cache


def test_arguments_and_warnings_as_torch():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        engine.autocast(engine.device("cpu"))
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'mps'"):
        engine.autocast("mps")
    with pytest.raises(RuntimeError, match="device type at start of device string: xyz"):
        engine.get_autocast_dtype("xyz")
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        region = engine.autocast("cpu", dtype=engine.float32)
    with region:
        assert not engine.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        engine.autocast("cuda")
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.autocast\(args...\)` is deprecated"):
        old = engine.cpu.amp.autocast()
    assert isinstance(old, engine.amp.autocast) and old.fast_dtype is engine.bfloat16
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)` is deprecated"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        engine.cuda.amp.autocast()
    assert engine.autocast is engine.amp.autocast


def test_cuda_table_through_the_stand_in(fake_cuda):
    a = engine.randn(4, 4, device="cuda")
    v = engine.randn(4, device="cuda")
    with engine.autocast("cuda"):
        assert (a @ a).dtype is engine.float16
        assert engine.mv(a, v).dtype is engine.float16
        assert engine.softmax(a.half(), 1).dtype is engine.float32
        assert a.half().sum().dtype is engine.float32
        assert a.half().exp().dtype is engine.float32
        assert engine.dot(v.half(), v).dtype is engine.float32
        assert engine.dot(v.half(), v.half()).dtype is engine.float16
        assert a.half().relu().dtype is engine.float16
        cpu = engine.randn(3, 3)
        assert (cpu @ cpu).dtype is engine.float32  # other device types are not cast
        with pytest.raises(RuntimeError, match="binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast"):
            F.binary_cross_entropy(a.sigmoid(), a.sigmoid())
    with pytest.raises(RuntimeError, match="does not support bfloat16"):
        engine.autocast("cuda", dtype=engine.bfloat16)


# ----- GradScaler -----

def _scaled_steps(lib, grads_to_poison, steps=5, **scaler_args):
    """``steps`` iterations of the AMP recipe; at the listed steps one gradient is made inf. Returns the
    scales, the parameters after each step and the scaler's state."""
    model = _mlp(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_args)
    x = lib.tensor(np.random.default_rng(7).standard_normal((5, 6)).astype(np.float32))
    scales, params = [], []
    for step in range(steps):
        opt.zero_grad()
        with lib.autocast("cpu"):
            loss = model(x).float().pow(2).mean()
        scaler.scale(loss).backward()
        if step in grads_to_poison:
            model[0].weight.grad[0, 0] = float("inf")
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        params.append([p.detach().numpy().copy() for p in model.parameters()])
    return scales, params, scaler.state_dict()


def test_grad_scaler_as_torch():
    ours = _scaled_steps(engine, {1, 2}, init_scale=1024.0, growth_interval=2)
    theirs = _scaled_steps(torch, {1, 2}, init_scale=1024.0, growth_interval=2)
    assert ours[0] == theirs[0] == [1024.0, 512.0, 256.0, 256.0, 512.0]
    assert ours[2] == theirs[2]
    for ps, tps in zip(ours[1], theirs[1]):
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p, tp, rtol=2e-2, atol=2e-3)
    np.testing.assert_array_equal(ours[1][1][0], ours[1][0][0])  # the poisoned steps were skipped
    np.testing.assert_array_equal(ours[1][2][0], ours[1][0][0])


def test_grad_scaler_unscale_and_errors():
    model = _mlp(engine)
    opt = engine.optim.SGD(model.parameters(), lr=0.1)
    scaler = engine.amp.GradScaler("cpu", init_scale=8.0)
    with pytest.raises(AssertionError, match="Attempted unscale_ but _scale is None"):
        scaler.unscale_(opt)
    x = _both(2, 6)[0]
    scaler.scale(model(x).sum()).backward()
    scaled = model[0].weight.grad.clone()
    scaler.unscale_(opt)
    np.testing.assert_allclose(model[0].weight.grad.numpy(), scaled.numpy() / 8.0, rtol=1e-6)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last update"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    scaler.update(new_scale=4.0)
    assert scaler.get_scale() == 4.0
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        scaler.update()
    model.half()
    scaler.scale(model(x.half()).float().sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(opt)


def test_grad_scaler_state_and_disabled():
    scaler = engine.amp.GradScaler("cpu", init_scale=16.0, growth_interval=3)
    assert scaler.get_scale() == 16.0 and scaler.is_enabled()
    state = scaler.state_dict()
    assert state == torch.amp.GradScaler("cpu", init_scale=16.0, growth_interval=3).state_dict()
    other = engine.amp.GradScaler("cpu")
    other.load_state_dict(state)
    assert other.state_dict() == state
    off = engine.amp.GradScaler("cpu", enabled=False)
    t = engine.ones(2)
    assert off.scale(t) is t and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        other.load_state_dict({})
    with pytest.raises(AssertionError, match="The growth factor must be > 1.0"):
        engine.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available"):
        assert not engine.amp.GradScaler().is_enabled()
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.GradScaler\(args...\)` is deprecated"):
        assert engine.cpu.amp.GradScaler(init_scale=2.0).get_scale() == 2.0
    scaled = scaler.scale([engine.ones(2), (engine.ones(1),)])
    assert scaled[0].tolist() == [16.0, 16.0] and scaled[1][0].tolist() == [16.0]


def test_cpu_autocast_cnn_as_torch():
    x = np.random.default_rng(1).standard_normal((6, 3, 8, 8)).astype(np.float32)
    results = []
    for lib in (engine, torch):
        # conv after conv: the second takes the first's bfloat16 output with float32 weights
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(),
                                  lib.nn.Conv2d(4, 4, 3, padding=1), lib.nn.MaxPool2d(2), lib.nn.Flatten(),
                                  lib.nn.Linear(64, 5))
        rng = np.random.default_rng(0)
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
        with lib.autocast("cpu"):
            out = model(lib.tensor(x))
            loss = lib.nn.functional.cross_entropy(out, lib.tensor([0, 1, 2, 3, 4, 0]))
        loss.backward()
        results.append((out, loss, list(model.parameters())))
    _assert_close(results[0][0], results[1][0])
    _assert_close(results[0][1], results[1][1])
    for p, tp in zip(results[0][2], results[1][2]):
        assert p.grad.dtype is engine.float32
        _assert_close(p.grad, tp.grad, rtol=5e-2, atol=5e-2 * max(float(tp.grad.abs().max()), 1e-2))


def _custom_product(lib, cast_inputs):
    class Product(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            ctx.autocast_in_forward = lib.is_autocast_enabled("cpu")
            return a.mm(b)

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ctx.autocast_in_backward = lib.is_autocast_enabled("cpu")
            return g.mm(b.t()), a.t().mm(g)

    return Product


@pytest.mark.parametrize("cast_inputs", [None, "float32"])
def test_custom_fwd_bwd_as_torch(cast_inputs):
    results = []
    for lib in (engine, torch):
        product = _custom_product(lib, None if cast_inputs is None else getattr(lib, cast_inputs))
        a = lib.nn.Parameter(lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)))
        b = lib.nn.Parameter(lib.tensor(np.linspace(0, 2, 8, dtype=np.float32).reshape(4, 2)))
        with lib.autocast("cpu"):
            out = product.apply(a, b)
            flags = [out.grad_fn.autocast_in_forward]
            out.float().sum().backward()
        flags.append(out.grad_fn.autocast_in_backward)
        results.append((out, a.grad, b.grad, flags))
    ours, theirs = results
    _assert_close(ours[0], theirs[0])
    _assert_close(ours[1], theirs[1])
    _assert_close(ours[2], theirs[2])
    assert ours[3] == theirs[3]
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        engine.amp.custom_fwd(device_type=None)
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.custom_fwd\(args...\)` is deprecated"):
        engine.cuda.amp.custom_fwd(lambda ctx, x: x)


def test_deprecated_state_getters_as_torch():
    for name in ("is_autocast_cpu_enabled", "get_autocast_cpu_dtype", "get_autocast_gpu_dtype"):
        with pytest.warns(DeprecationWarning, match=rf"torch.{name}\(\) is deprecated. Please use torch\."):
            ours = getattr(engine, name)()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert str(ours) == str(getattr(torch, name)())
