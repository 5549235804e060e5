"""The in-place scatter, index and mask ops as autograd sees them (the op table compares their values and
gradients with PyTorch): version counters, leaves, saved tensors, views; and the casts and strides that the
table's random inputs do not reach."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

_INPLACE = [
    ("scatter_", lambda m, x, s: x.scatter_(1, m.tensor([[0, 2], [1, 0]]), s[:, :2])),
    ("scatter_ value", lambda m, x, s: x.scatter_(1, m.tensor([[0, 2], [1, 0]]), 2.5)),
    ("scatter_add_", lambda m, x, s: x.scatter_add_(1, m.tensor([[0, 0], [1, 1]]), s[:, :2])),
    ("scatter_reduce_", lambda m, x, s: x.scatter_reduce_(1, m.tensor([[0, 0], [1, 1]]), s[:, :2], "amax")),
    ("index_add_", lambda m, x, s: x.index_add_(0, m.tensor([1, 1]), s)),
    ("index_copy_", lambda m, x, s: x.index_copy_(0, m.tensor([1, 0]), s)),
    ("index_fill_", lambda m, x, s: x.index_fill_(1, m.tensor([2]), s[0, 0])),
    ("masked_fill_", lambda m, x, s: x.masked_fill_(m.tensor([True, False, True]), s[1, 1])),
    ("masked_scatter_", lambda m, x, s: x.masked_scatter_(m.tensor([[True, False, True]]), s)),
]


def _pair(values):
    return engine.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


@pytest.mark.parametrize("name, op", _INPLACE, ids=[n for n, _ in _INPLACE])
def test_inplace_on_a_view_bumps_the_version_and_matches_torch(name, op):
    rng = np.random.default_rng(0)
    base, src = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3))
    results = []
    for m in (engine, torch):
        b = m.tensor(base, requires_grad=True)
        s = m.tensor(src, requires_grad=True)
        y = b * 1
        view = y[1]
        before = view._version
        assert op(m, view, s) is view
        assert view._version > before and y._version == view._version
        (y * y).sum().backward()
        results.append((y.detach().numpy(), b.grad.numpy(), None if s.grad is None else s.grad.numpy()))
    for e, t in zip(*results):
        if t is None:
            assert e is None
        else:
            np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, op", _INPLACE, ids=[n for n, _ in _INPLACE])
def test_inplace_on_a_leaf_that_requires_grad_is_refused(name, op):
    x, _ = _pair(np.ones((2, 3)))
    s = engine.ones(2, 3)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        op(engine, x, s)


def test_saved_extremes_survive_a_later_inplace_change():
    grads = []
    for m in (engine, torch):
        x = m.tensor([[1.0, 5.0, 2.0]], requires_grad=True)
        y = x.scatter_reduce(1, m.tensor([[0, 0, 2]]), x * 2, "amax", include_self=False)
        z = y * 1
        z.mul_(3)
        z.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(*grads)


def test_non_contiguous_inputs():
    x = np.arange(12.0).reshape(3, 4)
    for m in (engine, torch):
        t = m.tensor(x).t()
        g = t.gather(0, m.tensor([[3, 0, 1], [0, 0, 2]]))
        a = t.index_add(1, m.tensor([2, 2]), m.tensor(x[:2].T.copy()).flip(0))
        k = t.masked_select(m.tensor(x.T % 3 == 0))
        if m is engine:
            got = (g.numpy(), a.numpy(), k.numpy())
        else:
            np.testing.assert_array_equal(got[0], g.numpy())
            np.testing.assert_array_equal(got[1], a.numpy())
            np.testing.assert_array_equal(got[2], k.numpy())


@pytest.mark.parametrize("call", [
    lambda m, x: x.masked_fill(m.tensor([True, False, True, False]), 2.7),
    lambda m, x: x.index_fill(0, m.tensor([1]), -2.7),
    lambda m, x: x.scatter(0, m.tensor([3]), 2.7),
    lambda m, x: x.scatter_reduce(0, m.tensor([1, 1, 3]), m.tensor([2, 5, -3]), "mean"),
    lambda m, x: x.scatter_reduce(0, m.tensor([0, 0]), m.tensor([4, 5]), "mean", include_self=False),
], ids=["masked_fill", "index_fill", "scatter", "mean", "mean without self"])
def test_integer_tensors_truncate_and_floor_as_torch(call):
    e, t = call(engine, engine.arange(4)), call(torch, torch.arange(4))
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_where_with_one_argument_and_nonzero_on_bool():
    x = np.array([[True, False], [False, True]])
    e = engine.where(engine.tensor(x))
    t = torch.where(torch.tensor(x))
    assert len(e) == len(t) == 2
    for a, b in zip(e, t):
        assert str(a.dtype).endswith("int64")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
