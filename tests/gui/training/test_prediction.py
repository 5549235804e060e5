"""The GUI and the command line predict alike, through ``engine.training.predictor``: with a run cut short
(a checkpoint, no final weights) both give the same five classes and probabilities."""

import re

from trained_runs import cut_short_run, noise_image

import main as entry
from engine.graph import save_network


def test_a_run_cut_short_predicts_the_same_in_the_panel_and_the_command_line(make_panel, tmp_path, capsys):
    net_path = tmp_path / "mlp.llnet"
    run, _ = cut_short_run(tmp_path / "mlp.runs" / "20250101-000000")
    network = run.network()
    save_network(network, net_path)
    image = tmp_path / "noise.png"
    noise_image().save(image)

    panel = make_panel(network, path=str(net_path))
    panel.refresh_runs()
    view = panel.runs_view
    view.tree.setCurrentItem(view.tree.topLevelItem(0))
    assert view.predict_button.isEnabled()
    view.predict_button.click()
    predictor = panel.prediction_view.predictor
    assert predictor is not None and predictor.source == f"run {run.name} (from its checkpoint)"
    in_panel = panel.prediction_view.predict_file(str(image))

    capsys.readouterr()
    assert entry.main(["predict", str(net_path), run.folder, str(image)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(image)
    printed = [re.fullmatch(r"\s+([\d.]+) %  (.+)", line).groups() for line in lines[1:]]
    assert [name for _, name in printed] == [name for name, _ in in_panel]
    assert [p for p, _ in printed] == [f"{100 * p:.2f}" for _, p in in_panel]
