"""Sweeps without processes: the ``--set`` space against the settings' ParamSpecs, grid order, reproducible random
and TPE search, the sweep record's round trip and resume, pruning and the best trial."""

import json
import math
import os
from pathlib import Path

import pytest

from engine.training.runs import runs_folder
from engine.training.sweep_record import SweepFileError, Trial, create_sweep, load_sweep, sweeps_folder
from engine.training.sweep_search import Search
from engine.training.sweep_space import SweepSpaceError, grid, parse_dimension, parse_space


def test_values_are_typed_by_the_settings_specs():
    assert parse_dimension("lr=0.01,0.05,1e-1").values == (0.01, 0.05, 0.1)
    batch = parse_dimension("batch-size=64,128").values
    assert batch == (64, 128) and all(type(v) is int for v in batch)
    assert parse_dimension("optimizer=sgd,ADAM").values == ("SGD", "Adam")
    assert parse_dimension("nesterov=true,no").values == (True, False)
    lr = parse_dimension("lr=1e-4:1e-1:log")
    assert (lr.low, lr.high, lr.log, lr.is_range) == (1e-4, 0.1, True, True)
    assert parse_dimension("batch_size=32:256").distribution().low == 32


@pytest.mark.parametrize("text, message", [
    ("lr=0.01,20", "--set lr=0.01,20: 'lr' must be between 1e-08 and 10, got 20"),
    ("lr=abc", "'lr' must be a number between 1e-08 and 10, got 'abc'"),
    ("batch_size=64,1.5", "'batch_size' must be a whole number between 1 and 65536, got '1.5'"),
    ("optimizer=SGD,Lion", "'optimizer' must be one of 'SGD', 'Adam', 'AdamW', 'RMSprop', got 'Lion'"),
    ("learning_rate=0.1", "'learning_rate' is not a training setting"),
    ("milestones=3", "'milestones' cannot be swept"),
    ("lr=0.1:0.01", "the range's low end 0.1 must be below its high end 0.01"),
    ("optimizer=SGD:Adam", "'optimizer' is a choice setting: list its values, not a range"),
    ("lr=0.1,0.1", "0.1 is listed more than once"),
    ("lr=0.1:1:lin", "a range is LOW:HIGH or LOW:HIGH:log"),
    ("lr", "expected NAME=V1,V2,... or NAME=LOW:HIGH[:log]"),
])
def test_bad_settings_are_named_with_what_is_wrong(text, message):
    with pytest.raises(SweepSpaceError, match="^--set") as error:
        parse_dimension(text)
    assert message in str(error.value)


def test_a_setting_given_twice_or_none_is_refused():
    with pytest.raises(SweepSpaceError, match="lr is given more than once"):
        parse_space(["lr=0.1", "lr=0.2"])
    with pytest.raises(SweepSpaceError, match="at least one"):
        parse_space([])


def test_grid_has_every_combination_in_order():
    points = grid(parse_space(["lr=0.01,0.1", "batch_size=64,128,256"]))
    assert points == [{"lr": lr, "batch_size": b} for lr in (0.01, 0.1) for b in (64, 128, 256)]
    with pytest.raises(SweepSpaceError, match="lr=0.0001:0.1:log is a range"):
        grid(parse_space(["lr=1e-4:1e-1:log"]))


def run_sequentially(sweep, score=lambda settings: -abs(math.log10(settings["lr"]) + 2)):
    """Run every trial of ``sweep`` one at a time with a made-up score; the settings chosen."""
    search = Search(sweep)
    while (trial := search.next_trial(0)) is not None:
        trial.scores, trial.state = [score(trial.settings)], "finished"
        search.tell(trial)
    return [t.settings for t in sweep.trials]


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_random_and_tpe_are_reproducible_with_a_seed(tmp_path, method):
    space = ["lr=1e-4:1e-1:log", "batch_size=32:256", "optimizer=SGD,Adam"]
    chosen = [run_sequentially(create_sweep(tmp_path / "net.llnet", parse_space(space), method=method, seed=seed,
                                            trials_budget=12)) for seed in (3, 3, 4)]
    assert chosen[0] == chosen[1] != chosen[2]
    assert len(chosen[0]) == 12 and len({tuple(s.values()) for s in chosen[0]}) == 12
    for settings in chosen[0]:
        assert 1e-4 <= settings["lr"] <= 0.1 and type(settings["batch_size"]) is int
        assert 32 <= settings["batch_size"] <= 256 and settings["optimizer"] in ("SGD", "Adam")


