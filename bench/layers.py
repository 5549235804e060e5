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
LAYERS["Upsample bilinear x2"] = (lambda m: m.nn.Upsample(scale_factor=2, mode="bilinear"), (64, 32, 16, 16))
LAYERS["LSTM batch_first"] = (lambda m: m.nn.LSTM(64, 128, batch_first=True), (64, 32, 64))
LAYERS["GRU batch_first"] = (lambda m: m.nn.GRU(64, 128, batch_first=True), (64, 32, 64))
LAYERS["LayerNorm (N,C)"] = (lambda m: m.nn.LayerNorm(512), (128, 512))
LAYERS["LayerNorm ViT (N,L,C)"] = (lambda m: m.nn.LayerNorm(192), (128, 197, 192))
LAYERS["LayerNorm ConvNeXt channels-last"] = (lambda m: m.nn.LayerNorm(64), (128, 32, 32, 64))
LAYERS["GroupNorm"] = (lambda m: m.nn.GroupNorm(8, 64), (128, 64, 16, 16))
LAYERS["Conv2d depthwise 3x3"] = (lambda m: m.nn.Conv2d(32, 32, 3, padding=1, groups=32), (128, 32, 32, 32))
LAYERS["Conv2d depthwise 7x7"] = (lambda m: m.nn.Conv2d(96, 96, 7, padding=3, groups=96), (64, 96, 8, 8))
# The ConvNeXt template's first and last stages
LAYERS["Conv2d depthwise 7x7 stage 1"] = (lambda m: m.nn.Conv2d(48, 48, 7, padding=3, groups=48), (64, 48, 16, 16))
LAYERS["Conv2d depthwise 7x7 stage 3"] = (lambda m: m.nn.Conv2d(192, 192, 7, padding=3, groups=192),
                                          (64, 192, 4, 4))
LAYERS["ConvTranspose2d x2"] = (lambda m: m.nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), (64, 32, 16, 16))


def self_attention(m, embed_dim=192, num_heads=3):
    """MultiheadAttention(batch_first=True) as self-attention with one input, as a transformer layer calls it."""
    class SelfAttention(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = m.nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    return SelfAttention()


# a small ViT on CIFAR: 4x4 patches and a class token (65 tokens of 192), 3 heads
LAYERS["MultiheadAttention self"] = (self_attention, (128, 65, 192))
LAYERS["TransformerEncoderLayer pre-norm"] = (
    lambda m: m.nn.TransformerEncoderLayer(192, 3, 384, batch_first=True, norm_first=True), (128, 65, 192))


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
