"""Frames per second of the node editor's canvas over a 200-node network, offscreen.

    python bench/editor_fps.py [--nodes 200] [--frames 90] [--size 1280x800]

Opens the editor window with a CIFAR-shaped network of about ``--nodes`` nodes (residual and concat
blocks, from bench/graph_inference.py) laid out in rows, then scripts three camera moves, rendering the
canvas into a pixmap every frame (``viewport().grab()``, the same paint path as the screen):

- pan at the working zoom (1:1, every node with its text),
- pan zoomed out so that the whole network is on screen (all 200 nodes drawn each frame),
- zoom in and out between the two (the node caches are re-rendered at every new scale).

No edit is made, so no frame re-runs shape inference. Prints frames per second per move and the worst
against the 30 fps target.
"""

import argparse
import os
import sys
import time

import common  # noqa: F401  (puts the repository on the import path)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from graph_inference import large_network
from PySide6.QtCore import QSize

from gui.app import create_app
from gui.main_window import MainWindow

TARGET_FPS = 30.0
PER_ROW = 14


def grid_positions(network):
    """Nodes in topological order, in rows of PER_ROW (snaking), like a long network a user wrapped."""
    positions = {}
    for k, node_id in enumerate(network.topological_order()):
        row, col = divmod(k, PER_ROW)
        col = col if row % 2 == 0 else PER_ROW - 1 - col
        positions[node_id] = (col * 240.0, row * 170.0)
    return positions


def run_move(view, frames, step):
    """Render ``frames`` frames, calling ``step(k)`` before each; returns frames per second."""
    view.viewport().grab()  # warm the caches at the starting camera
    start = time.perf_counter()
    for k in range(frames):
        step(k)
        view.viewport().grab()
    return frames / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--size", default="1280x800", help="canvas size in pixels")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    app = create_app()
    network = large_network(args.nodes)
    network.move_many(grid_positions(network))
    window = MainWindow(network, recovery_dir=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".bench"))
    window.autosave.timer.stop()
    window.show()
    window.view.setFixedSize(QSize(width, height))
    app.processEvents()
    view = window.view
    inference = network.infer()
    print(f"network: {len(network.nodes)} nodes, {len(network.edges)} edges, {inference.total_params:,} parameters;"
          f" canvas {view.viewport().width()}×{view.viewport().height()} px, {sys.platform}, "
          f"Qt platform {app.platformName()}")

    results = {}
    view.fit()
    overview_zoom = view.zoom()
    view.zoom_by(1.0 / view.zoom())
    view.centerOn(window.scene.nodes_rect().topLeft())
    results["pan at 1:1"] = run_move(view, args.frames, lambda k: view.pan_by(24, 6 if k % 30 < 15 else -6))
    view.fit()
    results[f"pan, all nodes visible (zoom {overview_zoom:.2f})"] = run_move(
        view, args.frames, lambda k: view.pan_by(8 if k % 20 < 10 else -8, 3))
    factor = (1.0 / overview_zoom) ** (2.0 / args.frames)
    results["zoom in and out"] = run_move(
        view, args.frames, lambda k: view.zoom_by(factor if k < args.frames // 2 else 1.0 / factor))

    for name, fps in results.items():
        print(f"{name:<44} {fps:>7.1f} fps")
    worst = min(results.values())
    verdict = "met" if worst >= TARGET_FPS else "MISSED"
    print(f"target: at least {TARGET_FPS:.0f} fps in every move: {verdict} (worst {worst:.1f} fps)")
    window.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
