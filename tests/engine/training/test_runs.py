"""Run folders: creation and naming, the files a run leaves, run.json, metrics as arrays, listing, damage."""

import json
import os
import re

import numpy as np
import pytest

import engine
import engine.nn as nn
from engine.graph import load_network, network_to_json, save_network
from engine.graph.templates import load_template
from engine.training import RunFileError, StepInfo, Trainer, create_run, list_runs, load_run, runs_folder
from engine.training import runs as runs_module


def blobs(n=96, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = (np.eye(3, 4)[labels] * 3 + rng.standard_normal((n, 4))).astype(np.float32)
    return [(engine.tensor(x[i:i + batch]), engine.tensor(labels[i:i + batch])) for i in range(0, n, batch)]


def trainer_for(run, **kw):
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    return Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), blobs(),
                   blobs(seed=1), callbacks=run.callbacks(), seed=0, num_classes=3, **kw)


@pytest.fixture
def network():
    return load_template("mlp_fashion_mnist")


@pytest.fixture
def net_path(tmp_path, network):
    path = tmp_path / "mlp.llnet"
    save_network(network, path)
    return path


def test_a_new_run_is_a_time_stamped_folder_beside_the_network(net_path, network, monkeypatch):
    class Frozen(runs_module.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2025, 3, 4, 5, 6, 7)

    monkeypatch.setattr(runs_module, "datetime", Frozen)
    first = create_run(network, network_path=net_path)
    second = create_run(network, network_path=net_path)
    parent = net_path.parent / "mlp.runs"
    assert runs_folder(net_path) == str(parent)
    assert (first.folder, second.folder) == (str(parent / "20250304-050607"), str(parent / "20250304-050607-2"))
    assert first.name == "20250304-050607"
    saved = json.loads((parent / "20250304-050607" / "run.json").read_text())
    assert saved["format"] == "layerlab.run" and saved["status"] == "created" and saved["epochs"] == 5
    assert network_to_json(load_network(first.network_path)) == network_to_json(network)


def test_a_given_folder_is_the_run_folder_and_is_not_reused(tmp_path, network):
    run = create_run(network, folder=tmp_path / "mine")
    assert run.folder == str(tmp_path / "mine") and (tmp_path / "mine" / "network.llnet").is_file()
    with pytest.raises(RunFileError, match="already holds a run"):
        create_run(network, folder=tmp_path / "mine")


def test_unsaved_networks_go_to_the_default_runs_folder(tmp_path, network, monkeypatch):
    monkeypatch.setenv("LAYERLAB_RUNS", str(tmp_path / "all"))
    run = create_run(network)
    assert run.folder.startswith(str(tmp_path / "all")) and [r.folder for r in list_runs()] == [run.folder]


def test_callbacks_fill_the_folder_and_record_progress(tmp_path, network):
    run = create_run(network, folder=tmp_path / "r")
    run.classes = ["a", "b", "c"]
    seen = []

    class Watch:
        def on_epoch_end(self, trainer, info):
            seen.append(load_run(run.folder))  # another process reading mid-run sees a whole record

    trainer = trainer_for(run)
    trainer.callbacks.append(Watch())
    info = trainer.fit(2)
    assert info.status == "finished"
    assert [(r.status, r.epochs_completed, r.global_step) for r in seen] == [("running", 1, 6), ("running", 2, 12)]
    run.save_weights(trainer.model)
    run.finish(test_accuracy=0.75)
    loaded = load_run(run.folder)
    assert (loaded.status, loaded.epochs_completed, loaded.global_step, loaded.test_accuracy) == ("finished", 2, 12,
                                                                                                   0.75)
    assert loaded.classes == ["a", "b", "c"] and loaded.images_per_second > 0
    iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
    assert re.fullmatch(iso, loaded.started) and re.fullmatch(iso, loaded.finished)
    assert loaded.has_checkpoint
    state = engine.load_safetensors(loaded.weights_path)
    for key, value in trainer.model.state_dict().items():
        assert np.array_equal(state[key].numpy(), value.numpy())
    metrics = loaded.metrics()
    assert metrics.epochs["epoch"].tolist() == [1, 2]
    assert np.allclose(metrics.epochs["train_loss"], [h.train_loss for h in trainer.history])
    assert np.allclose(metrics.epochs["val_accuracy"], [h.val_accuracy for h in trainer.history])
    assert metrics.steps["global_step"].tolist() == list(range(1, 13))
    assert metrics.steps["epoch"].tolist() == [0] * 6 + [1] * 6  # StepInfo's fields, as the Trainer made them
    assert metrics.steps["step"].tolist() == [*range(1, 7)] * 2 and set(metrics.steps["steps_per_epoch"]) == {6}
    assert metrics.steps["loss"].dtype == np.float64 and np.isfinite(metrics.steps["loss"]).all()


