"""``SyncBatchNorm``: batch normalisation whose training statistics are those of the whole batch across the
ranks of a process group, so a data-parallel run normalises as one process with the global batch does.

The arithmetic is batch norm's own op (``ops.norm.PooledBatchNorm``, on batch norm's compiled kernels where
they apply); this module supplies the communication. Forward gathers each rank's per-channel mean, sum of
squared deviations and count, and pools them (the parallel form of Welford's update, exact in the pooled mean
and variance). Backward all-reduces the per-channel sums of the output gradient and of its product with the
centred input, the two terms through which every sample's gradient depends on the others. The weight and bias
gradients stay local sums, as in PyTorch: ``DistributedDataParallel`` averages them over the ranks with the
other gradients. Outside training, or without a group of more than one rank, it is ``BatchNorm``.
"""

from ..distributed import collectives
from ..distributed.process_group import default_group, is_initialized
from ..ops.norm import pooled_batch_norm
from ..ops.op import xp_of
from ..tensor import make_tensor
from .normalization import _BatchNorm


class _Pooling:
    """The communication of one SyncBatchNorm call on ``device``: the ranks' statistics pooled, and their
    gradient sums added."""

    def __init__(self, group, device):
        self.group, self.device = group, device

    def combine(self, mean, var, count):
        """Each rank's per-channel mean, sum of squared deviations and count gathered, then pooled (exact), in
        float64: a float16 count overflows past 65,504 values, and these vectors are short."""
        xp = xp_of(mean)
        channels = mean.size
        wide = xp.float64
        local = xp.concatenate([mean.astype(wide), var.astype(wide) * count, xp.asarray([count], dtype=wide)])
        gathered = make_tensor(xp.empty((self.group.size(), local.size), local.dtype), self.device)
        collectives.all_gather_into_tensor(gathered, make_tensor(local, self.device), group=self.group)
        stats = gathered._data
        means, squares, counts = stats[:, :channels], stats[:, channels:2 * channels], stats[:, -1:]
        total = counts.sum()
        pooled_mean = (means * counts).sum(axis=0) / total
        pooled_var = (squares + counts * (means - pooled_mean) ** 2).sum(axis=0) / total
        return pooled_mean.astype(mean.dtype, copy=False), pooled_var.astype(var.dtype, copy=False), int(total)

    def reduce(self, gsum, gdot):
        xp = xp_of(gsum)
        sums = make_tensor(xp.concatenate([gsum, gdot]), self.device)
        collectives.all_reduce(sums, group=self.group)
        return sums._data[:gsum.size], sums._data[gsum.size:]


class SyncBatchNorm(_BatchNorm):
    """``torch.nn.SyncBatchNorm``: any input of at least 2 dimensions, channels second."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")
        if not (self.training and is_initialized() and default_group(self.process_group).size() > 1):
            return self._batch_norm(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"expected {self.num_features} channels (input's dimension 1), got input of shape "
                             f"{tuple(input.shape)}")
        momentum = self._momentum()
        track = self.track_running_stats
        pooling = _Pooling(default_group(self.process_group), input._device)
        return pooled_batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                                 self.weight, self.bias, momentum, self.eps, pooling.combine, pooling.reduce)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every ``BatchNorm*d`` in it replaced by a ``SyncBatchNorm`` that shares its
        parameters and buffers (a batch-norm ``module`` itself is returned replaced)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group, bias=module.bias is not None or not module.affine)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            if module.track_running_stats:
                out.running_mean, out.running_var = module.running_mean, module.running_var
                out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out

