"""Adadelta, Adagrad, Adamax, NAdam and RAdam against torch.optim: same parameters step for step, same state,
param groups, state-dict round trips (in memory and through ``engine.save``), errors and lr schedulers."""

import copy
import itertools

import numpy as np
import pytest
from test_optimizers import (
    Parameter,
    Problem,
    _both_raise,
    _case_id,
    _opt,
    assert_params_close,
    assert_states_close,
    run_side_by_side,
    set_engine_grads,
    set_torch_grads,
)

import engine
import engine.nn
import engine.optim as optim

torch = pytest.importorskip("torch")

NAMES = ["Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam"]

# the options particular to each optimizer, crossed with weight decay and maximize below
_SPECIFIC = {
    "Adadelta": [{"lr": 0.5}, {"lr": 0.5, "rho": 0.5, "eps": 1e-4}],
    "Adagrad": [{"lr": 0.1}, {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.5}],
    "Adamax": [{"lr": 0.05}, {"lr": 0.05, "betas": (0.3, 0.8)}],
    "NAdam": [{"lr": 0.05}, {"lr": 0.05, "decoupled_weight_decay": True, "momentum_decay": 0.1},
              {"lr": 0.05, "betas": (0.5, 0.9)}],
    "RAdam": [{"lr": 0.05}, {"lr": 0.05, "decoupled_weight_decay": True}, {"lr": 0.05, "betas": (0.5, 0.9)}],
}
CASES = [(name, {**kw, "weight_decay": wd, "maximize": maximize})
         for name in NAMES for kw, wd, maximize in itertools.product(_SPECIFIC[name], (0.0, 0.1), (False, True))]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch_over_20_steps(case):
    name, kwargs = case
    eopt, topt, _, _ = run_side_by_side(name, kwargs, seed=len(_case_id(case)))
    assert_states_close(eopt, topt)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(name):
    eopt, topt, _, _ = run_side_by_side(name, {}, steps=5)
    assert eopt.defaults == topt.defaults
    assert eopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    for k, tstate in topt.state_dict()["state"].items():
        assert list(eopt.state_dict()["state"][k]) == list(tstate)  # same keys in the same order
    assert_states_close(eopt, topt)


@pytest.mark.parametrize("name", NAMES)
def test_float64_params(name):
    problem = Problem(3, dtype=np.float64)
    eopt, topt, ep, _ = run_side_by_side(name, {"lr": 0.01, "weight_decay": 0.1}, steps=10, problem=problem)
    assert all(p.dtype == engine.float64 for p in ep)
    assert_states_close(eopt, topt)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_and_grad_is_not_written(name):
    problem = Problem(4, sign=-1)
    ep = problem.engine_params()
    opt = getattr(optim, name)(ep, lr=0.01, weight_decay=0.1, maximize=True)
    for _ in range(3):
        set_engine_grads(problem, ep)
        before = [p.grad.numpy().copy() for p in ep]
        opt.step()
        for p, b in zip(ep, before):
            np.testing.assert_array_equal(p.grad.numpy(), b)
    for p in ep:
        assert p._data.dtype == np.float32
        for key, value in opt.state[p].items():
            assert value._data.dtype == np.float32, key
    for buf in opt._workspace._bufs.values():
        assert buf.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_different_options(name):
    problem = Problem(6)
    ep, tp = problem.engine_params(), problem.torch_params()
    extra = {"rho": 0.5} if name == "Adadelta" else {"lr_decay": 0.2} if name == "Adagrad" else {"betas": (0.8, 0.99)}

    def groups(ps):
        return [{"params": ps[:2], "lr": 0.2, "weight_decay": 0.05, **extra}, {"params": ps[2:]}]

    eopt, topt = getattr(optim, name)(groups(ep), lr=0.01), getattr(torch.optim, name)(groups(tp), lr=0.01)
    for i in range(15):
        set_engine_grads(problem, ep, i)
        set_torch_grads(problem, tp, i)
        eopt.step()
        topt.step()
        assert_params_close(ep, tp)
    assert eopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    assert_states_close(eopt, topt)