def test_a_stopped_run_keeps_its_checkpoint_and_says_so(tmp_path, network):
    run = create_run(network, folder=tmp_path / "r")

    class StopAtStep3:
        def on_step_end(self, trainer, info):
            if info.global_step == 3:
                trainer.stop()

    trainer = trainer_for(run)
    trainer.callbacks.append(StopAtStep3())
    trainer.fit(5)
    loaded = load_run(run.folder)
    assert (loaded.status, loaded.epochs_completed, loaded.global_step) == ("stopped", 0, 3)
    assert engine.load(loaded.checkpoint_path)["global_step"] == 3
    assert loaded.metrics().steps["global_step"].tolist() == [1, 2, 3]
    assert len(loaded.metrics().epochs["epoch"]) == 0


def test_list_runs_oldest_first_with_damaged_ones_marked(net_path, network):
    first = create_run(network, network_path=net_path)
    second = create_run(network, network_path=net_path)
    first.started, second.started = "2025-01-02T00:00:00+00:00", "2025-01-01T00:00:00+00:00"
    first.save()
    second.save()
    (net_path.parent / "mlp.runs" / "not-a-run").mkdir()
    assert [r.folder for r in list_runs(net_path)] == [second.folder, first.folder]
    with open(second.info_path, "w") as f:
        f.write('{"format": "layerlab.run", "version": 1, "status": "finished", "epochs": "two"')
    runs = list_runs(net_path)
    damaged = next(r for r in runs if r.folder == second.folder)
    assert damaged.status == "damaged" and second.info_path in damaged.message
    assert list_runs(net_path.parent / "other.llnet") == []


@pytest.mark.parametrize(("content", "problem"), [
    ("{", "bad JSON at line 1, column 2"),
    ('{"format": "other"}', "not a LayerLab run record"),
    ('{"format": "layerlab.run", "version": 9}', "version 9 is not one this LayerLab reads"),
    ('{"format": "layerlab.run", "version": 1, "status": "dancing"}', "'status' must be one of"),
    ('{"format": "layerlab.run", "version": 1, "status": "finished", "epochs": 2, "epochs_completed": 2, '
     '"global_step": "x"}', "'global_step' has a bad value 'x'"),
])
def test_damaged_run_json_names_the_file(tmp_path, content, problem):
    (tmp_path / "run.json").write_text(content)
    with pytest.raises(RunFileError) as info:
        load_run(tmp_path)
    assert str(info.value).startswith(str(tmp_path / "run.json")) and problem in str(info.value)


