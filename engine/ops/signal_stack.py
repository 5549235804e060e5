"""An alternate signal stack for each thread that runs oneDNN.

The generated float32 GEMM kernels of the oneDNN that PyPI's ``onednn-cpu-gomp`` installs (3.2) point the stack
pointer at a heap workspace while they run; a signal handled on that thread meanwhile has its frame written
there, into the heap (oneDNN issue 4845, fixed upstream in March 2026 by pull request 4855). Ctrl+C during a
training step's product thus aborted ``main.py train`` with "corrupted size vs. prev_size". Python installs its
handlers with ``SA_ONSTACK``, so on a thread with an alternate signal stack they run there, whatever the stack
pointer holds.

The OpenMP workers, which run the same kernels, get no stack: Linux gives a signal sent to the process (``kill``,
Ctrl+C) to its main thread where that thread takes it, and to another only where it cannot (it blocks the signal,
is stopped by a debugger, or has another signal pending).
"""

import ctypes
import sys
import threading

SIZE = 1 << 18  # a frame with AVX-512 and AMX state takes about 11 KiB; C handlers that run there need room too
_SS_DISABLE = 2  # Linux's flag for "no alternate stack"


class _Stack(ctypes.Structure):  # Linux's stack_t
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


def _load_sigaltstack():
    """libc's ``sigaltstack`` on Linux (whose ``stack_t`` ``_Stack`` mirrors), else None."""
    if sys.platform != "linux":
        return None
    try:
        function = ctypes.CDLL("libc.so.6").sigaltstack
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.POINTER(_Stack), ctypes.POINTER(_Stack)]
    function.restype = ctypes.c_int
    return function


_sigaltstack = _load_sigaltstack()
_kept = []  # the memory of stacks that may still be installed on a thread
_OFF = _Stack(None, _SS_DISABLE, 0)


class _ThreadStack:
    """A stack installed on the thread that made it. Dropped on that thread (when it ends), it is switched off
    before its memory goes; dropped on another (daemon threads at exit), its memory is kept, as the thread may
    still take a signal there."""

    def __init__(self):
        self.memory = ctypes.create_string_buffer(SIZE)
        self.owner = threading.get_ident()
        self.installed = _sigaltstack(ctypes.byref(_Stack(ctypes.addressof(self.memory), 0, SIZE)), None) == 0

    def __del__(self, get_ident=threading.get_ident, sigaltstack=_sigaltstack, kept=_kept, off=_OFF):
        """(What it uses is bound as defaults: it may run while the interpreter shuts down.)"""
        if self.installed and (get_ident() != self.owner or sigaltstack(off, None) != 0):
            kept.append(self.memory)


_thread = threading.local()


def ensure():
    """Give the calling thread an alternate signal stack, unless it has one (faulthandler's, say)."""
    if getattr(_thread, "checked", False):
        return
    _thread.checked = True
    if _sigaltstack is not None and current_size() == 0:
        _thread.stack = _ThreadStack()


def current_size():
    """The size of the calling thread's alternate signal stack; 0 where it has none."""
    current = _Stack()
    if _sigaltstack is None or _sigaltstack(None, ctypes.byref(current)) != 0 or current.ss_flags & _SS_DISABLE:
        return 0
    return current.ss_size
