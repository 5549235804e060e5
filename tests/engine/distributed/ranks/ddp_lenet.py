"""One rank of the DistributedDataParallel LeNet run: ``ddp_lenet.py OUT MICRO_BATCHES``. Each rank starts
from different weights (DDP must replace them with rank 0's) and trains on its half of each global batch, as
``DistributedSampler`` without shuffling deals it; its parameters go to OUT/rank-R.npz."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np
from lenet_steps import BATCH, SEED, STEPS, build, cifar_batches, train

import engine.distributed as dist
from engine.nn.parallel import DistributedDataParallel
from engine.utils.data import DistributedSampler

out, micro_batches = pathlib.Path(sys.argv[1]), int(sys.argv[2])
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
images, labels = cifar_batches()
mine = np.array(list(DistributedSampler(range(len(images)), shuffle=False)))
per_rank = BATCH // world
model = DistributedDataParallel(build(SEED + rank))
params = train(model, images, labels, STEPS, lambda step: mine[step * per_rank:(step + 1) * per_rank],
               micro_batches, model.no_sync if micro_batches > 1 else None)
np.savez(out / f"rank-{rank}.npz", **{name.removeprefix("module."): p for name, p in params.items()})
dist.destroy_process_group()
