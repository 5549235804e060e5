"""The real-window smoke run, in its own process on Qt's real ``xcb`` platform (``test_real_window.py`` starts it
under Xvfb): open the main window, open the LeNet template, train a few hundred steps on CIFAR-10, grab the window
from the X server to PNG and write what it saw as JSON.

    python tests/gui/real_window_child.py DATA_DIR OUT_PNG OUT_JSON
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from gui.scratch_session import open_scratch_window, wait

STEPS = 300  # batch 4 on 1,200 images
TIMEOUT = 300  # seconds for the run, evaluation included


def main(data_dir, png_path, json_path):
    app, window = open_scratch_window("LayerLabRealWindowTest")
    window.resize(1280, 720)
    exposed = QTest.qWaitForWindowExposed(window, 10000)
    window.new_from_template("lenet_cifar10")
    window.document.set_settings({"data_dir": data_dir, "train_limit": 4 * STEPS, "epochs": 1})
    panel = window.training_panel
    panel.start_action.trigger()
    started = wait(app, 30, lambda: panel.controller.busy or len(panel.controller.history) > 0)
    ended = wait(app, TIMEOUT, lambda: not panel.controller.busy)
    panel.tabs.setCurrentWidget(panel.plots)
    panel.plots.refresh()
    wait(app, 0.5)
    screen = window.screen()
    saved = screen.grabWindow(window.winId()).save(png_path)
    facts = {
        "platform": QGuiApplication.platformName(), "exposed": exposed, "started": started, "ended": ended,
        "saved": saved, "steps": len(panel.controller.history), "point_counts": panel.plots.point_counts(),
        "nodes": len(window.document.nodes), "banner": panel.banner.text(),
        "window": [window.width(), window.height()], "device_pixel_ratio": window.devicePixelRatio(),
        "plots_rect": list(panel.plots.graphics.geometry().getRect()),
        "plots_origin": [panel.plots.graphics.mapTo(window, panel.plots.graphics.rect().topLeft()).x(),
                         panel.plots.graphics.mapTo(window, panel.plots.graphics.rect().topLeft()).y()],
    }
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(facts, f)
    window.undo_stack.setClean()
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
