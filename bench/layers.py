"""Speed of the engine's layers against PyTorch's on the CPU at CIFAR-sized shapes, same thread count, in one run.

    python bench/layers.py [WORD ...]

Each case builds the layer in both frameworks with the same weights and times a forward pass, then a forward
and backward pass (input and parameter gradients). Prints µs per call and the ratio ours/PyTorch (below 1.0
means we are faster); issue 16 asks that none be above 2.0 (0.5x PyTorch's speed). Words keep only the cases
whose name contains one of them (``python bench/layers.py LSTM``).
"""

import sys

import numpy as np
import torch
from common import compare, print_threads

import engine

# name -> (make(m) -> module, input shape). ``make`` is written once for either framework (m is engine or
# torch); a case whose module takes more than one input or returns a tuple gives ``call(module, x)``.
LAYERS = {}


def same_weights(ours, theirs):
    """Copy PyTorch's initial state into our module, so both compute the same thing."""
    ours.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def first(out):
    """The tensor to time: a layer returning a tuple (LSTM, attention) is timed on its first output."""
    return out[0] if isinstance(out, tuple) else out


def cases_for(name, make, shape, rng):
    x_np = rng.standard_normal(shape, dtype=np.float32)
    tmod, emod = make(torch), make(engine)
    same_weights(emod, tmod)
    ex, tx = engine.tensor(x_np), torch.tensor(x_np)
    exg, txg = engine.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)

    def fwd(mod, x):
        return lambda: first(mod(x))

    def fwd_bwd(mod, x):
        def run():
            first(mod(x)).sum().backward()
            x.grad = None
            mod.zero_grad(set_to_none=True)
        return run

    size = "x".join(map(str, shape))
    return [(f"{name}  {size}", fwd(emod, ex), fwd(tmod, tx)),
            (f"{name} fwd+bwd  {size}", fwd_bwd(emod, exg), fwd_bwd(tmod, txg))]


def main():
    print_threads(torch)
    rng = np.random.default_rng(0)
    words = sys.argv[1:]
    cases = []
    for name, (make, shape) in LAYERS.items():
        if not words or any(word in name for word in words):
            cases += cases_for(name, make, shape, rng)
    compare(cases)


if __name__ == "__main__":
    main()
