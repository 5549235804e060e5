"""Module: registration, traversal, state dicts, repr, hooks and containers, against PyTorch's behaviour."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import engine
import engine.nn as nn
import engine.nn.functional as F

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def make_cifar_net(m):
    """The seed tutorials' CIFAR-10 Net, on either framework."""

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = m.nn.Conv2d(3, 6, 5)
            self.pool = m.nn.MaxPool2d(2, 2)
            self.conv2 = m.nn.Conv2d(6, 16, 5)
            self.fc1 = m.nn.Linear(16 * 5 * 5, 120)
            self.fc2 = m.nn.Linear(120, 84)
            self.fc3 = m.nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(m.nn.functional.relu(self.conv1(x)))
            x = self.pool(m.nn.functional.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            x = m.nn.functional.relu(self.fc1(x))
            x = m.nn.functional.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def copy_weights(src_torch, dst_engine):
    dst_engine.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in src_torch.state_dict().items()})


def test_registration_and_traversal():
    net = make_cifar_net(engine)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                     "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert len(list(net.parameters())) == 10
    assert sum(p.numel() for p in net.parameters()) == 62006
    assert [n for n, _ in net.named_children()] == ["conv1", "pool", "conv2", "fc1", "fc2", "fc3"]
    assert len(list(net.modules())) == 7
    assert net.get_submodule("conv1") is net.conv1
    assert net.get_parameter("fc1.bias") is net.fc1.bias
    assert tuple(net.conv1.weight.shape) == (6, 3, 5, 5) and tuple(net.fc1.weight.shape) == (120, 400)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope


