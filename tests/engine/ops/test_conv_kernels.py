"""The compiled convolution kernels (``engine.ops.conv_kernels``) against PyTorch: values and all three
gradients for the shapes they take (odd channel counts, 1x1 to 5x5 and non-square kernels, symmetric,
asymmetric and 'same' padding up to ``k - 1``, batches split over one or two threads), inf and NaN, and
the calls they must hand to the other implementations."""

import numpy as np
import pytest

import engine
from engine import backend
from engine import threads as threads_module
from engine.ops import conv_kernels, jit

torch = pytest.importorskip("torch")
pytest.importorskip("numba", reason="the compiled kernels need numba")

CASES = [
    dict(n=5, c=3, h=32, w=32, k=6, kh=5, kw=5, padding=0, bias=True),  # LeNet's conv1
    dict(n=4, c=6, h=14, w=14, k=16, kh=5, kw=5, padding=0, bias=True),  # LeNet's conv2
    dict(n=3, c=16, h=8, w=8, k=16, kh=3, kw=3, padding=1, bias=False),  # a ResNet block's
    dict(n=1, c=1, h=5, w=7, k=1, kh=1, kw=1, padding=0, bias=True),
    dict(n=2, c=4, h=9, w=10, k=3, kh=2, kw=3, padding=(1, 2), bias=True),
    dict(n=3, c=2, h=7, w=6, k=5, kh=4, kw=2, padding="same", bias=False),  # asymmetric padding
    dict(n=2, c=3, h=6, w=6, k=2, kh=3, kw=3, padding=2, bias=True),  # padding k - 1: every window partial
    dict(n=7, c=5, h=4, w=12, k=7, kh=3, kw=5, padding=(0, 4), bias=True),
]


def _run(m, x, w, b, case, need_input_grad=True):
    X = m.tensor(x, requires_grad=need_input_grad)
    W = m.tensor(w, requires_grad=True)
    B = m.tensor(b, requires_grad=True) if case["bias"] else None
    y = m.nn.functional.conv2d(X, W, B, padding=case["padding"])
    weights = np.cos(np.arange(np.prod(tuple(y.shape)))).reshape(tuple(y.shape)).astype(x.dtype)
    (y * m.tensor(weights)).sum().backward()
    grads = [X.grad.numpy()] if need_input_grad else []
    return [y.detach().numpy(), *grads, W.grad.numpy()] + ([B.grad.numpy()] if B is not None else [])


def _inputs(case, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    w = rng.standard_normal((case["k"], case["c"], case["kh"], case["kw"])).astype(dtype)
    b = rng.standard_normal(case["k"]).astype(dtype)
    return x, w, b


@pytest.fixture
def kernel_calls(monkeypatch):
    """The calls of the kernels' forward that ran."""
    calls = []
    forward = conv_kernels.forward
    monkeypatch.setattr(conv_kernels, "forward", lambda *args: calls.append(1) or forward(*args))
    return calls


@pytest.fixture(params=[1, 2], ids=["one-thread", "two-threads"])
def threads(request):
    before = engine.get_num_threads()
    engine.set_num_threads(request.param)
    yield request.param
    engine.set_num_threads(before)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's own note
@pytest.mark.parametrize("need_input_grad", [True, False], ids=["input-grad", "no-input-grad"])
@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_kernels_match_torch(case, need_input_grad, threads, kernel_calls):
    x, w, b = _inputs(case)
    with backend.disable("onednn"):  # a 1x1 case would take it
        ours = _run(engine, x, w, b, case, need_input_grad)
    theirs = _run(torch, x, w, b, case, need_input_grad)
    assert kernel_calls  # the compiled path ran (twice when it also made the input gradient)
    assert len(kernel_calls) == 1 + need_input_grad
    assert ours[0].flags.c_contiguous
    for a, e in zip(ours, theirs):
        assert a.dtype == e.dtype and a.shape == e.shape
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("change", [
    dict(dtype=np.float64), dict(stride=2), dict(stride=(1, 2)), dict(dilation=2), dict(groups=2),
    dict(padding=3),
], ids=["float64", "stride", "column-stride", "dilation", "groups", "padding-beyond-kernel"])
def test_calls_the_kernels_do_not_take_go_to_numpy(change, kernel_calls):
    case = dict(n=2, c=4, h=9, w=9, k=4, kh=3, kw=3, padding=change.get("padding", 1), bias=True)
    x, w, b = _inputs(case, change.get("dtype", np.float32))
    options = dict(stride=change.get("stride", 1), padding=case["padding"], dilation=change.get("dilation", 1),
                   groups=change.get("groups", 1))
    if options["groups"] > 1:
        w = w[:, :2]
    results = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        W = m.tensor(w, requires_grad=True)
        y = m.nn.functional.conv2d(X, W, m.tensor(b), **options)
        y.sum().backward()
        results.append([y.detach().numpy(), X.grad.numpy(), W.grad.numpy()])
    assert not kernel_calls
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("where", ["input", "weight"])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_non_finite_values_give_torchs_results_through_the_kernels(bad, where, kernel_calls):
    """The kernels run on inf and NaN (no scan first); the gradients they would spoil through their dropped
    columns come from the column-matrix way, so all of them keep PyTorch's inf/NaN pattern. (A non-finite
    weight is tried without padding: PyTorch's direct convolution never multiplies it by padding zeros.)"""
    case = dict(n=2, c=3, h=7, w=7, k=4, kh=3, kw=3, padding=1 if where == "input" else 0, bias=True)
    x, w, b = _inputs(case)
    (x if where == "input" else w)[1, 2, 3 if where == "input" else 0, 0] = bad
    ours, theirs = _run(engine, x, w, b, case), _run(torch, x, w, b, case)
    assert kernel_calls
    for a, e in zip(ours, theirs):
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(e))
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


