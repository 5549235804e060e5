"""``engine.utils.checkpoint`` (``torch.utils.checkpoint``): gradients equal to the un-checkpointed model's
(dropout included) and to PyTorch's, intermediate values not kept, PyTorch's warnings and errors."""

import gc
import warnings
import weakref

import numpy as np
import pytest

import engine
from engine.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)
VARIANTS = [True, False]


def build(mod, dropout):
    layers = [mod.nn.Linear(4, 8), mod.nn.Tanh()]
    if dropout:
        layers.append(mod.nn.Dropout(0.5))
    layers += [mod.nn.Linear(8, 8), mod.nn.Sigmoid(), mod.nn.Linear(8, 3)]
    return mod.nn.Sequential(*layers).double()


def twin_models(dropout=False):
    theirs = build(torch, dropout)
    ours = build(engine, dropout)
    ours.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def gradients(mod, model, x, run):
    """Output and every gradient (input first) of ``sum(run(model, x)**2)``."""
    model.zero_grad()
    xt = mod.tensor(x, requires_grad=True)
    mod.manual_seed(5)
    y = run(model, xt)
    (y * y).sum().backward()
    return [y.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


def assert_all_close(a, b, atol=1e-12):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, atol=atol, rtol=1e-9)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_matches_plain_model_with_dropout(use_reentrant):
    """The recomputation replays the random state: the same dropout masks, the same gradients."""
    ours, _ = twin_models(dropout=True)
    x = RNG.standard_normal((5, 4))
    plain = gradients(engine, ours, x, lambda m, t: m(t))
    checked = gradients(engine, ours, x, lambda m, t: checkpoint(m, t, use_reentrant=use_reentrant))
    assert_all_close(plain, checked)
    seq = gradients(engine, ours, x, lambda m, t: checkpoint_sequential(m, 3, t, use_reentrant=use_reentrant))
    assert_all_close(plain, seq)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_matches_torch(use_reentrant):
    ours, theirs = twin_models()
    x = RNG.standard_normal((5, 4))

    def run(mod):
        return lambda m, t: mod.utils.checkpoint.checkpoint(
            lambda a, scale: m(a) * scale, t, 2.0, use_reentrant=use_reentrant)

    assert_all_close(gradients(engine, ours, x, run(engine)), gradients(torch, theirs, x, run(torch)))


def test_non_reentrant_autograd_grad_kwargs_and_double_backward():
    x, w = RNG.standard_normal(4), RNG.standard_normal(4)
    res = []
    for mod in (engine, torch):
        xt, wt = mod.tensor(x, requires_grad=True), mod.tensor(w, requires_grad=True)
        y = mod.utils.checkpoint.checkpoint(lambda a, k=None: (a.sin() * k).exp().sum(), xt, k=wt,
                                            use_reentrant=False)
        gx, gw = mod.autograd.grad(y, (xt, wt), create_graph=True)
        hx, hw = mod.autograd.grad((gx * gx).sum() + gw.sum(), (xt, wt))
        res.append([t.detach().numpy() for t in (y, gx, gw, hx, hw)])
    assert_all_close(*res, atol=1e-10)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_inputs_without_grad(use_reentrant):
    """Reentrant: the output needs an input that requires grad (else torch's warning and no graph);
    non-reentrant: the parameters the function used still get their gradients."""
    x = RNG.standard_normal((2, 4))
    for mod, model in zip((engine, torch), twin_models()):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = mod.utils.checkpoint.checkpoint(model, mod.tensor(x), use_reentrant=use_reentrant)
        assert y.requires_grad is not use_reentrant
        assert any("None of the inputs have requires_grad=True" in str(w.message) for w in caught) is use_reentrant
    if not use_reentrant:
        ours, theirs = twin_models()
        run = lambda mod: lambda m, t: mod.utils.checkpoint.checkpoint(m, t.detach(), use_reentrant=False)  # noqa: E731
        a = gradients(engine, ours, x, lambda m, t: run(engine)(m, t) + 0 * t.sum())
        b = gradients(torch, theirs, x, lambda m, t: run(torch)(m, t) + 0 * t.sum())
        assert_all_close(a, b)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_intermediates_are_not_kept(use_reentrant):
    """Only the inputs are kept: an intermediate array is freed after forward (it is kept without
    checkpointing), and the graph holds one node in place of the function's."""
    made = []

    def fn(a):
        b = a.exp()
        made.append(weakref.ref(b._data))
        return b.sin().cos()

    x = engine.randn(1000, requires_grad=True)
    y = checkpoint(fn, x, use_reentrant=use_reentrant)
    gc.collect()
    assert made[-1]() is None
    assert [e[0] for e in y.grad_fn._edges] == [x]
    y.sum().backward()
    e = np.exp(x.detach().numpy())
    expected = -np.sin(np.sin(e)) * np.cos(e) * e
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
    plain = fn(x)
    gc.collect()
    assert made[-1]() is not None
    assert plain.grad_fn is not None


