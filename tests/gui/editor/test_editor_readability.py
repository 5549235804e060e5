"""Every template opens readable: at the opening zoom the nodes' text is at least 9 pixels on screen and
the nodes show their output shapes; zoomed further out a node shows less, never unreadable text; and no
connection is drawn through a node it does not join."""

import pytest
from PySide6.QtGui import QFontInfo, QPainterPathStroker

from engine.graph.templates import list_templates
from gui.editor.node_item import (
    BOXES,
    FULL,
    OVERVIEW,
    READABLE_PX,
    READABLE_ZOOM,
    NodeItem,
    _text_runs,
    detail_level,
)

TEMPLATES = [t.key for t in list_templates()]


@pytest.mark.parametrize("key", TEMPLATES)
def test_each_template_opens_with_readable_nodes_and_their_shapes(editor, key):
    editor.window.resize(1280, 720)
    editor.new_from_template(key)
    zoom = editor.view.zoom()
    for font in NodeItem.FONTS:
        assert QFontInfo(font).pixelSize() * zoom >= READABLE_PX
    assert detail_level(zoom) == FULL
    visible = editor.view.mapToScene(editor.view.viewport().rect()).boundingRect()
    input_node = editor.document.input_node().id
    assert visible.contains(editor.scene.node_items[input_node].sceneBoundingRect())  # it opens at its start
    for item in editor.scene.node_items.values():
        assert item.face.shape, item.face.name
        assert any(text.endswith(item.face.shape) for *_, text in _text_runs(item.face))


def test_detail_drops_with_the_zoom_but_text_stays_readable():
    assert detail_level(1.0) == detail_level(READABLE_ZOOM) == FULL
    assert detail_level(READABLE_ZOOM * 0.99) == OVERVIEW
    assert detail_level(0.45) == OVERVIEW
    assert detail_level(0.1) == BOXES


@pytest.mark.parametrize("key", TEMPLATES)
def test_no_connection_is_drawn_through_another_node(editor, key):
    editor.new_from_template(key)
    scene = editor.scene
    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    for edge, item in scene.edge_items.items():
        if not item.isVisible():  # inside a collapsed group
            continue
        crossed = [other.node_id for other in scene.items(stroker.createStroke(item.path()))
                   if isinstance(other, NodeItem) and other.isVisible() and other not in (item.src_item, item.dst_item)]
        assert not crossed, (edge, crossed)


def test_a_shortcut_detours_below_the_layers_it_skips(editor):
    editor.new_from_template("resnet_cifar10")
    scene = editor.scene
    for group_id in list(scene.document.groups):  # opened in place, as a double-click does
        assert editor.controller.toggle_fold(group_id) is None
    (shortcut,) = [item for e, item in scene.edge_items.items()
                   if scene.document.nodes[e.src].name == "stem_relu" and scene.document.nodes[e.dst].name ==
                   "block1_add"]
    skipped = scene.node_items[next(n.id for n in scene.document.nodes.values() if n.name == "block1_conv1")]
    assert shortcut.path().boundingRect().bottom() > skipped.sceneBoundingRect().bottom()
