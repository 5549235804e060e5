"""Train a network with the training settings its file holds (options override them) into a run
folder, with a progress bar and a line of metrics per epoch. Ctrl+C stops after the current step and keeps a
checkpoint; --resume RUN_DIR continues that run exactly where it stopped (mid-epoch included), optimizer and
schedule included, up to --epochs, once its checkpoint is checked against the network. A run that fails
(a bad image, a full disk, a diverging loss) is recorded as failed with the message and the checkpoint of its
last completed step."""

import contextlib
import os
import shlex
import signal
import sys
import threading
from contextlib import contextmanager

from tqdm import tqdm

from engine.training.health_measures import BAD, MEASURES

from .common import (
    CliError,
    apply_settings,
    data_errors,
    open_network,
    positive_int,
    require_valid,
    resolve_device,
)
from .train_processes import add_arguments as add_process_arguments
from .train_processes import join_ranks, launch_ranks


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train a network into a run folder", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file (its training settings are used)")
    p.add_argument("--data", metavar="DIR", help="the dataset folder (default: the document's data_dir, "
                                                 "$LAYERLAB_DATA or ~/.cache/layerlab/data)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--epochs", type=int, metavar="N", help="train until N epochs in all")
    p.add_argument("--batch-size", type=int, metavar="N")
    p.add_argument("--lr", type=float, metavar="X", help="learning rate (with --resume: from the checkpoint on)")
    p.add_argument("--clip-grad-norm", type=float, metavar="X",
                   help="clip the gradients to this total norm before each update (0: off)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="train on the first N training images only")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.add_argument("--skip-bad-samples", action="store_true",
                   help="skip unreadable images of an image folder (counted) instead of stopping at the first")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: a new time-stamped folder in "
                                                        "NET.runs/ next to the network file)")
    where.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its checkpoint")
    health = p.add_mutually_exclusive_group()
    health.add_argument("--health-every", type=positive_int, metavar="N",
                        help="measure every layer's health every N steps into health.csv (default: the document's "
                             "health_every setting, 10 unless changed)")
    health.add_argument("--no-health", action="store_true", help="do not measure the layers' health")
    p.add_argument("--init", metavar="WEIGHTS", help="fine-tune: start from these weights (a weight file or a run "
                                                    "folder, such as NET.runs/imported) where they fit the layers")
    add_process_arguments(p)
    p.set_defaults(handler=main)


