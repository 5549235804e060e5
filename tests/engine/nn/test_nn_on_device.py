"""A whole network (conv, pool, batch norm, dropout in eval, linear, loss) and an optimizer step on the
CuPy stand-in give the CPU's results: the device plumbing of every layer, proven without a GPU."""

import numpy as np

import engine
import engine.nn as nn


def make():
    engine.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1, groups=2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Dropout(0.3), nn.Linear(32, 10), nn.GELU(), nn.Linear(10, 10),
    )


def step(model, x, y, dev):
    model.to(dev)
    opt = engine.optim.Adam(model.parameters(), lr=0.01)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x.to(dev)), y.to(dev))
    loss.backward()
    grads = [p.grad.cpu().numpy().copy() for p in model.parameters()]
    opt.step()
    return loss.item(), grads, [p.detach().cpu().numpy() for p in model.parameters()]


def test_network_step_on_fake_gpu_matches_cpu(fake_cuda):
    # The stand-in's arrays take the NumPy paths; the CPU must too, not its compiled kernels: the first Adam
    # step of conv1's bias, whose gradient under batch norm is rounding noise (~1e-9), is lr * its sign.
    rng = np.random.default_rng(0)
    x = engine.tensor(rng.standard_normal((4, 3, 16, 16)).astype(np.float32))
    y = engine.tensor(rng.integers(0, 10, 4))
    cpu_model, gpu_model = make(), make()
    cpu_model[8].eval()  # dropout off, so both runs see the same network
    gpu_model[8].eval()
    with engine.backend.prefer("generic"):
        cpu = step(cpu_model, x, y, engine.device("cpu"))
    gpu = step(gpu_model, x, y, engine.device("cuda:1"))
    assert all(p.device == engine.device("cuda:1") for p in gpu_model.parameters())
    assert gpu_model[1].running_mean.device == engine.device("cuda:1")
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=1e-5)
    for a, b in zip(gpu[1] + gpu[2], cpu[1] + cpu[2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert fake_cuda.transfers["h2d"] > 0
