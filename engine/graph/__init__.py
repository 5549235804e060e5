"""The network document: layer catalogue, JSON format, validation and shape inference, building a
Module, templates and export. No Qt here: the GUI is a view on these objects."""

from . import layer_types as _layer_types  # noqa: F401  (registers the catalogue)
from .catalogue import CATEGORIES, LayerType, ModuleCall, ShapeError, by_category, get_layer_type, layer_types
from .datasets import DATASETS, DatasetInfo, dataset_info
from .document import ConnectionRefused, Edge, Network, NetworkError, Node
from .fileformat import (
    EXTENSIONS,
    NetworkFileError,
    copy_fragment,
    load_network,
    network_from_json,
    network_to_json,
    paste_fragment,
    save_network,
)
from .inference import Inference, NodeInfo, Problem
from .params import ParamSpec
from .settings import SETTINGS_GROUPS, SETTINGS_SPECS, default_settings

__all__ = [
    "CATEGORIES", "DATASETS", "EXTENSIONS", "SETTINGS_GROUPS", "SETTINGS_SPECS", "ConnectionRefused", "DatasetInfo",
    "Edge", "Inference", "LayerType", "ModuleCall", "Network", "NetworkError", "NetworkFileError", "Node",
    "NodeInfo", "ParamSpec", "Problem", "ShapeError", "by_category", "copy_fragment", "dataset_info",
    "default_settings", "get_layer_type", "layer_types", "load_network", "network_from_json", "network_to_json",
    "paste_fragment", "save_network",
]
