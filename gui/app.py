"""Starting the application: ``main([path])`` opens the editor (on ``path`` if given)."""

import sys

from PySide6.QtWidgets import QApplication

from gui import theme
from gui.main_window import APP_NAME
from gui.workbench import create_window


def create_app(argv=None):
    """The QApplication (made once), named for QSettings, in Fusion style with the saved theme."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    app.setOrganizationName(APP_NAME)
    app.setOrganizationDomain("layerlab.org")
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    theme.apply_theme(app, theme.saved_theme())
    return app


def main(argv=None):
    """Run the editor; ``argv`` are the arguments after the program name (a network file to open)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    app = create_app()
    window = create_window()
    window.show()
    restored = window.offer_recovery()
    paths = [a for a in argv if not a.startswith("-")]
    if paths and not restored:
        window.open_file(paths[0])
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
