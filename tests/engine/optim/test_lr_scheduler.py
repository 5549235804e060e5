"""engine.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates, step for step."""

import copy
import math
import warnings

import numpy as np
import pytest

import engine
import engine.nn
import engine.optim as optim
from engine.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 60


def make_pair(name="SGD", lrs=(0.1, 0.01), **kwargs):
    """An engine and a torch optimizer over two param groups with learning rates ``lrs``."""
    ep = [engine.nn.Parameter(engine.tensor(np.ones(3, np.float32))) for _ in lrs]
    tp = [torch.nn.Parameter(torch.ones(3)) for _ in lrs]
    eopt = getattr(optim, name)([{"params": [p], "lr": lr} for p, lr in zip(ep, lrs)], **kwargs)
    topt = getattr(torch.optim, name)([{"params": [p], "lr": lr} for p, lr in zip(tp, lrs)], **kwargs)
    return eopt, topt


def group_values(opt):
    out = []
    for g in opt.param_groups:
        out.append((g["lr"], g.get("momentum"), g.get("betas")))
    return out


def assert_same_values(eopt, topt, esched, tsched):
    assert esched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
    for (elr, em, eb), (tlr, tm, tb) in zip(group_values(eopt), group_values(topt)):
        assert elr == pytest.approx(tlr, rel=1e-12, abs=1e-15)
        for mine, theirs in ((em, tm), (eb, tb)):  # None where the optimizer has no such option
            assert mine == theirs if theirs is None else mine == pytest.approx(theirs, rel=1e-12)


def run_side_by_side(build, opt_name="SGD", opt_kwargs=None, steps=STEPS, lrs=(0.1, 0.01)):
    eopt, topt = make_pair(opt_name, lrs, **(opt_kwargs or {}))
    esched, tsched = build(lr_scheduler, eopt), build(torch.optim.lr_scheduler, topt)
    assert_same_values(eopt, topt, esched, tsched)
    assert getattr(esched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    for _ in range(steps):
        eopt.step()
        topt.step()
        esched.step()
        tsched.step()
        assert_same_values(eopt, topt, esched, tsched)
        assert getattr(esched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    return eopt, topt, esched, tsched


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=1e-4),
    "CosineAnnealingLR-default": lambda m, o: m.CosineAnnealingLR(o, T_max=25),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95**e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.9**e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=13),
    "LinearLR-default": lambda m, o: m.LinearLR(o),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.4, total_iters=9),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=30, power=2.0),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-3),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6, mode="triangular2"),
    "CyclicLR-exp": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=4,
                                            step_size_down=7, mode="exp_range", gamma=0.97),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=40, eta_min=1e-4)],
        milestones=[10]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=5, gamma=0.5)], milestones=[8, 20]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, gamma=0.95), m.MultiStepLR(o, milestones=[10, 20], gamma=0.5)]),
    "OneCycleLR-cos": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 1),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(
        o, max_lr=[0.5, 0.2], epochs=6, steps_per_epoch=11, anneal_strategy="linear", three_phase=True,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=STEPS + 5,
                                                        cycle_momentum=False),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_matches_torch(name):
    kwargs = {"momentum": 0.9} if "OneCycle" in name or "Cyclic" in name else {}
    run_side_by_side(SCHEDULERS[name], opt_kwargs=kwargs)


@pytest.mark.parametrize("name", ["OneCycleLR-cos", "OneCycleLR-linear-3phase", "CyclicLR"])
@pytest.mark.parametrize("opt_name", ["Adam", "AdamW"])
def test_cycle_momentum_with_adam_betas(name, opt_name):
    eopt, _, _, _ = run_side_by_side(SCHEDULERS[name], opt_name=opt_name)
    assert eopt.param_groups[0]["betas"][1] == 0.999


def test_cycle_momentum_needs_momentum():
    # RMSprop has a 'momentum' option: OneCycleLR cycles it, as in torch
    run_side_by_side(SCHEDULERS["OneCycleLR-cos"], opt_name="RMSprop", opt_kwargs={"momentum": 0.5})

    class NoMomentum(optim.SGD):
        def __init__(self, params):
            super().__init__(params, lr=0.1)
            del self.defaults["momentum"]

    p = engine.nn.Parameter(engine.ones(2))
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1 with `cycle_momentum`"):
        lr_scheduler.OneCycleLR(NoMomentum([p]), max_lr=0.1, total_steps=10)


def test_one_cycle_rejects_too_many_steps():
    for mod, opt in zip((lr_scheduler, torch.optim.lr_scheduler), make_pair(momentum=0.9)):
        sched = mod.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                opt.step()
                sched.step()
            with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
                sched.step()


