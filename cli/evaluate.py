"""Evaluate saved weights on the test set: the accuracy, per class, and the confusion
matrix (rows: true class, columns: predicted class). WEIGHTS is a weight file or a run folder."""

from .common import (
    CliError,
    data_errors,
    load_weights_into,
    open_network,
    positive_int,
    require_valid,
    resolve_device,
)
from .table import dims, format_table


def add_parser(subparsers):
    p = subparsers.add_parser("eval", help="evaluate weights on the test set", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("weights", metavar="WEIGHTS", help="weights (.safetensors, .llw, .npz) or a run folder")
    p.add_argument("--data", metavar="DIR", help="the dataset folder")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--limit", type=positive_int, metavar="N", help="evaluate on the first N test images only")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.set_defaults(handler=main)


def confusion_table(cm, classes):
    """The confusion matrix with class names on both axes."""
    return format_table(["true \\ predicted", *classes],
                        [[name, *(f"{v:,}" for v in row)] for name, row in zip(classes, cm)],
                        "l" + "r" * len(classes))


def evaluate(network, model, dataset, classes, device):
    from engine.training import Trainer
    from engine.training.recipe import make_loader

    trainer = Trainer(model, None, network.build_loss(), None, device=device, num_classes=len(classes))
    return trainer.evaluate(make_loader(network, dataset, train=False))


def main(args):
    from engine.training import format_per_class
    from engine.training.recipe import load_test_data
    from engine.utils.data import Subset

    network = open_network(args.network)
    inference = require_valid(network, args.network, "evaluate")
    device = resolve_device(network, args.device)
    model = network.build().to(device)
    weights = load_weights_into(model, args.weights, args.network)
    with data_errors(network, args.data):
        dataset, classes = load_test_data(network, args.data, args.download)
    shape = inference.nodes[network.output_node().id].shape
    if shape != (len(classes),):
        raise CliError(f"{args.network}: the network's output ({dims(shape)}) is not one score for "
                       f"each of the {len(classes)} classes of the test set")
    if args.limit is not None and args.limit < len(dataset):
        dataset = Subset(dataset, list(range(args.limit)))
    result = evaluate(network, model, dataset, classes, device)
    print(f"{args.network} with {weights}")
    print(f"Accuracy of the network on the {result.count:,} test images: {100 * result.accuracy:.2f} %  "
          f"(loss {result.loss:.4f})")
    print(format_per_class(result.confusion, classes))
    print("Confusion matrix (rows: true class, columns: predicted class):")
    print(confusion_table(result.confusion, classes))
    return 0
