"""List the runs of a network: status, the settings that differ between them, best validation accuracy (and its
epoch), test accuracy, speed, duration, and what changed between the document each run trained and the current
NET.llnet. The runs are plain files next to the document (NET.runs/); nothing leaves the machine."""

import csv
import json
import math
import sys
from dataclasses import fields

from engine.graph.diff import value_text
from engine.training.run_table import RunRow, run_rows, varying_settings
from engine.training.runs import runs_folder

from .common import open_network
from .table import format_table, percent

FORMATS = ("table", "csv", "json")
MISSING = "—"
PLAIN_COLUMNS = [f.name for f in fields(RunRow) if f.name not in ("settings", "diff")]


def add_parser(subparsers):
    p = subparsers.add_parser("runs", help="list the runs of a network, their settings and results",
                              description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="table (default), csv (every column) or json (every field, the full diff)")
    p.add_argument("--all-settings", action="store_true",
                   help="show every training setting in the table, not only those that differ between runs")
    p.set_defaults(handler=main)


def _known(value):
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def duration_text(seconds):
    """``42.0 s``, ``3m 05s``, ``1h 02m``."""
    if not _known(seconds):
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def _best(row):
    return MISSING if row.best_val_accuracy is None else f"{percent(row.best_val_accuracy)} ({row.best_epoch})"


def _changed(row):
    return MISSING if row.diff is None else row.diff.summary(most=1)


def table_text(rows, settings):
    headers = ["run", "status", *settings, "best val (epoch)", "test", "img/s", "time", "changed"]
    body = [[row.name, row.status, *(value_text(row.settings[s]) if s in row.settings else MISSING for s in settings),
             _best(row), percent(row.test_accuracy),
             f"{row.images_per_second:,.0f}" if _known(row.images_per_second) else MISSING,
             duration_text(row.duration), _changed(row)] for row in rows]
    return format_table(headers, body, "ll" + "l" * len(settings) + "rrrrl")


def _notes(rows):
    """A line for each run with something to say (why it failed, stopped or is damaged)."""
    return [f"  {row.name}: {row.message}" for row in rows if row.message]


def _cell(value):
    """A CSV cell: empty for nothing, text and numbers as they are (in full), tuples as the table shows them."""
    return "" if value is None else value if isinstance(value, (str, int, float)) else value_text(value)


def write_csv(rows, out):
    settings = list(dict.fromkeys(name for row in rows for name in row.settings))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*PLAIN_COLUMNS, *(f"setting.{s}" for s in settings), "changes", "changed"])
    for row in rows:
        plain = [getattr(row, name) for name in PLAIN_COLUMNS]
        values = [row.settings.get(s) for s in settings]
        diff = [None, None] if row.diff is None else [row.diff.count, "; ".join(row.diff.lines())]
        writer.writerow([_cell(v) for v in (*plain, *values, *diff)])


def main(args):
    current = open_network(args.network)
    rows = run_rows(args.network, current)
    if args.format == "json":
        print(json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False))
    elif args.format == "csv":
        write_csv(rows, sys.stdout)
    elif not rows:
        print(f"{args.network}: no runs yet (a run's files go in {runs_folder(args.network)})")
    else:
        settings = list(current.settings) if args.all_settings else varying_settings(rows)
        print(f"{len(rows)} run{'s' if len(rows) != 1 else ''} of {args.network} in {runs_folder(args.network)}; "
              f"'changed': the run's network against the file as it is now")
        print(table_text(rows, settings))
        notes = _notes(rows)
        if notes:
            print("notes:")
            print("\n".join(notes))
    return 0
