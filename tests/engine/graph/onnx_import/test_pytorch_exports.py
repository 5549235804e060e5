"""Models nobody here drew, exported by PyTorch's own ONNX exporter: ResNet-18, MobileNetV2 and a small ViT
(``torch_models``) import, and the imported network computes what PyTorch and onnxruntime compute."""

import io
import warnings

import numpy as np
import pytest

import engine
from engine.graph.import_builder import weighted_module
from engine.graph.onnx_import import OnnxImportError, import_onnx_model, parse_model
from engine.graph.onnx_import.check import max_difference

from ..export_cases import assert_close

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
torch_models = pytest.importorskip("tests.engine.graph.onnx_import.torch_models")

MODELS = ("ResNet18", "MobileNetV2", "ViT", "ViTMultiheadAttention")


def torch_export(model, dynamic=True):
    buffer = io.BytesIO()
    axes = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(model, (torch.randn(1, 3, 32, 32),), buffer, dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["y"], dynamic_axes=axes)
    return buffer.getvalue()


def trained_looking(model, seed=0):
    """``model`` in evaluation mode with batch-norm statistics that are not the initial ones."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.2, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
                module.weight.normal_(1, 0.2, generator=generator)
                module.bias.normal_(0, 0.2, generator=generator)
    return model.eval()


@pytest.fixture(params=MODELS)
def pytorch_model(request):
    torch.manual_seed(0)
    return request.param, trained_looking(getattr(torch_models, request.param)())


def test_pytorch_exports_import_and_compute_what_pytorch_and_onnxruntime_compute(pytorch_model):
    name, model = pytorch_model
    data = torch_export(model)
    imported = import_onnx_model(parse_model(data, f"{name}.onnx"), f"{name}.onnx")
    x = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    with engine.no_grad():
        got = weighted_module(imported.network, imported.arrays)(engine.from_numpy(x)).numpy()
    from_onnxruntime = max_difference(data, imported)
    print(f"{name}: {len(imported.network.nodes)} layers; largest difference from onnxruntime "
          f"{from_onnxruntime:.3g}, from PyTorch {np.abs(got - want).max():.3g}")
    assert_close(got, want)
    assert from_onnxruntime < 1e-4 * max(1.0, float(np.abs(want).max()))
    assert imported.network.infer().ok


@pytest.mark.parametrize("name", ["ViT", "ViTMultiheadAttention"])
def test_the_vit_attention_becomes_self_attention_layers(name):
    """timm's attention (q, k, v by reshape and permute) and PyTorch's own nn.MultiheadAttention (exported with
    the tokens before the batch) both become SelfAttention layers."""
    torch.manual_seed(0)
    model = getattr(torch_models, name)().eval()
    imported = import_onnx_model(parse_model(torch_export(model), "vit.onnx"), "vit.onnx")
    types = [n.type for n in imported.network.nodes.values()]
    assert types.count("SelfAttention") == 2
    assert {"ClassToken", "PositionEmbedding", "TokenPool", "GELU"} <= set(types)
    heads = {n.params["num_heads"] for n in imported.network.nodes.values() if n.type == "SelfAttention"}
    assert heads == {4}


def test_a_model_exported_with_a_fixed_batch_of_one_imports():
    torch.manual_seed(0)
    model = trained_looking(torch_models.ResNet18())
    imported = import_onnx_model(parse_model(torch_export(model, dynamic=False), "r.onnx"), "r.onnx")
    x = np.random.default_rng(2).standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    with engine.no_grad():
        got = weighted_module(imported.network, imported.arrays)(engine.from_numpy(x)).numpy()
    assert_close(got, want)


def test_names_come_from_the_module_paths():
    torch.manual_seed(0)
    imported = import_onnx_model(parse_model(torch_export(torch_models.ResNet18().eval()), "r.onnx"), "r.onnx")
    names = {n.name for n in imported.network.nodes.values()}
    assert {"conv1", "maxpool", "layer1_0_conv1", "layer4_1_conv2", "fc"} <= names


def test_attention_with_something_else_inside_is_refused():
    """A clamp inside the region between the token swaps agrees with attention on one random batch, not on all:
    the region may hold only what attention is written with."""

    class ClampedAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.attn = torch.nn.Linear(8, 8), torch.nn.MultiheadAttention(8, 2)

        def forward(self, x):
            t = self.inp(x).transpose(0, 1)
            return self.attn(t, t, t, need_weights=False)[0].clamp(-3, 3).transpose(0, 1)

    torch.manual_seed(0)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ClampedAttention().eval(), (torch.randn(1, 5, 8),), buffer, dynamo=False, opset_version=17,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    with pytest.raises(OnnxImportError, match="moves the batch has no layer"):
        import_onnx_model(parse_model(buffer.getvalue(), "m.onnx"), "m.onnx")
