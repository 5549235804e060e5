"""``DistributedDataParallel``: one replica of a module in each process of a group, each on its share of the
batch, kept equal by averaging the gradients over the ranks during the backward pass.

As in PyTorch: rank 0's parameters and buffers are broadcast when the wrapper is made; the parameters'
gradients are gathered, in reverse order of ``parameters()`` (roughly the order backward produces them), into
flat buckets (the first of 1 MiB, then ``bucket_cap_mb``), and a bucket's all-reduce starts as soon as its last
gradient has been accumulated, in bucket order on every rank, while backward goes on through the earlier
layers. A final callback of the backward pass waits for them and writes the averages into ``.grad``. Inside
``no_sync()`` gradients only accumulate locally; the next backward outside it averages the accumulated sums.
Buffers (batch-norm statistics) are broadcast from rank 0 before each forward that records gradients.
"""

import contextlib

import numpy as np

from ...autograd.engine import ExecutionEngine
from ...autograd.grad_mode import is_grad_enabled
from ...backend import CPU, device_context, transfer
from ...distributed import collectives
from ...distributed.process_group import default_group
from ...tensor import make_tensor
from ..module import Module

_MIB = 1 << 20
_FIRST_BUCKET_BYTES = _MIB  # PyTorch's: the last layers' gradients, ready first, go out early


class _Bucket:
    """Parameters whose gradients are averaged together through one flat array."""

    def __init__(self, indices, params):
        self.indices = indices
        first = params[indices[0]]
        with device_context(first._device):
            self.flat = first.xp.empty(sum(params[i].numel() for i in indices), first._data.dtype)
        self.tensor = make_tensor(self.flat, first._device)
        self.slots = {}
        offset = 0
        for i in indices:
            n = params[i].numel()
            self.slots[i] = (offset, offset + n)
            offset += n
        self.pending = set(indices)
        self.work = None

    def slot(self, index):
        start, stop = self.slots[index]
        return self.flat[start:stop]


def _buckets(params, cap_bytes):
    """Group parameter indices, last parameter first, into buckets of one device and dtype each."""
    buckets, current, size, limit, key = [], [], 0, _FIRST_BUCKET_BYTES, None
    for i in reversed(range(len(params))):
        p = params[i]
        nbytes = p.numel() * p._data.dtype.itemsize
        p_key = (p._device, p._data.dtype)
        if current and (p_key != key or size + nbytes > limit):
            buckets.append(current)
            current, size, limit = [], 0, cap_bytes
        current.append(i)
        size += nbytes
        key = p_key
    if current:
        buckets.append(current)
    return [_Bucket(indices, params) for indices in buckets]


def _flat_by_dtype(tensors):
    """The tensors grouped by device and dtype, each group one flat host-or-device tensor and a way back."""
    groups = {}
    for t in tensors:
        groups.setdefault((t._device, t._data.dtype), []).append(t)
    for members in groups.values():
        xp = members[0].xp
        flat = xp.concatenate([t._data.reshape(-1) for t in members])
        yield make_tensor(flat, members[0]._device), members


def _broadcast_coalesced(tensors, group, src=0):
    """Rank ``src``'s values of ``tensors`` into every rank's, one broadcast per device and dtype."""
    for flat, members in _flat_by_dtype(tensors):
        collectives.broadcast(flat, src, group=group)
        offset = 0
        for t in members:
            n = t._data.size
            t._data[...] = flat._data[offset:offset + n].reshape(t._data.shape)
            offset += n


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, init_sync=True):
        super().__init__()
        group = default_group(process_group)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        devices = {p.device for _, p in named}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel's module must have its parameters on one device, found "
                             f"{sorted(map(str, devices))}")
        if device_ids is not None and next(iter(devices)).type == "cpu":
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters "
                             f"{{{next(iter(devices))!r}}}.")
        if bucket_cap_mb is not None and not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.process_group = group
        self.dim = dim
        self.device_ids = device_ids
        self.output_device = output_device
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * _MIB)
        reducer = _Reducer(named, group, self.bucket_bytes_cap, find_unused_parameters, gradient_as_bucket_view)
        self.reducer = reducer
        _check_same_parameters(named, group)
        if init_sync and group.size() > 1:
            _broadcast_coalesced([p for _, p in module.named_parameters()] + list(module.buffers()), group)

    def forward(self, *inputs, **kwargs):
        reducer = self.reducer
        if is_grad_enabled():  # a forward without gradients leaves the next backward's averaging as it was
            reducer.sync = self.require_backward_grad_sync
            if reducer.sync:
                reducer.prepare()
        if reducer.sync and is_grad_enabled() and self.broadcast_buffers and self.process_group.size() > 1:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, self.process_group)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate gradients locally; the first one after it averages the sums."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old


