"""Both themes draw check boxes a person can see: the box's outline stands out from the background it sits on
(in the dark theme Fusion's outline vanished, and the runs list's check boxes could not be seen)."""

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox

from gui import theme


def _rgb(widget):
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return data[:, : image.width(), 2::-1].astype(int)


@pytest.mark.parametrize("name", theme.THEMES)
def test_a_check_box_outline_stands_out_in_each_theme(qapp, qtbot, name):
    theme.apply_theme(qapp, name)
    box = QCheckBox()
    qtbot.addWidget(box)
    box.resize(24, 24)
    rgb = _rgb(box)
    background = rgb[0, -1]  # the corner beyond the indicator
    contrast = np.abs(rgb - background).sum(axis=2)
    assert contrast.max() >= 120, f"{name}: the check box is hardly visible (contrast {contrast.max()})"
