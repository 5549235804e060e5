"""One rank of the SyncBatchNorm checks: ``sync_batchnorm.py OUT``: a lone SyncBatchNorm's first step on this
rank's half of a batch, then the network of ``sync_bn_steps`` trained with DistributedDataParallel."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np
from sync_bn_steps import BATCH, build, data, first_step, train, upstream

import engine
import engine.distributed as dist
from engine.nn.parallel import DistributedDataParallel

out = pathlib.Path(sys.argv[1])
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
images, labels = data()
per_rank = BATCH // world
mine = slice(rank * per_rank, (rank + 1) * per_rank)

engine.manual_seed(0)
lone = engine.nn.SyncBatchNorm(3)
y, dx, dw, db = first_step(lone, images[mine], upstream()[mine])
model = DistributedDataParallel(engine.nn.SyncBatchNorm.convert_sync_batchnorm(build()))
state = train(model, images, labels, lambda step: np.arange(step * BATCH + mine.start, step * BATCH + mine.stop))
np.savez(out / f"rank-{rank}.npz", y=y, dx=dx, dw=dw, db=db, running_mean=lone.running_mean.numpy(),
         running_var=lone.running_var.numpy(), **{f"model.{k}": v for k, v in state.items()})
dist.destroy_process_group()
