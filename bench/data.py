"""DataLoader throughput on CIFAR-sized images held in memory, with the usual augmentation.

    python bench/data.py [--workers N ...] [--epochs E]

50,000 random uint8 images of 32x32x3, ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``,
``ToTensor()``, ``Normalize``, batch 128, shuffled. Prints images/s over a full epoch (the best of
``--epochs``) for each worker count, both through the batched fast path (``ImageArrayDataset``) and one
sample at a time (the path a dataset without ``__getbatch__`` takes). If torch and torchvision import,
the same pipeline on torchvision's DataLoader is timed too. Target: at least 50,000 images/s.
"""

import argparse
import time

import common  # noqa: F401  (puts the repository on sys.path)
import numpy as np

import engine
from engine.utils.data import DataLoader, Dataset
from engine.vision import transforms as T
from engine.vision.image_batch import ImageArrayDataset

N, BATCH = 50_000, 128
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class PerSample(Dataset):
    """The same dataset without the batched accessor: one ``__getitem__`` per image."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return self.ds[i]


def epoch_rate(loader, epochs):
    best = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        seen = 0
        for images, _labels in loader:
            seen += images.shape[0]
        best = max(best, seen / (time.perf_counter() - start))
    assert seen == N
    return best


def torchvision_rate(images, labels, workers, epochs):
    try:
        import torch
        import torchvision.transforms as TT
        from PIL import Image
    except ImportError:
        return None

    class CifarLike(torch.utils.data.Dataset):
        def __init__(self, transform):
            self.transform = transform

        def __len__(self):
            return N

        def __getitem__(self, i):
            return self.transform(Image.fromarray(images[i])), int(labels[i])

    transform = TT.Compose([TT.RandomCrop(32, padding=4), TT.RandomHorizontalFlip(), TT.ToTensor(),
                            TT.Normalize(MEAN, STD)])
    loader = torch.utils.data.DataLoader(CifarLike(transform), batch_size=BATCH, shuffle=True, num_workers=workers)
    return epoch_rate(loader, epochs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--per-sample", action="store_true", help="also time the one-sample-at-a-time path")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, N).tolist()
    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])
    dataset = ImageArrayDataset(images, labels, transform)
    engine.manual_seed(0)
    steps = ", ".join(repr(t) for t in transform.transforms)
    print(f"{N:,} images 32x32x3 uint8 in memory, batch {BATCH}, shuffle; {steps}")
    for workers in args.workers:
        loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers)
        print(f"engine batched path, num_workers={workers}: {epoch_rate(loader, args.epochs):,.0f} images/s",
              flush=True)
        if args.per_sample:
            loader = DataLoader(PerSample(dataset), batch_size=BATCH, shuffle=True, num_workers=workers)
            print(f"engine per-sample path, num_workers={workers}: {epoch_rate(loader, 1):,.0f} images/s", flush=True)
        theirs = torchvision_rate(images, labels, workers, 1)
        if theirs is not None:
            print(f"torchvision, num_workers={workers}: {theirs:,.0f} images/s", flush=True)
    if theirs is None:
        print("torch/torchvision not importable: no torchvision figure")


if __name__ == "__main__":
    main()
