"""The batch preview of the settings form: real CIFAR-10 images after the recipe's training transform,
un-normalised, as N tiles; the same pixels on every redraw without augmentation, new ones with it; a clear
message when the dataset is missing."""

import os
import threading

import numpy as np
import pytest

from engine.graph.templates import load_template
from engine.training.batch_preview import MAX_IMAGES
from engine.vision.datasets import CIFAR10
from gui.training.batch_preview import TILE, tile_pixmap
from gui.training.settings_form import SettingsForm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CIFAR = os.path.join(ROOT, "..", "shared", "data", "cifar10")
needs_cifar = pytest.mark.skipif(not os.path.isdir(os.path.join(CIFAR, "cifar-10-batches-py")),
                                 reason="the real CIFAR-10 (../shared/data/cifar10) is not beside this checkout")


def open_preview(qtbot, **settings):
    network = load_template("lenet_cifar10")
    network.set_settings({"data_dir": CIFAR, "val_split": 0.0, "batch_size": 16, **settings})
    form = SettingsForm(network)
    qtbot.addWidget(form)
    form.show()
    form.preview_button.click()
    preview = form.batch_preview
    qtbot.addWidget(preview)
    assert preview.loading and preview.tiles == [] and "Loading" in preview.caption.text()
    qtbot.waitUntil(lambda: not preview.loading, timeout=60000)
    return network, preview


@needs_cifar
def test_without_augmentation_the_tiles_are_the_first_training_images_on_every_redraw(qtbot):
    _, preview = open_preview(qtbot)
    assert preview.isVisible() and len(preview.tiles) == 16 and not preview.message.isVisible()
    first = preview.images
    assert first.shape == (16, 32, 32, 3) and first.dtype == np.uint8
    raw = CIFAR10(CIFAR, train=True).data[:16]
    assert np.abs(first.astype(int) - raw.astype(int)).max() <= 1  # normalised, then un-normalised for display
    preview.redraw()
    np.testing.assert_array_equal(preview.images, first)
    assert "no augmentation" in preview.caption.text()


@needs_cifar
def test_with_augmentation_each_redraw_draws_again(qtbot):
    network, preview = open_preview(qtbot, augment_hflip=True, augment_rotation=20.0, augment_erasing=0.5)
    first = preview.images
    assert len(preview.tiles) == 16
    preview.redraw()
    assert len(preview.tiles) == 16 and not np.array_equal(preview.images, first)
    assert "RandomHorizontalFlip, RandomRotation, RandomErasing" in preview.caption.text()
    shown = preview.images
    network.set_settings({"augment_hflip": False, "augment_rotation": 0.0, "augment_erasing": 0.0})  # redraws
    raw = CIFAR10(CIFAR, train=True).data[:16]
    assert not np.array_equal(preview.images, shown)
    assert np.abs(preview.images.astype(int) - raw.astype(int)).max() <= 1


@needs_cifar
def test_a_large_batch_is_previewed_by_its_first_images(qtbot):
    _, preview = open_preview(qtbot, batch_size=128)
    assert len(preview.tiles) == MAX_IMAGES and "of a batch of 128" in preview.caption.text()


def test_a_missing_dataset_is_said_in_the_preview(qtbot, tmp_path):
    _, preview = open_preview(qtbot, data_dir=str(tmp_path))
    assert preview.tiles == [] and preview.images is None
    assert preview.message.isVisible() and "not found" in preview.message.text()
    assert str(tmp_path) in preview.message.text() and "dataset is missing" in preview.caption.text()


def test_tiles_are_enlarged_crisply():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    shown = tile_pixmap(image).toImage()
    factor = TILE // 32
    assert (shown.width(), shown.height()) == (TILE, TILE)
    for y, x in ((0, 0), (5, 17), (31, 31)):
        for dy in range(factor):
            color = shown.pixelColor(x * factor + dy, y * factor + dy)
            assert (color.red(), color.green(), color.blue()) == tuple(image[y, x])


def test_the_crop_choice_shows_only_its_own_option(qtbot):
    network = load_template("lenet_cifar10")
    form = SettingsForm(network)
    qtbot.addWidget(form)
    form.show()

    def visible(name):
        layout, field = form._rows[name]
        return layout.isRowVisible(field)

    assert visible("augment_crop_padding") and not visible("augment_crop_scale")
    network.set_settings({"augment_crop": "resized crop"})
    assert not visible("augment_crop_padding") and visible("augment_crop_scale")


@needs_cifar
def test_a_new_data_folder_is_loaded_when_the_settings_name_it(qtbot, tmp_path):
    network, preview = open_preview(qtbot, data_dir=str(tmp_path))
    assert preview.message.isVisible()
    network.set_settings({"data_dir": CIFAR})
    assert preview.loading
    qtbot.waitUntil(lambda: not preview.loading, timeout=60000)
    assert len(preview.tiles) == 16 and not preview.message.isVisible()


def test_closing_the_preview_while_it_loads_leaves_no_thread(qtbot):
    network = load_template("lenet_cifar10")
    network.set_settings({"data_dir": CIFAR})
    form = SettingsForm(network)
    qtbot.addWidget(form)
    form.show()
    form.show_batch_preview()
    assert form.batch_preview.loading
    form.batch_preview.close()
    assert not form.batch_preview.loading
    assert not [t for t in threading.enumerate() if t.name == "batch-preview-load"]
