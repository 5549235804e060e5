"""Network health: the measures against PyTorch on the same weights, dead and saturated units, the update ratio
that turns red before a loss diverges, sampling every N steps, and ``health.csv``."""

import csv
import itertools
import math

import numpy as np
import pytest
import torch
from trained_lenet import SHARED_CIFAR, needs_cifar

import engine
import engine.nn as nn
from engine.graph.templates import load_template
from engine.training import HealthLog, Trainer
from engine.training.health import HealthMonitor, strided_sample
from engine.training.health_measures import BAD, BY_KEY, FINE, KEYS, WARN
from engine.training.recipe import prepare_training


def batches(n=256, features=4, classes=3, batch=32, seed=0, images=False):
    rng = np.random.default_rng(seed)
    shape = (n, 3, 6, 6) if images else (n, features)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, classes, n)
    return [(engine.tensor(x[i:i + batch]), engine.tensor(y[i:i + batch])) for i in range(0, n, batch)]


class Records:
    def __init__(self):
        self.records, self.losses = [], []

    def on_health(self, trainer, record):
        self.records.append(record)

    def on_step_end(self, trainer, info):
        self.losses.append(info.loss)


def train(model, data, lr=0.1, every=1, epochs=1, momentum=0.0, **kw):
    seen = Records()
    opt = engine.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), data, callbacks=[seen, *kw.pop("callbacks", ())],
                      device=kw.pop("device", "cpu"), health=HealthMonitor(every, **kw))
    info = trainer.fit(epochs)
    return seen, info, trainer


def value(record, layer, key):
    return record.values[record.layers.index(layer), KEYS.index(key)]


def test_measures_match_pytorch_on_the_same_weights():
    engine.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(3, 5, 3), nn.ReLU(), nn.Flatten(), nn.Linear(80, 6), nn.Tanh(), nn.Linear(6, 3))
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                    torch.nn.Linear(80, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    data = batches(n=32, images=True)
    seen, info, _ = train(model, data, lr=0.3)
    assert info.status == "finished" and len(seen.records) == 1
    record = seen.records[0]
    x, y = (torch.from_numpy(t.numpy()) for t in data[0])
    outputs, out = {}, x
    for k, layer in enumerate(reference):
        out = layer(out)
        out.retain_grad()
        outputs[str(k)] = out
    torch.nn.functional.cross_entropy(out, y).backward()
    for name, layer_out in outputs.items():
        t = layer_out.detach().double()
        assert value(record, name, "act_mean") == pytest.approx(t.mean().item(), rel=1e-4, abs=1e-6)
        assert value(record, name, "act_std") == pytest.approx(t.std(unbiased=False).item(), rel=1e-4)
    for name in ("0", "3", "5"):
        params = list(reference[int(name)].parameters())
        grad = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params))
        weight = math.sqrt(sum(float((p.detach().double() ** 2).sum()) for p in params))
        after = math.sqrt(sum(float(((p.detach() - 0.3 * p.grad).double() ** 2).sum()) for p in params))
        assert value(record, name, "grad_norm") == pytest.approx(grad, rel=1e-4)
        assert value(record, name, "update_ratio") == pytest.approx(0.3 * grad / weight, rel=1e-4)
        assert value(record, name, "weight_norm") == pytest.approx(after, rel=1e-4)
    for name in ("1", "2", "4"):  # no parameters: no gradient, weight or update measure
        assert np.isnan([value(record, name, k) for k in ("grad_norm", "weight_norm", "update_ratio")]).all()
    tanh = outputs["4"].detach()
    assert value(record, "4", "saturated_fraction") == pytest.approx(float((tanh.abs() >= 0.99).double().mean()))
    relu = outputs["1"].detach()
    assert value(record, "1", "dead_fraction") == pytest.approx(float((relu.amax((0, 2, 3)) == 0).double().mean()))
    assert np.isnan(value(record, "0", "dead_fraction")) and np.isnan(value(record, "1", "saturated_fraction"))
    assert (record.column("nonfinite")[~np.isnan(record.column("nonfinite"))] == 0).all()


def test_a_large_negative_bias_makes_dead_relus_flagged():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    with engine.no_grad():
        model[0].bias.fill_(-100.0)
    seen, _, _ = train(model, batches(), lr=0.01, every=2)
    dead = [value(r, "1", "dead_fraction") for r in seen.records]
    assert dead == [1.0] * len(seen.records)
    assert BY_KEY["dead_fraction"].level(dead[-1]) == BAD
    assert "dead" in BY_KEY["dead_fraction"].advice(dead[-1]).lower()

    engine.manual_seed(0)
    healthy = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    seen, _, _ = train(healthy, batches(), lr=0.01, every=2)
    assert max(value(r, "1", "dead_fraction") for r in seen.records) < 0.25


