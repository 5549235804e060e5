"""Continuing a run with changed settings, for the command line (``train --resume RUN --lr X``) and the GUI alike,
and the two ways out a diverged run is offered: its learning rate halved, or gradient clipping on.

A checkpoint restores the optimizer's learning rate (and the schedule's base rates), so a learning rate changed
for the rest of a run is applied after the checkpoint is loaded: every rate the optimizer and the schedule keep
is scaled by the new rate over the one the checkpoint was trained with, so a schedule keeps its shape. Clipping is the
Trainer's own setting (``prepare_training`` passes it). The run folder's ``network.llnet`` then records the
settings the run goes on with.
"""

from dataclasses import dataclass

from .runs import Run, RunFileError

RECOVERY_CLIP_NORM = 1.0
RESUME_SETTINGS = ("lr", "clip_grad_norm")  # the settings a run may change when it is continued

# the rates a param group keeps (OneCycleLR adds the last three), and those a scheduler keeps
_GROUP_RATES = ("lr", "initial_lr", "max_lr", "min_lr")
_SCHEDULER_RATES = ("base_lrs", "_last_lr", "min_lrs")


@dataclass(frozen=True)
class Recovery:
    """One way to continue a diverged run: ``changes`` to its training settings, and what they do, in words."""

    label: str
    changes: dict


def recoveries(settings, run=None):
    """The two ways out of a divergence offered for a run trained with ``settings``: the learning rate halved, or
    the gradients clipped to a total norm of ``RECOVERY_CLIP_NORM`` (half the norm a run already clips at).
    Under ReduceLROnPlateau, whose reductions leave no base rate, the rate halved is the one ``run`` had reached
    (its last step's), which its reductions may have made far smaller than the setting."""
    lr = settings["lr"]
    if settings["scheduler"] == "ReduceLROnPlateau" and run is not None:
        lr = _last_rate(run) or lr
    clip = settings["clip_grad_norm"] / 2 if settings["clip_grad_norm"] else RECOVERY_CLIP_NORM
    return (Recovery(f"the learning rate halved ({lr / 2:g})", {"lr": lr / 2}),
            Recovery(f"gradient clipping at norm {clip:g}", {"clip_grad_norm": clip}))


def _last_rate(run):
    """The learning rate of ``run``'s last recorded step, or None when its steps cannot be read."""
    try:
        rates = run.metrics().steps["lr"]
    except RunFileError:
        return None
    return float(rates[-1]) if len(rates) else None


def changed_network(run, changes):
    """The document ``run`` was trained with, its settings changed by ``changes`` (``NetworkError`` when a value is
    out of range): what a GUI continues the run with."""
    network = run.network()
    network.set_settings(changes)
    return network


def kept_settings(run, changed):
    """The settings of ``RESUME_SETTINGS`` not in ``changed`` as ``run`` was trained with them: what a resume
    keeps unless told otherwise (a network file edited since does not change them)."""
    settings = run.network().settings
    return {name: settings[name] for name in RESUME_SETTINGS if name not in changed}


def scale_learning_rate(optimizer, scheduler, factor):
    """Multiply every learning rate ``optimizer``'s param groups and ``scheduler`` keep by ``factor``."""
    for group in optimizer.param_groups:
        for key in _GROUP_RATES:
            if key in group:
                group[key] = group[key] * factor
    for name in _SCHEDULER_RATES if scheduler is not None else ():
        rates = getattr(scheduler, name, None)
        if isinstance(rates, list):
            setattr(scheduler, name, [rate * factor for rate in rates])


def _base_rate(optimizer):
    """The learning rate a schedule starts from (``initial_lr``), or without one the rate itself."""
    group = optimizer.param_groups[0]
    return group.get("initial_lr", group["lr"])


def resume_from_run(trainer, run: Run, network, record=True):
    """Continue ``trainer`` (made by ``prepare_training`` from ``network``) from ``run``'s checkpoint with
    ``network``'s settings, and record them as the run's. When the learning rate ``network`` asks for differs from
    the one the checkpoint was trained with, every rate is scaled by their ratio (under ReduceLROnPlateau, whose
    reductions leave no base rate, the current rate becomes the asked one). ``CheckpointError``/``WeightFileError``
    from the checkpoint leave the trainer and the run folder as they were. ``record=False`` (a data-parallel rank
    other than 0) leaves the run folder to the rank that writes it."""
    wanted = _base_rate(trainer.optimizer)
    trainer.load_checkpoint(run.checkpoint_path)
    trained = _base_rate(trainer.optimizer)
    if wanted != trained:
        scale_learning_rate(trainer.optimizer, trainer.scheduler, wanted / trained)
    if record:
        run.save_network(network)
