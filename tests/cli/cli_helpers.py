"""Helpers for the command-line tests: network files copied from the templates, ``python main.py`` in a
subprocess, and a small CIFAR-10 dataset in the official file layout."""

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.graph.templates import TEMPLATE_DIR

REPO = Path(__file__).resolve().parents[2]
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

needs_fashion_mnist = pytest.mark.skipif(not FASHION_MNIST.is_dir(),
                                         reason="Debian's dataset-fashion-mnist package is not installed")


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"Result(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


def run_subprocess(*args, timeout=120):
    """``python main.py ARGS`` in a fresh interpreter."""
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def copy_template(key, folder):
    """The template ``key`` copied into ``folder`` (so its runs are made there); returns the new path."""
    target = Path(folder) / f"{key}.llnet"
    shutil.copy(os.path.join(TEMPLATE_DIR, f"{key}.llnet"), target)
    return target


def write_cifar(root, per_batch=20, test=40, seed=0):
    """``root/cifar-10-batches-py`` as in the official archive (five training batches, a test batch and
    ``batches.meta``, pickled dicts with bytes keys), holding small images a network can learn from: each
    class has its own colour, under noise."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    colours = rng.integers(40, 216, (10, 3))

    def batch(n):
        labels = rng.integers(0, 10, n)
        pixels = colours[labels][:, :, None] + rng.normal(0, 25, (n, 3, 1024))
        data = np.clip(pixels, 0, 255).astype(np.uint8).reshape(n, 3072)
        return {b"batch_label": b"generated", b"labels": labels.tolist(), b"data": data,
                b"filenames": [f"img{i}.png".encode() for i in range(n)]}

    for name in [f"data_batch_{k}" for k in range(1, 6)]:
        (folder / name).write_bytes(pickle.dumps(batch(per_batch), protocol=2))
    (folder / "test_batch").write_bytes(pickle.dumps(batch(test), protocol=2))
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [c.encode() for c in CIFAR_NAMES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return Path(root)
