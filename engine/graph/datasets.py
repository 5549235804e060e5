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


@dataclass(frozen=True)
class EnumMember:
    """A member of an enum of ``engine.vision.transforms`` named as data (``AutoAugmentPolicy.CIFAR10``), since
    engine.graph does not import engine.vision: ``transform_calls`` looks it up in the namespace it is given,
    and the code exporter writes it as code."""

    enum: str
    name: str

    def resolve(self, namespace):
        return getattr(getattr(namespace, self.enum), self.name)


def map_values(call, function):
    """``call`` with ``function`` applied to each of its arguments."""
    return ModuleCall(call.cls, tuple(map(function, call.args)), {k: function(v) for k, v in call.kwargs.items()})


def _policy_call(policy):
    if policy == "AutoAugment CIFAR-10":
        return ModuleCall("AutoAugment", (), {"policy": EnumMember("AutoAugmentPolicy", "CIFAR10")})
    return None if policy == "none" else ModuleCall(policy)


def _augmentations(settings, size):
    """The augmentations of the image before it becomes a tensor: geometry, the policy, then colour."""
    calls = []
    if settings["augment_crop"] == "resized crop":
        calls.append(ModuleCall("RandomResizedCrop", (size,), {"scale": (settings["augment_crop_scale"], 1.0)}))
    elif settings["augment_crop_padding"]:
        calls.append(ModuleCall("RandomCrop", (size,),
                                {"padding": settings["augment_crop_padding"], "padding_mode": "reflect"}))
    if settings["augment_hflip"]:
        calls.append(ModuleCall("RandomHorizontalFlip"))
    if settings["augment_rotation"]:
        calls.append(ModuleCall("RandomRotation", (settings["augment_rotation"],)))
    policy = _policy_call(settings["augment_policy"])
    if policy is not None:
        calls.append(policy)
    jitter = settings["augment_color_jitter"]
    if jitter:
        calls.append(ModuleCall("ColorJitter", (), {"brightness": jitter, "contrast": jitter, "saturation": jitter}))
    if settings["augment_grayscale"]:
        calls.append(ModuleCall("RandomGrayscale", (), {"p": settings["augment_grayscale"]}))
    if settings["augment_blur"]:
        calls.append(ModuleCall("GaussianBlur", (3,), {"sigma": (0.1, 2.0)}))
    return calls


def transform_calls(network, train, namespace=None):
    """The ``engine.vision.transforms`` calls that prepare an image for training (``train``: with the
    augmentations, in torchvision's usual order: on the image before the tensor, and random erasing on the
    normalised tensor) or evaluation: resize (image folders), tensor, normalisation. With ``namespace`` (the
    transforms module the calls are made from) their ``EnumMember`` arguments are its enum members."""
    settings = network.settings
    info = DATASETS[network.input_node().params["dataset"]]
    channels, height, width = network.input_node().params["shape"]
    calls = []
    if info.shape is None:  # image folders come in any size and mode
        calls += [ModuleCall("Resize", ((height, width),))] + ([ModuleCall("Grayscale", (1,))] if channels == 1 else [])
    if train:
        calls += _augmentations(settings, (height, width))
    calls.append(ModuleCall("ToTensor"))
    mean_std = normalization(network)
    if mean_std is not None:
        calls.append(ModuleCall("Normalize", mean_std))
    if train and settings["augment_erasing"]:
        calls.append(ModuleCall("RandomErasing", (), {"p": settings["augment_erasing"]}))
    if namespace is not None:
        calls = [map_values(call, lambda v: v.resolve(namespace) if isinstance(v, EnumMember) else v)
                 for call in calls]
    return calls
