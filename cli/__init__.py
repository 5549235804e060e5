"""LayerLab's command line: ``train``, ``eval``, ``summary``, ``export``, ``predict``, ``import`` (an ONNX model
as a network file), ``lr-find`` (a learning-rate sweep), ``check`` (the pre-flight check), ``runs`` (a network's
runs as a table), ``report`` (runs compared in an HTML file) and ``sweep`` (train with varied settings, compare the
runs), headless, with the same training loop and run folders as the GUI. A file that cannot be used (any
``FileError``, or an ``OSError`` reading or writing one) ends a command with one line naming the file, never a
traceback; a ``FileWarning`` becomes a 'warning:' line."""

import argparse
import contextlib
import sys
import warnings

from engine.utils.files import FileError, FileWarning

from . import check, evaluate, export, import_model, lr_find, predict, report, runs, summary, sweep, train
from .common import CliError

COMMANDS = (train, evaluate, summary, export, predict, import_model, lr_find, check, runs, report, sweep)
PROG = "main.py"


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Build neural networks visually and train them on LayerLab's own engine. "
                               "Without a command, opens the app (optionally on NET.llnet).",
        epilog=f"'{PROG} COMMAND --help' describes a command.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def print_error(command, message, details=()):
    print(f"{PROG} {command}: error: {message}", file=sys.stderr)
    for line in details:
        print(f"  {line.strip()}", file=sys.stderr)


def os_error_text(error):
    """``<file>: <problem>`` for an ``OSError`` about a file (its own text when it names none)."""
    if error.filename is None or error.strerror is None:
        return str(error)
    files = f"{error.filename} -> {error.filename2}" if error.filename2 is not None else f"{error.filename}"
    return f"{files}: {error.strerror}"


@contextlib.contextmanager
def file_warnings_as_lines(command):
    """While a command runs, each ``FileWarning`` is printed as one ``main.py CMD: warning:`` line on stderr;
    other warnings keep Python's handling."""
    show = warnings.showwarning

    def show_warning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, FileWarning):
            print(f"{PROG} {command}: warning: {message}", file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", FileWarning)
        warnings.showwarning = show_warning
        yield


def main(argv):
    """Run one sub-command; the exit code: 0 done, 1 the command found problems, 2 bad input, 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv)  # as given: a command that starts processes of itself passes it on
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with file_warnings_as_lines(args.command):
            return args.handler(args)
    except CliError as e:
        print_error(args.command, e, e.details)
    except FileError as e:
        print_error(args.command, e)
    except OSError as e:
        print_error(args.command, os_error_text(e))
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2
