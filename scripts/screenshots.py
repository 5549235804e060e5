"""Render LayerLab's main views to PNG for a person to look at: both themes, at 1280×720 and 1024×640.

    python scripts/screenshots.py [OUT_DIR] [--data ../shared/data/cifar10] [--steps 300]

Opens the real window (offscreen unless ``QT_QPA_PLATFORM`` says otherwise), shows the empty start, opens the
LeNet template, trains it for a few hundred steps on CIFAR-10 and saves, per theme and size: the empty window,
the editor, the live plots, the evaluation, the prediction and runs tabs, and the export dialog. Settings and
runs go to a temporary folder, so the user's own are untouched.
"""

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PySide6.QtWidgets import QApplication

from gui.scratch_session import open_scratch_window, wait

SIZES = ((1280, 720), (1024, 640))


def save(widget, folder, name):
    path = os.path.join(folder, f"{name}.png")
    widget.grab().save(path)
    print(path)


def render(app, window, out, theme_name, size, data, steps):
    tag = f"{theme_name}_{size[0]}x{size[1]}"
    window.set_theme(theme_name)
    window.resize(*size)
    window.new_blank()
    wait(app, 0.2)
    save(window, out, f"empty_{tag}")
    window.new_from_template("lenet_cifar10")
    window.document.set_settings({"data_dir": data, "train_limit": 4 * steps, "epochs": 1})
    wait(app, 0.2)
    save(window, out, f"editor_{tag}")
    panel = window.training_panel
    panel.start_action.trigger()
    wait(app, 120, lambda: len(panel.controller.history) >= steps // 2)
    panel.tabs.setCurrentWidget(panel.plots)
    wait(app, 0.5)
    save(window, out, f"training_{tag}")
    wait(app, 300, lambda: not panel.controller.busy)
    wait(app, 0.3)
    save(window, out, f"plots_done_{tag}")
    for view, name in ((panel.evaluation_view, "evaluation"), (panel.prediction_view, "prediction"),
                       (panel.runs_view, "runs")):
        panel.tabs.setCurrentWidget(view)
        wait(app, 0.3)
        save(window, out, f"{name}_{tag}")
    dialog = panel.open_export_dialog()
    wait(app, 0.3)
    save(dialog, out, f"export_{tag}")
    dialog.reject()
    window.undo_stack.setClean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="/tmp/layerlab-screens")
    parser.add_argument("--data", default=os.path.join("..", "shared", "data", "cifar10"))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--themes", default="light,dark")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    app, window = open_scratch_window("LayerLabScreens")
    for theme_name in args.themes.split(","):
        for size in SIZES:
            render(app, window, args.out, theme_name, size, os.path.abspath(args.data), args.steps)
    window.close()
    QApplication.processEvents()


if __name__ == "__main__":
    main()
