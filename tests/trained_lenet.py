"""The LeNet template trained briefly on the real CIFAR-10 (``../shared/data/cifar10``), for the Grad-CAM and
saliency tests of the engine, the command line and the GUI: trained once per test session, about 3 s."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.graph.templates import load_template
from engine.ops.shape import stack
from engine.training.recipe import eval_transform
from engine.vision.datasets import CIFAR10

SHARED_CIFAR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cifar10"
needs_cifar = pytest.mark.skipif(not (SHARED_CIFAR / "cifar-10-batches-py").is_dir(),
                                 reason="the real CIFAR-10 is not at ../shared/data/cifar10 (no shared data folder)")
STEPS, BATCH = 600, 32


class TrainedLeNet:
    """``network`` (the template), ``model`` (trained, in eval mode), ``test`` (the CIFAR-10 test set, PIL
    images) and ``batch(count)``, the first ``count`` test images prepared as the network's evaluation does."""

    def __init__(self, network, model, test):
        self.network, self.model, self.test = network, model, test
        self.transform = eval_transform(network)

    def batch(self, count):
        return stack([self.transform(self.test[i][0]) for i in range(count)])


@lru_cache(maxsize=1)
def trained_lenet():
    network = load_template("lenet_cifar10")
    train = CIFAR10(SHARED_CIFAR, train=True)
    *_, normalize = eval_transform(network).transforms  # ToTensor, Normalize: done here on whole batches
    pixels = train.data[:STEPS * BATCH].transpose(0, 3, 1, 2) / np.float32(255)
    labels = np.asarray(train.targets[:STEPS * BATCH])
    engine.manual_seed(0)
    model = network.build()
    optimizer = engine.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = engine.nn.CrossEntropyLoss()
    for step in range(STEPS):
        part = slice(step * BATCH, (step + 1) * BATCH)
        optimizer.zero_grad()
        loss_fn(model(normalize(engine.tensor(pixels[part]))), engine.tensor(labels[part])).backward()
        optimizer.step()
    model.eval()
    return TrainedLeNet(network, model, CIFAR10(SHARED_CIFAR, train=False))
