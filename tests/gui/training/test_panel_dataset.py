"""When the dataset is missing, Start offers the download dialog; choosing a folder that holds the data
stores it in the document's settings and starts the run."""

from panel_support import make_cifar, wait_idle

from engine.graph.templates import load_template


def test_missing_dataset_opens_the_dialog_and_a_chosen_folder_starts_the_run(make_panel, qtbot, tmp_path):
    lenet = load_template("lenet_cifar10")
    empty = tmp_path / "nothing here"
    empty.mkdir()
    lenet.set_settings({"data_dir": str(empty), "epochs": 1, "batch_size": 8})
    panel = make_panel(lenet)
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: panel.download_dialog is not None and panel.download_dialog.isVisible(), timeout=20000)
    dialog = panel.download_dialog
    assert dialog.dataset == "CIFAR-10" and str(empty) in dialog.text.text()
    assert "www.cs.toronto.edu" in dialog.text.text()

    data = make_cifar(str(tmp_path / "cifar"))
    dialog.choose_folder(data)
    qtbot.waitUntil(lambda: panel.controller.run is not None, timeout=20000)
    wait_idle(qtbot, panel)
    assert lenet.settings["data_dir"] == data
    assert panel.controller.last_end.status == "finished" and len(panel.controller.history) == 10  # 80 images / 8
    assert panel.evaluation_view.result.count == 16


def test_declining_the_download_explains_why_nothing_runs(make_panel, qtbot, tmp_path):
    lenet = load_template("lenet_cifar10")
    lenet.set_settings({"data_dir": str(tmp_path)})
    panel = make_panel(lenet)
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: panel.download_dialog is not None and panel.download_dialog.isVisible(), timeout=20000)
    panel.download_dialog.reject()
    wait_idle(qtbot, panel)
    assert panel.banner.isVisible() and "CIFAR-10 is needed" in panel.banner.text()
    assert panel.controller.run is None
