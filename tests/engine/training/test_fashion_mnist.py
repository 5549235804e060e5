"""Training on the real Fashion-MNIST (from Debian's dataset-fashion-mnist package): a subset, on the CPU,
in a few seconds; the loss falls and the accuracy ends far above chance."""

import pytest

import engine
import engine.nn as nn
from engine.training import Trainer
from engine.utils.data import DataLoader, Subset
from engine.vision import datasets, transforms


def load(train):
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    try:
        return datasets.FashionMNIST(None, train=train, transform=transform)
    except RuntimeError as e:
        pytest.skip(f"Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): {e}")


def test_small_cnn_learns_fashion_mnist():
    train, test = load(True), load(False)
    assert len(train) == 60000 and len(test) == 10000
    engine.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 14 * 14, 64), nn.ReLU(), nn.Linear(64, 10))
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.05, momentum=0.9), nn.CrossEntropyLoss(),
                      DataLoader(Subset(train, range(4000)), batch_size=64, shuffle=True),
                      val_loader=DataLoader(Subset(test, range(2000)), batch_size=500), seed=0, num_classes=10)
    losses = []

    class Losses:
        def on_step_end(self, trainer, info):
            losses.append(info.loss)

    trainer.callbacks.append(Losses())
    assert trainer.fit(2).status == "finished"
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.5 * first
    assert trainer.history[-1].val_accuracy > 0.7  # chance is 0.1
    result = trainer.evaluate(DataLoader(Subset(test, range(2000)), batch_size=500))
    assert result.confusion.shape == (10, 10) and result.confusion.sum() == 2000
