"""Seed files for every file kind, made with the project's own writers, and how each kind is loaded: through
its real entry point (``load``) and, for a sample, through the command line (``cli``).

A seed is a folder's worth of files (``Seed.files``: relative path -> bytes, ``Seed.formats``: which of them
may be mutated and their format); the loader gets the case folder and ``Seed.entry``. ``Context`` holds the
files a kind's command line needs beside the case (a network, its weights, an image), made once."""

import gzip
import io
import json
import os
import pickle
import shutil
from dataclasses import dataclass

import numpy as np
from PIL import Image

import engine
from engine.graph import load_network, save_network
from engine.graph.export import load_weights
from engine.graph.export.weights import write_weights
from engine.graph.templates import load_template
from engine.training import trainer as trainer_module
from engine.training.predictor import load_image, read_weights, weights_file
from engine.training.runs import create_run, load_run
from engine.vision.datasets import CIFAR10, FashionMNIST, ImageFolder
from gui.editor import files as recovery_files  # QtCore only, imported once: the children share it

TEMPLATES = ("lenet_cifar10", "mlp_fashion_mnist", "resnet_cifar10", "vgg_cifar10")
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass
class Seed:
    files: dict
    formats: dict
    entry: str


@dataclass
class Kind:
    name: str
    seeds: list
    load: object  # load(path, context): the real entry point of the kind
    cli: object = None  # cli(path, context) -> argv for cli.main, or None
    cli_reads_all: bool = True  # the command reads all that ``load`` reads, so it must refuse what it refuses


@dataclass
class Context:
    folder: str
    lenet: str = ""
    lenet_weights: str = ""
    mlp: str = ""
    mlp_weights: str = ""
    image: str = ""
    network: object = None
    trainer: object = None


def _read_tree(folder):
    files = {}
    for base, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            files[os.path.relpath(path, folder)] = open(path, "rb").read()  # noqa: SIM115 - read whole, closed by GC
    return files


def _bytes_of(write, suffix, folder):
    path = os.path.join(folder, "seed" + suffix)
    write(path)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def _image_bytes(fmt, size, seed):
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


def _trainer(network):
    model = network.build()
    optimizer = engine.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    shape = network.input_node().params["shape"]
    inputs = engine.randn(4, *shape)
    batch = [(inputs, engine.tensor([0, 1, 2, 3]))]
    return trainer_module.Trainer(model, optimizer, engine.nn.CrossEntropyLoss(), batch, seed=0)


# ----------------------------------------------------------------------------------------- kinds
def network_seeds(tmp):
    seeds = [Seed({"net.llnet": _bytes_of(lambda p, t=t: save_network(load_template(t), p), ".llnet", tmp)},
                  {"net.llnet": "json"}, "net.llnet") for t in TEMPLATES]
    return seeds


def weight_seeds(tmp, fmt):
    name = f"weights.{fmt}"
    seeds = []
    for template in ("lenet_cifar10", "mlp_fashion_mnist"):
        engine.manual_seed(0)
        state = load_template(template).build().state_dict()
        arrays = {k: v.detach().numpy() for k, v in state.items()}
        data = _bytes_of(lambda p, a=arrays: write_weights(fmt, a, p), "." + fmt, tmp)
        seeds.append(Seed({name: data}, {name: "llw" if fmt == "llw" else fmt}, name))
    return seeds


def checkpoint_seeds(tmp, context):
    trainer = context.trainer
    trainer.fit(1)
    data = _bytes_of(trainer.save_checkpoint, ".llw", tmp)
    return [Seed({"checkpoint.llw": data}, {"checkpoint.llw": "llw"}, "checkpoint.llw")]


def cifar_seeds(tmp):
    rng = np.random.default_rng(0)

    def batch(n):
        labels = rng.integers(0, 10, n)
        return {b"batch_label": b"generated", b"labels": [int(v) for v in labels],
                b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"filenames": [f"img{i}.png".encode() for i in range(n)]}

    folder = "cifar-10-batches-py"
    files = {f"{folder}/data_batch_{k}": pickle.dumps(batch(4), protocol=2) for k in range(1, 6)}
    files[f"{folder}/test_batch"] = pickle.dumps(batch(8), protocol=2)
    meta = {b"num_cases_per_batch": 4, b"label_names": [c.encode() for c in CIFAR_NAMES], b"num_vis": 3072}
    files[f"{folder}/batches.meta"] = pickle.dumps(meta, protocol=2)
    return [Seed(files, dict.fromkeys(files, "pickle"), ".")]


