"""Sweep training settings: train the network once per combination (grid), or per trial chosen at random or by
TPE search, within a budget of trials (--trials) or time (--time), each trial a normal run folder in NET.runs/
(named sweep-<sweep>-<trial>). Trials run one after another or --jobs at a time in worker processes
(``main.py train`` on a copy of the network with the trial's settings, kept in the sweep folder); a trial
clearly behind the finished ones after an epoch is pruned (stopped, its checkpoint kept). The sweep's record is
NET.sweeps/<time>/sweep.json, beside the copy of the network it was started from (network.llnet); Ctrl+C (or
SIGTERM, SIGHUP) stops every trial cleanly and --resume SWEEP_DIR continues: pending trials start, interrupted
ones go on from their checkpoints. Settings are given as --set lr=0.01,0.05,0.1 (values) or
--set lr=1e-4:1e-1:log, --set batch_size=32:256 (ranges, for random and TPE search)."""

import argparse
import contextlib
import fcntl
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from engine.graph import network_from_json, network_to_json, save_network
from engine.threads import usable_cpus
from engine.training.run_cells import percent
from engine.training.runs import Run
from engine.training.sweep_record import (
    METHODS,
    SweepFileError,
    create_sweep,
    load_sweep,
    recorded_test_accuracy,
    trial_scores,
)
from engine.training.sweep_search import Search
from engine.training.sweep_space import SweepSpaceError, format_value, grid, parse_space
from engine.utils.files import FileError

from .common import CliError, apply_settings, open_network, positive_int, require_valid
from .table import format_table

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLL_SECONDS = 0.2
DEFAULT_TRIALS = 10  # random and TPE search without --trials or --time
DEFAULT_SEED = 0
INTERRUPTED = 130
STOP_SECONDS = 10  # how long a failing sweep waits for its workers to stop before killing them
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # handled as Ctrl+C
LOCK_FILE = ".lock"
# A trial's worker: ``main.py train`` with the engine's CPU threads set first (the engine takes every core by
# default, and --jobs workers on as many cores would fight over them).
WORKER = ("import sys; sys.path.insert(0, sys.argv[1]); import engine; engine.set_num_threads(int(sys.argv[2])); "
          "import cli; sys.exit(cli.main(sys.argv[3:]))")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
# Options fixing every trial (--epochs, --limit) and the training setting each would override in a trial.
FIXED_SETTINGS = (("--epochs", "epochs"), ("--limit", "train_limit"))


def positive_minutes(text):
    """An argparse type: a finite number of minutes above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of minutes, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of minutes above 0, got {text}")
    return value


def add_parser(subparsers):
    p = subparsers.add_parser("sweep", help="train with varied settings and compare the runs", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", nargs="?", help="the network file (not with --resume)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUES",
                   help="a training setting to vary: V1,V2,... or LOW:HIGH[:log] (repeat for more settings)")
    p.add_argument("--method", choices=METHODS, help="grid (default when every setting lists values), random, "
                                                      "or tpe (default with a range)")
    p.add_argument("--trials", type=positive_int, metavar="N", help=f"run at most N trials (grid: all of them, "
                                                                    f"random/tpe: {DEFAULT_TRIALS} without --time)")
    p.add_argument("--time", type=positive_minutes, metavar="MINUTES", help="start no trial after MINUTES")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N", help="trials running at once (default 1)")
    p.add_argument("--epochs", type=positive_int, metavar="E", help="epochs per trial (default: the network's)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="train on the first N training images only")
    p.add_argument("--data", metavar="DIR", help="the dataset folder (with --resume: where it is now)")
    p.add_argument("--seed", type=int, metavar="S",
                   help=f"the seed of random and TPE search (default {DEFAULT_SEED})")
    p.add_argument("--no-prune", action="store_true", help="run every trial to its end")
    p.add_argument("--resume", metavar="SWEEP_DIR", help="continue a stopped sweep (--trials/--time/--jobs may "
                                                         "change its budget, --data where its dataset is)")
    p.set_defaults(handler=main)


def with_settings(network, settings):
    """A copy of ``network`` with the training ``settings`` applied (``CliError`` for a bad value)."""
    copy = network_from_json(network_to_json(network))
    apply_settings(copy, settings)
    return copy


def new_sweep(args):
    if not args.network:
        raise CliError("give the network file to sweep (or --resume SWEEP_DIR)")
    try:
        space = parse_space(args.set)
    except SweepSpaceError as e:
        raise CliError(str(e)) from None
    swept = {d.name for d in space}
    for flag, setting in FIXED_SETTINGS:
        if getattr(args, flag[2:]) is not None and setting in swept:
            raise CliError(f"{flag} fixes every trial's {setting}, which --set varies: give one of them")
    network = open_network(args.network)
    require_valid(with_settings(network, {d.name: (d.values[0] if d.values else d.low) for d in space}),
                  args.network, "sweep")
    method = args.method or ("grid" if all(d.values for d in space) else "tpe")
    if method == "grid":
        try:
            grid(space)
        except SweepSpaceError as e:
            raise CliError(f"--method grid: {e}") from None
    trials = args.trials or (DEFAULT_TRIALS if method != "grid" and args.time is None else None)
    options = {"epochs": args.epochs, "limit": args.limit,
               "data": os.path.abspath(args.data) if args.data else None}
    seed = DEFAULT_SEED if args.seed is None else args.seed
    sweep = create_sweep(args.network, space, method=method, seed=seed, trials_budget=trials,
                         minutes=args.time, options=options, prune=not args.no_prune)
    save_network(network, sweep.base_network_path)
    return sweep


def open_sweep(folder):
    try:
        return load_sweep(folder)
    except SweepFileError as e:
        raise CliError(str(e)) from None


def resumed_sweep(args):
    """The sweep of ``args.resume`` with the budget and dataset folder given now (read under its lock)."""
    sweep = open_sweep(args.resume)
    sweep.trials_budget = args.trials or sweep.trials_budget
    sweep.minutes = args.time if args.time is not None else sweep.minutes
    if args.data:
        sweep.options["data"] = os.path.abspath(args.data)
    if not os.path.isfile(sweep.base_network_path):
        raise CliError(f"{sweep.base_network_path}: missing: the sweep's network is kept there for every trial")
    return sweep


def refuse_fixed_options(args):
    """--resume keeps the sweep's network, settings, search and trial options: refuse any given anew."""
    if args.network or args.set:
        raise CliError("--resume continues a sweep with its own network and settings: give no NET.llnet or --set")
    given = [flag for flag, value in (("--method", args.method), ("--seed", args.seed), ("--epochs", args.epochs),
                                      ("--limit", args.limit), ("--no-prune", args.no_prune or None))
             if value is not None]
    if given:
        raise CliError(f"--resume continues a sweep as it began: {', '.join(given)} cannot change (only --trials, "
                       f"--time, --jobs and --data may)")


