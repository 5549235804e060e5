"""DistributedDataParallel's edge cases on each rank; what happened goes to OUT/rank-R.json."""

import contextlib
import json
import pathlib
import sys

import numpy as np

import engine
import engine.distributed as dist
from engine import nn
from engine.nn.parallel import DistributedDataParallel

out = pathlib.Path(sys.argv[1])
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
record = {}


class TwoBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(4, 3)

    def forward(self, x, use_b=True):
        return self.a(x) + (self.b(x) if use_b else 0)


def averaged(local):
    """Every rank's arrays, averaged: what DistributedDataParallel's gradients must be."""
    everyone = [None] * world
    dist.all_gather_object(everyone, local)
    return {k: (sum(e[k] for e in everyone) / world).tolist() for k in local}


x = engine.tensor(np.random.default_rng(rank).standard_normal((5, 4)).astype(np.float32))

# A parameter that takes no part in the loss, without find_unused_parameters: an error naming it.
engine.manual_seed(0)
model = DistributedDataParallel(TwoBranches())
try:
    model(x, use_b=False).sum().backward()
    record["unused"] = "no error"
except RuntimeError as e:
    record["unused"] = str(e)

# With find_unused_parameters: rank 1 leaves branch b out; b's gradient is the average of what the ranks gave.
engine.manual_seed(0)
plain = TwoBranches()
use_b = rank == 0
plain(x, use_b).sum().backward()
local = {n: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape, np.float32))
         for n, p in plain.named_parameters()}
engine.manual_seed(0)
model = DistributedDataParallel(TwoBranches(), find_unused_parameters=True)
for _ in range(2):  # the second pass checks that the first left the reducer ready
    model.zero_grad()
    model(x, use_b).sum().backward()
record["find_unused"] = {n.removeprefix("module."): p.grad.numpy().tolist() for n, p in model.named_parameters()}
record["find_unused_expected"] = averaged(local)

# Gradients as views of the buckets.
engine.manual_seed(0)
model = DistributedDataParallel(nn.Linear(4, 3), gradient_as_bucket_view=True)
model(x).sum().backward()
flat = model.reducer.buckets[0].flat
record["bucket_view"] = all(np.shares_memory(p.grad.numpy(), flat) for p in model.parameters())

# Buffers follow rank 0's before each forward that records gradients, not under no_grad.
engine.manual_seed(0)
bn = nn.BatchNorm1d(4)
bn.eval()
model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 4), bn))
bn.running_mean.fill_(float(rank + 1))
with engine.no_grad():
    model(x)
record["buffer_no_grad"] = bn.running_mean.numpy().tolist()
model(x)
record["buffer_synced"] = bn.running_mean.numpy().tolist()

# A backward that fails half way (some gradients in, the final callback never run) leaves the next step sound.
engine.manual_seed(0)
model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 3)))
hidden = {}
model.module[1].register_forward_hook(lambda m, i, out: hidden.update(out=out))


def fail(grad):
    raise RuntimeError("a hook fails")


output = model(x)
hidden["out"].register_hook(fail)  # after the last layer's gradients are in, before the first layer's
with contextlib.suppress(RuntimeError):
    output.sum().backward()
model.zero_grad()
model(x * (rank + 1)).sum().backward()
record["after_failure"] = [p.grad.numpy().tolist() for p in model.parameters()]

# Ranks that build different models: an error naming the difference, not a hang.
try:
    DistributedDataParallel(nn.Linear(4, 2 + rank))
    record["mismatch"] = "no error"
except ValueError as e:
    record["mismatch"] = str(e)

(out / f"rank-{rank}.json").write_text(json.dumps(record))
dist.destroy_process_group()