def test_dead_units_need_the_whole_window_to_be_zero():
    """A unit that fires in one sampled batch of the window is alive; with too few samples nothing is said."""
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 3))
    with engine.no_grad():
        model[0].weight.copy_(engine.tensor([[1.0, 0, 0, 0], [0, 0, 0, 0]]))
        model[0].bias.copy_(engine.tensor([0.0, -1.0]))
    x = np.zeros((8, 4), np.float32)
    data = [(engine.tensor(x + (i == 0) * np.eye(8, 4, dtype=np.float32)), engine.tensor(np.zeros(8, np.int64)))
            for i in range(8)]
    seen, _, _ = train(model, data, lr=0.0, window=6)
    dead = [value(r, "1", "dead_fraction") for r in seen.records]
    assert np.isnan(dead[:3]).all()  # 8, 16 and 24 samples: fewer than 32
    assert dead[3:6] == [0.5, 0.5, 0.5]  # unit 0 fired in the first batch, still in the window
    assert dead[6:] == [1.0, 1.0]  # the first batch has left the six-batch window


@needs_cifar
def test_a_learning_rate_of_10_turns_the_update_ratio_red_before_the_loss_diverges():
    network = load_template("lenet_cifar10")
    network.settings.update(lr=10.0, train_limit=256, batch_size=32, health_every=1, data_dir=str(SHARED_CIFAR))
    seen = Records()
    setup = prepare_training(network, callbacks=[seen])
    setup.trainer.fit(1)
    ratio = BY_KEY["update_ratio"]
    red = next(r.step for r in seen.records if any(ratio.level(v) == BAD for v in r.column("update_ratio")))
    diverged = next(k + 1 for k, loss in enumerate(seen.losses) if not loss < 3 * seen.losses[0])
    assert red < diverged


def test_sampling_every_n_steps_leaves_other_steps_without_hooks():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    hooked = []  # at each forward, whether the monitor's hook is on the first layer
    model[0].register_forward_pre_hook(lambda module, args: hooked.append(bool(module._forward_hooks)))
    seen, _, _ = train(model, batches(n=320), every=3)
    assert [r.step for r in seen.records] == [1, 4, 7, 10]
    assert hooked == [k % 3 == 0 for k in range(10)]
    assert not any(m._forward_hooks for m in model.modules())


def test_a_time_budget_spaces_the_samples_out_where_measuring_costs_more():
    """Measuring a tiny step costs far more than 0.1 % of it: the samples move apart, so that monitoring costs
    about the budget; without a budget they come every N steps exactly."""
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    seen, _, _ = train(model, batches(n=32 * 60), every=2, budget=0.001)
    steps = [r.step for r in seen.records]
    assert steps[0] == 1 and len(steps) < 15 and all(b - a >= 2 for a, b in itertools.pairwise(steps))
    seen, _, _ = train(model, batches(n=32 * 60), every=2)
    assert [r.step for r in seen.records] == list(range(1, 61, 2))
    seen, _, _ = train(model, batches(n=32 * 60), every=1, budget=0.001)  # measured steps count towards the pace
    assert len(seen.records) < 15


def test_non_finite_values_are_counted_and_red():
    """The step whose values went non-finite never updates, but its record says what its layers saw."""
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with engine.no_grad():
        model[0].weight[0, 0] = float("inf")
    seen, info, _ = train(model, batches(n=32), every=1)
    assert info.status == "failed" and [r.step for r in seen.records] == [1]
    record = seen.records[0]
    assert value(record, "0", "nonfinite") > 0 and BY_KEY["nonfinite"].level(value(record, "0", "nonfinite")) == BAD
    assert math.isfinite(value(record, "0", "act_mean")) and math.isfinite(value(record, "0", "act_std"))
    assert np.isnan(record.column("update_ratio")).all()  # no update was made


