"""A fresh window invites rather than scolds: the empty canvas offers the templates and says how to start,
the status bar names the first step in a neutral colour, and the start page goes away as soon as the
network has a node and comes back when it is empty again."""

import pytest
from PySide6.QtCore import QRect, Qt

from engine.graph.templates import list_templates
from gui.editor.start_page import HOW_TO_START, lead


def test_the_empty_window_offers_every_template_and_how_to_start(editor):
    page = editor.view.start_page
    assert page.isVisible()
    assert "palette" in HOW_TO_START and "Tab" in HOW_TO_START and "template" in HOW_TO_START
    assert [(c.title.text(), c.toolTip()) for c in page.cards] == [(t.title, t.description)
                                                                   for t in list_templates()]
    assert editor.view.viewport().rect().contains(page.geometry())


def test_a_card_opens_its_template(editor):
    card = next(c for c in editor.view.start_page.cards if c.key == "mlp_fashion_mnist")
    editor.qtbot.mouseClick(card, Qt.LeftButton)
    assert editor.document.title == "MLP (Fashion-MNIST)" and len(editor.document.nodes) == 9
    assert not editor.view.start_page.isVisible()


def test_the_start_page_goes_with_the_first_node_and_comes_back_when_empty(editor):
    page = editor.view.start_page
    editor.drop_layer("Input", (0.0, 0.0))
    assert not page.isVisible()
    editor.undo_action.trigger()
    assert page.isVisible()
    editor.new_from_template("lenet_cifar10")
    assert not page.isVisible()
    editor.new_blank()
    assert page.isVisible()


def test_the_page_fits_a_small_canvas_by_dropping_detail(editor):
    page = editor.view.start_page
    page.place(editor.view.viewport().rect())
    roomy = page.arrangement
    page.place(editor.view.viewport().rect().adjusted(0, 0, -300, -220))
    assert page.arrangement != roomy


@pytest.mark.parametrize(("width", "height"), [(500, 180), (300, 260), (800, 120)])
def test_on_a_short_canvas_every_template_title_stays_readable(editor, width, height):
    page = editor.view.start_page
    area = QRect(0, 0, width, height)
    page.place(area)
    editor.qtbot.wait(10)
    assert area.contains(page.geometry())
    for card in page.cards:
        assert card.title.height() >= card.title.sizeHint().height(), (page.arrangement, card.key)
        assert card.title.width() >= card.title.sizeHint().width(), (page.arrangement, card.key)


def _summary_problems(editor):
    problems = editor.summary.problems
    return [problems.item(k).text() for k in range(problems.count())]


def test_status_bar_and_summary_invite_on_an_empty_network_and_count_errors_once_building(editor):
    label = editor.problems_label
    assert label.text() == "Empty network: add an Input layer"
    assert "error" not in label.text() and label.styleSheet() == ""  # the palette's own text colour
    assert _summary_problems(editor) == ["Empty network: add an Input layer"]
    editor.drop_layer("Input", (0.0, 0.0))
    assert label.text() == "1 error"  # no Output yet
    assert _summary_problems(editor) == ["the network has no Output node"]


def test_template_leads_are_short():
    assert lead("A small ResNet: a 3×3 stem. More.") == "A small ResNet"
    assert lead("Two words. More.") == "Two words"
    assert lead("No stop at all") == "No stop at all"
    assert all(len(lead(t.description)) <= 45 for t in list_templates())
