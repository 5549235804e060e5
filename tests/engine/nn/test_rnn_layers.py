"""RNN, LSTM and GRU and their cells against PyTorch's: state-dict keys and shapes, ``repr``, and with the same
weights the same outputs, final states and gradients (input, initial states, every parameter), over layers,
directions, projections, batch_first, unbatched and packed input; PyTorch's errors for bad arguments."""

import math
import re

import numpy as np
import pytest

import engine
from engine.nn.utils import rnn as eru

torch = pytest.importorskip("torch")
tru = torch.nn.utils.rnn

DTYPES = {"float32": (np.float32, 2e-4, 2e-5), "float64": (np.float64, 1e-10, 1e-12)}


def _pair(make, dtype="float64"):
    """``make(torch)`` and ``make(engine)`` in ``dtype``, ours loaded with torch's weights after comparing keys,
    shapes and ``repr``."""
    tmod = make(torch).to(getattr(torch, dtype))
    emod = make(engine).to(getattr(engine, dtype))
    tsd, esd = tmod.state_dict(), emod.state_dict()
    assert list(esd) == list(tsd)
    assert [tuple(v.shape) for v in esd.values()] == [tuple(v.shape) for v in tsd.values()]
    emod.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})
    assert repr(emod) == repr(tmod)
    return emod, tmod


def _flat(out):
    """Tensors of a result, nested tuples and packed sequences flattened."""
    if isinstance(out, (tru.PackedSequence, eru.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _check(make, arrays, call=lambda m, mod, x, *hx: mod(x, *hx), dtype="float64", training=True):
    """``call(m, module, *inputs)`` in both frameworks; outputs and the gradients of a fixed weighted sum of all of
    them compared for the inputs and every parameter."""
    np_dtype, rtol, atol = DTYPES[dtype]
    emod, tmod = _pair(make, dtype)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        mod.train(training)
        xs = [m.tensor(a.astype(np_dtype), requires_grad=True) for a in arrays]
        outs = _flat(call(m, mod, *xs))
        weights = [np.cos(np.arange(o.numel()) * 0.7 + i).reshape(tuple(o.shape)) for i, o in enumerate(outs)]
        sum((o * m.tensor(w.astype(np_dtype))).sum() for o, w in zip(outs, weights, strict=True)).backward()
        results.append([o.detach().numpy() for o in outs] + [x.grad.numpy() for x in xs]
                       + [p.grad.numpy() for _, p in mod.named_parameters()])
    assert len(results[0]) == len(results[1])
    for i, (ours, theirs) in enumerate(zip(*results, strict=True)):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=f"result {i}")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bias": False, "bidirectional": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 3}),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True, "bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 3, "bidirectional": True}),
    ("GRU", {"bias": False}),
]
CONFIG_IDS = [f"{name}-{','.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]


def _maker(name, **kw):
    return lambda m: getattr(m.nn, name)(4, 5, **kw)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_layer_matches_pytorch(name, kw, dtype, batch_first):
    _check(_maker(name, batch_first=batch_first, **kw), [_rand(3, 2, 4)], dtype=dtype)


def _states(name, kw, batch, seed=1, hidden=5):
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h = _rand(layers, *batch, kw.get("proj_size") or hidden, seed=seed)
    return [h, _rand(layers, *batch, hidden, seed=seed + 1)] if name == "LSTM" else [h]


def _with_states(name):
    if name == "LSTM":
        return lambda m, mod, x, h, c: mod(x, (h, c))
    return lambda m, mod, x, h: mod(x, h)


@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_initial_states(name, kw):
    _check(_maker(name, **kw), [_rand(3, 2, 4), *_states(name, kw, (2,))], _with_states(name))


@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_unbatched(name, kw):
    _check(_maker(name, **kw), [_rand(3, 4)])
    _check(_maker(name, **kw), [_rand(3, 4), *_states(name, kw, ())], _with_states(name))


def _packed(m, lengths, enforce_sorted):
    def call(m_, mod, x, *hx):
        seqs = [x[i, :n] for i, n in enumerate(lengths)]
        packed = m_.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=enforce_sorted)
        out, hidden = mod(packed, (hx[0], hx[1]) if len(hx) == 2 else (hx[0] if hx else None))
        padded, out_lengths = m_.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        assert out_lengths.tolist() == list(lengths)
        return padded, hidden
    return call


