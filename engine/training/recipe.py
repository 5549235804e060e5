"""From a network document to a ready ``Trainer``: datasets and transforms, loaders, the model, the loss,
the optimizer and the schedule, all read from the document's training settings (the transforms, optimizer
options and loader options as ``engine.graph`` describes them, which the exported script writes too).

The command line and the GUI both go through ``prepare_training``, so a saved document reproduces a run
whichever way it is started. With ``val_split`` 0 the test split serves as the validation set (as in the
seed tutorial); otherwise a seeded random share of the training images is held out and seen without
augmentation.
"""

import copy
import os
from dataclasses import dataclass

import numpy as np

from .. import backend, optim, random
from ..graph import Network, NetworkError
from ..graph.datasets import DATASETS, transform_calls
from ..graph.settings import loader_options, optimizer_options, scheduler_call
from ..utils.data import DataLoader, Subset
from ..vision import datasets as vision_datasets
from ..vision import transforms as T
from ..vision.datasets.scan import check_readable
from .checkpoint import read_checkpoint
from .health import BUDGET, HealthMonitor
from .trainer import Trainer, check_fits


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


def _transform(network, train):
    return T.Compose([getattr(T, call.cls)(*call.args, **call.kwargs) for call in transform_calls(network, train, T)])


def eval_transform(network):
    """The transform for evaluation and prediction: resize (image folders), tensor, normalisation."""
    return _transform(network, False)


def train_transform(network):
    """The evaluation transform with the settings' augmentations before the tensor."""
    return _transform(network, True)


def make_optimizer(network, parameters):
    """``engine.optim.<optimizer>`` with the settings that apply to it."""
    settings = network.settings
    if settings["optimizer"] == "SGD" and settings["nesterov"] and settings["momentum"] == 0:
        raise NetworkError("training settings: nesterov needs a momentum above 0")
    return getattr(optim, settings["optimizer"])(parameters, **optimizer_options(settings))


def make_scheduler(network, optimizer, steps_per_epoch):
    """``(scheduler or None, 'epoch' or 'step')`` for the document's schedule."""
    name, options, interval = scheduler_call(network.settings, steps_per_epoch, network.settings["epochs"])
    if name is None:
        return None, interval
    return getattr(optim.lr_scheduler, name)(optimizer, **options), interval


def make_loader(network, dataset, train):
    return DataLoader(dataset, **loader_options(network.settings, train))


def _open(network, info, root, train, download):
    cls = getattr(vision_datasets, info.vision_class)
    if info.vision_class == "ImageFolder":
        if root is None:
            raise NetworkError("an image-folder dataset needs a folder: set data_dir in the training settings "
                               "(with train/ and test/ sub-folders of one folder per class)")
        skip = {"on_bad_sample": "skip"} if network.settings["skip_bad_samples"] else {}
        return cls(os.path.join(root, "train" if train else "test"), **skip)
    return cls(root, train=train, download=download)


def _root(network, data_dir):
    return data_dir or network.settings["data_dir"] or None


def load_test_data(network, data_dir=None, download=False):
    """The test split alone, with the evaluation transform, and its class names (evaluating saved weights
    needs no training images)."""
    info = DATASETS[network.input_node().params["dataset"]]
    test = _open(network, info, _root(network, data_dir), False, download)
    test.transform = eval_transform(network)
    return test, tuple(getattr(test, "classes", ()) or info.classes)


def load_data(network, data_dir=None, download=False):
    """Train, validation and test datasets (with their transforms) for the document's Input and settings."""
    settings = network.settings
    info = DATASETS[network.input_node().params["dataset"]]
    full_train = _open(network, info, _root(network, data_dir), True, download)
    test, _ = load_test_data(network, data_dir, download)
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


def check_resume(network, checkpoint_path):
    """Check the checkpoint in ``checkpoint_path`` against the document before any data is loaded (the model,
    optimizer and schedule the document makes): ``CheckpointError`` listing what does not fit, or
    ``WeightFileError`` for a damaged file. The steps per epoch are checked once the data is loaded."""
    state = read_checkpoint(checkpoint_path)
    model = network.build()
    optimizer = make_optimizer(network, model.parameters())
    scheduler, _ = make_scheduler(network, optimizer, state.get("steps_per_epoch") or 1)
    check_fits(checkpoint_path, state, model, optimizer, scheduler)


def load_checked_data(network, data_dir=None, download=False):
    """``load_data``, then an image folder with unreadable files refused (``UnreadableFilesError`` naming each,
    unless ``skip_bad_samples``), so that a run refuses to start instead of failing in its middle."""
    data = load_data(network, data_dir, download)
    if not network.settings["skip_bad_samples"]:
        check_readable(data.train, data.test)
    return data


def trainable_problem(network):
    """Why ``network`` has nothing to train (every layer with parameters frozen, or none has any), or None."""
    inference = network.infer()
    if inference.total_params - inference.frozen_params > 0:
        return None
    what = "every layer with parameters is frozen" if inference.total_params else "no layer has parameters"
    return f"the network '{network.title}' has nothing to train: {what}"


def initial_model(network):
    """The module a run of ``network`` starts from: built after seeding every generator with the settings' seed."""
    random.manual_seed(network.settings["seed"])
    return network.build()


def health_monitor(network):
    """The ``HealthMonitor`` the document's ``health_every`` setting asks for (within the default time budget),
    or None (0: off)."""
    every = network.settings["health_every"]
    return HealthMonitor(every, budget=BUDGET) if every else None


def prepare_training(network, *, data_dir=None, device=None, callbacks=(), monitor_gradients=False,
                     download=False, data=None):
    """Everything a run needs, from the document; ``data`` reuses already loaded ``DataSplits``, else
    ``load_checked_data`` loads them."""
    problem = trainable_problem(network)
    if problem:
        raise NetworkError(problem)
    model = initial_model(network)
    device = backend.device(device or network.settings["device"])
    model.to(device)
    if data is None:
        data = load_checked_data(network, data_dir, download)
    train_loader = make_loader(network, data.train, True)
    val_loader = make_loader(network, data.val, False)
    test_loader = val_loader if data.val is data.test else make_loader(network, data.test, False)
    optimizer = make_optimizer(network, model.parameters())
    scheduler, interval = make_scheduler(network, optimizer, len(train_loader))
    loss_fn = network.build_loss()
    trainer = Trainer(model, optimizer, loss_fn, train_loader, val_loader, device=device, scheduler=scheduler,
                      callbacks=callbacks, scheduler_interval=interval, seed=network.settings["seed"],
                      monitor_gradients=monitor_gradients, num_classes=len(data.classes) or None,
                      health=health_monitor(network), clip_grad_norm=network.settings["clip_grad_norm"])
    return TrainingSetup(network, model, loss_fn, optimizer, scheduler, interval, data, train_loader, val_loader,
                         test_loader, trainer)
