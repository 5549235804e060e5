"""Speed of the engine's layers against PyTorch's on the CPU at CIFAR-sized shapes, same thread count, in one run.

    python bench/layers.py [WORD ...]

Each case builds the layer with the same weights and input in either framework and times a forward pass, then a
forward and backward pass (input and parameter gradients). Prints µs per call and the ratio ours/PyTorch (below
1.0 means we are faster); issue 20 asks for 0.8x PyTorch's speed (a ratio of 1.25 at most). Words keep only the
cases whose name contains one of them (``python bench/layers.py LSTM``).

Each framework is timed in a measuring process of its own (``--child NAME``), as its users run it: in one
process PyTorch also ran with the engine's allocator setting (glibc keeps freed large blocks, ``engine.backend``),
which made its depthwise 7x7 forward 6x faster than in a process of its own, and the two OpenMP runtimes'
spinning workers took cores from each other. The children run in turn, ``ROUNDS`` times, and the faster time of
each case is kept (bench/NOTES.md).
"""

import importlib
import json
import sys
import zlib

import numpy as np
from common import best_time, print_header, print_row, run_child

ROUNDS = 3

# name -> (make(m) -> module, input shape). ``make`` is written once for either framework (m is engine or
# torch); a layer returning a tuple is timed on its first output.
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
# The ResNet template's batch norm and ReLU, at its first and last stages, batch 32
LAYERS["BatchNorm2d+ReLU stage 1"] = (lambda m: m.nn.Sequential(m.nn.BatchNorm2d(16), m.nn.ReLU()), (32, 16, 32, 32))
LAYERS["BatchNorm2d+ReLU stage 3"] = (lambda m: m.nn.Sequential(m.nn.BatchNorm2d(64), m.nn.ReLU()), (32, 64, 8, 8))
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


def first(out):
    """The tensor to time: a layer returning a tuple (LSTM, attention) is timed on its first output."""
    return out[0] if isinstance(out, tuple) else out


def seeded(m, name, make, shape):
    """The case's module and inputs in framework ``m``: parameters and input drawn from a generator seeded by the
    case's name, so both children compute the same thing."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.standard_normal(shape, dtype=np.float32)
    module = make(m)
    with m.no_grad():
        for p in module.parameters():
            p.copy_(m.tensor((rng.standard_normal(tuple(p.shape)) * 0.1).astype(np.float32)))
    return module, m.tensor(x), m.tensor(x, requires_grad=True)


def cases_for(m, name, make, shape):
    module, x, xg = seeded(m, name, make, shape)

    def fwd():
        first(module(x))

    def fwd_bwd():
        first(module(xg)).sum().backward()
        xg.grad = None
        module.zero_grad(set_to_none=True)

    size = "x".join(map(str, shape))
    return [(f"{name}  {size}", fwd), (f"{name} fwd+bwd  {size}", fwd_bwd)]


def selected(words):
    return [(name, make, shape) for name, (make, shape) in LAYERS.items()
            if not words or any(word in name for word in words)]


def child(framework, words):
    """Time the selected cases in ``framework`` alone and print {"about": ..., "times": {case: seconds}}."""
    m = importlib.import_module(framework)
    if framework == "torch":
        m.set_num_threads(m.get_num_threads())  # pinned, as the engine's threads are
    times = {}
    for name, make, shape in selected(words):
        for case, fn in cases_for(m, name, make, shape):
            best_time(fn, repeats=1)  # warm-up: a fresh process's first calls load kernels and start threads
            times[case] = best_time(fn)
    about = f"{m.__version__}, {m.get_num_threads()} threads"
    print(json.dumps({"about": about, "times": times}))


def main():
    words = sys.argv[1:]
    if words[:1] == ["--child"]:
        child(words[1], words[2:])
        return
    runs = {"engine": [], "torch": []}
    for _ in range(ROUNDS):
        for framework, results in runs.items():
            results.append(run_child([sys.executable, __file__, "--child", framework, *words]))
    print(", ".join(f"{name}: {results[0]['about']}" for name, results in runs.items()))
    print_header()
    for case in runs["engine"][0]["times"]:
        print_row(case, *(min(r["times"][case] for r in results) for results in runs.values()))


if __name__ == "__main__":
    main()
