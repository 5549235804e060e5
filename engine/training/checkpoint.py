"""Checkpoints: reading one, and checking that it fits the model, optimizer and schedule it is to continue,
before anything is loaded into them or written to the run folder.

A checkpoint (``Trainer.state_dict``) holds the model's, the optimizer's and the scheduler's state, the kinds of
optimizer and scheduler, and the progress: epochs completed, the global step and the step within the running
epoch. One taken mid-epoch also holds what continuing that epoch exactly needs: the epoch's partial metrics,
the engine's RNG state after the last step and the training loader's pass (``DataLoader.state_dict``). A
checkpoint written before those fields existed resumes at the start of the next epoch.
"""

import inspect
import json

import numpy as np

from ..creation import zeros
from ..nn import Parameter
from ..serialization import load
from ..tensor import Tensor
from ..utils.files import FileError

_REQUIRED = ("model", "optimizer", "epoch", "global_step")
_MAX_LISTED = 8  # mismatching names listed before "and N more"


class CheckpointError(FileError, RuntimeError):
    """A checkpoint that cannot be written, or that does not fit the network it is to continue."""


def read_checkpoint(path):
    """The state saved in ``path`` (on the CPU); ``CheckpointError`` when it is not a training checkpoint (the
    file's own faults are ``WeightFileError``)."""
    state = load(path, map_location="cpu")
    if not isinstance(state, dict) or any(key not in state for key in _REQUIRED):
        raise CheckpointError(path, "not a training checkpoint (it needs "
                                    f"{', '.join(repr(k) for k in _REQUIRED)})")
    return state


def _shape(value):
    return tuple(value.shape) if isinstance(value, (Tensor, np.ndarray)) else None


def _listed(names):
    names = list(names)
    more = f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return ", ".join(names[:_MAX_LISTED]) + more


def _model_problems(saved, model):
    if not isinstance(saved, dict):
        return ["the model state is not a dictionary of tensors"]
    expected = model.state_dict()
    problems = []
    missing = [k for k in expected if k not in saved]
    unexpected = [str(k) for k in saved if k not in expected]
    if missing:
        problems.append(f"the checkpoint lacks the parameters {_listed(missing)}")
    if unexpected:
        problems.append(f"the checkpoint has parameters the network does not: {_listed(unexpected)}")
    shapes = [f"{k} {_shape(saved[k])} (the network's is {tuple(v.shape)})" for k, v in expected.items()
              if k in saved and _shape(saved[k]) != tuple(v.shape)]
    if shapes:
        problems.append(f"parameter shapes differ: {_listed(shapes)}")
    return problems


def _probe_state(optimizer):
    """The keys of one parameter's optimizer state after a step, each marked True when it is a buffer of the
    parameter's shape (False: a scalar such as the step count); None when the optimizer cannot be probed."""
    probe = Parameter(zeros(2))
    try:
        twin = type(optimizer)([probe], **optimizer.defaults)
        probe.grad = zeros(2)
        twin.step()
    except (TypeError, ValueError, RuntimeError):
        return None
    return {key: _shape(value) == (2,) for key, value in twin.state[probe].items()}


def _hyperparameters(optimizer):
    """The options an optimizer's constructor takes by position (SGD's momentum, Adam's betas, ...): every
    state of that kind has them, while keyword-only ones (foreach, maximize, ...) may postdate a checkpoint
    and are filled in from the defaults when it loads."""
    parameters = list(inspect.signature(type(optimizer).__init__).parameters.values())[2:]  # after self, params
    return [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD and p.name in optimizer.defaults]


def _like(value, reference):
    """Whether an option's saved ``value`` has the form of the live ``reference`` (a number, a flag, a tuple of
    numbers of the same length)."""
    if isinstance(reference, bool) or reference is None:
        return isinstance(value, bool) or value is None
    if isinstance(reference, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(reference, (tuple, list)):
        return isinstance(value, (tuple, list)) and len(value) == len(reference) and all(
            _like(v, r) for v, r in zip(value, reference))
    return True


def _optimizer_problems(saved, optimizer, saved_kind):
    kind = type(optimizer).__name__
    if saved_kind is not None and saved_kind != kind:
        return [f"the optimizer was {saved_kind}; the network's settings now say {kind}"]
    if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list) \
            or not isinstance(saved.get("state"), dict):
        return ["the optimizer state is not one an optimizer wrote"]
    groups = saved["param_groups"]
    if len(groups) != len(optimizer.param_groups) or not all(isinstance(g, dict) for g in groups):
        return [f"the optimizer has {len(groups)} parameter groups; the network's has {len(optimizer.param_groups)}"]
    options = [k for k in _hyperparameters(optimizer) if any(k not in g for g in groups)]
    if options:
        return [f"the optimizer state is not {kind}'s (it lacks the options {_listed(options)})"]
    params = [p for g in optimizer.param_groups for p in g["params"]]
    counts = [len(g["params"]) if isinstance(g.get("params"), list) else -1 for g in groups]
    if counts != [len(g["params"]) for g in optimizer.param_groups]:
        return [f"the optimizer holds {sum(counts)} parameters; the network has {len(params)}"]
    problems = [f"optimizer option '{k}' of group {i} is {g[k]!r}, not like {kind}'s {ours[k]!r}"
                for i, (g, ours) in enumerate(zip(groups, optimizer.param_groups))
                for k in _hyperparameters(optimizer) if not _like(g[k], ours[k])]
    probe = _probe_state(optimizer)
    for index, entry in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(entry, dict):
            problems.append(f"optimizer state for a parameter that does not exist ({index!r})")
            continue
        if probe is not None and set(entry) != set(probe):
            problems.append(f"optimizer state of parameter {index} has {_listed(sorted(map(str, entry)))}; "
                            f"{kind} keeps {_listed(sorted(probe))}")
            continue
        shape = tuple(params[index].shape)
        for key, value in entry.items():
            if probe is not None and probe[key] and _shape(value) != shape:
                problems.append(f"optimizer state '{key}' of parameter {index} has shape {_shape(value)}, "
                                f"the parameter {shape}")
    return problems


