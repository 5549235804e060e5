"""Fixtures for the network document tests: the templates and a seeded generator of random valid networks."""

import random

import pytest

from engine.graph import Network
from engine.graph.templates import list_templates, load_template

TEMPLATE_KEYS = [t.key for t in list_templates()]


@pytest.fixture(params=TEMPLATE_KEYS)
def template(request):
    """Each shipped template as a freshly loaded Network."""
    return load_template(request.param)


ACTIVATIONS = ["ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh", "SiLU", "Hardswish", "Hardsigmoid", "ReLU6", "Mish",
               "ELU", "SELU", "Softplus", "PReLU"]


class RandomNetwork:
    """Builds a random valid network with ``seed``: an Input of random shape ("Image folder" takes any),
    chains of Conv2d, pools, normalisations, activations, dropouts and Identity with random options, occasional
    two-branch Add (both branches keep the shape) and Concat merges (on channels, height or width), a dead
    branch now and then, then Flatten, Linear layers and an Output with CrossEntropyLoss or MSELoss.

    Options are drawn blindly and a node whose shape inference refuses them is removed and drawn again, so
    the generator needs no shape rules of its own; the tests check the accepted shapes against the module
    actually running them.
    """

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.net = Network(title=f"random {seed}")

    def add(self, type_name, src, params=None, port=None):
        node = self.net.add_node(type_name, params or {})
        self.net.connect(src, node.id, port)
        return node.id

    def try_add(self, type_name, src, params):
        """The new node's id, or None (and no node) when inference refuses its options."""
        node_id = self.add(type_name, src, params)
        if self.net.infer().nodes[node_id].shape is None:
            self.net.remove_node(node_id)
            return None
        return node_id

    def shape(self, node_id):
        return self.net.infer().nodes[node_id].shape

    def conv_params(self, channels):
        r = self.rng
        k = r.choice([1, 2, 3, 5])
        stride = r.choice([1, 1, 2, (1, 2)])
        padding = r.choice([0, 1, 2, (0, 1), "same", "valid"])
        groups = r.choice([1, 1, 2, 3])
        out = groups * r.randint(1, 4)
        return {"out_channels": out, "kernel_size": r.choice([k, (k, r.choice([1, 3]))]), "stride": stride,
                "padding": padding, "dilation": r.choice([1, 1, 2]), "groups": groups, "bias": r.random() < 0.8,
                "in_channels": r.choice([None, channels])}

    def pool_params(self):
        r = self.rng
        k = r.choice([1, 2, 3])
        return {"kernel_size": k, "stride": r.choice([None, 1, 2, (2, 1)]), "padding": r.choice([0, 1]),
                "ceil_mode": r.random() < 0.5}

    def norm(self, src, channels):
        """``(type, src, params)`` of a random normalisation of ``channels`` channels."""
        r = self.rng
        kind = r.choice(["BatchNorm2d", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LayerNorm2d"])
        if kind == "GroupNorm":
            return kind, src, {"num_groups": r.choice([1, 2, 3]), "affine": r.random() < 0.8}
        if kind == "LayerNorm2d":
            return kind, src, {"normalized_shape": r.choice([None, channels]), "bias": r.random() < 0.8}
        return kind, src, {"num_features": r.choice([None, channels]), "affine": r.random() < 0.8}

    def layer(self, src):
        """One random single-input layer after ``src``; returns the new tail (``src`` when all draws fail)."""
        r = self.rng
        for _ in range(10):
            kind = r.choice(["conv", "conv", "pool", "bn", "act", "act", "dropout", "identity", "adaptive"])
            channels = self.shape(src)[0]
            if kind == "conv":
                made = self.try_add("Conv2d", src, self.conv_params(channels))
            elif kind == "pool":
                made = self.try_add(r.choice(["MaxPool2d", "AvgPool2d"]), src, self.pool_params())
            elif kind == "bn":
                made = self.try_add(*self.norm(src, channels))
            elif kind == "act":
                made = self.add(r.choice(ACTIVATIONS), src)
            elif kind == "dropout":
                made = self.add(r.choice(["Dropout", "Dropout2d"]), src, {"p": r.choice([0.0, 0.25])})
            elif kind == "adaptive":
                size = self.shape(src)[1:]
                made = self.try_add(r.choice(["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]), src,
                                    {"output_size": (r.randint(1, size[0]), r.randint(1, size[1]))})
            else:
                made = self.add("Identity", src)
            if made is not None:
                return made
        return src

    def same_shape_branch(self, src):
        """A short chain that keeps ``src``'s shape (for Add and Concat along one dimension)."""
        channels = self.shape(src)[0]
        tail = src
        for _ in range(self.rng.randint(0, 2)):
            choice = self.rng.choice(["conv", "bn", "act", "identity"])
            if choice == "conv":
                tail = self.add("Conv2d", tail, {"out_channels": channels, "kernel_size": self.rng.choice([1, 3]),
                                                 "padding": "same"})
            elif choice == "bn":
                tail = self.add("BatchNorm2d", tail)
            else:
                tail = self.add("ReLU" if choice == "act" else "Identity", tail)
        return tail

    def pieces(self, src):
        """``src`` cut by a Split or a Chunk along a random dimension, its pieces joined again in a shuffled
        order by a Concat on that dimension; returns the Concat (``src`` when the dimension is too short)."""
        r = self.rng
        shape = self.shape(src)
        dim = r.randrange(len(shape))
        if shape[dim] < 2:
            return src
        if r.random() < 0.5:
            cut = self.net.add_node("Chunk", {"chunks": 2, "dim": dim})
        else:
            first = r.randint(1, shape[dim] - 1)
            cut = self.net.add_node("Split", {"sizes": (first, shape[dim] - first), "dim": dim})
        self.net.connect(src, cut.id)
        if self.shape(cut.id) is None:  # a length Chunk cannot halve
            self.net.remove_node(cut.id)
            return src
        joined = self.net.add_node("Concat", {"dim": dim})
        for port, output in enumerate(r.sample([0, 1], 2)):
            self.net.connect(cut.id, joined.id, port, output)
        return joined.id

    def merge(self, src):
        r = self.rng
        if r.random() < 0.25:
            return self.pieces(src)
        if r.random() < 0.5:
            a, b = self.same_shape_branch(src), self.same_shape_branch(src)
            if a == b:  # both branches empty: one edge each is all Add can have from one source
                a = self.add("Identity", src)
            merged = self.net.add_node("Add")
        else:
            dim = r.choice([0, 0, 1, 2])
            if dim == 0:  # different channel counts are fine on the channel dimension
                a = self.add("Conv2d", src, {"out_channels": r.randint(1, 4), "kernel_size": 1})
                b = self.add("Conv2d", src, {"out_channels": r.randint(1, 4), "kernel_size": 3, "padding": 1})
            else:
                a, b = self.add("Identity", src), self.same_shape_branch(src)
                if b == src:
                    b = self.add("Tanh", src)
            merged = self.net.add_node("Concat", {"dim": dim})
        first, second = (0, 1) if r.random() < 0.5 else (1, 0)  # connect in either order: ports decide
        self.net.connect(a, merged.id, first)
        self.net.connect(b, merged.id, second)
        return merged.id

    def build(self):
        r = self.rng
        shape = (r.choice([1, 2, 3]), r.randint(6, 16), r.randint(6, 16))
        tail = self.net.add_node("Input", {"shape": shape, "dataset": "Image folder"}).id
        for _ in range(r.randint(3, 9)):
            roll = r.random()
            if roll < 0.2:
                tail = self.merge(tail)
            elif roll < 0.27:
                self.layer(tail)  # a dead branch: a warning, left out of the model
            else:
                tail = self.layer(tail)
        tail = self.add("Flatten", tail)
        for _ in range(r.randint(0, 2)):
            tail = self.add("Linear", tail, {"out_features": r.randint(2, 12), "bias": r.random() < 0.8})
            tail = self.add(r.choice(["ReLU", "BatchNorm1d", "Dropout", "Identity"]), tail)
        classes = r.randint(2, 10)
        tail = self.add("Linear", tail, {"out_features": classes})
        if r.random() < 0.2:
            tail = self.add(r.choice(["Softmax", "LogSoftmax"]), tail, {"dim": r.choice([1, -1])})
        self.add("Output", tail, {"loss": r.choice(["CrossEntropyLoss", "MSELoss"])})
        return self.net


def make_random_network(seed):
    return RandomNetwork(seed).build()


@pytest.fixture
def random_network():
    """``random_network(seed)``: a random valid Network (see ``RandomNetwork``)."""
    return make_random_network
