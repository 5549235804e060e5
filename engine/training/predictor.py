"""Prediction with a trained model, the one way for the command line and the GUI: weights from a run folder
(its final weights, or the checkpoint of a run cut short) or a weight file, images read as the network's
Input takes them and classified through the training's evaluation transform.

``load_trained(run_folder)`` gives a ``Predictor`` of a run; ``Predictor(model, network, classes)`` wraps a
model at hand (one just trained, or one the command line loaded into the document it was given).
"""

import os
from contextlib import suppress

import numpy as np

from .. import serialization
from ..graph import DATASETS
from ..graph.export import load_weights
from ..ops.shape import stack
from ..vision import transforms as T
from ..vision.image_file import open_image
from .recipe import eval_transform
from .runs import RunFileError, load_run
from .trainer import class_probabilities

TOP = 5


def weights_file(path):
    """The file to load weights from: ``path`` itself, or the trained weights of the run folder ``path``;
    ``RunFileError`` for a folder that is no run or a run with neither weights nor checkpoint."""
    if not os.path.isdir(path):
        return path
    run = load_run(path)
    found = run.trained_weights_path
    if found is None:
        raise RunFileError(path, "the run has neither weights.safetensors nor checkpoint.llw")
    return found


def _checkpoint_model(path):
    """The model weights inside a training checkpoint (``checkpoint.llw``), or None for any other file."""
    try:
        state = serialization.load(path, map_location="cpu")
    except (OSError, ValueError, RuntimeError):
        return None
    if isinstance(state, dict) and isinstance(state.get("model"), dict) and "optimizer" in state:
        return state["model"]
    return None


def read_weights(path):
    """``(file, {name: tensor})`` from a weight file ``engine.graph.export.load_weights`` reads, a training
    checkpoint, or a run folder; the error of ``load_weights`` or ``weights_file``, which names the file, when
    there are none to read."""
    path = weights_file(path)
    try:
        return path, load_weights(path)
    except (OSError, ValueError, RuntimeError):  # WeightFileError is a RuntimeError
        state = _checkpoint_model(path)
        if state is None:
            raise
        return path, state


def class_names(network, count, weights=None):
    """Names of the model's ``count`` outputs: those the run folder of ``weights`` (the folder, or a file in
    it) recorded, else the dataset's, else ``class N``."""
    candidates = []
    if weights is not None:
        folder = weights if os.path.isdir(weights) else os.path.dirname(os.path.abspath(weights))
        if os.path.isfile(os.path.join(folder, "run.json")):
            with suppress(RunFileError):  # a damaged record only costs the names
                candidates.append(load_run(folder).classes)
    candidates.append(DATASETS[network.input_node().params["dataset"]].classes)
    for classes in candidates:
        if len(classes) == count:
            return list(classes)
    return [f"class {i}" for i in range(count)]


def load_image(path, network):
    """The image at ``path`` as the network's Input takes it: mode L or RGB, its height and width;
    ``ImageFileError`` (a ``ValueError``) naming the file when it cannot be read within the budgets of
    ``engine.vision.image_file``."""
    channels, height, width = network.input_node().params["shape"]
    img = open_image(path, "L" if channels == 1 else "RGB")
    return T.Resize((height, width))(img) if img.size != (width, height) else img


class Predictor:
    """A trained model with what classifying needs: its document (the Input, the evaluation transform), the
    names of its classes, and ``source``, which says where the weights come from."""

    def __init__(self, model, network, classes, source=""):
        self.model = model
        self.network = network
        self.classes = tuple(classes)
        self.source = source
        self.transform = eval_transform(network)

    def probabilities(self, images):
        """``(len(images), classes)`` probabilities of PIL images (``load_image``)."""
        device = next(self.model.parameters()).device
        return class_probabilities(self.model, stack([self.transform(image) for image in images]), device)

    def top(self, images, k=TOP):
        """For each image, ``[(class name, probability)]`` of the ``k`` most likely classes, most likely first."""
        names = self.classes
        return [[(names[i], float(row[i])) for i in np.argsort(-row, kind="stable")[:k]]
                for row in self.probabilities(images)]


def load_trained(run_folder, device="cpu"):
    """The ``Predictor`` of a run folder: the document as trained, rebuilt, with the run's final weights or,
    for a run cut short, its checkpoint's. ``RunFileError`` or the weight file's error when they cannot be
    read, ``RuntimeError`` when they do not fit the document."""
    run = load_run(run_folder)
    network = run.network()
    path, state = read_weights(run.folder)
    model = network.build()
    model.load_state_dict(state)
    count = network.infer().nodes[network.output_node().id].shape[-1]
    source = f"run {run.name}" + ("" if path == run.weights_path else " (from its checkpoint)")
    return Predictor(model.to(device), network, class_names(network, count, run.folder), source)
