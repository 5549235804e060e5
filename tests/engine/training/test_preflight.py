"""The pre-flight check: vanishing and exploding signal warned about in deep plain networks and not in LeNet, the
statistics agreeing with PyTorch, the numerical gradient check passing on LeNet and failing on a broken backward,
and the model and the random state left as they were."""

import numpy as np
import pytest

import engine
from engine import nn
from engine.graph import Network
from engine.graph.templates import load_template
from engine.training.gradient_check import check_gradients
from engine.training.preflight import (
    EXPLODING,
    THRESHOLDS,
    VANISHING,
    Batch,
    check_signal,
    first_batch,
    initial_model,
)
from engine.training.recipe import DataSplits, prepare_training
from engine.utils.data import TensorDataset
from engine.utils.data.dataloader import _SingleThreadIter


def deep_plain(depth, activation, width=64):
    """Input 1×28×28 → Flatten → depth × (Linear width, activation) → Linear 10 → Output."""
    network = Network("deep plain")
    previous = network.add_node("Input", {"shape": (1, 28, 28), "dataset": "Fashion-MNIST"}, name="input").id
    chain = [("Flatten", {}, "flatten")]
    for k in range(1, depth + 1):
        chain += [("Linear", {"out_features": width}, f"fc{k}"), (activation, {}, f"act{k}")]
    chain += [("Linear", {"out_features": 10}, "head"), ("Output", {}, "output")]
    for kind, params, name in chain:
        node = network.add_node(kind, params, name=name)
        network.connect(previous, node.id)
        previous = node.id
    return network


def initialised(network, std):
    """The module of ``network`` with every hidden Linear's weights drawn with ``std`` and zero biases."""
    engine.manual_seed(0)
    model = network.build()
    for name, module in model.named_children():
        if isinstance(module, nn.Linear) and name != "head":
            nn.init.normal_(module.weight, std=std)
            nn.init.zeros_(module.bias)
    return model


def random_batch(shape, n=16, seed=0):
    rng = np.random.default_rng(seed)
    return Batch(engine.tensor(rng.standard_normal((n, *shape)).astype(np.float32)),
                 engine.tensor(rng.integers(0, 10, n)))


def test_tiny_init_with_tanh_is_warned_vanishing():
    network = deep_plain(6, "Tanh")
    report = check_signal(network, initialised(network, 0.01), random_batch((1, 28, 28)))
    kinds = {(w.subject, w.kind) for w in report.warnings}
    assert kinds == {("activations", VANISHING), ("gradients", VANISHING)}, report.warnings
    rows = {layer.name: layer for layer in report.layers}
    assert rows["act6"].activation_flag == VANISHING and rows["fc1"].activation_flag is None
    assert rows["fc1"].gradient_flag == VANISHING and rows["head"].gradient_flag is None
    text = " ".join(w.text() for w in report.warnings)
    assert "Kaiming" in text and "BatchNorm" in text
    assert not report.healthy


def test_big_init_with_relu_is_warned_exploding():
    network = deep_plain(6, "ReLU")
    report = check_signal(network, initialised(network, 0.6), random_batch((1, 28, 28)))
    kinds = {(w.subject, w.kind) for w in report.warnings}
    assert ("activations", EXPLODING) in kinds and ("gradients", EXPLODING) in kinds, report.warnings
    assert not any(kind == VANISHING for _, kind in kinds)
    assert "lower the init scale" in " ".join(w.text() for w in report.warnings)


def test_he_init_is_healthy_and_the_rows_follow_the_forward_order():
    network = deep_plain(6, "ReLU")
    report = check_signal(network, initialised(network, (2 / 64) ** 0.5), random_batch((1, 28, 28)))
    assert report.healthy, report.warnings
    assert [layer.name for layer in report.layers] == (
        ["input", "flatten"] + [f"{kind}{k}" for k in range(1, 7) for kind in ("fc", "act")] + ["head"])
    first, fc1 = report.layers[0], report.layers[2]
    assert first.type == "Input" and first.gradient_var is None and first.activation_ratio is None
    assert fc1.shape == (64,) and fc1.activation_ratio == pytest.approx(fc1.activation_var
                                                                        / report.layers[1].activation_var)


def lenet_data(network, n=16):
    """A stand-in training split for LeNet (CIFAR-shaped noise, labels 0..9), through the recipe's loader."""
    rng = np.random.default_rng(1)
    images = engine.tensor(rng.standard_normal((n, 3, 32, 32)).astype(np.float32))
    return DataSplits(TensorDataset(images, engine.tensor(np.arange(n) % 10)), None, None, tuple("abcdefghij"))


def model_state(model):
    return ({k: v.numpy().copy() for k, v in model.state_dict().items()},
            [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()],
            [m.training for m in model.modules()])


