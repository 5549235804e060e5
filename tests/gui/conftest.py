"""Qt tests run offscreen, each with its own QSettings (a fresh organisation name and an INI folder in the
test's tmp_path), so no test sees another's recent files, theme or window layout."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import

import threading
import uuid

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

from gui import theme
from gui.workbench import create_window


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path):
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QCoreApplication.setOrganizationName(f"LayerLabTest-{uuid.uuid4().hex[:12]}")
    QCoreApplication.setApplicationName("LayerLab")
    theme.apply_theme(qapp, "light")
    yield QSettings()


@pytest.fixture
def workbench_window(qtbot, tmp_path, monkeypatch):
    """The window ``python main.py`` shows (editor and training panel) at 1280×720, its runs and crash-recovery
    files in the test's folder and its dialogs answered; at the end its run stops and no training thread is left."""
    monkeypatch.setenv("LAYERLAB_RUNS", str(tmp_path / "runs"))
    window = create_window(recovery_dir=str(tmp_path / "recovery"))
    window.show_error = lambda title, message: None
    window.ask_save_changes = lambda: "discard"
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    yield window
    window.training_panel.shutdown()
    assert not [t for t in threading.enumerate() if t.name == "layerlab-training" and t.is_alive()]