def _scheduler_problems(saved, scheduler, saved_kind):
    kind = None if scheduler is None else type(scheduler).__name__
    if saved_kind is not None and saved_kind != kind:
        return [f"the schedule was {saved_kind}; the network's settings now say {kind or 'none'}"]
    if saved is None or scheduler is None:
        if (saved is None) != (scheduler is None):
            return [f"the schedule was {'none' if saved is None else 'another'}; the network's settings now say "
                    f"{kind or 'none'}"]
        return []
    ours = scheduler.state_dict()
    if not isinstance(saved, dict) or set(saved) != set(ours):
        return [f"the schedule's state is not a {kind}'s"]
    bad = [k for k in ours if not _like(saved[k], ours[k])]
    return [f"the {kind} schedule's values {_listed(bad)} are of the wrong form"] if bad else []


def _count(value, low=0, high=None):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)


def _rng_state_problem(text, what):
    """None when ``text`` is the JSON state of a PCG64 generator (the engine's and the samplers' kind)."""
    try:
        np.random.PCG64().state = json.loads(text)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError):
        return f"{what} is not a random generator's state"
    return None


def _progress_problems(state, history_fields, steps_per_epoch):
    problems = [f"'{key}' must be a count, got {state.get(key)!r}" for key in ("epoch", "global_step")
                if not _count(state.get(key))]
    history = state.get("history", [])
    if not isinstance(history, list) or not all(
            isinstance(h, dict) and set(h) == set(history_fields)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in h.values()) for h in history):
        problems.append("'history' is not a list of epoch records")
    step = state.get("epoch_step", 0)
    if not _count(step):
        return [*problems, f"'epoch_step' must be a count, got {step!r}"]
    if step == 0:
        return problems
    saved_steps = state.get("steps_per_epoch")
    if not _count(step, 1) or not _count(saved_steps, 1) or step > saved_steps:
        return [*problems, f"'epoch_step' {step!r} is not a step of an epoch of {saved_steps!r} steps"]
    if steps_per_epoch is not None and saved_steps != steps_per_epoch:
        problems.append(f"the checkpoint stopped at step {step} of an epoch of {saved_steps} steps; the settings "
                        f"now give {steps_per_epoch} steps per epoch (batch size or data changed)")
    partial = state.get("partial")
    if not isinstance(partial, list) or len(partial) != 3 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in partial):
        problems.append("'partial' is not the running epoch's [loss sum, correct, count]")
    rng = state.get("rng_state")
    problem = _rng_state_problem(rng, "'rng_state'") if isinstance(rng, str) else "'rng_state' is missing"
    if problem:
        problems.append(problem)
    loader = state.get("loader")
    if loader is not None:
        sampler = loader.get("sampler") if isinstance(loader, dict) else None
        if not isinstance(sampler, dict) or not _count(loader.get("base_seed")) or loader.get("batches") != step:
            problems.append("'loader' is not the state of the training loader's pass")
        elif "rng" in sampler:
            problem = _rng_state_problem(sampler["rng"], "the sampler's 'rng'") if isinstance(sampler["rng"], str) \
                else "the sampler's 'rng' is not a random generator's state"
            if problem:
                problems.append(problem)
    return problems


def checkpoint_problems(state, model, optimizer, scheduler=None, *, history_fields=(), steps_per_epoch=None):
    """What in ``state`` (a checkpoint) does not fit ``model``, ``optimizer`` and ``scheduler``: a list of
    sentences, empty when it can be loaded. ``steps_per_epoch`` (when known) must match a mid-epoch checkpoint's."""
    return [*_model_problems(state.get("model"), model),
            *_optimizer_problems(state.get("optimizer"), optimizer, state.get("optimizer_kind")),
            *_scheduler_problems(state.get("scheduler"), scheduler, state.get("scheduler_kind")),
            *_progress_problems(state, history_fields, steps_per_epoch)]


def check_checkpoint(path, state, model, optimizer, scheduler=None, **progress):
    """``CheckpointError`` listing every problem ``checkpoint_problems`` finds."""
    problems = checkpoint_problems(state, model, optimizer, scheduler, **progress)
    if problems:
        raise CheckpointError(path, "does not fit the network: " + "; ".join(problems))

