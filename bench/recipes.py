"""The real-data recipes from the command line against PyTorch running the same recipe on the same machine.

    python bench/recipes.py [lenet] [resnet] [--data DIR] [--epochs N] [--limit N]

For each template (``lenet``: the seed tutorial's LeNet, batch 4, 2 epochs; ``resnet``: the ResNet template's
recipe), one after the other:

- LayerLab: ``python main.py train NET.llnet --data DIR`` on a copy of the template, as a user runs it (data
  loading, augmentation, the per-epoch evaluation on the test set and the health recording the document asks for
  included);
- PyTorch: the training script LayerLab exports for that document (``main.py export --format engine``), with its
  ``import engine as torch`` lines pointed at torch and torchvision, started from the same initial weights.

Each is one whole process, timed from start to exit. Prints each side's wall time and test accuracy and the ratio
of PyTorch's time to ours (above 1.0 means we finished first).
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import START_ENVIRONMENT  # before the engine: PyTorch's script gets the environment as it was given

from engine.threads import usable_cpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = {"lenet": "lenet_cifar10", "resnet": "resnet_cifar10"}
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cifar10")

# PyPI's torchvision is a CUDA build; beside torch's CPU wheel its __init__ fails on its compiled operators (nms).
# The datasets and transforms the script uses are plain Python, so the package is then set up without that __init__
# (as tests/engine/torchvision_reference.py does for the tests).
TORCHVISION = """import importlib.util
import sys
import types

try:
    import torchvision
except RuntimeError:
    spec = importlib.util.find_spec("torchvision")
    torchvision = types.ModuleType("torchvision")
    torchvision.__path__, torchvision.__spec__ = list(spec.submodule_search_locations), spec
    sys.modules["torchvision"] = torchvision
"""

# ../shared/data's CIFAR-10 has the official pixels and labels in re-made pickles, whose MD5 sums differ from those
# torchvision checks (see its README); its loader reads them as it reads the official files.
CIFAR_CHECK = "datasets.cifar.check_integrity = lambda path, md5=None: os.path.isfile(path)\n"

# The exported script's engine spellings and their PyTorch equivalents (the model and loop are PyTorch's API).
TO_TORCH = [
    (r"^import engine as torch$", "import safetensors.torch\nimport torch"),
    (r"^from engine import nn$", "from torch import nn"),
    (r"^from engine\.utils\.data import", "from torch.utils.data import"),
    (r"^from engine\.vision import datasets$", TORCHVISION + "from torchvision import datasets\n\n" + CIFAR_CHECK),
    (r"^from engine\.vision import", "from torchvision import"),
    (r"torch\.load_safetensors\(", "safetensors.torch.load_file("),
    (r"torch\.save_safetensors\(", "safetensors.torch.save_file("),
]


def pytorch_script(engine_script):
    """The exported engine script as a PyTorch one; every rewrite must apply, or the export has changed."""
    text = pathlib.Path(engine_script).read_text(encoding="utf-8")
    for pattern, replacement in TO_TORCH:
        text, count = re.subn(pattern, replacement, text, flags=re.M)
        if count == 0:
            raise SystemExit(f"bench/recipes.py: {engine_script} has no line matching {pattern!r}; update TO_TORCH")
    if re.search(r"\bengine\b", text.replace("LayerLab's engine", "")):
        raise SystemExit(f"bench/recipes.py: {engine_script} still uses the engine after the rewrite")
    path = os.path.splitext(engine_script)[0].removesuffix("_engine") + "_torch.py"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class RecipeFailed(Exception):
    """A step of a recipe failed; its folder (with the logs) is kept."""


def timed(command, log):
    """Run ``command`` with its output in ``log``; (seconds from start to exit, output)."""
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=START_ENVIRONMENT)
    seconds = time.perf_counter() - start
    text = pathlib.Path(log).read_text(encoding="utf-8")
    if result.returncode != 0:
        raise RecipeFailed(f"{' '.join(command)} failed ({result.returncode}); see {log}:\n{text[-2000:]}")
    return seconds, text


def run_recipe(name, data, epochs, limit, folder):
    network = os.path.join(folder, TEMPLATES[name] + ".llnet")
    shutil.copy(os.path.join(ROOT, "resources", "templates", TEMPLATES[name] + ".llnet"), network)
    main = [sys.executable, os.path.join(ROOT, "main.py")]
    export = subprocess.run([*main, "export", network, "-", "--format", "engine", "--out", folder, "--force"],
                            capture_output=True, text=True)
    if export.returncode != 0:
        raise RecipeFailed(f"exporting {network} failed:\n{export.stderr[-2000:]}")
    engine_script = os.path.join(folder, TEMPLATES[name] + "_engine.py")
    torch_script = pytorch_script(engine_script)
    options = ([f"--epochs={epochs}"] if epochs else []) + ([f"--limit={limit}"] if limit else [])

    run = os.path.join(folder, "run")
    ours, _ = timed([*main, "train", network, "--data", data, "--out", run, *options],
                    os.path.join(folder, "engine.log"))
    with open(os.path.join(run, "run.json"), encoding="utf-8") as f:
        our_accuracy = json.load(f)["test_accuracy"]

    weights = os.path.splitext(engine_script)[0] + ".safetensors"
    theirs, text = timed([sys.executable, torch_script, "--data", data, "--weights", weights, "--out",
                          os.path.join(folder, "torch.st"), *options], os.path.join(folder, "torch.log"))
    found = re.findall(r"test accuracy ([\d.]+)%", text)
    if not found:
        raise RecipeFailed(f"PyTorch's script printed no test accuracy; see {folder}/torch.log")
    their_accuracy = float(found[-1]) / 100
    print(f"{name}: engine {ours:,.0f} s, test accuracy {our_accuracy:.2%}; torch {theirs:,.0f} s, test accuracy "
          f"{their_accuracy:.2%}; time ratio torch/engine {theirs / ours:.2f}x", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", metavar="RECIPE", help=f"of {', '.join(TEMPLATES)} (default: all)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="the CIFAR-10 folder (default: ../shared/data/cifar10)")
    parser.add_argument("--epochs", type=int, default=0, help="override the recipes' epochs (0: as they are)")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    args = parser.parse_args()
    unknown = [name for name in args.recipes if name not in TEMPLATES]
    if unknown:
        parser.error(f"unknown recipe {unknown[0]!r}: choose from {', '.join(TEMPLATES)}")
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s*(.*)", cpu)
    print(f"cpu: {model.group(1) if model else 'unknown'}, {usable_cpus()} usable cores; data {args.data}")
    for name in dict.fromkeys(args.recipes or TEMPLATES):
        folder = tempfile.mkdtemp(prefix=f"recipe_{name}_")
        try:
            run_recipe(name, args.data, args.epochs, args.limit, folder)
        except RecipeFailed as e:
            raise SystemExit(f"bench/recipes.py: {name}: {e}\n(its files are kept in {folder})") from None
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
