"""Qt tests run offscreen, each with its own QSettings (a fresh organisation name and an INI folder in the
test's tmp_path), so no test sees another's recent files, theme or window layout."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import

import uuid

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

from gui import theme


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path):
    QStandardPaths.setTestModeEnabled(True)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QCoreApplication.setOrganizationName(f"LayerLabTest-{uuid.uuid4().hex[:12]}")
    QCoreApplication.setApplicationName("LayerLab")
    theme.apply_theme(qapp, "light")
    yield QSettings()
