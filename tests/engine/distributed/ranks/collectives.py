"""Each collective on this rank's inputs (``collective_cases``); the results into OUT/rank-R.npz and .pkl."""

import pathlib
import pickle
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np
from collective_cases import inputs, reduce_scatter_input

import engine
import engine.distributed as dist

out = pathlib.Path(sys.argv[1])
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
mine = inputs(rank)
results = {}


def reduced(key, op, name):
    t = engine.tensor(mine[key].copy())
    dist.all_reduce(t, op=op)
    results[name] = t.numpy()


reduced("f32", dist.ReduceOp.SUM, "sum")
reduced("f32", dist.ReduceOp.AVG, "avg")
reduced("f32", dist.ReduceOp.MAX, "max")
reduced("f32", dist.ReduceOp.MIN, "min")
reduced("f32", dist.ReduceOp.PRODUCT, "product")
reduced("f64", dist.ReduceOp.SUM, "f64_sum")
reduced("i64", dist.ReduceOp.SUM, "i64_sum")
reduced("i64", dist.ReduceOp.BAND, "i64_band")
reduced("u8", dist.ReduceOp.BXOR, "u8_bxor")
reduced("bool", dist.ReduceOp.SUM, "bool_sum")
reduced("bool", dist.ReduceOp.PRODUCT, "bool_product")
reduced("f16", dist.ReduceOp.SUM, "f16_sum")

wide = engine.tensor(mine["wide"])
transposed = wide.t()  # a view that is not contiguous: reduced in place all the same
dist.all_reduce(transposed)
results["transposed_sum"] = transposed.numpy()

t = engine.tensor(mine["f32"].copy())
dist.broadcast(t, src=world - 1)
results["broadcast"] = t.numpy()
t = engine.tensor(mine["bf16"].copy())
dist.broadcast(t, src=0)
results["bf16_broadcast"] = t.float().numpy()  # npz files cannot hold bfloat16

parts = [engine.zeros(3, 4) for _ in range(world)]
dist.all_gather(parts, engine.tensor(mine["f32"]))
results["gathered"] = np.stack([p.numpy() for p in parts])
cat = engine.zeros(world * 3, 4)
dist.all_gather_into_tensor(cat, engine.tensor(mine["f32"]))
results["gathered_cat"] = cat.numpy()
stacked = engine.zeros(world, 3, 4)
dist.all_gather_into_tensor(stacked, engine.tensor(mine["f32"]))
results["gathered_stack"] = stacked.numpy()

blocks = reduce_scatter_input(rank, world)
out_list = engine.zeros(2, 3)
dist.reduce_scatter(out_list, [engine.tensor(b) for b in blocks])
results["scattered_list"] = out_list.numpy()
out_tensor = engine.zeros(2, 3)
dist.reduce_scatter_tensor(out_tensor, engine.tensor(blocks))
results["scattered_tensor"] = out_tensor.numpy()

t = engine.tensor(mine["f32"].copy())
work = dist.all_reduce(t, async_op=True)
dist.barrier()
assert work.wait() is True and work.is_completed()
results["async_sum"] = t.numpy()

objects = [{"from": rank, "text": "héllo"}, 7] if rank == world - 1 else [None, None]
dist.broadcast_object_list(objects, src=world - 1)
gathered_objects = [None] * world
dist.all_gather_object(gathered_objects, ("rank", rank))

np.savez(out / f"rank-{rank}.npz", **results)
with open(out / f"rank-{rank}.pkl", "wb") as f:
    pickle.dump({"objects": objects, "gathered_objects": gathered_objects, "world": world,
                 "env": [dist.get_backend(), engine.get_num_threads()]}, f)
dist.destroy_process_group()
