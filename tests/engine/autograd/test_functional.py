"""``engine.autograd.functional`` against ``torch.autograd.functional``: values, return structures,
``create_graph`` results that differentiate again, and the strict-mode and argument errors."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _both(arrays):
    return (tuple(engine.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays))


def assert_same(ours, theirs, atol=1e-10):
    """Equal nested structure, shapes, values and ``requires_grad``."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, atol)
        return
    assert isinstance(ours, engine.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=1e-8)


def one_output(m, x):
    return (x.exp() * x.sin()).sum(dim=1)


def two_in_two_out(m, x, y):
    return x * y.tanh() + x.cos(), (x * y).sum()


def scalar_one(m, x):
    return (x.sin() * x.exp()).sum()


def scalar_two(m, x, y):
    return (x * y.tanh()).sum() + (x * x * y).mean()


def scalar_matmul(m, x, w):
    return (x @ w).tanh().sum()


CASES = [  # (function, input shapes, the inputs as a tuple)
    (one_output, [(2, 3)], False),
    (two_in_two_out, [(3,), (3,)], True),
    (scalar_one, [(2, 2)], False),
    (scalar_two, [(3,), (3,)], True),
    (scalar_matmul, [(2, 3), (3, 2)], True),
]
SCALAR = [c for c in CASES if c[0].__name__.startswith("scalar")]


def _call(api, case, create_graph=False, **kw):
    """``api`` of both libraries on the same inputs (and a random ``v`` where it takes one)."""
    fn, shapes, as_tuple = case
    arrays = [RNG.standard_normal(s) for s in shapes]
    ours_in, theirs_in = _both(arrays)
    out = []
    for mod, inputs in ((engine, ours_in), (torch, theirs_in)):
        f = getattr(mod.autograd.functional, api)
        func = lambda *a, mod=mod: fn(mod, *a)  # noqa: E731
        args = inputs if as_tuple else inputs[0]
        if api in ("jvp", "hvp", "vhp"):
            v = tuple(mod.tensor(a) for a in _v_arrays(shapes))
            out.append(f(func, args, v if as_tuple else v[0], create_graph=create_graph, **kw))
        elif api == "vjp":
            outs = fn(engine, *ours_in)
            outs = outs if isinstance(outs, tuple) else (outs,)
            v = tuple(mod.tensor(a) for a in _v_arrays([tuple(o.shape) for o in outs]))
            out.append(f(func, args, v if len(v) > 1 else v[0], create_graph=create_graph, **kw))
        else:
            out.append(f(func, args, create_graph=create_graph, **kw))
    return out


def _v_arrays(shapes):
    rng = np.random.default_rng(len(shapes))
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("api", ["vjp", "jvp", "jacobian"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].__name__)
def test_first_order_matches_torch(api, case):
    ours, theirs = _call(api, case)
    assert_same(ours, theirs)


@pytest.mark.parametrize("api", ["hessian", "hvp", "vhp"])
@pytest.mark.parametrize("case", SCALAR, ids=lambda c: c[0].__name__)
def test_second_order_matches_torch(api, case):
    ours, theirs = _call(api, case)
    assert_same(ours, theirs)


@pytest.mark.parametrize("api", ["vjp", "jvp", "jacobian", "hessian", "hvp"])
def test_create_graph_results_differentiate_again(api):
    """With create_graph the results carry a graph to the inputs: their sum's gradient matches torch's."""
    case = SCALAR[-1] if api in ("hessian", "hvp") else CASES[1]
    fn, shapes, _ = case
    arrays = [RNG.standard_normal(s) for s in shapes]
    grads = []
    for mod in (engine, torch):
        inputs = tuple(mod.tensor(a, requires_grad=True) for a in arrays)
        f = getattr(mod.autograd.functional, api)
        func = lambda *a, mod=mod: fn(mod, *a)  # noqa: E731
        if api in ("jvp", "hvp"):
            res = f(func, inputs, tuple(mod.ones_like(t) for t in inputs), create_graph=True)[1]
        elif api == "vjp":
            res = f(func, inputs, (mod.ones(3, dtype=mod.float64), mod.tensor(1.0, dtype=mod.float64)),
                    create_graph=True)[1]
        else:
            res = f(func, inputs, create_graph=True)
        flat = [r for row in res for r in (row if isinstance(row, tuple) else (row,))]
        assert all(r.requires_grad for r in flat)
        total = sum((r * r).sum() for r in flat)
        grads.append(mod.autograd.grad(total, inputs, allow_unused=True, materialize_grads=True))
    assert_same(*grads)


def test_jacobian_structures_and_vectorize():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    for inputs_tuple in (True, False):
        res = []
        for mod in (engine, torch):
            a, b = mod.tensor(x), mod.tensor(y)
            if inputs_tuple:
                res.append(mod.autograd.functional.jacobian(lambda p, q: (p * q, p.sin()), (a, b), vectorize=True))
            else:
                res.append(mod.autograd.functional.jacobian(lambda p, b=b: (p * b, p.sin()), a))
        assert_same(*res)


