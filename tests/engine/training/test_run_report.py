"""The HTML report of runs: one self-contained file (a table of settings and results, plots as embedded PNGs),
every user string escaped, no address outside the file, damaged runs listed but not drawn, written atomically."""

import base64
import io
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from run_support import train_run

from engine.graph.templates import load_template
from engine.training import list_runs
from engine.training.report_plots import HEIGHT, WIDTH, Line, overlay_png
from engine.training.run_notes import RunNotes, save_notes
from engine.training.run_report import write_report

PNG_PREFIX = "data:image/png;base64,"


class ReportParser(HTMLParser):
    """The report's table (header and rows of cell texts), images and any script or link elements."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self.images, self.forbidden = [], [], [], []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._cell = []
        elif tag == "tr":
            self.rows.append([])
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag in ("script", "link", "iframe", "object"):
            self.forbidden.append(tag)

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parser = ReportParser()
    parser.feed(text)
    parser.headers, parser.rows = parser.rows[0], parser.rows[1:]
    return text, parser


def png_size(src):
    assert src.startswith(PNG_PREFIX)
    image = Image.open(io.BytesIO(base64.b64decode(src[len(PNG_PREFIX):], validate=True)))
    assert image.format == "PNG"
    return image.size


def test_a_report_of_runs_with_seeds_and_a_damaged_run(net_path, tmp_path):
    network = load_template("lenet_cifar10")
    seeds = [train_run(network, net_path, epochs=2, lr=0.1, seed=s) for s in (1, 2)]
    other = train_run(network, net_path, epochs=2, lr=0.3, seed=1)
    hostile = train_run(network, net_path, epochs=2, lr=0.3, seed=7)
    named = hostile.folder + "<script>alert(1)"
    os.rename(hostile.folder, named)
    broken = train_run(network, net_path, epochs=2, lr=0.05, seed=1)
    with open(broken.metrics_path, "w") as f:
        f.write("not,a,header\n")
    runs = list_runs(net_path)
    assert len(runs) == 5
    out = tmp_path / "out" / "report.html"
    assert write_report(out, runs, network_path=str(net_path)) == out
    assert os.listdir(out.parent) == ["report.html"]  # written whole, no temporary left

    text, report = parse(out)
    assert report.forbidden == [] and "<script>" not in text
    outside = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(?i)(https?:|//|url\(|href|@import)", outside)  # nothing but the file itself
    assert "&lt;script&gt;alert(1)" in text
    assert report.headers == ["run", "status", "lr", "seed", "best val (epoch)", "final val", "test", "img/s",
                              "time"]
    by_name = {row[0]: row for row in report.rows}
    assert list(by_name) == [r.name for r in runs]
    for run in [*seeds, other]:
        accuracy = run.epoch_metrics()["val_accuracy"]
        row = by_name[run.name]
        assert row[1] == "finished" and row[3] == str(run.network().settings["seed"])
        assert row[4] == f"{100 * accuracy.max():.2f}% ({int(np.argmax(accuracy)) + 1})"
        assert row[5] == f"{100 * accuracy[-1]:.2f}%" and row[6] == "50.00%"
    assert [by_name[r.name][2] for r in [*seeds, other]] == ["0.1", "0.1", "0.3"]
    assert by_name[broken.name][1] == "damaged" and "metrics.csv: the header must be" in text
    assert text.count('class="notes"') == 1

    assert len(report.images) == 2  # validation accuracy, then the per-step loss
    for image in report.images:
        assert png_size(image["src"]) == (WIDTH, HEIGHT) == (900, 360)
    assert report.images[0]["alt"] == "validation accuracy"


def test_the_chosen_metric_comes_first_and_seeds_can_be_drawn_apart(net_path, tmp_path):
    network = load_template("lenet_cifar10")
    runs = [train_run(network, net_path, epochs=1, seed=s) for s in (1, 2)]
    with open(runs[1].steps_path, "a") as f:
        f.write("{cut\n")
    out = tmp_path / "report.html"
    write_report(out, runs, metric="health:grad_norm", align="time", title="A <b>title</b>", group_seeds=False)
    text, report = parse(out)
    assert [row[1] for row in report.rows] == ["finished", "finished"]
    assert f"<b>{runs[1].name}</b>: left out of the plots: {runs[1].steps_path}: line" in text
    assert [i["alt"] for i in report.images] == ["gradient norm (median over layers)", "training loss (per step)",
                                                 "validation accuracy"]
    assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in text and "generated locally" in text
    assert all(png_size(i["src"]) == (WIDTH, HEIGHT) for i in report.images)


def test_bad_requests_are_refused(net_path, tmp_path):
    with pytest.raises(ValueError, match="at least one run"):
        write_report(tmp_path / "r.html", [])
    run = train_run(load_template("lenet_cifar10"), net_path, epochs=1)
    with pytest.raises(ValueError, match="unknown metric 'acc'"):
        write_report(tmp_path / "r.html", [run], metric="acc")
    with pytest.raises(ValueError, match="unknown alignment 'wall'"):
        write_report(tmp_path / "r.html", [run], align="wall")
    assert not os.path.exists(tmp_path / "r.html")


def test_a_plot_draws_lines_and_bands():
    x = np.linspace(0, 1, 50)
    band = Image.open(io.BytesIO(overlay_png([Line("a", x, x, np.full(50, 0.3))], "t", "x", "y")))
    thin = Image.open(io.BytesIO(overlay_png([Line("a", x, x)], "t", "x", "y")))
    assert band.size == thin.size == (WIDTH, HEIGHT)
    colored = [np.count_nonzero(np.ptp(np.asarray(i.convert("RGB"), np.int16), axis=2) > 15) for i in (band, thin)]
    assert colored[0] > 3 * colored[1]  # the band fills the area around the line
    assert Image.open(io.BytesIO(overlay_png([], "t", "x", "y"))).size == (WIDTH, HEIGHT)


def test_titles_tags_and_notes_are_in_the_table_legends_and_notes(net_path, tmp_path):
    network = load_template("lenet_cifar10")
    titled, plain = (train_run(network, net_path, epochs=2, lr=lr) for lr in (0.01, 0.1))
    save_notes(titled.folder, RunNotes(r"$\frac$ <baseline>", ["keep"], "first try"))
    path = write_report(tmp_path / "report.html", list_runs(net_path), metric="loss", align="step")
    text, report = parse(path)
    assert [row[0] for row in report.rows] == [r"$\frac$ <baseline>", plain.name]
    assert "&lt;baseline&gt;" in text and "<baseline>" not in text
    assert f"folder {titled.name} · tags: keep · first try" in text
    assert all(png_size(image["src"]) == (WIDTH, HEIGHT) for image in report.images)  # the $ drew as text
