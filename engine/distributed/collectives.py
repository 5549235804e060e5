"""The collectives on tensors, with ``torch.distributed``'s names and arguments: each runs on every rank of
the group, in the same order, and changes its tensors in place.

MPI takes contiguous host arrays of the types it can reduce: a tensor that is on a GPU, not contiguous, or
of a 2-byte float type is staged in a host array (2-byte floats reduced in float32) and written back when
the collective finishes. NCCL takes contiguous GPU arrays: a tensor elsewhere is refused. ``async_op=True``
returns a ``Work`` to wait on; otherwise the call waits, and raises ``DistBackendError`` past the group's
time-out.
"""

import pickle
import time

import numpy as np

from ..backend import CPU, device, device_context, is_host, transfer
from ..ops.op import xp_of
from ..tensor import Tensor
from .process_group import default_group
from .reduce_op import RedOpType


class Work:
    """A collective in flight: ``wait()`` until it has finished and its results are in the tensors."""

    def __init__(self, group, request, what, finish=None):
        self._group, self._request, self._what, self._finish = group, request, what, finish
        self._done = False

    def _complete(self):
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout=None):
        if not self._done:
            limit = self._group.timeout if timeout is None else timeout
            self._group.backend.wait(self._request, time.monotonic() + limit.total_seconds(), self._what)
            self._complete()
        return True

    def is_completed(self):
        if not self._done and self._group.backend.test(self._request):
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()


