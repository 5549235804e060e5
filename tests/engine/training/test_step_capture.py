"""The step inspector's capture: each layer's output and the loss's gradient with respect to it, against PyTorch
on the same weights; nothing registered or kept while disarmed."""

import numpy as np
import pytest
import torch

import engine
import engine.nn as nn
from engine.training import Trainer
from engine.training.step_capture import SAMPLES, StepCapture


def model_and_reference():
    engine.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3))
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                    torch.nn.Linear(64, 3))
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return model, reference


def batch(seed=0, n=16):
    rng = np.random.default_rng(seed)
    return engine.tensor(rng.standard_normal((n, 3, 6, 6)).astype(np.float32)), engine.tensor(rng.integers(0, 3, n))


def fit(model, capture, steps=1):
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(),
                      [batch()] * steps, callbacks=[capture])
    return trainer.fit(1)


def test_outputs_and_their_gradients_match_pytorch():
    model, reference = model_and_reference()
    published = []
    capture = StepCapture(published.append)
    capture.arm()
    assert fit(model, capture, steps=2).status == "finished"
    snapshot = capture.latest
    assert published[-1] is snapshot and snapshot.step == 2 and len(published) == 2
    x, y = (torch.from_numpy(t.numpy()) for t in batch())
    outputs, out = [], x
    for layer in reference:
        out = layer(out)
        out.retain_grad()
        outputs.append(out)
    torch.nn.functional.cross_entropy(out, y).backward()
    for k, expected in enumerate(outputs):
        for summary, tensor in ((snapshot.outputs[str(k)], expected.detach()), (snapshot.gradients[str(k)],
                                                                              expected.grad)):
            t = tensor.double()
            assert summary.shape == tuple(t.shape)
            assert summary.mean == pytest.approx(t.mean().item(), rel=1e-4, abs=1e-7)
            assert summary.std == pytest.approx(t.std(unbiased=False).item(), rel=1e-4)
            assert (summary.low, summary.high) == pytest.approx((t.min().item(), t.max().item()), rel=1e-5)
            assert summary.samples.shape == (SAMPLES, *t.shape[1:])
            np.testing.assert_allclose(summary.samples, tensor[:SAMPLES].numpy(), rtol=1e-4, atol=1e-6)
            assert summary.histogram.counts.sum() == t.numel()
    relu = outputs[1].detach()
    assert snapshot.outputs["1"].zeros == pytest.approx(float((relu == 0).double().mean()))


def test_disarmed_it_hooks_nothing_and_keeps_nothing():
    model, _ = model_and_reference()
    hooked = []
    model[0].register_forward_pre_hook(lambda module, args: hooked.append(bool(module._forward_hooks)))
    capture = StepCapture()
    fit(model, capture, steps=2)
    assert capture.latest is None and hooked == [False, False]
    capture.arm()
    fit(model, capture, steps=1)
    assert capture.latest is not None and hooked[-1] is True
    assert not any(m._forward_hooks for m in model.modules())  # unhooked after the step
    capture.arm(False)
    assert capture.latest is None and not capture.armed


def test_on_the_cupy_stand_in_the_capture_is_the_cpus(fake_cuda):
    snapshots = []
    for device in ("cpu", "cuda:0"):
        model, _ = model_and_reference()
        capture = StepCapture()
        capture.arm()
        trainer = Trainer(model.to(device), engine.optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(),
                          [batch()], device=device, callbacks=[capture])
        assert trainer.fit(1).status == "finished"
        snapshots.append(capture.latest)
    cpu, cuda = snapshots
    for kind in ("outputs", "gradients"):
        for layer, summary in getattr(cpu, kind).items():
            other = getattr(cuda, kind)[layer]
            assert type(other.samples) is np.ndarray  # on the host
            np.testing.assert_allclose(other.samples, summary.samples, rtol=1e-5, atol=1e-7)
            assert (other.mean, other.std) == pytest.approx((summary.mean, summary.std), rel=1e-5, abs=1e-9)


def test_the_step_that_went_non_finite_is_the_last_snapshot():
    model, _ = model_and_reference()
    with engine.no_grad():
        model[3].weight[0, 0] = float("inf")
    capture = StepCapture()
    capture.arm()
    info = fit(model, capture, steps=2)
    assert info.status == "failed"
    snapshot = capture.latest
    assert snapshot.failed and snapshot.step == 1 and snapshot.outputs["3"].nonfinite > 0
    assert set(snapshot.filters) == {"0"} and snapshot.filters["0"].shape == (4, 3, 3, 3)


def test_disarmed_during_a_step_it_publishes_nothing():
    model, _ = model_and_reference()
    published = []
    capture = StepCapture(published.append)
    capture.arm()

    class CloseDuringTheStep:
        def on_step_begin(self, trainer, step):
            capture.arm(False)  # after the capture hooked the layers: the inspector closed mid-step

    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(), [batch()],
                      callbacks=[capture, CloseDuringTheStep()])
    assert trainer.fit(1).status == "finished"
    assert published == [] and capture.latest is None
    assert not any(m._forward_hooks for m in model.modules())
