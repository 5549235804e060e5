"""Generated dataset files for the engine.vision.datasets tests: CIFAR-10 batches and tarballs, IDX files of
the MNIST family, and mutations of files for the fuzz tests."""

import gzip
import hashlib
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from engine.vision.datasets import CIFAR10

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SHARED_CIFAR = Path(__file__).resolve().parents[4] / ".." / "shared" / "data" / "cifar10"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------------------------------- generators

def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"generated batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }


def make_cifar(root, n=4, protocol=2):
    """``root/cifar-10-batches-py`` with 5 training batches and a test batch of ``n`` images each."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batches[name] = cifar_batch(n, seed=i)
        with open(folder / name, "wb") as f:
            pickle.dump(batches[name], f, protocol=protocol)
    meta = {b"num_cases_per_batch": n, b"label_names": [c.encode() for c in CIFAR_CLASSES], b"num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=protocol)
    return batches


def make_cifar_tarball(path, n=4):
    """A ``cifar-10-python.tar.gz`` of a generated dataset; returns its bytes and the batches."""
    src = Path(path).parent / "tarball-src"
    batches = make_cifar(src, n)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return Path(path).read_bytes(), batches


def idx_bytes(arr):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[arr.dtype], arr.ndim]) + b"".join(struct.pack(">i", d) for d in arr.shape)
    return header + arr.tobytes()


def write_idx(path, arr, gz=False):
    data = idx_bytes(arr)
    path = Path(str(path) + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_mnist(folder, gz=False, n_train=6, n_test=3, seed=0):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, gz)
        out[prefix] = (images, labels)
    return out


# ---------------------------------------------------------------------------------------- mutations

@st.composite
def mutated(draw, data):
    """``data`` after a few byte flips, cuts, insertions, deletions and repeats, aimed at both ends (where a
    pickle's structure and a header are) as often as anywhere."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        n = len(data)
        i = draw(st.one_of(st.integers(0, min(n, 300) - 1), st.integers(max(0, n - 300), n - 1), st.integers(0, n - 1)))
        kind = draw(st.sampled_from(["set", "set", "cut", "insert", "delete", "repeat"]))
        if kind == "set":
            data[i] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[i:i + draw(st.integers(1, 64))]
        else:
            data[i:i] = data[i:i + draw(st.integers(1, 64))] * draw(st.integers(1, 50))
    return bytes(data)


# ---------------------------------------------------------------------------------------- HTTP server


def md5(data):
    return hashlib.md5(data).hexdigest()


def listing(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*"))


def cifar_at(url, checksum):
    return type("LocalCIFAR10", (CIFAR10,), {"url": url, "tgz_md5": checksum})
