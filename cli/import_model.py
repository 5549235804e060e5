"""Import a model made elsewhere as a network document: an ONNX file (MODEL.onnx). Writes NET.llnet (default:
beside the model, named after it) and the run folder NET.runs/imported/ holding the model's weights as a
finished run, so eval, predict, export and training (fine-tuning) start from them. The imported network is run
beside onnxruntime on a random batch and the largest difference printed. Existing files are replaced only
with --force."""

import os

from .common import CliError


def add_parser(subparsers):
    p = subparsers.add_parser("import", help="import an ONNX model as a network with its weights",
                              description=__doc__)
    p.add_argument("model", metavar="MODEL.onnx", help="the model to import")
    p.add_argument("--out", metavar="NET.llnet", help="the network file to write (default: beside the model)")
    p.add_argument("--force", action="store_true", help="replace the network file and its imported run")
    p.set_defaults(handler=main)


def main(args):
    from engine.graph import EXTENSIONS
    from engine.graph.onnx_import.check import import_checked
    from engine.training.imported_run import imported_run_folder, save_import

    if not args.model.lower().endswith(".onnx"):
        raise CliError(f"{args.model}: import reads ONNX files (.onnx)")
    out = args.out or os.path.splitext(args.model)[0] + EXTENSIONS[0]
    if not out.lower().endswith(EXTENSIONS):
        raise CliError(f"{out}: the network file must end with {EXTENSIONS[0]}")
    run_folder = imported_run_folder(out)
    existing = [p for p in (out, run_folder) if os.path.exists(p)]
    if existing and not args.force:
        raise CliError(f"{' and '.join(existing)} exist{'s' if len(existing) == 1 else ''} already; pass --force to "
                       "replace or --out to write elsewhere")
    imported, difference = import_checked(args.model)
    inference = imported.network.infer()
    run = save_import(imported, out, args.model, replace=True)
    out_shape = "×".join(map(str, inference.nodes[imported.network.output_node().id].shape))
    print(f"imported {args.model}: {len(imported.network.nodes)} layers, {inference.total_params:,} parameters, "
          f"input {'×'.join(map(str, imported.network.input_node().params['shape']))}, output {out_shape}")
    print(f"checked against onnxruntime on a random batch: largest difference {difference:.3g}")
    for note in imported.notes:
        print(f"note: {note}")
    print(f"wrote {out}")
    print(f"wrote {run.folder} (the weights, as a finished run)")
    return 0
