"""A stand-in for ``cupy.cuda.nccl`` (with the streams and events the NCCL backend uses) for machines without
GPUs, added to the CuPy stand-in (``tests/engine/fake_cupy.py``).

The CuPy stand-in's device arrays are host memory, so the communicator reads and writes them through their
addresses (``array.data.ptr``, as NCCL reads device memory) and carries each call out at once with MPI between
the ranks. Its streams and events are therefore always done. What it proves: the backend passes NCCL the right
addresses, counts, type and operation codes, roots and ranks, on the right arrays, in the same order on every
rank. What it cannot: anything about CUDA streams, NCCL itself or a GPU.
"""

import ctypes
import itertools
import os
import types
from typing import ClassVar

import numpy as np
from mpi4py import MPI

CODES = {"NCCL_INT8": 0, "NCCL_UINT8": 1, "NCCL_INT32": 2, "NCCL_UINT32": 3, "NCCL_INT64": 4, "NCCL_UINT64": 5,
         "NCCL_FLOAT16": 6, "NCCL_FLOAT32": 7, "NCCL_FLOAT64": 8,
         "NCCL_SUM": 0, "NCCL_PROD": 1, "NCCL_MAX": 2, "NCCL_MIN": 3, "NCCL_AVG": 4}
_DTYPES = [np.int8, np.uint8, np.int32, np.uint32, np.int64, np.uint64, np.float16, np.float32, np.float64]
_OPS = [MPI.SUM, MPI.PROD, MPI.MAX, MPI.MIN]
_streams = itertools.count(1)


def _memory(ptr, count, datatype):
    """The ``count`` elements of NCCL type ``datatype`` at address ``ptr``, as a NumPy array (no copy)."""
    dtype = np.dtype(_DTYPES[datatype])
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(ptr)
    return np.frombuffer(raw, dtype=dtype)


def _spec(array):
    return [array.view(np.uint16), MPI.UINT16_T] if array.dtype == np.float16 else array


class NcclCommunicator:
    calls: ClassVar[list] = []  # (method, count, datatype, op or root): what the backend asked for, in order

    def __init__(self, ndev, comm_id, rank):
        assert len(comm_id) == 128 and isinstance(comm_id, tuple)
        self.comm = MPI.COMM_WORLD.Dup()
        assert (self.comm.Get_size(), self.comm.Get_rank()) == (ndev, rank)
        self.aborted = False

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        NcclCommunicator.calls.append(("allReduce", count, datatype, op))
        data = _memory(recvbuf, count, datatype)
        data[...] = _memory(sendbuf, count, datatype)
        if data.dtype == np.float16:  # MPI has no half type: reduced in float32, as NCCL accumulates it
            wide = data.astype(np.float32)
            self.comm.Allreduce(MPI.IN_PLACE, wide, op=_OPS[0 if op == 4 else op])
            data[...] = wide
        else:
            self.comm.Allreduce(MPI.IN_PLACE, data, op=_OPS[0 if op == 4 else op])
        if op == CODES["NCCL_AVG"]:
            data[...] = data / self.comm.Get_size()

    def bcast(self, buff, count, datatype, root, stream):
        NcclCommunicator.calls.append(("bcast", count, datatype, root))
        self.comm.Bcast(_spec(_memory(buff, count, datatype)), root=root)

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        NcclCommunicator.calls.append(("allGather", count, datatype, None))
        out = _memory(recvbuf, count * self.comm.Get_size(), datatype)
        self.comm.Allgather(_spec(_memory(sendbuf, count, datatype).copy()), _spec(out))

    def reduceScatter(self, sendbuf, recvbuf, recvcount, datatype, op, stream):
        NcclCommunicator.calls.append(("reduceScatter", recvcount, datatype, op))
        send = _memory(sendbuf, recvcount * self.comm.Get_size(), datatype).copy()
        out = _memory(recvbuf, recvcount, datatype)
        self.comm.Reduce_scatter_block(send, out, op=_OPS[0 if op == 4 else op])
        if op == CODES["NCCL_AVG"]:
            out[...] = out / self.comm.Get_size()

    def check_async_error(self):
        pass

    def abort(self):
        self.aborted = True

    def destroy(self):
        self.comm.Free()


class Stream:
    def __init__(self, non_blocking=False):
        self.ptr = next(_streams)

    def wait_event(self, event):
        assert event.recorded

    def synchronize(self):
        pass


class Event:
    done = True  # the stand-in's collectives are carried out when queued

    def __init__(self):
        self.recorded = False

    def record(self, stream=None):
        self.recorded = True

    def synchronize(self):
        pass


def install(fake_cupy):
    """Give the CuPy stand-in ``cuda.nccl``, ``cuda.Stream``, ``cuda.Event`` and ``cuda.get_current_stream``."""
    nccl = types.ModuleType("fake_nccl")
    nccl.__dict__.update(CODES)
    nccl.NcclCommunicator = NcclCommunicator
    nccl.get_unique_id = lambda: tuple(int(b) - 128 for b in os.urandom(128))
    fake_cupy.cuda.nccl = nccl
    fake_cupy.cuda.Stream = Stream
    fake_cupy.cuda.Event = Event
    current = Stream()
    fake_cupy.cuda.get_current_stream = lambda: current
    return fake_cupy