@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
def test_packed_sequence(name, kw, enforce_sorted):
    lengths = (5, 3, 3, 1) if enforce_sorted else (2, 5, 1, 3)
    _check(_maker(name, **kw), [_rand(4, 5, 4), *_states(name, kw, (4,))], _packed(None, lengths, enforce_sorted))


def test_packed_without_states_returns_packed():
    emod, tmod = _pair(_maker("GRU"))
    x = _rand(3, 4)
    out, h = emod(eru.pack_sequence([engine.tensor(x), engine.tensor(x[:2])]))
    tout, th = tmod(tru.pack_sequence([torch.tensor(x), torch.tensor(x[:2])]))
    assert isinstance(out, eru.PackedSequence)
    assert out.batch_sizes.tolist() == tout.batch_sizes.tolist()
    np.testing.assert_allclose(out.data.detach().numpy(), tout.data.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy(), rtol=1e-10)


def test_dropout_between_layers():
    """Training mode drops between layers (engine.manual_seed makes it repeatable); eval mode is PyTorch's."""
    _check(_maker("LSTM", num_layers=2, dropout=0.5), [_rand(3, 2, 4)], training=False)
    mod = engine.nn.LSTM(4, 5, num_layers=2, dropout=0.5)
    x = engine.tensor(_rand(3, 2, 4).astype(np.float32))
    engine.manual_seed(3)
    a = mod(x)[0]
    engine.manual_seed(3)
    b = mod(x)[0]
    engine.manual_seed(4)
    c = mod(x)[0]
    mod.eval()
    d = mod(x)[0]
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    assert not np.allclose(a.detach().numpy(), d.detach().numpy())


