"""The LeNet template trained for a few steps on the real CIFAR-10, in one process or as one rank of several
with ``DistributedDataParallel``: both read the same images in the same global batches, so their parameters
must agree up to float32 summation order."""

import pathlib

import numpy as np

import engine
from engine.graph.templates import load_template
from engine.training.recipe import eval_transform
from engine.vision.datasets import CIFAR10

SHARED_CIFAR = pathlib.Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cifar10"
STEPS, BATCH = 50, 32
SEED = 7


def cifar_batches():
    """``STEPS * BATCH`` normalised training images and their labels, as arrays."""
    network = load_template("lenet_cifar10")
    *_, normalize = eval_transform(network).transforms
    train = CIFAR10(SHARED_CIFAR, train=True)
    pixels = train.data[:STEPS * BATCH].transpose(0, 3, 1, 2) / np.float32(255)
    return normalize(engine.tensor(pixels)).numpy(), np.asarray(train.targets[:STEPS * BATCH])


def build(seed):
    engine.manual_seed(seed)
    return load_template("lenet_cifar10").build()


def train(model, images, labels, steps, rows, micro_batches=1, no_sync=None):
    """SGD with momentum over ``steps`` steps; step ``k`` uses the images ``rows(k)``, split into
    ``micro_batches`` whose gradients accumulate (all but the last inside ``no_sync()`` when it is given)."""
    optimizer = engine.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = engine.nn.CrossEntropyLoss()
    for step in range(steps):
        optimizer.zero_grad()
        parts = np.array_split(rows(step), micro_batches)
        for i, part in enumerate(parts):
            x, y = engine.tensor(images[part]), engine.tensor(labels[part])
            if no_sync is not None and i < len(parts) - 1:
                with no_sync():
                    (loss_fn(model(x), y) / micro_batches).backward()
            else:
                (loss_fn(model(x), y) / micro_batches).backward()
        optimizer.step()
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
