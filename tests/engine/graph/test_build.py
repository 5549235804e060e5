"""Building a module from a network document: state_dict keys are the node names, weights move between
builds and to the seed tutorial's hand-written Net (on the engine and on PyTorch), invalid networks are
refused with every error listed."""

import numpy as np
import pytest

import engine
from engine import nn
from engine.graph import Network, NetworkError, load_network, save_network
from engine.graph.build import GraphModule, execution_plan, loss_call
from engine.graph.templates import load_template

from .export_cases import LAYER_CASES

LENET_KEYS = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight",
              "fc2.bias", "fc3.weight", "fc3.bias"]


def tutorial_net(nn, F, flatten):
    """The seed tutorial's CIFAR-10 Net, written as in the tutorial, on ``nn`` (engine or PyTorch)."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def images(n=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3, 32, 32)).astype(np.float32)


def test_lenet_template_is_the_tutorial_net():
    model = load_template("lenet_cifar10").build()
    assert isinstance(model, GraphModule) and model.input_shape == (3, 32, 32)
    assert sum(p.numel() for p in model.parameters()) == 62006
    assert list(model.state_dict()) == LENET_KEYS
    net = tutorial_net(nn, nn.functional, engine.flatten)
    assert list(net.state_dict()) == LENET_KEYS
    net.load_state_dict(model.state_dict())
    x = engine.tensor(images())
    with engine.no_grad():
        np.testing.assert_allclose(net(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-6)


def test_lenet_template_weights_run_the_same_in_pytorch():
    torch = pytest.importorskip("torch")
    model = load_template("lenet_cifar10").build()
    net = tutorial_net(torch.nn, torch.nn.functional, torch.flatten)
    net.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = images()
    with torch.no_grad():
        expected = net(torch.tensor(x)).numpy()
    np.testing.assert_allclose(model(engine.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_state_dict_keys_are_node_names(template):
    model = template.build()
    names = {n.name for n in template.infer().flat.nodes.values()}  # with the copies of repeated groups
    for key in model.state_dict():
        assert key.split(".")[0] in names, key
    bns = [n.name for n in template.nodes.values() if n.type == "BatchNorm2d"]
    for bn in bns:
        assert f"{bn}.running_mean" in model.state_dict() and f"{bn}.num_batches_tracked" in model.state_dict()


def test_saved_weights_load_into_a_module_built_from_the_same_document(template, tmp_path):
    save_network(template, tmp_path / "net.llnet")
    engine.manual_seed(1)
    trained = template.build()
    x = engine.randn(4, *template.input_node().params["shape"])
    trained.train()
    trained(x)  # move batch-norm running statistics away from their start
    engine.save(trained.state_dict(), tmp_path / "weights.pt")
    engine.manual_seed(2)
    fresh = load_network(tmp_path / "net.llnet").build()
    result = fresh.load_state_dict(engine.load(tmp_path / "weights.pt"))
    assert not result.missing_keys and not result.unexpected_keys
    trained.eval()
    fresh.eval()
    with engine.no_grad():
        np.testing.assert_array_equal(fresh(x).numpy(), trained(x).numpy())


def test_gradients_reach_every_parameter(random_network):
    for seed in range(6):
        net = random_network(seed)
        model = net.build()
        out = model(engine.randn(3, *net.input_node().params["shape"]))
        out.square().sum().backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.shape == p.shape, (seed, name)


def test_a_network_with_errors_is_refused_with_every_error_listed():
    net = load_template("lenet_cifar10")
    net.set_params(net.node_by_name("fc1").id, {"in_features": 300})
    net.add_node("Output")
    with pytest.raises(NetworkError) as info:
        net.build()
    text = str(info.value)
    assert text.splitlines() == ["the network 'LeNet (CIFAR-10 tutorial)' has 3 errors:",
                                 "  - Output 'output1': a network has one Output; remove this one",
                                 "  - Linear 'fc1': Linear expects 300 input features but receives 400",
                                 "  - Output 'output1' needs an input"]
    lone = Network(title="lone")
    lone.add_node("Input")
    with pytest.raises(NetworkError, match="^the network 'lone' has 1 error:\n  - the network has no Output node$"):
        lone.build()


def test_nodes_that_do_not_lead_to_the_output_are_left_out():
    net = load_template("lenet_cifar10")
    side = net.add_node("Linear", {"out_features": 5}, name="side")
    net.connect(net.node_by_name("flatten").id, side.id)
    inference = net.infer()
    assert inference.ok and side.id not in inference.used
    assert [p.message for p in inference.problems] == [
        "Linear 'side' does not lead to the Output and is left out of the model"]
    assert inference.problems[0].severity == "warning" and inference.total_params == 62006
    model = net.build()
    assert list(model.state_dict()) == LENET_KEYS


def test_execution_plan_frees_each_value_after_its_last_use():
    net = load_template("resnet_cifar10")
    plan = execution_plan(net.infer())
    assert [node.name for node, _, _ in plan][:5] == ["input", "stem_conv", "stem_bn", "stem_relu", "block1_conv1"]
    freed = [slot for _, _, free in plan for slot in free]
    assert sorted(freed) == list(range(len(plan) - 1))  # every value but the output, exactly once
    for k, (_, sources, free) in enumerate(plan):
        slots = {s for s, _output in sources}
        assert all(s < k for s in slots) and set(free) <= slots
        assert all(output is None for _s, output in sources)  # no layer of the template has several outputs


def test_execution_plan_names_the_output_a_layer_with_several_takes():
    net = LAYER_CASES["splits"]()
    plan = execution_plan(net.infer())
    slot = {node.name: k for k, (node, _, _) in enumerate(plan)}
    inputs = {node.name: sources for node, sources, _ in plan}
    assert inputs["conv1"] == [(slot["split1"], 1)]
    assert inputs["cat1"] == [(slot["conv1"], None), (slot["split1"], 0)]
    assert inputs["output1"] == [(slot["split2"], 1)]


def test_dropout_and_batch_norm_follow_train_and_eval():
    net = load_template("vgg_cifar10")
    model = net.build()
    x = engine.tensor(images(2))
    model.eval()
    with engine.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    with engine.no_grad():
        assert not np.array_equal(model(x).numpy(), model(x).numpy())


def test_loss_from_the_output_node():
    resnet = load_template("resnet_cifar10")
    call = loss_call(resnet)
    assert (call.cls, call.kwargs) == ("CrossEntropyLoss", {"label_smoothing": 0.1})
    loss = resnet.build_loss()
    assert isinstance(loss, nn.CrossEntropyLoss) and loss.label_smoothing == 0.1
    lenet = load_template("lenet_cifar10")
    assert loss_call(lenet).kwargs == {}
    lenet.set_params(lenet.output_node().id, {"loss": "MSELoss", "label_smoothing": 0.2})
    assert loss_call(lenet).kwargs == {} and isinstance(lenet.build_loss(), nn.MSELoss)
    with pytest.raises(NetworkError, match="has no Output node, so no loss"):
        Network(title="empty").build_loss()


def test_a_copied_network_runs_its_own_layers():
    """``copy.deepcopy`` (as DataParallel's replicas and weight averaging make) gives a module whose forward runs
    the copy's layers: zeroing the copy's weights changes the copy's output alone."""
    import copy

    model = load_template("lenet_cifar10").build()
    clone = copy.deepcopy(model)
    x = engine.randn(2, 3, 32, 32)
    with engine.no_grad():
        before = model(x).numpy().copy()
        for p in clone.parameters():
            p.zero_()
        np.testing.assert_array_equal(clone(x).numpy(), 0)
        np.testing.assert_array_equal(model(x).numpy(), before)


def test_a_layer_replaced_by_add_module_is_the_one_that_runs():
    """``SyncBatchNorm.convert_sync_batchnorm`` and other module surgery replace layers with ``add_module``."""
    model = load_template("resnet_cifar10").build()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    calls = []
    converted.stem_bn.register_forward_hook(lambda module, inputs, output: calls.append(type(module).__name__))
    converted(engine.randn(2, 3, 32, 32))
    assert calls == ["SyncBatchNorm"]