def test_hooks_and_in_place_changes():
    """A parameter's hook runs once per backward; an input changed in place before backward is refused."""
    model, _ = twin_models()
    calls = []
    model[0].weight.register_hook(lambda g: calls.append(1))
    checkpoint(model, engine.randn(2, 4, dtype=engine.float64), use_reentrant=False).sum().backward()
    assert calls == [1]
    for mod in (engine, torch):
        a = mod.ones(3, requires_grad=True) * 1
        y = mod.utils.checkpoint.checkpoint(lambda t: t.sin(), a, use_reentrant=False)
        with mod.no_grad():
            a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_context_fn_wraps_forward_and_recomputation():
    seen = []

    class Mark:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            seen.append(self.name)

        def __exit__(self, *exc):
            return False

    x = engine.randn(3, requires_grad=True)
    y = checkpoint(lambda t: t.exp(), x, use_reentrant=False, context_fn=lambda: (Mark("fwd"), Mark("re")))
    y.sum().backward()
    assert seen == ["fwd", "re"]


ERRORS = {
    "reentrant_kwargs": lambda m: m.utils.checkpoint.checkpoint(lambda a, k: a, m.ones(1), k=1, use_reentrant=True),
    "reentrant_context_fn": lambda m: m.utils.checkpoint.checkpoint(
        lambda a: a, m.ones(1), use_reentrant=True, context_fn=lambda: (None, None)),
    "determinism_check": lambda m: m.utils.checkpoint.checkpoint(lambda a: a, m.ones(1, requires_grad=True),
                                                                 use_reentrant=False, determinism_check="full"),
    "sequential_kwargs": lambda m: m.utils.checkpoint.checkpoint_sequential([lambda a: a], 1, m.ones(1),
                                                                            use_reentrant=True, extra=1),
    "nothing_requires_grad": lambda m: m.utils.checkpoint.checkpoint(
        lambda a: a.detach(), m.ones(1, requires_grad=True), use_reentrant=True).sum().backward(),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    got = []
    for mod in (engine, torch):
        with pytest.raises(Exception) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ERRORS[name](mod)
        got.append((type(info.value), str(info.value)))
    assert got[0] == got[1]


def test_use_reentrant_left_out_warns_and_defaults_to_reentrant():
    for mod in (engine, torch):
        x = mod.ones(2, requires_grad=True)
        cp = mod.utils.checkpoint
        for call, prefix in ((cp.checkpoint, "torch.utils.checkpoint:"),
                             (cp.checkpoint_sequential, "torch.utils.checkpoint.checkpoint_sequential:")):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if call is cp.checkpoint:
                    call(lambda a: a * 2, x)
                else:
                    call([lambda a: a * 2], 1, x)
            assert [str(w.message).split(" the use_reentrant")[0] for w in caught
                    if "use_reentrant" in str(w.message)] == [prefix]
        y = mod.utils.checkpoint.checkpoint(lambda a: a * 2, x, use_reentrant=True)
        assert y.grad_fn.name() == "CheckpointFunctionBackward"


def test_non_leaf_read_from_outside():
    """A non-leaf tensor the function reads from a closure: its leaves get the right gradients."""
    res = []
    for mod in (engine, torch):
        p = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
        x = mod.tensor([3.0, 4.0], dtype=mod.float64, requires_grad=True)
        z = p * 2
        out = mod.utils.checkpoint.checkpoint(lambda a, z=z: (a * z).exp(), x, use_reentrant=False)
        (out.sum() + (z * z).sum()).backward()
        res.append([p.grad.numpy(), x.grad.numpy()])
    assert_all_close(*res, atol=1e-9)