def test_parameter_rules():
    m = nn.Module()
    m.w = nn.Parameter(engine.ones(2))
    assert "w" in m._parameters
    m.register_buffer("b", engine.zeros(2))
    assert [n for n, _ in m.named_buffers()] == ["b"]
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'w'"):
        m.w = 3
    with pytest.raises(KeyError, match="attribute 'w' already exists"):
        m.register_buffer("w", engine.zeros(1))

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(engine.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


@needs_torch
def test_repr_matches_pytorch():
    ours = repr(make_cifar_net(engine))
    theirs = repr(make_cifar_net(torch))
    assert ours == theirs
    assert "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))" in ours
    seq_args = lambda m: (m.nn.Conv2d(3, 8, 3, padding=1, bias=False), m.nn.BatchNorm2d(8), m.nn.ReLU(inplace=True),  # noqa: E731
                          m.nn.Dropout(0.2), m.nn.AdaptiveAvgPool2d(1), m.nn.Flatten(), m.nn.Linear(8, 2),
                          m.nn.LeakyReLU(0.1), m.nn.GELU(), m.nn.Softmax(dim=1), m.nn.AvgPool2d(2))
    assert repr(nn.Sequential(*seq_args(engine))) == repr(torch.nn.Sequential(*seq_args(torch)))


@needs_torch
def test_state_dict_keys_and_shapes_match_pytorch_and_weights_move_by_name():
    tnet = make_cifar_net(torch)
    enet = make_cifar_net(engine)
    tsd, esd = tnet.state_dict(), enet.state_dict()
    assert list(tsd) == list(esd)
    assert all(tuple(tsd[k].shape) == tuple(esd[k].shape) for k in tsd)
    copy_weights(tnet, enet)
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(enet(engine.tensor(x)).detach().numpy(), tnet(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)
    bn_t, bn_e = torch.nn.BatchNorm2d(4), nn.BatchNorm2d(4)
    assert list(bn_t.state_dict()) == list(bn_e.state_dict())


def test_load_state_dict_errors_and_nothing_half_loaded():
    net = make_cifar_net(engine)
    good = net.state_dict()
    before = {k: v.clone() for k, v in good.items()}
    bad = OrderedDict((k, engine.zeros_like(v)) for k, v in good.items())
    bad["fc1.weight"] = engine.zeros(3, 3)
    del bad["conv1.bias"]
    bad["extra"] = engine.zeros(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "conv1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for fc1.weight: copying a param with shape torch.Size([3, 3]) from checkpoint" in msg
    for k, v in net.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())
    del bad["fc1.weight"]
    bad["fc1.weight"] = engine.zeros(120, 400)
    result = net.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["conv1.bias"] and result.unexpected_keys == ["extra"]
    assert float(net.fc1.weight.abs().sum()) == 0.0


def test_state_dict_shares_storage_and_is_detached():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"][0, 0] = 5.0
    assert lin.weight[0, 0].item() == 5.0
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight


def test_train_eval_zero_grad_apply_and_dtype():
    net = make_cifar_net(engine)
    assert net.training and net.conv1.training
    net.eval()
    assert not net.training and not net.fc3.training
    net.train()
    out = net(engine.randn(2, 3, 32, 32)).sum()
    out.backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert float(net.fc1.weight.grad.abs().sum()) == 0.0
    net.zero_grad()
    assert net.fc1.weight.grad is None
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net"
    weight = net.fc1.weight
    assert net.to("cpu") is net and net.to(engine.float64).fc1.weight.dtype is engine.float64
    net.to("cpu", engine.float32)
    assert weight.dtype is engine.float32
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        net.to(engine.int64)
    net.double()
    assert net.fc1.weight is weight and weight.dtype is engine.float64
    net.float()
    assert weight.dtype is engine.float32


def test_default_initialisation_follows_pytorch_bounds():
    engine.manual_seed(0)
    lin = nn.Linear(400, 120)
    bound = 1 / math.sqrt(400)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound  # kaiming_uniform(a=sqrt(5))
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    conv = nn.Conv2d(3, 6, 5)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(75)


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear) and len(seq) == 3
    sub = seq[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is seq[0]
    assert seq(engine.ones(4, 2)).shape == (4, 1)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert named.fc is named[0]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.ReLU())
    assert len(ml) == 4 and len(list(ml.parameters())) == 6
    del seq[1]
    assert list(seq._modules) == ["0", "1"] and isinstance(seq[1], nn.Linear)  # renumbered, as PyTorch
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and isinstance(ml[-1], nn.ReLU) and len(ml) == 5
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(list(md.parameters())) == 2


@needs_torch
def test_forward_hooks_replace_input_and_output():
    lin_e, lin_t = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    lin_e.load_state_dict({k: engine.tensor(v.detach().numpy()) for k, v in lin_t.state_dict().items()})
    x = np.ones((1, 3), np.float32)
    for lin, m in ((lin_e, engine), (lin_t, torch)):
        h1 = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = lin.register_forward_hook(lambda mod, args, out: out + 1)
        out = lin(m.tensor(x))
        h1.remove()
        h2.remove()
        plain = lin(m.tensor(x))
        if m is engine:
            ours = (out.detach().numpy(), plain.detach().numpy())
        else:
            theirs = (out.detach().numpy(), plain.detach().numpy())
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-6)


@needs_torch
def test_full_backward_hook_matches_pytorch():
    def run(m, net, x):
        records = []

        def hook(module, grad_input, grad_output):
            records.append((tuple(None if g is None else g.detach().numpy().copy() for g in grad_input),
                            tuple(g.detach().numpy().copy() for g in grad_output)))

        net.conv2.register_full_backward_hook(hook)
        # Ours is an alias of the full hook (the issue asks for it); PyTorch's legacy one differs.
        (net.conv1.register_backward_hook if m is engine else net.conv1.register_full_backward_hook)(hook)
        out = net(m.tensor(x))
        m.nn.functional.cross_entropy(out, m.tensor([3])).backward()
        return records

    tnet, enet = make_cifar_net(torch), make_cifar_net(engine)
    copy_weights(tnet, enet)
    x = np.random.default_rng(2).standard_normal((1, 3, 32, 32)).astype(np.float32)
    ours, theirs = run(engine, enet, x), run(torch, tnet, x)
    assert len(ours) == len(theirs) == 2
    for (gi_o, go_o), (gi_t, go_t) in zip(ours, theirs):
        assert len(gi_o) == len(gi_t) and len(go_o) == len(go_t)
        for a, b in zip(gi_o + go_o, gi_t + go_t):
            if b is None:
                assert a is None
            else:
                np.testing.assert_allclose(a, b, atol=1e-5)


def test_backward_hook_may_replace_grad_input():
    lin = nn.Linear(2, 2)
    x = engine.ones(1, 2, requires_grad=True)
    lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    lin(x).sum().backward()
    assert float(x.grad.abs().sum()) == 0.0


