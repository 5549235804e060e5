"""A sweep's record: ``<stem>.sweeps/<YYYYmmdd-HHMMSS>/sweep.json`` next to the network file, holding the space,
the method, the budget, the fixed training options and every trial (its settings, its run folder, its state and
its score). It is rewritten atomically whenever a trial changes, so a sweep stopped at any moment can be resumed:
pending trials start, interrupted ones (``running`` or ``stopped``) continue from their run's checkpoint.

A trial's score is the best validation accuracy over its epochs (``metrics.csv`` of its run); the best trial is
the one with the highest score, the earlier one on a tie."""

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime

from ..utils.files import FileError, atomic_write_text
from ..utils.json_text import check_record, parse_json
from .runs import Run, RunFileError, load_run, new_folder, read_text, runs_folder
from .sweep_space import dimension_from_json

FORMAT = "layerlab.sweep"
VERSION = 1
SWEEPS_SUFFIX = ".sweeps"
MAX_RECORD_BYTES = 16 << 20
METHODS = ("grid", "random", "tpe")
STATES = ("pending", "running", "stopped", "finished", "pruned", "failed")
DONE_STATES = ("finished", "pruned", "failed")


class SweepFileError(FileError, ValueError):
    """A sweep folder or its ``sweep.json`` that cannot be read or written; the message names the file."""


@dataclass
class Trial:
    """One run of the sweep: ``number`` counts from 1; ``run`` is its run folder (absolute); ``scores`` the
    validation accuracy of each finished epoch."""

    number: int
    settings: dict
    run: str
    state: str = "pending"
    scores: list = field(default_factory=list)
    test_accuracy: float | None = None
    message: str = ""

    @property
    def score(self):
        """The best validation accuracy so far (None before the first epoch; NaN epochs ignored)."""
        finite = [s for s in self.scores if math.isfinite(s)]
        return max(finite) if finite else None


@dataclass
class Sweep:
    folder: str
    network: str  # the network file swept (absolute)
    space: list  # of Dimension
    method: str = "grid"
    seed: int = 0
    trials_budget: int | None = None
    minutes: float | None = None
    options: dict = field(default_factory=dict)  # fixed training options: epochs, limit, data
    prune: bool = True
    seconds_used: float = 0.0
    trials: list = field(default_factory=list)

    @property
    def path(self):
        return os.path.join(self.folder, "sweep.json")

    @property
    def name(self):
        return os.path.basename(os.path.normpath(self.folder))

    @property
    def base_network_path(self):
        """The network as the sweep began, kept in its folder: every trial is built from it."""
        return os.path.join(self.folder, "network.llnet")

    def trial_network_path(self, trial):
        """The copy of the network with the trial's settings, which the trial trains."""
        return os.path.join(self.folder, f"trial-{trial.number}.llnet")

    def trial_log_path(self, trial):
        return os.path.join(self.folder, f"trial-{trial.number}.log")

    def save(self):
        """Write ``sweep.json`` atomically (run folders relative to the sweep folder, so both can move together)."""
        trials = [{"number": t.number, "settings": t.settings, "run": os.path.basename(t.run),
                   "state": t.state, "score": t.score,
                   "scores": [s if math.isfinite(s) else None for s in t.scores], "test_accuracy": t.test_accuracy,
                   "message": t.message} for t in self.trials]
        data = {"format": FORMAT, "version": VERSION, "network": os.path.relpath(self.network, self.folder),
                "method": self.method, "seed": self.seed, "space": [d.to_json() for d in self.space],
                "budget": {"trials": self.trials_budget, "minutes": self.minutes}, "options": self.options,
                "prune": self.prune, "seconds_used": self.seconds_used, "trials": trials}
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        atomic_write_text(self.path, text, SweepFileError)

    def best(self):
        """The finished trial with the highest score (the earlier on a tie), else (none finished) the best of the
        others; None before any has a score."""
        scored = [t for t in self.trials if t.score is not None]
        finished = [t for t in scored if t.state == "finished"]
        return max(finished or scored, key=lambda t: t.score, default=None)  # max keeps the first of equal keys

    def varied(self):
        return [d.name for d in self.space]


def sweeps_folder(network_path):
    """``<dir>/<stem>.sweeps`` beside the network file (and its ``<stem>.runs``)."""
    directory, name = os.path.split(os.path.abspath(os.fspath(network_path)))
    return os.path.join(directory, os.path.splitext(name)[0] + SWEEPS_SUFFIX)


def create_sweep(network_path, space, **fields):
    """A new sweep in a fresh time-stamped folder of ``sweeps_folder(network_path)``, its record written."""
    folder = new_folder(sweeps_folder(network_path), datetime.now().strftime("%Y%m%d-%H%M%S"))
    sweep = Sweep(folder, os.path.abspath(os.fspath(network_path)), list(space), **fields)
    sweep.save()
    return sweep


def trial_scores(run_folder):
    """The validation accuracy of each finished epoch of the run in ``run_folder`` (empty before the first or
    when it has no metrics yet); a damaged file raises ``RunFileError``."""
    return [float(v) for v in Run(run_folder).epoch_metrics()["val_accuracy"]]


