"""The dataset view: class names and counts (list and bar chart), thumbnails page by page, the split in words,
an image folder's unreadable files, a missing dataset; and the panel's Dataset action and refused run."""

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from image_folder_networks import folder_network
from panel_support import make_cifar, wait_idle
from PIL import Image
from PySide6.QtCore import Qt

from engine.graph.datasets import CIFAR10_CLASSES
from engine.graph.templates import load_template
from engine.vision.datasets import CIFAR10
from gui.training.dataset_view import PAGE, DatasetView

SHARED_CIFAR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cifar10"


def summary_threads():
    return [t for t in threading.enumerate() if t.name == "layerlab-dataset-summary" and t.is_alive()]


@pytest.fixture
def open_view(qtbot):
    """``open_view(document)``: a shown DatasetView that has finished reading; its thread is joined after."""
    views = []

    def make(document):
        view = DatasetView(document)
        qtbot.addWidget(view)
        view.resize(1280, 720)
        view.show()
        views.append(view)
        qtbot.waitUntil(lambda: not view.loading, timeout=60000)
        return view

    yield make
    for view in views:
        view.shutdown()
    assert not summary_threads()


def lenet(data_dir, **settings):
    network = load_template("lenet_cifar10")
    network.set_settings({"data_dir": str(data_dir), **settings})
    return network