def test_forward_mode_jacobian():
    """Forward mode needs vectorize=True (as in PyTorch); then it is computed by jvps and equals torch's."""
    x = RNG.standard_normal((2, 3))
    res = []
    for mod in (engine, torch):
        func = lambda t, mod=mod: (t.exp() * t).sum(0)  # noqa: E731
        res.append(mod.autograd.functional.jacobian(func, mod.tensor(x), strategy="forward-mode", vectorize=True))
        with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
            mod.autograd.functional.jacobian(func, mod.tensor(x), strategy="forward-mode")
        with pytest.raises(NotImplementedError, match="`create_graph=True` and `strategy=\"forward-mode\"`"):
            mod.autograd.functional.jacobian(func, mod.tensor(x), create_graph=True, strategy="forward-mode")
    assert_same(*res)


def _messages(call):
    """The (type, message) each library raises for ``call(mod)``."""
    out = []
    for mod in (engine, torch):
        with pytest.raises(Exception) as info:
            call(mod)
        out.append((type(info.value), str(info.value)))
    return out


ERRORS = {
    "vjp_strict_independent": lambda m: m.autograd.functional.vjp(
        lambda a, b: a * 2, (m.ones(2), m.ones(2)), m.ones(2), strict=True),
    "vjp_strict_no_grad": lambda m: m.autograd.functional.vjp(lambda a: a.detach(), m.ones(2), m.ones(2),
                                                              strict=True),
    "vjp_v_missing": lambda m: m.autograd.functional.vjp(lambda a: a * 2, m.ones(2)),
    "vjp_v_size": lambda m: m.autograd.functional.vjp(lambda a: a * 2, m.ones(2), m.ones(3)),
    "vjp_v_length": lambda m: m.autograd.functional.vjp(lambda a: (a, a), m.ones(2), (m.ones(2),)),
    "jvp_not_tensor": lambda m: m.autograd.functional.jvp(lambda a: a, (m.ones(2), 3.0), (m.ones(2), m.ones(2))),
    "jvp_strict": lambda m: m.autograd.functional.jvp(lambda a, b: a.sum() + 0 * b.sum().detach(),
                                                      (m.ones(2), m.ones(2)), (m.ones(2), m.ones(2)), strict=True),
    "jacobian_strict": lambda m: m.autograd.functional.jacobian(lambda a, b: a * 2, (m.ones(2), m.ones(2)),
                                                                strict=True),
    "jacobian_strategy": lambda m: m.autograd.functional.jacobian(lambda a: a, m.ones(2), strategy="sideways"),
    "jacobian_strict_vectorize": lambda m: m.autograd.functional.jacobian(lambda a: a * 2, m.ones(2), strict=True,
                                                                          vectorize=True),
    "hessian_not_scalar": lambda m: m.autograd.functional.hessian(lambda a: a * a, m.ones(2)),
    "hessian_strict_linear": lambda m: m.autograd.functional.hessian(lambda a: a.sum() * 2, m.ones(2), strict=True),
    "vhp_tuple_output": lambda m: m.autograd.functional.vhp(lambda a: (a.sum(), a.sum()), m.ones(2), m.ones(2)),
    "hvp_strict_linear": lambda m: m.autograd.functional.hvp(lambda a: a.sum() * 2, m.ones(2), m.ones(2),
                                                             strict=True),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    ours, theirs = _messages(ERRORS[name])
    assert ours == theirs


def test_zeros_for_unused_inputs_and_grad_mode():
    """Without strict an unused input gets zeros; results are detached and the caller's no_grad holds."""
    for mod in (engine, torch):
        a, b = mod.ones(2, requires_grad=True), mod.ones(2, requires_grad=True)
        out, (ga, gb) = mod.autograd.functional.vjp(lambda p, q: p * 3, (a, b), mod.ones(2))
        assert gb.tolist() == [0.0, 0.0] and ga.tolist() == [3.0, 3.0]
        assert not out.requires_grad and not ga.requires_grad
        with mod.no_grad():
            h = mod.autograd.functional.hessian(lambda p: (p**3).sum(), mod.tensor([1.0, 2.0]))
        assert h.tolist() == [[6.0, 0.0], [0.0, 12.0]]


def test_create_graph_stops_at_the_inputs():
    """With create_graph the inputs stay joined to their graph, but the call's own backward passes do not run on
    into it (a hook there sees nothing until the results are differentiated)."""
    got = []
    for mod in (engine, torch):
        x = mod.tensor([0.5, 1.0], dtype=mod.float64, requires_grad=True)
        y = x.exp()
        calls = []
        y.register_hook(lambda g, calls=calls: calls.append(1))
        _, h = mod.autograd.functional.hvp(lambda t: (t.sin() * t).sum(), y, mod.ones(2, dtype=mod.float64),
                                           create_graph=True)
        jac = mod.autograd.functional.jacobian(lambda t: t.sin() * t, y, create_graph=True)
        assert calls == []
        (h.sum() + jac.sum()).backward()
        assert calls == [1]
        got.append(x.grad)
    assert_same(*got)
