"""Repeat blocks computed: a residual block repeated 3 times is the network with its 3 blocks written out by
hand (the same outputs, running statistics and gradients for the same weights), and a PyTorch module written
with 3 blocks; every copy has its own weights (``conv1``, ``conv1_r2``, ``conv1_r3``) and learns; the ONNX,
PyTorch-code and engine-code exports of it compute what the engine does."""

import runpy
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.graph import Network
from engine.graph.build import execution_plan
from engine.graph.export import export_network

from .export_cases import assert_close, engine_outputs, random_weights, sample_input
from .test_groups import BLOCK, CIFAR, CONV8, residual

torch = pytest.importorskip("torch")

WEIGHTED = ("conv1", "bn1", "conv2")  # the block's layers with a state
SUFFIXES = {"Conv2d": ("weight", "bias"),
            "BatchNorm2d": ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}


def block_keys(suffix):
    return [f"{name}{suffix}.{key}" for name, kind in zip(WEIGHTED, ("Conv2d", "BatchNorm2d", "Conv2d"))
            for key in SUFFIXES[kind]]


STATE_KEYS = ["stem.weight", "stem.bias", *block_keys(""), *block_keys("_r2"), *block_keys("_r3"), "fc.weight",
              "fc.bias"]


def unrolled():
    """The residual network with its block written out 3 times, its layers named ``conv1_b1``..."""
    net = Network("unrolled")
    add = net.add_node
    tail = add("Input", CIFAR, name="input").id
    stem = add("Conv2d", CONV8, name="stem").id
    net.connect(tail, stem)
    tail = stem
    for b in (1, 2, 3):
        ids = {name: add(kind, params, name=f"{name}_b{b}").id
               for name, kind, params in (("conv1", "Conv2d", CONV8), ("bn1", "BatchNorm2d", {}), ("relu1", "ReLU", {}),
                                          ("conv2", "Conv2d", CONV8), ("add", "Add", {}), ("relu2", "ReLU", {}))}
        for a, c in (("conv1", "bn1"), ("bn1", "relu1"), ("relu1", "conv2"), ("conv2", "add")):
            net.connect(ids[a], ids[c])
        net.connect(tail, ids["conv1"])
        net.connect(tail, ids["add"])
        net.connect(ids["add"], ids["relu2"])
        tail = ids["relu2"]
    for name, kind, params in (("pool", "AdaptiveAvgPool2d", {"output_size": 1}), ("flat", "Flatten", {}),
                               ("fc", "Linear", {"out_features": 10}), ("output", "Output", {})):
        node = add(kind, params, name=name)
        net.connect(tail, node.id)
        tail = node.id
    return net


def unrolled_key(key):
    """``conv1_r2.weight`` (the repeated network's) → ``conv1_b2.weight`` (the unrolled one's)."""
    name, _, rest = key.partition(".")
    base, _, copy = name.partition("_r")
    return f"{base}_b{copy or 1}.{rest}" if base in WEIGHTED else key


def torch_key(key):
    """``conv1_r2.weight`` → ``blocks.1.conv1.weight`` (the hand-written PyTorch module's)."""
    name, _, rest = key.partition(".")
    base, _, copy = name.partition("_r")
    return f"blocks.{int(copy or 1) - 1}.{base}.{rest}" if base in WEIGHTED else key


def torch_residual():
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x):
            return torch.relu(self.conv2(torch.relu(self.bn1(self.conv1(x)))) + x)

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.blocks = nn.Sequential(Block(), Block(), Block())
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    return Residual()


def engine_model(network, state):
    model = network.build()
    model.load_state_dict({k: engine.from_numpy(np.array(v)) for k, v in state.items()})
    return model


def exported(network, flavour, tmp_path, state):
    """(the generated script's model class, the weights' path) for the code exports."""
    script, weights = export_network(network, state, flavour, tmp_path / "model")
    namespace = runpy.run_path(script, run_name="exported_model")
    (cls,) = [v for v in namespace.values() if isinstance(v, type) and v.__module__ == "exported_model"]
    return cls, script, weights


