"""Double backward of the elementwise family where the op table does not reach: in-place ops (their nodes
and writes through views), ``copy_`` / ``fill_``, the module backward-hook node under ``create_graph``, one
function through most of the family at once (``gradgradcheck`` and one random direction of the second
derivative compared with torch), and that function on the CuPy stand-in."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")


def second_derivatives(mod, fn, arrays):
    """The gradients of ``sum(first derivatives * fixed weights)`` for ``fn(mod, *inputs)``, float64."""
    rng = np.random.default_rng(3)
    xs = [mod.tensor(a, requires_grad=True) for a in arrays]
    out = fn(mod, *xs)
    firsts = mod.autograd.grad(out, xs, mod.tensor(rng.standard_normal(tuple(out.shape))), create_graph=True)
    total = sum((g * mod.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in firsts)
    return [g.detach().numpy(force=True) if mod is torch else g.detach().numpy()
            for g in mod.autograd.grad(total, xs, materialize_grads=True)]


def check(fn, *shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.3, 1.5, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]
    inputs = tuple(engine.tensor(a, requires_grad=True) for a in arrays)
    assert engine.autograd.gradgradcheck(lambda *xs: fn(engine, *xs), inputs)
    for k, (ours, theirs) in enumerate(zip(second_derivatives(engine, fn, arrays),
                                           second_derivatives(torch, fn, arrays), strict=True)):
        np.testing.assert_allclose(ours, theirs, atol=1e-10, rtol=1e-7, err_msg=f"input {k}")


def test_inplace_arithmetic_and_functions():
    def fn(m, x, w):
        y = x * 1
        y.mul_(w).add_(x, alpha=0.5).sub_(w).div_(w.exp())
        y.neg_()
        y.pow_(2)  # nothing changes y after the ops that save it (torch would refuse)
        parts = [y * 1 for _ in range(7)]
        parts[0].tanh_()
        parts[1].sigmoid_()
        parts[2].exp_()
        parts[3].add_(1).log_()
        parts[4].add_(1).sqrt_()
        parts[5].sub_(0.5).relu_()
        parts[6].clamp_(0.1, 0.8)
        return parts[0] * parts[1] + parts[2] * parts[3] + parts[4] * parts[5] * parts[6]

    check(fn, (3, 4), (4,))


def test_inplace_write_through_a_view():
    def fn(m, x, w):
        y = x.sin()
        v = y[:, 1:]
        v.mul_(w)  # recorded on y as a write through the view
        return (y * y).sum(0) + v.cos().sum(0).sum()

    check(fn, (3, 4), (3, 3))


def test_copy_and_fill_overwrite():
    def fn(m, x, w):
        y = x * x
        y[1].copy_(w.sin())
        z = x * 2
        z.fill_(w.sum())
        return y * z

    check(fn, (2, 3), (3,))


def test_module_backward_hook_under_create_graph():
    """A full backward hook sees gradients with a graph and may replace grad_input with a tensor of its own."""

    def fn(m, x, w):
        class Wave(m.nn.Module):
            def forward(self, a, b):
                return a.sin() * b

        seen = []

        def hook(module, grad_input, grad_output):
            seen.append(all(g.requires_grad for g in grad_input))
            return tuple(g * g for g in grad_input)

        module = Wave()
        module.register_full_backward_hook(hook)
        out = module(x, w)
        g = m.autograd.grad(out.sum(), (x, w), create_graph=True)
        assert seen == [True]
        return g[0] * g[1]

    check(fn, (3, 4), (3, 4))


def many_ops(m, x, w):
    """A function through most elementwise nodes: arithmetic with broadcasting and scalars, unary
    functions, relu, clamp, maximum, where, and an in-place write through a view."""
    y = (x / w + 2 / x.abs() - 0.5**w) * x.abs().pow(w.abs()) + (x.abs() + 1) ** 2.5
    y = y.sigmoid() * x.relu() + x.clamp(-0.5, 0.5) * m.maximum(x, w) + m.where(x > w, x.exp(), w.abs().sqrt())
    z = y.clone()
    z[:, :2].mul_(w[:2].cos())
    return z


def test_many_ops_together():
    check(many_ops, (3, 4), (4,))


def test_on_the_cuda_stand_in_as_on_the_cpu(fake_cuda):
    rng = np.random.default_rng(2)
    x, w, up, v = rng.uniform(0.3, 1.5, (3, 4)), rng.uniform(0.3, 1.5, 4), rng.standard_normal((3, 4)), \
        rng.standard_normal((3, 4))
    results = []
    for dev in ("cpu", "cuda"):
        xs = [engine.tensor(a, device=dev, requires_grad=True) for a in (x, w)]
        gx, gw = engine.autograd.grad(many_ops(engine, *xs), xs, engine.tensor(up, device=dev), create_graph=True)
        seconds = engine.autograd.grad((gx * engine.tensor(v, device=dev)).sum() + gw.sum(), xs)
        assert all(s.device.type == dev for s in seconds)
        results.append([s.detach().cpu().numpy() for s in (gx, gw, *seconds)])
    for ours, cpu in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, cpu, rtol=1e-12)
