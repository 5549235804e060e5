"""Sweep training settings: train the network once per combination (grid), or per trial chosen at random or by
TPE search, within a budget of trials (--trials) or time (--time), each trial a normal run folder in NET.runs/
(named sweep-<sweep>-<trial>). Trials run one after another or --jobs at a time in worker processes
(``main.py train`` on a copy of the network with the trial's settings, kept in the sweep folder); a trial
clearly behind the finished ones after an epoch is pruned (stopped, its checkpoint kept). The sweep's record is
NET.sweeps/<time>/sweep.json; Ctrl+C stops every trial cleanly and --resume SWEEP_DIR continues: pending trials
start, interrupted ones go on from their checkpoints. Settings are given as --set lr=0.01,0.05,0.1 (values) or
--set lr=1e-4:1e-1:log, --set batch_size=32:256 (ranges, for random and TPE search)."""

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from engine.graph import save_network
from engine.training.sweep_record import (
    METHODS,
    SweepFileError,
    create_sweep,
    load_sweep,
    recorded_test_accuracy,
    trial_scores,
)
from engine.training.sweep_search import Search
from engine.training.sweep_space import SweepSpaceError, format_value, parse_space
from engine.utils.files import FileError

from .common import CliError, apply_settings, open_network, positive_int, require_valid
from .table import format_table

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLL_SECONDS = 0.2
DEFAULT_TRIALS = 10  # random and TPE search without --trials or --time
INTERRUPTED = 130
# A trial's worker: ``main.py train`` with the engine's CPU threads set first (the engine takes every core by
# default, and --jobs workers on as many cores would fight over them).
WORKER = ("import sys; sys.path.insert(0, sys.argv[1]); import engine; engine.set_num_threads(int(sys.argv[2])); "
          "import cli; sys.exit(cli.main(sys.argv[3:]))")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def add_parser(subparsers):
    p = subparsers.add_parser("sweep", help="train with varied settings and compare the runs", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", nargs="?", help="the network file (not with --resume)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUES",
                   help="a training setting to vary: V1,V2,... or LOW:HIGH[:log] (repeat for more settings)")
    p.add_argument("--method", choices=METHODS, help="grid (default when every setting lists values), random, "
                                                      "or tpe (default with a range)")
    p.add_argument("--trials", type=positive_int, metavar="N", help=f"run at most N trials (grid: all of them, "
                                                                    f"random/tpe: {DEFAULT_TRIALS} without --time)")
    p.add_argument("--time", type=float, metavar="MINUTES", help="start no trial after MINUTES")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N", help="trials running at once (default 1)")
    p.add_argument("--epochs", type=positive_int, metavar="E", help="epochs per trial (default: the network's)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="train on the first N training images only")
    p.add_argument("--data", metavar="DIR", help="the dataset folder")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the seed of random and TPE search (default 0)")
    p.add_argument("--no-prune", action="store_true", help="run every trial to its end")
    p.add_argument("--resume", metavar="SWEEP_DIR", help="continue a stopped sweep (--trials/--time/--jobs may "
                                                         "change its budget)")
    p.set_defaults(handler=main)


def new_sweep(args):
    if not args.network:
        raise CliError("give the network file to sweep (or --resume SWEEP_DIR)")
    try:
        space = parse_space(args.set)
    except SweepSpaceError as e:
        raise CliError(str(e)) from None
    network = open_network(args.network)
    apply_settings(network, {d.name: (d.values[0] if d.values else d.low) for d in space})
    require_valid(network, args.network, "sweep")
    method = args.method or ("grid" if all(d.values for d in space) else "tpe")
    if method == "grid" and not all(d.values for d in space):
        ranges = ", ".join(d.describe() for d in space if not d.values)
        raise CliError(f"--method grid needs listed values, but {ranges} is a range: list values or use --method "
                       f"random or tpe")
    trials = args.trials or (DEFAULT_TRIALS if method != "grid" and args.time is None else None)
    options = {"epochs": args.epochs, "limit": args.limit,
               "data": os.path.abspath(args.data) if args.data else None}
    return create_sweep(args.network, space, method=method, seed=args.seed, trials_budget=trials,
                        minutes=args.time, options=options, prune=not args.no_prune)


def resumed_sweep(args):
    if args.network or args.set:
        raise CliError("--resume continues a sweep with its own network and settings: give no NET.llnet or --set")
    try:
        sweep = load_sweep(args.resume)
    except SweepFileError as e:
        raise CliError(str(e)) from None
    sweep.trials_budget = args.trials or sweep.trials_budget
    sweep.minutes = args.time if args.time is not None else sweep.minutes
    return sweep


def settings_text(sweep, settings):
    return " ".join(f"{name}={format_value(settings[name])}" for name in sweep.varied())


def percent(value):
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.2f} %"


