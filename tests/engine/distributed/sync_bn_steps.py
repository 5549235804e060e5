"""A small convolutional network with batch norm, trained a few steps in one process (``BatchNorm2d``) or as
a rank of several (``SyncBatchNorm``): the same global batches, so parameters and running statistics agree."""

import numpy as np

import engine
from engine import nn

STEPS, BATCH, SEED = 20, 16, 3


def data():
    rng = np.random.default_rng(11)
    images = rng.standard_normal((STEPS * BATCH, 3, 8, 8)).astype(np.float32) * 2 + 0.5
    return images, rng.integers(0, 10, STEPS * BATCH)


def build():
    engine.manual_seed(SEED)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 10))


def train(model, images, labels, rows, device="cpu"):
    optimizer = engine.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(STEPS):
        part = rows(step)
        optimizer.zero_grad()
        x, y = engine.tensor(images[part], device=device), engine.tensor(labels[part], device=device)
        loss_fn(model(x), y).backward()
        optimizer.step()
    return {name.removeprefix("module."): t.detach().cpu().numpy().copy() for name, t in model.state_dict().items()}


def upstream():
    """A fixed gradient for the output of one whole batch of ``data()``'s images."""
    return np.linspace(-1, 1, BATCH * 3 * 8 * 8, dtype=np.float32).reshape(BATCH, 3, 8, 8) ** 3


def first_step(bn, images, grad_output):
    """Output and gradients of one training step of ``bn`` alone, given the gradient of its output."""
    x = engine.tensor(images, requires_grad=True)
    y = bn(x)
    (y * engine.tensor(grad_output)).sum().backward()
    return y.detach().numpy(), x.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()
