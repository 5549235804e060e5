"""Export a network with its weights: as weights only
(safetensors, npz, llw), as ONNX, or as Python code for PyTorch or for LayerLab's engine. WEIGHTS is a weight
file, a run folder, or - for the initial weights the document's seed gives."""

import os

from .common import CliError, fresh_model, load_weights_into, open_network, require_valid


def _formats_help():
    try:
        from engine.graph.export import FORMATS
    except ImportError as e:
        return f"the export formats (unavailable here: {e})"
    return "one of " + ", ".join(f"{key} ({fmt.title})" for key, fmt in FORMATS.items())


def add_parser(subparsers):
    p = subparsers.add_parser("export", help="export a network and its weights (safetensors, ONNX, code, ...)",
                              description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("weights", metavar="WEIGHTS", help="weights (.safetensors, .llw, .npz), a run folder, or - for "
                                                      "the initial weights")
    p.add_argument("--format", required=True, metavar="FORMAT", help=_formats_help())
    p.add_argument("--out", metavar="PATH", help="where to write (default: next to the network file, named after it)")
    p.set_defaults(handler=main)


def default_output(network_path, fmt, formats):
    """Beside the network file, named after it; ``_<format>`` is added where formats share an extension
    (PyTorch and engine code are both ``.py``)."""
    shared = sum(f.extension == fmt.extension for f in formats.values()) > 1
    return os.path.splitext(network_path)[0] + (f"_{fmt.key}" if shared else "") + fmt.extension


def main(args):
    from engine.graph import NetworkError
    from engine.graph.export import FORMATS, export_network

    network = open_network(args.network)
    require_valid(network, args.network, "export")
    fmt = FORMATS.get(args.format)
    if fmt is None:
        raise CliError(f"unknown format {args.format!r}; choose one of {', '.join(FORMATS)}")
    model = fresh_model(network)
    if args.weights != "-":
        load_weights_into(model, args.weights, args.network)
    out = args.out or default_output(args.network, fmt, FORMATS)
    try:
        written = export_network(network, model.state_dict(), fmt.key, out)
    except (NetworkError, OSError) as e:  # ExportError is a NetworkError
        raise CliError(f"{out}: cannot export as {fmt.title}: {e}") from None
    for path in written:
        print(f"wrote {path}")
    return 0
