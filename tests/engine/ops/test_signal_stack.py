"""Signals during oneDNN's products (engine/ops/signal_stack.py): a thread that runs oneDNN gets an alternate
signal stack, so a handled signal (Ctrl+C's, here SIGUSR1's) that lands inside the library's GEMM kernels leaves
the heap alone. Without it, a stream of signals aborted the process within a tenth of a second."""

import ctypes
import os
import select
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
# take the kernels that move the stack pointer), repeated until SIGNALS have been handled while the parent sends
# them (or a minute has passed); then the signals handled, the wrong products and the main thread's stack size.
_CHILD = textwrap.dedent("""
    import signal, sys, time
    import numpy as np
    from engine.ops import gemm, signal_stack

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
    deadline = time.monotonic() + 60
    wrong = 0
    while received < int(sys.argv[1]) and time.monotonic() < deadline:
        for (a, b), want in zip(products, expected):
            wrong += not np.allclose(gemm.matmul(a, b), want, rtol=1e-4, atol=1e-2)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    print(received, wrong, signal_stack.current_size(), flush=True)
""")
SIGNALS = 2000


@needs_onednn
@needs_linux
def test_signals_during_products_leave_the_heap_alone():
    # -E: no PYTHONFAULTHANDLER or PYTHONDEVMODE, whose faulthandler would give the thread a stack of its own
    child = subprocess.Popen([sys.executable, "-E", "-c", _CHILD, str(SIGNALS)], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(engine.__file__)))
    try:
        ready = select.select([child.stdout], [], [], 120)[0] and child.stdout.readline()
        assert ready == "ready\n", ready
        sent = 0
        deadline = time.monotonic() + 90
        while child.poll() is None and time.monotonic() < deadline:
            child.send_signal(signal.SIGUSR1)
            sent += 1
            time.sleep(0.0002)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, f"the process ended with {child.returncode} after {sent} signals"
    received, wrong, stack = (int(v) for v in out.split())
    assert stack == signal_stack.SIZE
    assert wrong == 0
    assert received >= SIGNALS, (received, sent)  # the signals did land while the products ran


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
    off = signal_stack._Stack(None, signal_stack._SS_DISABLE, 0)

    def worker():
        memory = ctypes.create_string_buffer(1 << 16)
        assert signal_stack._sigaltstack(signal_stack._Stack(ctypes.addressof(memory), 0, 1 << 16), None) == 0
        try:
            signal_stack.ensure()
            sizes.append(signal_stack.current_size())
        finally:
            assert signal_stack._sigaltstack(off, None) == 0

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert sizes == [1 << 16]


@needs_linux
def test_a_stack_dropped_on_its_thread_is_switched_off_and_elsewhere_kept():
    """Its memory is freed only once no signal can land there."""
    seen, handed = [], []

    def worker():
        signal_stack.ensure()
        seen.append(signal_stack.current_size())
        del signal_stack._thread.stack  # as when the thread ends
        seen.append(signal_stack.current_size())
        handed.append(signal_stack._ThreadStack())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal_stack.SIZE, 0]
    memory = handed[0].memory
    handed.clear()  # dropped on this thread, not its owner
    assert signal_stack._kept[-1] is memory