def test_seed_tutorial_hooks_print_sizes_and_norms(capsys):
    class MNISTConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, 5)
            self.pool1 = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(10, 20, 5)
            self.pool2 = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)

        def forward(self, input):
            x = self.pool1(F.relu(self.conv1(input)))
            x = self.pool2(F.relu(self.conv2(x)))
            x = x.view(x.size(0), -1)
            x = F.relu(self.fc1(x))
            return F.relu(self.fc2(x))

    def printnorm(self, input, output):
        print("Inside " + self.__class__.__name__ + " forward")
        print("input size:", input[0].size())
        print("output size:", output.data.size())
        print("output norm:", output.data.norm())

    def printgradnorm(self, grad_input, grad_output):
        print("Inside " + self.__class__.__name__ + " backward")
        print("grad_input size:", grad_input[0].size())
        print("grad_output size:", grad_output[0].size())
        print("grad_input norm:", grad_input[0].data.norm())

    net = MNISTConvNet()
    net.conv2.register_forward_hook(printnorm)
    net.conv2.register_backward_hook(printgradnorm)
    out = net(engine.randn(1, 1, 28, 28))
    assert out.size() == (1, 10)
    nn.CrossEntropyLoss()(out, engine.LongTensor([3])).backward()
    printed = capsys.readouterr().out
    assert "Inside Conv2d forward" in printed and "Inside Conv2d backward" in printed
    assert "input size: torch.Size([1, 10, 12, 12])" in printed
    assert "output size: torch.Size([1, 20, 8, 8])" in printed
    assert "grad_input size: torch.Size([1, 10, 12, 12])" in printed
    assert "grad_output size: torch.Size([1, 20, 8, 8])" in printed
    assert net.conv1.weight.grad is not None


def test_rnn_cell_reused_over_time_steps():
    class RNN(nn.Module):
        def __init__(self, data_size, hidden_size, output_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(data_size + hidden_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)

        def forward(self, data, last_hidden):
            input = engine.cat((data, last_hidden), 1)
            hidden = self.i2h(input)
            return hidden, self.h2o(hidden)

    rnn = RNN(50, 20, 10)
    loss_fn = nn.MSELoss()
    batch, hidden, target = engine.randn(10, 50), engine.zeros(10, 20), engine.zeros(10, 10)
    loss = 0
    for _ in range(5):
        hidden, output = rnn(batch, hidden)
        loss += loss_fn(output, target)
    loss.backward()
    assert rnn.i2h.weight.grad.shape == (20, 70) and float(rnn.i2h.weight.grad.abs().sum()) > 0


def test_forward_hooks_with_kwargs_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative factor")
            return x * factor

    m = Scale()
    seen = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs.get("factor", 1.0) * 2}),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append((kwargs["factor"], out)), with_kwargs=True)
    calls = []
    m.register_forward_hook(lambda mod, args, out: calls.append(out), always_call=True)
    assert m(engine.ones(2), factor=3.0).tolist() == [6.0, 6.0]
    assert seen[0][0] == 6.0 and calls[0].tolist() == [6.0, 6.0]
    with pytest.raises(ValueError, match="negative factor"):
        m(engine.ones(2), factor=-1.0)
    assert calls[-1] is None  # always_call ran with no output


def test_batch_norm_file_from_before_the_counter_loads_as_in_pytorch():
    """A state dict without ``num_batches_tracked`` loads (the module keeps its count) unless its metadata says
    it was saved by a version of the module that had the counter."""
    torch = pytest.importorskip("torch")
    theirs = torch.nn.BatchNorm2d(3)
    old = {k: v for k, v in theirs.state_dict().items() if k != "num_batches_tracked"}
    ours = engine.nn.BatchNorm2d(3)
    ours.num_batches_tracked.fill_(5)
    ours.load_state_dict({k: engine.tensor(v.numpy()) for k, v in old.items()})
    theirs.load_state_dict(old)
    assert ours.num_batches_tracked.item() == 5
    versioned = OrderedDict((k, engine.tensor(v.numpy())) for k, v in old.items())
    versioned._metadata = {"": {"version": 2}}
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "num_batches_tracked"'):
        ours.load_state_dict(versioned)
