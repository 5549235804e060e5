"""What the network document knows of each dataset an Input node may come from: its image shape, class
names and statistics, and how its images are prepared (``transform_calls``, as data: the code exporter writes
them, the training recipe ``engine.training.recipe`` makes them and loads the images)."""

from dataclasses import dataclass

from .catalogue import ModuleCall


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    shape: tuple | None  # C×H×W, or None when any size is accepted (resized to the Input's shape)
    classes: tuple  # empty when only known once the files are read
    vision_class: str  # the engine.vision.datasets class that reads it
    mean: tuple = ()
    std: tuple = ()

    @property
    def num_classes(self):
        return len(self.classes) or None


CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")

DATASETS = {
    "CIFAR-10": DatasetInfo("CIFAR-10", (3, 32, 32), CIFAR10_CLASSES, "CIFAR10", (0.4914, 0.4822, 0.4465),
                            (0.2470, 0.2435, 0.2616)),
    "Fashion-MNIST": DatasetInfo("Fashion-MNIST", (1, 28, 28), FASHION_CLASSES, "FashionMNIST", (0.2860,),
                                 (0.3530,)),
    "MNIST": DatasetInfo("MNIST", (1, 28, 28), tuple(str(i) for i in range(10)), "MNIST", (0.1307,), (0.3081,)),
    "Image folder": DatasetInfo("Image folder", None, (), "ImageFolder", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


def dataset_info(name):
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}") from None


def normalization(network):
    """``(mean, std)`` per channel that images (pixels in [0, 1]) are normalised with, or None when the
    settings turn normalisation off."""
    if not network.settings["normalize"]:
        return None
    info = DATASETS[network.input_node().params["dataset"]]
    channels = network.input_node().params["shape"][0]
    return (info.mean, info.std) if channels == len(info.mean) else ((0.5,) * channels, (0.5,) * channels)


def transform_calls(network, train):
    """The ``engine.vision.transforms`` calls that prepare an image for training (``train``: with the
    augmentations, before the tensor) or evaluation: resize (image folders), tensor, normalisation."""
    settings = network.settings
    info = DATASETS[network.input_node().params["dataset"]]
    channels, height, width = network.input_node().params["shape"]
    calls = []
    if info.shape is None:  # image folders come in any size and mode
        calls += [ModuleCall("Resize", ((height, width),))] + ([ModuleCall("Grayscale", (1,))] if channels == 1 else [])
    if train and settings["augment_crop_padding"]:
        calls.append(ModuleCall("RandomCrop", ((height, width),),
                                {"padding": settings["augment_crop_padding"], "padding_mode": "reflect"}))
    if train and settings["augment_hflip"]:
        calls.append(ModuleCall("RandomHorizontalFlip"))
    calls.append(ModuleCall("ToTensor"))
    mean_std = normalization(network)
    if mean_std is not None:
        calls.append(ModuleCall("Normalize", mean_std))
    return calls