class _Reducer:
    """The gradient hooks, buckets and final callback of one ``DistributedDataParallel``."""

    def __init__(self, named, group, cap_bytes, find_unused, as_bucket_view):
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        self.group = group
        self.find_unused = find_unused
        self.as_bucket_view = as_bucket_view
        self.buckets = _buckets(self.params, cap_bytes)
        self.bucket_of = {}
        for b in self.buckets:
            for i in b.indices:
                self.bucket_of[i] = b
        self.sync = True
        self.in_backward = False
        self.next_bucket = 0
        self.handles = [p.register_post_accumulate_grad_hook(self._hook(i)) for i, p in enumerate(self.params)]

    def _hook(self, index):
        def ready(param):
            self.mark_ready(index)
        return ready

    def mark_ready(self, index):
        if not self.sync:
            return
        if not self.in_backward:
            self.in_backward = True
            ExecutionEngine.queue_callback(self.finish)
        bucket = self.bucket_of[index]
        if bucket.work is not None:
            raise RuntimeError(f"Expected to mark a variable ready only once: parameter {self.names[index]} "
                               f"received a gradient after its bucket's all-reduce had started")
        grad = self.params[index].grad._data
        slot = bucket.slot(index)
        _divide_into(grad, self.group.size(), slot)
        bucket.pending.discard(index)
        self._launch_ready()

    def _launch_ready(self):
        """Start the all-reduce of each bucket whose gradients are all in, in bucket order."""
        while self.next_bucket < len(self.buckets) and not self.buckets[self.next_bucket].pending:
            bucket = self.buckets[self.next_bucket]
            bucket.work = collectives.all_reduce(bucket.tensor, group=self.group, async_op=True)
            self.next_bucket += 1

    def finish(self):
        """After backward: the buckets of parameters that had no gradient, then wait and write back."""
        self.in_backward = False
        missing = [i for b in self.buckets for i in sorted(b.pending)]
        if missing and not self.find_unused:
            self._reset()
            names = ", ".join(self.names[i] for i in missing)
            raise RuntimeError(
                f"DistributedDataParallel: on rank {self.group.rank()} these parameters received no gradient "
                f"in this backward pass: {names}. Every parameter must take part in producing the loss, or pass "
                f"find_unused_parameters=True to DistributedDataParallel.")
        used = None
        if self.find_unused:
            for i in missing:
                self.bucket_of[i].slot(i)[...] = 0
                self.bucket_of[i].pending.discard(i)
            self._launch_ready()
            used = self._used_anywhere(missing)  # after the buckets: every rank calls collectives in one order
        for bucket in self.buckets:
            bucket.work.wait()
            for i in bucket.indices:
                if used is not None and not used[i]:
                    continue
                self._write_grad(i, bucket.slot(i))
        self._reset()

    def _used_anywhere(self, missing):
        """Which parameters got a gradient on at least one rank (PyTorch's locally-used map, all-reduced)."""
        flags = np.ones(len(self.params), np.int32)
        flags[missing] = 0
        where = self.params[0]._device  # where the backend takes tensors (NCCL: the GPU)
        counts = make_tensor(transfer(flags, CPU, where), where)
        collectives.all_reduce(counts, group=self.group)
        return transfer(counts._data, where, CPU) > 0

    def _write_grad(self, index, slot):
        p = self.params[index]
        averaged = slot.reshape(p._data.shape)
        if self.as_bucket_view:
            p.grad = make_tensor(averaged, p._device)
        elif p.grad is None:
            p.grad = make_tensor(averaged.copy(), p._device)
        else:
            p.grad._data[...] = averaged

    def prepare(self):
        """Before a forward whose backward averages: every bucket waiting for its gradients again (a backward
        that failed half way left some launched)."""
        self.in_backward = False
        self._reset()

    def _reset(self):
        for bucket in self.buckets:
            bucket.pending = set(bucket.indices)
            bucket.work = None
        self.next_bucket = 0


def _divide_into(grad, world, out):
    """``out[:] = grad / world`` (PyTorch divides each gradient as it enters its bucket, then sums)."""
    out[...] = grad.reshape(-1)
    out /= world


def _check_same_parameters(named, group):
    """Every rank must wrap the same parameters (names, shapes, dtypes); say which differ rather than hang."""
    if group.size() == 1:
        return
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
    everyone = [None] * group.size()
    collectives.all_gather_object(everyone, mine, group=group)
    for rank, theirs in enumerate(everyone):
        if theirs != mine:
            diff = next((f"{a[0]} is {a[1]} {a[2]} here, {b[0]} is {b[1]} {b[2]} on rank {rank}"
                         for a, b in zip(mine, theirs) if a != b),
                        f"{len(mine)} parameters here, {len(theirs)} on rank {rank}")
            raise ValueError(f"DistributedDataParallel: the ranks' modules differ ({diff}); every rank must "
                             f"build the same model")