@contextmanager
def stop_on_interrupt(trainer):
    """Ctrl+C asks the trainer to stop after its current step (the checkpoint is then saved); a second
    Ctrl+C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGINT, previous)
        print("\nstopping after this step (Ctrl+C again to abort)...", file=sys.stderr, flush=True)
        trainer.stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def resumed_run(folder, network, network_path):
    """The run to continue, its checkpoint checked against ``network`` before any data is loaded."""
    from engine.training import RunFileError, load_run
    from engine.training.recipe import check_resume
    from engine.utils.files import FileError

    try:
        run = load_run(folder)
    except RunFileError as e:
        raise CliError(str(e)) from None
    if not run.has_checkpoint:
        raise CliError(f"{run.checkpoint_path}: no checkpoint to resume from")
    try:
        check_resume(network, run.checkpoint_path)
    except FileError as e:
        raise CliError(f"cannot resume {network_path} from {e}") from None
    return run


def new_run(args, network):
    from engine.training import RunFileError, create_run

    try:
        return create_run(network, network_path=args.network, folder=args.out)
    except RunFileError as e:  # an OSError goes on to cli.main, which names its file
        raise CliError(str(e)) from None


def prepare(args, network, rank=0):
    """The run folder and the ready trainer (restored from the checkpoint when resuming). A data-parallel rank
    other than 0 writes no run folder: it gets the run only to resume from, else None."""
    from engine.distributed import get_world_size as world_size
    from engine.training import ConsoleProgress
    from engine.training.data_parallel import RankShare, batch_problem
    from engine.training.initial_weights import load_initial_weights
    from engine.training.recipe import load_checked_data, prepare_training, trainable_problem
    from engine.training.resume import RESUME_SETTINGS, kept_settings, resume_from_run
    from engine.utils.files import FileError

    device = resolve_device(network, args.device)
    if trainable_problem(network):
        raise CliError(f"{args.network}: cannot train: {trainable_problem(network)}")
    if args.init and args.resume:
        raise CliError("--init starts a new run from other weights; --resume continues a run: give one of them")
    if args.init:  # checked before the data is loaded and the run folder made
        load_initial_weights(network.build(), args.init)
    run = resumed_run(args.resume, network, args.network) if args.resume else None
    if run is not None:  # the learning rate and clipping go on as the run had them unless an option changes them
        network.set_settings(kept_settings(run, {name for name in RESUME_SETTINGS if getattr(args, name) is not None}))
    with data_errors(network, args.data):
        data = load_checked_data(network, args.data, args.download)
    processes = world_size() if args.as_rank else 1
    problem = batch_problem(network.settings["batch_size"], len(data.train), processes)
    if problem:
        raise CliError(f"{args.network}: cannot train in {processes} processes: {problem}")
    callbacks = []
    if rank == 0:
        run = run or new_run(args, network)
        run.classes = list(data.classes)
        callbacks = [ConsoleProgress(report_end=False), HealthWarnings(), *run.callbacks()]
    setup = prepare_training(network, data=data, device=device, callbacks=callbacks)
    if args.init:
        print(load_initial_weights(setup.model, args.init).summary())
    if args.resume:
        try:  # the document as trained from now on: a changed learning rate or clipping applies
            resume_from_run(setup.trainer, run, network, record=rank == 0)
        except FileError as e:
            raise CliError(f"cannot resume {args.network} from {e}") from None
    if processes > 1:
        setup.trainer.parallel = RankShare(setup.model)
    return run, setup


class HealthWarnings:
    """A line the first time a layer's measure goes red, with what it means and what people usually do."""

    def __init__(self):
        self.reported = set()

    def on_health(self, trainer, record):
        for layer, values in record.rows():
            for measure in MEASURES:
                value = values[measure.key]
                if measure.level(value) == BAD and (layer, measure.key) not in self.reported:
                    self.reported.add((layer, measure.key))
                    tqdm.write(f"health: step {record.step}: layer '{layer}' {measure.label} {value:.3g}. "
                               f"{measure.advice(value)}", file=sys.stderr)


def describe(setup, run):
    data, trainer = setup.data, setup.trainer
    val = "the test set" if data.val is data.test else f"{len(data.val):,} images"
    print(f"training '{setup.network.title}' on {len(data.train):,} images, validating on {val}, "
          f"{len(setup.train_loader)} steps per epoch, device {trainer.device}")
    if trainer.epoch or trainer.epoch_step:
        within = f", step {trainer.epoch_step} of epoch {trainer.epoch + 1}" if trainer.epoch_step else ""
        print(f"resuming after epoch {trainer.epoch}{within} (global step {trainer.global_step})")
    print(f"run folder: {run.folder}")


def test_accuracy(setup):
    """Accuracy on the test set (the last validation when the test set served as validation)."""
    trainer = setup.trainer
    if setup.data.val is setup.data.test and trainer.history:
        return trainer.history[-1].val_accuracy, len(setup.data.test)
    result = trainer.evaluate(setup.test_loader)
    return result.accuracy, result.count


def existing_files(run):
    """The names of the run's result files that exist."""
    paths = (run.weights_path, run.metrics_path, run.checkpoint_path)
    return ", ".join(os.path.basename(p) for p in paths if os.path.isfile(p))


def report_failure(run, message):
    print(f"training failed: {message}\nrun folder: {run.folder} ({existing_files(run) or 'no result files'})",
          file=sys.stderr)
    return 1


