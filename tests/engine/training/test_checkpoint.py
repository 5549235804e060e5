"""Checking a checkpoint against the trainer it is to continue: every mismatch is listed in one
``CheckpointError`` naming the file, and a refused checkpoint changes nothing."""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stop_at import StopAt

import engine
import engine.nn as nn
from engine.serialization import WeightFileError
from engine.training import Trainer
from engine.training.checkpoint import CheckpointError, read_checkpoint
from engine.training.trainer import check_fits
from engine.utils.data import DataLoader, TensorDataset
from engine.utils.files import FileError

DATA = TensorDataset(engine.randn(40, 4), engine.randint(0, 3, (40,)))  # 5 batches of 8


def make(optimizer="SGD", hidden=16, scheduler=None, callbacks=()):
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    opt = engine.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "SGD" \
        else getattr(engine.optim, optimizer)(model.parameters(), lr=0.01)
    sched = None if scheduler is None else engine.optim.lr_scheduler.StepLR(opt, step_size=1)
    loader = DataLoader(DATA, batch_size=8, shuffle=True)
    return Trainer(model, opt, nn.CrossEntropyLoss(), loader, scheduler=sched, seed=1, callbacks=callbacks)


@pytest.fixture(scope="module")
def mid_epoch_state():
    trainer = make(callbacks=[StopAt(7)])  # epoch 2, step 2
    trainer.fit(3)
    return trainer.state_dict()


def refused(trainer, state, tmp_path):
    """The message of loading ``state`` into ``trainer``; asserts the trainer's weights did not change."""
    engine.save(state, tmp_path / "checkpoint.llw")
    before = [p.detach().numpy().copy() for p in trainer.model.parameters()]
    with pytest.raises(CheckpointError) as info:
        trainer.load_checkpoint(tmp_path / "checkpoint.llw")
    after = [p.detach().numpy() for p in trainer.model.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert trainer.epoch == 0 and trainer.global_step == 0
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'checkpoint.llw'}: does not fit the network: ")
    return message


def test_a_fitting_checkpoint_has_no_problems(mid_epoch_state):
    trainer = make()
    check_fits("checkpoint.llw", mid_epoch_state, trainer.model, trainer.optimizer, None, steps_per_epoch=5)


def test_another_optimizer_is_refused(mid_epoch_state, tmp_path):
    message = refused(make("Adam"), mid_epoch_state, tmp_path)
    assert "the optimizer was SGD; the network's settings now say Adam" in message
    old = {k: v for k, v in mid_epoch_state.items() if k != "optimizer_kind"}  # written before the kind was kept
    message = refused(make("Adam"), old, tmp_path)
    assert "the optimizer state is not Adam's (it lacks the options betas, eps" in message


def test_optimizer_state_of_the_wrong_shape_or_keys_is_refused(mid_epoch_state, tmp_path):
    state = copy.deepcopy(mid_epoch_state)
    state["optimizer"]["state"][0]["momentum_buffer"] = engine.zeros(3)
    state["optimizer"]["state"][1] = {"step": 3.0}
    state["optimizer"]["state"][9] = {"momentum_buffer": engine.zeros(3)}
    message = refused(make(), state, tmp_path)
    assert "optimizer state 'momentum_buffer' of parameter 0 has shape (3,), the parameter (16, 4)" in message
    assert "optimizer state of parameter 1 has step; SGD keeps momentum_buffer" in message
    assert "optimizer state for a parameter that does not exist (9)" in message


def test_another_model_is_refused_with_every_mismatch(mid_epoch_state, tmp_path):
    message = refused(make(hidden=8), mid_epoch_state, tmp_path)
    assert "parameter shapes differ: 0.weight (16, 4) (the network's is (8, 4))" in message
    state = copy.deepcopy(mid_epoch_state)
    state["model"]["extra.weight"] = engine.zeros(1)
    del state["model"]["2.bias"]
    message = refused(make(), state, tmp_path)
    assert "the checkpoint lacks the parameters 2.bias" in message
    assert "the checkpoint has parameters the network does not: extra.weight" in message


def test_another_schedule_or_epoch_length_is_refused(mid_epoch_state, tmp_path):
    message = refused(make(scheduler="StepLR"), mid_epoch_state, tmp_path)
    assert "the schedule was none; the network's settings now say StepLR" in message
    state = dict(mid_epoch_state, steps_per_epoch=9)
    message = refused(make(), state, tmp_path)
    assert "the checkpoint stopped at step 2 of an epoch of 9 steps; the settings now give 5 steps per epoch" \
        in message


