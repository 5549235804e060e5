"""Convolutions on oneDNN (engine/ops/onednn.py through conv.py's ``onednn`` implementation) against PyTorch:
forward, input, weight and bias gradients over strides, asymmetric padding, dilation, 1x1 kernels, no bias and
non-contiguous inputs; which calls take it; threads; the geometry cache."""

import os
import select
import signal
import threading
import warnings

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops import conv, cpu_kind, onednn
from engine.ops.conv import Conv2d

pytestmark = pytest.mark.skipif(not onednn.available(), reason="oneDNN (onednn-cpu-gomp) is not installed here")

CASES = [  # (input shape, weight shape, stride, padding, dilation, bias)
    ((4, 64, 8, 8), (64, 64, 3, 3), 1, 1, 1, True),
    ((3, 16, 9, 9), (32, 16, 3, 3), 2, 1, 1, True),
    ((2, 16, 8, 8), (32, 16, 1, 1), 2, 0, 1, False),
    ((2, 8, 11, 10), (8, 8, 3, 2), (2, 3), (1, 2), (2, 1), True),
    ((1, 3, 7, 7), (5, 3, 5, 5), 2, 2, 1, False),
    ((2, 40, 6, 5), (36, 40, 3, 3), 1, 0, 2, True),
    ((2, 32, 7, 9), (32, 32, 4, 2), 1, "same", (1, 2), True),  # top != bottom and left != right
]


@pytest.fixture(autouse=True)
def same_padding_note():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'")  # torch's note on even kernels
        yield


def run(x, w, b, stride, padding, dilation, m):
    tensors = [m.tensor(a, requires_grad=True) for a in (x, w, *([] if b is None else [b]))]
    y = m.nn.functional.conv2d(*tensors[:2], tensors[2] if b is not None else None, stride, padding, dilation)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(m.tensor(g))
    return y, [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}" for c in CASES])
def test_matches_pytorch(case):
    x_shape, w_shape, stride, padding, dilation, bias = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = (rng.standard_normal(w_shape, dtype=np.float32) / np.sqrt(np.prod(w_shape[1:]))).astype(np.float32)
    b = rng.standard_normal(w_shape[0], dtype=np.float32) if bias else None
    with backend.prefer("onednn"):
        ours, our_grads = run(x, w, b, stride, padding, dilation, engine)
    assert ours.grad_fn._impl.name == "onednn"
    theirs, their_grads = run(x, w, b, stride, padding, dilation, torch)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-4)
    for mine, reference in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-4)


def test_non_contiguous_inputs_and_partial_gradients():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 32, 10, 9), dtype=np.float32)[::2, :, :, ::-1]  # strided, reversed
    w = rng.standard_normal((32, 32, 3, 3), dtype=np.float32).transpose(1, 0, 2, 3) * 0.1
    ex, ew = engine.tensor(x), engine.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x.copy()), torch.tensor(w.copy(), requires_grad=True)
    with backend.prefer("onednn"):
        ey = engine.nn.functional.conv2d(ex, ew, stride=2, padding=1)
    ty = torch.nn.functional.conv2d(tx, tw, stride=2, padding=1)
    ey.sum().backward()
    ty.sum().backward()
    assert ey.grad_fn._impl.name == "onednn" and ex.grad is None
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-3)


def choice(x_shape, w_shape, stride=(1, 1), dtype=np.float32, groups=1):
    x, w = np.zeros(x_shape, dtype), np.zeros(w_shape, dtype)
    return backend.choose(Conv2d.implementations, (x, w), {"stride": stride, "pads": (1, 1, 1, 1),
                                                           "dilation": (1, 1), "groups": groups}).name


def test_which_calls_take_it():
    assert choice((8, 16, 32, 32), (32, 16, 3, 3), stride=(2, 2)) == "onednn"  # strided
    assert choice((8, 16, 32, 32), (32, 16, 1, 1)) == "onednn"  # 1x1
    assert choice((8, 64, 8, 8), (64, 64, 3, 3)) == "onednn"  # wide
    assert choice((2, 16, 32, 32), (16, 16, 3, 3)) == "compiled"  # narrow, stride 1: the compiled kernels
    assert choice((32, 16, 32, 32), (16, 16, 3, 3)) == "onednn"  # ... unless large (75M multiply-adds)
    assert choice((128, 3, 32, 32), (16, 3, 3, 3)) == "onednn"  # a large stem
    assert choice((128, 3, 32, 32), (6, 3, 5, 5)) == "compiled"  # too few outputs for oneDNN's 16-wide blocks
    assert choice((8, 64, 8, 8), (64, 64, 3, 3), dtype=np.float64) != "onednn"  # float32 only
    assert choice((8, 64, 8, 8), (64, 32, 3, 3), groups=2) != "onednn"
    with backend.disable("onednn"):
        assert choice((8, 64, 8, 8), (64, 64, 3, 3)) != "onednn"


