"""Training speed of the seed tutorials' CIFAR-10 Net: our engine against PyTorch on the CPU.

    python bench/train_lenet.py [--seconds 3]

For batch sizes 4, 64 and 256, trains the Net (conv 3->6 k5, pool, conv 6->16 k5, pool, fc 400->120->84->10,
CrossEntropyLoss, SGD lr 0.001 momentum 0.9) on random 3x32x32 data with each framework in turn, prints
images per second and the ratio ours/PyTorch (above 1.0 means we are faster), then the peak memory of a
batch-256 run of each, measured in a fresh process so that neither pays for the other.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import measured_training, run_child, training_speed


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


def peak_memory(name, batch):
    """Peak memory of training at ``batch`` in a fresh process, so that neither framework pays for the other."""
    return run_child([sys.executable, __file__, "--memory-child", name, str(batch)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed training per framework and batch")
    parser.add_argument("--memory-child", nargs=2, metavar=("FRAMEWORK", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        name, batch = args.memory_child[0], int(args.memory_child[1])
        print(json.dumps(measured_training(name, lambda: train(framework(name), batch, seconds=1.0))))
        return
    torch, engine = framework("torch"), framework("engine")
    threads = torch.get_num_threads()
    print(f"threads: {threads}; {args.seconds:.0f} s of training per case after warm-up")
    print(f"{'batch':>6} {'engine img/s':>14} {'torch img/s':>13} {'ratio':>7}")
    for batch in (4, 64, 256):
        ours = max(train(engine, batch, args.seconds / 2) for _ in range(2))
        theirs = max(train(torch, batch, args.seconds / 2) for _ in range(2))
        print(f"{batch:>6} {ours:>14.0f} {theirs:>13.0f} {ours / theirs:>6.2f}x", flush=True)
    for name in ("engine", "torch"):
        mem = peak_memory(name, 256)
        print(f"peak memory, batch 256, {name}: {mem['peak']:.0f} MiB peak RSS, of which training added "
              f"{mem['growth']:.0f} MiB")


if __name__ == "__main__":
    main()