def test_damaged_progress_fields_are_refused(mid_epoch_state, tmp_path):
    state = dict(mid_epoch_state, epoch=-1, global_step=True, rng_state="{}", partial=[1.0],
                 history=[{"epoch": "one"}], loader={"base_seed": 1, "batches": 5, "sampler": {}})
    message = refused(make(), state, tmp_path)
    for problem in ("'epoch' must be a count, got -1", "'global_step' must be a count, got True",
                    "'history' is not a list of epoch records", "'partial' is not the running epoch's",
                    "'rng_state' is not a random generator's state", "'loader' is not the state of the training"):
        assert problem in message, problem


def test_files_that_are_not_checkpoints(tmp_path):
    engine.save([1, 2], tmp_path / "list.llw")
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        read_checkpoint(tmp_path / "list.llw")
    (tmp_path / "junk.llw").write_bytes(b"junk")
    with pytest.raises(WeightFileError):
        read_checkpoint(tmp_path / "junk.llw")


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70), st.floats(), st.text(max_size=8),
                    st.lists(st.integers(-2, 5), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(),
                                                                              max_size=2))


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["epoch", "global_step", "epoch_step", "steps_per_epoch", "partial", "rng_state",
                            "loader", "history", "optimizer", "scheduler", "optimizer_kind", "model"]),
       value=_VALUES)
def test_any_damaged_field_is_refused_or_loaded_never_a_crash(mid_epoch_state, key, value):
    trainer = make()
    state = dict(mid_epoch_state, **{key: value})
    try:
        trainer.check_state_dict(state)
    except FileError:
        return
    trainer.load_state_dict(state)


def test_an_old_checkpoint_lacking_newer_keyword_options_loads(mid_epoch_state, tmp_path):
    state = copy.deepcopy(mid_epoch_state)
    for key in ("optimizer_kind", "scheduler_kind"):
        del state[key]
    for group in state["optimizer"]["param_groups"]:
        del group["foreach"], group["maximize"]
    engine.save(state, tmp_path / "old.llw")
    trainer = make()
    trainer.load_checkpoint(tmp_path / "old.llw")
    assert (trainer.epoch, trainer.epoch_step, trainer.global_step) == (1, 2, 7)
    assert trainer.fit(2).status == "finished" and trainer.global_step == 10


@pytest.mark.parametrize("rng_state", [
    '{"bit_generator": "PCG64", "state": {"state": -1, "inc": 3}, "has_uint32": 0, "uinteger": 0}',
    '{"bit_generator": "PCG64", "state": {"state": 1e400, "inc": 3}, "has_uint32": 0, "uinteger": 0}',
    '{"bit_generator": "MT19937", "state": {"key": [1], "pos": 0}}', "[" * 100_000, "null",
])
def test_a_damaged_rng_state_is_refused(mid_epoch_state, tmp_path, rng_state):
    message = refused(make(), dict(mid_epoch_state, rng_state=rng_state), tmp_path)
    assert "'rng_state' is not a random generator's state" in message


_PATHS = [("optimizer", "param_groups", 0, "lr"), ("optimizer", "param_groups", 0, "momentum"),
          ("optimizer", "param_groups", 0, "nesterov"), ("optimizer", "param_groups", 0, "params"),
          ("optimizer", "state", 0, "momentum_buffer"), ("optimizer", "state", 0), ("optimizer", "param_groups", 0),
          ("loader", "base_seed"), ("loader", "batches"), ("loader", "sampler"), ("partial", 0), ("history",),
          ("model", "0.weight")]


@settings(max_examples=80, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(_PATHS), value=_VALUES)
def test_any_damaged_nested_field_is_refused_or_trains_on(mid_epoch_state, path, value):
    state = copy.deepcopy(mid_epoch_state)
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    trainer = make()
    try:
        trainer.check_state_dict(state)
    except FileError:
        return
    trainer.load_state_dict(state)
    info = trainer.fit(3)
    assert info.status == "finished" or info.message.startswith("the loss became"), info.message  # lr=1e9 diverges


def test_a_schedule_state_of_the_wrong_form_is_refused(tmp_path):
    trainer = make(scheduler="StepLR", callbacks=[StopAt(7)])
    trainer.fit(3)
    state = trainer.state_dict()
    state["scheduler"]["last_epoch"] = "seven"
    message = refused(make(scheduler="StepLR"), state, tmp_path)
    assert "the StepLR schedule's values last_epoch are of the wrong form" in message
    del state["scheduler"]["gamma"]
    assert "the schedule's state is not a StepLR's" in refused(make(scheduler="StepLR"), state, tmp_path)
