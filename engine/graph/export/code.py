"""Python code export: the network as a ``.py`` file plus its weights as a ``.safetensors`` file beside it.

One generator, two flavours. ``pytorch``: a ``torch.nn.Module``, what using it needs (``CLASSES``, the
normalisation ``MEAN`` and ``STD``, and ``preprocess`` for an image, from ``model_info``) and a ``__main__``
that loads the weights (``safetensors.torch.load_file``) and prints the output shape. ``engine``: the same
class on LayerLab's engine (``import engine as torch``) and a training script that follows the document's
settings (``training_code``), for users who outgrow the GUI.
"""

import os
import pprint
import textwrap
from dataclasses import dataclass

from ...utils.files import atomic_write_text
from ..build import require_valid
from .model_code import class_name, docstring_text, model_class_source
from .training_code import training_source
from .weights import write_weights


def _pytorch_main(network, cls_name, trained_file):
    return f'''if __name__ == "__main__":
    from safetensors.torch import load_file

    model = {cls_name}()
    model.load_state_dict(load_file(WEIGHTS))
    model.eval()
    with torch.no_grad():
        print("output shape:", tuple(model(torch.randn(2, *INPUT_SHAPE)).shape))
'''


_PREPROCESS = '''def preprocess(image):
    """An image (PIL, or an H×W×C or H×W array of 0-255 pixels) of the input's size and channels as the
    model's input, prepared as in training: a 1×C×H×W tensor of pixels scaled to [0, 1], normalised with
    MEAN and STD."""
    pixels = torch.from_numpy(np.array(image, np.float32) / 255).reshape(INPUT_SHAPE[1], INPUT_SHAPE[2], -1)
    return ((pixels - torch.tensor(MEAN)) / torch.tensor(STD)).permute(2, 0, 1).unsqueeze(0)
'''


def _pytorch_interface(info):
    """``(docstring paragraph, source)`` of the names that say how to use the model."""
    classes = f"CLASSES = {pprint.pformat(list(info.classes), width=100, compact=True)}\n"
    if info.mean is None:
        return "CLASSES names the model's outputs in order (empty when unknown).", classes
    return ("CLASSES names the model's outputs in order (empty when unknown). preprocess(image) prepares an image "
            "as the training did: pixels scaled to [0, 1], then normalised per channel with MEAN and STD.",
            f"{classes}MEAN = {info.mean!r}\nSTD = {info.std!r}\n\n\n{_PREPROCESS}")


@dataclass(frozen=True)
class Flavour:
    imports: str
    usage: str
    main: object  # (network, class name, trained weights file name) -> source after the class
    interface: object = None  # ModelInfo -> (docstring paragraph, source after the constants), or None


FLAVOURS = {
    "pytorch": Flavour(
        "import os\n\nimport numpy as np\nimport torch\nfrom torch import nn\n",
        "The network as a torch.nn.Module; its weights are in {weights} beside this file. Run this file to load "
        "them (safetensors.torch.load_file) and print the output shape.",
        _pytorch_main, _pytorch_interface),
    "engine": Flavour(
        "import argparse\nimport copy\nimport os\n\nimport numpy as np\n\n"
        "import engine as torch\nfrom engine import nn\n"
        "from engine.utils.data import DataLoader, Subset\nfrom engine.vision import datasets\n"
        "from engine.vision import transforms as T\n",
        "The network on LayerLab's engine, and a script that trains it with the document's settings, starting "
        "from the weights in {weights} beside this file. Run `python {script} --help` for the options "
        "(--data DIR, --epochs N, --limit N, --device, --weights, --out).",
        training_source),
}

# module-level names of the generated files, which the class name must not take
_GLOBALS = frozenset({"DataLoader", "Subset", "T", "HERE", "WEIGHTS", "INPUT_SHAPE", "CLASSES", "MEAN", "STD"})


def weights_path(script_path):
    """The weights file written beside a code export."""
    return os.path.splitext(script_path)[0] + ".safetensors"


def generate_code(network, flavour, weights_file, script_file, info):
    """The source of the ``flavour`` script for a valid network whose weights are ``weights_file`` (a name
    beside the script); ``info`` (a ``ModelInfo``) says how to use the model."""
    inference = require_valid(network)
    spec = FLAVOURS[flavour]
    cls_name = class_name(network.title, _GLOBALS)
    stem = os.path.splitext(weights_file)[0]
    interface_doc, interface = spec.interface(info) if spec.interface else ("", "")
    paragraphs = [f"{network.title}: exported from LayerLab.", *network.description.split("\n\n"),
                  spec.usage.format(weights=weights_file, script=script_file), interface_doc]
    text = "\n\n".join(textwrap.fill(docstring_text(p.strip()), 100, break_long_words=False, break_on_hyphens=False)
                         for p in paragraphs if p.strip())
    header = f'"""{text}\n"""\n'
    constants = (f"HERE = os.path.dirname(os.path.abspath(__file__))\n"
                 f"WEIGHTS = os.path.join(HERE, {weights_file!r})\n"
                 f"INPUT_SHAPE = {tuple(network.input_node().params['shape'])!r}\n"
                 f"{interface}")
    main = spec.main(network, cls_name, f"{stem}_trained.safetensors")
    return "\n".join([header, spec.imports, constants, "", model_class_source(network, inference, cls_name), "", main])


def export_code(network, arrays, path, flavour, info):
    """Write the ``flavour`` script to ``path`` and the weights (with ``info``'s metadata) beside it; returns
    both paths."""
    weights = weights_path(path)
    source = generate_code(network, flavour, os.path.basename(weights), os.path.basename(path), info)
    write_weights("safetensors", arrays, weights, info.metadata())
    atomic_write_text(path, source)
    return [path, weights]
