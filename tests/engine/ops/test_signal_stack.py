"""Signals during oneDNN's products (engine/ops/signal_stack.py): a thread that runs oneDNN gets an alternate
signal stack, so a handled signal (Ctrl+C's, here SIGUSR1's) that lands inside the library's GEMM kernels leaves
the heap alone. Without it, a stream of signals aborted the process within a tenth of a second."""

import ctypes
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import engine
from engine.ops import gemm, onednn, signal_stack

needs_onednn = pytest.mark.skipif(not engine.backends.mkldnn.is_available(),
                                  reason="oneDNN (onednn-cpu-gomp) does not load here")
needs_linux = pytest.mark.skipif(sys.platform != "linux", reason="the alternate stack is set through Linux's stack_t")

# A linear layer's three products at a batch of 64 (forward, input gradient, weight gradient: transposed operands
# take the kernels that move the stack pointer), repeated for SECONDS while the parent sends signals.
_CHILD = textwrap.dedent("""
    import signal, sys, time
    import numpy as np
    from engine.ops import gemm

    received = 0
    def count(signum, frame):
        global received
        received += 1

    signal.signal(signal.SIGUSR1, count)
    rng = np.random.default_rng(0)
    x, w, g = (rng.standard_normal(shape, np.float32) for shape in ((64, 784), (256, 784), (64, 256)))
    products = [(x, w.T), (g, w), (g.T, x)]
    expected = [a.astype(np.float64) @ b for a, b in products]
    print("ready", flush=True)
    end = time.monotonic() + float(sys.argv[1])
    wrong = 0
    while time.monotonic() < end:
        for (a, b), want in zip(products, expected):
            wrong += not np.allclose(gemm.matmul(a, b), want, rtol=1e-4, atol=1e-2)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    print(received, wrong, flush=True)
""")
SECONDS = 3


@needs_onednn
@needs_linux
def test_signals_during_products_leave_the_heap_alone():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}  # (faulthandler's stack would hide it)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(SECONDS)], stdout=subprocess.PIPE, text=True,
                             env=env, cwd=os.path.dirname(os.path.dirname(engine.__file__)))
    try:
        assert child.stdout.readline() == "ready\n"
        sent = 0
        deadline = time.monotonic() + SECONDS + 60
        while child.poll() is None and time.monotonic() < deadline:
            child.send_signal(signal.SIGUSR1)
            sent += 1
            time.sleep(0.0002)
        line = child.stdout.readline()
        assert child.wait(timeout=60) == 0, f"the process ended with {child.returncode} after {sent} signals"
        received, wrong = (int(v) for v in line.split())
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    assert wrong == 0
    assert received > 1000, (received, sent)  # the signals did land while the products ran


@needs_onednn
@needs_linux
def test_a_thread_gets_its_stack_with_its_first_onednn_call():
    sizes = []

    def worker():
        sizes.append(signal_stack.current_size())
        x = engine.randn(64, 784).numpy()
        assert gemm.matmul(x, x.T).shape == (64, 64) and onednn.available()
        sizes.append(signal_stack.current_size())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert sizes == [0, signal_stack.SIZE]


@needs_linux
def test_a_stack_already_set_is_kept():
    """A stack set by someone else (faulthandler, a runtime) stays: a thread has one, and its owner frees it."""
    sizes = []

    def worker():
        memory = ctypes.create_string_buffer(1 << 16)
        sigaltstack = signal_stack._sigaltstack()
        assert sigaltstack(ctypes.byref(signal_stack._Stack(ctypes.addressof(memory), 0, 1 << 16)), None) == 0
        try:
            signal_stack.ensure()
            sizes.append(signal_stack.current_size())
        finally:
            assert sigaltstack(ctypes.byref(signal_stack._Stack(None, signal_stack._SS_DISABLE, 0)), None) == 0

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert sizes == [1 << 16]
