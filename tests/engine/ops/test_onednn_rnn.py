"""LSTM and GRU layers on oneDNN's RNN primitives (engine/ops/onednn_rnn.py through rnn.py's ``onednn``
implementations) against PyTorch: outputs, final states and every gradient over directions, layers, bias,
batch_first and given states; which calls take them; inference under ``no_grad``; outputs saved for backward;
second derivatives."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops import onednn, onednn_rnn, rnn
from engine.ops.rnn import GRULayer, LSTMLayer

pytestmark = pytest.mark.skipif(not onednn.available(), reason="oneDNN (onednn-cpu-gomp) is not installed here")
CELLS = ["LSTM", "GRU"]


@pytest.fixture
def every_size(monkeypatch):
    """Small layers take oneDNN too (they fall under its size threshold otherwise)."""
    monkeypatch.setattr(rnn, "ONEDNN_MIN_MACS", 0)


@pytest.fixture
def made(monkeypatch):
    """The ``training`` flag of every oneDNN layer that ran forward."""
    ran = []
    real = onednn_rnn.Recurrent.forward

    def spy(layer, *arrays):
        ran.append(layer.training)
        return real(layer, *arrays)

    monkeypatch.setattr(onednn_rnn.Recurrent, "forward", spy)
    return ran


def _pair(cell, input_size, hidden, **kw):
    tmod = getattr(torch.nn, cell)(input_size, hidden, **kw)
    emod = getattr(engine.nn, cell)(input_size, hidden, **kw)
    emod.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in tmod.state_dict().items()})
    return emod, tmod


def _run(m, mod, x, states, grads_of):
    """Outputs of ``mod`` and the gradients of a weighted sum of those named in ``grads_of`` (o: the output, h and
    c: the final states) for the input, the initial states and every parameter."""
    xs = [m.tensor(a, requires_grad=True) for a in (x, *states)]
    lstm = isinstance(mod, (torch.nn.LSTM, engine.nn.LSTM))
    hx = None if not states else tuple(xs[1:]) if lstm else xs[1]
    out, finals = mod(xs[0], hx)
    finals = finals if lstm else (finals,)
    picked = dict(zip("ohc", (out, *finals)))
    loss = sum((picked[k] * m.tensor(np.cos(np.arange(picked[k].numel()) + i).reshape(tuple(picked[k].shape))
                                     .astype(np.float32))).sum() for i, k in enumerate(grads_of) if k in picked)
    loss.backward()
    return ([t.detach().numpy() for t in (out, *finals)] + [t.grad.numpy() for t in xs]
            + [p.grad.numpy() for p in mod.parameters()])


def _assert_close(ours, theirs, rtol=1e-5, atol=1e-5):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"result {i}")


def _states(cell, layers, batch, hidden, rng):
    return [rng.standard_normal((layers, batch, hidden), dtype=np.float32) for _ in range(2 if cell == "LSTM" else 1)]


CASES = [  # (steps, batch, input, hidden, module options, initial states given)
    (5, 3, 4, 6, {}, False),
    (4, 2, 3, 5, {"num_layers": 2, "bidirectional": True}, True),
    (6, 4, 5, 3, {"bias": False, "batch_first": True}, True),
    (1, 7, 8, 4, {"bidirectional": True, "batch_first": True}, False),
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("case", CASES, ids=[f"T{c[0]}-N{c[1]}-{c[4]}-states{c[5]}" for c in CASES])
def test_matches_pytorch(cell, case, every_size, made):
    steps, batch, input_size, hidden, kw, given = case
    rng = np.random.default_rng(0)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    shape = (batch, steps, input_size) if kw.get("batch_first") else (steps, batch, input_size)
    x = rng.standard_normal(shape, dtype=np.float32)
    states = _states(cell, layers, batch, hidden, rng) if given else []
    emod, tmod = _pair(cell, input_size, hidden, **kw)
    ours = _run(engine, emod, x, states, "ohc")
    assert len(made) == layers and all(made)  # every layer and direction ran oneDNN's training primitives
    _assert_close(ours, _run(torch, tmod, x, states, "ohc"))


@pytest.mark.parametrize("cell, grads_of", [("LSTM", "h"), ("LSTM", "c"), ("LSTM", "o"), ("GRU", "h"), ("GRU", "o")])
def test_gradients_from_one_output(cell, grads_of, every_size, made):
    """Backward with no gradient for the other outputs (they count as zeros)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 5), dtype=np.float32)
    emod, tmod = _pair(cell, 5, 6)
    _assert_close(_run(engine, emod, x, [], grads_of), _run(torch, tmod, x, [], grads_of))
    assert made == [True]