@pytest.mark.parametrize("threshold", [5_000_000, 20_000_000])
def test_narrow_convolutions_move_to_onednn_from_the_threshold(threshold, monkeypatch):
    """A convolution like LeNet's second, at 16.6M multiply-adds, goes to oneDNN where the threshold is the Intel
    Xeon's, and stays on the compiled kernels at the AMD EPYC's."""
    monkeypatch.setattr(conv, "ONEDNN_MIN_MACS", threshold)
    assert choice((48, 6, 14, 14), (16, 6, 5, 5)) == ("onednn" if threshold == 5_000_000 else "compiled")
    assert choice((4, 6, 14, 14), (16, 6, 5, 5)) == "compiled"  # (1.4M)


@pytest.mark.parametrize("text, vendor, flags", [
    ("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 avx512f\n\nprocessor\t: 1\n",
     "GenuineIntel", {"fpu", "avx2", "avx512f"}),
    ("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t: avx2\n", "AuthenticAMD", {"avx2"}),
    ("processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nvendor_id\t: Other\n", "", set()),  # first block only
    (None, "", set()),  # no such file
])
def test_the_cpu_is_read_from_cpuinfo(text, vendor, flags, tmp_path):
    path = tmp_path / "cpuinfo"
    if text is not None:
        path.write_text(text)
    assert cpu_kind.vendor(str(path)) == vendor and cpu_kind.flags(str(path)) == flags


def test_runs_on_the_engine_thread_count_and_keeps_a_bounded_cache():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 64, 6, 6), dtype=np.float32)
    w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
    threads = engine.get_num_threads()
    try:
        engine.set_num_threads(1)
        one = onednn.convolution(x.shape, w.shape, (4, 4), (1, 1), (0, 0, 0, 0), (1, 1)).forward(x, w)[0]
    finally:
        engine.set_num_threads(threads)
    again = onednn.convolution(x.shape, w.shape, (4, 4), (1, 1), (0, 0, 0, 0), (1, 1)).forward(x, w)[0]
    np.testing.assert_allclose(one, again, rtol=1e-5, atol=1e-4)
    for k in range(onednn.CACHED + 5):
        onednn.convolution((1, 64, 6 + k, 6), w.shape, (4 + k, 4), (1, 1), (0, 0, 0, 0), (1, 1))
    assert len(onednn._convolutions) == onednn.CACHED


def test_a_convolution_made_in_a_thread_that_ended_runs_in_another():
    """A model built and run in a worker thread (the GUI's import), then run again from other threads: each call
    brings its own scratchpad (the library's belonged to the creating thread and died with it)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 48, 7, 7), dtype=np.float32)
    w = rng.standard_normal((48, 48, 3, 3), dtype=np.float32)
    results = []

    def run():
        conv = onednn.convolution(x.shape, w.shape, (4, 4), (2, 2), (1, 1, 1, 1), (1, 1))
        y, kept = conv.forward(x, w)
        results.append((y, *conv.backward(np.ones((2, 48, 4, 4), np.float32), kept, True, True)))

    for _ in range(3):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    run()
    assert len(results) == 4
    for later in results[1:]:
        for a, b in zip(results[0], later):
            np.testing.assert_array_equal(a, b)


def test_the_bias_gradient_alone():
    rng = np.random.default_rng(6)
    x, w, b = (rng.standard_normal(s, dtype=np.float32) for s in ((2, 32, 6, 6), (32, 32, 3, 3), (32,)))
    eb, tb = engine.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    with backend.prefer("onednn"):
        ey = engine.nn.functional.conv2d(engine.tensor(x), engine.tensor(w), eb, stride=2)
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), tb, stride=2)
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    assert ey.grad_fn._impl.name == "onednn"
    np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_a_geometry_is_made_for_the_thread_count_in_force():
    threads = engine.get_num_threads()
    shape = ((1, 64, 5, 5), (64, 64, 3, 3), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1))
    try:
        engine.set_num_threads(1)
        one = onednn.convolution(*shape)
        engine.set_num_threads(2)
        two = onednn.convolution(*shape)
    finally:
        engine.set_num_threads(threads)
    assert one is not two and onednn.convolution(*shape) in (one, two)


def test_a_node_runs_its_primitives_on_the_threads_they_were_made_for(monkeypatch, two_threads):
    """A convolution made on two threads keeps them for its backward after ``set_num_threads(1)``: oneDNN sized
    its work and scratchpad for the team it saw then; the gradients are those of a run on one thread."""
    rng = np.random.default_rng(8)
    x = engine.tensor(rng.standard_normal((4, 64, 12, 12), dtype=np.float32), requires_grad=True)
    w = engine.tensor(rng.standard_normal((64, 64, 3, 3), dtype=np.float32), requires_grad=True)
    lib = onednn.library()
    teams = []
    monkeypatch.setattr(lib, "_set_threads", lambda n, set_threads=lib._set_threads: teams.append(n) or
                        set_threads(n))
    y = engine.nn.functional.conv2d(x, w, padding=1)
    engine.set_num_threads(1)
    del teams[:]
    y.sum().backward()
    assert teams and set(teams) == {2}
    grads = [x.grad.numpy(), w.grad.numpy()]
    x.grad = w.grad = None
    engine.nn.functional.conv2d(x, w, padding=1).sum().backward()
    assert set(teams[teams.index(1):]) == {1}
    for ours, theirs in zip(grads, [x.grad.numpy(), w.grad.numpy()], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_use_it():
    """GNU OpenMP hangs in a child forked after it started: the child takes the engine's own kernels."""
    rng = np.random.default_rng(7)
    x = engine.tensor(rng.standard_normal((1, 32, 6, 6), dtype=np.float32))
    w = engine.tensor(rng.standard_normal((32, 32, 3, 3), dtype=np.float32))
    parent = engine.nn.functional.conv2d(x, w, stride=2)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it did, then leave at once
        try:
            child = engine.nn.functional.conv2d(x, w, stride=2)
            ok = not onednn.available() and np.allclose(child.numpy(), parent.numpy(), rtol=1e-4, atol=1e-4)
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    answer = os.read(read, 1) if ready else b"hung"
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert answer == b"1"


