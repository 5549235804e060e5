"""A comparison of a network's runs as one self-contained HTML file: the runs' settings and results as a table,
and their curves overlaid as PNG images inside the file (data URIs). No script, no external address: the file
opens anywhere, offline, and nothing in it leaves the machine. Its style follows the reader's light or dark
preference."""

import base64
import html
import os
from datetime import datetime

import numpy as np

from ..graph.diff import value_text
from ..utils.files import FileError, atomic_write_text
from .report_plots import HEIGHT, WIDTH, Line, overlay_png
from .run_cells import RESULT_COLUMNS, headers, row_cells
from .run_compare import (
    AXIS_LABELS,
    STEP_SMOOTHING,
    check_alignment,
    curve,
    mean_spread,
    metric_of,
    seed_groups,
)
from .run_table import DAMAGED, run_row, varying_settings
from .runs import RUNS_SUFFIX

EXTRA_PLOTS = ("loss", "val_accuracy")  # drawn as well when they are not the chosen metric

STYLE = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d1d1f; --muted: #5f6368; --line: #d5d7dc;
        --head: #f1f3f5; --bad: #b3261e; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #1f2023; --fg: #e4e5e7; --muted: #a2a6ad; --line: #3b3e44; --head: #2a2c30; --bad: #f2857c; }
}
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.meta, figcaption, .notes { color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--head); font-weight: 600; }
.num { text-align: right; }
.damaged { color: var(--bad); }
figure { margin: 12px 0 20px; }
img { display: block; max-width: 100%; height: auto; background: #ffffff; border: 1px solid var(--line);
      border-radius: 6px; }
"""


def _run_label(row, settings):
    shown = ", ".join(f"{s}={value_text(row.settings[s])}" for s in settings if s in row.settings)
    return f"{row.label} ({shown})" if shown else row.label


def _group_label(rows, settings, count):
    shown = ", ".join(f"{s}={value_text(rows[0].settings[s])}" for s in settings if s != "seed" and
                      s in rows[0].settings)
    return f"{shown or 'runs'}: mean ± 1 std of {count} seeds"


def _group_lines(group, rows, key, align, settings, left_out):
    """The ``Line`` of a group of runs (one run: its curve; several: mean and spread), or None without data.
    A run whose files cannot be read is noted in ``left_out`` (name -> reason) and skipped."""
    metric = metric_of(key)
    scale = 100.0 if metric.percent else 1.0
    smoothing = STEP_SMOOTHING if metric.source == "step" else 0.0
    curves = []
    for run in group:
        try:
            c = curve(run, key, align, smoothing=smoothing)
        except (FileError, OSError) as e:
            left_out.setdefault(run.name, str(e))
            continue
        if np.isfinite(c.y).any():
            curves.append(c)
    if not curves:
        return None
    if len(curves) == 1:
        return Line(_run_label(rows[curves[0].name], settings), curves[0].x, scale * curves[0].y)
    x, mean, std, count = mean_spread(curves)
    return Line(_group_label([rows[r.name] for r in group], settings, count), x, scale * mean, scale * std)


def _plot(groups, rows, key, align, settings, left_out):
    metric = metric_of(key)
    lines = [line for group in groups if (line := _group_lines(group, rows, key, align, settings, left_out))]
    title = metric.label + (", smoothed" if metric.source == "step" else "")
    png = overlay_png(lines, title, AXIS_LABELS[align], metric.unit, metric.log_scale,
                      empty_text=f"no run has recorded the {metric.label}")
    return metric.label, png


def _table_html(rows, settings):
    names = headers(settings)
    numeric = set(range(len(names) - len(RESULT_COLUMNS), len(names)))  # right-aligned
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{html.escape(n)}</th>' for i, n in enumerate(names))
    body = []
    for row in rows:
        cells = "".join(f'<td{" class=num" if i in numeric else ""}>{html.escape(text)}</td>'
                        for i, text in enumerate(row_cells(row, settings)))
        body.append(f'<tr{" class=damaged" if row.status == DAMAGED else ""}>{cells}</tr>')
    return f'<div class="scroll"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n' + "\n".join(body) + \
        "\n</tbody></table></div>"


def _said(row):
    """What a person said of the run: its folder when it has a title, its tags and note."""
    parts = [f"folder {row.name}"] if row.title else []
    parts += [f"tags: {' '.join(row.tags)}"] if row.tags else []
    parts += [row.note] if row.note else []
    return " · ".join(parts)


def _notes_html(rows, left_out):
    notes = [f"<li><b>{html.escape(row.label)}</b>: {html.escape(_said(row))}</li>" for row in rows if _said(row)]
    notes += [f"<li><b>{html.escape(row.label)}</b>: {html.escape(row.message)}</li>" for row in rows
              if row.message]
    labels = {row.name: row.label for row in rows}
    notes += [f"<li><b>{html.escape(labels.get(name, name))}</b>: left out of the plots: {html.escape(reason)}</li>"
              for name, reason in left_out.items()]
    return f'<h2>Notes</h2>\n<ul class="notes">{"".join(notes)}</ul>' if notes else ""


def _figure_html(label, png):
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" width="{WIDTH}" height="{HEIGHT}" '
            f'alt="{html.escape(label)}"></figure>')


def _runs_parent(runs):
    return os.path.dirname(os.path.abspath(runs[0].folder))


def _source_text(runs, network_path):
    folder = _runs_parent(runs)
    return f"{network_path} (runs in {folder})" if network_path is not None else folder


def _default_title(runs, network_path):
    if network_path is not None:
        return f"Training runs of {os.path.splitext(os.path.basename(network_path))[0]}"
    return f"Training runs of {os.path.basename(_runs_parent(runs)).removesuffix(RUNS_SUFFIX)}"


def write_report(path, runs, metric="val_accuracy", align="epoch", title=None, group_seeds=True, network_path=None):
    """Write the HTML report of ``runs`` (``Run`` objects, as ``list_runs`` gives them) to ``path`` atomically and
    return ``path``. Plots: ``metric`` (a key of ``run_compare.METRICS``) on ``align`` (one of ``ALIGNMENTS``), then
    the per-step loss and the validation accuracy when they are not that metric; with ``group_seeds`` the runs that
    differ only in their seed are drawn as their mean with a band of ±1 sample std. A damaged run is a table row
    with the reason and is left out of the plots. ``network_path``: the network file, named in the header."""
    if not runs:
        raise ValueError("a report needs at least one run, and none was given")
    metric_of(metric)
    check_alignment(align)
    rows = [run_row(run) for run in runs]
    settings = varying_settings(rows)
    by_name = {row.name: row for row in rows}
    usable = [run for run, row in zip(runs, rows) if row.status != DAMAGED]
    groups = seed_groups(usable) if group_seeds else [[run] for run in usable]
    left_out = {}
    plots = [_plot(groups, by_name, key, align, settings, left_out) for key in dict.fromkeys((metric, *EXTRA_PLOTS))]
    title = title or _default_title(runs, network_path)
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">', f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>", "</head>", "<body><main>", f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{count} of {html.escape(_source_text(runs, network_path))}; generated locally by '
        f'LayerLab on {html.escape(generated)}. Accuracies are on the validation split unless marked test.</p>',
        "<h2>Runs</h2>", _table_html(rows, settings), _notes_html(rows, left_out), "<h2>Curves</h2>",
        *(_figure_html(label, png) for label, png in plots), "</main></body>", "</html>", ""]
    atomic_write_text(path, "\n".join(parts))
    return path

