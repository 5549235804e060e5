"""Training speed of the ResNet template (DESIGN.md's small ResNet, 78,042 parameters) against PyTorch.

    python bench/train_resnet.py [--seconds 6] [--batch 128]

Both frameworks train the same class: the source the PyTorch exporter writes for the template, run once
with PyTorch and once with ``import engine as torch``. The recipe is the template's (SGD, Nesterov
momentum 0.9, weight decay 5e-4, label smoothing 0.1) on random 3x32x32 data, same thread count, one
run, each framework in a process of its own (measured alternately, twice, the better kept); it prints images
per second for each and the ratio ours/PyTorch (above 1.0 means we are faster).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import training_speed
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


def train(m, batch, seconds):
    """Images per second over about ``seconds`` of training after a warm-up."""
    m.manual_seed(0)
    net = build(m)
    optimizer = m.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    return training_speed(m, net, m.nn.CrossEntropyLoss(label_smoothing=0.1), optimizer, batch, seconds, count=8,
                          warmup=3)


def measure(name, batch, seconds):
    """Images per second of ``name``'s framework in a fresh process of its own: each side alone in its process, so
    neither's OpenMP runtime (numba's and oneDNN's, or PyTorch's) or threads' spinning weigh on the other."""
    out = subprocess.run([sys.executable, __file__, "--framework", name, "--batch", str(batch), "--seconds",
                          str(seconds)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="timed training per framework")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--framework", choices=("engine", "torch"), help=argparse.SUPPRESS)  # a measuring child
    args = parser.parse_args()
    if args.framework is not None:
        m = framework(args.framework)
        print(train(m, args.batch, args.seconds))
        return
    torch = framework("torch")
    print(f"threads: {torch.get_num_threads()}; batch {args.batch}; {args.seconds:.0f} s of training each after "
          "warm-up, each framework in a process of its own, alternately")
    ours = theirs = 0.0
    for _ in range(2):
        ours = max(ours, measure("engine", args.batch, args.seconds / 2))
        theirs = max(theirs, measure("torch", args.batch, args.seconds / 2))
    print(f"ResNet template: engine {ours:,.0f} img/s, torch {theirs:,.0f} img/s, ratio {ours / theirs:.2f}x")
    print(f"(DESIGN.md's recipe, 12.5 epochs of 50,000 images: engine {12.5 * 50_000 / ours / 60:.1f} min, "
          f"torch {12.5 * 50_000 / theirs / 60:.1f} min of training)")


if __name__ == "__main__":
    main()
