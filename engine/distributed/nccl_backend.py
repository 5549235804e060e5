"""Collectives on NCCL through CuPy (``cupy.cuda.nccl``), for tensors on GPUs: one communicator per process,
on the CUDA device current when the group is made (``engine.cuda.set_device(LOCAL_RANK)`` first, as with
PyTorch). Rank 0 makes NCCL's unique id and hands it to the others over MPI: the processes are MPI ranks,
started by ``python -m engine.distributed.run``.

Each collective is queued on a stream of its own once the current stream's work on its inputs is done; an
event recorded after it is what ``wait`` polls, against the group's time-out. NCCL itself waits for ever for
a peer that died, so a time-out aborts the communicator (``ncclCommAbort``) before raising.
"""

import time

import numpy as np

from ..backend import cuda_module
from .errors import DistBackendError, DistError
from .reduce_op import RedOpType


class _Queued:
    """A collective on the stream: the event that marks its end, and the arrays it uses, kept alive until then."""

    __slots__ = ("arrays", "event")

    def __init__(self, event, arrays):
        self.event, self.arrays = event, arrays


def _names(nccl):
    """NCCL's type and operation codes as CuPy names them."""
    types = {np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.float32): nccl.NCCL_FLOAT32,
             np.dtype(np.float64): nccl.NCCL_FLOAT64, np.dtype(np.int8): nccl.NCCL_INT8,
             np.dtype(np.uint8): nccl.NCCL_UINT8, np.dtype(np.int32): nccl.NCCL_INT32,
             np.dtype(np.uint32): nccl.NCCL_UINT32, np.dtype(np.int64): nccl.NCCL_INT64,
             np.dtype(np.uint64): nccl.NCCL_UINT64, np.dtype(np.bool_): nccl.NCCL_UINT8}
    ops = {RedOpType.SUM: nccl.NCCL_SUM, RedOpType.PRODUCT: nccl.NCCL_PROD, RedOpType.MIN: nccl.NCCL_MIN,
           RedOpType.MAX: nccl.NCCL_MAX, RedOpType.AVG: nccl.NCCL_AVG}
    # On booleans (bytes of 0 and 1) a sum is a logical or, as in PyTorch: the maximum; a product the minimum.
    bool_ops = {RedOpType.SUM: nccl.NCCL_MAX, RedOpType.MAX: nccl.NCCL_MAX, RedOpType.PRODUCT: nccl.NCCL_MIN,
                RedOpType.MIN: nccl.NCCL_MIN}
    return types, ops, bool_ops


class NCCLBackend:
    name = "nccl"
    takes_device_arrays = True
    averages = True  # NCCL has ReduceOp.AVG itself

    def __init__(self, device_index):
        cupy = cuda_module()
        if cupy is None or not hasattr(cupy.cuda, "nccl"):
            raise DistError("backend 'nccl' needs CuPy with NCCL on a machine with a GPU (pip install -e '.[gpu]')")
        from mpi4py import MPI  # the unique id travels over MPI: only when a process group asks for NCCL

        world = MPI.COMM_WORLD
        self.rank, self.size = world.Get_rank(), world.Get_size()
        self._cupy, self._nccl = cupy, cupy.cuda.nccl
        self._types, self._ops, self._bool_ops = _names(self._nccl)
        self.device_index = int(device_index)
        unique_id = self._nccl.get_unique_id() if self.rank == 0 else None
        unique_id = world.bcast(unique_id, root=0)
        with cupy.cuda.Device(self.device_index):
            self.comm = self._nccl.NcclCommunicator(self.size, unique_id, self.rank)
            self.stream = cupy.cuda.Stream(non_blocking=True)

    def _type(self, array):
        code = self._types.get(array.dtype)
        if code is None:
            raise TypeError(f"NCCL does not take {array.dtype} tensors")
        return code

    def _op(self, array, op):
        table = self._bool_ops if array.dtype.kind == "b" else self._ops
        code = table.get(op)
        if code is None:
            raise ValueError(f"Cannot use ReduceOp.{op.name} with NCCL")
        return code

    def _queue(self, call, *arrays):
        """Run ``call(stream pointer)`` on the collective stream after the current stream's work; the request
        (its end's event), which holds ``arrays`` until then: CuPy's memory pool would hand out the memory of an
        array dropped meanwhile while NCCL still reads or writes it."""
        cuda = self._cupy.cuda
        with cuda.Device(self.device_index):
            inputs_ready = cuda.Event()
            inputs_ready.record(cuda.get_current_stream())
            self.stream.wait_event(inputs_ready)
            call(self.stream.ptr)
            done = cuda.Event()
            done.record(self.stream)
        return _Queued(done, arrays)

    def all_reduce(self, array, op):
        return self._queue(lambda s: self.comm.allReduce(array.data.ptr, array.data.ptr, array.size,
                                                         self._type(array), self._op(array, op), s), array)

    def broadcast(self, array, src):
        return self._queue(lambda s: self.comm.bcast(array.data.ptr, array.size, self._type(array), src, s),
                           array)

    def all_gather(self, out, array):
        return self._queue(lambda s: self.comm.allGather(array.data.ptr, out.data.ptr, array.size,
                                                         self._type(array), s), out, array)

    def reduce_scatter(self, out, array, op):
        return self._queue(lambda s: self.comm.reduceScatter(array.data.ptr, out.data.ptr, out.size,
                                                             self._type(array), self._op(array, op), s), out, array)

    def barrier(self):
        with self._cupy.cuda.Device(self.device_index):
            token = self._cupy.zeros(1, np.float32)
        return self.all_reduce(token, RedOpType.SUM)

    def test(self, request):
        return request.event.done

    def wait(self, request, deadline, what):
        while not request.event.done:
            self.comm.check_async_error()
            if time.monotonic() > deadline:
                self.comm.abort()
                raise DistBackendError(f"{what} on rank {self.rank} of {self.size} did not finish within the "
                                       f"process group's time-out: another rank died, hung, or called a different "
                                       f"collective. The NCCL communicator was aborted.")
            time.sleep(1e-4)

    def close(self):
        self.comm.destroy()