def train_arguments(sweep, trial):
    """The ``main.py train`` arguments of ``trial``: a new run in its run folder, or the interrupted one resumed
    from its checkpoint."""
    has_checkpoint = os.path.isfile(os.path.join(trial.run, "checkpoint.llw"))
    where = ["--resume" if has_checkpoint else "--out", trial.run]
    options = sweep.options
    given = (("--epochs", options.get("epochs")), ("--limit", options.get("limit")), ("--data", options.get("data")))
    return ["train", sweep.trial_network_path(trial), *where, *[str(x) for flag, value in given
                                                               if value is not None for x in (flag, value)]]


def prepare_trial(sweep, trial):
    """Write the network copy with the trial's settings (a trial restarted without a checkpoint gets a fresh run
    folder: a run that never saved a step has nothing to keep)."""
    base, n = trial.run, 2
    while not os.path.isfile(os.path.join(trial.run, "checkpoint.llw")) and os.path.exists(trial.run):
        trial.run, n = f"{base}-{n}", n + 1
    network = open_network(sweep.network)
    apply_settings(network, trial.settings)
    save_network(network, sweep.trial_network_path(trial))


def worker_environment(threads):
    return {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}


@dataclass
class Active:
    """A trial whose worker process runs."""

    trial: object
    process: subprocess.Popen
    log: object
    started: float
    epochs_reported: int = 0
    pruning: bool = False


