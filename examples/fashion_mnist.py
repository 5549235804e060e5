"""Fashion-MNIST on LayerLab's engine with the shared training loop (``engine.training.Trainer``).

    python examples/fashion_mnist.py [--data DIR] [--epochs 2]

Without ``--data`` the images come from Debian's ``dataset-fashion-mnist`` package (or ``$LAYERLAB_DATA``),
so it runs on a machine without internet. Trains a small CNN, prints the test accuracy and the accuracy
of each class, and saves the weights.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import engine
import engine.nn as nn
from engine import vision
from engine.training import ConsoleProgress, Trainer, format_per_class
from engine.vision import transforms


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="dataset root; default: the Debian package or $LAYERLAB_DATA")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--out", default="fashion_mnist_out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    engine.manual_seed(args.seed)

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    train_set = vision.datasets.FashionMNIST(args.data, train=True, transform=transform)
    test_set = vision.datasets.FashionMNIST(args.data, train=False, transform=transform)
    if args.limit:
        train_set = engine.utils.data.Subset(train_set, range(args.limit))
    train_loader = engine.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = engine.utils.data.DataLoader(test_set, batch_size=256)

    model = build_model()
    optimizer = engine.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), train_loader, val_loader=test_loader,
                      callbacks=[ConsoleProgress()], seed=args.seed, num_classes=10)
    run = trainer.fit(args.epochs)
    result = trainer.evaluate(test_loader)
    print(f"{run.status}: test accuracy {100 * result.accuracy:.2f} % on {result.count} images")
    print(format_per_class(result.confusion, test_set.classes))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "fashion_mnist.safetensors")
    engine.save_safetensors(model.state_dict(), path)
    print(f"weights saved to {path}")
    return result.accuracy


if __name__ == "__main__":
    main()
