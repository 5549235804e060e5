"""LayerLab's entry point: with no arguments (or just a network file) it opens the app; sub-commands
(train, eval, summary, export, predict, import, lr-find, check, runs, sweep) run headless. ``python main.py --help``
lists them."""

import sys

from engine.graph.fileformat import EXTENSIONS
from gui import qt_platform


def open_gui(argv):
    """Start the GUI on ``argv`` (empty, or a network file); without PySide6, the system libraries Qt needs or a
    display, say why (and how to fix it) instead of letting Qt abort."""
    message = qt_platform.problem()
    if message:
        print(message, file=sys.stderr)
        return 1
    try:
        from gui.app import main as gui_main
    except ImportError as e:
        import cli

        cli.build_parser().print_help()
        print(f"\n{cli.PROG}: the GUI is unavailable ({e}); use one of the commands above.", file=sys.stderr)
        return 1
    return gui_main(argv)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (len(argv) == 1 and argv[0].lower().endswith(EXTENSIONS)):
        return open_gui(argv)
    import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
