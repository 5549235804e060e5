"""Kernels whose loops run on numba's threads (``jit.ThreadedKernel``): the threaded and serial twins agree,
several Python threads may launch them at once, and a child forked after the threads started still
computes (GNU OpenMP would end it), on the serial twin."""

import multiprocessing
import threading

import numpy as np
import pytest
import torch

import engine
from engine.ops import jit
from engine.threads import PARALLEL_MIN_SIZE

pytestmark = [pytest.mark.skipif(jit.numba() is None, reason="numba is not installed"),
              pytest.mark.usefixtures("two_threads")]


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


def test_numba_set_to_a_thread_safe_layer():
    assert jit.numba().config.THREADING_LAYER in ("threadsafe", "safe", "tbb", "omp")


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


def test_forked_child_runs_the_serial_twin():
    x = _large()
    parent = engine.nansum(engine.from_numpy(x)).item()  # numba's threads start here
    assert jit.kernel_threads(x.size) == 2 or jit.numba().config.NUMBA_NUM_THREADS < 2
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_sum, args=(x, queue))
    child.start()
    threads, total = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert threads == 1
    assert total == pytest.approx(parent, rel=1e-6)


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
