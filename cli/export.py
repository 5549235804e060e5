"""Export a network with its weights: as weights only
(safetensors, npz, llw), as ONNX, or as Python code for PyTorch or for LayerLab's engine. WEIGHTS is a weight
file, a run folder, or - for the initial weights the document's seed gives. --out names the file, or a folder
to write into under the network's name. Existing files are replaced only with --force."""

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
    p.add_argument("--out", metavar="PATH", help="the file to write, or an existing folder to write into (default: "
                                                 "next to the network file, named after it; PyTorch and engine code "
                                                 "add _pytorch or _engine)")
    p.add_argument("--force", action="store_true", help="replace files that exist already")
    p.set_defaults(handler=main)


def output_path(out, fmt, network_path):
    """Where to export: ``out``, or inside it when it is a folder, or (``out`` None) beside the network file,
    named after it; ``CliError`` when the folder to write in does not exist or cannot be written."""
    from engine.graph.export import suggested_path

    default = suggested_path(fmt.key, network_path)
    if out is None:
        return default
    if not out:
        raise CliError("--out is empty: give a file or a folder to write into")
    if os.path.isdir(out):
        return os.path.join(out, os.path.basename(default))
    folder = out if out.endswith(("/", os.sep)) else os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        problem = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CliError(f"{out}: cannot write there: the folder {folder} {problem}")
    if not os.access(folder, os.W_OK):
        raise CliError(f"{out}: cannot write there: the folder {folder} is not writable")
    return out


def main(args):
    from engine.graph import NetworkError
    from engine.graph.export import FORMATS, export_network, output_paths
    from engine.training.predictor import class_names

    network = open_network(args.network)
    inference = require_valid(network, args.network, "export")
    fmt = FORMATS.get(args.format)
    if fmt is None:
        raise CliError(f"unknown format {args.format!r}; choose one of {', '.join(FORMATS)}")
    out = output_path(args.out, fmt, args.network)
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
    except NetworkError as e:  # ExportError is a NetworkError
        raise CliError(f"{out}: cannot export as {fmt.title}: {e}") from None
    except OSError as e:
        raise CliError(f"{e.filename or out}: cannot export as {fmt.title}: {e.strerror or e}") from None
    for path in written:
        print(f"wrote {path}")
    return 0
