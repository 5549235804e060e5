"""List the runs of a network: status, the settings that differ between them, best validation accuracy (and its
epoch), test accuracy, speed, duration, and what changed between the document each run trained and the current
NET.llnet. Name a RUN (its folder's name or its title) to see it whole, or to give it a title, tags and a note,
or to move it to the trash. The runs are plain files next to the document (NET.runs/); nothing leaves the
machine."""

import csv
import json
import sys
from dataclasses import fields

from engine.graph.diff import value_text
from engine.training import run_cells
from engine.training.run_notes import edit_notes, find_run, trash_run
from engine.training.run_table import RunRow, run_row, run_rows, varying_settings
from engine.training.runs import list_runs, runs_folder

from .common import CliError, open_network
from .table import format_table

FORMATS = ("table", "csv", "json")
MISSING = run_cells.MISSING
PLAIN_COLUMNS = [f.name for f in fields(RunRow) if f.name not in ("settings", "diff")]
EDITS = ("title", "tag", "untag", "note", "trash")


def add_parser(subparsers):
    p = subparsers.add_parser("runs", help="list the runs of a network, their settings and results",
                              description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("run", metavar="RUN", nargs="?",
                   help="one run (its folder's name or its title): show it whole, or change it with the options below")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="table (default), csv (every column) or json (every field, the full diff)")
    p.add_argument("--all-settings", action="store_true",
                   help="show every training setting in the table, not only those that differ between runs")
    p.add_argument("--tagged", metavar="TAG", help="list only the runs with this tag")
    edits = p.add_argument_group("changing a RUN")
    edits.add_argument("--title", help="the name shown for the run (its folder keeps its name); '' removes it")
    edits.add_argument("--tag", action="append", default=[], metavar="TAG", help="add a tag (repeatable)")
    edits.add_argument("--untag", action="append", default=[], metavar="TAG", help="remove a tag (repeatable)")
    edits.add_argument("--note", help="the run's note (replaces the old one; '' removes it)")
    edits.add_argument("--trash", action="store_true",
                       help="move the run's folder to the desktop's trash (a running run needs --force)")
    edits.add_argument("--force", action="store_true", help="with --trash: even when the run says it is running")
    p.set_defaults(handler=main)


def _changed(row):
    return MISSING if row.diff is None else row.diff.summary(most=1)


def table_text(rows, settings):
    """The runs as a table: ``run_cells``' columns (as the GUI and the report show them), the tags when a run has
    some, and what changed since."""
    tagged = any(row.tags for row in rows)
    headers = [*run_cells.headers(settings), "changed"]
    body = [[*run_cells.row_cells(row, settings), _changed(row)] for row in rows]
    if tagged:
        headers.insert(1, "tags")
        for row, cells in zip(rows, body):
            cells.insert(1, " ".join(row.tags))
    align = "l" * (2 + tagged + len(settings)) + "r" * len(run_cells.RESULT_COLUMNS) + "l"
    return format_table(headers, body, align)


def _notes(rows):
    """A line for each run with something to say (why it failed, stopped or is damaged)."""
    return [f"  {row.label}: {row.message}" for row in rows if row.message]


def _cell(value):
    """A CSV cell: empty for nothing, text and numbers as they are (in full), tuples as the table shows them."""
    if isinstance(value, list):  # tags
        return " ".join(value)
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


def details_text(row):
    """Everything about one run, a line each: outcome, notes, settings and what changed since."""
    lines = [f"run {row.name}" + (f" ({row.title})" if row.title else "") + f": {row.status}",
             f"  folder: {row.folder}",
             f"  epochs: {row.epochs_completed}/{row.epochs}, best val {run_cells.best_text(row)}, final val "
             f"{run_cells.percent(row.final_val_accuracy)}, test {run_cells.percent(row.test_accuracy)}, "
             f"time {run_cells.duration_text(row.duration)}"]
    if row.tags:
        lines.append(f"  tags: {' '.join(row.tags)}")
    if row.message:
        lines.append(f"  message: {row.message}")
    if row.note:
        lines += ["  note:", *(f"    {line}" for line in row.note.splitlines())]
    lines += ["  settings:", *(f"    {name} = {value_text(value)}" for name, value in row.settings.items())]
    if row.diff is not None:
        changes = row.diff.lines()
        lines += ["  changed since (the run's network -> the file as it is now):" if changes else
                  "  the file as it is now is the network this run trained", *(f"    {line}" for line in changes)]
    return "\n".join(lines)


def edit_run(args, run):
    """Apply the edit options to ``run``; a line saying what was done."""
    if args.trash:
        if run.status == "running" and not args.force:
            raise CliError(f"run {run.name} says it is running; stop it first, or add --force if its process is "
                           "gone")
        trash_run(run.folder)
        return f"moved run {run.name} to the trash"
    notes = edit_notes(run.folder, title=args.title, add_tags=args.tag, remove_tags=args.untag, note=args.note)
    tags = " ".join(notes.tags) or "none"
    return f"run {run.name}: title {notes.title or '(none)'}, tags {tags}, note {len(notes.note):,} characters"


def _editing(args):
    return any(getattr(args, name) not in (None, False, []) for name in EDITS)


def refuse_mixed_options(args):
    """Options that would be ignored in this combination are refused rather than dropped without a word."""
    notes = [name for name in ("title", "tag", "untag", "note") if getattr(args, name) not in (None, [])]
    if args.trash and notes:
        raise CliError(f"--trash moves the run away: it cannot take --{notes[0]} as well")
    if args.force and not args.trash:
        raise CliError("--force goes with --trash")
    if _editing(args) and (args.tagged is not None or args.format != "table" or args.all_settings):
        raise CliError("--tagged, --format and --all-settings are for listing; change a run without them")
    if args.run is not None and (args.tagged is not None or args.all_settings):
        raise CliError("--tagged and --all-settings are for the list of runs, not one RUN")


def one_run(args, current):
    try:
        run = find_run(list_runs(args.network), args.run)
    except LookupError as e:
        raise CliError(f"{args.network}: {e}") from None
    if _editing(args):
        print(edit_run(args, run))
        return 0
    row = run_row(run, current)
    if args.format == "json":
        print(json.dumps(row.as_dict(), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        write_csv([row], sys.stdout)
    else:
        print(details_text(row))
    return 0


def main(args):
    refuse_mixed_options(args)
    current = open_network(args.network)
    if args.run is not None:
        return one_run(args, current)
    if _editing(args):
        raise CliError("name the RUN to change (its folder's name or its title)")
    rows = run_rows(args.network, current)
    if args.tagged is not None:
        rows = [row for row in rows if args.tagged in row.tags]
    if args.format == "json":
        print(json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False))
    elif args.format == "csv":
        write_csv(rows, sys.stdout)
    elif not rows and args.tagged is not None:
        print(f"{args.network}: no run is tagged {args.tagged!r}")
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
