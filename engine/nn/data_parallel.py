"""``DataParallel``: split the batch across devices, run a replica on each, gather the outputs.

Replicas share the original parameters through differentiable copies (``param.to(device)``), so
backward sums every replica's gradient into the original parameters, as PyTorch's broadcast does.
"""

import copy

from .. import cuda
from ..backend import device as _device
from ..ops.shape import cat
from ..tensor import Tensor
from .module import Module


def _replicate(module, dev):
    """A shallow copy of the module tree whose parameters and buffers are copies on ``dev``."""
    memo = {}

    def clone(m):
        if id(m) in memo:
            return memo[id(m)]
        new = copy.copy(m)
        memo[id(m)] = new
        d = new.__dict__
        d["_parameters"] = type(m._parameters)(
            (k, None if p is None else p.to(dev)) for k, p in m._parameters.items())
        d["_buffers"] = type(m._buffers)((k, None if b is None else b.to(dev)) for k, b in m._buffers.items())
        d["_modules"] = type(m._modules)((k, None if c is None else clone(c)) for k, c in m._modules.items())
        return new

    return clone(module)


def _scatter(value, devices, dim):
    if isinstance(value, Tensor):
        n = len(devices)
        size = value.shape[dim]
        step = -(-size // n)
        pieces = value.split(step, dim)
        return [piece.to(devices[i]) for i, piece in enumerate(pieces)]
    return [value] * len(devices)


def _gather(outputs, dev, dim):
    first = outputs[0]
    if isinstance(first, Tensor):
        return cat([o.to(dev) for o in outputs], dim)
    if isinstance(first, (tuple, list)):
        return type(first)(_gather([o[i] for o in outputs], dev, dim) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _gather([o[k] for o in outputs], dev, dim) for k in first}
    return first


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.device_ids = [_device("cuda", d) if isinstance(d, int) else _device(d) for d in device_ids]
        self.dim = dim
        if not self.device_ids:
            self.output_device = None
            return
        self.output_device = self.device_ids[0] if output_device is None else (
            _device("cuda", output_device) if isinstance(output_device, int) else _device(output_device))
        owner = self.device_ids[0]
        for t in list(module.parameters()) + list(module.buffers()):
            if t.device != owner:
                raise RuntimeError(f"module must have its parameters and buffers on device {owner} "
                                   f"(device_ids[0]) but found one of them on device: {t.device}")

    def forward(self, *inputs, **kwargs):
        if len(self.device_ids) <= 1:
            return self.module(*inputs, **kwargs)
        first = next((i for i in inputs if isinstance(i, Tensor)), None)
        count = len(self.device_ids) if first is None else min(len(self.device_ids), first.shape[self.dim])
        devices = self.device_ids[:count]
        scattered = [_scatter(i, devices, self.dim) for i in inputs]
        outputs = []
        for k, dev in enumerate(devices):
            replica = self.module if dev == self.device_ids[0] else _replicate(self.module, dev)
            outputs.append(replica(*[s[k] for s in scattered], **kwargs))
        return _gather(outputs, self.output_device, self.dim)
