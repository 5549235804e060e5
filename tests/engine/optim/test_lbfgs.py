"""LBFGS against torch.optim.LBFGS, with and without the strong-Wolfe line search: the same iterates on a
least-squares problem and a small MLP, the same state and evaluation counts, state-dict round trips (in memory
and through ``engine.save``), the closure protocol, lr schedulers and PyTorch's errors."""

import copy

import numpy as np
import pytest
from test_optimizers import Parameter, _both_raise, _opt

import engine
import engine.nn
import engine.optim as optim

torch = pytest.importorskip("torch")

LINE_SEARCHES = [None, "strong_wolfe"]


def _data(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = rng.standard_normal((32, 2)).astype(np.float32)
    weights = [(rng.standard_normal((5, 8)) * 0.5).astype(np.float32), np.zeros(8, np.float32),
               (rng.standard_normal((8, 2)) * 0.5).astype(np.float32)]
    return x, y, weights


def _numpy_loss_and_grads(weights, x, y, kind):
    """The mean squared error of the model and its gradients, in float64 NumPy from the float32 weights."""
    w = [np.asarray(a, np.float64) for a in weights]
    x, y = x.astype(np.float64), y.astype(np.float64)
    if kind == "lstsq":
        d = x @ w[0] + w[1] - y
        gd = 2 * d / d.size
        return (d * d).mean(), [x.T @ gd, gd.sum(0)]
    h = np.tanh(x @ w[0] + w[1])
    d = h @ w[2] - y
    gd = 2 * d / d.size
    gh = gd @ w[2].T * (1 - h * h)
    return (d * d).mean(), [x.T @ gh, gh.sum(0), h.T @ gd]


class Fit:
    """A model, its data and an LBFGS optimizer on one library (``engine`` or ``torch``).

    ``kind``: ``'lstsq'`` (a linear least-squares fit) or ``'mlp'`` (one tanh hidden layer). With
    ``numpy_grads`` the closure takes the loss and gradients from NumPy (the same numbers for both
    libraries), so only the optimizers' own float32 rounding separates them; else from each library's autograd.
    """

    def __init__(self, lib, kind, seed=0, params=None, numpy_grads=False, **kwargs):
        self.lib = lib
        self.data = x, y, weights = _data(seed)
        if kind == "lstsq":
            weights = [np.zeros((5, 2), np.float32), np.zeros(2, np.float32)]
        weights = params if params is not None else weights
        if lib is engine:
            self.params = [Parameter(w.copy()) for w in weights]
            self.x, self.y = engine.tensor(x), engine.tensor(y)
        else:
            self.params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
            self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.kind = kind
        self.numpy_grads = numpy_grads
        self.calls = 0
        self.opt = lib.optim.LBFGS(self.params, **kwargs)

    def closure(self):
        self.calls += 1
        self.opt.zero_grad()
        p = self.params
        if self.numpy_grads:
            loss, grads = _numpy_loss_and_grads([q.detach().numpy() for q in p], *self.data[:2], self.kind)
            for q, g in zip(p, grads):
                q.grad = self.lib.tensor(g.astype(np.float32))
            return self.lib.tensor(np.float32(loss))
        out = self.x @ p[0] + p[1] if self.kind == "lstsq" else (self.x @ p[0] + p[1]).tanh() @ p[2]
        d = out - self.y
        loss = (d * d).mean()
        loss.backward()
        return loss

    def step(self):
        return self.opt.step(self.closure).item()

    def weights(self):
        return [p.detach().numpy().copy() for p in self.params]


def _assert_same_state(eopt, topt, rtol, atol):
    es, ts = eopt.state_dict()["state"], topt.state_dict()["state"]
    assert list(es) == list(ts) == [0]
    es, ts = es[0], ts[0]
    assert sorted(es) == sorted(ts)
    for key in ("func_evals", "n_iter"):
        assert es[key] == ts[key], key
    for key in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(es[key].numpy(), ts[key].numpy(), rtol=rtol, atol=atol, err_msg=key)
        assert es[key].dtype == engine.float32
    for key in ("old_dirs", "old_stps", "ro"):
        assert len(es[key]) == len(ts[key]), key
        for e, t in zip(es[key], ts[key]):
            np.testing.assert_allclose(np.asarray(e.numpy()), t.numpy(), rtol=rtol, atol=atol, err_msg=key)
    assert es["prev_loss"] == pytest.approx(ts["prev_loss"], rel=rtol)


@pytest.mark.parametrize("kind", ["lstsq", "mlp"])
@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
@pytest.mark.parametrize("history_size", [100, 2])
def test_matches_torch_on_the_same_gradients(kind, line_search_fn, history_size):
    kwargs = {"line_search_fn": line_search_fn, "max_iter": 5, "history_size": history_size}
    efit, tfit = (Fit(lib, kind, numpy_grads=True, **kwargs) for lib in (engine, torch))
    # torch's add with alpha is one fused multiply-add, NumPy's two roundings: ulps apart after one iteration,
    # which the non-convex fit (with a fixed step and a short history most) amplifies over ten
    rtol, atol = (1e-5, 1e-6) if kind == "lstsq" else (1e-4, 1e-5)
    for _ in range(2):
        assert efit.step() == pytest.approx(tfit.step(), rel=1e-6)
        for e, t in zip(efit.weights(), tfit.weights()):
            np.testing.assert_allclose(e, t, rtol=rtol, atol=atol)
    assert efit.calls == tfit.calls
    assert len(efit.opt.state[efit.params[0]]["old_dirs"]) <= history_size
    _assert_same_state(efit.opt, tfit.opt, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
def test_least_squares_with_engine_autograd_reaches_the_solution(line_search_fn):
    fit = Fit(engine, "lstsq", line_search_fn=line_search_fn)
    losses = [fit.step() for _ in range(3)]
    assert losses[-1] < losses[0]
    x, y, _ = fit.data
    a = np.hstack([x, np.ones((32, 1), np.float32)]).astype(np.float64)
    solution = np.linalg.lstsq(a, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(np.vstack([w.reshape(-1, 2) for w in fit.weights()]), solution, atol=1e-4)


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
def test_mlp_with_engine_autograd_matches_torch(line_search_fn):
    # each library's own forward and backward: their float32 roundings differ, and L-BFGS carries that on
    kwargs = {"line_search_fn": line_search_fn, "max_iter": 5}
    efit, tfit = Fit(engine, "mlp", **kwargs), Fit(torch, "mlp", **kwargs)
    for _ in range(2):
        assert efit.step() == pytest.approx(tfit.step(), rel=1e-5)
    for e, t in zip(efit.weights(), tfit.weights()):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5)
    assert efit.calls == tfit.calls


def test_evaluation_budget_and_tolerances_as_torch():
    kwargs = {"max_iter": 7, "max_eval": 4, "tolerance_change": 1e-3, "line_search_fn": "strong_wolfe"}
    efit, tfit = Fit(engine, "mlp", **kwargs), Fit(torch, "mlp", **kwargs)
    for _ in range(2):
        efit.step()
        tfit.step()
    assert efit.calls == tfit.calls
    assert efit.opt.param_groups[0]["max_eval"] == 4
    assert efit.opt.defaults == tfit.opt.defaults
    assert Fit(engine, "mlp", max_iter=8).opt.defaults["max_eval"] == 10  # max_iter * 5 // 4, as in torch


def test_already_optimal_returns_after_one_evaluation():
    efit = Fit(engine, "mlp", tolerance_grad=1e3)
    loss = efit.opt.step(efit.closure)
    assert isinstance(loss, engine.Tensor)
    assert efit.calls == 1
    assert set(efit.opt.state[efit.params[0]]) == {"func_evals", "n_iter"}


def test_closure_runs_with_grad_enabled_and_step_records_no_graph():
    efit = Fit(engine, "lstsq")
    seen = []
    closure = efit.closure

    def watched():
        seen.append(engine.is_grad_enabled())
        return closure()

    with engine.no_grad():
        efit.opt.step(watched)
    assert seen and all(seen)
    assert all(p.is_leaf and p.grad_fn is None for p in efit.params)


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_round_trip_continues_like_uninterrupted(line_search_fn, through_file, tmp_path):
    kwargs = {"line_search_fn": line_search_fn, "max_iter": 4, "history_size": 3}
    fit = Fit(engine, "mlp", **kwargs)
    for _ in range(2):
        fit.step()
    if through_file:
        engine.save({"optimizer": fit.opt.state_dict()}, tmp_path / "ckpt.pt")
        saved = engine.load(tmp_path / "ckpt.pt")["optimizer"]
    else:
        saved = copy.deepcopy(fit.opt.state_dict())
    saved_weights = fit.weights()
    for _ in range(2):
        fit.step()

    fit2 = Fit(engine, "mlp", params=saved_weights, lr=123.0)  # options come from the state dict
    fit2.opt.load_state_dict(saved)
    assert fit2.opt.param_groups[0]["line_search_fn"] == line_search_fn
    for _ in range(2):
        fit2.step()
    for a, b in zip(fit.weights(), fit2.weights()):
        np.testing.assert_array_equal(a, b)


def test_lr_scheduler_drives_it_as_torch():
    efit, tfit = Fit(engine, "mlp", max_iter=3), Fit(torch, "mlp", max_iter=3)
    esched = optim.lr_scheduler.StepLR(efit.opt, step_size=1, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(tfit.opt, step_size=1, gamma=0.5)
    for _ in range(3):
        efit.step()
        tfit.step()
        esched.step()
        tsched.step()
        assert esched.get_last_lr() == pytest.approx(tsched.get_last_lr())
    for e, t in zip(efit.weights(), tfit.weights()):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5)


def test_unknown_line_search_is_refused_at_step_as_in_torch():
    for lib in (engine, torch):
        fit = Fit(lib, "lstsq", line_search_fn="armijo")
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            fit.step()


@pytest.mark.parametrize("build", [
    lambda m, p: _opt(m, "LBFGS")([p], lr=-1),
    lambda m, p: _opt(m, "LBFGS")([{"params": [p]}, {"params": [m.nn.Parameter(m.ones(1))]}]),
    lambda m, p: _opt(m, "LBFGS")([p], lr=m.ones(2)),
    lambda m, p: _opt(m, "LBFGS")([]),
])
def test_errors_match_torch(build):
    _both_raise(build)


def test_params_without_grad_count_as_zero_gradient():
    used, unused = Parameter(np.ones(3, np.float32)), Parameter(np.full(2, 5.0, np.float32))
    opt = optim.LBFGS([used, unused])

    def closure():
        opt.zero_grad()
        loss = ((used - 2.0) * (used - 2.0)).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(used.detach().numpy(), 2.0, atol=1e-5)
    np.testing.assert_array_equal(unused.detach().numpy(), 5.0)


def test_on_fake_cuda_device_matches_cpu(fake_cuda):
    x, y, _ = _data(0)
    results = []
    for dev in ("cpu", "cuda:1"):
        w = Parameter(np.zeros((5, 2), np.float32)).to(dev).detach().requires_grad_()
        ex, ey = engine.tensor(x, device=dev), engine.tensor(y, device=dev)
        opt = optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=6)

        def closure(opt=opt, w=w, ex=ex, ey=ey):
            opt.zero_grad()
            d = ex @ w - ey
            loss = (d * d).mean()
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        assert w.device == engine.device(dev)
        assert opt.state[w]["d"].device == engine.device(dev)
        results.append(w.detach().cpu().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-7)
