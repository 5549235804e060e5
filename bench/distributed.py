"""Data-parallel scaling on this machine, with the engine alone (PyTorch is not involved).

    python bench/distributed.py [--template resnet_cifar10] [--batch 128] [--seconds 20]

Trains the template on random CIFAR-sized batches of ``--batch`` images (the global batch), each process with
one thread:

- ``1 process``: the whole batch in one process;
- ``2 processes``: ``python -m engine.distributed.run --nproc-per-node 2``, DistributedDataParallel with
  SyncBatchNorm, half the batch each, as ``main.py train --processes 2`` trains;
- ``2 processes (DDP, local batch norm)``: the same without SyncBatchNorm (each rank normalises with its own
  half's statistics, as PyTorch's DistributedDataParallel does by default), to see what SyncBatchNorm costs;
- ``2 processes, no communication``: the same two processes, each training its half alone (plain batch norm,
  gradients not averaged), which is the compute the communication adds to.

Prints images/s of each (and of one process with every usable CPU, as ``main.py train`` runs), the speed-up and
efficiency of two processes, and the communication share of a step: (step time with communication - without) /
step time with.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import make_batches

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARMUP = 5


def _train(model, batch, steps, out_path, rank=0, world=1, communicate=True, sync_bn=True):
    """Time ``steps`` training steps of ``model`` on this rank's share of random batches; rank 0 writes
    {seconds, steps} to ``out_path``."""
    import engine
    import engine.distributed as dist
    from engine.nn.parallel import DistributedDataParallel

    share = batch // world
    images, labels = make_batches(share, count=8, seed=rank)
    xs = [engine.from_numpy(images[i]) for i in range(len(images))]
    ys = [engine.from_numpy(labels[i]) for i in range(len(labels))]
    if world > 1 and communicate:
        model = DistributedDataParallel(engine.nn.SyncBatchNorm.convert_sync_batchnorm(model) if sync_bn else model)
    optimizer = engine.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = engine.nn.CrossEntropyLoss()

    def step(i):
        optimizer.zero_grad()
        loss_fn(model(xs[i % len(xs)]), ys[i % len(ys)]).backward()
        optimizer.step()

    for i in range(WARMUP):
        step(i)
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        with open(out_path, "w") as f:
            json.dump({"seconds": seconds, "steps": steps}, f)


def child(args):
    import engine
    import engine.distributed as dist
    from engine.graph.templates import load_template

    rank, world = 0, 1
    if args.mode != "single":
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
    engine.manual_seed(0)
    model = load_template(args.template).build()
    _train(model, args.batch, args.steps, args.out, rank, world, communicate=args.mode.startswith("ddp"),
           sync_bn=args.mode == "ddp")
    if world > 1:
        dist.destroy_process_group()


def _measure(mode, args, steps, threads=1):
    from engine.distributed.run import launch

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "result.json")
        command = [os.path.abspath(__file__), "--child", mode, "--template", args.template, "--batch",
                   str(args.batch), "--steps", str(steps), "--out", out]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if mode == "single":
            subprocess.run([sys.executable, *command], check=True, env=env, cwd=ROOT)
        else:
            outcome = launch(command, 2, env=env)
            if outcome.code != 0:
                raise SystemExit(f"the two processes failed: {outcome.describe()}")
        with open(out) as f:
            result = json.load(f)
    return args.batch * result["steps"] / result["seconds"], result["seconds"] / result["steps"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", default="resnet_cifar10")
    p.add_argument("--batch", type=int, default=128, help="the global batch (default 128)")
    p.add_argument("--seconds", type=float, default=20, help="about how long each measurement runs")
    p.add_argument("--child", choices=("single", "ddp", "ddp-local-bn", "alone"), help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.mode = args.child
        return child(args)
    from engine.threads import usable_cpus

    print(f"{args.template}, global batch {args.batch}, one thread per process, {usable_cpus()} usable CPUs")
    probe, _ = _measure("single", args, 3)
    steps = max(10, round(args.seconds * probe / args.batch))
    single, _ = _measure("single", args, steps)
    cpus = usable_cpus()
    whole, _ = _measure("single", args, steps, threads=cpus)
    ddp, ddp_step = _measure("ddp", args, steps)
    local_bn, _ = _measure("ddp-local-bn", args, steps)
    alone, alone_step = _measure("alone", args, steps)
    print(f"{'1 process':<34} {single:>8.0f} img/s")
    print(f"{f'1 process, {cpus} threads':<34} {whole:>8.0f} img/s   (what main.py train uses)")
    print(f"{'2 processes (DDP, SyncBatchNorm)':<34} {ddp:>8.0f} img/s   speed-up {ddp / single:.2f}x, "
          f"efficiency {ddp / (2 * single):.0%}")
    print(f"{'2 processes (DDP, local batch norm)':<34} {local_bn:>8.0f} img/s")
    print(f"{'2 processes, no communication':<34} {alone:>8.0f} img/s")
    print(f"communication share of a step: {(ddp_step - alone_step) / ddp_step:.0%} "
          f"({1e3 * (ddp_step - alone_step):.1f} ms of {1e3 * ddp_step:.1f} ms)")


if __name__ == "__main__":
    main()
