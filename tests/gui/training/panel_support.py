"""Helpers for the training panel tests (imported by the tests and their conftest)."""

import threading
import time


class Slow:
    """Trainer callback that makes each step take a little longer, so a test can act in the middle of a run."""

    def __init__(self, seconds=0.01):
        self.seconds = seconds

    def on_step_end(self, trainer, info):
        time.sleep(self.seconds)


def training_threads():
    return [t for t in threading.enumerate() if t.name == "layerlab-training" and t.is_alive()]


def wait_idle(qtbot, panel, timeout=20000):
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=timeout)


def make_cifar(root, n=16):
    """``root/cifar-10-batches-py`` in the official layout: five training batches and a test batch of ``n``
    random images each, labels cycling through the ten classes."""
    import os
    import pickle

    import numpy as np

    from engine.graph.datasets import CIFAR10_CLASSES

    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [i % 10 for i in range(n)]}
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batch, f, protocol=2)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, f, protocol=2)
    return root