def recorded_test_accuracy(run_folder):
    """The run's recorded test accuracy, None when it has none (or none finite) or cannot be read."""
    try:
        accuracy = load_run(run_folder).test_accuracy
    except RunFileError:
        return None
    return accuracy if accuracy is not None and math.isfinite(accuracy) else None


def _get(data, key, kinds, path, optional=False):
    """``data[key]`` when it is one of ``kinds`` (never a bool for a number; numbers finite), or None when
    ``optional``; else ``SweepFileError``."""
    value = data.get(key)
    if value is None and optional:
        return value
    if kinds is bool and isinstance(value, bool):
        return value
    if isinstance(value, kinds) and not isinstance(value, bool) and (not isinstance(value, (int, float))
                                                                     or _finite(value)):
        return value
    raise SweepFileError(path, f"'{key}' has a bad value {value!r}")


def _finite(value):
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond a float
        return False


def _trial(item, runs, path, swept):
    """A trial of the record; its run is a folder of ``runs`` (the network's runs folder), named plainly."""
    if not isinstance(item, dict) or item.get("state") not in STATES:
        raise SweepFileError(path, f"a trial must have a state (one of {', '.join(STATES)}): {item!r}")
    number = _get(item, "number", int, path)
    scores = item.get("scores")
    if not isinstance(scores, list) or not all(s is None or (isinstance(s, (int, float)) and not isinstance(s, bool)
                                                             and _finite(s)) for s in scores):
        raise SweepFileError(path, f"trial {number}: 'scores' must be a list of finite numbers (or null)")
    run = _get(item, "run", str, path)
    if not run or run in (os.curdir, os.pardir) or os.path.basename(run) != run or (os.altsep and os.altsep in run):
        raise SweepFileError(path, f"trial {number}: 'run' must name a folder of the network's runs, got {run!r}")
    settings = _get(item, "settings", dict, path)
    if set(settings) != set(swept):
        raise SweepFileError(path, f"trial {number}: its settings must be the swept ones ({', '.join(swept)}), "
                                   f"got {', '.join(settings) or 'none'}")
    return Trial(number, settings, os.path.join(runs, run), item["state"],
                 [math.nan if s is None else float(s) for s in scores],
                 _get(item, "test_accuracy", (int, float), path, True), _get(item, "message", str, path))


def _options(data, path):
    options = _get(data, "options", dict, path)
    if not set(options) <= {"epochs", "limit", "data"}:
        raise SweepFileError(path, f"'options' may hold epochs, limit and data, got {', '.join(options)}")
    for key in ("epochs", "limit"):
        value = _get(options, key, int, path, True)
        if value is not None and value < 1:
            raise SweepFileError(path, f"'{key}' must be a positive number, got {value}")
    _get(options, "data", str, path, True)
    return options


def load_sweep(folder):
    """The sweep in ``folder``; ``SweepFileError`` naming the file when it is missing or damaged."""
    folder = os.path.abspath(os.fspath(folder))
    path = os.path.join(folder, "sweep.json")
    if not os.path.isfile(path):
        raise SweepFileError(folder, "not a sweep folder (it has no sweep.json)")
    text = read_text(path, MAX_RECORD_BYTES, SweepFileError)
    data = parse_json(text, path, SweepFileError, max_depth=6)
    check_record(data, path, SweepFileError, "sweep record", FORMAT, VERSION)
    if data.get("method") not in METHODS:
        raise SweepFileError(path, f"'method' must be one of {', '.join(METHODS)}, got {data.get('method')!r}")
    space = data.get("space")
    if not isinstance(space, list) or not space:
        raise SweepFileError(path, "'space' must list the swept settings")
    budget = _get(data, "budget", dict, path)
    dimensions = [dimension_from_json(d, lambda problem: SweepFileError(path, problem)) for d in space]
    network = os.path.normpath(os.path.join(folder, _get(data, "network", str, path)))
    if sweeps_folder(network) != os.path.dirname(folder):
        raise SweepFileError(path, f"'network' must be the network whose sweeps folder holds this sweep "
                                   f"({os.path.dirname(folder)}), got {data['network']!r}")
    trials = [_trial(item, runs_folder(network), path, [d.name for d in dimensions])
              for item in _get(data, "trials", list, path)]
    if [t.number for t in trials] != list(range(1, len(trials) + 1)):
        raise SweepFileError(path, "the trials must be numbered 1, 2, 3, ... in order")
    for trial in trials:
        for d in dimensions:
            if not d.contains(trial.settings.get(d.name)):
                raise SweepFileError(path, f"trial {trial.number}: '{d.name}' = {trial.settings.get(d.name)!r} is "
                                           f"not in the swept {d.describe()}")
    return Sweep(folder, network, dimensions, data["method"], _get(data, "seed", int, path),
                 _get(budget, "trials", int, path, True), _get(budget, "minutes", (int, float), path, True),
                 _options(data, path), _get(data, "prune", bool, path),
                 float(_get(data, "seconds_used", (int, float), path)), trials)