def state_numpy(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_state_dict_keys_name_every_copy():
    net, _ = residual(repeat=3)
    model = net.build()
    assert list(model.state_dict()) == STATE_KEYS
    assert sum(p.numel() for p in model.parameters()) == net.infer().total_params == 224 + 3 * 1184 + 90
    assert [node.name for node, _, _ in execution_plan(net.infer())] == [
        "input", "stem", *BLOCK, *(f"{n}_r2" for n in BLOCK), *(f"{n}_r3" for n in BLOCK), "pool", "flat", "fc",
        "output"]
    assert list(residual(repeat=1)[0].build().state_dict()) == ["stem.weight", "stem.bias", *block_keys(""),
                                                               "fc.weight", "fc.bias"]


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_repeated_block_is_the_block_written_out(mode):
    net, _ = residual(repeat=3)
    state = random_weights(net)
    hand = unrolled()
    assert sorted(map(unrolled_key, state)) == sorted(hand.build().state_dict())
    repeated, written = engine_model(net, state), engine_model(hand, {unrolled_key(k): v for k, v in state.items()})
    for model in (repeated, written):
        model.train(mode == "train")
    x = engine.from_numpy(sample_input(net, batch=4))
    got, want = repeated(x), written(x)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())  # the same modules, the same ops
    after, written_after = state_numpy(repeated), state_numpy(written)
    assert {k: after[k].tolist() for k in after} == {k: written_after[unrolled_key(k)].tolist() for k in after}
    if mode == "train":  # every copy kept its own running statistics
        assert not np.array_equal(after["bn1.running_mean"], after["bn1_r2.running_mean"])
        target = engine.tensor(np.arange(4) % 10)
        for out in (got, want):
            engine.nn.functional.cross_entropy(out, target).backward()
        grads = dict(repeated.named_parameters())
        hand_grads = dict(written.named_parameters())
        for key, p in grads.items():
            assert p.grad is not None and float(np.abs(p.grad.numpy()).sum()) > 0, key  # every copy learns
            np.testing.assert_allclose(p.grad.numpy(), hand_grads[unrolled_key(key)].grad.numpy(), rtol=1e-5,
                                       atol=1e-7)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_repeated_block_is_the_pytorch_module_with_three_blocks(mode):
    net, _ = residual(repeat=3)
    state = random_weights(net)
    model = engine_model(net, state)
    reference = torch_residual()
    reference.load_state_dict({torch_key(k): torch.from_numpy(np.array(v)) for k, v in state.items()}, strict=True)
    model.train(mode == "train")
    reference.train(mode == "train")
    x = sample_input(net, batch=4)
    got = model(engine.from_numpy(x))
    want = reference(torch.from_numpy(x))
    assert np.abs(got.detach().numpy() - want.detach().numpy()).max() < 1e-5
    target = np.arange(4) % 10
    engine.nn.functional.cross_entropy(got, engine.tensor(target)).backward()
    torch.nn.functional.cross_entropy(want, torch.from_numpy(target)).backward()
    reference_params = dict(reference.named_parameters())
    for key, p in model.named_parameters():
        expected = reference_params[torch_key(key)].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-3, atol=1e-5 * max(1, np.abs(expected).max()))
    if mode == "train":
        reference_state = reference.state_dict()
        for key, value in state_numpy(model).items():
            np.testing.assert_allclose(value, reference_state[torch_key(key)].numpy(), rtol=1e-5, atol=1e-6)


def test_a_frozen_member_is_frozen_in_every_copy():
    net, ids = residual(repeat=3)
    net.set_frozen([ids["conv1"]], True)
    params = dict(net.build().named_parameters())
    assert [k for k, p in params.items() if not p.requires_grad] == [
        "conv1.weight", "conv1.bias", "conv1_r2.weight", "conv1_r2.bias", "conv1_r3.weight", "conv1_r3.bias"]


def test_a_training_step_updates_every_copy():
    net, _ = residual(repeat=2)
    model = net.build()
    before = state_numpy(model)
    optimizer = engine.optim.SGD(model.parameters(), lr=0.1)
    out = model(engine.from_numpy(sample_input(net, batch=3)))
    net.build_loss()(out, engine.tensor(np.array([1, 2, 3]))).backward()
    optimizer.step()
    after = state_numpy(model)
    for key in ("conv1.weight", "conv1_r2.weight", "bn1_r2.weight", "conv2_r2.bias"):
        assert not np.array_equal(before[key], after[key]), key


def test_the_onnx_export_of_a_repeated_block_runs_in_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    net, _ = residual(repeat=3)
    state = random_weights(net)
    (path,) = export_network(net, state, "onnx", tmp_path / "model.onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert {"conv1.weight", "conv1_r2.weight", "conv1_r3.weight", "conv2_r3.bias"} <= {
        i.name for i in model.graph.initializer}
    x = sample_input(net, batch=3)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": x})[0]
    want = engine_outputs(net, state, x)
    assert got.shape == (3, 10)
    assert_close(got, want)
    assert np.abs(got - want).max() < 1e-5 * max(1.0, float(np.abs(want).max()))


