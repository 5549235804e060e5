"""The NCCL backend: collectives on "cuda" tensors and a short DistributedDataParallel run with SyncBatchNorm;
the results into OUT/rank-R.npz and .json. ``nccl.py OUT``: on the CuPy stand-in with its NCCL stand-in
(``fake_nccl``); ``nccl.py OUT real``: on this machine's GPUs, one per rank."""

import json
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # fake_cupy
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import fake_nccl
import numpy as np
from collective_cases import inputs, reduce_scatter_input
from fake_cupy import FakeCupy
from sync_bn_steps import BATCH, build, data, train

import engine
import engine.distributed as dist
from engine import backend
from engine.nn.parallel import DistributedDataParallel

out, real = pathlib.Path(sys.argv[1]), sys.argv[2:] == ["real"]
if real:
    engine.cuda.set_device(int(os.environ["LOCAL_RANK"]))
else:
    backend.install_cuda_module(fake_nccl.install(FakeCupy(device_count=1)))
dist.init_process_group("nccl")
rank, world = dist.get_rank(), dist.get_world_size()
mine = inputs(rank)
results, record = {}, {"backend": dist.get_backend(), "real": real}

for key, op, name in (("f32", "SUM", "sum"), ("f32", "AVG", "avg"), ("f32", "MAX", "max"), ("f32", "MIN", "min"),
                      ("f32", "PRODUCT", "product"), ("f64", "SUM", "f64_sum"), ("i64", "SUM", "i64_sum"),
                      ("bool", "SUM", "bool_sum"), ("bool", "PRODUCT", "bool_product"), ("f16", "SUM", "f16_sum")):
    t = engine.tensor(mine[key].copy(), device="cuda")
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    assert t.device.type == "cuda"
    results[name] = t.cpu().numpy()
transposed = engine.tensor(mine["wide"], device="cuda").t()
dist.all_reduce(transposed)
results["transposed_sum"] = transposed.cpu().numpy()
t = engine.tensor(mine["f32"].copy(), device="cuda")
dist.broadcast(t, src=world - 1)
results["broadcast"] = t.cpu().numpy()
parts = [engine.zeros(3, 4, device="cuda") for _ in range(world)]
dist.all_gather(parts, engine.tensor(mine["f32"], device="cuda"))
results["gathered"] = np.stack([p.cpu().numpy() for p in parts])
stacked = engine.zeros(world, 3, 4, device="cuda")
dist.all_gather_into_tensor(stacked, engine.tensor(mine["f32"], device="cuda"))
results["gathered_stack"] = stacked.cpu().numpy()
out_tensor = engine.zeros(2, 3, device="cuda")
dist.reduce_scatter_tensor(out_tensor, engine.tensor(reduce_scatter_input(rank, world), device="cuda"))
results["scattered_tensor"] = out_tensor.cpu().numpy()
objects = [{"from": rank}] if rank == world - 1 else [None]
dist.broadcast_object_list(objects, src=world - 1)
record["objects"] = objects

for name, call in (("host tensor", lambda: dist.all_reduce(engine.ones(2))),
                   ("bitwise and", lambda: dist.all_reduce(engine.ones(2, dtype=engine.int64, device="cuda"),
                                                           op=dist.ReduceOp.BAND))):
    try:
        call()
        record[name] = "no error"
    except (RuntimeError, ValueError) as e:
        record[name] = f"{type(e).__name__}: {e}"

images, labels = data()
half = BATCH // world
model = DistributedDataParallel(engine.nn.SyncBatchNorm.convert_sync_batchnorm(build()).to("cuda"))
state = train(model, images, labels, lambda step: np.arange(step * BATCH + rank * half,
                                                            step * BATCH + (rank + 1) * half), device="cuda")
np.savez(out / f"rank-{rank}.npz", **results, **{f"model.{k}": v for k, v in state.items()})
record["calls"] = [] if real else fake_nccl.NcclCommunicator.calls[:3]
(out / f"rank-{rank}.json").write_text(json.dumps(record))
dist.destroy_process_group()
