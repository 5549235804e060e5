"""Training one document on several processes so that it gives what one process gives (up to float32 summation
order): every rank reads the same global batches (same sampler, same augmentation draws) and trains on its
contiguous share of each; ``DistributedDataParallel`` averages the gradients, ``SyncBatchNorm`` normalises
with the whole batch's statistics, and the step's loss, accuracy and stop request are summed over the ranks, so
every rank takes the same decisions (a stop, a diverging loss) at the same step.

Shares differ by at most one image when the batch does not divide evenly; each rank's loss is then weighted
by its share, so the averaged gradient is still the gradient of the whole batch's mean loss.
"""

import numpy as np

from ..backend import CPU, transfer
from ..distributed import collectives
from ..distributed.process_group import default_group
from ..nn.parallel import DistributedDataParallel
from ..nn.sync_batchnorm import SyncBatchNorm
from ..tensor import make_tensor


def batch_problem(batch_size, train_size, processes):
    """Why a batch size cannot be shared out among ``processes`` (every rank needs an image of every batch,
    the last one of each epoch included), or None."""
    if processes <= 1:
        return None
    if batch_size < processes:
        return f"a batch of {batch_size} cannot be shared out among {processes} processes: each needs an image"
    last = train_size % batch_size
    if 0 < last < processes:
        return (f"the last batch of each epoch would hold {last} image{'s' if last > 1 else ''} "
                f"({train_size:,} training images in batches of {batch_size}), fewer than the {processes} "
                f"processes; change the batch size or the number of training images")
    return None


class RankShare:
    """This rank's part in data-parallel training: the model to run forward (``module``), its share of each
    batch (``share``) and the sums over the ranks (``combine``)."""

    def __init__(self, model, group=None):
        self.group = default_group(group)
        self.rank, self.world = self.group.rank(), self.group.size()
        self.device = next(model.parameters()).device
        SyncBatchNorm.convert_sync_batchnorm(model)
        self.module = DistributedDataParallel(model, process_group=self.group)

    def bounds(self, count):
        """The rows of a batch of ``count`` that are this rank's: contiguous, sizes differing by at most one."""
        edges = np.linspace(0, count, self.world + 1).round().astype(int)
        return int(edges[self.rank]), int(edges[self.rank + 1])

    def share(self, inputs, targets):
        """This rank's rows of the batch, and the weight of its loss (its share of the batch, times the ranks)."""
        count = len(targets)
        if count < self.world:  # every rank sees the same batch, so every rank raises here alike
            raise ValueError(f"a batch of {count} image{'s' if count != 1 else ''} cannot be shared among "
                             f"{self.world} processes (were unreadable images skipped?)")
        start, stop = self.bounds(count)
        return inputs[start:stop], targets[start:stop], self.world * (stop - start) / count

    def combine(self, loss_sum, correct, count, stop):
        """The sums over the ranks of the step's loss, correct predictions and images, and whether any rank
        was asked to stop."""
        where = self.device  # where the backend takes tensors (NCCL: the GPU)
        totals = make_tensor(transfer(np.array([loss_sum, correct, count, float(stop)], np.float64), CPU, where),
                             where)
        collectives.all_reduce(totals, group=self.group)
        loss_sum, correct, count, stops = transfer(totals._data, where, CPU).tolist()
        return loss_sum, round(correct), round(count), stops > 0