def _run(group, request, what, finish, async_op):
    work = Work(group, request, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _checked_tensor(t, what, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {name} must be a Tensor, got {type(t).__name__}")
    return t


def _is_two_byte_float(dtype):
    return dtype.itemsize == 2 and dtype.kind in "fV"


class _Staged:
    """A tensor's data as the backend takes it (``array``), and ``write_back()`` to put a result into the
    tensor."""

    def __init__(self, t, reduce, backend, what):
        self.tensor = t
        data = t._data
        if backend.takes_device_arrays:
            if t._device.type != "cuda":
                raise RuntimeError(f"{what}: backend {backend.name!r} takes tensors on a CUDA device, got one on "
                                   f"{t.device}")
            with device_context(t._device):
                self.array = data if data.flags.c_contiguous else t.xp.ascontiguousarray(data)
        else:
            host = data if t._device is CPU else transfer(data, t._device, CPU)
            if _is_two_byte_float(host.dtype):
                host = host.astype(np.float32) if reduce else np.ascontiguousarray(host).view(np.uint16)
            self.array = np.ascontiguousarray(host)
        self.in_place = self.array is data

    def empty(self, shape):
        """A new array like ``array``, on its device."""
        with device_context(self.tensor._device if not is_host(self.array) else CPU):
            return xp_of(self.array).empty(shape, self.array.dtype)

    def write_back(self):
        if not self.in_place:
            _write(self.tensor, self.array)


def _write(t, result):
    """An array of the staged type (on the host or ``t``'s device) into tensor ``t``'s data."""
    if result.dtype == np.uint16 and t._data.dtype != np.uint16:
        result = result.view(t._data.dtype)
    if is_host(result) and t._device is not CPU:
        result = transfer(result, CPU, t._device)
    with device_context(t._device):
        t._data[...] = result.astype(t._data.dtype, copy=False)


def _check_reducible(staged, op, what):
    if not isinstance(op, RedOpType):
        raise TypeError(f"{what}: op must be a ReduceOp member such as ReduceOp.SUM, got {op!r}")
    kind = staged.array.dtype.kind
    if op is RedOpType.AVG and kind not in "fc":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {staged.tensor.dtype}")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in "iub":
        raise TypeError(f"{what}: bitwise {op.name} needs an integer or bool tensor, got {staged.tensor.dtype}")


def _check_rank(rank, group, what, name):
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < group.size():
        raise ValueError(f"{what}: {name}={rank!r} is not a rank of the group (0 to {group.size() - 1})")


def all_reduce(tensor, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks; every rank gets the result in ``tensor``."""
    what = "all_reduce"
    group = default_group(group)
    staged = _Staged(_checked_tensor(tensor, what), True, group.backend, what)
    _check_reducible(staged, op, what)
    return _reduction(group, staged, op, lambda sent: group.backend.all_reduce(staged.array, sent), what, async_op)


def _reduction(group, staged, op, start, what, async_op):
    """Run ``start(op)`` and write ``staged`` back; AVG as a sum divided by the ranks where the backend lacks it."""
    divide = op is RedOpType.AVG and not group.backend.averages

    def finish():
        if divide:
            staged.array /= group.size()
        staged.write_back()

    return _run(group, start(RedOpType.SUM if divide else op), what, finish, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Rank ``src``'s ``tensor`` into every rank's ``tensor``."""
    what = "broadcast"
    group = default_group(group)
    _check_rank(src, group, what, "src")
    staged = _Staged(_checked_tensor(tensor, what), False, group.backend, what)
    request = group.backend.broadcast(staged.array, int(src))
    return _run(group, request, what, staged.write_back, async_op)


def _same_layout(tensors, like, what, name):
    for i, t in enumerate(tensors):
        _checked_tensor(t, what, f"{name}[{i}]")
        if t.shape != like.shape or t.dtype != like.dtype:
            raise ValueError(f"{what}: {name}[{i}] is {t.dtype} {tuple(t.shape)}, but every entry must match "
                             f"the input's {like.dtype} {tuple(like.shape)}")


def _check_count(tensors, group, what, name):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != group.size():
        count = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{what}: {name} must be a list of one tensor per rank ({group.size()}), got {count}")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's ``tensor`` into ``tensor_list[rank]`` on every rank."""
    what = "all_gather"
    group = default_group(group)
    _checked_tensor(tensor, what)
    _check_count(tensor_list, group, what, "tensor_list")
    _same_layout(tensor_list, tensor, what, "tensor_list")
    staged = _Staged(tensor, False, group.backend, what)
    out = staged.empty((group.size(), *staged.array.shape))

    def finish():
        for t, result in zip(tensor_list, out):
            _write(t, result)

    request = group.backend.all_gather(out, staged.array)
    return _run(group, request, what, finish, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor``, in rank order, into ``output_tensor`` (concatenated along the first
    dimension, or stacked along a new one)."""
    what = "all_gather_into_tensor"
    group = default_group(group)
    _checked_tensor(output_tensor, what, "output_tensor")
    _checked_tensor(input_tensor, what, "input_tensor")
    _check_sizes(output_tensor, input_tensor, group, what)
    staged_in = _Staged(input_tensor, False, group.backend, what)
    staged_out = _Staged(output_tensor, False, group.backend, what)
    request = group.backend.all_gather(staged_out.array, staged_in.array)
    return _run(group, request, what, staged_out.write_back, async_op)


def _check_sizes(big, small, group, what):
    if big.dtype != small.dtype:
        raise ValueError(f"{what}: the tensors' dtypes differ ({big.dtype} and {small.dtype})")
    if big.numel() != small.numel() * group.size():
        raise ValueError(f"{what}: a tensor of {tuple(big.shape)} must hold {group.size()} (the world size) "
                         f"times the elements of one of {tuple(small.shape)}")


def reduce_scatter(output, input_list, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``input_list`` over the ranks; rank ``r`` gets the reduction of everyone's ``input_list[r]``."""
    what = "reduce_scatter"
    group = default_group(group)
    _checked_tensor(output, what, "output")
    _check_count(input_list, group, what, "input_list")
    _same_layout(input_list, output, what, "input_list")
    parts = [_Staged(t, True, group.backend, what).array for t in input_list]
    with device_context(output._device):
        blocks = xp_of(parts[0]).stack(parts)
    return _reduce_scatter(group, output, blocks, op, what, async_op)


def reduce_scatter_tensor(output, input, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``input`` (the world size times ``output``'s elements) over the ranks; rank ``r`` gets block ``r``."""
    what = "reduce_scatter_tensor"
    group = default_group(group)
    _checked_tensor(output, what, "output")
    _checked_tensor(input, what, "input")
    _check_sizes(input, output, group, what)
    return _reduce_scatter(group, output, _Staged(input, True, group.backend, what).array, op, what, async_op)


def _reduce_scatter(group, output, blocks, op, what, async_op):
    staged = _Staged(output, True, group.backend, what)
    _check_reducible(staged, op, what)
    return _reduction(group, staged, op, lambda sent: group.backend.reduce_scatter(staged.array, blocks, sent),
                      what, async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of the group has reached this call."""
    group = default_group(group)
    return _run(group, group.backend.barrier(), "barrier", None, async_op)


def _broadcast_bytes(payload, src, group, what):
    """``payload`` (bytes, on ``src``) onto every rank: its length first, then the bytes."""
    length = np.array([len(payload) if payload is not None else 0], np.int64)
    length = _broadcast_host(length, src, group, what)
    buffer = np.frombuffer(payload, np.uint8).copy() if payload is not None else np.empty(length[0], np.uint8)
    return _broadcast_host(buffer, src, group, what).tobytes()


def _broadcast_host(array, src, group, what):
    """A host array broadcast by whatever the backend takes (through the group's GPU for NCCL)."""
    backend = group.backend
    if not backend.takes_device_arrays:
        backend.wait(backend.broadcast(array, src), _deadline(group), what)
        return array
    gpu = device("cuda", backend.device_index)
    on_gpu = transfer(array, CPU, gpu)
    backend.wait(backend.broadcast(on_gpu, src), _deadline(group), what)
    return transfer(on_gpu, gpu, CPU)


def _deadline(group):
    return time.monotonic() + group.timeout.total_seconds()


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Rank ``src``'s picklable objects into every rank's ``object_list`` (the ranks are one program's own
    processes; nothing read from a file is unpickled here)."""
    what = "broadcast_object_list"
    group = default_group(group)
    _check_rank(src, group, what, "src")
    mine = pickle.dumps(list(object_list)) if group.rank() == src else None
    received = pickle.loads(_broadcast_bytes(mine, int(src), group, what))
    if len(received) != len(object_list):
        raise ValueError(f"{what}: rank {src} sent {len(received)} objects into a list of {len(object_list)}")
    object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """Every rank's picklable ``obj`` into ``object_list[rank]``."""
    what = "all_gather_object"
    group = default_group(group)
    _check_count(object_list, group, what, "object_list")
    for rank in range(group.size()):
        payload = pickle.dumps(obj) if rank == group.rank() else None
        object_list[rank] = pickle.loads(_broadcast_bytes(payload, rank, group, what))
