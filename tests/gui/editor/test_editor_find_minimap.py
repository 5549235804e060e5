"""Large networks: Find (Ctrl+F) lists the nodes by name or type and shows the chosen one, selected and
readable; the minimap appears while the network does not fit, follows the view, and moves it when clicked."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from engine.graph import Network
from gui.theme import category_colour


def long_chain(count=60):
    network = Network("chain")
    with network.batch():
        previous = network.add_node("Input", {"shape": (3, 8, 8), "dataset": "Image folder"}).id
        for k in range(count):
            node = network.add_node("ReLU" if k % 2 else "Conv2d", {} if k % 2 else {"out_channels": 3,
                                                                                     "padding": (1, 1)})
            network.connect(previous, node.id)
            previous = node.id
    network.layout()
    return network


def test_find_lists_matching_nodes_and_shows_the_choice(editor):
    editor.window._replace_document(long_chain(), None)
    editor.find_action.trigger()
    popup = editor.view.search
    assert popup.isVisible() and popup.title.text() == "Find a layer"
    popup.field.setText("relu4")
    names = [editor.document.nodes[i].name for i in popup.shown_types()]
    assert names[0] == "relu4" and all("relu" in n for n in names)
    popup.field.setText("conv2d")  # by type
    assert {editor.document.nodes[i].type for i in popup.shown_types()} == {"Conv2d"}
    popup.field.setText("relu30")
    popup.accept_current()
    chosen = editor.document.node_by_name("relu30").id
    assert editor.scene.selected_node_ids() == [chosen]
    visible = editor.view.mapToScene(editor.view.viewport().rect()).boundingRect()
    assert visible.contains(editor.scene.node_items[chosen].sceneBoundingRect().center())


def test_the_minimap_shows_only_while_the_network_does_not_fit(editor):
    minimap = editor.view.minimap
    editor.window._replace_document(long_chain(2), None)
    editor.view.fit()
    assert not minimap.isVisible()  # the whole network is on screen
    editor.window._replace_document(long_chain(), None)
    editor.view.fit()
    assert minimap.isVisible()
    editor.minimap_action.setChecked(False)
    assert not minimap.isVisible()
    editor.minimap_action.setChecked(True)
    assert minimap.isVisible()


def test_clicking_the_minimap_moves_the_canvas_there(editor):
    editor.window._replace_document(long_chain(), None)
    editor.view.fit()
    minimap = editor.view.minimap
    before = editor.view.mapToScene(editor.view.viewport().rect().center())
    QTest.mouseClick(minimap, Qt.LeftButton, pos=QPoint(minimap.width() - 8, minimap.height() // 2))
    after = editor.view.mapToScene(editor.view.viewport().rect().center())
    nodes = editor.scene.nodes_rect()
    assert after.x() > before.x() + nodes.width() / 2
    assert abs(after.x() - nodes.right()) < nodes.width() * 0.1


def test_the_minimap_draws_each_node_in_its_category_colour(editor):
    editor.window._replace_document(long_chain(), None)
    editor.view.fit()
    minimap = editor.view.minimap
    image = minimap.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(minimap.width()) for y in range(minimap.height())}
    assert category_colour("Convolution").name() in colours and category_colour("Activation").name() in colours
