"""ImageFolder's bad samples: by default the first one stops loading with an error naming its file; with
``on_bad_sample="skip"`` batches leave them out, and the dataset counts and remembers them."""

import numpy as np
import pytest
from PIL import Image

from engine.utils.data import DataLoader, Subset
from engine.vision import transforms as T
from engine.vision.datasets import CorruptFileError, ImageFolder, pil_loader


@pytest.fixture
def tree(tmp_path):
    """``root`` with 6 good images and 2 bad ones (no image; truncated), and the bad ones' paths."""
    rng = np.random.default_rng(0)
    root = tmp_path / "root"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)).save(root / cls / f"{k}.png")
    good = (root / "a" / "0.png").read_bytes()
    (root / "a" / "1x.png").write_bytes(b"not an image")
    (root / "b" / "0x.png").write_bytes(good[: len(good) // 2])
    return root, sorted([str(root / "a" / "1x.png"), str(root / "b" / "0x.png")])


class CountingLoader:
    def __init__(self):
        self.calls = []

    def __call__(self, path):
        self.calls.append(path)
        return pil_loader(path)


def test_by_default_a_bad_sample_stops_loading_naming_its_file(tree):
    root, bad = tree
    ds = ImageFolder(root, transform=T.ToTensor())
    assert ds.on_bad_sample == "error" and ds.skipped == 0
    with pytest.raises(CorruptFileError, match="cannot read the image") as info:
        list(DataLoader(ds, batch_size=4))
    assert info.value.path == bad[0]


@pytest.mark.parametrize("workers", [0, 2])
def test_skip_leaves_bad_samples_out_counts_them_and_never_reads_them_again(tree, workers):
    root, bad = tree
    loader = CountingLoader()
    ds = ImageFolder(root, transform=T.ToTensor(), loader=loader, on_bad_sample="skip")
    for epoch in range(2):
        batches = list(DataLoader(ds, batch_size=3, num_workers=workers))
        assert [len(targets) for _, targets in batches] == [2, 2, 2]  # a/1x.png and b/0x.png fall in the first two
        assert sum(images.shape[0] for images, _ in batches) == 6
        assert sorted(ds.skipped_paths) == bad and ds.skipped == 2
        assert sorted(set(loader.calls)) == sorted(p for p, _ in ds.samples)
        assert len(loader.calls) == 8 + 6 * epoch  # the bad files were read once, in the first epoch
    index = [p for p, _ in ds.samples].index(bad[0])
    with pytest.raises(CorruptFileError) as info:
        ds[index]  # a single item cannot be skipped
    assert info.value.path == bad[0]


def test_skip_through_a_subset_and_a_batch_of_bad_samples_only(tree):
    root, bad = tree
    ds = ImageFolder(root, on_bad_sample="skip")
    bad_indices = [i for i, (p, _) in enumerate(ds.samples) if p in bad]
    items = Subset(ds, [0, *bad_indices]).__getitems__([0, 1, 2])
    assert len(items) == 1 and ds.skipped == 2
    with pytest.raises(CorruptFileError, match="no sample of this batch of 2 could be read") as info:
        ds.__getitems__(bad_indices)
    assert info.value.path in bad


def test_the_option_is_checked(tree):
    root, _ = tree
    with pytest.raises(ValueError, match="on_bad_sample must be 'error' or 'skip', not 'ignore'"):
        ImageFolder(root, on_bad_sample="ignore")
