"""From a network document to a ready ``Trainer``: datasets and transforms, loaders, the model, the loss,
the optimizer and the schedule, all read from the document's training settings.

The command line and the GUI both go through ``prepare_training``, so a saved document reproduces a run
whichever way it is started. With ``val_split`` 0 the test split serves as the validation set (as in the
seed tutorial); otherwise a seeded random share of the training images is held out and seen without
augmentation.
"""

import copy
from dataclasses import dataclass

import numpy as np

from .. import optim
from ..graph import Network, NetworkError
from ..graph.datasets import DATASETS
from ..utils.data import DataLoader, Subset
from ..vision import datasets as vision_datasets
from ..vision import transforms as T
from .trainer import Trainer


@dataclass
class DataSplits:
    train: object
    val: object
    test: object
    classes: tuple


@dataclass
class TrainingSetup:
    network: Network
    model: object
    loss_fn: object
    optimizer: object
    scheduler: object
    scheduler_interval: str
    data: DataSplits
    train_loader: DataLoader
    val_loader: DataLoader
    test_loader: DataLoader
    trainer: Trainer


def eval_transform(network):
    """The transform for evaluation and prediction: resize (image folders), tensor, normalisation."""
    settings = network.settings
    info = DATASETS[network.input_node().params["dataset"]]
    channels, height, width = network.input_node().params["shape"]
    steps = []
    if info.shape is None:  # image folders come in any size and mode
        steps += [T.Resize((height, width))] + ([T.Grayscale(1)] if channels == 1 else [])
    steps.append(T.ToTensor())
    if settings["normalize"]:
        mean, std = (info.mean, info.std) if channels == len(info.mean) else ((0.5,) * channels, (0.5,) * channels)
        steps.append(T.Normalize(mean, std))
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


def _open(info, root, train, download):
    cls = getattr(vision_datasets, info.vision_class)
    if info.vision_class == "ImageFolder":
        import os

        if root is None:
            raise NetworkError("an image-folder dataset needs a folder: set data_dir in the training settings "
                               "(with train/ and test/ sub-folders of one folder per class)")
        return cls(os.path.join(root, "train" if train else "test"))
    return cls(root, train=train, download=download)


def load_data(network, data_dir=None, download=False):
    """Train, validation and test datasets (with their transforms) for the document's Input and settings."""
    settings = network.settings
    info = DATASETS[network.input_node().params["dataset"]]
    root = data_dir or settings["data_dir"] or None
    full_train = _open(info, root, True, download)
    test = _open(info, root, False, download)
    test.transform = eval_transform(network)
    classes = tuple(getattr(full_train, "classes", ()) or info.classes)
    train = copy.copy(full_train)
    train.transform = train_transform(network)
    indices = np.arange(len(full_train))
    if settings["val_split"] > 0:
        order = np.random.default_rng(settings["seed"]).permutation(len(full_train))
        n_val = max(1, round(settings["val_split"] * len(full_train)))
        held = copy.copy(full_train)
        held.transform = eval_transform(network)
        val = Subset(held, sorted(order[:n_val].tolist()))
        indices = np.sort(order[n_val:])
    else:
        val = test
    if settings["train_limit"]:
        indices = indices[:settings["train_limit"]]
    if len(indices) < len(full_train):
        train = Subset(train, indices.tolist())
    return DataSplits(train, val, test, classes)


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


def prepare_training(network, *, data_dir=None, device=None, callbacks=(), monitor_gradients=False,
                     download=False, data=None):
    """Everything a run needs, from the document; ``data`` reuses already loaded ``DataSplits``."""
    from .. import backend, random

    random.manual_seed(network.settings["seed"])
    model = network.build()
    device = backend.device(device or network.settings["device"])
    model.to(device)
    data = data or load_data(network, data_dir, download)
    train_loader = make_loader(network, data.train, True)
    val_loader = make_loader(network, data.val, False)
    test_loader = val_loader if data.val is data.test else make_loader(network, data.test, False)
    optimizer = make_optimizer(network, model.parameters())
    scheduler, interval = make_scheduler(network, optimizer, len(train_loader))
    loss_fn = network.build_loss()
    trainer = Trainer(model, optimizer, loss_fn, train_loader, val_loader, device=device, scheduler=scheduler,
                      callbacks=callbacks, scheduler_interval=interval, seed=network.settings["seed"],
                      monitor_gradients=monitor_gradients, num_classes=len(data.classes) or None)
    return TrainingSetup(network, model, loss_fn, optimizer, scheduler, interval, data, train_loader, val_loader,
                         test_loader, trainer)
