"""Per-op speed of the engine against PyTorch on the CPU, same thread count, in one run.

    python bench/ops.py

Prints the time per call of each case and the ratio ours/PyTorch (below 1.0 means we are faster).
"""

import numpy as np
import torch
from common import compare, print_threads

import engine


def chain(m, x):
    """Forward and backward through a 20-op elementwise chain."""
    y = x
    for i in range(10):
        y = (y * 1.01).tanh() if i % 2 else (y + 0.1).sigmoid()
    y.sum().backward()
    x.grad = None


def main():
    print_threads(torch)
    rng = np.random.default_rng(0)
    cases = []
    for n in (4, 1000):
        a_np = rng.standard_normal((n, n), dtype=np.float32)
        b_np = rng.standard_normal((n, n), dtype=np.float32)
        ea, eb = engine.tensor(a_np), engine.tensor(b_np)
        ta, tb = torch.tensor(a_np), torch.tensor(b_np)
        cases.append((f"a + b  {n}x{n} float32", lambda ea=ea, eb=eb: ea + eb, lambda ta=ta, tb=tb: ta + tb))
        cases.append((f"a * b  {n}x{n} float32", lambda ea=ea, eb=eb: ea * eb, lambda ta=ta, tb=tb: ta * tb))
    a_np = rng.standard_normal((256, 256), dtype=np.float32)
    b_np = rng.standard_normal((256, 256), dtype=np.float32)
    ea, eb, ta, tb = engine.tensor(a_np), engine.tensor(b_np), torch.tensor(a_np), torch.tensor(b_np)
    cases.append(("a @ b  256x256 float32", lambda: ea @ eb, lambda: ta @ tb))
    x_np = rng.standard_normal(64, dtype=np.float32)
    ex = engine.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    cases.append(("20-op chain fwd+bwd, 64 elements", lambda: chain(engine, ex), lambda: chain(torch, tx)))
    compare(cases)


if __name__ == "__main__":
    main()
