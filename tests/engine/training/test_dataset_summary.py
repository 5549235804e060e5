"""The dataset summary (class counts per part of the split, an image folder's unreadable files) and the check
that refuses a run on an image folder with unreadable files."""

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from image_folder_networks import folder_network
from PIL import Image

from engine.graph.templates import load_template
from engine.training.dataset_summary import summarize_dataset
from engine.training.recipe import load_data, prepare_training
from engine.vision.datasets import CIFAR10
from engine.vision.datasets.scan import UnreadableFilesError, check_readable, unreadable_files

SHARED_CIFAR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cifar10"
needs_cifar = pytest.mark.skipif(not (SHARED_CIFAR / "cifar-10-batches-py").is_dir(),
                                 reason="the real CIFAR-10 is not at ../shared/data/cifar10 (no shared data folder)")


def write_images(root, counts):
    """``root/<split>/<class>/<i>.png|jpg`` for ``counts`` = {split: {class: n}}."""
    rng = np.random.default_rng(0)
    for split, classes in counts.items():
        for name, n in classes.items():
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / (f"{i}.jpg" if i % 2 else f"{i}.png"))


@pytest.fixture
def bad_folder(tmp_path):
    """An image folder (bird 3, cat 7, dog 5 training images; 2 test images each) with three unreadable
    files among them: a truncated JPEG, a text file named .png and a zero-byte file."""
    write_images(tmp_path, {"train": {"bird": 3, "cat": 6, "dog": 4}, "test": {"bird": 2, "cat": 2, "dog": 1}})
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    truncated = tmp_path / "train" / "cat" / "truncated.jpg"
    truncated.write_bytes(buf.getvalue()[:len(buf.getvalue()) // 2])
    text = tmp_path / "train" / "dog" / "notes.png"
    text.write_text("this is not a picture")
    empty = tmp_path / "test" / "dog" / "empty.jpg"
    empty.write_bytes(b"")
    return tmp_path, {str(truncated): "truncated", str(text): "not an image file", str(empty): "empty"}


def test_the_unreadable_files_of_an_image_folder_are_listed_with_their_reasons(bad_folder):
    root, expected = bad_folder
    summary = summarize_dataset(folder_network(root, 3, val_split=0.0))
    assert sorted(f.path for f in summary.unreadable) == sorted(expected)
    for f in summary.unreadable:
        assert expected[f.path] in f.reason, f
    assert summary.is_folder and summary.folder == str(root) and summary.files == 21
    assert summary.classes == ("bird", "cat", "dog")
    assert summary.counts("train").tolist() == [3, 7, 5] and summary.counts("test").tolist() == [2, 2, 2]


def test_a_run_refuses_to_start_naming_each_unreadable_file_unless_bad_samples_are_skipped(bad_folder):
    root, expected = bad_folder
    with pytest.raises(UnreadableFilesError) as caught:
        prepare_training(folder_network(root, 3))
    error = caught.value
    assert error.path == str(root) and sorted(f.path for f in error.files) == sorted(expected)
    message = str(error)
    assert message.startswith(f"{root}: 3 of its 21 images cannot be read")
    for path, reason in expected.items():
        line = next(line for line in message.splitlines() if line.strip().startswith(os.path.relpath(path, root)))
        assert reason in line
    setup = prepare_training(folder_network(root, 3, skip_bad_samples=True))  # the user chose to skip them
    assert len(setup.data.train) == 13  # 15 less 10% held out for validation


def test_readable_folders_and_datasets_in_memory_pass_the_check(tmp_path):
    write_images(tmp_path, {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    summary = summarize_dataset(folder_network(tmp_path, 3, val_split=0.0))
    assert summary.unreadable == [] and summary.files == 6
    data = load_data(folder_network(tmp_path, 3))
    check_readable(data.train, data.val, data.test)
    check_readable([1, 2, 3])


def test_huge_or_hostile_files_are_refused_from_their_header_within_the_budgets(tmp_path):
    write_images(tmp_path, {"train": {"a": 1}, "test": {"a": 1}})
    Image.new("1", (9_000, 9_000)).save(tmp_path / "train" / "a" / "bomb.png")  # 81 megapixels, a small file
    os.mkfifo(tmp_path / "train" / "a" / "pipe.png")  # would block a plain open()
    start = time.perf_counter()
    bad = {f.path: f.reason for f in summarize_dataset(folder_network(tmp_path, 3, val_split=0.0)).unreadable}
    assert time.perf_counter() - start < 10
    assert "over the 67,108,864 pixels" in bad[str(tmp_path / "train" / "a" / "bomb.png")]
    assert "not a regular file" in bad[str(tmp_path / "train" / "a" / "pipe.png")]


def test_a_scan_reports_progress_and_stops_when_asked(bad_folder):
    root, _ = bad_folder
    data = load_data(folder_network(root, 3))
    seen = []
    assert len(unreadable_files(data.test, lambda done, total: seen.append((done, total)))) == 1
    assert seen == [(k, 6) for k in range(1, 7)]
    assert unreadable_files(data.test, stop=lambda: True) == []


def test_the_split_follows_the_settings_and_the_recipe(bad_folder):
    root, _ = bad_folder
    net = folder_network(root, 3, val_split=0.25, seed=3, train_limit=5, skip_bad_samples=True)
    summary = summarize_dataset(net)
    train, val = summary.part("train"), summary.part("validation")
    data = load_data(net)
    assert np.array_equal(val.indices, data.val.indices) and np.array_equal(train.indices, data.train.indices)
    assert len(val) == 4 and len(train) == 5 and summary.full_train == 15
    assert summary.split_text() == ("15 training images: 25% (4) held out for validation (seed 3), 11 to train on "
                                    "(train_limit keeps the first 5). 6 test images. 3 classes.")
    cat = train.of_class(1)
    assert all(train.dataset.samples[p][1] == 1 for p in cat) and len(cat) == summary.counts("train")[1]


@needs_cifar
def test_cifar10_counts_agree_with_the_real_dataset():
    net = load_template("lenet_cifar10")
    net.set_settings({"data_dir": str(SHARED_CIFAR), "val_split": 0.1, "seed": 0})
    summary = summarize_dataset(net)
    assert summary.name == "CIFAR-10" and summary.classes == tuple(CIFAR10(SHARED_CIFAR, train=False).classes)
    train, val, test = summary.counts("train"), summary.counts("validation"), summary.counts("test")
    assert (train + val).tolist() == [5000] * 10 and test.tolist() == [1000] * 10  # before the split: 5000 each
    assert val.sum() == 5000 and train.sum() == 45000 and not summary.is_folder and summary.unreadable == []
    assert summary.split_text() == ("50,000 training images: 10% (5,000) held out for validation (seed 0), 45,000 to "
                                    "train on. 10,000 test images. 10 classes.")
    net.set_settings({"val_split": 0.0})
    summary = summarize_dataset(net)
    assert [p.name for p in summary.parts] == ["train", "test"] and summary.counts("train").tolist() == [5000] * 10
    assert "which also serve for validation" in summary.split_text()