@contextlib.contextmanager
def sweep_lock(folder):
    """Hold ``<folder>/.lock`` while the sweep runs: a second coordinator would run the same trials again."""
    path = os.path.join(folder, LOCK_FILE)
    with open(path, "a", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CliError(f"{folder}: the sweep is running in another process (it holds {path}): let it end or "
                           f"stop it first") from None
        yield


def settings_text(sweep, settings):
    return " ".join(f"{name}={format_value(settings[name])}" for name in sweep.varied())


def train_arguments(sweep, trial):
    """The ``main.py train`` arguments of ``trial``: a new run in its run folder, or the interrupted one resumed
    from its checkpoint."""
    has_checkpoint = os.path.isfile(Run(trial.run).checkpoint_path)
    where = ["--resume" if has_checkpoint else "--out", trial.run]
    options = sweep.options
    given = (("--epochs", options.get("epochs")), ("--limit", options.get("limit")), ("--data", options.get("data")))
    return ["train", sweep.trial_network_path(trial), *where, *[str(x) for flag, value in given
                                                               if value is not None for x in (flag, value)]]


def prepare_trial(sweep, trial):
    """Write the trial's network (the sweep's base network with the trial's settings) unless it exists, and
    return the number of epochs the trial trains (a trial restarted without a checkpoint gets a fresh run
    folder: a run that never saved a step has nothing to keep)."""
    base, n = trial.run, 2
    while not os.path.isfile(Run(trial.run).checkpoint_path) and os.path.exists(trial.run):
        trial.run, n = f"{base}-{n}", n + 1
    path = sweep.trial_network_path(trial)
    if os.path.isfile(path):
        network = open_network(path)
    else:
        network = with_settings(open_network(sweep.base_network_path), trial.settings)
        save_network(network, path)
    return sweep.options.get("epochs") or int(network.settings["epochs"])


def worker_environment(threads):
    return {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}


@dataclass
class Active:
    """A trial whose worker process runs (``process`` and ``log`` are None until it has started)."""

    trial: object
    process: subprocess.Popen | None
    log: object
    started: float
    epochs: int = 0  # the epochs the trial trains: its last is never pruned
    epochs_reported: int = 0
    pruning: bool = False
    stopping: bool = False  # asked to stop with the sweep
    metrics_stamp: tuple | None = None  # metrics.csv's modification time and size when last read


def stopped_by_us(item, code):
    """Whether a worker's exit ``code`` says it stopped when asked (its checkpoint kept) or was killed, rather
    than ending its run: such a trial is resumed, not recorded as done. A worker asked to stop with the sweep
    that ends other than by finishing counts as stopped too: Python interrupted while it starts up exits with 1
    (a trial stopped a moment after it began was recorded as failed, and never resumed)."""
    return code < 0 or (code == INTERRUPTED and not item.pruning) or (item.stopping and code != 0)


@contextlib.contextmanager
def signals_as_ctrl_c():
    """SIGTERM and SIGHUP stop the sweep as Ctrl+C does (signal handlers can only be set in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(number, frame):
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class Coordinator:
    """Runs the trials of a sweep, at most ``jobs`` at a time, polling each worker's metrics for pruning."""

    def __init__(self, sweep, search, jobs):
        self.sweep, self.search, self.jobs = sweep, search, jobs
        self.threads = max(1, usable_cpus() // jobs)
        self.active = []
        self.began = time.monotonic()
        self.used_before = sweep.seconds_used

    def save(self):
        self.sweep.seconds_used = self.used_before + time.monotonic() - self.began
        self.sweep.save()

    def start(self, trial):
        item = Active(trial, None, None, time.monotonic())
        self.active.append(item)  # first: whatever interrupts what follows finds the trial to settle
        item.epochs = prepare_trial(self.sweep, trial)
        resumed = os.path.isfile(Run(trial.run).checkpoint_path)
        item.log = open(self.sweep.trial_log_path(trial), "a", encoding="utf-8")  # noqa: SIM115 (closed in finish)
        item.process = subprocess.Popen([sys.executable, "-c", WORKER, REPO, str(self.threads),
                                         *train_arguments(self.sweep, trial)], stdout=item.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=worker_environment(self.threads),
                                        start_new_session=True)  # Ctrl+C reaches the sweep, which stops each trial
        trial.state = "running"
        self.save()
        budget = self.search.budget
        print(f"trial {trial.number}{f'/{budget}' if budget else ''} {'resumed' if resumed else 'started'}: "
              f"{settings_text(self.sweep, trial.settings)} -> {trial.run}", flush=True)

    def poll(self, item):
        """Report the trial's new epochs to the search (its metrics read again only once they changed); stop it
        when it should be pruned, unless the epoch was its last."""
        try:
            info = os.stat(Run(item.trial.run).metrics_path)
        except OSError:
            return  # no epoch yet
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == item.metrics_stamp:
            return
        try:
            item.trial.scores = trial_scores(item.trial.run)
        except FileError:
            return  # a metrics file being replaced: read it again next time
        item.metrics_stamp = stamp
        for epoch in range(item.epochs_reported + 1, len(item.trial.scores) + 1):
            self.search.report(item.trial, epoch, item.trial.scores[epoch - 1])
            item.epochs_reported = epoch
            if not item.pruning and epoch < item.epochs and self.search.should_prune(item.trial):
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
        """Run trials until the budget is spent: 0, or 130 after Ctrl+C, SIGTERM or SIGHUP (the sweep left
        resumable). Should the coordinator itself fail, no worker outlives it."""
        with signals_as_ctrl_c():
            try:
                return self.loop()
            except KeyboardInterrupt:
                self.stop()
                return INTERRUPTED
            finally:
                self.abandon()

    def loop(self):
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

    def end_workers(self, timeout):
        """Ask every running worker to stop after its step (those being pruned were asked already) and wait up to
        ``timeout`` seconds (None: until Ctrl+C again), then kill those still running."""
        processes = [item.process for item in self.active if item.process is not None]
        for item in self.active:
            if item.process is not None and not item.pruning and item.process.poll() is None:
                item.stopping = True
                with contextlib.suppress(ProcessLookupError):
                    item.process.send_signal(signal.SIGINT)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for process in processes:
                process.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def abandon(self):
        """End the workers a failing coordinator leaves (their trials stay 'running' in the record, resumable)."""
        self.end_workers(STOP_SECONDS)
        for item in self.active:
            if item.log is not None:
                item.log.close()
        self.active.clear()

    def stop(self):
        """Stop every worker after its step (a second Ctrl+C ends them at once). Trials that stopped when asked
        stay to be resumed from their checkpoints; those that ended on their own (finished, failed, or pruned)
        are recorded as such."""
        print("\nstopping every trial after its current step (Ctrl+C again to abort)...", file=sys.stderr, flush=True)
        self.end_workers(None)
        for item in list(self.active):
            code = None if item.process is None else item.process.returncode
            if code is not None and not stopped_by_us(item, code):
                self.finish(item, code)
                continue
            if item.log is not None:
                item.log.close()
            if code is not None:
                item.trial.state = "stopped"
            self.search.release(item.trial)
            self.active.remove(item)
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


def run_sweep(sweep, jobs):
    search = Search(sweep)
    print(f"sweep of {os.path.basename(sweep.network)}: {sweep.method}, "
          f"{' '.join(d.describe() for d in sweep.space)}, {jobs} at a time; record: {sweep.path}", flush=True)
    code = Coordinator(sweep, search, jobs).run()
    print_summary(sweep)
    if code == INTERRUPTED:
        print(f"sweep stopped; resume with: python main.py sweep --resume {sweep.folder}")
        return code
    return 0 if any(t.state == "finished" for t in sweep.trials) else 1


def main(args):
    if args.resume:
        refuse_fixed_options(args)
        with sweep_lock(open_sweep(args.resume).folder):
            return run_sweep(resumed_sweep(args), args.jobs)  # read again under the lock
    sweep = new_sweep(args)
    with sweep_lock(sweep.folder):
        return run_sweep(sweep, args.jobs)
