"""What the network document knows of each dataset an Input node may come from: its image shape and
class names. Loading the images is the training layer's job (``engine.training.recipe``)."""

from dataclasses import dataclass


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
