"""A step whose loss or gradients are not finite names the first op that made such a value (forward or backward),
its layer and its inputs; the replay that finds it changes nothing; gradient clipping (the setting, the Trainer, the
exported script) matches PyTorch; a diverged run continues from its last good checkpoint with a halved learning rate
and finishes."""

import json

import numpy as np
import pytest
import torch
from fake_cupy import FakeCudaArray

import engine
import engine.nn as nn
from engine import random as engine_random
from engine.graph.export.training_code import training_source
from engine.graph.templates import load_template
from engine.training import StepInfo, Trainer, create_run
from engine.training.callbacks import Checkpoint
from engine.training.divergence import clip_gradients, gradients_finite, replay_origin
from engine.training.resume import changed_network, recoveries, resume_from_run


class Exp(nn.Module):
    def forward(self, x):
        return x.exp()


class Magnitude(nn.Module):
    """|x| as sqrt(x²): finite everywhere, but its slope at 0 is inf (sqrt's) times 0, NaN."""

    def forward(self, x):
        return (x * x).sqrt()


def batches(n=4, features=3, seed=0):
    """Batches of 8 samples, the first of each all zeros."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8, features)).astype(np.float32)
    x[:, 0] = 0
    return [(engine.tensor(x[i]), engine.tensor(rng.integers(0, 2, 8))) for i in range(n)]


def trainer_of(model, loader, lr=0.1, **kw):
    return Trainer(model, engine.optim.SGD(model.parameters(), lr=lr), nn.CrossEntropyLoss(), loader, seed=0, **kw)


def test_a_forward_overflow_names_the_op_the_layer_and_its_inputs():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), Exp(), nn.Linear(4, 2))
    with engine.no_grad():
        model[0].weight.mul_(1000.0)  # batch norm keeps its output small: the overflow is exp's own
        model[1].weight.fill_(200.0)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    info = trainer_of(model, batches()).fit(1)
    error = info.error
    assert info.status == "failed" and error.global_step == 1
    origin = error.origin
    assert (origin.op, origin.direction, origin.module, origin.module_type) == ("exp", "forward", "2", "Exp")
    assert origin.inputs_finite and origin.inputs[0].shape == (8, 4) and origin.inputs[0].max > 88
    assert info.message.startswith("the loss became ") and "the first op to make a value that is not finite is exp " \
        "(forward) in layer '2' (Exp): it made [8×4]" in info.message
    assert f"from finite inputs ([8×4] min {origin.inputs[0].min:.4g}, max {origin.inputs[0].max:.4g}" in info.message
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, model.parameters()))


def test_a_gradient_that_goes_non_finite_only_in_backward_stops_the_step_and_names_the_backward_op():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), Magnitude(), nn.Linear(4, 2))  # the zero sample gives sqrt(0)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    info = trainer_of(model, batches()).fit(1)
    origin = info.error.origin
    assert info.message.startswith("the gradients became non-finite (the loss was ")
    assert (origin.op, origin.node, origin.direction, origin.module) == ("sqrt", "SqrtBackward0", "backward", "1")
    assert origin.inputs[0].min == 0.0 and origin.outputs[0].non_finite == 4 and origin.outputs[0].nan == 0
    assert "the backward of sqrt (SqrtBackward0) in layer '1' (Magnitude): it made [8×4]" in info.message
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, model.parameters()))  # no update


def test_the_replay_leaves_parameters_gradients_buffers_and_rng_as_they_were():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), Magnitude(), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    inputs, targets = batches()[0]
    nn.CrossEntropyLoss()(model(inputs), targets).backward()
    grads = [p.grad for p in model.parameters()]
    saved = [(p.detach().numpy().copy(), p.grad.numpy().copy()) for p in model.parameters()]
    buffers = [b.numpy().copy() for b in model.buffers()]
    rng = engine_random.default_generator.rng().bit_generator.state
    origin = replay_origin(model, nn.CrossEntropyLoss(), inputs, targets)
    assert origin.direction == "backward" and origin.op == "sqrt"
    assert [p.grad for p in model.parameters()] == grads  # the same tensors, with the same values
    for (value, grad), p in zip(saved, model.parameters()):
        assert np.array_equal(value, p.detach().numpy()) and np.array_equal(grad, p.grad.numpy(), equal_nan=True)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(buffers, model.buffers()))
    assert json.dumps(engine_random.default_generator.rng().bit_generator.state) == json.dumps(rng)


def with_grads(*grads, device="cpu"):
    params = [nn.Parameter(engine.zeros(len(g), device=device)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = engine.tensor(np.array(g, np.float32), device=device)
    return params


def test_gradients_finite_reads_the_device_once_and_trusts_a_finite_norm(fake_cuda, monkeypatch):
    reads = []
    real_float = FakeCudaArray.__float__
    monkeypatch.setattr(FakeCudaArray, "__float__", lambda self: reads.append(1) or real_float(self))
    assert gradients_finite(with_grads([1.0, 2.0], [3.0], [-4.0, 5.0], device="cuda")) and len(reads) == 1
    assert not gradients_finite(with_grads([1.0, np.inf], [3.0], device="cuda"))
    huge = with_grads([3e38, 3e38], [-1.0])  # finite values whose sum overflows: looked at one by one
    assert gradients_finite(huge)
    nan = with_grads([np.nan], [1.0])
    assert not gradients_finite(nan) and gradients_finite(nan, total_norm=1.0)  # the caller vouches for them
    assert not gradients_finite(nan, total_norm=float("nan"))


def test_clip_gradients_scales_finite_gradients_and_leaves_others_alone():
    params = with_grads([3.0, 4.0])
    assert clip_gradients(params, 0) is None and params[0].grad.tolist() == [3.0, 4.0]
    assert clip_gradients(params, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.6, 0.8], rtol=1e-5)
    params = with_grads([3.0, float("inf")], [1.0, 2.0])
    assert clip_gradients(params, 1.0) == float("inf")
    assert params[0].grad.tolist() == [3.0, float("inf")] and params[1].grad.tolist() == [1.0, 2.0]
    params = with_grads([3e30, 4e30])  # finite, but their float32 norm overflows: measured in double and clipped
    assert clip_gradients(params, 1.0) == pytest.approx(5e30)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_a_clipping_trainer_stops_on_a_non_finite_gradient_without_updating():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), Magnitude(), nn.Linear(4, 2))
    loader = batches()
    loader[0][0][0] = 0.0  # the zero sample gives sqrt(0)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    info = trainer_of(model, loader, clip_grad_norm=1.0).fit(1)
    assert info.status == "failed" and "the gradients became non-finite" in info.message
    assert all(np.array_equal(b, p.detach().numpy()) for b, p in zip(before, model.parameters(), strict=True))
    last = model[2].weight.grad.numpy()  # the step's own gradients, not scaled by norm/inf to zeros and NaN
    assert np.isfinite(last).all() and (last != 0).any()


def test_clipping_matches_pytorch_on_a_real_step():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            theirs.copy_(torch.from_numpy(ours.detach().numpy().copy()))
    loader = batches(n=1)
    trainer_of(model, loader, lr=0.5, clip_grad_norm=0.05).fit(1)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.5)
    inputs, targets = loader[0]
    torch.nn.CrossEntropyLoss()(reference(torch.from_numpy(inputs.numpy())), torch.from_numpy(targets.numpy())) \
        .backward()
    norm = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.05)
    assert norm > 0.05  # the clipping did something
    optimizer.step()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_the_exported_script_clips_as_the_setting_says():
    network = load_template("mlp_fashion_mnist")
    assert "clip_grad_norm_" not in training_source(network, "Net", "w.safetensors")
    network.set_settings({"clip_grad_norm": 2.5})
    source = training_source(network, "Net", "w.safetensors")
    assert "loss.backward()\n            torch.nn.utils.clip_grad_norm_(model.parameters(), 2.5)\n" \
           "            optimizer.step()" in source


class Doubling:
    """w * x against 0 with x = 1 under MSE: SGD at lr 1.5 doubles |w| every step until the loss overflows; at lr
    0.75 it halves |w| every step."""

    def __init__(self, lr, folder):
        engine.manual_seed(0)
        self.model = nn.Linear(1, 1, bias=False)
        with engine.no_grad():
            self.model.weight.fill_(1.0)
        loader = [(engine.ones(4, 1), engine.zeros(4, 1))] * 10
        self.trainer = Trainer(self.model, engine.optim.SGD(self.model.parameters(), lr=lr), nn.MSELoss(), loader,
                               seed=0, callbacks=[Checkpoint(folder)])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow on the way to inf
def test_recoveries_halve_the_rate_a_plateau_schedule_reached_and_tighten_clipping(tmp_path):
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"lr": 0.1, "scheduler": "ReduceLROnPlateau", "clip_grad_norm": 0.5})
    run = create_run(network, folder=tmp_path / "run")
    with open(run.steps_path, "w") as f:  # the plateau cut the rate to 0.001 before the run diverged
        for step, lr in ((1, 0.1), (2, 0.001)):
            f.write(json.dumps(vars(StepInfo(0, step, step, 2, 1.0, lr, 10.0, 4))) + "\n")
    halved, clipped = recoveries(network.settings, run)
    assert halved.changes == {"lr": 0.0005} and clipped.changes == {"clip_grad_norm": 0.25}
    network.set_settings({"scheduler": "none", "clip_grad_norm": 0.0})
    halved, clipped = recoveries(network.settings, run)
    assert halved.changes == {"lr": 0.05} and clipped.changes == {"clip_grad_norm": 1.0}


def test_a_diverged_run_rewinds_to_its_last_good_checkpoint_with_the_learning_rate_halved(tmp_path):
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"optimizer": "SGD", "momentum": 0.0, "lr": 1.5, "epochs": 9})
    run = create_run(network, folder=tmp_path / "run")
    info = Doubling(1.5, run.folder).trainer.fit(9)
    assert info.status == "failed" and info.message.startswith("the loss became inf at step ")
    assert (info.error.origin.op, info.error.origin.where()) == ("mse_loss", "MSELoss")
    state = engine.load(run.checkpoint_path)
    assert state["epoch"] == info.epochs_completed and "epoch_step" not in state  # the last epoch's end, not the
    # failed step's (whose forward overflows again whatever the learning rate)
    halved, clipped = recoveries(run.network().settings)
    assert (halved.changes, clipped.changes) == ({"lr": 0.75}, {"clip_grad_norm": 1.0})
    network = changed_network(run, halved.changes)
    resumed = Doubling(network.settings["lr"], run.folder)
    resume_from_run(resumed.trainer, run, network)
    assert resumed.trainer.optimizer.param_groups[0]["lr"] == 0.75 and resumed.trainer.epoch == info.epochs_completed
    assert resumed.trainer.fit(9).status == "finished"
    assert float(resumed.model.weight) == 2.0**30  # 2**60 at the checkpoint (step 60), halved 30 times
    assert run.network().settings["lr"] == 0.75  # the run folder says how it went on