def test_without_numba_the_numpy_path_runs(monkeypatch, kernel_calls):
    monkeypatch.setattr(jit, "numba", lambda: None)
    case = CASES[0]
    x, w, b = _inputs(case)
    ours, theirs = _run(engine, x, w, b, case), _run(torch, x, w, b, case)
    assert not kernel_calls
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-3)


def test_the_lenet_step_trains_the_same_on_both_paths():
    """Three SGD steps of the tutorial's conv layers give the same weights through the kernels as through
    the NumPy path (the kernels' sums run in another order, so equal to float32 rounding)."""
    rng = np.random.default_rng(1)
    x = engine.tensor(rng.standard_normal((8, 3, 32, 32)).astype(np.float32))

    def train():
        engine.manual_seed(0)
        net = engine.nn.Sequential(engine.nn.Conv2d(3, 6, 5), engine.nn.ReLU(), engine.nn.MaxPool2d(2),
                                   engine.nn.Conv2d(6, 16, 5))
        opt = engine.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
        return [p.detach().numpy() for p in net.parameters()]

    compiled = train()
    with backend.disable("compiled"):
        reference = train()
    for a, e in zip(compiled, reference):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("trainable", ["bias", "weight"])
def test_a_frozen_weight_or_bias_gets_no_gradient_and_the_other_its_own(trainable, kernel_calls):
    case = CASES[1]
    x, w, b = _inputs(case)
    grads = []
    for m in (engine, torch):
        W = m.tensor(w, requires_grad=trainable == "weight")
        B = m.tensor(b, requires_grad=trainable == "bias")
        m.nn.functional.conv2d(m.tensor(x), W, B).square().sum().backward()
        assert (W.grad is None) == (trainable == "bias") and (B.grad is None) == (trainable == "weight")
        grads.append((W if trainable == "weight" else B).grad.numpy())
    assert kernel_calls
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_large_strided_convolution_on_the_threaded_im2col(dtype, threads, kernel_calls):
    """Strided calls stay on im2col, whose column copy and col2im split channels over the threads once
    they are large enough."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 16, 32, 32)).astype(dtype)
    w = rng.standard_normal((32, 16, 3, 3)).astype(dtype)
    results = []
    for m in (engine, torch):
        X, W = m.tensor(x, requires_grad=True), m.tensor(w, requires_grad=True)
        y = m.nn.functional.conv2d(X, W, stride=2, padding=1)
        assert 16 * 9 * y.numel() // 32 >= threads_module.PARALLEL_MIN_SIZE  # the column matrix is split
        y.backward(m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype)))
        results.append([y.detach().numpy(), X.grad.numpy(), W.grad.numpy()])
    assert not kernel_calls
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol * float(np.abs(e).max()))


def test_the_chosen_implementation_is_recorded_and_backward_keeps_it():
    """``Op.apply`` records the implementation on the node; ``backend.prefer``/``disable`` steer the choice
    for the calls made inside them, and a backward run outside still uses the recorded one."""
    rng = np.random.default_rng(4)
    x = engine.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = engine.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    grads = {}
    for steer, name in [(backend.disable(), "compiled"), (backend.disable("compiled"), "wide"),
                        (backend.prefer("generic"), "generic")]:
        with steer:
            y = engine.nn.functional.conv2d(x, w, padding=1)
        assert y.grad_fn._impl.name == name
        x.grad = w.grad = None
        y.square().sum().backward()
        grads[name] = (x.grad.numpy(), w.grad.numpy())
    for name in ("compiled", "wide"):
        for a, e in zip(grads[name], grads["generic"]):
            np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)
    with backend.disable("generic", "onednn"), pytest.raises(RuntimeError, match="no implementation"):
        engine.nn.functional.conv2d(x, w, stride=2)
