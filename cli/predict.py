"""Classify image files: the most likely classes of each, with their
probabilities. Each image is converted to the Input's channels, resized to its height and width, and
normalised as in training."""

from .common import CliError, class_names, load_weights_into, open_network, require_valid, resolve_device
from .table import dims


def add_parser(subparsers):
    p = subparsers.add_parser("predict", help="classify image files", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("weights", metavar="WEIGHTS", help="weights (.safetensors, .llw, .npz) or a run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many classes to show (default 5)")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.set_defaults(handler=main)


def read_image(path, network):
    """The image at ``path`` as the Input expects it: mode L or RGB, the Input's height and width."""
    from PIL import Image, UnidentifiedImageError

    from engine.vision import transforms as T

    channels, height, width = network.input_node().params["shape"]
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
    except FileNotFoundError:
        raise CliError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as e:
        raise CliError(f"{path}: cannot read the image ({e})") from None
    return T.Resize((height, width))(img) if img.size != (width, height) else img


def top_classes(probabilities, classes, k):
    """``[(name, probability)]`` of the ``k`` most likely classes, most likely first."""
    order = probabilities.argsort()[::-1][:k]
    return [(classes[i], float(probabilities[i])) for i in order]


def main(args):
    import engine
    from engine.training import Trainer
    from engine.training.recipe import eval_transform

    network = open_network(args.network)
    inference = require_valid(network, args.network, "run")
    shape, outputs = network.input_node().params["shape"], inference.nodes[network.output_node().id].shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise CliError(f"{args.network}: predict reads images into a 1×H×W or 3×H×W input, not {dims(shape)}")
    if len(outputs) != 1:
        raise CliError(f"{args.network}: predict needs one score per class, but the output is {dims(outputs)}")
    if args.top < 1:
        raise CliError(f"--top must be at least 1, got {args.top}")
    device = resolve_device(network, args.device)
    model = network.build().to(device)
    load_weights_into(model, args.weights, args.network)
    transform = eval_transform(network)
    batch = engine.stack([transform(read_image(path, network)) for path in args.images])
    trainer = Trainer(model, None, None, None, device=device)
    probabilities = trainer.predict(batch)
    classes = class_names(network, args.weights, outputs[0])
    for path, row in zip(args.images, probabilities):
        print(path)
        for name, p in top_classes(row, classes, args.top):
            print(f"  {100 * p:6.2f} %  {name}")
    return 0
