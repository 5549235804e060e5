"""Python code export: the network as a ``.py`` file plus its weights as a ``.safetensors`` file beside it.

One generator, two flavours. ``pytorch``: a ``torch.nn.Module`` and a ``__main__`` that loads the weights
(``safetensors.torch.load_file``) and prints the output shape. ``engine``: the same class on LayerLab's
engine (``import engine as torch``) and a training script that follows the document's settings
(``training_code``), for users who outgrow the GUI.
"""

import os
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


@dataclass(frozen=True)
class Flavour:
    imports: str
    usage: str
    main: object  # (network, class name, trained weights file name) -> source after the class


FLAVOURS = {
    "pytorch": Flavour(
        "import os\n\nimport torch\nfrom torch import nn\n",
        "The network as a torch.nn.Module; its weights are in {weights} beside this file. Run this file to load "
        "them (safetensors.torch.load_file) and print the output shape.",
        _pytorch_main),
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
_GLOBALS = frozenset({"DataLoader", "Subset", "T", "HERE", "WEIGHTS", "INPUT_SHAPE"})


def generate_code(network, flavour, weights_file, script_file="model.py"):
    """The source of the ``flavour`` script for a valid network whose weights are ``weights_file`` (a name
    beside the script)."""
    inference = require_valid(network)
    spec = FLAVOURS[flavour]
    cls_name = class_name(network.title, _GLOBALS)
    stem = os.path.splitext(weights_file)[0]
    paragraphs = [f"{network.title}: exported from LayerLab.", *network.description.split("\n\n"),
                  spec.usage.format(weights=weights_file, script=script_file)]
    text = "\n\n".join(textwrap.fill(docstring_text(p.strip()), 100, break_long_words=False, break_on_hyphens=False)
                         for p in paragraphs if p.strip())
    header = f'"""{text}\n"""\n'
    constants = (f"HERE = os.path.dirname(os.path.abspath(__file__))\n"
                 f"WEIGHTS = os.path.join(HERE, {weights_file!r})\n"
                 f"INPUT_SHAPE = {tuple(network.input_node().params['shape'])!r}\n")
    main = spec.main(network, cls_name, f"{stem}_trained.safetensors")
    return "\n".join([header, spec.imports, constants, "", model_class_source(network, inference, cls_name), "", main])


def export_code(network, arrays, path, flavour):
    """Write the ``flavour`` script to ``path`` and the weights beside it; returns both paths."""
    weights_path = os.path.splitext(path)[0] + ".safetensors"
    source = generate_code(network, flavour, os.path.basename(weights_path), os.path.basename(path))
    write_weights("safetensors", arrays, weights_path)
    atomic_write_text(path, source)
    return [path, weights_path]
