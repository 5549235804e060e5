"""The seed tutorials' tensor and autograd snippets, run with ``import engine as torch``.

Each snippet is the tutorial's code (typos fixed, as a reader would), and the checks are the outputs the
tutorials show.
"""

import textwrap
import warnings

import numpy as np
import pytest
from tutorial_support import execute

import engine


def run(code):
    """Execute a snippet with ``torch`` bound to the engine; return its namespace and printed text."""
    return execute("import torch\n" + textwrap.dedent(code), {"np": np})


def test_tensor_and_size():
    ns, _ = run("""
        x = torch.Tensor(5, 3)
        x = torch.FloatTensor(5, 3)
        x = torch.rand(5, 3)
        s = x.size()
    """)
    assert ns["s"] == (5, 3) and repr(ns["s"]) == "torch.Size([5, 3])"


def test_operations():
    ns, printed = run("""
        x = torch.rand(5, 3)
        y = torch.rand(5, 3)
        print(x + y)
        z = y.add(x)
        result = torch.Tensor(5, 3)
        torch.add(x, y, out=result)
        col = x[:, 1]
        x = torch.rand(4, 4)
        y = x.view(16)
        z = x.view(-1, 8)
        print(x.size(), y.size(), z.size())
        x.fill_(4)
        mm = torch.mm(torch.ones(2, 3), torch.ones(3, 4))
        dot = torch.dot(torch.ones(3), torch.ones(3))
        lin = torch.linspace(0, 1, 5)
    """)
    assert "torch.Size([4, 4]) torch.Size([16]) torch.Size([2, 8])" in printed
    assert printed.startswith("tensor([[")
    assert ns["col"].shape == (5,)
    assert ns["x"].tolist() == [[4.0] * 4] * 4
    assert ns["mm"].tolist() == [[3.0] * 4] * 2 and ns["dot"].item() == 3.0
    assert ns["lin"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_add_with_out_and_in_place_add():
    ns, _ = run("""
        x = torch.rand(5, 3)
        y = torch.rand(5, 3)
        expected = (x + y).numpy().copy()
        result = torch.Tensor(5, 3)
        torch.add(x, y, out=result)
        y_before = y.numpy().copy()
        y.add_(x)
    """)
    np.testing.assert_allclose(ns["result"].numpy(), ns["expected"])
    np.testing.assert_allclose(ns["y"].numpy(), ns["expected"])


def test_in_place_and_out_of_place():
    _, printed = run("""
        a = torch.FloatTensor(5, 7)
        a = torch.randn(5, 7)
        a.fill_(3.5)
        b = a.add(4.0)
        print(a[0, 0], b[0, 0])
    """)
    assert printed.strip() == "tensor(3.5000) tensor(7.5000)"


def test_numpy_bridge():
    _, printed = run("""
        a = torch.ones(5)
        b = a.numpy()
        a.add_(1)
        print(a)
        print(b)
        a = np.ones(5)
        b = torch.from_numpy(a)
        np.add(a, 1, out=a)
        print(a)
        print(b)
        x = torch.ones(5)
        y = x.numpy()
        y[0] = -1000
        print(x[0])
    """)
    assert printed.splitlines() == [
        "tensor([2., 2., 2., 2., 2.])",
        "[2. 2. 2. 2. 2.]",
        "[2. 2. 2. 2. 2.]",
        "tensor([2., 2., 2., 2., 2.], dtype=torch.float64)",
        "tensor(-1000.)",
    ]


def test_blitz_tensors_and_item():
    ns, printed = run("""
        x = torch.empty(5, 3)
        x = torch.zeros(5, 3, dtype=torch.long)
        x = torch.tensor([5.5, 3])
        x = x.new_ones(5, 3, dtype=torch.double)
        x = torch.randn_like(x, dtype=torch.float)
        y = torch.rand(5, 3)
        result = torch.empty(5, 3)
        torch.add(x, y, out=result)
        z = x.view(-1, 5)
        x = torch.randn(1)
        print(x)
        v = x.item()
    """)
    assert isinstance(ns["v"], float) and ns["z"].shape == (3, 5)
    assert printed.startswith("tensor([") and ns["result"].dtype is engine.float32


def test_cuda_block_runs_when_available_and_is_skipped_otherwise():
    ns, _ = run("""
        x = torch.ones(3)
        ran = False
        if torch.cuda.is_available():
            device = torch.device("cuda")
            y = torch.ones_like(x, device=device)
            x = x.to(device)
            z = x + y
            back = z.to("cpu", torch.double)
            ran = True
        count = torch.cuda.device_count()
    """)
    assert ns["ran"] == engine.cuda.is_available() and ns["count"] == engine.cuda.device_count()


def test_autograd_with_variable():
    _, printed = run("""
        from torch.autograd import Variable
        x = Variable(torch.ones(2, 2), requires_grad=True)
        print(x, x.data, x.grad, x.grad_fn)
        y = x + 2
        print(y.grad_fn)
        z = y * y * 3
        out = z.mean()
        print(z, out)
        out.backward(retain_graph=True)
        print(x.grad)
        y.backward(torch.randn(2, 2), retain_graph=True)
    """)
    lines = printed.splitlines()
    assert lines[0] == "tensor([[1., 1.],"
    assert "<AddBackward0 object at 0x" in printed
    assert "tensor([[27., 27.],\n        [27., 27.]], grad_fn=<MulBackward0>) tensor(27., grad_fn=<MeanBackward0>)" \
        in printed
    assert "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])" in printed


def test_backward_with_weights_per_output():
    ns, _ = run("""
        from torch.autograd import Variable
        x = Variable(torch.ones(2, 2), requires_grad=True)
        y = x.sum(1)
        y.backward(torch.Tensor([2, 3]))
    """)
    assert ns["x"].grad.tolist() == [[2.0, 2.0], [3.0, 3.0]]


def test_gradients_of_doubling_loop():
    ns, _ = run("""
        from torch.autograd import Variable
        torch.manual_seed(0)
        x = torch.randn(3)
        x = Variable(x, requires_grad=True)
        y = x * 2
        n = 1
        while y.data.norm() < 1000:
            y = y * 2
            n += 1
        gradients = torch.FloatTensor([0.1, 1.0, 0.0001])
        y.backward(gradients)
    """)
    factor = 2.0 ** ns["n"]
    np.testing.assert_allclose(ns["x"].grad.numpy(), np.array([0.1, 1.0, 0.0001], np.float32) * factor)


def test_requires_grad_and_no_grad_blitz():
    ns, _ = run("""
        x = torch.ones(2, 2, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        out.backward()
        a = torch.randn(2, 2)
        a = ((a * 3) / (a - 1))
        before = a.requires_grad
        a.requires_grad_(True)
        after = a.requires_grad
        b = (a * a).sum()
        with torch.no_grad():
            inside = (x ** 2).requires_grad
    """)
    assert ns["x"].grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]
    assert (ns["before"], ns["after"], ns["inside"]) == (False, True, False)
    assert ns["b"].grad_fn.name() == "SumBackward0"


def test_torch_range_view():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        ns, _ = run("""
            a = torch.range(1, 16)
            a = a.view(4, 4)
        """)
    assert ns["a"].tolist()[3] == [13.0, 14.0, 15.0, 16.0]


def test_update_weights_by_hand():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ns, _ = run("""
            w = torch.randn(3, requires_grad=True)
            loss = (w * w).sum()
            loss.backward()
            before = w.detach().numpy().copy()
            learning_rate = 0.01
            for f in [w]:
                f.data.sub_(f.grad.data * learning_rate)
        """)
    np.testing.assert_allclose(ns["w"].detach().numpy(), ns["before"] * (1 - 0.02), rtol=1e-6)