def test_initial_lr_and_base_lrs():
    eopt, topt = make_pair()
    es, ts = lr_scheduler.StepLR(eopt, 3), torch.optim.lr_scheduler.StepLR(topt, 3)
    assert [g["initial_lr"] for g in eopt.param_groups] == [g["initial_lr"] for g in topt.param_groups] == [0.1, 0.01]
    assert es.base_lrs == ts.base_lrs
    assert es.last_epoch == 0 and es._step_count == 1


def test_resume_with_last_epoch_needs_initial_lr():
    eopt, topt = make_pair()
    with pytest.raises(KeyError) as terr:
        torch.optim.lr_scheduler.StepLR(topt, 3, last_epoch=4)
    with pytest.raises(KeyError) as eerr:
        lr_scheduler.StepLR(eopt, 3, last_epoch=4)
    assert str(eerr.value) == str(terr.value)


def test_resume_with_last_epoch():
    eopt, topt = make_pair()
    for opt in (eopt, topt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
    es = lr_scheduler.CosineAnnealingLR(eopt, T_max=20, last_epoch=5)
    ts = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=20, last_epoch=5)
    assert_same_values(eopt, topt, es, ts)
    for _ in range(10):
        eopt.step()
        topt.step()
        es.step()
        ts.step()
        assert_same_values(eopt, topt, es, ts)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "ExponentialLR", "LinearLR",
                                  "PolynomialLR", "ConstantLR", "CosineAnnealingWarmRestarts"])
def test_step_with_epoch_uses_closed_form(name):
    eopt, topt = make_pair(momentum=0.9)
    es, ts = SCHEDULERS[name](lr_scheduler, eopt), SCHEDULERS[name](torch.optim.lr_scheduler, topt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 4, 10, 2, 25, 26]:
            eopt.step()
            topt.step()
            es.step(epoch)
            ts.step(epoch)
            assert_same_values(eopt, topt, es, ts)


