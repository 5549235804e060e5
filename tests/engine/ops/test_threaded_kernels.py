"""Kernels whose loops run on numba's threads (``jit.ThreadedKernel``): the threaded and serial twins agree,
several Python threads may launch them at once, and a child forked after the threads started still
computes (GNU OpenMP would end it), on the serial twin."""

import multiprocessing
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import engine
from engine.ops import conv_depthwise_lanes, jit, row_norm_kernels
from engine.threads import PARALLEL_MIN_SIZE

pytestmark = [pytest.mark.skipif(jit.numba() is None, reason="numba is not installed"),
              pytest.mark.usefixtures("two_threads")]


@pytest.fixture(params=["numba", "engine"], ids=["numba-threads", "engine-threads"])
def share_threads(request, monkeypatch):
    """Shares on numba's threads, where its pool runs on a thread-safe layer, and on the engine's threads
    (``cpu_map``) as where it cannot."""
    if request.param == "engine":
        monkeypatch.setattr(jit, "_thread_safe_pool", lambda: None)
    elif jit._thread_safe_pool() is None:
        pytest.skip("numba's threads run on no thread-safe layer here")
    return request.param


def _large(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(2 * PARALLEL_MIN_SIZE).astype(np.float32)
    x[rng.random(x.size) < 0.1] = np.nan
    return x


def test_threads_chosen_by_work():
    assert jit.kernel_threads(PARALLEL_MIN_SIZE - 1) == 1
    assert jit.kernel_threads(PARALLEL_MIN_SIZE) == min(2, jit.numba().config.NUMBA_NUM_THREADS)
    engine.set_num_threads(1)
    assert jit.kernel_threads(10 * PARALLEL_MIN_SIZE) == 1


def test_threads_only_on_a_thread_safe_layer():
    if jit.kernel_threads(10 * PARALLEL_MIN_SIZE) > 1:
        assert jit.numba().threading_layer() in ("tbb", "omp")


def test_concurrent_launches_from_python_threads():
    arrays = [_large(seed) for seed in range(4)]
    want = [np.nansum(a.astype(np.float64)) for a in arrays]
    got = [None] * len(arrays)

    def work(k):
        for _ in range(20):
            got[k] = engine.nansum(engine.from_numpy(arrays[k])).item()

    workers = [threading.Thread(target=work, args=(k,)) for k in range(len(arrays))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    np.testing.assert_allclose(got, want, rtol=1e-5)


def _child_sum(x, queue):
    queue.put((jit.kernel_threads(x.size), engine.nansum(engine.from_numpy(x)).item()))


def _sum_in_forked_child(x):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_sum, args=(x, queue))
    child.start()
    threads, total = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    return threads, total


def test_forked_child_runs_the_serial_twin():
    x = _large()
    parent = engine.nansum(engine.from_numpy(x)).item()  # numba's threads start here
    threads, total = _sum_in_forked_child(x)
    assert threads == 1
    assert total == pytest.approx(parent, rel=1e-6)


_FOREIGN_POOL = """
import multiprocessing, sys
import numba, numpy as np
import engine
from engine.ops import conv_depthwise_lanes, jit

@numba.njit(parallel=True)
def own(a):
    for i in numba.prange(a.shape[0]):
        a[i] += 1.0

own(np.zeros(4))  # the user's own code starts numba's pool before the engine asks for threads
x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)

def child(queue):
    queue.put((jit.kernel_threads(x.size), engine.nansum(engine.from_numpy(x)).item()))

context = multiprocessing.get_context("fork")
queue = context.Queue()
process = context.Process(target=child, args=(queue,))
process.start()
threads, total = queue.get(timeout=60)
process.join(timeout=60)
assert process.exitcode == 0, process.exitcode
assert threads == 1, threads
assert abs(total - np.sum(x, dtype=np.float64)) < 1e-2, total
"""


def test_forked_child_after_other_code_started_the_pool():
    """In a fresh interpreter: a user's own ``parallel=True`` function starts numba's pool, then a forked child
    reduces on the serial twin instead of being ended by GNU OpenMP."""
    result = subprocess.run([sys.executable, "-c", _FOREIGN_POOL], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_threaded_depthwise_lanes_match_pytorch():
    """conv_depthwise_lanes on two threads (narrow planes, one filter per channel), forward and input
    gradient (a forward pass of the flipped kernel over the output gradient), against PyTorch."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 64, 8, 8)).astype(np.float32)
    w = rng.standard_normal((64, 1, 7, 7)).astype(np.float32) * 0.1
    b = rng.standard_normal(64).astype(np.float32)
    assert jit.kernel_threads(x.size * 49) == min(2, jit.numba().config.NUMBA_NUM_THREADS)
    ours_x = engine.tensor(x, requires_grad=True)
    ours = engine.nn.functional.conv2d(ours_x, engine.tensor(w), engine.tensor(b), padding=3, groups=64)
    ours.sum().backward()
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.functional.conv2d(theirs_x, torch.tensor(w), torch.tensor(b), padding=3, groups=64)
    theirs.sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, kernel, options", [
    ((4, 40, 7, 7), 7, {}),  # channels past a multiple of 16 (computed in zero-weight lanes); 4 + 3 output columns
    ((2, 24, 16, 13), 7, {}),  # planes up to LANES_MAX_WIDTH_WIDE columns under a 7-wide kernel: 8 + 4 + 1 columns
    ((2, 48, 16, 16), 7, {}),  # two blocks of 8 columns
    ((3, 16, 6, 5), 5, {}),  # one lane block exactly; a single column past the blocks of 4
    ((2, 32, 9, 8), 3, {"stride": (2, 1), "dilation": 2}),  # row stride, dilation in both directions
], ids=["40ch-7wide", "wide-plane", "16-wide", "16ch-5wide", "strided-dilated"])
def test_depthwise_lanes_geometries_match_pytorch(shape, kernel, options, monkeypatch):
    """The lanes kernel's column blocks, tail columns and padded channel lanes, forward and input gradient,
    from a non-contiguous input (the kernel reads its NCHW values and writes NCHW)."""
    calls = []
    lanes_forward = conv_depthwise_lanes.forward
    monkeypatch.setattr(conv_depthwise_lanes, "forward", lambda *a: calls.append(a[0].shape) or lanes_forward(*a))
    rng = np.random.default_rng(4)
    c = shape[1]
    x = rng.standard_normal((shape[0], shape[2], shape[3], c)).astype(np.float32)  # channels last, permuted below
    w = rng.standard_normal((c, 1, kernel, kernel)).astype(np.float32) * 0.1
    b = rng.standard_normal(c).astype(np.float32)
    outs = []
    for m in (engine, torch):
        xt = m.tensor(x, requires_grad=True)
        y = m.nn.functional.conv2d(xt.permute(0, 3, 1, 2), m.tensor(w), m.tensor(b), padding=kernel // 2, groups=c,
                                   **options)
        (y * m.tensor(np.arange(y.numel(), dtype=np.float32).reshape(y.shape) % 7)).sum().backward()
        outs.append((y.detach().numpy(), xt.grad.numpy()))
    assert calls, "the lanes kernel did not take the call"
    for ours, theirs in zip(*outs, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [0, 1, 2, 7, PARALLEL_MIN_SIZE + 3])
def test_range_kernel_covers_each_index_once(n, share_threads):
    """``RangeKernel`` hands every index of ``range(n)`` to exactly one share, threads or not, however ``n``
    divides (fewer indices than threads included); an indexed kernel gets each share's number."""

    @jit.njit(nogil=True)
    def count(out, i0, i1):
        part = out[i0:i1]
        for i in range(part.size):
            part[i] += 1

    @jit.njit(nogil=True)
    def mark(out, part, i0, i1):
        out[i0:i1] = part

    kernel, indexed = jit.RangeKernel(count, nogil=True), jit.RangeKernel(mark, indexed=True, nogil=True)
    for work in (1, 10 * PARALLEL_MIN_SIZE):  # one share, then one per thread
        out = np.zeros(n, dtype=np.int64)
        kernel.run(n, work, out)
        assert (out == 1).all()
        parts = indexed.shares(n, work)
        assert parts == (1 if work == 1 or n < 2 else 2)
        indexed.run(n, work, out, shares=parts)
        starts = [n * k // parts for k in range(parts)]
        assert (out == np.searchsorted(starts, np.arange(n), side="right") - 1).all()


@pytest.mark.parametrize("layer", ["batch_norm_relu", "group_norm"])
def test_threaded_norms_match_pytorch(layer, share_threads):
    """Batch norm with ReLU, and group norm, large enough for their kernels to share the channels (rows) over
    numba's threads: output, input gradient and parameter gradients against PyTorch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32) * 2 + 0.5
    assert jit.RangeKernel.shares(16, x.size) == 2
    g = rng.standard_normal(x.shape).astype(np.float32)
    weight, bias = rng.standard_normal((2, 16)).astype(np.float32)
    results = []
    for m in (engine, torch):
        if layer == "group_norm":
            net = norm = m.nn.GroupNorm(4, 16)
        else:
            norm = m.nn.BatchNorm2d(16)
            net = m.nn.Sequential(norm, m.nn.ReLU())
        norm.weight.data, norm.bias.data = m.tensor(weight), m.tensor(bias)
        xt = m.tensor(x, requires_grad=True)
        y = net(xt)
        y.backward(m.tensor(g))
        results.append([y.detach().numpy(), xt.grad.numpy(), *(p.grad.numpy() for p in net.parameters())])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rows, size", [(128, 512), (256, 1024)], ids=["numba-only-size", "engine-threads-size"])
def test_threaded_layer_norm_matches_pytorch(rows, size, share_threads):
    """Layer norm's rows shared over numba's threads from LAYER_THREADED_SIZE values, over the engine's from
    PARALLEL_MIN_SIZE where numba's pool cannot run (one share below that): output, input gradient and the
    parameter gradients summed over the shares, against PyTorch; and the sum of the output, which shares its
    values the same way."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((rows, size)).astype(np.float32) * 3 + 1
    threads = min(2, jit.numba().config.NUMBA_NUM_THREADS)
    on_engine = share_threads == "engine" and x.size < PARALLEL_MIN_SIZE
    assert jit.RangeKernel.shares(rows, x.size, row_norm_kernels.LAYER_THREADED_SIZE) == (1 if on_engine else threads)
    g = rng.standard_normal(x.shape).astype(np.float32)
    weight, bias = rng.standard_normal((2, size)).astype(np.float32)
    results = []
    for m in (engine, torch):
        norm = m.nn.LayerNorm(size)
        norm.weight.data, norm.bias.data = m.tensor(weight), m.tensor(bias)
        xt = m.tensor(x, requires_grad=True)
        y = norm(xt)
        y.backward(m.tensor(g))
        results.append([y.detach().numpy(), y.sum().item(), xt.grad.numpy(), norm.weight.grad.numpy(),
                        norm.bias.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_threaded_arithmetic_matches_pytorch(op, dtype):
    """Large same-shape float arithmetic runs on numba's threads (``binary_kernels``) and gives PyTorch's values to
    the last bit, with infinities and NaNs where a division by zero or a NaN operand makes them; the gradients
    flow as for any other call (a quotient's in another order of operations than PyTorch's: to rounding)."""
    from engine.ops import binary_kernels

    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 4, 16, 64, 64)).astype(dtype)
    a.reshape(-1)[:3] = [np.nan, 1.0, 0.0]
    b.reshape(-1)[:3] = [1.0, 0.0, 0.0]
    ufunc = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}[op]
    assert binary_kernels.applies(ufunc, a, b)
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y}[op]
    results = []
    for m in (engine, torch):
        x, y = m.tensor(a, requires_grad=True), m.tensor(b, requires_grad=True)
        out = fn(x, y)
        (out * m.tensor(a)).nansum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
    (out, *grads), (want, *want_grads) = results
    np.testing.assert_array_equal(out, want)
    for ours, theirs in zip(grads, want_grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_threaded_compiled_convolution_matches_pytorch(monkeypatch, share_threads):
    """The compiled convolution (oneDNN off) shares its batch over numba's threads, each share padding its own
    images: output, input, weight and bias gradients against PyTorch."""
    from engine.threads import PRODUCT_MIN_MACS

    monkeypatch.setattr(engine.ops.onednn, "enabled", False)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((7, 6, 14, 14)).astype(np.float32)  # 7 images: shares of 3 and 4
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32) * 0.1
    b = rng.standard_normal(16).astype(np.float32)
    assert jit.RangeKernel.shares(7, x.shape[0] * 16 * 12 * 12 * w[0].size, PRODUCT_MIN_MACS) == 2
    results = []
    for m in (engine, torch):
        xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        y = m.nn.functional.conv2d(xt, wt, bt, padding=1)
        (y * m.tensor(np.arange(y.numel(), dtype=np.float32).reshape(y.shape) % 5)).sum().backward()
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-3)


def test_threaded_max_pool_matches_pytorch(share_threads):
    """Max pooling shares its images over numba's threads, each share rerunning PyTorch's NaN rule where it met
    a NaN: output, indices and input gradient against PyTorch."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((9, 16, 64, 64)).astype(np.float32)
    x[7, 3, 5, 5] = np.nan  # in the second share only
    assert jit.RangeKernel.shares(9, 9 * 16 * 32 * 32) == 2  # the output gradient's scatter too
    results = []
    for m in (engine, torch):
        xt = m.tensor(x, requires_grad=True)
        y, index = m.nn.functional.max_pool2d(xt, 3, stride=2, padding=1, return_indices=True)
        (y * m.tensor(np.arange(y.numel(), dtype=np.float32).reshape(y.shape) % 3)).nansum().backward()
        results.append([y.detach().numpy(), index.numpy(), xt.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)
