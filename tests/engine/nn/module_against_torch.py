"""One check for a module against PyTorch's (a helper for test_attention.py and test_transformer.py, not a test file):
same state-dict keys and shapes, same ``repr``, and with the same weights the same outputs and gradients."""

import numpy as np
import torch

import engine


def same_module(make, check_repr=True):
    """``make(engine)`` and ``make(torch)``, checked alike in keys, shapes and repr, ours given torch's weights."""
    tmod, emod = make(torch), make(engine)
    tsd, esd = tmod.state_dict(), emod.state_dict()
    assert list(esd) == list(tsd)
    assert [tuple(v.shape) for v in esd.values()] == [tuple(v.shape) for v in tsd.values()]
    emod.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})
    if check_repr:
        assert repr(emod) == repr(tmod)
    return emod, tmod


def check_module(make, arrays, call=lambda m, mod, *xs: mod(*xs), training=True, rtol=2e-4, atol=2e-5,
                 check_repr=True):
    """Run ``call(m, module, *inputs)`` in both frameworks (``arrays`` become inputs that require grad; a tuple
    result is (output, attention weights or None)) and compare the outputs and the gradients of a fixed weighted
    sum of them with respect to the inputs and every parameter."""
    emod, tmod = same_module(make, check_repr)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        mod.train(training)
        xs = [m.tensor(a, requires_grad=True) for a in arrays]
        out = call(m, mod, *xs)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
        loss = sum((o * m.tensor(np.cos(np.arange(o.numel()) * 0.7).reshape(tuple(o.shape)).astype(np.float32))).sum()
                   for o in outs)
        loss.backward()
        results.append([o.detach().numpy() for o in outs] + [x.grad.numpy() for x in xs]
                       + [p.grad.numpy() for _, p in mod.named_parameters()])
    names = [f"output {i}" for i in range(len(results[1]) - len(arrays) - len(list(tmod.parameters())))]
    names += [f"input {i} grad" for i in range(len(arrays))] + [n + " grad" for n, _ in tmod.named_parameters()]
    assert len(results[0]) == len(results[1]) == len(names)
    for ours, theirs, name in zip(*results, names, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=name)
    return emod, tmod