def test_the_record_round_trips_and_names_run_folders_of_the_network(tmp_path):
    net = tmp_path / "net.llnet"
    sweep = create_sweep(net, parse_space(["lr=0.01,0.1", "nesterov=true,false"]), method="grid", seed=5,
                         trials_budget=3, minutes=2.5, options={"epochs": 1, "limit": 40, "data": None})
    assert os.path.dirname(sweep.folder) == sweeps_folder(net) == str(tmp_path / "net.sweeps")
    run_sequentially(sweep, score=lambda s: 0.5)
    sweep.trials[1].scores = [0.25, math.nan, 0.75]
    sweep.trials[2].state, sweep.trials[2].message = "failed", "diverged"
    sweep.save()
    back = load_sweep(sweep.folder)
    assert back == sweep
    assert [os.path.dirname(t.run) for t in back.trials] == [runs_folder(net)] * 3
    assert os.path.basename(back.trials[0].run) == f"sweep-{sweep.name}-1"
    assert back.trials[1].score == 0.75


def test_a_damaged_record_is_named(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.1"]))
    run_sequentially(sweep)
    sweep.save()
    record = Path(sweep.path)
    data = json.loads(record.read_text())
    data["trials"][0]["settings"]["lr"] = 0.5
    record.write_text(json.dumps(data))
    with pytest.raises(SweepFileError, match=r"sweep\.json: trial 1: 'lr' = 0.5 is not in the swept lr=0.01,0.1"):
        load_sweep(sweep.folder)
    record.write_text("{")
    with pytest.raises(SweepFileError, match=r"sweep\.json"):
        load_sweep(sweep.folder)
    with pytest.raises(SweepFileError, match="not a sweep folder"):
        load_sweep(tmp_path)


def test_a_stopped_sweep_resumes_with_the_rest_only(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.05,0.1"]), method="grid")
    search = Search(sweep)
    first = search.next_trial(0)
    first.scores, first.state = [0.4], "finished"
    search.tell(first)
    second = search.next_trial(0)
    second.state = "stopped"  # Ctrl+C while the second trial ran
    sweep.save()

    resumed = load_sweep(sweep.folder)
    search = Search(resumed)
    order = []
    while (trial := search.next_trial(0)) is not None:
        order.append((trial.number, trial.settings["lr"]))
        trial.scores, trial.state = [0.5], "finished"
        search.tell(trial)
    assert order == [(2, 0.05), (3, 0.1)]
    assert len(search.study.trials) == 3  # the first trial was told to the study, not run again


def test_the_time_budget_stops_new_trials(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-3:1e-1"]), method="random", minutes=1)
    search = Search(sweep)
    trial = search.next_trial(59)
    assert search.budget is None and trial is not None
    trial.scores, trial.state = [0.5], "finished"
    search.tell(trial)
    assert search.next_trial(60) is None


def finished(number, scores, lr):
    return Trial(number, {"lr": lr}, f"/runs/{number}", "finished", scores)


def test_a_trial_clearly_behind_is_pruned_after_the_warm_up(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-3:1e-1:log"]), method="tpe", trials_budget=5)
    sweep.trials = [finished(1, [0.5, 0.6, 0.7], 0.01), finished(2, [0.55, 0.65, 0.72], 0.02),
                    finished(3, [0.45, 0.62, 0.69], 0.03)]
    search = Search(sweep)
    behind, ahead = search.next_trial(0), search.next_trial(0)
    search.report(behind, 1, 0.1)
    search.report(ahead, 1, 0.6)
    assert not search.should_prune(behind)  # epoch 1: within the warm-up
    search.report(behind, 2, 0.15)
    search.report(ahead, 2, 0.7)
    assert search.should_prune(behind) and not search.should_prune(ahead)
    behind.state = "pruned"
    search.tell(behind)
    assert search.study.trials[behind.number - 1].state.name == "PRUNED"


def test_without_pruning_no_trial_is_pruned(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-3:1e-1"]), method="random", prune=False)
    sweep.trials = [finished(k, [0.9, 0.9], 0.01 * k) for k in (1, 2, 3)]
    search = Search(sweep)
    trial = search.next_trial(0)
    for epoch in (1, 2, 3):
        search.report(trial, epoch, 0.0)
    assert not search.should_prune(trial)


def test_the_best_trial_has_the_highest_score_and_the_earlier_on_a_tie(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-3:1e-1"]), method="random")
    assert sweep.best() is None
    sweep.trials = [finished(1, [0.3, math.nan], 0.01), finished(2, [0.2, 0.6], 0.02),
                    finished(3, [0.6, 0.1], 0.03), finished(4, [math.nan], 0.04)]
    assert sweep.best().number == 2
    assert sweep.trials[3].score is None


@pytest.mark.parametrize("change, message", [
    (lambda d: d["trials"][0].update(run="../../../elsewhere"), "'run' must name a folder of the network's runs"),
    (lambda d: d["trials"][0].update(run="/etc"), "'run' must name a folder of the network's runs"),
    (lambda d: d.update(network="../../other.llnet"), "'network' must be the network whose sweeps folder"),
    (lambda d: d["trials"][1].update(number=1), "numbered 1, 2, 3"),
    (lambda d: d["trials"][0]["settings"].update(data_dir="/tmp"), "must be the swept ones"),
    (lambda d: d["trials"][0].update(scores=[1e400]), "finite numbers"),
    (lambda d: d["trials"][0].update(scores=[10 ** 400]), "finite numbers"),
    (lambda d: d.update(seconds_used=float("nan")), "'seconds_used' has a bad value"),
    (lambda d: d.update(prune="false"), "'prune' has a bad value"),
    (lambda d: d["options"].update(epochs="x"), "'epochs' has a bad value"),
    (lambda d: d["options"].update(out="/tmp"), "'options' may hold epochs, limit and data"),
])
def test_a_crafted_record_cannot_send_runs_elsewhere_or_break_the_sweep(tmp_path, change, message):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.1"]), options={"epochs": 1})
    run_sequentially(sweep)
    sweep.save()
    data = json.loads(Path(sweep.path).read_text())
    assert data["trials"][0]["run"] == f"sweep-{sweep.name}-1"  # a plain name in the network's runs folder
    change(data)
    text = json.dumps(data).replace("Infinity", "1e400")  # JSON has no inf: a number beyond float64 reads as one
    Path(sweep.path).write_text(text)
    with pytest.raises(SweepFileError, match=message):
        load_sweep(sweep.folder)


def test_a_resumed_random_sweep_draws_new_settings(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-4:1e-1:log"]), method="random", seed=3,
                         trials_budget=3)
    run_sequentially(sweep)
    sweep.save()
    resumed = load_sweep(sweep.folder)
    resumed.trials_budget = 6
    run_sequentially(resumed)
    lrs = [t.settings["lr"] for t in resumed.trials]
    assert len(lrs) == 6 and len(set(lrs)) == 6


def test_a_finished_trial_without_a_score_is_told_as_failed_and_never_best(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.1"]))
    search = Search(sweep)
    first = search.next_trial(0)
    first.state = "finished"  # its validation accuracy was never finite
    search.tell(first)
    second = search.next_trial(0)
    second.scores, second.state = [0.3], "pruned"
    search.tell(second)
    assert sweep.best() is second  # no finished trial has a score: the best of the others
    third = Trial(3, {"lr": 0.01}, "run", "finished", [0.2])
    sweep.trials.append(third)
    assert sweep.best() is third  # a finished trial goes before a better pruned one
