"""A small network on an image folder, shared by the dataset-summary and dataset-view tests."""

import itertools

from engine.graph import Network


def folder_network(data_dir, classes, **settings):
    """Input (image folder, 3×8×8) → Flatten → Linear(``classes``) → Output, batch 4, one epoch."""
    net = Network(title="folder")
    nodes = [net.add_node("Input", {"shape": (3, 8, 8), "dataset": "Image folder"}), net.add_node("Flatten"),
             net.add_node("Linear", {"out_features": classes}), net.add_node("Output")]
    for a, b in itertools.pairwise(nodes):
        net.connect(a.id, b.id)
    net.set_settings({"data_dir": str(data_dir), "batch_size": 4, "epochs": 1, **settings})
    return net
