"""The report's plots as PNG bytes: curves overlaid on one axis, a run's line or a seed group's mean with a band of
±1 sample standard deviation. Drawn with matplotlib's ``Figure`` on an Agg canvas: no window, no pyplot and no
global backend, so this is safe beside the Qt GUI and in any thread. matplotlib is imported when a report is drawn,
not with this module: every ``main.py`` process (each sweep worker too) imports the report command, and
matplotlib's import costs about a third of a second."""

import io
from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT, DPI = 900, 360, 100
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")  # matplotlib's tab10


@dataclass
class Line:
    label: str
    x: np.ndarray
    y: np.ndarray
    spread: np.ndarray | None = None  # ±spread drawn as a band around y (a seed group's std)


def overlay_png(lines, title, xlabel, ylabel, log_scale=False, empty_text="no data"):
    """A ``WIDTH``×``HEIGHT`` PNG of ``lines`` (``Line``) on one axis with a legend and a grid; ``empty_text`` in
    the middle when there are no lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=12)
    axes.set_xlabel(xlabel, fontsize=10)
    axes.set_ylabel(ylabel, fontsize=10)
    axes.grid(True, alpha=0.3)
    for k, line in enumerate(lines):
        color = COLORS[k % len(COLORS)]
        axes.plot(line.x, line.y, color=color, linewidth=1.6, label=line.label.replace("$", r"\$"))  # not TeX
        if line.spread is not None:
            axes.fill_between(line.x, line.y - line.spread, line.y + line.spread, color=color, alpha=0.2,
                              linewidth=0)
    if lines:
        if log_scale and any(np.any(line.y > 0) for line in lines):
            axes.set_yscale("log")
        axes.legend(fontsize=8, ncol=1 + (len(lines) - 1) // 8, loc="best", framealpha=0.8)
    else:
        axes.text(0.5, 0.5, empty_text, ha="center", va="center", transform=axes.transAxes, fontsize=11,
                  color="#666666")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
