"""Opening time and frames per second of the node editor's canvas over a large network, offscreen.

    python bench/editor_fps.py [--nodes 1000] [--frames 90] [--size 1280x800] [--groups 10]

Saves a CIFAR-shaped network of about ``--nodes`` nodes (residual and concat blocks, from
bench/graph_inference.py) laid out in rows, times opening it in the editor window (File > Open: reading,
inference, the canvas items, the summary), then scripts three camera moves, rendering the canvas into a
pixmap every frame (``viewport().grab()``, the same paint path as the screen):

- pan at the working zoom (1:1, every node with its text),
- pan zoomed out so that the whole network is on screen (every node drawn each frame),
- zoom in and out between the two (the node caches are re-rendered at every new scale).

No edit is made, so no frame re-runs shape inference. Prints the opening time against the target (1 s for
1,000 nodes), frames per second per move and the worst against the 30 fps target.

With ``--groups N`` the layers are grouped N at a time (in topological order) into collapsed groups and laid
out as boxes; the script also times opening one group in place and folding it back (a double-click each).
"""

import argparse
import os
import sys
import tempfile
import time

import common  # noqa: F401  (puts the repository on the import path)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from graph_inference import large_network
from PySide6.QtCore import QSize
from PySide6.QtGui import QTransform

from engine.graph import save_network
from gui.app import create_app
from gui.main_window import MainWindow

TARGET_FPS = 30.0
TARGET_OPEN_S = {1000: 1.0, 10000: 5.0}  # up to that many nodes: the "under a second", "a few"
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
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--size", default="1280x800", help="canvas size in pixels")
    parser.add_argument("--groups", type=int, default=0, help="group the layers this many at a time (0: none)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    app = create_app()
    network = large_network(args.nodes)
    network.move_many(grid_positions(network))
    if args.groups:
        layers = [i for i in network.topological_order() if network.nodes[i].type not in ("Input", "Output")]
        for k in range(0, len(layers), args.groups):
            network.add_group(layers[k:k + args.groups], name=f"part{k // args.groups + 1}")
        network.layout()
    window = MainWindow(recovery_dir=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".bench"))
    window.autosave.timer.stop()
    window.show()
    window.view.setFixedSize(QSize(width, height))
    app.processEvents()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "large.llnet")
        save_network(network, path)
        start = time.perf_counter()
        window.open_file(path)
        app.processEvents()
        open_s = time.perf_counter() - start
    network = window.document
    view = window.view
    inference = network.infer()
    print(f"network: {len(network.nodes)} nodes, {len(network.edges)} edges, {inference.total_params:,} parameters;"
          f" canvas {view.viewport().width()}×{view.viewport().height()} px, {sys.platform}, "
          f"Qt platform {app.platformName()}")

    results = {}
    nodes = window.scene.nodes_rect()
    overview_zoom = min(view.viewport().width() / nodes.width(), view.viewport().height() / nodes.height())
    view.zoom_by(1.0 / view.zoom())
    view.centerOn(window.scene.nodes_rect().topLeft())
    results["pan at 1:1"] = run_move(view, args.frames, lambda k: view.pan_by(24, 6 if k % 30 < 15 else -6))
    view.setTransform(QTransform.fromScale(overview_zoom, overview_zoom))
    view.centerOn(nodes.center())
    results[f"pan, all nodes visible (zoom {overview_zoom:.2f})"] = run_move(
        view, args.frames, lambda k: view.pan_by(8 if k % 20 < 10 else -8, 3))
    factor = (1.0 / overview_zoom) ** (2.0 / args.frames)
    results["zoom in and out"] = run_move(
        view, args.frames, lambda k: view.zoom_by(factor if k < args.frames // 2 else 1.0 / factor))

    if args.groups:
        group_id = next(iter(network.groups))
        for action in ("open a group in place", "fold it back"):
            start = time.perf_counter()
            window.controller.toggle_fold(group_id)
            app.processEvents()
            print(f"{action:<44} {time.perf_counter() - start:>7.2f} s")
    target_open = next((s for n, s in sorted(TARGET_OPEN_S.items()) if args.nodes <= n), max(TARGET_OPEN_S.values()))
    print(f"{'open the file (read, infer, draw)':<44} {open_s:>7.2f} s  (target under {target_open:.0f} s: "
          f"{'met' if open_s < target_open else 'MISSED'})")
    for name, fps in results.items():
        print(f"{name:<44} {fps:>7.1f} fps")
    worst = min(results.values())
    verdict = "met" if worst >= TARGET_FPS else "MISSED"
    print(f"target: at least {TARGET_FPS:.0f} fps in every move: {verdict} (worst {worst:.1f} fps)")
    window.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()
