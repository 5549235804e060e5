"""``affine_grid`` and ``grid_sample`` beyond the op table: random grids far outside [-1, 1] in every mode, 4-D and
5-D, against PyTorch (values, input and grid gradients), the identity transform reproducing the input, the align_corners
warning, and the not-twice-differentiable backward PyTorch also has."""

import warnings

import numpy as np
import pytest

import engine
from engine.ops.grid_sample import affine_grid, grid_sample

torch = pytest.importorskip("torch")

CASES = [(mode, padding, align, dims) for mode in ("bilinear", "nearest", "bicubic")
         for padding in ("zeros", "border", "reflection") for align in (False, True) for dims in (2, 3)
         if not (mode == "bicubic" and dims == 3)]
SPATIAL = {2: [(1, 1), (1, 5), (4, 6), (7, 3)], 3: [(1, 1, 1), (2, 1, 4), (3, 4, 2)]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode, padding, align, dims", CASES, ids=[f"{m}-{p}-{int(a)}-{d}d" for m, p, a, d in CASES])
def test_matches_pytorch_far_outside(mode, padding, align, dims, dtype):
    rng = np.random.default_rng(1)
    for hw in SPATIAL[dims]:
        x = rng.standard_normal((2, 3, *hw)).astype(dtype)
        g = (rng.standard_normal((2, 5, *(4,) * (dims - 1), dims)) * 2.5).astype(dtype)  # reflections, many periods
        tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
        ex, eg = engine.tensor(x, requires_grad=True), engine.tensor(g, requires_grad=True)
        t = torch.nn.functional.grid_sample(tx, tg, mode=mode, padding_mode=padding, align_corners=align)
        e = grid_sample(ex, eg, mode=mode, padding_mode=padding, align_corners=align)
        tol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=tol, rtol=tol, err_msg=str(hw))
        go = rng.standard_normal(tuple(t.shape)).astype(dtype)
        t.backward(torch.tensor(go))
        e.backward(engine.tensor(go))
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=tol, rtol=tol, err_msg=str(hw))
        np.testing.assert_allclose(eg.grad.numpy(), tg.grad.numpy(), atol=tol * 10, rtol=tol, err_msg=str(hw))
        assert eg.grad.numpy().dtype == np.dtype(dtype)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_identity_transform_reproduces_input(mode):
    x = engine.randn(2, 3, 5, 7)
    theta = engine.tensor(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)))
    grid = affine_grid(theta, [2, 3, 5, 7], align_corners=False)
    out = grid_sample(x, grid, mode=mode, align_corners=False)
    np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-5)


def test_affine_grid_gradient_reaches_theta():
    rng = np.random.default_rng(2)
    th, x = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4, 5))
    grads = []
    for m, sample, aff in ((torch, torch.nn.functional.grid_sample, torch.nn.functional.affine_grid),
                           (engine, grid_sample, affine_grid)):
        theta = m.tensor(th, requires_grad=True)
        sample(m.tensor(x), aff(theta, [2, 3, 6, 4], align_corners=True), align_corners=True).square().sum().backward()
        grads.append(theta.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


def test_align_corners_default_warns_like_pytorch():
    x, g = engine.randn(1, 1, 3, 3), engine.zeros(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
        grid_sample(x, g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grid_sample(x, g, align_corners=False)


def test_backward_is_not_differentiable_again():
    x = engine.randn(1, 2, 3, 3, requires_grad=True)
    g = engine.zeros(1, 2, 2, 2, requires_grad=True)
    out = grid_sample(x, g, align_corners=False).sum()
    (gx,) = engine.autograd.grad(out, (x,), create_graph=True)
    with pytest.raises(RuntimeError):
        engine.autograd.grad(gx.sum(), (x,))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_half_precision_samples_in_float32(mode, dtype):
    """The result keeps the dtype and equals the float32 computation on the same rounded values, rounded once
    (PyTorch's half-precision kernels round every step, so their grid gradients drift further)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    g = (rng.random((2, 4, 3, 2)) * 2.4 - 1.2).astype(np.float32)
    half = getattr(engine, dtype)
    ex, eg = engine.tensor(x).to(half).requires_grad_(), engine.tensor(g).to(half).requires_grad_()
    rx, rg = ex.detach().float().requires_grad_(), eg.detach().float().requires_grad_()
    out, ref = grid_sample(ex, eg, mode=mode, align_corners=False), grid_sample(rx, rg, mode=mode, align_corners=False)
    assert out.dtype == half
    np.testing.assert_array_equal(out.detach().float().numpy(), ref.detach().to(half).float().numpy())
    out.float().sum().backward()
    ref.sum().backward()
    assert ex.grad.dtype == half and eg.grad.dtype == half
    np.testing.assert_array_equal(eg.grad.float().numpy(), rg.grad.to(half).float().numpy())
