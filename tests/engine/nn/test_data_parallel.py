"""DataParallel: batch split across devices, replicas, gathered outputs, gradients reduced into the
original parameters. Run on the NumPy-backed CuPy stand-in (two fake GPUs): it proves the plumbing."""

import numpy as np

import engine
import engine.nn as nn


def make_net():
    engine.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


def test_one_device_adds_nothing():
    net = make_net()
    dp = nn.DataParallel(net, device_ids=[])
    x = engine.randn(4, 6)
    np.testing.assert_array_equal(dp(x).detach().numpy(), net(x).detach().numpy())
    assert list(dp.state_dict()) == ["module." + k for k in net.state_dict()]


def test_two_devices_match_a_single_device_run(fake_cuda):
    reference = make_net()
    x_np = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)
    ref_out = reference(engine.tensor(x_np))
    ref_out.sum().backward()

    net = make_net().cuda(0)
    dp = nn.DataParallel(net, device_ids=[0, 1])
    out = dp(engine.tensor(x_np).cuda(0))
    assert out.device == engine.device("cuda:0") and out.shape == (7, 3)
    np.testing.assert_allclose(out.cpu().detach().numpy(), ref_out.detach().numpy(), atol=1e-6)
    out.sum().backward()
    for (name, p), (_, q) in zip(net.named_parameters(), reference.named_parameters()):
        assert p.grad is not None and p.grad.device == engine.device("cuda:0"), name
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), atol=1e-5, err_msg=name)
    assert fake_cuda.transfers["d2d"] > 0  # the second replica really ran on the other device
    assert next(iter(dp.state_dict())) == "module.0.weight"


def test_parameters_must_live_on_the_first_device(fake_cuda):
    import pytest

    with pytest.raises(RuntimeError, match="module must have its parameters and buffers on device cuda:0"):
        nn.DataParallel(make_net(), device_ids=[0, 1])
