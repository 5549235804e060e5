"""Importing model classes: PyTorch source run with the engine as torch, and the engine's own vision models,
traced into documents that compute what the model computes; with a PyTorch checkpoint they compute what
PyTorch computes. What cannot be traced is refused by name."""

import textwrap

import numpy as np
import pytest

import engine
from engine.graph.import_builder import weighted_module
from engine.graph.module_import import TraceRefused, import_module
from engine.graph.module_import.source import build, engine_as_torch, load_weights, model_class
from engine.vision import models

from ..export_cases import assert_close

MODELS = "tests/engine/graph/onnx_import/torch_models.py"


def outputs(imported, x):
    with engine.no_grad():
        return weighted_module(imported.network, imported.arrays)(engine.from_numpy(x)).numpy()


@pytest.mark.parametrize("name, layers", [("ResNet18", {"Conv2d": 20, "BatchNorm2d": 20, "Add": 8}),
                                          ("MobileNetV2", {"Conv2d": 52, "ReLU6": 35, "Add": 10}),
                                          ("ViT", {"SelfAttention": 2, "ClassToken": 1, "PositionEmbedding": 1}),
                                          ("ViTMultiheadAttention", {"SelfAttention": 2, "ClassToken": 1})])
def test_pytorch_source_runs_on_the_engine_and_is_traced_into_layers(name, layers):
    engine.manual_seed(0)
    model = build(model_class(MODELS, name), {}, name)
    imported, difference = import_module(model, (3, 32, 32), name)
    assert difference < 1e-5
    types = [n.type for n in imported.network.nodes.values()]
    for type_name, count in layers.items():
        assert types.count(type_name) == count, type_name
    assert imported.network.infer().total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", ["ResNet18", "MobileNetV2", "ViT", "ViTMultiheadAttention"])
