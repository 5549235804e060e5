"""engine.vision.datasets.folder: ImageFolder."""

import os

import numpy as np
import pytest
from PIL import Image

from engine.vision.datasets import (
    CorruptFileError,
    ImageFolder,
)

# ---------------------------------------------------------------------------------------- ImageFolder

def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def image_tree(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for rel in ["zebra/b.png", "zebra/a.png", "cat/x.png", "cat/nested/y.PNG"]:
        arr = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
        _png(tmp_path / "root" / rel, arr)
        arrays[rel] = arr
    gray = rng.integers(0, 256, (5, 4), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "root" / "cat" / "gray.png")
    arrays["cat/gray.png"] = np.repeat(gray[..., None], 3, axis=2)
    (tmp_path / "root" / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "root" / "stray.png").write_bytes(b"outside any class")
    return tmp_path / "root", arrays


def test_image_folder_classes_samples_and_items(image_tree):
    root, arrays = image_tree
    ds = ImageFolder(root)
    assert ds.classes == ["cat", "zebra"] and ds.class_to_idx == {"cat": 0, "zebra": 1}
    rels = [os.path.relpath(p, root) for p, _ in ds.samples]
    assert rels == ["cat/gray.png", "cat/x.png", "cat/nested/y.PNG", "zebra/a.png", "zebra/b.png"]
    assert ds.targets == [0, 0, 0, 1, 1] and ds.imgs is ds.samples and len(ds) == 5
    for i, rel in enumerate(rels):
        img, target = ds[i]
        assert img.mode == "RGB" and target == ds.targets[i]
        assert np.array_equal(np.asarray(img), arrays[rel])


def test_image_folder_options(image_tree):
    root, _ = image_tree
    ds = ImageFolder(root, is_valid_file=lambda p: p.endswith("a.png") or p.endswith("x.png"))
    assert [os.path.basename(p) for p, _ in ds.samples] == ["x.png", "a.png"]
    ds = ImageFolder(root, loader=lambda p: os.path.basename(p), transform=str.upper,
                     target_transform=lambda t: -t)
    assert ds[3] == ("A.PNG", -1)


def test_image_folder_errors(tmp_path, image_tree):
    root, _ = image_tree
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        ImageFolder(tmp_path / "missing")
    assert str(tmp_path / "missing") in str(info.value)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path / "flat")
    (root / "empty_class").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty_class"):
        ImageFolder(root)
    ds = ImageFolder(root, allow_empty=True)
    assert ds.classes == ["cat", "empty_class", "zebra"] and ds.targets == [0, 0, 0, 2, 2]


def test_image_folder_unreadable_image_names_the_file(image_tree):
    root, _ = image_tree
    bad = root / "zebra" / "a.png"
    bad.write_bytes(b"this is not a png")
    ds = ImageFolder(root)
    with pytest.raises(CorruptFileError, match="cannot read the image") as info:
        ds[3]
    assert info.value.path == str(bad)
    good = (root / "zebra" / "b.png").read_bytes()
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFileError) as info:
        ds[3]
    assert str(bad) in str(info.value)