def test_the_pytorch_code_of_a_repeated_block_runs_under_torch(tmp_path):
    from safetensors.torch import load_file

    net, _ = residual(repeat=3)
    state = random_weights(net)
    cls, script, weights = exported(net, "pytorch", tmp_path, state)
    source = Path(script).read_text(encoding="utf-8")
    assert "self.conv1_r3 = nn.Conv2d(8, 8, kernel_size=3, padding=1)" in source
    init, forward = source.split("def forward")
    for method in (init, forward):  # each copy's layers headed by its group, in order
        headings = [line.strip() for line in method.splitlines() if line.strip().startswith("# block")]
        assert headings == [f"# block (copy {k} of 3)" for k in (1, 2, 3)]
        assert method.index("# block (copy 2 of 3)") < method.index("conv1_r2") < method.index("# block (copy 3")
    model = cls()
    model.load_state_dict(load_file(weights), strict=True)
    assert list(model.state_dict()) == STATE_KEYS
    model.eval()
    x = sample_input(net)
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    assert_close(got, engine_outputs(net, state, x))
    reference = torch_residual()
    reference.load_state_dict({torch_key(k): v for k, v in model.state_dict().items()})
    reference.eval()
    with torch.no_grad():
        assert np.abs(reference(torch.from_numpy(x)).numpy() - got).max() < 1e-5


def test_the_engine_code_of_a_repeated_block_is_the_graph_module(tmp_path):
    net, _ = residual(repeat=3)
    state = random_weights(net)
    cls, _, weights = exported(net, "engine", tmp_path, state)
    model = cls()
    model.load_state_dict(engine.load_safetensors(weights))
    assert list(model.state_dict()) == STATE_KEYS
    model.eval()
    x = sample_input(net)
    with engine.no_grad():
        got = model(engine.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, engine_outputs(net, state, x))


@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_weight_files_hold_every_copy(fmt, tmp_path):
    from engine.graph.export import load_weights

    net, _ = residual(repeat=3)
    state = random_weights(net)
    (path,) = export_network(net, state, fmt, tmp_path / f"w.{fmt}")
    loaded = load_weights(path)
    assert sorted(loaded) == sorted(STATE_KEYS)
    np.testing.assert_array_equal(np.asarray(loaded["bn1_r3.running_var"]), state["bn1_r3.running_var"])


def test_two_repeated_groups_in_a_row_chain_their_copies():
    """The second block reads the last copy of the first; each repeats on its own."""
    net, ids = residual(repeat=2)
    tail = net.add_node("Conv2d", {"out_channels": 8, "kernel_size": 1}, name="mix")
    act = net.add_node("ReLU", name="act")
    net.disconnect(net.input_edges(ids["pool"])[0])
    for a, b in ((ids["relu2"], tail.id), (tail.id, act.id), (act.id, ids["pool"])):
        net.connect(a, b)
    net.add_group([tail.id, act.id], name="mixer", repeat=3)
    inference = net.infer()
    assert inference.ok and inference.groups["g2"].in_shapes == ((8, 32, 32),)
    flat = inference.flat
    assert flat.predecessors(tail.id) == [f"{ids['relu2']}~2"]
    assert flat.predecessors(f"{tail.id}~2") == [act.id]
    assert flat.predecessors(ids["pool"]) == [f"{act.id}~3"]
    state = random_weights(net)
    assert [k for k in state if k.startswith("mix")] == [
        "mix.weight", "mix.bias", "mix_r2.weight", "mix_r2.bias", "mix_r3.weight", "mix_r3.bias"]
    x = sample_input(net)
    model = engine_model(net, state)
    model.eval()
    with engine.no_grad():
        got = model(engine.from_numpy(x)).numpy()
    reference = torch_residual()
    reference.blocks = reference.blocks[:2]
    mixers = [torch.nn.Conv2d(8, 8, 1) for _ in range(3)]
    for k, conv in enumerate(mixers):
        suffix = f"_r{k + 1}" if k else ""
        conv.weight.data = torch.from_numpy(np.array(state[f"mix{suffix}.weight"]))
        conv.bias.data = torch.from_numpy(np.array(state[f"mix{suffix}.bias"]))
    reference.load_state_dict({torch_key(k): torch.from_numpy(np.array(v)) for k, v in state.items()
                               if not k.startswith("mix")}, strict=True)
    reference.eval()
    with torch.no_grad():
        h = reference.blocks(reference.stem(torch.from_numpy(x)))
        for conv in mixers:
            h = torch.relu(conv(h))
        want = reference.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(h, 1), 1)).numpy()
    assert np.abs(got - want).max() < 1e-5
