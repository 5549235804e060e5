"""Classify image files: the most likely classes of each, with their
probabilities. Each image is converted to the Input's channels, resized to its height and width, and
normalised as in training."""

from .common import CliError, load_weights_into, open_network, positive_int, require_valid, resolve_device
from .table import dims


def add_parser(subparsers):
    p = subparsers.add_parser("predict", help="classify image files", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("weights", metavar="WEIGHTS", help="weights (.safetensors, .llw, .npz) or a run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    p.add_argument("--top", type=positive_int, default=5, metavar="K", help="how many classes to show (default 5)")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.set_defaults(handler=main)


def main(args):
    from engine.training.predictor import Predictor, class_names, load_image

    network = open_network(args.network)
    inference = require_valid(network, args.network, "run")
    shape, outputs = network.input_node().params["shape"], inference.nodes[network.output_node().id].shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise CliError(f"{args.network}: predict reads images into a 1×H×W or 3×H×W input, not {dims(shape)}")
    if len(outputs) != 1:
        raise CliError(f"{args.network}: predict needs one score per class, but the output is {dims(outputs)}")
    model = network.build().to(resolve_device(network, args.device))
    weights = load_weights_into(model, args.weights, args.network)
    predictor = Predictor(model, network, class_names(network, outputs[0], args.weights), weights)
    images = [load_image(path, network) for path in args.images]  # ImageFileError, a FileError, names the file
    for path, top in zip(args.images, predictor.top(images, args.top)):
        print(path)
        for name, p in top:
            print(f"  {100 * p:6.2f} %  {name}")
    return 0
