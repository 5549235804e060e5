"""What a document's training settings make, without touching any files: the train and evaluation
transforms, the optimizer, the learning-rate schedule and the loaders' options. The training recipe
(``engine.training.recipe``) and the engine-code exporter both build from here, so a run started from the
app and the exported script train the same way."""

from .. import optim
from ..utils.data import DataLoader
from ..vision import transforms as T
from .datasets import DATASETS
from .document import NetworkError


def normalization(network):
    """``(mean, std)`` per channel that images (pixels in [0, 1]) are normalised with, or None when the
    settings turn normalisation off."""
    if not network.settings["normalize"]:
        return None
    info = DATASETS[network.input_node().params["dataset"]]
    channels = network.input_node().params["shape"][0]
    return (info.mean, info.std) if channels == len(info.mean) else ((0.5,) * channels, (0.5,) * channels)


def eval_transform(network):
    """The transform for evaluation and prediction: resize (image folders), tensor, normalisation."""
    info = DATASETS[network.input_node().params["dataset"]]
    channels, height, width = network.input_node().params["shape"]
    steps = []
    if info.shape is None:  # image folders come in any size and mode
        steps += [T.Resize((height, width))] + ([T.Grayscale(1)] if channels == 1 else [])
    steps.append(T.ToTensor())
    mean_std = normalization(network)
    if mean_std is not None:
        steps.append(T.Normalize(*mean_std))
    return T.Compose(steps)


def train_transform(network):
    settings = network.settings
    base = eval_transform(network).transforms
    height, width = network.input_node().params["shape"][1:]
    augment = []
    if settings["augment_crop_padding"]:
        augment.append(T.RandomCrop((height, width), padding=settings["augment_crop_padding"],
                                    padding_mode="reflect"))
    if settings["augment_hflip"]:
        augment.append(T.RandomHorizontalFlip())
    position = next(i for i, t in enumerate(base) if isinstance(t, T.ToTensor))
    return T.Compose(base[:position] + augment + base[position:])


def make_optimizer(network, parameters):
    s = network.settings
    name = s["optimizer"]
    if name == "SGD":
        if s["nesterov"] and s["momentum"] == 0:
            raise NetworkError("training settings: nesterov needs a momentum above 0")
        return optim.SGD(parameters, lr=s["lr"], momentum=s["momentum"], nesterov=s["nesterov"],
                         weight_decay=s["weight_decay"])
    if name in ("Adam", "AdamW"):
        return getattr(optim, name)(parameters, lr=s["lr"], betas=(s["beta1"], s["beta2"]),
                                    weight_decay=s["weight_decay"])
    return optim.RMSprop(parameters, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"])


def make_scheduler(network, optimizer, steps_per_epoch):
    """``(scheduler or None, 'epoch' or 'step')`` for the document's schedule."""
    s = network.settings
    name = s["scheduler"]
    sched = optim.lr_scheduler
    if name == "StepLR":
        return sched.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"]), "epoch"
    if name == "MultiStepLR":
        return sched.MultiStepLR(optimizer, milestones=list(s["milestones"]), gamma=s["gamma"]), "epoch"
    if name == "CosineAnnealingLR":
        return sched.CosineAnnealingLR(optimizer, T_max=s["epochs"]), "epoch"
    if name == "OneCycleLR":
        return sched.OneCycleLR(optimizer, max_lr=s["lr"], total_steps=max(2, s["epochs"] * steps_per_epoch),
                                pct_start=s["warmup_fraction"]), "step"
    if name == "ReduceLROnPlateau":
        return sched.ReduceLROnPlateau(optimizer, factor=s["gamma"] or 0.1, patience=s["patience"]), "epoch"
    return None, "epoch"


def make_loader(network, dataset, train):
    s = network.settings
    return DataLoader(dataset, batch_size=s["batch_size"] if train else max(256, s["batch_size"]), shuffle=train,
                      num_workers=s["num_workers"])