# the training settings the recovery commands change -> their option
RECOVERY_OPTIONS = {"lr": "--lr", "clip_grad_norm": "--clip-grad-norm"}


def repeated_options(args):
    """The options of this command that a resume must repeat to continue the same run (data, length, device)."""
    given = (("--data", args.data), ("--epochs", args.epochs), ("--batch-size", args.batch_size),
             ("--limit", args.limit), ("--device", args.device))
    options = [f"{flag} {shlex.quote(str(value))}" for flag, value in given if value is not None]
    return options + (["--skip-bad-samples"] if args.skip_bad_samples else [])


def report_recovery(args, run, network):
    """After a divergence: the commands that rewind to the run's last good checkpoint (or, without one, start
    again) with the learning rate halved, or with gradient clipping on."""
    from engine.training.resume import recoveries

    command = ["python", "main.py", "train", shlex.quote(args.network)]
    if run.has_checkpoint:
        how, command = "rewind to the last good checkpoint", [*command, "--resume", shlex.quote(run.folder)]
    else:
        how = "start again"
    command += repeated_options(args)
    for recovery in recoveries(network.settings, run):
        changes = [f"{RECOVERY_OPTIONS[name]} {value!r}" for name, value in recovery.changes.items()]
        print(f"to {how} with {recovery.label}:\n  {' '.join([*command, *changes])}", file=sys.stderr)


def conclude(args, run, setup, info):
    """Write the final weights and evaluate (unless the run failed); the exit code. Whatever fails here fails
    the run, recorded in run.json, and is reported in one line."""
    from engine.training.trainer import NonFiniteLossError, failure_message

    if info.status == "failed":
        code = report_failure(run, info.message)
        if isinstance(info.error, NonFiniteLossError):
            report_recovery(args, run, setup.network)
        return code
    try:
        run.save_weights(setup.model)
        if info.status == "stopped":
            print(f"stopped after {info.epochs_completed} epochs and {info.global_step} steps; the checkpoint is "
                  f"kept.\nresume with: python main.py train {args.network} --resume {run.folder}")
            return 130
        accuracy, images = test_accuracy(setup)
        data = setup.data
        run.record_skipped(data.train, data.val, data.test)
        run.finish(test_accuracy=accuracy)
    except Exception as e:  # a run that fails at its end is recorded and reported like one that fails earlier
        run.status = "failed"
        with contextlib.suppress(OSError):
            run.finish(message=failure_message(e))
        return report_failure(run, failure_message(e))
    print(f"test accuracy: {100 * accuracy:.2f} % on {images:,} images")
    print(f"run folder: {run.folder} ({existing_files(run)})")
    return 0


def report_skipped(run):
    if run.skipped:
        print(f"skipped {run.skipped} unreadable images (first: {run.first_skipped})", file=sys.stderr)


def main(args):
    network = open_network(args.network)
    apply_settings(network, {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                             "processes": args.processes,
                             "train_limit": args.limit, "device": args.device, "clip_grad_norm": args.clip_grad_norm,
                             "skip_bad_samples": True if args.skip_bad_samples else None,
                             "health_every": 0 if args.no_health else args.health_every})
    require_valid(network, args.network, "train")
    if network.settings["processes"] > 1 and not args.as_rank:
        return launch_ranks(args, network.settings["processes"])
    rank = join_ranks() if args.as_rank else 0
    run, setup = prepare(args, network, rank)
    trainer = setup.trainer
    if rank != 0:  # rank 0 reports and writes the run; this rank's last error line goes to the launcher
        with stop_on_interrupt(trainer):
            info = trainer.fit(network.settings["epochs"])
        if info.status == "failed":
            print(f"training failed: {info.message}", file=sys.stderr)
        return {"finished": 0, "stopped": 130}.get(info.status, 1)
    describe(setup, run)
    with stop_on_interrupt(trainer):
        info = trainer.fit(network.settings["epochs"])
    code = conclude(args, run, setup, info)
    report_skipped(run)
    return code
