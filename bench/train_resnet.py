"""Training speed of the ResNet template (a small ResNet of four basic blocks, 152,026 parameters) against PyTorch.

    python bench/train_resnet.py [--seconds 6] [--batch 32 128 256] [--device cuda]

Both frameworks train the same class: the source the PyTorch exporter writes for the template, run once
with PyTorch and once with ``import engine as torch``. The recipe is the template's (SGD, Nesterov
momentum 0.9, weight decay 5e-4, label smoothing 0.1) on random 3x32x32 data, same thread count, one
run, each framework in a process of its own (measured alternately, twice, the better kept); it prints images
per second for each and the ratio ours/PyTorch (above 1.0 means we are faster), and on the CPU each process's
peak memory (VmHWM) with what training added to it.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import status_mib, training_speed
from train_lenet import framework


def build(m):
    # Imported here, after the framework: PyTorch's process must start its OpenMP runtime with the user's settings,
    # not the engine's (engine.threads sets OMP_WAIT_POLICY when it is imported).
    from engine.graph.export.model_code import model_class_source
    from engine.graph.templates import load_template

    network = load_template("resnet_cifar10")
    scope = {"torch": m, "nn": m.nn}
    exec(model_class_source(network, network.infer(), "ResNet"), scope)
    return scope["ResNet"]()


def train(m, batch, seconds, device):
    """Images per second over about ``seconds`` of training after a warm-up."""
    m.manual_seed(0)
    net = build(m).to(device)
    optimizer = m.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    return training_speed(m, net, m.nn.CrossEntropyLoss(label_smoothing=0.1), optimizer, batch, seconds, count=8,
                          warmup=3, device=device)


def measure_child(name, batch, seconds, device):
    """In the measuring process: images per second, peak RSS (MiB) and its growth over the RSS before training
    (what training costs, without the library's own size; numba, loaded at the first convolution, counts as the
    library's)."""
    m = framework(name)
    if name == "engine":
        from engine.ops import jit

        jit.numba()
    before = status_mib("VmRSS")
    speed = train(m, batch, seconds, device)
    peak = status_mib("VmHWM")
    print(json.dumps({"speed": speed, "peak": peak, "growth": peak - before}))


def measure(name, batch, seconds, device):
    """``measure_child``'s figures for ``name``'s framework in a fresh process of its own: each side alone in its
    process, so neither's OpenMP runtime (numba's and oneDNN's, or PyTorch's), threads' spinning or memory weigh on
    the other."""
    out = subprocess.run([sys.executable, __file__, "--framework", name, "--batch", str(batch), "--seconds",
                          str(seconds), "--device", device], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="timed training per framework and batch")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (CuPy for the engine, CUDA PyTorch)")
    parser.add_argument("--framework", choices=("engine", "torch"), help=argparse.SUPPRESS)  # a measuring child
    args = parser.parse_args()
    if args.framework is not None:
        measure_child(args.framework, args.batch[0], args.seconds, args.device)
        return
    torch = framework("torch")
    print(f"threads: {torch.get_num_threads()}; device {args.device}; {args.seconds:.0f} s of training per framework "
          "and batch after warm-up, each framework in a process of its own, alternately")
    for batch in args.batch:
        ours, theirs = {"speed": 0.0}, {"speed": 0.0}
        for _ in range(2):
            ours = max(ours, measure("engine", batch, args.seconds / 2, args.device), key=lambda r: r["speed"])
            theirs = max(theirs, measure("torch", batch, args.seconds / 2, args.device), key=lambda r: r["speed"])
        print(f"ResNet template, batch {batch}: engine {ours['speed']:,.0f} img/s, torch {theirs['speed']:,.0f} img/s, "
              f"ratio {ours['speed'] / theirs['speed']:.2f}x", flush=True)
        if args.device == "cpu":
            print(f"  peak memory: engine {ours['peak']:.0f} MiB (training added {ours['growth']:.0f}), torch "
                  f"{theirs['peak']:.0f} MiB (training added {theirs['growth']:.0f})", flush=True)
    print(f"(DESIGN.md's recipe, 12.5 epochs of 50,000 images, at batch {args.batch[-1]}: engine "
          f"{12.5 * 50_000 / ours['speed'] / 60:.1f} min, torch {12.5 * 50_000 / theirs['speed'] / 60:.1f} min of "
          "training)")


if __name__ == "__main__":
    main()