# ----- ReduceLROnPlateau -----
def _metrics(n, seed):
    rng = np.random.default_rng(seed)
    base = np.concatenate([np.linspace(1.0, 0.5, n // 3), np.full(n - n // 3, 0.5)])
    return list(base + 0.01 * rng.standard_normal(n))


@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "min", "factor": 0.5, "patience": 3},
    {"mode": "max", "factor": 0.3, "patience": 2, "threshold": 0.01},
    {"threshold_mode": "abs", "threshold": 0.005, "patience": 2, "cooldown": 3},
    {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": [1e-3, 5e-4]},
    {"patience": 1, "factor": 0.5, "min_lr": 0.004, "eps": 1e-3},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    eopt, topt = make_pair()
    es = lr_scheduler.ReduceLROnPlateau(eopt, **kwargs)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = _metrics(STEPS, 0)
    if kwargs.get("mode") == "max":
        metrics = [-m for m in metrics]
    changes = 0
    for m in metrics:
        before = eopt.param_groups[0]["lr"]
        eopt.step()
        topt.step()
        es.step(m)
        ts.step(torch.tensor(m))
        changes += eopt.param_groups[0]["lr"] != before
        assert_same_values(eopt, topt, es, ts)
        assert (es.best, es.num_bad_epochs, es.cooldown_counter) == (ts.best, ts.num_bad_epochs, ts.cooldown_counter)
    assert changes > 0


def test_reduce_lr_on_plateau_accepts_engine_tensor_metric():
    eopt, _ = make_pair()
    es = lr_scheduler.ReduceLROnPlateau(eopt, patience=0)
    es.step(engine.tensor(1.0))
    es.step(engine.tensor(2.0))
    assert eopt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_reduce_lr_on_plateau_errors():
    eopt, topt = make_pair()
    for kwargs in [{"factor": 1.0}, {"mode": "mid"}, {"threshold_mode": "x"}, {"min_lr": [0.1]}]:
        with pytest.raises(ValueError) as terr:
            torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
        with pytest.raises(ValueError) as eerr:
            lr_scheduler.ReduceLROnPlateau(eopt, **kwargs)
        assert str(eerr.value) == str(terr.value)


def test_reduce_lr_on_plateau_state_dict():
    eopt, _ = make_pair()
    es = lr_scheduler.ReduceLROnPlateau(eopt, patience=1, mode="max")
    for m in [1.0, 0.9, 0.8]:
        es.step(m)
    sd = copy.deepcopy(es.state_dict())
    assert "optimizer" not in sd
    es2 = lr_scheduler.ReduceLROnPlateau(make_pair()[0])
    es2.load_state_dict(sd)
    assert (es2.mode, es2.best, es2.num_bad_epochs, es2.last_epoch) == ("max", 1.0, 0, 3)
    assert es2._is_better(1.5, 1.0)


# ----- state dict round trips -----
@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR-cos", "SequentialLR",
                                  "LambdaLR", "CyclicLR", "ChainedScheduler", "CosineAnnealingWarmRestarts"])
def test_state_dict_round_trip(name):
    build = SCHEDULERS[name]
    eopt, _ = make_pair(momentum=0.9)
    sched = build(lr_scheduler, eopt)
    for _ in range(20):
        eopt.step()
        sched.step()
    opt_sd = copy.deepcopy(eopt.state_dict())
    sched_sd = copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_sd
    for _ in range(20):
        eopt.step()
        sched.step()
    uninterrupted = [g["lr"] for g in eopt.param_groups]

    eopt2, _ = make_pair(momentum=0.9)
    sched2 = build(lr_scheduler, eopt2)
    eopt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert getattr(sched2, "last_epoch", 20) == 20 or name == "SequentialLR"
    for _ in range(20):
        eopt2.step()
        sched2.step()
    assert [g["lr"] for g in eopt2.param_groups] == pytest.approx(uninterrupted, rel=1e-12)
    assert sched2.get_last_lr() == pytest.approx(uninterrupted, rel=1e-12)


def test_state_dict_keys_match_torch():
    for name in ["StepLR", "OneCycleLR-cos", "LambdaLR", "SequentialLR"]:
        eopt, topt = make_pair(momentum=0.9)
        es, ts = SCHEDULERS[name](lr_scheduler, eopt), SCHEDULERS[name](torch.optim.lr_scheduler, topt)
        assert set(es.state_dict()) == set(ts.state_dict()), name


def test_lambda_state_dict_saves_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    eopt, _ = make_pair()
    sched = lr_scheduler.LambdaLR(eopt, [Decay(0.5), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    sched2 = lr_scheduler.LambdaLR(make_pair()[0], [Decay(0.9), lambda e: 1.0])
    sched2.load_state_dict(sd)
    assert sched2.lr_lambdas[0].rate == 0.5
    assert "lr_lambdas" in sd  # the caller's dict is left whole


# ----- warnings and errors, as torch -----
def test_warns_when_scheduler_steps_before_optimizer():
    eopt, _ = make_pair()
    sched = lr_scheduler.StepLR(eopt, 2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        sched.step()


def test_no_warning_in_the_right_order():
    eopt, _ = make_pair()
    sched = lr_scheduler.ExponentialLR(eopt, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            eopt.step()
            sched.step()


def test_get_lr_outside_step_warns():
    eopt, _ = make_pair()
    sched = lr_scheduler.StepLR(eopt, 2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


@pytest.mark.parametrize("build", [
    lambda m, o: m.StepLR(object(), 3),
    lambda m, o: m.LinearLR(o, start_factor=0),
    lambda m, o: m.LinearLR(o, end_factor=1.5),
    lambda m, o: m.ConstantLR(o, factor=2.0),
    lambda m, o: m.LambdaLR(o, [lambda e: 1.0]),
    lambda m, o: m.MultiplicativeLR(o, 0.5),
    lambda m, o: m.SequentialLR(o, [], milestones=[]),
    lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], milestones=[]),
    lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], milestones=[]),
    lambda m, o: m.ChainedScheduler([]),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=3),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda m, o: m.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10),
    lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="nope"),
    lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
])
def test_errors_match_torch(build):
    eopt, topt = make_pair(momentum=0.9)
    with pytest.raises(Exception) as terr:
        build(torch.optim.lr_scheduler, topt)
    with pytest.raises(terr.type) as eerr:
        build(lr_scheduler, eopt)
    expected = str(terr.value).replace("torch.optim.sgd.SGD", "engine.optim.sgd.SGD")
    assert str(eerr.value).split(" has ")[0] == expected.split(" has ")[0]


def test_scheduler_on_tensor_lr():
    p = engine.nn.Parameter(engine.ones(2))
    opt = optim.Adam([p], lr=engine.tensor(0.1))
    lr_tensor = opt.param_groups[0]["lr"]
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr_tensor  # filled in place
    assert float(lr_tensor) == pytest.approx(0.05)
    assert isinstance(sched.get_last_lr()[0], engine.Tensor)


def test_importable_as_submodule():
    import engine.optim.lr_scheduler as mod

    assert mod is optim.lr_scheduler
    assert issubclass(mod.OneCycleLR, mod.LRScheduler)
    assert math.isinf(mod.ReduceLROnPlateau(make_pair()[0]).best)
