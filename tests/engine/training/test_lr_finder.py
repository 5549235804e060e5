"""The learning-rate finder: the schedule and the smoothing against direct formulas (and PyTorch's ExponentialLR),
a real curve that falls then rises with the suggestion on its steep descent, update ratios that grow with the
learning rate, everything put back bit for bit, early stops, the suggestion rules, the CSV and bad input."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import engine
import engine.nn as nn
from engine.graph.templates import load_template
from engine.training import lr_finder
from engine.training.lr_finder import (
    SmoothedLoss,
    find_lr,
    find_lr_for_network,
    minimum,
    steep,
    suggest,
    sweep_lrs,
    valley,
    write_result_csv,
)
from engine.utils.data import DataLoader, TensorDataset

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def blobs(n=384, classes=4, seed=0):
    centers = np.random.default_rng(1234).standard_normal((classes, 8)) * 2
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    x = (centers[labels] + rng.standard_normal((n, 8))).astype(np.float32)
    return TensorDataset(engine.tensor(x), engine.tensor(labels))


def setup(seed=0, momentum=0.9, batch=32):
    """A small network with BatchNorm and Dropout, SGD with momentum, a shuffled loader: every kind of state."""
    engine.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4))
    optimizer = engine.optim.SGD(model.parameters(), lr=0.05, momentum=momentum)
    return model, optimizer, nn.CrossEntropyLoss(), DataLoader(blobs(), batch_size=batch, shuffle=True)


def train_steps(model, optimizer, loss_fn, loader, steps):
    model.train()
    for _, (inputs, targets) in zip(range(steps), loader, strict=False):
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()


def snapshot(model, optimizer):
    state = optimizer.state_dict()
    return {
        "params": [p.detach().numpy().copy() for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()],
        "buffers": [b.numpy().copy() for b in model.buffers()],
        "optimizer": {k: {n: v.numpy().copy() for n, v in s.items()} for k, s in state["state"].items()},
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in state["param_groups"]],
        "rng": engine.random.default_generator.rng().bit_generator.state,
        "training": model.training,
    }


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key in ("params", "grads", "buffers"):
            assert len(a[key]) == len(b[key])
            for x, y in zip(a[key], b[key], strict=True):
                assert (x is None) == (y is None)
                if x is not None:
                    assert x.dtype == y.dtype and np.array_equal(x, y), key
        elif key == "optimizer":
            assert a[key].keys() == b[key].keys()
            for k in a[key]:
                for name in a[key][k]:
                    assert np.array_equal(a[key][k][name], b[key][k][name]), (k, name)
        else:
            assert a[key] == b[key], key


# ----- schedule and smoothing -----
def test_the_schedule_is_exponential_from_start_to_end():
    lrs = sweep_lrs(1e-7, 10.0, 100)
    direct = [1e-7 * math.exp(i / 99 * math.log(10.0 / 1e-7)) for i in range(100)]
    np.testing.assert_allclose(lrs, direct, rtol=1e-12)
    assert lrs[0] == 1e-7 and lrs[-1] == pytest.approx(10.0, rel=1e-14)
    torch = pytest.importorskip("torch")  # the same sequence as ExponentialLR with gamma = (end/start)^(1/(n-1))
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-7)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=(10.0 / 1e-7) ** (1 / 99))
    theirs = []
    for _ in range(100):
        theirs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(lrs, theirs, rtol=1e-10)


def test_every_group_keeps_its_ratio_to_the_swept_rate_and_the_smoothing_is_the_bias_corrected_average():
    model, optimizer, loss_fn, loader = setup()  # the first group's lr: 0.05
    optimizer.add_param_group({"params": [], "lr": 3.0})  # a second group, at 60 times the first's
    seen = []
    real_step = optimizer.step
    optimizer.step = lambda: (seen.append([g["lr"] for g in optimizer.param_groups]), real_step())
    result = find_lr(model, optimizer, loss_fn, loader, start=1e-4, end=1.0, steps=30)
    del optimizer.step
    assert result.stop_reason == "finished" and len(result.lrs) == 30  # 12 batches a pass: the loader cycled
    np.testing.assert_allclose(np.array(seen), np.stack([result.lrs, 60 * result.lrs], 1), rtol=1e-12)
    assert [g["lr"] for g in optimizer.param_groups] == [0.05, 3.0]
    beta, x = 0.98, result.losses
    direct = [sum((1 - beta) * beta ** (t - k) * x[k] for k in range(t + 1)) / (1 - beta ** (t + 1))
              for t in range(len(x))]
    np.testing.assert_allclose(result.smoothed_losses, direct, rtol=1e-12)
    assert result.smoothed_losses[0] == x[0]
    smoother = SmoothedLoss(0.5)
    assert [smoother.add(v) for v in (4.0, 1.0)] == [4.0, (0.25 * 4.0 + 0.5 * 1.0) / 0.75]


# ----- a real curve -----
@pytest.fixture(scope="module")
def fashion_result():
    if not FASHION_MNIST.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist package is not installed")
    network = load_template("mlp_fashion_mnist")  # Adam, three linear layers
    network.set_settings({"train_limit": 1024, "batch_size": 32})
    return find_lr_for_network(network)


def test_a_real_curve_falls_then_rises_and_the_suggestion_is_on_its_steep_descent(fashion_result):
    r = fashion_result
    assert r.stop_reason == "diverged" and 20 < len(r.lrs) < 100
    assert r.smoothed_losses[-1] > 4 * r.smoothed_losses[:-1].min()
    low = int(np.argmin(r.smoothed_losses))
    assert r.smoothed_losses[low] < r.smoothed_losses[0] - 0.2  # it falls...
    assert 5 < low < len(r.lrs) - 3  # ...then rises
    assert 1e-7 < r.suggestion < r.lrs[-1]
    at = int(np.searchsorted(r.lrs, r.suggestion))
    assert at < low
    slopes = np.diff(r.smoothed_losses) / np.diff(np.log(r.lrs))
    steepest = slopes[:low].min()
    assert steepest < 0 and slopes[at - 2:at + 3].mean() < 0.25 * steepest  # falling steeply there
    assert set(r.suggestions) == {"valley", "steep", "minimum"}
    assert all(1e-7 < lr < r.lrs[-1] for lr in r.suggestions.values())


def test_the_update_ratios_grow_with_the_learning_rate(fashion_result):
    r = fashion_result
    assert r.layers == ("fc1", "fc2", "fc3") and r.update_ratios.shape == (3, len(r.lrs))
    assert np.isfinite(r.update_ratios).all() and (r.update_ratios >= 0).all()
    early, late = r.update_ratios[:, 10:20].mean(1), r.update_ratios[:, -20:-10].mean(1)
    assert (late > 100 * early).all()
    ranks = np.argsort(np.argsort(r.update_ratios[:, 5:], axis=1), axis=1)  # Spearman against the step
    for row in ranks:
        assert np.corrcoef(row, np.arange(len(row)))[0, 1] > 0.9


# ----- state put back -----
def test_everything_is_put_back_bit_for_bit_and_training_goes_on_as_without_the_sweep():
    runs = []
    for sweep in (False, True):
        model, optimizer, loss_fn, loader = setup()
        train_steps(model, optimizer, loss_fn, loader, 3)  # momentum buffers, BN statistics, gradients
        model.eval()
        before = snapshot(model, optimizer)
        if sweep:
            result = find_lr(model, optimizer, loss_fn, loader, start=1e-5, end=100.0, steps=40)
            assert len(result.lrs) > 5
            assert_same(before, snapshot(model, optimizer))
        train_steps(model, optimizer, loss_fn, loader, 4)
        runs.append(snapshot(model, optimizer))
    assert_same(*runs)


def test_each_modules_mode_is_put_back():
    model, optimizer, loss_fn, loader = setup()
    model[1].eval()  # a BatchNorm frozen in eval mode inside a training model
    modes = [m.training for m in model.modules()]
    find_lr(model, optimizer, loss_fn, loader, steps=3)
    assert [m.training for m in model.modules()] == modes and not model[1].training


def test_the_sweep_clips_the_gradients_as_a_training_step_does():
    """The losses of a sweep with clip_grad_norm are those of SGD steps at the swept rates with clip_grad_norm_ before
    each update, and differ from those without clipping."""
    def plain():
        engine.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        return model, engine.optim.SGD(model.parameters(), lr=0.1), DataLoader(blobs(), batch_size=32)

    lrs = sweep_lrs(1e-2, 10.0, 6)
    model, optimizer, loader = plain()
    expected = []
    for lr, (inputs, targets) in zip(lrs, loader, strict=False):
        optimizer.param_groups[0]["lr"] = lr
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(inputs), targets)
        expected.append(loss.item())
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.05)
        optimizer.step()
    model, optimizer, loader = plain()
    clipped = find_lr(model, optimizer, nn.CrossEntropyLoss(), loader, start=1e-2, end=10.0, steps=6,
                      clip_grad_norm=0.05)
    np.testing.assert_array_equal(clipped.losses, expected)
    unclipped = find_lr(model, optimizer, nn.CrossEntropyLoss(), loader, start=1e-2, end=10.0, steps=6)
    assert unclipped.losses[0] == expected[0] and not np.allclose(unclipped.losses[1:], expected[1:])


def test_a_non_finite_loss_stops_the_sweep_and_the_weights_are_put_back():
    model, optimizer, loss_fn, loader = setup(momentum=0.0)
    before = snapshot(model, optimizer)
    calls = []

    def poisoned(outputs, targets):
        calls.append(1)
        loss = loss_fn(outputs, targets)
        return loss * float("nan") if len(calls) == 8 else loss

    result = find_lr(model, optimizer, poisoned, loader, steps=50)
    assert result.stop_reason == "not finite" and len(result.lrs) == 8
    assert np.isnan(result.losses[-1]) and np.isnan(result.update_ratios[:, -1]).all()
    assert np.isfinite(result.update_ratios[:, :-1]).all()
    assert_same(before, snapshot(model, optimizer))


def test_the_sweep_stops_early_when_the_loss_diverges():
    model, optimizer, loss_fn, loader = setup(momentum=0.0)
    result = find_lr(model, optimizer, loss_fn, loader, start=1e-3, end=1e6, steps=80)
    assert result.stop_reason == "diverged" and len(result.lrs) < 80
    smoothed = result.smoothed_losses
    assert smoothed[-1] > 4 * smoothed[:-1].min()
    assert all(smoothed[k] <= 4 * smoothed[:k + 1].min() for k in range(len(smoothed) - 1))


def test_stop_and_on_step():
    model, optimizer, loss_fn, loader = setup()
    steps = []
    result = find_lr(model, optimizer, loss_fn, loader, steps=50, stop=lambda: len(steps) == 6,
                     on_step=steps.append)
    assert result.stop_reason == "stopped" and len(result.lrs) == 6
    assert [s.step for s in steps] == list(range(6))
    assert [s.lr for s in steps] == result.lrs.tolist()
    assert [s.smoothed_loss for s in steps] == result.smoothed_losses.tolist()
    np.testing.assert_array_equal(np.stack([s.ratios for s in steps], 1), result.update_ratios)
    assert steps[0].layers == result.layers == ("0", "1", "4")
    assert result.stop_text == "the sweep was stopped"


# ----- the suggestion rules -----
def test_the_suggestion_rules_on_a_known_curve():
    lrs = np.geomspace(1e-6, 1.0, 61)
    losses = np.concatenate([np.full(10, 2.0), np.linspace(2.0, 0.5, 41)[1:], np.linspace(0.5, 3.0, 12)[1:]])
    losses[30] -= 0.2  # the steepest drop is into step 30 (from step 29)
    assert len(losses) == 61
    assert steep(lrs, losses) == lrs[29]
    assert minimum(lrs, losses) == pytest.approx(lrs[49] / 10)
    # the longest run of ever lower losses (40 of them, step 30's dip left out) ends at step 49: halfway back
    assert valley(lrs, losses) == lrs[29]
    trimmed = suggest(lrs, losses, 61)  # the first 6 and the last 5 are left out; none matters here
    assert trimmed == {"valley": valley(lrs[6:56], losses[6:56]), "steep": lrs[29], "minimum": minimum(lrs, losses)}
    with_nan = losses.copy()
    with_nan[45:] = np.nan  # everything from the first NaN is left out, and 5 more before it
    assert suggest(lrs, with_nan, 61)["minimum"] == pytest.approx(lrs[39] / 10)
    assert all(math.isnan(v) for v in suggest(lrs[:1], losses[:1], 61).values())


def test_a_fall_after_the_loss_blew_up_is_no_suggestion():
    lrs = np.geomspace(1e-6, 1.0, 50)
    losses = np.concatenate([np.linspace(2.0, 1.0, 20), np.linspace(1.2, 3.9, 15), np.linspace(3.0, 1.5, 15)])
    losses[10] -= 0.05  # the steepest fall of the descent: into step 10
    found = suggest(lrs, losses, 50)
    assert found["steep"] == lrs[9] and found["minimum"] == pytest.approx(lrs[19] / 10)
    assert found["valley"] <= lrs[19]


# ----- the file -----
def test_the_csv_has_a_row_per_step_and_a_column_per_layer(tmp_path):
    model, optimizer, loss_fn, loader = setup()
    result = find_lr(model, optimizer, loss_fn, loader, start=1e-4, end=1.0, steps=12)
    path = tmp_path / "deeper" / "lr.csv"
    write_result_csv(result, path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["lr", "loss", "smoothed_loss", "update_ratio:0", "update_ratio:1", "update_ratio:4"]
    values = np.array(rows[1:], np.float64)
    assert values.shape == (12, 6)
    np.testing.assert_allclose(values[:, 0], result.lrs, rtol=1e-8)
    np.testing.assert_allclose(values[:, 2], result.smoothed_losses, rtol=1e-8)
    np.testing.assert_allclose(values[:, 3:].T, result.update_ratios, rtol=1e-8)
    assert sorted(p.name for p in path.parent.iterdir()) == ["lr.csv"]  # no temporary left


# ----- bad input -----
@pytest.mark.parametrize("start, end, steps, message", [
    (1.0, 1.0, 10, r"start learning rate \(1\) must be below the end \(1\)"),
    (1.0, 0.1, 10, "must be below the end"),
    (0.0, 1.0, 10, "the start learning rate must be a positive number, got 0.0"),
    (1e-3, -1.0, 10, "the end learning rate must be a positive number, got -1.0"),
    (1e-3, math.inf, 10, "the end learning rate must be a positive number, got inf"),
    (1e-3, 1.0, 1, "at least 2 steps, got 1"),
])
def test_bad_ranges_are_refused_before_anything_changes(start, end, steps, message):
    model, optimizer, loss_fn, loader = setup()
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match=message):
        find_lr(model, optimizer, loss_fn, loader, start=start, end=end, steps=steps)
    assert_same(before, snapshot(model, optimizer))


def test_an_empty_loader_is_refused_and_nothing_changes():
    model, optimizer, loss_fn, _ = setup()
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match="the training data has no batches"):
        find_lr(model, optimizer, loss_fn, [], steps=5)
    assert_same(before, snapshot(model, optimizer))


def test_defaults_are_fastais():
    assert (lr_finder.DEFAULT_START, lr_finder.DEFAULT_END, lr_finder.DEFAULT_STEPS) == (1e-7, 10.0, 100)
    assert lr_finder.METHODS[0] == "valley"
