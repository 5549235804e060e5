"""Find a learning rate before training (fastai's lr_find): a short sweep of mini-batches with the learning rate
growing exponentially from --start to --end, on the network's own optimizer, loss and data. It prints the
suggested learning rate (fastai's valley, with its older steep and minimum/10 rules), the smoothed loss at a
few learning rates, and writes the whole curve, with each layer's update ratio ‖Δw‖/‖w‖ per step, to a CSV file.
The network file is not changed: pass the learning rate to 'train --lr'."""

import math
import os

import numpy as np

from engine.training.lr_finder import (
    DEFAULT_END,
    DEFAULT_START,
    DEFAULT_STEPS,
    METHOD_LABELS,
    METHODS,
    check_range,
    find_lr_for_network,
    write_result_csv,
)
from engine.training.recipe import load_checked_data, trainable_problem

from .common import CliError, apply_settings, data_errors, open_network, positive_int, require_valid, resolve_device

CURVE_ROWS = 12  # rows of the text view of the curve
BAR_WIDTH = 28


def add_parser(subparsers):
    p = subparsers.add_parser("lr-find", help="sweep the learning rate and suggest one (before training)",
                              description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file (its training settings are used)")
    p.add_argument("--data", metavar="DIR", help="the dataset folder (default: the document's data_dir, "
                                                 "$LAYERLAB_DATA or ~/.cache/layerlab/data)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--limit", type=positive_int, metavar="N", help="use the first N training images only")
    p.add_argument("--start", type=float, default=DEFAULT_START, metavar="X",
                   help=f"the first learning rate (default {DEFAULT_START:g})")
    p.add_argument("--end", type=float, default=DEFAULT_END, metavar="X",
                   help=f"the last learning rate (default {DEFAULT_END:g})")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, metavar="N",
                   help=f"mini-batches in the sweep (default {DEFAULT_STEPS}; the data is cycled when it has fewer)")
    p.add_argument("--out", metavar="FILE.csv", help="where to write the curve (default: NET.lr-find.csv next to "
                                                     "the network file)")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.set_defaults(handler=main)


def default_csv_path(network_path):
    return os.path.splitext(network_path)[0] + ".lr-find.csv"


def curve_rows(result, rows=CURVE_ROWS):
    """``(lr, smoothed loss, suggested)`` at about ``rows`` learning rates spread over the sweep, the step nearest
    the suggestion among them."""
    count = len(result.lrs)
    picked = set(np.linspace(0, count - 1, min(rows, count)).round().astype(int).tolist())
    nearest = None
    if math.isfinite(result.suggestion):
        nearest = int(np.argmin(np.abs(np.log(result.lrs) - math.log(result.suggestion))))
        picked.add(nearest)
    return [(result.lrs[k], result.smoothed_losses[k], k == nearest) for k in sorted(picked)]


def curve_text(result):
    """The curve as a few lines: learning rate, smoothed loss and a bar between the lowest and highest shown."""
    rows = curve_rows(result)
    values = np.array([loss for _, loss, _ in rows])
    finite = values[np.isfinite(values)]
    low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    lines = [f"{'learning rate':>14}  {'smoothed loss':>13}"]
    for lr, loss, suggested in rows:
        width = round(BAR_WIDTH * (loss - low) / (high - low)) if math.isfinite(loss) and high > low else 0
        mark = "  <- suggested" if suggested else ""
        lines.append(f"{lr:>14.3g}  {loss:>13.4f}  {'█' * (1 + width)}{mark}")
    return "\n".join(lines)


def suggestion_text(result):
    if not math.isfinite(result.suggestion):
        return (f"no suggestion: the smoothed loss did not fall over {len(result.lrs)} steps; try a lower --start or "
                "more --steps")
    _, *others = (f"{METHOD_LABELS[method]} {lr:.3g}" for method, lr in result.suggestions.items())
    return f"suggested learning rate: {result.suggestion:.3g} ({METHOD_LABELS[METHODS[0]]}; also {', '.join(others)})"


def main(args):
    network = open_network(args.network)
    apply_settings(network, {"train_limit": args.limit, "device": args.device})
    try:
        check_range(args.start, args.end, args.steps)
    except ValueError as e:
        raise CliError(str(e)) from None
    require_valid(network, args.network, "find a learning rate for")
    problem = trainable_problem(network)
    if problem:
        raise CliError(f"{args.network}: cannot find a learning rate: {problem}")
    device = resolve_device(network, args.device)
    with data_errors(network, args.data):
        data = load_checked_data(network, args.data, args.download)
    settings = network.settings
    print(f"sweeping the learning rate of '{network.title}' ({settings['optimizer']}, batch {settings['batch_size']}) "
          f"from {args.start:g} to {args.end:g} over {args.steps} steps, on {len(data.train):,} images, "
          f"device {device}")
    result = find_lr_for_network(network, data=data, device=device, start=args.start, end=args.end, steps=args.steps)
    print(f"{len(result.lrs)} of {args.steps} steps: {result.stop_text}")
    print(curve_text(result))
    print(suggestion_text(result))
    out = args.out or default_csv_path(args.network)
    write_result_csv(result, out)
    print(f"curve and per-layer update ratios: {out}")
    if math.isfinite(result.suggestion):
        print(f"train with it: python main.py train {args.network} --lr {result.suggestion:.3g}")
    return 0
