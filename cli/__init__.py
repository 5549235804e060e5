"""LayerLab's command line: ``train``, ``eval``, ``summary``, ``export`` and ``predict`` on network files,
headless, with the same training loop and run folders as the GUI."""

import argparse
import sys

from . import evaluate, export, predict, summary, train
from .common import CliError

COMMANDS = (train, evaluate, summary, export, predict)
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


def report(command, error):
    print(f"{PROG} {command}: error: {error}", file=sys.stderr)
    for line in error.details:
        print(f"  {line.strip()}", file=sys.stderr)


def main(argv):
    """Run one sub-command; the exit code: 0 done, 1 the command found problems, 2 bad input, 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except CliError as e:
        report(args.command, e)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
