"""The network templates shipped in ``resources/templates`` (LeNet, MLP, small VGG, ResNet)."""

import os
from dataclasses import dataclass

from .fileformat import EXTENSIONS, load_network

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "resources", "templates")


@dataclass(frozen=True)
class Template:
    key: str  # file name without extension: 'lenet_cifar10'
    title: str
    description: str
    path: str


def list_templates(folder=TEMPLATE_DIR):
    templates = []
    for fname in sorted(os.listdir(folder)):
        if fname.endswith(EXTENSIONS):
            network = load_network(os.path.join(folder, fname))
            templates.append(Template(os.path.splitext(fname)[0], network.title, network.description,
                                      os.path.join(folder, fname)))
    return templates


def load_template(key, folder=TEMPLATE_DIR):
    """A new Network from the template ``key`` (e.g. ``'resnet_cifar10'``)."""
    for ext in EXTENSIONS if key and os.path.basename(key) == key else ():
        path = os.path.join(folder, key + ext)
        if os.path.exists(path):
            return load_network(path)
    known = ", ".join(t.key for t in list_templates(folder))
    raise KeyError(f"no template {key!r}; the templates are {known}")
