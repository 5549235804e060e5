"""``engine.func`` against ``torch.func``: grad and its relatives (nested too), vjp, jacrev, hessian, vmap
(in_dims/out_dims, randomness, errors) and functional_call."""

import warnings

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)


def assert_same(ours, theirs, atol=1e-10):
    """Equal nested structure (tuples, lists, dicts), shapes, values and ``requires_grad``."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, atol)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            assert_same(ours[k], theirs[k], atol)
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, engine.Tensor)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.requires_grad == theirs.requires_grad
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=1e-8)
    else:
        assert ours == theirs


def both(fn, *arrays):
    """``fn(mod, *tensors)`` for engine and torch on the same float64 arrays."""
    return [fn(mod, *(mod.tensor(a) for a in arrays)) for mod in (engine, torch)]


def f_scalar(m, x, y):
    return (x.sin() * y.exp()).sum() + (x * x * y).mean()


def test_grad_argnums_aux_and_value():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    assert_same(*both(lambda m, a, b: m.func.grad(lambda p, q: f_scalar(m, p, q))(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.grad(lambda p, q: f_scalar(m, p, q), argnums=(0, 1))(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.grad(lambda p, q: f_scalar(m, p, q), argnums=-1)(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.grad_and_value(lambda p, q: f_scalar(m, p, q))(a, b), x, y))
    aux = lambda m: lambda p, q: (f_scalar(m, p, q), {"double": p * 2})  # noqa: E731
    assert_same(*both(lambda m, a, b: m.func.grad(aux(m), has_aux=True)(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.grad_and_value(aux(m), has_aux=True)(a, b), x, y))
    # a pytree argument: the gradient has its structure; an unused entry gets zeros
    tree = lambda m: lambda d: (d["a"].exp() * d["b"][0]).sum()  # noqa: E731
    assert_same(*both(lambda m, a, b: m.func.grad(tree(m))({"a": a, "b": (b, b * 0)}), x, y))


def test_nested_grad_and_higher_derivatives():
    x = np.array([0.3, -1.2, 2.0])
    cube = lambda m: lambda t: (t**3).sin().sum()  # noqa: E731
    assert_same(*both(lambda m, a: m.func.grad(lambda t: m.func.grad(cube(m))(t).sum())(a), x))
    assert_same(*both(lambda m, a: m.func.vmap(m.func.grad(m.func.grad(lambda s: s.sin() * s.exp())))(a), x))
    assert_same(*both(lambda m, a: m.func.hessian(cube(m))(a), x))


def test_grad_composes_with_autograd():
    """A closure over a tensor that requires grad: the result keeps a graph to it; under no_grad it does not."""
    x, w = RNG.standard_normal(3), RNG.standard_normal(3)
    for mod in (engine, torch):
        wt = mod.tensor(w, requires_grad=True)
        g = mod.func.grad(lambda t, wt=wt: (t * wt).sin().sum())(mod.tensor(x))
        assert g.requires_grad
        g.sum().backward()
        with mod.no_grad():
            assert not mod.func.grad(lambda t, wt=wt: (t * wt).sin().sum())(mod.tensor(x)).requires_grad
        assert not mod.func.grad(lambda t: t.sin().sum())(mod.tensor(x)).requires_grad
    ours = engine.tensor(w, requires_grad=True)
    engine.func.grad(lambda t: (t * ours).sin().sum())(engine.tensor(x)).sum().backward()
    theirs = torch.tensor(w, requires_grad=True)
    torch.func.grad(lambda t: (t * theirs).sin().sum())(torch.tensor(x)).sum().backward()
    assert_same(ours.grad, theirs.grad)


def test_inner_backward_stops_at_the_call():
    """The transform's own backward does not run on into the graph its input came from (a hook there sees
    nothing); the outer backward through the result then reaches it once."""
    got = []
    for mod in (engine, torch):
        x = mod.tensor([0.5, 1.0], dtype=mod.float64, requires_grad=True)
        y = x.exp()
        calls = []
        y.register_hook(lambda g, calls=calls: calls.append(1))
        g = mod.func.grad(lambda t: (t.sin() * t).sum())(y)
        assert calls == []
        g.sum().backward()
        assert calls == [1]
        got.append(x.grad)
    assert_same(*got)


def test_vjp_jacrev_hessian():
    x, y = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    pair = lambda m: lambda p, q: (p * q.tanh(), (p @ q).exp())  # noqa: E731

    def vjp(m, a, b):
        out, fn = m.func.vjp(pair(m), a, b)
        return out, fn((m.ones_like(out[0]), m.ones_like(out[1]))), fn((out[0], out[1]))

    assert_same(*both(vjp, x, y))
    assert_same(*both(lambda m, a, b: m.func.jacrev(pair(m))(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.jacrev(pair(m), argnums=(0, 1))(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.hessian(lambda p, q: f_scalar(m, p, q), argnums=1)(a[0], b), x, y))
    with_aux = lambda m: lambda p: (p.sin(), p.cos())  # noqa: E731
    assert_same(*both(lambda m, a, b: m.func.jacrev(with_aux(m), has_aux=True)(b), x, y))


def test_jvp_and_jacfwd():
    """Forward mode by the double-backward trick: jvp, jacfwd, forward-over-reverse Hessians and hvp."""
    x, y = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    pair = lambda m: lambda p, q: (p.sin() * q, (p * q).sum())  # noqa: E731
    assert_same(*both(lambda m, a, b: m.func.jvp(pair(m), (a, b), (m.ones_like(a), b)), x, y))
    assert_same(*both(lambda m, a, b: m.func.jvp(lambda p: (p.exp(), {"k": p}), (a,), (a,), has_aux=True), x, y))
    assert_same(*both(lambda m, a, b: m.func.jacfwd(pair(m), argnums=(0, 1))(a, b), x, y))
    assert_same(*both(lambda m, a, b: m.func.jacfwd(m.func.jacrev(lambda p: (p.sin() * p).sum()))(a), x, y))
    hvp = lambda m: lambda p, v: m.func.jvp(m.func.grad(lambda t: (t.sin() * t.exp()).sum()), (p,), (v,))[1]  # noqa: E731
    assert_same(*both(lambda m, a, b: hvp(m)(a, b[0]), x, y))


def test_vmap_dims():
    x, y, z = RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal((3, 4))
    cases = [
        lambda m, a, b, c: m.vmap(lambda p, q: (p * q).sum())(a, b * a),
        lambda m, a, b, c: m.func.vmap(lambda p, q: p * q, in_dims=(0, None))(a, b),
        lambda m, a, b, c: m.func.vmap(lambda p, q: p @ q, in_dims=(0, 1))(a, c),
        lambda m, a, b, c: m.func.vmap(lambda p: (p, p.sum()), out_dims=(1, 0))(a),
        lambda m, a, b, c: m.func.vmap(lambda p: p * 2, in_dims=-1, out_dims=-1)(c),
        lambda m, a, b, c: m.func.vmap(lambda d: d["u"] * d["v"][0], in_dims=({"u": 0, "v": (1,)},))(
            {"u": a, "v": (c,)}),
        lambda m, a, b, c: m.func.vmap(m.func.vmap(lambda s, t: s * t), in_dims=(0, None))(a, b),
        lambda m, a, b, c: m.func.vmap(lambda p, q: p + q, in_dims=(0, None), out_dims=0)(a, 2.0),
        lambda m, a, b, c: m.func.vmap(lambda p, k: p * k)(a, k=3),
        lambda m, a, b, c: m.func.vmap(lambda p: (p.sum(), b), out_dims=(0, None))(a),
        lambda m, a, b, c: m.func.vmap(lambda p: (p * 2, p.sum()), out_dims=(1, 0))(a[:0]),
    ]
    for case in cases:
        assert_same(*both(lambda m, a, b, c, case=case: case(m, a, b, c), x, y, z))


def test_vmap_keeps_the_graph():
    x = RNG.standard_normal((4, 3))
    grads = []
    for mod in (engine, torch):
        t = mod.tensor(x, requires_grad=True)
        mod.func.vmap(lambda r: (r.sin() * r).sum())(t).sum().backward()
        grads.append(t.grad)
    assert_same(*grads)


def test_per_sample_grads_with_functional_call():
    """The functorch tutorial's per-sample gradients: vmap over grad of a functional_call of a model."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = engine.nn.Sequential(engine.nn.Linear(3, 4), engine.nn.Tanh(), engine.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x, target = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    res = []
    for mod, model in ((engine, ours), (torch, theirs)):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xb, tb, mod=mod, model=model):
            out = mod.func.functional_call(model, p, (xb.unsqueeze(0),))
            return ((out - tb.unsqueeze(0)) ** 2).mean()

        res.append(mod.func.vmap(mod.func.grad(loss), in_dims=(None, 0, 0))(params, mod.tensor(x),
                                                                            mod.tensor(target)))
    assert_same(*res)


