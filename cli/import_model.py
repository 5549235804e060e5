"""Import a model made elsewhere as a network document, with its weights:

  MODEL.onnx             an ONNX file (checked against onnxruntime on a random batch)
  model.py:ClassName     a PyTorch model class, run with LayerLab's engine as torch (the file's code runs, as
                         'python model.py' would); --args gives its arguments as JSON, --weights a checkpoint
                         (PyTorch's .pth or the engine's; nothing in it runs)
  vision:NAME            an architecture of the engine's vision.models (resnet18, mobilenet_v2, ...)

Writes NET.llnet (default: beside the model, named after it) and the run folder NET.runs/imported/ holding the
weights as a finished run, so eval, predict, export and training (train --init, fine-tuning) start from them.
Existing files are replaced only with --force."""

import argparse
import os

from .common import CliError
from .table import dims


def add_parser(subparsers):
    p = subparsers.add_parser("import", help="import an ONNX model or a PyTorch model class as a network",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="MODEL.onnx, model.py:ClassName or vision:NAME")
    p.add_argument("--out", metavar="NET.llnet", help="the network file to write (default: beside the model)")
    p.add_argument("--args", metavar="JSON", default="{}", help="the model class's arguments, as a JSON object")
    p.add_argument("--weights", metavar="W.pth", help="weights for a model class (a state dict checkpoint)")
    p.add_argument("--input", metavar="CxHxW", default="3x32x32", help="the shape of one sample (default 3x32x32)")
    p.add_argument("--force", action="store_true", help="replace the network file and its imported run")
    p.set_defaults(handler=main)


def main(args):
    from engine.graph import EXTENSIONS
    from engine.graph.module_import import TraceRefused
    from engine.training.imported_run import imported_run_folder, save_import
    from engine.training.model_import import import_class, import_file, parse_arguments, parse_sample_shape

    if args.model.lower().endswith((".pt", ".pth", ".safetensors")):
        raise CliError(f"{args.model}: a weights file holds no network; import the class that defines it "
                       f"(model.py:ClassName) and pass the weights with --weights {args.model}")
    if args.model.lower().endswith(".onnx"):
        if args.weights or args.args != "{}":
            raise CliError("--weights and --args are for model classes; an ONNX file holds its weights")
        done = import_file(args.model)
    else:
        try:
            kwargs = parse_arguments(args.args)
        except ValueError as e:
            raise CliError(f"--args {e}") from None
        try:
            shape = parse_sample_shape(args.input)
        except ValueError as e:
            raise CliError(f"--input {args.input!r} {e}") from None
        try:
            done = import_class(args.model, kwargs, shape, args.weights)
        except TraceRefused as e:
            raise CliError(str(e) if str(e).startswith(args.model) else f"{args.model}: {e}") from None
    imported = done.imported
    out = args.out or done.default_path + EXTENSIONS[0]
    if not out.lower().endswith(EXTENSIONS):
        raise CliError(f"{out}: the network file must end with {EXTENSIONS[0]}")
    run_folder = imported_run_folder(out)
    existing = [p for p in (out, run_folder) if os.path.exists(p)]
    if existing and not args.force:
        raise CliError(f"{' and '.join(existing)} exist{'s' if len(existing) == 1 else ''} already; pass --force to "
                       "replace or --out to write elsewhere")
    inference = imported.network.infer()
    run = save_import(imported, out, args.model, replace=True)
    out_shape = dims(inference.nodes[imported.network.output_node().id].shape)
    print(f"imported {args.model}: {len(imported.network.nodes)} layers, {inference.total_params:,} parameters, "
          f"input {dims(imported.network.input_node().params['shape'])}, output {out_shape}")
    print(f"checked against {done.reference} on a random batch: largest difference {done.difference:.3g}")
    for note in imported.notes:
        print(f"note: {note}")
    print(f"wrote {out}")
    print(f"wrote {run.folder} (the weights, as a finished run)")
    return 0
