"""Training speed of the seed tutorials' CIFAR-10 Net: our engine against PyTorch on the CPU.

    python bench/train_lenet.py [--seconds 3] [--batch 4 64 256]

For batch sizes 4, 64 and 256, trains the Net (conv 3->6 k5, pool, conv 6->16 k5, pool, fc 400->120->84->10,
CrossEntropyLoss, SGD lr 0.001 momentum 0.9) on random 3x32x32 data, each framework in a process of its own
(measured alternately, twice, the better kept: in one process the two would share one OpenMP runtime, whose
settings whichever started it chose), and prints images per second, the ratio ours/PyTorch (above 1.0 means
we are faster) and each process's peak memory with what training added to it.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import best_alternating, measured_training, run_child, training_speed


def build(m):
    nn, F = m.nn, m.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def framework(name):
    if name == "torch":
        import torch

        return torch
    import engine

    return engine


def train(m, batch, seconds):
    """Images per second over about ``seconds`` of training after a warm-up."""
    net = build(m)
    optimizer = m.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    return training_speed(m, net, m.nn.CrossEntropyLoss(), optimizer, batch, seconds)


def measure(name, batch, seconds):
    """``measured_training``'s figures for ``name``'s framework at ``batch`` in a fresh process of its own."""
    return run_child([sys.executable, __file__, "--framework", name, "--batch", str(batch), "--seconds", str(seconds)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed training per framework and batch")
    parser.add_argument("--batch", type=int, nargs="+", default=[4, 64, 256])
    parser.add_argument("--framework", choices=("engine", "torch"), help=argparse.SUPPRESS)  # a measuring child
    args = parser.parse_args()
    if args.framework is not None:
        m = framework(args.framework)
        print(json.dumps(measured_training(args.framework, lambda: train(m, args.batch[0], args.seconds))))
        return
    from engine.threads import usable_cpus

    print(f"threads: {usable_cpus()}; {args.seconds:.0f} s of training per framework and batch after warm-up, each "
          "framework in a process of its own, alternately")
    print(f"{'batch':>6} {'engine img/s':>14} {'torch img/s':>13} {'ratio':>7}   peak MiB engine / torch "
          "(training added)")
    for batch in args.batch:
        best = best_alternating(measure, batch, args.seconds / 2)
        ours, theirs = best["engine"], best["torch"]
        print(f"{batch:>6} {ours['speed']:>14.0f} {theirs['speed']:>13.0f} {ours['speed'] / theirs['speed']:>6.2f}x"
              f"   {ours['peak']:.0f} ({ours['growth']:.0f}) / {theirs['peak']:.0f} ({theirs['growth']:.0f})",
              flush=True)


if __name__ == "__main__":
    main()
