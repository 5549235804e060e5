"""engine.vision.datasets.stl10: STL-10's binary files compared with torchvision's class on the same files,
downloaded and verified, and refused with the file's name when they are truncated or corrupt."""

import tarfile

import numpy as np
import pytest
from torchvision_reference import torchvision

from engine.vision.datasets import STL10, CorruptFileError, DatasetNotFoundError

from .dataset_files import listing, md5

CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def make_stl10(root, n_train=12, n_test=4, n_unlabeled=3, seed=0):
    """``root/stl10_binary`` in the official layout: images channel by channel, each column-major."""
    folder = root / "stl10_binary"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, n in (("train", n_train), ("test", n_test), ("unlabeled", n_unlabeled)):
        (folder / f"{name}_X.bin").write_bytes(rng.integers(0, 256, n * 3 * 96 * 96, dtype=np.uint8).tobytes())
        if name != "unlabeled":
            (folder / f"{name}_y.bin").write_bytes(rng.integers(1, 11, n, dtype=np.uint8).tobytes())
    folds = [" ".join(str(i) for i in rng.permutation(n_train)[: n_train // 3]) for _ in range(10)]
    (folder / "fold_indices.txt").write_text("\n".join(folds) + "\n")
    (folder / "class_names.txt").write_text("\n".join(CLASSES) + "\n")
    return folder


def reference(monkeypatch):
    """torchvision's STL10, with its check of the official files' MD5 sums switched off for generated files."""
    cls = torchvision("datasets").STL10
    monkeypatch.setattr(cls, "_check_integrity", lambda self: True)
    return cls


CASES = [("train", None), ("train", 0), ("train", 7), ("test", None), ("test", 3), ("unlabeled", None),
         ("train+unlabeled", None), ("train+unlabeled", 9)]


@pytest.mark.parametrize(("split", "folds"), CASES)
def test_stl10_matches_torchvision(tmp_path, monkeypatch, split, folds):
    make_stl10(tmp_path)
    ours = STL10(tmp_path, split=split, folds=folds)
    ref = reference(monkeypatch)(tmp_path, split=split, folds=folds)
    assert ours.data.shape == ref.data.shape and ours.data.dtype == np.uint8
    assert np.array_equal(ours.data, ref.data)
    assert ours.labels.dtype == np.int64 and ours.labels.tolist() == ref.labels.tolist()
    assert ours.classes == ref.classes == CLASSES and len(ours) == len(ref)
    for i in range(len(ref)):
        (img, label), (ref_img, ref_label) = ours[i], ref[i]
        assert img.mode == ref_img.mode == "RGB" and img.size == (96, 96)
        assert np.array_equal(np.asarray(img), np.asarray(ref_img))
        assert label == ref_label and type(label) is int
    assert ours.root == str(ref.root) and repr(ours) == repr(ref)


def test_stl10_pixel_layout_and_transforms(tmp_path):
    folder = make_stl10(tmp_path)
    raw = np.frombuffer((folder / "test_X.bin").read_bytes(), np.uint8).reshape(4, 3, 96, 96)
    ds = STL10(tmp_path, split="test", transform=np.asarray, target_transform=lambda t: t * 10)
    pixels, label = ds[2]
    for y, x, c in [(0, 0, 0), (0, 1, 0), (1, 0, 1), (95, 95, 2), (7, 40, 1)]:
        assert pixels[y, x, c] == raw[2, c, x, y]  # column-major: x is the slower axis
    assert label == 10 * (int((folder / "test_y.bin").read_bytes()[2]) - 1)
    assert "Transform:" in repr(ds) and "Split: test" in repr(ds)


def test_stl10_without_class_names_has_no_classes(tmp_path):
    (make_stl10(tmp_path) / "class_names.txt").unlink()
    assert not hasattr(STL10(tmp_path, split="test"), "classes")


def test_stl10_argument_errors_are_torchvisions(tmp_path, monkeypatch):
    make_stl10(tmp_path)
    ref = reference(monkeypatch)
    for kwargs in ({"split": "validation"}, {"split": 1}, {"folds": 10}, {"folds": -1}, {"folds": "1"}):
        with pytest.raises(ValueError) as ours:
            STL10(tmp_path, **kwargs)
        with pytest.raises(ValueError) as theirs:
            ref(tmp_path, **kwargs)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(("name", "content", "match"), [
    ("train_X.bin", b"\0" * (3 * 96 * 96 * 12 - 5), "not a whole number of 27648-byte"),
    ("train_y.bin", b"\1" * 11, "11 labels for the 12 images"),
    ("train_y.bin", b"\1" * 11 + b"\x0b", r"labels must lie in \[1, 10\], found 1..11"),
    ("train_y.bin", b"\0" + b"\1" * 11, r"found 0..1"),
    ("fold_indices.txt", b"0 1 2\n", "1 lines, no fold 4"),
    ("fold_indices.txt", b"0 1 2\n" * 4 + b"0 x 2\n", "line 5 is not a list of integers"),
    ("fold_indices.txt", b"0 1 2\n" * 4 + b"0 12\n", "fold 4 indexes 0..12, outside the 12 training images"),
    ("fold_indices.txt", b"0 1 2\n" * 4 + b"-1 2\n", "outside"),
    ("class_names.txt", b"\xff\xfe", "not UTF-8 text"),
])
def test_stl10_corrupt_files_name_the_file(tmp_path, name, content, match):
    folder = make_stl10(tmp_path)
    (folder / name).write_bytes(content)
    with pytest.raises(CorruptFileError, match=match) as info:
        STL10(tmp_path, split="train", folds=4)
    assert info.value.path == str(folder / name)


def test_stl10_refuses_a_folder_in_place_of_a_file(tmp_path):
    folder = make_stl10(tmp_path)
    (folder / "test_y.bin").unlink()
    (folder / "test_y.bin").mkdir()
    with pytest.raises(CorruptFileError, match="not a regular file"):
        STL10(tmp_path, split="test")


def test_stl10_not_found_lists_the_splits_files(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        STL10(tmp_path / "nowhere", split="train+unlabeled", folds=2)
    msg = str(info.value)
    assert "Dataset STL10 not found" in msg and "train_X.bin, train_y.bin, unlabeled_X.bin, fold_indices.txt" in msg
    assert str(tmp_path / "nowhere" / "stl10_binary") in msg and STL10.url in msg and STL10.tgz_md5 in msg
    make_stl10(tmp_path)
    (tmp_path / "stl10_binary" / "test_X.bin").unlink()
    with pytest.raises(DatasetNotFoundError, match="Missing: test_X.bin\n"):
        STL10(tmp_path, split="test")
    assert len(STL10(tmp_path, split="train")) == 12  # a split needs only its own files


def test_stl10_download_verifies_and_unpacks(tmp_path, http_server, capsys):
    src = make_stl10(tmp_path / "src")
    archive = tmp_path / "stl10_binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="stl10_binary")
    body = archive.read_bytes()
    http_server.files["/stl10_binary.tar.gz"] = (body, "ok")
    cls = type("LocalSTL10", (STL10,), {"url": http_server.base + "/stl10_binary.tar.gz", "tgz_md5": md5(body)})
    ds = cls(tmp_path / "root", split="test", download=True)
    assert len(ds) == 4 and ds.classes == CLASSES
    files = sorted(f"stl10_binary/{p.name}" for p in src.iterdir())
    assert listing(tmp_path / "root") == ["stl10_binary", "stl10_binary.tar.gz", *files]
    cls(tmp_path / "root", split="test", download=True)
    assert "Files already downloaded and verified" in capsys.readouterr().out

    bad = type("BadSTL10", (STL10,), {"url": cls.url, "tgz_md5": "0" * 32})
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch"):
        bad(tmp_path / "root2", download=True)
    assert listing(tmp_path / "root2") == []
