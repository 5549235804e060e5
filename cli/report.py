"""Write a comparison of a network's runs as one self-contained HTML file: their settings and results as a
table, and their curves overlaid (runs that differ only in their seed as a mean with a band of ±1 standard
deviation). The file has no scripts and no external addresses; it is made locally and nothing leaves the
machine."""

import os

from engine.training.run_compare import ALIGNMENTS, METRICS
from engine.training.run_notes import find_run
from engine.training.run_report import write_report
from engine.training.runs import list_runs, runs_folder

from .common import CliError, open_network


def add_parser(subparsers):
    p = subparsers.add_parser("report", help="compare a network's runs in a self-contained HTML file",
                              description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("runs", metavar="RUN", nargs="*",
                   help="the runs to compare: folders, folder names or titles (default: all the network's runs)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the HTML file to write (default: NET-report.html beside the network file)")
    p.add_argument("--metric", choices=list(METRICS), default="val_accuracy", metavar="KEY",
                   help=f"the metric of the main plot (default: val_accuracy); one of {', '.join(METRICS)}")
    p.add_argument("--align", choices=ALIGNMENTS, default="epoch",
                   help="the x axis: optimisation steps, epochs (default) or training time")
    p.add_argument("--no-group-seeds", dest="group_seeds", action="store_false",
                   help="draw every run on its own, not the runs that differ only in their seed as one mean")
    p.add_argument("--title", help="the report's title (default: from the network's title)")
    p.set_defaults(handler=main)


def chosen_runs(network_path, keys):
    """The runs of the network named by ``keys`` (run folders, their names or titles), in that order; all of them
    without. A folder must be one of this network's runs."""
    runs = list_runs(network_path)
    if not runs:
        raise CliError(f"{network_path}: no runs yet to report on (a run's files go in {runs_folder(network_path)})")
    chosen = {}  # a run named twice is reported once
    folders = {os.path.abspath(run.folder): run for run in runs}
    for key in keys:
        try:
            run = folders.get(os.path.abspath(key)) or find_run(runs, key)
        except LookupError as e:
            raise CliError(f"{network_path}: {e}") from None
        chosen[run.name] = run
    return list(chosen.values()) if keys else runs


def main(args):
    network = open_network(args.network)
    runs = chosen_runs(args.network, args.runs)
    output = args.output or os.path.splitext(args.network)[0] + "-report.html"
    title = args.title or f"Training runs of {network.title or os.path.basename(args.network)}"
    write_report(output, runs, metric=args.metric, align=args.align, title=title, group_seeds=args.group_seeds,
                 network_path=args.network)
    print(output)
    return 0
