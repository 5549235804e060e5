"""In-memory image datasets built a batch at a time: the same batches as sample by sample."""

import numpy as np
import pytest
from data_support import (
    NoFastPath,
    assert_batches_equal,
    no_leftover_threads,  # noqa: F401  (autouse: no loader thread left after a test)
)

import engine
from engine.utils.data import DataLoader
from engine.vision import transforms as T
from engine.vision.image_batch import ImageArrayDataset


def image_data(n=37, channels=3, size=12, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, size, size, channels) if channels else (n, size, size)
    return rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 10, n).tolist()


@pytest.mark.parametrize("channels", [3, 1, 0])
@pytest.mark.parametrize("make", [
    lambda: T.Compose([T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))]),
    lambda: T.Compose([T.CenterCrop(8), T.ToTensor()]),
    lambda: T.Compose([T.CenterCrop((15, 9)), T.PILToTensor()]),
    lambda: T.Compose([T.Pad((1, 2, 3, 4), fill=7), T.ToTensor(), T.CenterCrop(10)]),
    lambda: T.Compose([T.Pad(2, padding_mode="reflect"), T.Grayscale(3), T.ToTensor()]),
    lambda: T.Compose([T.Grayscale(), T.ToTensor(), T.Normalize((0.5,), (0.5,))]),
    lambda: T.Compose([T.RandomCrop(12, padding=0), T.RandomHorizontalFlip(p=0.0), T.RandomVerticalFlip(p=1.0),
                       T.ToTensor()]),
    lambda: T.Compose([T.ToTensor(), T.RandomHorizontalFlip(p=1.0), T.Grayscale(), T.CenterCrop(6)]),
    lambda: None,
])
def test_image_fast_path_matches_per_sample_for_deterministic_transforms(make, channels):
    transform = make()  # with one channel, three means broadcast to three channels, as per image
    images, targets = image_data(channels=channels)
    ds = ImageArrayDataset(images, targets, transform)
    fast = list(DataLoader(ds, batch_size=5, shuffle=False))
    slow = list(DataLoader(NoFastPath(ds), batch_size=5, shuffle=False))
    assert_batches_equal(fast, slow)
    assert ds.__getbatch__([0, 1]) is not NotImplemented


def test_image_fast_path_declines_what_it_cannot_batch():
    images, targets = image_data()
    ds = ImageArrayDataset(images, targets, T.Compose([T.Resize(6), T.ToTensor()]))
    assert ds.__getbatch__([0, 1]) is NotImplemented
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 6, 6) and y.dtype is engine.int64
    ds = ImageArrayDataset(images, targets, T.RandomCrop(8))  # PIL images out: nothing to collate
    assert ds.__getbatch__([0, 1]) is NotImplemented
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        next(iter(DataLoader(ds, batch_size=4)))
    ds = ImageArrayDataset(images, targets, T.ToTensor(), target_transform=lambda t: t * 2)
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert y.tolist() == [2 * t for t in targets[:3]]


def test_random_image_pipeline_reproducible_and_independent_of_workers():
    images, targets = image_data(n=64, size=16)
    transform = T.Compose([T.RandomCrop(16, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    ds = ImageArrayDataset(images, targets, transform)
    runs = []
    for workers in (0, 0, 2, 3):
        engine.manual_seed(11)
        runs.append(list(DataLoader(ds, batch_size=10, shuffle=True, num_workers=workers)))
    for other in runs[1:]:
        assert_batches_equal(other, runs[0])
    engine.manual_seed(12)
    different = list(DataLoader(ds, batch_size=10, shuffle=True))
    assert not np.array_equal(different[0][0].numpy(), runs[0][0][0].numpy())
    # the per-sample path is reproducible too, and also independent of the workers
    slow = []
    for workers in (0, 2):
        engine.manual_seed(11)
        slow.append(list(DataLoader(NoFastPath(ds), batch_size=10, shuffle=True, num_workers=workers)))
    assert_batches_equal(slow[0], slow[1])
    # same labels either way; the images agree in where they come from, not pixel for pixel
    assert [b[1].tolist() for b in slow[0]] == [b[1].tolist() for b in runs[0]]


def test_image_fast_path_crops_are_windows_of_the_padded_images():
    images, _ = image_data(n=40, size=10)
    ds = ImageArrayDataset(images, list(range(40)),
                           T.Compose([T.RandomCrop(10, padding=3), T.RandomHorizontalFlip(), T.PILToTensor()]))
    flips = 0
    for x, idx in DataLoader(ds, batch_size=8, shuffle=True):
        for img, i in zip(x.numpy(), idx.tolist()):
            padded = np.pad(images[i], ((3, 3), (3, 3), (0, 0))).transpose(2, 0, 1)
            windows = [padded[:, a:a + 10, b:b + 10] for a in range(7) for b in range(7)]
            plain = any(np.array_equal(img, w) for w in windows)
            mirrored = any(np.array_equal(img[:, :, ::-1], w) for w in windows)
            assert plain or mirrored
            flips += mirrored and not plain
    assert 5 <= flips <= 35