def test_vmap_randomness():
    x = np.zeros((3, 2))
    for mod in (engine, torch):
        t = mod.tensor(x)
        with pytest.raises(RuntimeError, match="called random operation while in randomness error mode"):
            mod.func.vmap(lambda r, mod=mod: r + mod.rand(2))(t)
        same = mod.func.vmap(lambda r, mod=mod: r + mod.rand(2, dtype=mod.float64), randomness="same")(t)
        assert (same == same[0]).all()
        different = mod.func.vmap(lambda r, mod=mod: r + mod.rand(2, dtype=mod.float64), randomness="different")(t)
        assert not (different == different[0]).all()


VMAP_ERRORS = {
    "sizes": lambda m: m.func.vmap(lambda a, b: a + b)(m.ones(2, 3), m.ones(3, 3)),
    "in_dim_range": lambda m: m.func.vmap(lambda a: a, in_dims=1)(m.ones(2)),
    "in_dims_structure": lambda m: m.func.vmap(lambda a: a, in_dims=(0, 0))(m.ones(2)),
    "in_dims_type": lambda m: m.func.vmap(lambda a: a, in_dims=None)(m.ones(2)),
    "non_tensor_input": lambda m: m.func.vmap(lambda a: a, in_dims=0)(3.0),
    "no_tensor": lambda m: m.func.vmap(lambda a: a, in_dims=None)(m.ones(2)),
    "no_inputs": lambda m: m.func.vmap(lambda: 1)(),
    "non_tensor_output": lambda m: m.func.vmap(lambda a: 1.0)(m.ones(2)),
    "batched_out_dim_none": lambda m: m.func.vmap(lambda a: a, out_dims=None)(m.arange(4.0).reshape(2, 2)),
    "out_dims_structure": lambda m: m.func.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(m.ones(2)),
    "randomness_flag": lambda m: m.func.vmap(lambda a: a, randomness="sometimes"),
    "chunk_size": lambda m: m.func.vmap(lambda a: a, chunk_size=0),
    "grad_not_scalar": lambda m: m.func.grad(lambda a: a)(m.ones(2)),
    "grad_not_tensor": lambda m: m.func.grad(lambda a: 1.0)(m.ones(2)),
    "grad_aux": lambda m: m.func.grad(lambda a: a.sum(), has_aux=True)(m.ones(2)),
    "argnum_range": lambda m: m.func.grad(lambda a: a.sum(), argnums=2)(m.ones(2)),
    "argnums_type": lambda m: m.func.grad(lambda a: a.sum(), argnums=[0])(m.ones(2)),
    "argnums_repeat": lambda m: m.func.grad(lambda a, b: a.sum(), argnums=(0, 0))(m.ones(2), m.ones(2)),
    "grad_non_tensor_arg": lambda m: m.func.grad(lambda a: 1.0)(2.0),
    "vjp_int_output": lambda m: m.func.vjp(lambda a: a.long(), m.ones(2)),
    "jvp_primals_tuple": lambda m: m.func.jvp(lambda a: a, m.ones(2), (m.ones(2),)),
    "jvp_structure": lambda m: m.func.jvp(lambda a, b: a, (m.ones(2), m.ones(2)), (m.ones(2),)),
}