@pytest.mark.parametrize("stride", [1, 2])
def test_second_derivatives_read_the_kept_input_back(stride):
    """With ``create_graph`` the gradients are ops of the input the forward kept in oneDNN's layout (the weight
    gradient's depends on its values): it comes back plain, and the second derivatives match PyTorch's."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 32, 8, 8), dtype=np.float32)
    w = rng.standard_normal((32, 32, 3, 3), dtype=np.float32) * 0.1

    def second(m):
        tx, tw = m.tensor(x, requires_grad=True), m.tensor(w, requires_grad=True)
        y = m.nn.functional.conv2d(tx, tw, padding=1, stride=stride)
        gx, gw = m.autograd.grad((y * y).sum(), (tx, tw), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        return y, tx.grad.numpy(), tw.grad.numpy()

    with backend.prefer("onednn"):
        ours = second(engine)
    assert ours[0].grad_fn._impl.name == "onednn"
    theirs = second(torch)
    for mine, reference in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-3 * np.abs(reference).max())


def test_the_kept_input_reads_back_as_the_input():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 32, 6, 6), dtype=np.float32)
    w = rng.standard_normal((32, 32, 3, 3), dtype=np.float32)
    conv = onednn.convolution(x.shape, w.shape, (6, 6), (1, 1), (1, 1, 1, 1), (1, 1))
    _, kept = conv.forward(x, w)
    np.testing.assert_array_equal(conv.input_of(kept), x)


@pytest.mark.parametrize("bias", [False, True])
def test_a_frozen_weight_gets_no_gradient_and_the_rest_are_right(bias):
    """Input gradient alone (a frozen layer inside a network), and with a bias that still learns: the bias
    gradient then comes without the weight pass."""
    rng = np.random.default_rng(9)
    x, w, b = (rng.standard_normal(s, dtype=np.float32) for s in ((2, 32, 7, 7), (32, 32, 3, 3), (32,)))

    def grads(m):
        tx, tw, tb = m.tensor(x, requires_grad=True), m.tensor(w), m.tensor(b, requires_grad=bias)
        y = m.nn.functional.conv2d(tx, tw, tb, padding=1)
        (y * y).sum().backward()
        return y, tx.grad.numpy(), tw.grad, tb.grad

    with backend.prefer("onednn"):
        ours = grads(engine)
    theirs = grads(torch)
    assert ours[0].grad_fn._impl.name == "onednn" and ours[2] is None
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-3)
    if bias:
        np.testing.assert_allclose(ours[3].numpy(), theirs[3].numpy(), rtol=1e-4, atol=1e-2)
    else:
        assert ours[3] is None


def test_torch_backends_mkldnn_switches_it_off():
    assert engine.backends.mkldnn.is_available()
    with engine.backends.mkldnn.flags(enabled=False):
        assert not engine.backends.mkldnn.enabled
        assert choice((8, 64, 8, 8), (64, 64, 3, 3)) != "onednn"
    assert choice((8, 64, 8, 8), (64, 64, 3, 3)) == "onednn"
    engine.backends.mkldnn.enabled = False
    try:
        assert choice((8, 16, 32, 32), (32, 16, 3, 3), stride=(2, 2)) != "onednn"
    finally:
        engine.backends.mkldnn.enabled = True
