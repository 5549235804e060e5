"""The app in a real window: on Qt's ``xcb`` platform under Xvfb (not offscreen), the main window opens the LeNet
template, trains 300 steps on the real CIFAR-10 and is grabbed from the X server to PNG; the plots must hold the
run's points and show the loss and gradient-norm curves. The PNG is kept (``$LAYERLAB_SCREENSHOTS`` or the test's
tmp_path) for a person to look at. CI (``CI`` set) fails rather than skips when Xvfb, Qt's libraries or the data
are missing: ``scripts/setup --test`` installs them."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from gui import qt_platform
from gui.training import style

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CIFAR10 = os.path.join(ROOT, "..", "shared", "data", "cifar10")
CHILD = os.path.join(ROOT, "tests", "gui", "real_window_child.py")


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"the real-window test must run in CI: {reason}")
    pytest.skip(reason)


def _colour_count(rgb, colour, tolerance=40):
    c = QColor(colour)
    target = np.array([c.red(), c.green(), c.blue()])
    return int((np.abs(rgb.astype(int) - target).max(axis=2) <= tolerance).sum())


def _rgb(path):
    image = QImage(path).convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return data[:, : image.width(), 2::-1].copy()


def test_real_window_trains_and_shows_live_plots(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("the real-window test drives X11 (Xvfb)")
    if shutil.which("xvfb-run") is None:
        _unavailable("needs Xvfb's xvfb-run (scripts/setup --test installs it)")
    problem = qt_platform.problem({"DISPLAY": ":99"}, sys.platform)
    if problem:
        _unavailable(problem)
    if not os.path.isdir(os.path.join(CIFAR10, "cifar-10-batches-py")):
        _unavailable(f"needs the real CIFAR-10 in {os.path.normpath(CIFAR10)} (../shared beside the project)")
    folder = os.environ.get("LAYERLAB_SCREENSHOTS") or str(tmp_path)
    png, facts_path = os.path.join(folder, "real_window.png"), str(tmp_path / "real_window.json")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, CHILD, os.path.abspath(CIFAR10), png,
         facts_path], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(facts_path, encoding="utf-8") as f:
        facts = json.load(f)
    assert facts["platform"] == "xcb" and facts["exposed"], facts
    assert facts["started"] and facts["ended"] and not facts["banner"], facts
    assert facts["nodes"] == 14 and facts["steps"] == 300
    counts = facts["point_counts"]
    assert counts["loss"] == 300 and counts["smoothed"] == 300 and counts["val_accuracy"] == 1
    assert all(counts[f"grad:{name}"] == 300 for name in ("conv1", "conv2", "fc1", "fc2", "fc3"))

    rgb = _rgb(png)
    assert rgb.shape[:2] == (facts["window"][1], facts["window"][0])
    x, y = facts["plots_origin"]
    _, _, w, h = facts["plots_rect"]
    plots = rgb[y: y + h, x: x + w]
    assert _colour_count(plots, style.TRAIN) > 300, "no loss curve in the grabbed window"
    assert _colour_count(plots, style.layer_color(0)) > 100, "no gradient-norm line in the grabbed window"
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 500, "the window looks blank"
