"""The GUI's cost on training speed: the LeNet template on real CIFAR-10 (batch 4, as in the template),
trained headless as the command line does (``prepare_training``, the console progress bar and a run folder),
and inside the training panel (offscreen, with its live plots redrawn from their timer), alternately.

    python bench/gui_training.py [--images 10000] [--rounds 3] [--data /work/shared/data/cifar10] [--health]

Prints images/s of the training steps of each run (data loading and evaluation excluded), the best of each
side and the ratio panel/headless; the target is at least 0.90. With ``--health`` it compares, in the panel and
headless alike, the layers' health recorded (the document's default) with it off; the target is at least 0.95.

OpenBLAS runs single-threaded here unless OPENBLAS_NUM_THREADS is set, so the ratio is not noise (bench/NOTES.md).
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS


class StepClock:
    """Trainer callback: images per second from the start of ``fit`` to the last training step."""

    def on_fit_start(self, trainer):
        self.start, self.end, self.images = time.perf_counter(), None, 0

    def on_step_end(self, trainer, info):
        self.images += info.batch_size
        self.end = time.perf_counter()

    @property
    def images_per_second(self):
        return self.images / (self.end - self.start)


def network(images, data, health=True):
    from engine.graph.templates import load_template

    net = load_template("lenet_cifar10")
    net.set_settings({"train_limit": images, "epochs": 1, "data_dir": data,
                      **({} if health else {"health_every": 0})})
    return net


def headless(images, data, health=True):
    """As ``main.py train`` runs it: console progress and a run folder (metrics, checkpoint, run.json)."""
    from engine.training import ConsoleProgress
    from engine.training.recipe import prepare_training
    from engine.training.runs import create_run

    clock = StepClock()
    net = network(images, data, health)
    run = create_run(net)
    setup = prepare_training(net, callbacks=[ConsoleProgress(), *run.callbacks(), clock])
    setup.trainer.fit(1)
    return clock.images_per_second


def in_panel(app, images, data, health=True):
    from PySide6.QtCore import QEventLoop

    from gui.training import TrainingPanel

    panel = TrainingPanel(network(images, data, health))
    panel.resize(1400, 820)
    panel.show()
    clock = StepClock()
    panel.controller.extra_callbacks = (clock,)
    loop = QEventLoop()
    panel.controller.finished.connect(loop.quit)
    panel.controller.errorOccurred.connect(lambda text: print(text, file=sys.stderr))
    panel.start_action.trigger()
    loop.exec()
    points = panel.plots.point_counts()
    if health and not len(panel.controller.health):
        raise RuntimeError("the panel received no health records")
    panel.shutdown()
    panel.deleteLater()
    if not points["loss"]:
        raise RuntimeError("the panel's plots received no points")
    return clock.images_per_second


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000, help="training images per run (train_limit)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating headless/panel rounds")
    parser.add_argument("--data", default="/work/shared/data/cifar10", help="folder holding cifar-10-batches-py")
    parser.add_argument("--health", action="store_true", help="compare health recording on and off instead")
    args = parser.parse_args(argv)
    os.environ["LAYERLAB_RUNS"] = tempfile.mkdtemp(prefix="layerlab-bench-runs-")

    from PySide6.QtWidgets import QApplication

    import gui.training  # its PySide6 guard, before anything paints

    app = QApplication.instance() or QApplication([])
    if args.health:
        compare_health(app, args)
        return
    best_cli = best_gui = 0.0
    for round_ in range(1, args.rounds + 1):
        cli = headless(args.images, args.data)
        gui = in_panel(app, args.images, args.data)
        best_cli, best_gui = max(best_cli, cli), max(best_gui, gui)
        print(f"round {round_}: headless {cli:,.0f} images/s   panel {gui:,.0f} images/s", flush=True)
    print(f"LeNet on CIFAR-10, batch 4, {args.images} images: headless {best_cli:,.0f} images/s, "
          f"in the panel {best_gui:,.0f} images/s, ratio {best_gui / best_cli:.2f} (target >= 0.90)")


def compare_health(app, args):
    best = {}
    for round_ in range(1, args.rounds + 1):
        speeds = {}
        for where, train in (("headless", lambda h: headless(args.images, args.data, h)),
                             ("panel", lambda h: in_panel(app, args.images, args.data, h))):
            for health in (False, True):
                speeds[where, health] = train(health)
                best[where, health] = max(best.get((where, health), 0.0), speeds[where, health])
        print(f"round {round_}: " + "   ".join(f"{where} health {'on' if h else 'off'} {v:,.0f}"
                                                 for (where, h), v in speeds.items()), flush=True)
    for where in ("headless", "panel"):
        print(f"LeNet on CIFAR-10, batch 4, {args.images} images, {where}: health off {best[where, False]:,.0f} "
              f"images/s, on {best[where, True]:,.0f} images/s, ratio {best[where, True] / best[where, False]:.3f} "
              "(target >= 0.95)")


if __name__ == "__main__":
    main()