def test_adagrad_state_exists_from_construction_as_in_torch():
    problem = Problem(5)
    ep, tp = problem.engine_params(), problem.torch_params()
    eopt = optim.Adagrad(ep[:2], initial_accumulator_value=0.25)
    topt = torch.optim.Adagrad(tp[:2], initial_accumulator_value=0.25)
    assert_states_close(eopt, topt)  # before any step
    # a group added later starts its state on its first step, from the constructor's accumulator value
    eopt.add_param_group({"params": ep[2:], "initial_accumulator_value": 3.0})
    topt.add_param_group({"params": tp[2:], "initial_accumulator_value": 3.0})
    assert sorted(eopt.state_dict()["state"]) == sorted(topt.state_dict()["state"]) == [0, 1]
    for i in range(5):
        set_engine_grads(problem, ep, i)
        set_torch_grads(problem, tp, i)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp)
    assert_states_close(eopt, topt)


@pytest.mark.parametrize("name,kwargs", [
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adamax", {"lr": 0.05, "maximize": True}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.01, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.01}),
])
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_round_trip_continues_like_uninterrupted(name, kwargs, through_file, tmp_path):
    problem = Problem(9, sign=-1 if kwargs.get("maximize") else 1)
    ep = problem.engine_params()
    opt = getattr(optim, name)(ep, **kwargs)
    for i in range(7):
        set_engine_grads(problem, ep, i)
        opt.step()
    if through_file:
        engine.save({"optimizer": opt.state_dict()}, tmp_path / "ckpt.pt")
        saved = engine.load(tmp_path / "ckpt.pt")["optimizer"]
    else:
        saved = copy.deepcopy(opt.state_dict())
    saved_params = [p.detach().numpy().copy() for p in ep]
    for i in range(7, 14):
        set_engine_grads(problem, ep, i)
        opt.step()

    ep2 = [Parameter(a.copy()) for a in saved_params]
    opt2 = getattr(optim, name)(ep2, lr=123.0)  # options come from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    for i in range(7, 14):
        set_engine_grads(problem, ep2, i)
        opt2.step()
    for a, b in zip(ep, ep2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_nadam_loads_old_numeric_step_and_mu_product():
    problem = Problem(10)
    eopt, topt, ep, tp = run_side_by_side("NAdam", {"lr": 0.05}, steps=3, problem=problem)
    sd = copy.deepcopy(eopt.state_dict())
    for s in sd["state"].values():
        s["step"], s["mu_product"] = s["step"].item(), s["mu_product"].item()
    opt2 = optim.NAdam(ep)
    opt2.load_state_dict(sd)
    for s in opt2.state.values():
        assert isinstance(s["mu_product"], engine.Tensor) and s["mu_product"].dtype == engine.float32
        assert isinstance(s["step"], engine.Tensor)
    for i in range(3):
        set_engine_grads(problem, ep, i)
        set_torch_grads(problem, tp, i)
        opt2.step()
        topt.step()
    assert_params_close(ep, tp)


@pytest.mark.parametrize("name", NAMES)
def test_lr_scheduler_drives_them_as_torch(name):
    problem = Problem(11)
    ep, tp = problem.engine_params(), problem.torch_params()
    eopt, topt = getattr(optim, name)(ep, lr=0.1), getattr(torch.optim, name)(tp, lr=0.1)
    esched = optim.lr_scheduler.StepLR(eopt, step_size=2, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    for i in range(6):
        set_engine_grads(problem, ep, i)
        set_torch_grads(problem, tp, i)
        eopt.step()
        topt.step()
        esched.step()
        tsched.step()
        assert esched.get_last_lr() == pytest.approx(tsched.get_last_lr())
    assert_params_close(ep, tp)


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_tensor_lr(name):
    problem = Problem(13)
    ep, tp = problem.engine_params(), problem.torch_params()
    eopt = getattr(optim, name)(ep, lr=engine.tensor(0.01))
    topt = getattr(torch.optim, name)(tp, lr=torch.tensor(0.01))
    for i in range(5):
        set_engine_grads(problem, ep, i)
        set_torch_grads(problem, tp, i)
        eopt.step()
        topt.step()
    assert_params_close(ep, tp)


@pytest.mark.parametrize("build", [
    lambda m, p: _opt(m, "Adadelta")([p], lr=-1),
    lambda m, p: _opt(m, "Adadelta")([p], rho=1.5),
    lambda m, p: _opt(m, "Adadelta")([p], eps=-1),
    lambda m, p: _opt(m, "Adadelta")([p], weight_decay=-1),
    lambda m, p: _opt(m, "Adagrad")([p], lr=-1),
    lambda m, p: _opt(m, "Adagrad")([p], lr_decay=-1),
    lambda m, p: _opt(m, "Adagrad")([p], weight_decay=-1),
    lambda m, p: _opt(m, "Adagrad")([p], initial_accumulator_value=-1),
    lambda m, p: _opt(m, "Adagrad")([p], eps=-1),
    lambda m, p: _opt(m, "Adamax")([p], lr=-1),
    lambda m, p: _opt(m, "Adamax")([p], eps=-1),
    lambda m, p: _opt(m, "Adamax")([p], betas=(1.0, 0.999)),
    lambda m, p: _opt(m, "Adamax")([p], betas=(0.9, -0.1)),
    lambda m, p: _opt(m, "Adamax")([p], weight_decay=-1),
    lambda m, p: _opt(m, "NAdam")([p], lr=-1),
    lambda m, p: _opt(m, "NAdam")([p], betas=(0.9, 1.0)),
    lambda m, p: _opt(m, "NAdam")([p], momentum_decay=-1),
    lambda m, p: _opt(m, "NAdam")([p], weight_decay=-1),
    lambda m, p: _opt(m, "RAdam")([p], lr=-1),
    lambda m, p: _opt(m, "RAdam")([p], eps=-1),
    lambda m, p: _opt(m, "RAdam")([p], betas=(-0.1, 0.9)),
    lambda m, p: _opt(m, "RAdam")([p], weight_decay=-1),
    lambda m, p: _opt(m, "RAdam")([], lr=0.1),
    lambda m, p: _opt(m, "Adamax")([p], lr=m.ones(2)),
])
def test_errors_match_torch(build):
    _both_raise(build)


def test_int_betas_are_accepted_as_in_torch():
    p = Parameter(np.ones(2, np.float32))
    for name in ("Adamax", "NAdam", "RAdam"):  # Adam refuses mixed float/int betas; these do not
        ours = getattr(optim, name)([p], betas=(0, 0.5))
        theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], betas=(0, 0.5))
        assert ours.param_groups[0]["betas"] == theirs.param_groups[0]["betas"] == (0, 0.5)


