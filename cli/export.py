"""Export a network with its weights: as weights only
(safetensors, npz, llw), as ONNX, or as Python code for PyTorch or for LayerLab's engine. WEIGHTS is a weight
file, a run folder, or - for the initial weights the document's seed gives. Existing files are replaced only
with --force."""

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
    p.add_argument("--out", metavar="PATH", help="where to write (default: next to the network file, named after it; "
                                                 "PyTorch and engine code add _pytorch or _engine)")
    p.add_argument("--force", action="store_true", help="replace files that exist already")
    p.set_defaults(handler=main)


def main(args):
    from engine.graph import NetworkError
    from engine.graph.export import FORMATS, export_network, output_paths, suggested_path
    from engine.training.predictor import class_names

    network = open_network(args.network)
    inference = require_valid(network, args.network, "export")
    fmt = FORMATS.get(args.format)
    if fmt is None:
        raise CliError(f"unknown format {args.format!r}; choose one of {', '.join(FORMATS)}")
    out = args.out or suggested_path(fmt.key, args.network)
    existing = [p for p in output_paths(fmt.key, out) if os.path.exists(p)]
    if existing and not args.force:
        raise CliError(f"{' and '.join(existing)} exist{'s' if len(existing) == 1 else ''} already; pass --force to "
                       "replace or --out to write elsewhere")
    model = fresh_model(network)
    classes = None
    if args.weights != "-":
        load_weights_into(model, args.weights, args.network)
        classes = class_names(network, inference.nodes[network.output_node().id].shape[-1], args.weights)
    try:
        written = export_network(network, model.state_dict(), fmt.key, out, classes)
    except (NetworkError, OSError) as e:  # ExportError is a NetworkError
        raise CliError(f"{out}: cannot export as {fmt.title}: {e}") from None
    for path in written:
        print(f"wrote {path}")
    return 0
