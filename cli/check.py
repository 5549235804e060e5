"""The pre-flight check of a network, before training: one training batch forward and backward through the
initial weights, with per layer the activations' mean and variance, the gradient's variance and their ratios to
the layer before, and warnings (with what people usually do) where the signal vanishes or explodes through the
depth. With --gradcheck, also a numerical gradient check: autograd against central differences on a float64 copy,
layer by layer. Exit code 0 when healthy, 1 when there are warnings or failed layers, 2 for bad input."""

from engine.training.gradient_check import check_gradients
from engine.training.preflight import check_signal, first_batch, initial_model

from .common import data_errors, open_network, require_valid
from .table import dims, format_table


def add_parser(subparsers):
    p = subparsers.add_parser("check", help="pre-flight check: signal through the layers on one batch, and an "
                                            "optional numerical gradient check", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("--data", metavar="DIR", help="the dataset folder")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--gradcheck", action="store_true",
                   help="also compare autograd with numerical gradients (float64, a sample of each layer's entries)")
    p.set_defaults(handler=main)


def number(value):
    return "-" if value is None else f"{value:.3g}"


def ratio(value):
    return "-" if value is None else f"×{value:.3g}"


def flags(layer):
    """``activations vanishing, gradient exploding`` for a row that crosses a threshold."""
    parts = [f"activations {layer.activation_flag}" if layer.activation_flag else "",
             f"gradient {layer.gradient_flag}" if layer.gradient_flag else ""]
    return ", ".join(p for p in parts if p)


def signal_table(report):
    rows = [[layer.name, layer.type, dims(layer.shape), number(layer.activation_mean), number(layer.activation_var),
             ratio(layer.activation_ratio), number(layer.gradient_var), ratio(layer.gradient_ratio), flags(layer)]
            for layer in report.layers]
    return format_table(["layer", "type", "output", "act mean", "act var", "vs before", "grad var", "vs before",
                         "signal"], rows, "lllrrrrrl")


def gradient_table(report):
    def result(layer):
        if layer.passed is None:
            return "not smooth here"
        return "pass" if layer.passed else "FAIL"

    rows = [[layer.name, layer.type, f"{layer.checked} of {layer.total:,}", number(layer.max_error), result(layer)]
            for layer in report.layers]
    return format_table(["layer", "type", "entries", "max rel. error", "result"], rows, "llrrl")


def print_gradient_check(report):
    print(f"\nnumerical gradient check ({report.samples} images, float64, step {report.eps:g}, tolerance "
          f"{report.layers[0].tolerance:g} on the largest relative error, {report.seconds:.1f} s):"
          if report.layers else "\nnumerical gradient check: no layer has trainable parameters")
    if not report.layers:
        return
    print(gradient_table(report))
    skipped = sum(layer.skipped for layer in report.layers)
    if skipped:
        print(f"{skipped} sampled entr{'ies' if skipped != 1 else 'y'} not compared: the loss is not smooth within "
              "the step there (a ReLU or max-pool switches)")
    failed = report.failed
    print("autograd agrees with the numerical gradients" if not failed else
          f"{len(failed)} layer{'s' if len(failed) != 1 else ''} FAILED: autograd disagrees with the numerical "
          "gradients (the first failing layer from the output back points at the culprit)")


def main(args):
    network = open_network(args.network)
    require_valid(network, args.network, "check")
    with data_errors(network, args.data):
        batch = first_batch(network, data_dir=args.data, download=args.download)
    model = initial_model(network)
    report = check_signal(network, model, batch)
    print(f"{network.title}  ({args.network})")
    print(f"one training batch of {report.batch_size} images through the initial weights, loss {report.loss:.4f}")
    print(signal_table(report))
    if report.warnings:
        print(f"warnings ({len(report.warnings)}):")
        for warning in report.warnings:
            print(f"  - {warning.text()}")
    else:
        print("no warnings: activations and gradients keep their scale through the layers")
    healthy = report.healthy
    if args.gradcheck:
        gradients = check_gradients(network, model, batch)
        print_gradient_check(gradients)
        healthy = healthy and gradients.passed
    return 0 if healthy else 1
