"""Small screens: the application window fits 1024×640, and at 1280×720 (and after shrinking to 1024×640) the
canvas keeps a useful share of it rather than a strip between the docks."""

from gui.workbench import create_window


def test_the_window_fits_small_screens_and_the_canvas_keeps_its_share(qtbot, tmp_path):
    window = create_window(recovery_dir=str(tmp_path / "recovery"))
    qtbot.addWidget(window)
    window.show()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640
    for width, height in ((1280, 720), (1024, 640)):
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width, h=height: (window.width(), window.height()) == (w, h))
        qtbot.wait(20)
        canvas = window.view
        assert canvas.width() >= 0.45 * width and canvas.height() >= 0.4 * height, (width, height)
        assert window.layer_palette.height() >= 0.3 * height  # more than a few entries of the palette
    window.training_dock.raise_()  # the training panel under the canvas
    qtbot.wait(20)
    panel = window.training_panel
    assert panel.width() <= window.width() and panel.settings_form.width() >= panel.settings_form.minimumWidth()
    window.close()


def test_the_first_run_window_fits_the_screen(qtbot, tmp_path):
    window = create_window(recovery_dir=str(tmp_path / "recovery"))
    qtbot.addWidget(window)
    free = window.screen().availableGeometry()  # the offscreen screen: 800×800, smaller than the default size
    assert free.width() < 1440
    assert window.width() <= free.width() and window.height() <= free.height()
    assert free.contains(window.frameGeometry().topLeft())
