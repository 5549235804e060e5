"""``preview_batch``'s pixels: the normalisation the recipe applied undone (per channel, for three channels and
one), nothing undone when the settings do not normalise; the batch is the first images of the training split."""

import numpy as np
import pytest
from PIL import Image

import engine
from engine.graph.datasets import normalization
from engine.graph.templates import load_template
from engine.training.batch_preview import MAX_IMAGES, displayable, preview_batch
from engine.training.recipe import DataSplits
from engine.utils.data import Dataset


class Pictures(Dataset):
    """``n`` seeded uint8 H×W(×C) images with labels k % 10, through ``transform`` as the vision datasets do."""

    def __init__(self, n, shape):
        self.data = np.random.default_rng(0).integers(0, 256, (n, *shape), dtype=np.uint8)
        self.transform = None

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self.transform(Image.fromarray(self.data[index])), index % 10


@pytest.mark.parametrize("template, shape", [("lenet_cifar10", (32, 32, 3)), ("mlp_fashion_mnist", (28, 28))])
@pytest.mark.parametrize("normalize", [True, False])
def test_the_preview_shows_the_first_images_with_the_normalisation_undone(template, shape, normalize):
    network = load_template(template)
    network.set_settings({"normalize": normalize, "batch_size": 100})
    assert (normalization(network) is not None) == normalize
    pictures = Pictures(80, shape)
    batch = preview_batch(network, DataSplits(pictures, None, None, tuple("abcdefghij")))
    want = pictures.data[:MAX_IMAGES].reshape(MAX_IMAGES, *shape[:2], -1)
    assert batch.images.dtype == np.uint8 and batch.images.shape == want.shape
    assert np.abs(batch.images.astype(int) - want.astype(int)).max() <= (1 if normalize else 0)
    np.testing.assert_array_equal(batch.labels, np.arange(MAX_IMAGES) % 10)
    assert batch.augmentations == () and batch.classes == tuple("abcdefghij")


def test_the_augmentations_are_named_and_drawn_again_each_time():
    network = load_template("lenet_cifar10")
    network.set_settings({"batch_size": 8, "augment_hflip": True, "augment_erasing": 1.0})
    data = DataSplits(Pictures(8, (32, 32, 3)), None, None, ())
    engine.manual_seed(0)
    first = preview_batch(network, data)
    second = preview_batch(network, data)
    assert first.augmentations == ("RandomHorizontalFlip", "RandomErasing") and first.images.shape == (8, 32, 32, 3)
    assert not np.array_equal(first.images, second.images)


def test_displayable_clips_what_augmentation_pushed_out_of_range():
    network = load_template("lenet_cifar10")
    mean, std = normalization(network)
    images = np.stack([(np.full((32, 32), v, np.float32) - m) / s for v, m, s in zip((-0.5, 0.5, 2.0), mean, std,
                                                                                     strict=True)])[None]
    shown = displayable(network, images)
    assert shown.shape == (1, 32, 32, 3) and tuple(shown[0, 0, 0]) == (0, 128, 255)