def test_a_module_used_twice_and_an_unused_branch():
    """A ReLU shared by two widths is measured at its first call; a layer that got no gradient has no gradient
    norm or update ratio (not a 'vanishing' zero)."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.act = nn.Linear(4, 8), nn.Linear(8, 3), nn.ReLU()
            self.unused = nn.Linear(4, 4)

        def forward(self, x):
            return self.act(self.b(self.act(self.a(x))))

    engine.manual_seed(0)
    seen, info, _ = train(Net(), batches(n=96), every=1)
    assert info.status == "finished" and len(seen.records) == 3
    record = seen.records[-1]
    assert np.isnan([value(record, "unused", k) for k in ("grad_norm", "update_ratio")]).all()
    assert math.isfinite(value(record, "unused", "weight_norm"))
    assert math.isfinite(value(record, "act", "dead_fraction"))


def test_histograms_match_numpy_and_can_be_left_out():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    seen, _, _ = train(model, batches(n=32), every=1)
    histogram = seen.records[0].histograms[("0", "weights")]
    weights = np.concatenate([p.detach().numpy().ravel() for p in model[0].parameters()])
    reference, _ = np.histogram(weights, len(histogram.counts), (histogram.low, histogram.high))
    assert histogram.counts.sum() == weights.size and np.abs(histogram.counts - reference).max() <= 1
    assert {kind for _, kind in seen.records[0].histograms} == {"weights", "gradients", "activations"}
    seen, _, _ = train(model, batches(n=32), every=1, histograms=False)
    assert seen.records[0].histograms == {}


def test_levels_and_advice():
    ratio = BY_KEY["update_ratio"]
    assert [ratio.level(v) for v in (1e-3, 2e-2, 0.5, 1e-6, 1e-8, math.inf, math.nan)] == \
        [FINE, WARN, BAD, WARN, BAD, BAD, FINE]
    assert ratio.advice(1e-3) == "" and "learning rate" in ratio.advice(0.5)
    assert BY_KEY["nonfinite"].level(1) == BAD and BY_KEY["nonfinite"].level(0) == FINE
    with pytest.raises(ValueError, match="N ≥ 1"):
        HealthMonitor(0)


def test_health_csv_has_a_row_per_sampled_step_and_layer(tmp_path):
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    train(model, batches(n=320), every=4, epochs=2, callbacks=[HealthLog(tmp_path)])
    with open(tmp_path / "health.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "epoch", "layer", *KEYS]
    assert [(int(r["step"]), r["layer"]) for r in rows] == [(s, layer) for s in (1, 5, 9, 13, 17)
                                                            for layer in ("0", "1", "2")]
    assert {r["epoch"] for r in rows} == {"1", "2"}
    values = [float(v) for r in rows for k, v in r.items() if k in KEYS and v != ""]
    assert len(values) == 5 * (6 + 4 + 6) and np.isfinite(values).all()
    assert all(r["grad_norm"] == "" for r in rows if r["layer"] == "1")


def test_a_continued_run_drops_the_health_rows_it_trains_again(tmp_path):
    log = HealthLog(tmp_path)
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    train(model, batches(n=320), every=2, callbacks=[log])
    again = HealthLog(tmp_path)
    record = train(model, batches(n=64), every=1)[0].records[0]
    record.step = 5  # a run continued from the checkpoint of step 4
    again.on_health(None, record)
    again.on_fit_end(None, None)
    with open(tmp_path / "health.csv", newline="") as f:
        steps = [int(r["step"]) for r in csv.DictReader(f)]
    assert steps == [1] * 3 + [3] * 3 + [5] * 3


def test_on_the_cupy_stand_in_the_measures_are_the_cpus(fake_cuda):
    """Health reads arrays of either module (reductions on the device, masks and histograms on the host)."""
    records = []
    for device in ("cpu", "cuda:0"):
        engine.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3)).to(device)
        seen, info, _ = train(model, batches(n=64), every=1, device=device)
        assert info.status == "finished"
        records.append(seen.records[-1])
    cpu, cuda = records
    np.testing.assert_allclose(cuda.values, cpu.values, rtol=1e-5, equal_nan=True)
    assert set(cuda.histograms) == set(cpu.histograms)


def test_the_strided_sample_reads_every_position_of_the_maps():
    """A stride that divides the map size would read one pixel of each map: here the corners are 0 and the
    centre is not, so such a sample's spread would be far too small."""
    maps = np.zeros((128, 512, 4, 4), np.float32)
    maps[:, :, 1:3, 1:3] = np.random.default_rng(0).exponential(2.0, (128, 512, 2, 2))
    sample = strided_sample(maps)
    assert 30000 < sample.size <= 65536
    assert sample.std() == pytest.approx(maps.std(), rel=0.03) and sample.mean() == pytest.approx(maps.mean(), rel=0.03)
