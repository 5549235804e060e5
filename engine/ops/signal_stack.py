"""An alternate signal stack for each thread that runs oneDNN.

The generated float32 GEMM kernels of the oneDNN that PyPI's ``onednn-cpu-gomp`` installs (3.2) point the stack
pointer at a heap workspace while they run; a signal handled on that thread meanwhile has its frame written
there, into the heap (oneDNN issue 4845, fixed upstream in March 2026 by pull request 4855). Ctrl+C during a
training step's product thus aborted ``main.py train`` with "corrupted size vs. prev_size". Python installs its
handlers with ``SA_ONSTACK``, so on a thread with an alternate signal stack they run there, whatever the stack
pointer holds. A signal sent to the process (``kill``, Ctrl+C) goes to its main thread unless that thread blocks
it, so the OpenMP workers, which run the same kernels, are not reached by one.
"""

import ctypes
import ctypes.util
import functools
import sys
import threading

SIZE = 1 << 18  # a frame with AVX-512 and AMX state takes about 11 KiB; C handlers that run there need room too
_SS_DISABLE = 2  # Linux's flag for "no alternate stack"


class _Stack(ctypes.Structure):  # Linux's stack_t
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


_thread = threading.local()


def ensure():
    """Give the calling thread an alternate signal stack, unless it has one (faulthandler's, say). The stack is
    freed with the thread."""
    if getattr(_thread, "checked", False):
        return
    _thread.checked = True
    sigaltstack = _sigaltstack()
    current = _Stack()
    if sigaltstack is None or sigaltstack(None, ctypes.byref(current)) != 0 or not current.ss_flags & _SS_DISABLE:
        return
    memory = ctypes.create_string_buffer(SIZE)
    if sigaltstack(ctypes.byref(_Stack(ctypes.addressof(memory), 0, SIZE)), None) == 0:
        _thread.memory = memory


def current_size():
    """The size of the calling thread's alternate signal stack; 0 where it has none."""
    sigaltstack = _sigaltstack()
    current = _Stack()
    if sigaltstack is None or sigaltstack(None, ctypes.byref(current)) != 0 or current.ss_flags & _SS_DISABLE:
        return 0
    return current.ss_size


@functools.cache
def _sigaltstack():
    """libc's ``sigaltstack`` on Linux (whose ``stack_t`` ``_Stack`` mirrors), else None."""
    if sys.platform != "linux":
        return None
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).sigaltstack
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.POINTER(_Stack), ctypes.POINTER(_Stack)]
    function.restype = ctypes.c_int
    return function