class Coordinator:
    """Runs the trials of a sweep, at most ``jobs`` at a time, polling each worker's metrics for pruning."""

    def __init__(self, sweep, search, jobs):
        self.sweep, self.search, self.jobs = sweep, search, jobs
        self.threads = max(1, (os.cpu_count() or 1) // jobs)
        self.active = []
        self.began = time.monotonic()
        self.used_before = sweep.seconds_used

    def save(self):
        self.sweep.seconds_used = self.used_before + time.monotonic() - self.began
        self.sweep.save()

    def start(self, trial):
        prepare_trial(self.sweep, trial)
        resumed = os.path.isfile(os.path.join(trial.run, "checkpoint.llw"))
        log = open(self.sweep.trial_log_path(trial), "a", encoding="utf-8")  # noqa: SIM115 (closed in finish)
        process = subprocess.Popen([sys.executable, "-c", WORKER, REPO, str(self.threads),
                                    *train_arguments(self.sweep, trial)], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=worker_environment(self.threads),
                                   start_new_session=True)  # Ctrl+C reaches the sweep, which stops each trial once
        trial.state = "running"
        self.active.append(Active(trial, process, log, time.monotonic()))
        self.save()
        budget = self.search.budget
        print(f"trial {trial.number}{f'/{budget}' if budget else ''} {'resumed' if resumed else 'started'}: "
              f"{settings_text(self.sweep, trial.settings)} -> {trial.run}", flush=True)

    def poll(self, item):
        """Report the trial's new epochs to the search; stop it when it should be pruned."""
        try:
            item.trial.scores = trial_scores(item.trial.run)
        except FileError:
            return  # a metrics file being replaced: read it again next time
        for epoch in range(item.epochs_reported + 1, len(item.trial.scores) + 1):
            self.search.report(item.trial, epoch, item.trial.scores[epoch - 1])
            item.epochs_reported = epoch
            if not item.pruning and self.search.should_prune(item.trial):
                item.pruning = True
                item.process.send_signal(signal.SIGINT)

    def finish(self, item, code):
        trial = item.trial
        item.log.close()
        self.active.remove(item)
        with contextlib.suppress(FileError):
            trial.scores = trial_scores(trial.run)
        trial.test_accuracy = recorded_test_accuracy(trial.run)
        seconds = time.monotonic() - item.started
        if code == 0:  # a trial told to stop as its last epoch ended may have finished all the same
            trial.state = "finished"
            line = f"finished: best val acc {percent(trial.score)}, test acc {percent(trial.test_accuracy)}"
        elif item.pruning and code == INTERRUPTED:
            trial.state = "pruned"
            line = f"pruned after epoch {item.epochs_reported}, best val acc {percent(trial.score)}"
        else:
            trial.state, trial.message = "failed", last_line(self.sweep.trial_log_path(trial))
            line = f"failed (exit code {code}): {trial.message} (log: {self.sweep.trial_log_path(trial)})"
        self.search.tell(trial)
        self.save()
        print(f"trial {trial.number} {line} ({seconds:.0f} s)", flush=True)

    def run(self):
        """Run trials until the budget is spent: 0, or 130 after Ctrl+C (the sweep left resumable)."""
        try:
            while True:
                for item in list(self.active):
                    self.poll(item)
                    code = item.process.poll()
                    if code is not None:
                        self.finish(item, code)
                while len(self.active) < self.jobs:
                    trial = self.search.next_trial(self.used_before + time.monotonic() - self.began)
                    if trial is None:
                        break
                    self.start(trial)
                if not self.active:
                    return 0
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            self.stop()
            return INTERRUPTED

    def stop(self):
        """Ask every worker to stop after its step (a second Ctrl+C ends them at once); the trials stay to be
        resumed from their checkpoints."""
        print("\nstopping every trial after its current step (Ctrl+C again to abort)...", file=sys.stderr, flush=True)
        for item in self.active:
            item.process.send_signal(signal.SIGINT)
        try:
            for item in self.active:
                item.process.wait()
        except KeyboardInterrupt:
            for item in self.active:
                item.process.kill()
                item.process.wait()
        for item in self.active:
            item.log.close()
            item.trial.state = "stopped"
            self.search.release(item.trial)
        self.active.clear()
        self.save()


ERROR_PREFIXES = ("main.py train: error: ", "training failed: ")


def last_line(path):
    """The error a worker printed last (or its last line), for the sweep's record."""
    with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.strip() for line in fh.read()[-8000:].splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(ERROR_PREFIXES)]
        return (errors or lines or [""])[-1]
    return ""


def print_summary(sweep):
    best = sweep.best()
    rows = [["*" if t is best else "", t.number, *[format_value(t.settings[n]) for n in sweep.varied()], t.state,
             percent(t.score), percent(t.test_accuracy), os.path.basename(t.run)] for t in sweep.trials]
    headers = ["", "trial", *sweep.varied(), "state", "best val acc", "test acc", "run"]
    print(format_table(headers, rows, "lr" + "r" * len(sweep.varied()) + "lrrl"))
    if best is not None:
        print(f"best: trial {best.number} ({settings_text(sweep, best.settings)}), val acc {percent(best.score)}, "
              f"run {best.run}")
    print(f"sweep folder: {sweep.folder}")


def main(args):
    sweep = resumed_sweep(args) if args.resume else new_sweep(args)
    search = Search(sweep)
    print(f"sweep of {os.path.basename(sweep.network)}: {sweep.method}, "
          f"{' '.join(d.describe() for d in sweep.space)}, {args.jobs} at a time; record: {sweep.path}", flush=True)
    code = Coordinator(sweep, search, args.jobs).run()
    print_summary(sweep)
    if code == INTERRUPTED:
        print(f"sweep stopped; resume with: python main.py sweep --resume {sweep.folder}")
        return code
    return 0 if any(t.state == "finished" for t in sweep.trials) else 1
