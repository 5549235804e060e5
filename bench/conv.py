"""Forward+backward of the seed tutorial's CIFAR-10 Net layers against PyTorch, same threads, one run.

    python bench/conv.py

Layers: conv 3->6 k5 on 32x32, max-pool 2, conv 6->16 k5 on 14x14, max-pool 2, each alone and chained,
at batch 4, 64 and 256. The images do not require grad (as in training), the activations do. Prints the
time per call and the ratio ours/PyTorch (below 1.0 means we are faster).
"""

import numpy as np
import torch
import torch.nn.functional as F
from common import compare, print_threads

import engine
from engine.ops.conv import conv2d
from engine.ops.pool import max_pool2d


def step(conv, pool, x, w1, b1, w2, b2, params):
    y = pool(conv(pool(conv(x, w1, b1), 2), w2, b2), 2)
    y.sum().backward()
    for p in params:
        p.grad = None


def one(fn, x, params):
    fn(x).sum().backward()
    for p in params:
        p.grad = None


def main():
    print_threads(torch)
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((6, 3, 5, 5), dtype=np.float32) * 0.1, np.zeros(6, np.float32)
    w2, b2 = rng.standard_normal((16, 6, 5, 5), dtype=np.float32) * 0.1, np.zeros(16, np.float32)
    e_par = [engine.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
    t_par = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
    ew1, eb1, ew2, eb2 = e_par
    tw1, tb1, tw2, tb2 = t_par
    cases = []
    for n in (4, 64, 256):
        x = rng.standard_normal((n, 3, 32, 32), dtype=np.float32)
        a1 = rng.standard_normal((n, 6, 28, 28), dtype=np.float32)
        a2 = rng.standard_normal((n, 6, 14, 14), dtype=np.float32)
        ex, tx = engine.tensor(x), torch.tensor(x)
        ea1, ta1 = engine.tensor(a1, requires_grad=True), torch.tensor(a1, requires_grad=True)
        ea2, ta2 = engine.tensor(a2, requires_grad=True), torch.tensor(a2, requires_grad=True)
        cases += [
            (f"conv1 3->6 k5 32x32   batch {n}",
             lambda ex=ex: one(lambda v: conv2d(v, ew1, eb1), ex, e_par),
             lambda tx=tx: one(lambda v: F.conv2d(v, tw1, tb1), tx, t_par)),
            (f"maxpool2 6x28x28      batch {n}",
             lambda ea1=ea1: one(lambda v: max_pool2d(v, 2), ea1, [ea1]),
             lambda ta1=ta1: one(lambda v: F.max_pool2d(v, 2), ta1, [ta1])),
            (f"conv2 6->16 k5 14x14  batch {n}",
             lambda ea2=ea2: one(lambda v: conv2d(v, ew2, eb2), ea2, [ea2, *e_par]),
             lambda ta2=ta2: one(lambda v: F.conv2d(v, tw2, tb2), ta2, [ta2, *t_par])),
            (f"conv-pool-conv-pool   batch {n}",
             lambda ex=ex: step(conv2d, max_pool2d, ex, *e_par, e_par),
             lambda tx=tx: step(F.conv2d, F.max_pool2d, tx, *t_par, t_par)),
        ]
    compare(cases)


if __name__ == "__main__":
    main()