def _idx(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def mnist_seeds(tmp):
    rng = np.random.default_rng(1)
    files = {}
    for prefix, n in (("train", 8), ("t10k", 4)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = rng.integers(0, 10, n)
        files[f"FashionMNIST/raw/{prefix}-images-idx3-ubyte.gz"] = gzip.compress(_idx(images), mtime=0)
        files[f"FashionMNIST/raw/{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(_idx(labels), mtime=0)
    return [Seed(files, dict.fromkeys(files, "idx"), ".")]


def imagefolder_seeds(tmp):
    files = {"cats/a.png": _image_bytes("PNG", 24, 0), "cats/b.jpg": _image_bytes("JPEG", 24, 1),
             "dogs/c.bmp": _image_bytes("BMP", 16, 2), "dogs/d.png": _image_bytes("PNG", 40, 3)}
    return [Seed(files, dict.fromkeys(files, "image"), ".")]


def image_seeds(tmp):
    return [Seed({f"image.{ext}": _image_bytes(fmt, size, i)}, {f"image.{ext}": "image"}, f"image.{ext}")
            for i, (fmt, ext, size) in enumerate((("PNG", "png", 32), ("JPEG", "jpg", 48), ("BMP", "bmp", 20),
                                                  ("GIF", "gif", 32)))]


def recovery_seeds(tmp):
    network = load_template("lenet_cifar10")
    net = _bytes_of(lambda p: save_network(network, p), ".llnet", tmp)
    meta = json.dumps({"original_path": "/home/someone/net.llnet", "saved_at": 1764950000.0, "pid": 999999})
    files = {"recovery-999999.llnet": net, "recovery-999999.json": meta.encode()}
    return [Seed(files, dict.fromkeys(files, "json"), "recovery-999999.llnet")]


def run_seeds(tmp, context):
    network = load_template("lenet_cifar10")
    folder = os.path.join(tmp, "run-seed")
    run = create_run(network, folder=folder)
    trainer = _trainer(network)
    trainer.callbacks = run.callbacks()
    trainer.fit(2)
    run.save_weights(trainer.model)
    run.classes = list(CIFAR_NAMES)
    run.finish(test_accuracy=0.5)
    files = {f"run/{k}": v for k, v in _read_tree(folder).items()}
    shutil.rmtree(folder)
    formats = {}
    for name in files:
        ext = os.path.splitext(name)[1]
        formats[name] = {".json": "json", ".llnet": "json", ".csv": "text", ".jsonl": "text",
                         ".safetensors": "safetensors", ".llw": "llw"}[ext]
    return [Seed(files, formats, "run")]


# ----------------------------------------------------------------------------------------- loading
def load_recovery(path, context):
    recovery = recovery_files.Recovery(path)
    recovery.load()
    recovery.saved_label  # noqa: B018 - what the window's question shows, computed as it computes it


def load_run_folder(path, context):
    run = load_run(path)
    run.metrics()
    run.network()
    weights_file(path)


def load_cifar(path, context):
    for train in (True, False):
        dataset = CIFAR10(path, train=train)
        dataset[len(dataset) - 1]


def load_mnist(path, context):
    for train in (True, False):
        dataset = FashionMNIST(path, train=train)
        dataset[len(dataset) - 1]


def load_image_folder(path, context):
    dataset = ImageFolder(path)
    for i in range(len(dataset)):
        dataset[i]


def load_checkpoint(path, context):
    context.trainer.load_checkpoint(path)


def make_context(folder):
    context = Context(folder)
    engine.manual_seed(0)
    lenet, mlp = load_template("lenet_cifar10"), load_template("mlp_fashion_mnist")
    context.lenet, context.mlp = os.path.join(folder, "lenet.llnet"), os.path.join(folder, "mlp.llnet")
    save_network(lenet, context.lenet)
    save_network(mlp, context.mlp)
    context.lenet_weights = os.path.join(folder, "lenet.safetensors")
    engine.serialization.save_safetensors(lenet.build().state_dict(), context.lenet_weights)
    context.mlp_weights = os.path.join(folder, "mlp.safetensors")
    engine.serialization.save_safetensors(mlp.build().state_dict(), context.mlp_weights)
    context.image = os.path.join(folder, "cat.png")
    with open(context.image, "wb") as f:
        f.write(_image_bytes("PNG", 32, 9))
    context.network = lenet
    context.trainer = _trainer(lenet)
    return context


def kinds(folder, context):
    """Every kind, its seeds written with the project's writers into ``folder``."""
    eval_cifar = lambda p, c: ["eval", c.lenet, c.lenet_weights, "--data", p, "--limit", "4"]  # noqa: E731
    eval_mnist = lambda p, c: ["eval", c.mlp, c.mlp_weights, "--data", p, "--limit", "4"]  # noqa: E731
    weights = lambda p, c: ["predict", c.lenet, p, c.image]  # noqa: E731
    partial = {"cli_reads_all": False}  # the command reads part of the files (one split, the weights only)
    return [
        Kind("network", network_seeds(folder), lambda p, c: load_network(p), lambda p, c: ["summary", p]),
        Kind("safetensors", weight_seeds(folder, "safetensors"), lambda p, c: read_weights(p), weights),
        Kind("llw", weight_seeds(folder, "llw"), lambda p, c: load_weights(p), weights),
        Kind("npz", weight_seeds(folder, "npz"), lambda p, c: load_weights(p), weights),
        Kind("checkpoint", checkpoint_seeds(folder, context), load_checkpoint, weights, **partial),
        Kind("cifar10", cifar_seeds(folder), load_cifar, eval_cifar, **partial),
        Kind("fashion_mnist", mnist_seeds(folder), load_mnist, eval_mnist, **partial),
        Kind("image_folder", imagefolder_seeds(folder), load_image_folder),
        Kind("image", image_seeds(folder), lambda p, c: load_image(p, c.network),
             lambda p, c: ["predict", c.lenet, c.lenet_weights, p]),
        Kind("recovery", recovery_seeds(folder), load_recovery, lambda p, c: ["summary", p], **partial),
        Kind("run", run_seeds(folder, context), load_run_folder, lambda p, c: ["predict", c.lenet, p, c.image],
             **partial),
    ]