@pytest.mark.parametrize("name", NAMES)
def test_differentiable_is_refused(name):
    with pytest.raises(RuntimeError, match="differentiable"):
        getattr(optim, name)([Parameter(np.ones(2, np.float32))], differentiable=True)


# ----- devices (a NumPy-backed CuPy stand-in: proves the device plumbing, not CuPy) -----
@pytest.mark.parametrize("name", NAMES)
def test_on_fake_cuda_device_matches_cpu(fake_cuda, name):
    problem = Problem(14)
    kwargs = {"lr": 0.05, "weight_decay": 0.01}
    cpu = problem.engine_params()
    dev = [engine.nn.Parameter(engine.tensor(s.copy(), device="cuda:1")) for s in problem.starts]
    copt, dopt = getattr(optim, name)(cpu, **kwargs), getattr(optim, name)(dev, **kwargs)
    for i in range(5):
        set_engine_grads(problem, cpu, i)
        for p, g in zip(dev, problem.grads([p.detach().cpu().numpy() for p in dev], i)):
            p.grad = engine.tensor(g, device="cuda:1")
        copt.step()
        dopt.step()
    for c, d in zip(cpu, dev):
        assert d.device == engine.device("cuda:1")
        np.testing.assert_allclose(d.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-6, atol=1e-7)
    for p in dev:
        for key, value in dopt.state[p].items():
            if key not in ("step", "mu_product"):
                assert value.device == engine.device("cuda:1"), key
    # a state loaded onto the device continues in lockstep
    fresh = [engine.nn.Parameter(p.detach().clone()) for p in dev]
    opt2 = getattr(optim, name)(fresh, lr=1.0)
    opt2.load_state_dict(copy.deepcopy(dopt.state_dict()))
    for i in range(5, 7):
        for params, opt in ((dev, dopt), (fresh, opt2)):
            for p, g in zip(params, problem.grads([p.detach().cpu().numpy() for p in params], i)):
                p.grad = engine.tensor(g, device="cuda:1")
            opt.step()
    for a, b in zip(dev, fresh):
        assert b.device == engine.device("cuda:1")
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
