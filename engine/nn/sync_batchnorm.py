"""``SyncBatchNorm``: batch normalisation whose training statistics are those of the whole batch across the
ranks of a process group, so a data-parallel run normalises as one process with the global batch does.

Forward gathers each rank's per-channel mean, sum of squared deviations and count, and combines them (the
parallel form of Welford's update, exact in the pooled mean and variance). Backward all-reduces the
per-channel sums of the output gradient and of its product with the centred input, the two terms through
which every sample's gradient depends on the others. The weight and bias gradients stay local sums, as in
PyTorch: ``DistributedDataParallel`` averages them over the ranks with the other gradients.
Outside training, or without a group of more than one rank, it is ``BatchNorm``.
"""

from ..autograd.function import Function
from ..distributed import collectives
from ..distributed.process_group import default_group, is_initialized
from ..tensor import make_tensor
from .normalization import _BatchNorm


def _channel_axes(x):
    return (0, *range(2, x.ndim))


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class _SyncBatchNormFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum, group):
        x = input._data
        xp = input.xp
        axes = _channel_axes(x)
        channels = x.shape[1]
        count = x.size // channels
        mean = x.mean(axis=axes)
        squares = ((x - _per_channel(mean, x.ndim)) ** 2).sum(axis=axes)
        local = xp.concatenate([mean, squares, xp.asarray([count], dtype=x.dtype)])
        gathered = make_tensor(xp.empty((group.size(), local.size), x.dtype), input._device)
        collectives.all_gather_into_tensor(gathered, make_tensor(local, input._device), group=group)
        stats = gathered._data
        means, sums, counts = stats[:, :channels], stats[:, channels:2 * channels], stats[:, -1:]
        total = counts.sum()
        if total <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{tuple(input.shape)} on each of {group.size()} ranks")
        g_mean = (means * counts).sum(axis=0) / total
        var = (sums + counts * (means - g_mean) ** 2).sum(axis=0) / total
        invstd = 1 / xp.sqrt(var + eps)
        if running_mean is not None:
            running_mean._data *= 1 - momentum
            running_mean._data += momentum * g_mean
            running_var._data *= 1 - momentum
            running_var._data += momentum * var * (total / (total - 1))
        xhat = (x - _per_channel(g_mean, x.ndim)) * _per_channel(invstd, x.ndim)
        y = xhat if weight is None else xhat * _per_channel(weight._data, x.ndim)
        if bias is not None:
            y = y + _per_channel(bias._data, x.ndim)
        ctx.save_for_backward(input, weight)
        ctx.mean, ctx.invstd, ctx.total, ctx.group = g_mean, invstd, total, group
        return make_tensor(y.astype(x.dtype, copy=False), input._device)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        x, dy = input._data, grad_output._data
        xp = input.xp
        axes = _channel_axes(x)
        xmu = x - _per_channel(ctx.mean, x.ndim)
        sum_dy = dy.sum(axis=axes)
        sum_dy_xmu = (dy * xmu).sum(axis=axes)
        grad_weight = grad_bias = None
        if weight is not None and ctx.needs_input_grad[1]:
            grad_weight = make_tensor(sum_dy_xmu * ctx.invstd, input._device)
        if ctx.needs_input_grad[2]:
            grad_bias = make_tensor(sum_dy.copy(), input._device)
        grad_input = None
        if ctx.needs_input_grad[0]:
            sums = make_tensor(xp.concatenate([sum_dy, sum_dy_xmu]), input._device)
            collectives.all_reduce(sums, group=ctx.group)
            channels = x.shape[1]
            mean_dy = sums._data[:channels] / ctx.total
            mean_dy_xmu = sums._data[channels:] / ctx.total
            scale = ctx.invstd if weight is None else ctx.invstd * weight._data
            g = dy - _per_channel(mean_dy, x.ndim) - xmu * _per_channel(ctx.invstd ** 2 * mean_dy_xmu, x.ndim)
            grad_input = make_tensor((g * _per_channel(scale, x.ndim)).astype(x.dtype, copy=False), input._device)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


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
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, self.running_mean if track else None,
                                            self.running_var if track else None, self.eps, momentum,
                                            default_group(self.process_group))

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

