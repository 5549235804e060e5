"""The app in a throwaway session, for scripts that drive it (screenshots, the real-window smoke test): settings,
runs and crash-recovery files go to a scratch folder, so a person's own are untouched."""

import os
import tempfile
import time

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

from gui.app import create_app
from gui.workbench import create_window


def open_scratch_window(organisation):
    """``(app, window)``: the application and a shown main window whose files all live in a new scratch folder."""
    scratch = tempfile.mkdtemp(prefix="layerlab-session-")
    os.environ["LAYERLAB_RUNS"] = os.path.join(scratch, "runs")
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, os.path.join(scratch, "settings"))
    app = create_app()
    QCoreApplication.setOrganizationName(organisation)
    window = create_window(recovery_dir=os.path.join(scratch, "recovery"))
    window.show()
    return app, window


def wait(app, seconds, until=lambda: False):
    """Process events for up to ``seconds``, or until ``until()`` is true; returns ``until()``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.01)
    return until()