def test_lstm_time_major_batch_first_speed_shape():
    """The benchmark's shape: batch_first float32 (64-wide input, 128 hidden) as PyTorch's."""
    _check(lambda m: m.nn.LSTM(16, 32, batch_first=True), [_rand(8, 6, 16)], dtype="float32")


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_initialisation(name):
    """Every parameter uniform in ±1/sqrt(hidden_size), drawn from the engine's generator."""
    engine.manual_seed(0)
    a = getattr(engine.nn, name)(4, 16, num_layers=2)
    engine.manual_seed(0)
    b = getattr(engine.nn, name)(4, 16, num_layers=2)
    bound = 1 / math.sqrt(16)
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert p.dtype == engine.float32
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    values = np.concatenate([p.detach().numpy().ravel() for p in a.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.1 * bound


def test_flat_weights_and_flatten_parameters():
    emod, tmod = _pair(_maker("LSTM", num_layers=2, bidirectional=True, proj_size=2))
    assert emod._flat_weights_names == tmod._flat_weights_names
    assert emod._all_weights == tmod._all_weights
    assert [[tuple(w.shape) for w in ws] for ws in emod.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in tmod.all_weights]
    assert emod.flatten_parameters() is None


CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", {}),
    ("LSTMCell", {"bias": False}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("name, kw", CELLS, ids=[f"{n}-{kw}" for n, kw in CELLS])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cell_matches_pytorch(name, kw, dtype):
    make = _maker(name, **kw)
    _check(make, [_rand(3, 4)], dtype=dtype)
    _check(make, [_rand(4)], dtype=dtype)
    if name == "LSTMCell":
        _check(make, [_rand(3, 4), _rand(3, 5, seed=1), _rand(3, 5, seed=2)], lambda m, mod, x, h, c: mod(x, (h, c)),
               dtype=dtype)
        _check(make, [_rand(4), _rand(5, seed=1), _rand(5, seed=2)], lambda m, mod, x, h, c: mod(x, (h, c)))
    else:
        _check(make, [_rand(3, 4), _rand(3, 5, seed=1)], dtype=dtype)
        _check(make, [_rand(4), _rand(5, seed=1)])


def test_cell_loop_matches_layer():
    """Stepping an LSTMCell with a layer's weights gives the layer's outputs."""
    layer = engine.nn.LSTM(4, 5)
    cell = engine.nn.LSTMCell(4, 5)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = engine.tensor(_rand(3, 2, 4).astype(np.float32))
    out, (h, c) = layer(x)
    state = None
    for t in range(3):
        state = cell(x[t], state)
        np.testing.assert_allclose(state[0].detach().numpy(), out[t].detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(state[0].detach().numpy(), h[0].detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(state[1].detach().numpy(), c[0].detach().numpy(), rtol=1e-6, atol=1e-7)


def _raises(make, call, exc):
    """The same exception type and message from both frameworks."""
    messages = []
    for m in (torch, engine):
        with pytest.raises(exc) as info:
            call(m, make(m))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def _error(call, make=lambda m: None, exc=RuntimeError):
    return call, make, exc


def _x(m, *shape):
    return m.zeros(*shape)


ERRORS = {
    "dropout range": _error(lambda m, _: m.nn.LSTM(4, 5, dropout=1.5), exc=ValueError),
    "dropout bool": _error(lambda m, _: m.nn.GRU(4, 5, dropout=True), exc=ValueError),
    "bias type": _error(lambda m, _: m.nn.RNN(4, 5, bias=1), exc=TypeError),
    "batch_first type": _error(lambda m, _: m.nn.RNN(4, 5, batch_first=None), exc=TypeError),
    "input_size type": _error(lambda m, _: m.nn.RNN(4.0, 5), exc=TypeError),
    "input_size zero": _error(lambda m, _: m.nn.RNN(0, 5), exc=ValueError),
    "hidden_size type": _error(lambda m, _: m.nn.LSTM(4, "5"), exc=TypeError),
    "hidden_size zero": _error(lambda m, _: m.nn.LSTM(4, 0), exc=ValueError),
    "num_layers": _error(lambda m, _: m.nn.GRU(4, 5, num_layers=0), exc=ValueError),
    "proj_size negative": _error(lambda m, _: m.nn.LSTM(4, 5, proj_size=-1), exc=ValueError),
    "proj_size too big": _error(lambda m, _: m.nn.LSTM(4, 5, proj_size=5), exc=ValueError),
    "proj_size GRU": _error(lambda m, _: m.nn.GRU(4, 5, proj_size=2), exc=ValueError),
    "nonlinearity": _error(lambda m, _: m.nn.RNN(4, 5, nonlinearity="gelu"), exc=ValueError),
    "RNN 4-D input": _error(lambda m, mod: mod(_x(m, 1, 2, 3, 4)), lambda m: m.nn.RNN(4, 5), ValueError),
    "LSTM 1-D input": _error(lambda m, mod: mod(_x(m, 4)), lambda m: m.nn.LSTM(4, 5), ValueError),
    "GRU 4-D input": _error(lambda m, mod: mod(_x(m, 1, 2, 3, 4)), lambda m: m.nn.GRU(4, 5), ValueError),
    "input size": _error(lambda m, mod: mod(_x(m, 3, 2, 3)), lambda m: m.nn.GRU(4, 5)),
    "input dtype": _error(lambda m, mod: mod(_x(m, 3, 2, 4).double()), lambda m: m.nn.LSTM(4, 5), ValueError),
    "hidden size": _error(lambda m, mod: mod(_x(m, 3, 2, 4), _x(m, 1, 3, 5)), lambda m: m.nn.RNN(4, 5)),
    "hidden dims": _error(lambda m, mod: mod(_x(m, 3, 2, 4), _x(m, 2, 5)), lambda m: m.nn.GRU(4, 5)),
    "unbatched hidden dims": _error(lambda m, mod: mod(_x(m, 3, 4), _x(m, 1, 1, 5)), lambda m: m.nn.RNN(4, 5)),
    "lstm cell size": _error(lambda m, mod: mod(_x(m, 3, 2, 4), (_x(m, 1, 2, 3), _x(m, 1, 2, 3))),
                             lambda m: m.nn.LSTM(4, 5, proj_size=3)),
    "lstm hx dims": _error(lambda m, mod: mod(_x(m, 3, 2, 4), (_x(m, 2, 5), _x(m, 2, 5))), lambda m: m.nn.LSTM(4, 5)),
    "lstm hidden[0]": _error(lambda m, mod: mod(_x(m, 3, 2, 4), (_x(m, 1, 2, 4), _x(m, 1, 2, 5))),
                             lambda m: m.nn.LSTM(4, 5)),
    "cell input dims": _error(lambda m, mod: mod(_x(m, 1, 2, 4)), lambda m: m.nn.GRUCell(4, 5), ValueError),
    "cell hidden dims": _error(lambda m, mod: mod(_x(m, 2, 4), _x(m, 1, 2, 5)), lambda m: m.nn.RNNCell(4, 5),
                               ValueError),
    "lstm cell hx dims": _error(lambda m, mod: mod(_x(m, 2, 4), (_x(m, 2, 5), _x(m, 1, 2, 5))),
                                lambda m: m.nn.LSTMCell(4, 5), ValueError),
    "cell input size": _error(lambda m, mod: mod(_x(m, 2, 3)), lambda m: m.nn.RNNCell(4, 5)),
    "cell batch": _error(lambda m, mod: mod(_x(m, 2, 4), _x(m, 3, 5)), lambda m: m.nn.GRUCell(4, 5)),
    "cell hidden size": _error(lambda m, mod: mod(_x(m, 2, 4), (_x(m, 2, 5), _x(m, 2, 6))),
                               lambda m: m.nn.LSTMCell(4, 5)),
    "cell dtype": _error(lambda m, mod: mod(_x(m, 2, 4).double()), lambda m: m.nn.RNNCell(4, 5)),
    "cell nonlinearity": _error(lambda m, mod: mod(_x(m, 2, 4)), lambda m: m.nn.RNNCell(4, 5, nonlinearity="x")),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors(case):
    call, make, exc = ERRORS[case]
    _raises(make, call, exc)


def test_dropout_warning():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got dropout=0.5"):
        engine.nn.GRU(4, 5, dropout=0.5)


def test_gradcheck_packed_bidirectional():
    """The layer node's backward through time against finite differences, states and a projection included."""
    lstm = engine.nn.LSTM(2, 3, bidirectional=True, proj_size=2).double()
    x = engine.tensor(_rand(4, 2), requires_grad=True)
    h = engine.tensor(_rand(2, 2, 2, seed=1), requires_grad=True)
    c = engine.tensor(_rand(2, 2, 3, seed=2), requires_grad=True)
    params = list(lstm.parameters())

    def fn(x, h, c, *_):
        packed = eru.PackedSequence(x, engine.tensor([2, 1, 1]))
        out, (hn, cn) = lstm(packed, (h, c))
        return out.data, hn, cn

    assert engine.autograd.gradcheck(fn, (x, h, c, *params))


@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_double_backward_matches_pytorch(name, kw):
    """A gradient taken with create_graph differentiated again: the layer's graph recomputed per step."""
    emod, tmod = _pair(_maker(name, **kw))
    x = _rand(3, 2, 4)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        xt = m.tensor(x, requires_grad=True)
        out, hidden = mod(xt)
        hidden = hidden if isinstance(hidden, tuple) else (hidden,)
        loss = (out * out).sum() + sum((h * h * h).sum() for h in hidden)
        (g,) = m.autograd.grad(loss, xt, create_graph=True)
        (g * g).sum().backward()
        results.append([g.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in mod.parameters()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_gradgradcheck_packed():
    gru = engine.nn.GRU(2, 3, bidirectional=True).double()
    x = engine.tensor(_rand(4, 2), requires_grad=True)
    h = engine.tensor(_rand(2, 2, 3, seed=1), requires_grad=True)

    def fn(x, h, *_):
        out, hn = gru(eru.PackedSequence(x, engine.tensor([2, 1, 1])), h)
        return out.data, hn

    assert engine.autograd.gradgradcheck(fn, (x, h, *gru.parameters()))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_on_cuda_device(name, fake_cuda):
    """On the (stand-in) GPU the outputs and gradients are the CPU's."""
    results = []
    for device in ("cpu", "cuda"):
        engine.manual_seed(0)
        mod = getattr(engine.nn, name)(4, 5, num_layers=2, bidirectional=True).to(device)
        x = engine.tensor(_rand(3, 2, 4).astype(np.float32), device=device, requires_grad=True)
        out, hidden = mod(x)
        assert out.device.type == device
        hidden = hidden if name == "LSTM" else (hidden,)
        (out.sum() + sum((h * h).sum() for h in hidden)).backward()
        results.append([out.detach().cpu().numpy(), *(h.detach().cpu().numpy() for h in hidden), x.grad.cpu().numpy()]
                       + [p.grad.cpu().numpy() for p in mod.parameters()])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, hidden", [("RNN", 256), ("LSTM", 128), ("GRU", 192)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_split_over_threads(name, hidden, dtype, monkeypatch):
    """Batches whose steps are large enough are split over the CPU threads (two here), packed sequences of
    uneven lengths included, with the outputs and gradients of one thread."""
    from engine.ops import rnn as rnn_ops

    shares = []

    def recording_map(fn, items):
        shares.append(len(items))
        return engine.threads.cpu_map(fn, items)

    monkeypatch.setattr(rnn_ops, "cpu_map", recording_map)
    previous = engine.get_num_threads()
    engine.set_num_threads(2)
    try:
        lengths = sorted(np.random.default_rng(0).integers(1, 7, 32).tolist(), reverse=True)
        make = lambda m: getattr(m.nn, name)(3, hidden, bidirectional=True)  # noqa: E731
        x = _rand(32, 6, 3)
        _check(make, [x, *_states(name, {"bidirectional": True}, (32,), hidden=hidden)],
               _packed(None, lengths, True), dtype=dtype)
        _check(make, [x], lambda m, mod, x: mod(x.transpose(0, 1)), dtype=dtype)
    finally:
        engine.set_num_threads(previous)
    assert shares and set(shares) == {2}


# parameter -> (the layer, a replacement of the wrong shape, the error); the large layers run on oneDNN's primitive,
# which takes its geometry from the input and weight_ih alone and would read the others past their ends
WRONG_PARAMETERS = {
    "weight_hh_l0": (lambda: engine.nn.LSTM(256, 256), (1024, 64), "weight_hh has shape [1024, 64]; with weight_ih of "
                     "shape [1024, 256] it takes [1024, 256]"),
    "bias_hh_l0": (lambda: engine.nn.GRU(256, 256), (700,), "GRU: bias_hh has shape [700]"),
    "weight_ih_l0": (lambda: engine.nn.LSTM(256, 256), (1024, 200), "LSTM: weight_ih has shape [1024, 200]; an input "
                     "of 256 features and 4 gates take [4 * hidden_size, 256]"),
    "weight_hr_l0": (lambda: engine.nn.LSTM(8, 16, proj_size=4), (4, 15), "weight_hr has shape [4, 15]"),
    "weight_hh": (lambda: engine.nn.LSTMCell(8, 16), (64, 3), "LSTM: weight_hh has shape [64, 3]"),
}


@pytest.mark.parametrize("name", WRONG_PARAMETERS)
def test_a_parameter_of_the_wrong_shape_is_named(name):
    """A parameter replaced by one of another shape stops the call with its name and the shape it needs."""
    make, shape, message = WRONG_PARAMETERS[name]
    layer = make()
    setattr(layer, name, engine.nn.Parameter(engine.randn(*shape)))
    x = engine.randn(3, layer.input_size) if isinstance(layer, engine.nn.LSTMCell) else engine.randn(32, 64,
                                                                                                  layer.input_size)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        layer(x)
