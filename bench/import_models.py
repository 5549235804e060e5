"""How long importing models takes, and how closely the imports agree with their sources.

    python bench/import_models.py

ONNX files: every template exported by LayerLab, and (with PyTorch installed) ResNet-18, MobileNetV2 and a small
ViT exported by PyTorch's own exporter (tests/engine/graph/onnx_import/torch_models.py), each imported from
its bytes (parse, fold, map, infer, build the weights) and checked against onnxruntime. Model classes: the same
three PyTorch sources run with the engine as torch, and some of the engine's vision models, traced and checked
against the model. Prints seconds per import (median of 3), layers, and the largest difference.
"""

import io
import os
import statistics
import time
import warnings

import common  # noqa: F401  (puts the repository on the import path)

from engine.graph.export.model_info import model_info
from engine.graph.export.onnx_export import onnx_model
from engine.graph.export.weights import checked_arrays
from engine.graph.onnx_import import import_onnx_model, parse_model
from engine.graph.onnx_import.check import max_difference
from engine.graph.templates import list_templates, load_template
from engine.training.model_import import import_class

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "engine", "graph",
                      "onnx_import", "torch_models.py")
REPEATS = 3


def timed(fn):
    times, result = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def onnx_sources():
    for template in list_templates():
        network = load_template(template.key)
        yield template.key, onnx_model(network, checked_arrays(network), model_info(network)).SerializeToString()
    try:
        import torch
    except ImportError:
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location("torch_models", MODELS)
    torch_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(torch_models)
    for name in ("ResNet18", "MobileNetV2", "ViT"):
        torch.manual_seed(0)
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(getattr(torch_models, name)().eval(), (torch.randn(1, 3, 32, 32),), buffer,
                              dynamo=False, opset_version=17, input_names=["x"], dynamic_axes={"x": {0: "batch"}})
        yield f"{name} (torch.onnx)", buffer.getvalue()


def main():
    print(f"{'ONNX file':<30} {'bytes':>12} {'import (s)':>11} {'layers':>7} {'vs onnxruntime':>15}")
    for name, data in onnx_sources():
        seconds, imported = timed(lambda data=data, name=name: import_onnx_model(parse_model(data, name), name))
        print(f"{name:<30} {len(data):>12,} {seconds:>11.3f} {len(imported.network.nodes):>7} "
              f"{max_difference(data, imported):>15.2g}")
    print(f"\n{'model class':<30} {'import (s)':>11} {'layers':>7} {'vs the model':>13}")
    classes = [(f"model.py:{n}", f"{MODELS}:{n}", {}) for n in ("ResNet18", "MobileNetV2", "ViT")]
    classes += [(f"vision:{n}", f"vision:{n}", {"num_classes": 10, **extra})
                for n, extra in (("resnet18", {}), ("mobilenet_v2", {}), ("vit_b_16", {"image_size": 32}))]
    for label, spec, kwargs in classes:
        seconds, done = timed(lambda spec=spec, kwargs=kwargs: import_class(spec, kwargs, (3, 32, 32)))
        print(f"{label:<30} {seconds:>11.3f} {len(done.imported.network.nodes):>7} {done.difference:>13.2g}")


if __name__ == "__main__":
    main()
