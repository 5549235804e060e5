"""Screenshots of the window with a template open, saved as PNG for a person to look at (under the test's
tmp_path, and also in $LAYERLAB_SCREENSHOTS when set), and checked not to be blank: the canvas shows
nodes in their category colours with text on them, and the docks are filled."""

import os

import pytest
from PySide6.QtGui import QColor

from gui.theme import CATEGORY_COLOURS


def _render(editor, key, select, zoom, path):
    editor.window.resize(1600, 960)
    editor.new_from_template(key)
    group = editor.document.group_of(select)
    if group is not None and group.collapsed:  # opened in place, as a double-click does
        assert editor.controller.toggle_fold(group.id) is None
    editor.select_node(select)
    editor.view.zoom_by(zoom / editor.view.zoom())
    editor.view.centerOn(editor.scene.node_items[select].sceneBoundingRect().center())
    editor.qtbot.wait(50)
    image = editor.window.grab().toImage()
    assert image.save(str(path))
    if os.environ.get("LAYERLAB_SCREENSHOTS"):
        image.save(os.path.join(os.environ["LAYERLAB_SCREENSHOTS"], path.name))
    return image


def _colours(image, rect):
    return {image.pixelColor(x, y).name() for x in range(rect.left(), rect.right(), 2)
            for y in range(rect.top(), rect.bottom(), 2)}


def _near(colours, wanted, tolerance=12):
    target = QColor(wanted)
    return any(abs(QColor(c).red() - target.red()) + abs(QColor(c).green() - target.green())
               + abs(QColor(c).blue() - target.blue()) <= tolerance for c in colours)


@pytest.mark.parametrize(("key", "select", "zoom", "categories"), [
    ("lenet_cifar10", "n3", 0.8, ("Convolution", "Pooling", "Activation", "Input/Output")),
    ("resnet_cifar10", "n19", 0.7, ("Convolution", "Normalisation", "Merge", "Activation")),
])
def test_window_screenshot(editor, tmp_path, key, select, zoom, categories):
    path = tmp_path / f"editor_{key.split('_')[0]}.png"
    image = _render(editor, key, select, zoom, path)
    assert os.path.getsize(path) > 20_000
    view = editor.view
    canvas = view.viewport().rect().translated(view.viewport().mapTo(editor.window, view.viewport().rect().topLeft()))
    colours = _colours(image, canvas)
    assert len(colours) > 200, "the canvas looks blank"
    for category in categories:
        assert _near(colours, CATEGORY_COLOURS[category]), f"no {category} node is visible"
    assert editor.inspector.heading.text() and editor.summary.table.rowCount() == len(editor.document.nodes)