@pytest.mark.parametrize("name", sorted(VMAP_ERRORS))
def test_errors_match_torch(name):
    got = []
    for mod in (engine, torch):
        with pytest.raises(Exception) as info:
            VMAP_ERRORS[name](mod)
        got.append((type(info.value), str(info.value)))
    assert got[0] == got[1]


class TiedModel:
    """A module whose ``weight`` is registered twice (tied), with a buffer."""

    @staticmethod
    def build(mod):
        class Tied(mod.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = mod.nn.Linear(2, 2, bias=False)
                self.b = mod.nn.Linear(2, 2, bias=False)
                self.b.weight = self.a.weight
                self.register_buffer("shift", mod.ones(2))

            def forward(self, x):
                return self.b(self.a(x)) + self.shift

        return Tied()


def test_functional_call():
    x = RNG.standard_normal((3, 2))
    w, w2 = RNG.standard_normal((2, 2)), RNG.standard_normal((2, 2))
    outs = []
    weight = RNG.standard_normal((2, 2))
    for mod in (engine, torch):
        model = TiedModel.build(mod)
        with mod.no_grad():
            model.a.weight.copy_(mod.tensor(weight))
        before = {k: v.clone() for k, v in model.state_dict().items()}
        xt = mod.tensor(x, dtype=mod.float32)
        wt, w2t = mod.tensor(w, dtype=mod.float32), mod.tensor(w2, dtype=mod.float32)
        res = (mod.func.functional_call(model, {"a.weight": wt}, xt),
               mod.func.functional_call(model, {"a.weight": wt}, (xt,), tie_weights=False),
               mod.func.functional_call(model, ({"a.weight": wt}, {"shift": mod.zeros(2)}), args=xt),
               mod.func.functional_call(model, {"a.weight": wt, "b.weight": w2t}, xt, tie_weights=False))
        outs.append(tuple(r.detach() for r in res))
        for k, v in model.state_dict().items():
            assert (v == before[k]).all()
        assert model.a.weight is model.b.weight
    np.testing.assert_allclose(np.stack([o.numpy() for o in outs[0]]), np.stack([o.numpy() for o in outs[1]]),
                               rtol=1e-5, atol=1e-6)


FUNCTIONAL_CALL_ERRORS = {
    "tied_values": lambda m, model: m.func.functional_call(model, {"a.weight": m.ones(2, 2),
                                                                   "b.weight": m.zeros(2, 2)}, m.ones(1, 2)),
    "strict": lambda m, model: m.func.functional_call(model, {"a.weight": m.ones(2, 2), "extra": m.ones(1)},
                                                      m.ones(1, 2), strict=True, tie_weights=False),
    "strict_sorted": lambda m, model: m.func.functional_call(model, {"z": m.ones(1), "b": m.ones(1)}, m.ones(1, 2),
                                                             strict=True),
    "repeated_key": lambda m, model: m.func.functional_call(model, ({"shift": m.ones(2)}, {"shift": m.ones(2)}),
                                                            m.ones(1, 2)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL_CALL_ERRORS))
def test_functional_call_errors_match_torch(name):
    got = []
    for mod in (engine, torch):
        with pytest.raises(Exception) as info:
            FUNCTIONAL_CALL_ERRORS[name](mod, TiedModel.build(mod))
        got.append((type(info.value), str(info.value)))
    assert got[0] == got[1]


def test_stateless_functional_call_is_deprecated():
    for mod in (engine, torch):
        model = mod.nn.Linear(2, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = mod.nn.utils.stateless.functional_call(model, {"weight": mod.zeros(1, 2), "bias": mod.ones(1)},
                                                         mod.ones(3, 2))
        assert out.tolist() == [[1.0]] * 3
        assert any(issubclass(w.category, FutureWarning) and "torch.func.functional_call" in str(w.message)
                   for w in caught)
