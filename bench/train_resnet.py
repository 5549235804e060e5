"""Training speed of the ResNet template (DESIGN.md's small ResNet, 78,042 parameters) against PyTorch.

    python bench/train_resnet.py [--seconds 6] [--batch 128]

Both frameworks train the same class: the source the PyTorch exporter writes for the template, run once
with PyTorch and once with ``import engine as torch``. The recipe is the template's (SGD, Nesterov
momentum 0.9, weight decay 5e-4, label smoothing 0.1) on random 3x32x32 data, same thread count, one
run; it prints images per second for each and the ratio ours/PyTorch (above 1.0 means we are faster).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import training_speed
from train_lenet import framework

from engine.graph.export.model_code import model_class_source
from engine.graph.templates import load_template


def build(m):
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="timed training per framework")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch, engine = framework("torch"), framework("engine")
    print(f"threads: {torch.get_num_threads()}; batch {args.batch}; {args.seconds:.0f} s of training each after "
          "warm-up")
    ours = max(train(engine, args.batch, args.seconds / 2) for _ in range(2))
    theirs = max(train(torch, args.batch, args.seconds / 2) for _ in range(2))
    print(f"ResNet template: engine {ours:,.0f} img/s, torch {theirs:,.0f} img/s, ratio {ours / theirs:.2f}x")
    print(f"(DESIGN.md's recipe, 12.5 epochs of 50,000 images: engine {12.5 * 50_000 / ours / 60:.1f} min, "
          f"torch {12.5 * 50_000 / theirs / 60:.1f} min of training)")


if __name__ == "__main__":
    main()
