"""The search of a sweep, through Optuna's ask-and-tell interface so that whoever runs the trials (one after
another, or in worker processes) stays in control: grid (every combination of the listed values, in order),
random, or TPE (Optuna's Bayesian search), reproducible with a seed when trials run one at a time. A
median pruner fed each epoch's validation accuracy stops a trial whose best so far is below the median of the
finished trials at the same epoch (after a warm-up: the first epochs and the first finished trials)."""

import math
import os

import optuna

from .runs import runs_folder
from .sweep_record import DONE_STATES, Trial
from .sweep_space import grid

STARTUP_TRIALS = 3  # finished trials before any is pruned
WARMUP_EPOCHS = 2  # the first epoch a trial may be pruned at (its 1st epoch says little)
_STATES = {"finished": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED,
           "failed": optuna.trial.TrialState.FAIL}


def planned_trials(sweep):
    """How many trials ``sweep`` runs in all (None: as many as its time allows), without building a search."""
    if sweep.method != "grid":
        return sweep.trials_budget
    size = len(grid(sweep.space))
    return min(size, sweep.trials_budget or size)


def _sampler(method, seed, done):
    """The sampler of a sweep with ``done`` trials recorded: a resumed sweep seeds it on from where it stopped
    (told trials do not move a sampler's random state, so the same seed would draw the same settings again)."""
    seed = None if seed is None else (seed * 1_000_003 + done) % 2**32
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)  # a grid's trials are enqueued, never sampled


class Search:
    """Chooses the trials of ``sweep`` (an ``engine.training.sweep_record.Sweep``) and decides on pruning. The
    trials the record already holds as done are told to the study first, so a resumed sweep searches on from
    where it stopped."""

    def __init__(self, sweep, startup_trials=STARTUP_TRIALS, warmup_epochs=WARMUP_EPOCHS):
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # its line per trial: whoever runs them reports
        self.sweep = sweep
        pruner = (optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs)
                  if sweep.prune else optuna.pruners.NopPruner())
        self.study = optuna.create_study(direction="maximize", pruner=pruner,
                                         sampler=_sampler(sweep.method, sweep.seed, len(sweep.trials)))
        self.distributions = {d.name: d.distribution() for d in sweep.space}
        self.grid = grid(sweep.space) if sweep.method == "grid" else None
        self._live = {}  # trial number -> optuna trial being run
        for trial in sweep.trials:
            if trial.state in DONE_STATES:
                self._add_done(trial)

    def _params(self, settings):
        return {name: settings[name] for name in self.distributions}

    def _add_done(self, trial):
        state = _STATES[trial.state]
        if state == optuna.trial.TrialState.COMPLETE and trial.score is None:
            state = optuna.trial.TrialState.FAIL  # finished without a validation accuracy: nothing to compare
        self.study.add_trial(optuna.trial.create_trial(
            params=self._params(trial.settings), distributions=self.distributions, state=state,
            value=trial.score if state == optuna.trial.TrialState.COMPLETE else None,
            intermediate_values={epoch: s for epoch, s in enumerate(trial.scores, 1) if math.isfinite(s)}))

    @property
    def budget(self):
        """How many trials the sweep runs in all (None: as many as the time allows)."""
        return planned_trials(self.sweep)

    def next_trial(self, elapsed_seconds):
        """The next trial to run: a pending or interrupted trial of the record, else a new one (added to the
        record) while the budget in trials and time lasts; None when there is none."""
        for trial in self.sweep.trials:
            if trial.state not in DONE_STATES and trial.number not in self._live:
                self._start(trial.number, trial.settings)
                return trial
        minutes = self.sweep.minutes
        if (self.budget is not None and len(self.sweep.trials) >= self.budget) or \
                (minutes is not None and elapsed_seconds >= 60 * minutes):
            return None
        number = len(self.sweep.trials) + 1
        settings = self._start(number, self.grid[number - 1] if self.grid is not None else None)
        trial = Trial(number, settings, os.path.join(runs_folder(self.sweep.network),
                                                     f"sweep-{self.sweep.name}-{number}"))
        self.sweep.trials.append(trial)
        return trial

    def _start(self, number, settings):
        if settings is not None:
            self.study.enqueue_trial(self._params(settings), skip_if_exists=False)
        live = self.study.ask(self.distributions)
        self._live[number] = live
        return dict(live.params)

    def report(self, trial, epoch, score):
        """Tell the study the validation accuracy ``score`` of ``trial`` after ``epoch`` (1-based)."""
        if math.isfinite(score):
            self._live[trial.number].report(score, epoch)

    def should_prune(self, trial):
        """Whether ``trial`` is behind the finished trials' median at its last reported epoch."""
        return self._live[trial.number].should_prune()

    def tell(self, trial):
        """Record the outcome of ``trial`` (its state: finished, pruned or failed) in the study."""
        live = self._live.pop(trial.number)
        if trial.state == "finished" and trial.score is not None:
            self.study.tell(live, trial.score)
        elif trial.state == "finished":  # no validation accuracy to compare: as _add_done counts it
            self.study.tell(live, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(live, state=_STATES.get(trial.state, optuna.trial.TrialState.FAIL))

    def release(self, trial):
        """Forget a trial that was interrupted (it stays to be resumed)."""
        self._live.pop(trial.number, None)