@pytest.fixture
def bad_folder(tmp_path):
    """cat and dog folders of 5 training and 2 test PNGs each, plus a truncated JPEG, a text file named .png
    and a zero-byte file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for split, n in (("train", 5), ("test", 2)):
        for name in ("cat", "dog"):
            (root / split / name).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / split / name / f"{i}.png")
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    (root / "train" / "cat" / "cut.jpg").write_bytes(buf.getvalue()[:300])
    (root / "train" / "dog" / "text.png").write_text("not a picture")
    (root / "test" / "cat" / "empty.png").write_bytes(b"")
    return root, {"train/cat/cut.jpg": "truncated", "train/dog/text.png": "not an image file",
                  "test/cat/empty.png": "empty"}


def test_class_names_and_counts_show_in_the_list_and_the_chart(open_view, tmp_path):
    data = make_cifar(str(tmp_path / "cifar"))  # 80 training images, labels 0..15 % 10 in each batch of 16
    view = open_view(lenet(data, val_split=0.25, seed=1))
    assert view.windowTitle() == "Dataset: CIFAR-10" and not view.status.isVisible()
    assert view.split_label.text() == ("80 training images: 25% (20) held out for validation (seed 1), 60 to train on."
                                       " 16 test images. 10 classes.")
    train, val = view.bars["train"].opts["width"], view.bars["validation"].opts["width"]
    assert (train + val).tolist() == [10] * 6 + [5] * 4 and val.sum() == 20
    assert [view.class_list.item(k).text() for k in range(10)] == [f"{name}  ({int(count):,})" for name, count in
                                                                   zip(CIFAR10_CLASSES, train, strict=True)]
    assert [view.part_combo.itemText(k) for k in range(3)] == ["Training (60)", "Validation (20)", "Test (16)"]
    view.part_combo.setCurrentIndex(2)
    assert view.class_list.item(9).text() == f"{CIFAR10_CLASSES[9]}  (1)"
    assert not view.unreadable_label.isVisible()


def test_thumbnails_page_through_one_class_reading_only_the_page(open_view, tmp_path):
    data = make_cifar(str(tmp_path / "cifar"), n=400)  # class 0: 40 of each batch of 400, 200 in all
    view = open_view(lenet(data, val_split=0.0))
    dataset = CIFAR10(data, train=True)
    view.class_list.setCurrentRow(0)
    assert view.thumbnails.count() == PAGE and view.page_label.text() == "images 1–48 of 200  ·  page 1 of 5"
    assert not view.previous_button.isEnabled() and view.next_button.isEnabled()
    first = [view.thumbnails.item(k).data(Qt.ItemDataRole.UserRole) for k in range(PAGE)]
    expected = np.flatnonzero(np.asarray(dataset.targets) == 0)
    assert first == expected[:PAGE].tolist()
    view.next_button.click()
    second = [view.thumbnails.item(k).data(Qt.ItemDataRole.UserRole) for k in range(PAGE)]
    assert second == expected[PAGE:2 * PAGE].tolist() and view.previous_button.isEnabled()
    image = view.thumbnails.item(0).icon().pixmap(64, 64).toImage()
    shown = np.array([[image.pixelColor(2 * x, 2 * y).red() for x in range(32)] for y in range(32)])
    assert np.array_equal(shown, dataset.data[second[0]][:, :, 0])  # the right picture, scaled twice
    for _ in range(4):
        view.next_button.click()
    assert view.page == 4 and view.thumbnails.count() == 200 - 4 * PAGE and not view.next_button.isEnabled()
    view.class_list.setCurrentRow(9)  # another class starts on its first page
    assert view.page == 0 and view.page_label.text() == "images 1–48 of 200  ·  page 1 of 5"
    assert view.thumbnails.item(0).data(Qt.ItemDataRole.UserRole) == np.flatnonzero(np.asarray(dataset.targets) == 9)[0]


def test_an_image_folder_lists_exactly_its_unreadable_files_with_reasons(open_view, bad_folder):
    root, expected = bad_folder
    view = open_view(folder_network(root, 2, val_split=0.0))
    lines = [view.unreadable_list.item(k).text().split("\n") for k in range(view.unreadable_list.count())]
    assert sorted(name for name, _ in lines) == sorted(expected)
    for name, reason in lines:
        assert expected[name] in reason
    assert view.unreadable_label.text().startswith(f"3 of the 17 image files in {root} cannot be read")
    view.class_list.setCurrentRow(1)  # dog: its text file shows as a blank cell that says why
    tips = [view.thumbnails.item(k).toolTip() for k in range(view.thumbnails.count())]
    assert len(tips) == 6 and sum("not an image file" in tip for tip in tips) == 1


def test_a_readable_folder_says_so(open_view, bad_folder):
    root, _ = bad_folder
    for path in ("train/cat/cut.jpg", "train/dog/text.png", "test/cat/empty.png"):
        (root / path).unlink()
    view = open_view(folder_network(root, 2, val_split=0.0))
    assert view.unreadable_label.text() == f"All 14 image files in {root} can be read."
    assert not view.unreadable_list.isVisible()


def test_a_missing_dataset_is_explained_with_the_download_offer(open_view, qtbot, tmp_path):
    view = open_view(lenet(tmp_path, val_split=0.0))
    assert view.status.isVisible() and "CIFAR-10 is not on this computer" in view.status.text()
    assert str(tmp_path) in view.status.text() and view.download_button.isVisible() and not view.body.isVisible()
    view.open_download_dialog()
    assert view.download_dialog.dataset == "CIFAR-10"
    data = make_cifar(str(tmp_path / "cifar"))
    view.download_dialog.choose_folder(data)  # the folder that holds it: kept in the settings, and read
    assert view.document.settings["data_dir"] == data
    qtbot.waitUntil(lambda: not view.loading, timeout=20000)
    assert view.body.isVisible() and not view.status.isVisible() and view.summary.counts("train").sum() == 80
    view.document.assign(load_template("mlp_fashion_mnist"))  # another network is opened into the window
    assert view.windowTitle() == "Dataset: Fashion-MNIST"
    qtbot.waitUntil(lambda: not view.loading, timeout=20000)


def test_the_panel_opens_the_view_and_refuses_a_run_on_unreadable_files(make_panel, qtbot, bad_folder, runs_dir):
    root, expected = bad_folder
    network = folder_network(root, 2, val_split=0.0)
    panel = make_panel(network)
    panel.dataset_action.trigger()
    view = panel.dataset_view
    qtbot.waitUntil(lambda: not view.loading, timeout=20000)
    assert view.isVisible() and view.unreadable_list.count() == 3
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    text = panel.banner.text()
    assert panel.banner.isVisible() and text.startswith(f"{root}: 3 of its 17 images cannot be read")
    for name, reason in expected.items():
        assert any(line.strip().startswith(name) and reason in line for line in text.splitlines()), name
    assert panel.controller.run is None and not runs_dir.exists()  # refused before a run folder was made
    network.set_settings({"skip_bad_samples": True})
    assert panel.open_dataset_view() is view  # the same window, read again
    panel.shutdown()
    assert not summary_threads()


@pytest.mark.skipif(not (SHARED_CIFAR / "cifar-10-batches-py").is_dir(),
                    reason="the real CIFAR-10 is not at ../shared/data/cifar10 (no shared data folder)")
def test_the_real_cifar10_shows_5000_images_per_class_before_the_split(open_view):
    view = open_view(lenet(SHARED_CIFAR, val_split=0.1))
    train, val = view.bars["train"].opts["width"], view.bars["validation"].opts["width"]
    assert (train + val).tolist() == [5000] * 10 and train.sum() == 45000
    assert view.class_list.item(3).text() == f"cat  ({int(train[3]):,})"
