"""What someone using an exported model needs beside its weights: the names of its outputs and how its input
was prepared in training. Every exporter writes it from ``model_info``: the ONNX ``metadata_props``, the
safetensors header and the constants of the generated code.

Class names are those the training data gave (a run records them; image folders only know them from their
files), else the dataset's. Normalisation is the training recipe's (``datasets.normalization``), so it
is what the model saw: pixels scaled to [0, 1], then ``(x - mean) / std`` per channel.
"""

import json
from dataclasses import dataclass

from ..build import require_valid
from ..datasets import DATASETS, normalization

PRODUCER = "LayerLab"


@dataclass(frozen=True)
class ModelInfo:
    title: str
    input_shape: tuple
    classes: tuple  # names of the outputs in order; empty when unknown
    mean: tuple | None  # per channel, of pixels in [0, 1]; None when the input is not an image
    std: tuple | None

    def metadata(self):
        """``{key: str}`` for file headers (ONNX ``metadata_props``, safetensors ``__metadata__``); lists as JSON."""
        data = {"producer": PRODUCER, "source": self.title, "input_shape": json.dumps(list(self.input_shape)),
                "class_names": json.dumps(list(self.classes))}
        if self.mean is not None:
            data.update(normalize_mean=json.dumps(list(self.mean)), normalize_std=json.dumps(list(self.std)),
                        preprocessing="pixels scaled to [0, 1], then (x - normalize_mean) / normalize_std per "
                                      "channel; input layout N×C×H×W")
        return data


def _normalization(network):
    """``(mean, std)`` of the training recipe; zeros and ones when the settings turn normalisation off."""
    channels = network.input_node().params["shape"][0]
    mean, std = normalization(network) or ((0.0,) * channels, (1.0,) * channels)
    return tuple(map(float, mean)), tuple(map(float, std))


def model_info(network, classes=None):
    """The ``ModelInfo`` of a valid network; ``classes`` (e.g. a run's) replaces the dataset's names. Names
    are kept only when there is one per output."""
    inference = require_valid(network)
    params = network.input_node().params
    names = tuple(classes) if classes is not None else DATASETS[params["dataset"]].classes
    if tuple(inference.nodes[network.output_node().id].shape) != (len(names),):
        names = ()
    shape = tuple(params["shape"])
    mean, std = _normalization(network) if len(shape) == 3 else (None, None)
    return ModelInfo(network.title, shape, names, mean, std)