@pytest.mark.parametrize("cell", CELLS)
def test_packed_sequences_of_one_length(cell, every_size, made):
    """A packed batch whose sequences all have one length is a padded one: oneDNN takes it."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 3, 5), dtype=np.float32)
    emod, tmod = _pair(cell, 5, 6, bidirectional=True)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        xt = m.tensor(x, requires_grad=True)
        packed = m.nn.utils.rnn.pack_padded_sequence(xt, [4, 4, 4])
        out, _ = mod(packed)
        (out.data * out.data).sum().backward()
        results.append([out.data.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in mod.parameters()])
    assert made == [True, True]
    _assert_close(*results)


@pytest.mark.parametrize("cell", CELLS)
def test_large_layers_for_inference(cell, made):
    """oneDNN packs the weights of large inference layers into a layout it cannot unpack: the layer still runs
    there (only the weights' way in is made)."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 8, 512), dtype=np.float32)  # (GRU's weights are packed at this size)
    emod, tmod = _pair(cell, 512, 512)
    with engine.no_grad():
        ours = emod(engine.tensor(x))
    with torch.no_grad():
        theirs = tmod(torch.tensor(x))
    assert made == [False]
    _assert_close([ours[0].numpy()], [theirs[0].numpy()], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_a_full_size_layer_takes_it_and_agrees_with_the_step_loop(cell, made):
    """Above the size threshold without help: oneDNN and the engine's step loop give the same results."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 8, 32), dtype=np.float32)
    emod, tmod = _pair(cell, 32, 64, batch_first=True)
    ours = _run(engine, emod, x, [], "ohc")
    assert made == [True]
    emod.zero_grad(set_to_none=True)
    with backend.disable("onednn"):
        steps = _run(engine, emod, x, [], "ohc")
    assert made == [True]
    _assert_close(ours, steps, rtol=1e-4, atol=1e-5)
    _assert_close(ours, _run(torch, tmod, x, [], "ohc"))


def _layer_call(op, x, hidden, dtype=np.float32, batch_sizes=None, proj=0):
    """``op`` (``LSTMLayer`` or ``GRULayer``) on rows ``x`` (time-major, ``batch_sizes`` per step) with fresh
    weights; returns its node."""
    rng = np.random.default_rng(3)
    batch, gates = batch_sizes[0], op.chunks
    states = [rng.standard_normal((batch, proj or hidden)).astype(dtype)]
    if op is LSTMLayer:
        states.append(rng.standard_normal((batch, hidden)).astype(dtype))
    weights = [rng.standard_normal(s).astype(dtype) * 0.2 for s in ((gates * hidden, x.shape[1]),
                                                                   (gates * hidden, proj or hidden),
                                                                   (gates * hidden,), (gates * hidden,),
                                                                   *([(proj, hidden)] if proj else []))]
    tensors = [engine.tensor(a, requires_grad=True) for a in (x.astype(dtype), *states, *weights)]
    out = op.apply(*tensors, batch_sizes=tuple(batch_sizes), has_proj=bool(proj))
    return out[0].grad_fn


@pytest.mark.parametrize("op", [LSTMLayer, GRULayer], ids=CELLS)
def test_which_calls_take_it(op):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16 * 8, 32), dtype=np.float32)
    loop = "compiled" if op is LSTMLayer else "generic"
    assert _layer_call(op, x, 64, batch_sizes=[8] * 16)._impl.name == "onednn"
    assert _layer_call(op, x, 64, dtype=np.float64, batch_sizes=[8] * 16)._impl.name == "generic"
    uneven = [10] * 8 + [6] * 8
    assert _layer_call(op, x[:sum(uneven)], 64, batch_sizes=uneven)._impl.name == loop  # packed, uneven lengths
    assert _layer_call(op, x[:8], 64, batch_sizes=[8])._impl.name == loop  # under the size threshold
    with engine.backends.mkldnn.flags(enabled=False):
        assert _layer_call(op, x, 64, batch_sizes=[8] * 16)._impl.name == loop
    if op is LSTMLayer:
        assert _layer_call(op, x, 64, batch_sizes=[8] * 16, proj=16)._impl.name == loop  # a projection


@pytest.mark.parametrize("cell", CELLS)
def test_no_grad_runs_the_inference_primitive(cell, made):
    rng = np.random.default_rng(5)
    x = engine.tensor(rng.standard_normal((12, 16, 24), dtype=np.float32))
    mod = getattr(engine.nn, cell)(24, 96)
    out, finals = mod(x)
    with engine.no_grad():
        out2, finals2 = mod(x)
    assert made == [True, False]
    np.testing.assert_array_equal(out.detach().numpy(), out2.numpy())
    for a, b in zip(finals if cell == "LSTM" else (finals,), finals2 if cell == "LSTM" else (finals2,),
                    strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.numpy())


def _written_in_place(m, module, x):
    """Gradients of the input and parameters after the output (a cell's first state) is written in place before
    backward, or the error that backward raised."""
    xt = m.tensor(x, requires_grad=True)
    out = module(xt)
    out = out[0] if isinstance(out, tuple) else out
    loss = out.sum()
    with m.no_grad():
        out.mul_(2)
    try:
        loss.backward()
    except RuntimeError as e:
        return str(e)
    return [xt.grad.numpy()] + [p.grad.numpy() for p in module.parameters()]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "LSTMCell", "GRUCell"])
def test_outputs_written_before_backward_as_pytorch(kind, every_size, made):
    """oneDNN's backward reads the outputs. PyTorch's LSTM layers save theirs, so an in-place write to one is an
    error, not a wrong gradient; its GRU and cells save none, and writing into their outputs is allowed."""
    x = np.random.default_rng(7).standard_normal((3, 2, 5) if "Cell" not in kind else (2, 5), dtype=np.float32)
    emod, tmod = _pair(kind, 5, 4)
    ours, theirs = _written_in_place(engine, emod, x), _written_in_place(torch, tmod, x)
    assert made == [True]
    if kind == "LSTM":
        assert "modified by an inplace operation" in ours and "modified by an inplace operation" in theirs
    else:
        _assert_close(ours, theirs)


@pytest.mark.parametrize("cell", CELLS)
def test_backward_frees_the_workspace(cell, every_size):
    x = engine.tensor(np.ones((3, 2, 4), np.float32), requires_grad=True)
    out, _ = getattr(engine.nn, cell)(4, 5)(x)
    node = out.grad_fn.next_functions[0][0]
    assert node._impl.name == "onednn" and node.kept is not None
    out.sum().backward()
    assert node.kept is None


@pytest.mark.parametrize("cell", CELLS)
def test_second_derivatives(cell, every_size):
    """A gradient taken with ``create_graph`` and differentiated again (the layer recomputed per step)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 4), dtype=np.float32)
    emod, tmod = _pair(cell, 4, 5)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        xt = m.tensor(x, requires_grad=True)
        out, finals = mod(xt)
        last = finals[-1] if cell == "LSTM" else finals
        (g,) = m.autograd.grad((out * out).sum() + (last * last * last).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        results.append([g.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in mod.parameters()])
    _assert_close(*results, rtol=1e-4, atol=1e-5)