def assert_same_state(before, after):
    for (k, a), b in zip(before[0].items(), after[0].values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert [g is None for g in before[1]] == [g is None for g in after[1]]
    for a, b in zip(before[1], after[1]):
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert before[2] == after[2]


def test_lenet_is_healthy_and_the_checks_leave_model_and_random_state_as_they_were():
    network = load_template("lenet_cifar10")
    network.set_settings({"batch_size": 8})
    model = initial_model(network)
    model.eval()
    model.fc1.weight.grad = engine.ones_like(model.fc1.weight)
    before, rng = model_state(model), engine.get_rng_state().numpy().copy()
    seed = engine.initial_seed()
    batch = first_batch(network, lenet_data(network))
    assert tuple(batch.images.shape) == (8, 3, 32, 32)
    report = check_signal(network, model, batch)
    assert report.healthy, report.warnings
    gradients = check_gradients(network, model, batch)
    assert gradients.passed and [layer.name for layer in gradients.layers] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert all(layer.checked + layer.skipped == min(layer.total, THRESHOLDS.gradcheck_entries_per_layer)
               for layer in gradients.layers)
    assert all(layer.max_error < THRESHOLDS.gradcheck_tolerance for layer in gradients.layers)
    assert_same_state(before, model_state(model))
    np.testing.assert_array_equal(engine.get_rng_state().numpy(), rng)
    assert engine.initial_seed() == seed
    again = first_batch(network, lenet_data(network))
    np.testing.assert_array_equal(again.images.numpy(), batch.images.numpy())  # seeded: repeatable


def test_the_first_batch_is_the_one_a_run_trains_on_first_and_its_loader_is_closed(monkeypatch):
    network = load_template("lenet_cifar10")
    network.set_settings({"batch_size": 4, "seed": 5})
    data = lenet_data(network)
    closed = []
    monkeypatch.setattr(_SingleThreadIter, "close", lambda self: closed.append(self))
    batch = first_batch(network, data)
    assert len(closed) == 1
    monkeypatch.undo()
    setup = prepare_training(network, data=DataSplits(data.train, data.train, data.train, data.classes))
    seen = []
    setup.model.register_forward_pre_hook(lambda _module, args: seen.append(args[0].numpy().copy()))
    assert setup.trainer.fit(1).status == "finished"
    np.testing.assert_array_equal(seen[0], batch.images.numpy())
    assert not np.array_equal(seen[1], batch.images.numpy())


def test_batch_norm_statistics_and_each_modules_mode_are_restored():
    network = load_template("resnet_cifar10")
    model = initial_model(network)
    frozen = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    frozen.eval()  # frozen in eval mode inside a training model
    before = model_state(model)
    check_signal(network, model, random_batch((3, 32, 32), n=4))
    assert_same_state(before, model_state(model))
    assert model.training and not frozen.training


def test_a_broken_backward_fails_the_gradient_check(monkeypatch):
    """Linear's backward gives 1.01 times the true gradient: the Linear layers fail, and the convolutions before them
    too (their gradients pass through the three Linear layers), each by the error the scaling makes."""
    network = load_template("lenet_cifar10")
    model = initial_model(network)
    batch = random_batch((3, 32, 32), n=2)
    original = nn.Linear.forward

    def scaled_backward(self, x):
        y = original(self, x)
        return y + 0.01 * (y - y.detach())  # the same value, 1.01 times the gradient

    monkeypatch.setattr(nn.Linear, "forward", scaled_backward)
    report = check_gradients(network, model, batch)
    assert not report.passed
    assert {layer.name for layer in report.failed} == {"conv1", "conv2", "fc1", "fc2", "fc3"}
    scalings = {"fc3": 1, "fc2": 2, "fc1": 3, "conv2": 3, "conv1": 3}  # Linear layers the gradient passes
    for layer in report.layers:
        assert layer.max_error == pytest.approx(1 - 1.01 ** -scalings[layer.name], rel=1e-3), layer


def test_one_layer_agrees_with_pytorch():
    """fc2 of a small tanh network: activation mean/variance and gradient variance as PyTorch computes them with
    the same weights on the same batch."""
    torch = pytest.importorskip("torch")
    network = deep_plain(2, "Tanh", width=32)
    model = initialised(network, 0.2)
    batch = random_batch((1, 28, 28), n=8)
    row = next(layer for layer in check_signal(network, model, batch).layers if layer.name == "fc2")
    weights = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    x = torch.tensor(batch.images.numpy()).flatten(1).requires_grad_()
    h = torch.tanh(torch.nn.functional.linear(x, weights["fc1.weight"], weights["fc1.bias"]))
    fc2 = torch.nn.functional.linear(h, weights["fc2.weight"], weights["fc2.bias"])
    fc2.retain_grad()
    out = torch.nn.functional.linear(torch.tanh(fc2), weights["head.weight"], weights["head.bias"])
    torch.nn.functional.cross_entropy(out, torch.tensor(batch.labels.numpy())).backward()
    assert row.activation_mean == pytest.approx(fc2.mean().item(), rel=1e-4, abs=1e-6)
    assert row.activation_var == pytest.approx(fc2.var(unbiased=False).item(), rel=1e-4)
    assert row.gradient_var == pytest.approx(fc2.grad.var(unbiased=False).item(), rel=1e-4)
    assert row.gradient_size == pytest.approx((fc2.grad ** 2).sum().item() / 8, rel=1e-4)