def test_run_files_are_read_within_budgets(tmp_path):
    """Nesting past the parser's stack, integers past Python's digit limit, FIFOs: each a RunFileError naming
    the file, at once."""
    record = {"format": "layerlab.run", "version": 1, "status": "finished", "epochs": 1, "epochs_completed": 1,
              "global_step": 1, "message": "", "classes": []}
    info = tmp_path / "run.json"
    info.write_text(json.dumps({**record, "classes": "X"}).replace('"X"', "[" * 1000 + "]" * 1000))
    with pytest.raises(RunFileError, match=r"run\.json: line 1: nested more than 4 levels deep"):
        load_run(tmp_path)
    info.write_text(json.dumps(record).replace('"global_step": 1', '"global_step": ' + "9" * 5000))
    with pytest.raises(RunFileError, match=r"run\.json: bad JSON: Exceeds the limit"):
        load_run(tmp_path)
    info.write_text(json.dumps(record))
    run = load_run(tmp_path)
    with open(run.steps_path, "w") as f:
        f.write('{"epoch": 0, "step": 1, "loss": ' + "[" * 1000 + "]" * 1000 + "}\n")
    with pytest.raises(RunFileError, match=r"steps\.jsonl: line 1: nested more than 2 levels deep"):
        run.metrics()
    with open(run.steps_path, "w") as f:
        f.write('{"epoch": 1, "step": 1, "loss": 1e999999, "lr": ' + "9" * 400 + "}\n")
    with pytest.raises(RunFileError, match=r"steps\.jsonl: line 1 is not a step record"):
        run.metrics()
    os.remove(run.steps_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(run.steps_path)
        with pytest.raises(RunFileError, match="not a regular file"):
            run.metrics()
        os.remove(info)
        os.mkfifo(info)
        with pytest.raises(RunFileError, match="not a regular file"):
            load_run(tmp_path)


def test_missing_run_folder_or_record(tmp_path):
    with pytest.raises(RunFileError, match="no such run folder"):
        load_run(tmp_path / "absent")
    with pytest.raises(RunFileError, match=r"not a run folder \(it has no run.json\)"):
        load_run(tmp_path)


def test_damaged_metrics_name_the_file_and_line(tmp_path, network):
    run = create_run(network, folder=tmp_path / "r")
    with open(run.metrics_path, "w") as f:
        f.write("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n1,0.5,0.8,nan,nan,0.1,2\n"
                "2,zero,0.8,0.4,0.9,0.1,2\n")
    with pytest.raises(RunFileError, match=r"metrics.csv: line 3: 'zero' is not a number"):
        run.metrics()
    with open(run.metrics_path, "w") as f:
        f.write("epoch,loss\n")
    with pytest.raises(RunFileError, match="metrics.csv: the header must be"):
        run.metrics()


def test_step_log_tolerates_a_cut_last_line_and_keeps_the_latest_repeat(tmp_path, network):
    run = create_run(network, folder=tmp_path / "r")
    with open(run.steps_path, "w") as f:
        for e, s, loss in [(0, 1, 2.0), (0, 2, 1.5), (1, 3, 1.0), (0, 2, 1.4)]:  # resumed from step 1 after step 3
            f.write(json.dumps(vars(StepInfo(e, s - 2 * e, s, 2, loss, 0.1, 100.0, 4))) + "\n")
        f.write('{"epoch": 2, "st')  # then a crash mid-line
    steps = run.metrics().steps
    assert steps["global_step"].tolist() == [1, 2, 3] and steps["loss"].tolist() == [2.0, 1.4, 1.0]
    assert steps["epoch"].dtype == np.int64 and steps["lr"].dtype == np.float64
    with open(run.steps_path, "a") as f:
        f.write("\nnonsense\n")
    with pytest.raises(RunFileError, match=r"steps.jsonl: line 5 is not a step record"):
        run.metrics()


def test_step_logs_of_the_first_format_still_read(tmp_path, network):
    """Before a line was a StepInfo, it held the global step as 'step' and a 1-based epoch."""
    run = create_run(network, folder=tmp_path / "r")
    with open(run.steps_path, "w") as f:
        for e, s in [(1, 1), (1, 2), (2, 3)]:
            f.write(json.dumps({"epoch": e, "step": s, "loss": 1.0, "lr": 0.1, "images_per_second": 100.0}) + "\n")
    steps = run.metrics().steps
    assert steps["global_step"].tolist() == [1, 2, 3] and steps["epoch"].tolist() == [0, 0, 1]


def test_a_run_without_logs_has_empty_metrics(tmp_path, network):
    metrics = create_run(network, folder=tmp_path / "r").metrics()
    assert all(len(v) == 0 for v in metrics.epochs.values()) and all(len(v) == 0 for v in metrics.steps.values())
