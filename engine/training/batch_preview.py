"""One batch of training images as the network will see them, made displayable: the settings' batch preview.

The images come from the recipe's training split with the recipe's training transform, through a loader as
in training, so the preview shows exactly the augmentations a run applies; the normalisation is then undone
for display. Each call draws the random augmentations anew from the engine's generator (a run reseeds it).
"""

from dataclasses import dataclass

import numpy as np

from ..graph.datasets import normalization, transform_calls
from ..utils.data import DataLoader, Subset
from .recipe import load_data, train_transform

MAX_IMAGES = 64  # a batch larger than this is previewed by its first images


@dataclass
class PreviewBatch:
    images: np.ndarray  # uint8, N×H×W×C
    labels: np.ndarray  # int64, N
    classes: tuple
    augmentations: tuple  # class names of the training transform's steps that evaluation does not take


def data_key(network):
    """What decides the preview's images (not their augmentation): a loaded split is reused while it is equal."""
    s = network.settings
    node = network.input_node()
    return (node.params["dataset"], node.params["shape"], s["data_dir"], s["val_split"], s["train_limit"], s["seed"],
            s["skip_bad_samples"])


def preview_batch(network, data=None):
    """The first ``min(batch_size, MAX_IMAGES)`` training images after the training transform, un-normalised.
    ``data``: ``DataSplits`` already loaded for ``network`` (``recipe.load_data``, which errors as it does when
    the dataset is missing); its training split's transform is replaced by the current settings' one."""
    data = data or load_data(network)
    train = data.train
    (train.dataset if isinstance(train, Subset) else train).transform = train_transform(network)
    count = min(network.settings["batch_size"], MAX_IMAGES, len(train))
    images, labels = next(iter(DataLoader(Subset(train, range(count)), batch_size=count)))
    plain = transform_calls(network, False)
    augmentations = tuple(call.cls for call in transform_calls(network, True) if call not in plain)
    return PreviewBatch(displayable(network, images.numpy()), labels.numpy(), data.classes, augmentations)


def displayable(network, images):
    """Normalised N×C×H×W float32 images as N×H×W×C uint8 pixels (the normalisation undone, then clipped)."""
    mean_std = normalization(network)
    if mean_std is not None:
        mean, std = (np.asarray(v, dtype=np.float32)[:, None, None] for v in mean_std)
        images = images * std + mean
    return np.ascontiguousarray((np.clip(images, 0.0, 1.0) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1))