def test_with_a_pytorch_checkpoint_the_import_computes_what_pytorch_computes(name, tmp_path):
    torch = pytest.importorskip("torch")
    torch_models = pytest.importorskip("tests.engine.graph.onnx_import.torch_models")
    torch.manual_seed(1)
    reference = getattr(torch_models, name)().eval()
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):  # statistics that are not the initial ones
                module.running_mean.normal_(0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    torch.save(reference.state_dict(), tmp_path / "weights.pth")
    model = build(model_class(MODELS, name), {}, name)
    load_weights(model, tmp_path / "weights.pth")
    imported, _ = import_module(model, (3, 32, 32), name)
    x = np.random.default_rng(2).standard_normal((3, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = reference(torch.from_numpy(x)).numpy()
    assert_close(outputs(imported, x), want)


@pytest.mark.parametrize("name, kwargs", [("resnet18", {}), ("mobilenet_v2", {}), ("squeezenet1_1", {}),
                                          ("vit_b_16", {"image_size": 32})])
def test_the_engines_vision_models_import(name, kwargs):
    engine.manual_seed(0)
    model = models.get_model(name, num_classes=10, **kwargs)
    imported, difference = import_module(model, (3, 32, 32), name)
    assert difference < 1e-5 and imported.network.infer().ok


def write(tmp_path, source):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source))
    return str(path)


def traced(tmp_path, source, class_name, shape):
    model = build(model_class(write(tmp_path, source), class_name), {}, class_name)
    """The Imported network of class ``class_name`` in ``source``, traced on a batch of ``shape``."""
    return import_module(model, shape, class_name)[0]


def test_an_operation_without_a_layer_is_refused(tmp_path):
    source = """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.fc = nn.Linear(4 * 6 * 6, 2)

            def forward(self, x):
                return self.fc(torch.sin(self.conv(x)).flatten(1))
    """
    with pytest.raises(TraceRefused, match="the input of module 'fc' \\(Linear\\) is computed by an operation"):
        traced(tmp_path, source, "Net", (3, 8, 8))


def test_a_scale_by_a_constant_is_refused(tmp_path):
    source = """
        import torch
        from torch import nn

        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.gamma = nn.Parameter(torch.ones(4, 1, 1))

            def forward(self, x):
                return (self.gamma * self.conv(x)).flatten(1)
    """
    with pytest.raises(TraceRefused, match="multiply with a constant"):
        traced(tmp_path, source, "Scaled", (3, 8, 8))


def test_missing_classes_modules_and_weights_are_named(tmp_path):
    path = write(tmp_path, """
        from torch import nn

        class Tiny(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.fc = nn.Linear(3, width)

            def forward(self, x):
                return self.fc(x)
    """)
    with pytest.raises(TraceRefused, match="no nn.Module class 'Big' \\(the file defines Tiny\\)"):
        model_class(path, "Big")
    with pytest.raises(TraceRefused, match="give the class's arguments with --args"):
        build(model_class(path, "Tiny"), {}, "model.py:Tiny")
    other = tmp_path / "other.py"
    other.write_text("import torchaudio_that_is_not_there\n")
    with pytest.raises(TraceRefused, match="torchaudio_that_is_not_there"):
        model_class(str(other), "Net")
    model = build(model_class(path, "Tiny"), {"width": 2}, "Tiny")
    engine.save({"fc.weight": engine.zeros(5, 3)}, tmp_path / "bad.pth")
    with pytest.raises(TraceRefused, match="the weights do not fit the model"):
        load_weights(model, tmp_path / "bad.pth")


def test_the_torch_name_is_given_back():
    torch = pytest.importorskip("torch")
    with engine_as_torch():
        import torch as inside
    import torch as after

    assert inside is engine and after is torch


def test_a_module_called_twice_is_noted(tmp_path):
    imported = traced(tmp_path, """
        from torch import nn

        class Twice(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                return self.fc(self.fc(x))
    """, "Twice", (4,))
    assert [n.type for n in imported.network.nodes.values()].count("Linear") == 2
    assert imported.notes and "called more than once" in imported.notes[0]


@pytest.mark.parametrize("body, expected", [
    ("y = self.fc(x); y.clamp_(-3, 3); return y", "changed in place by an operation"),
    ("y = self.fc(x); y[y > 5] = 0; return y", "changed in place by an operation"),
    ("return self.fc(x, x)", "running the model while tracing it failed"),
])
def test_what_the_trace_cannot_follow_is_refused(tmp_path, body, expected):
    source = f"""
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                {body}
    """
    with pytest.raises(TraceRefused, match=expected):
        traced(tmp_path, source, "Net", (4,))


def test_attention_with_a_mask_is_refused(tmp_path):
    source = """
        import torch
        from torch import nn

        class Masked(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.MultiheadAttention(8, 2, batch_first=True)

            def forward(self, x):
                pad = x.abs().sum(-1) == 0
                return self.a(x, x, x, key_padding_mask=pad, need_weights=False)[0]
    """
    with pytest.raises(TraceRefused, match="attention with key_padding_mask has no layer"):
        traced(tmp_path, source, "Masked", (5, 8))


def test_a_module_returning_its_input_leaves_the_inputs_other_uses_alone(tmp_path):
    """Dropout in evaluation returns its input itself; the skip path must still read the layer before it."""
    source = """
        from torch import nn

        class Skip(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc, self.d, self.g = nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 4)

            def forward(self, x):
                h = self.fc(x)
                return self.g(self.d(h)) + h
    """
    network = traced(tmp_path, source, "Skip", (4,)).network
    names = network.names()
    add = network.nodes_of_type("Add")[0]
    assert sorted(names[e.src] for e in network.input_edges(add.id)) == ["fc", "g"]


def test_functions_imported_by_name_and_keyword_arguments_are_followed(tmp_path):
    source = """
        from torch import flatten, nn
        from torch.nn.functional import relu

        class Named(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.fc = nn.Linear(4 * 6 * 6, 2)

            def forward(self, x):
                return self.fc(flatten(relu(self.conv(x)).transpose(dim0=2, dim1=3), 1))
    """
    network = traced(tmp_path, source, "Named", (3, 8, 8)).network
    assert [n.type for n in network.nodes.values()] == ["Input", "Conv2d", "ReLU", "Permute", "Flatten", "Linear",
                                                         "Output"]
