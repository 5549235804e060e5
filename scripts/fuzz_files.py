"""Fuzz every kind of file LayerLab reads and inject faults into every kind it writes (issue 14).

    nice -n 10 .venv/bin/python scripts/fuzz_files.py --cases 1000 --kills 200 [--kinds network npz ...]
        [--seed S] [--out DIR] [--jobs 2] [--no-disk-full]

Seed files are made with the project's own writers; each case is a seed with one mutation (byte-level or
aware of the format), loaded in a forked child through the kind's real entry point (every tenth also through
``cli.main``) under a 3 GiB address-space cap, killed after 5 s. Then a child writing each kind of file is
killed with SIGKILL ``--kills`` times in all and the file checked, and each write meets a full disk. Failing
cases are kept under ``--out`` with a ``case.json``; the tables end with the issue's counts, and the exit
code is 1 when any of them is not zero.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # children are forked: no BLAS thread pools
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzing import formats, report, seeds
from fuzzing.campaign import fuzz_kind
from fuzzing.diskfull import disk_full
from fuzzing.kills import kill_all
from fuzzing.writers import WRITERS

MARKER = ".fuzz_files"  # in --out: the folder is this command's, to be emptied by the next run


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="mutated cases per file kind (default 1000)")
    parser.add_argument("--kills", type=int, default=200, help="kill -9 during writes, in all (default 200)")
    parser.add_argument("--kinds", nargs="+", metavar="KIND", help="file kinds to fuzz (default: all)")
    parser.add_argument("--writes", nargs="+", metavar="WRITE", choices=sorted(WRITERS),
                        help="kinds of write for the kill and full-disk tests (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/fuzz-failures", help="where failing cases are kept")
    parser.add_argument("--jobs", type=int, default=2, help="children at once (default 2)")
    parser.add_argument("--cli-every", type=int, default=10, help="every Nth case also through the command line")
    parser.add_argument("--no-disk-full", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    work = tempfile.mkdtemp(prefix="fuzz-work-")
    started = time.monotonic()
    try:
        context = seeds.make_context(work)
        kinds = seeds.kinds(work, context)
        unknown = set(args.kinds or ()) - {k.name for k in kinds}
        if unknown:
            print(f"unknown kinds {sorted(unknown)}; known: {[k.name for k in kinds]}", file=sys.stderr)
            return 2
        formats.prepare()
        marker = os.path.join(args.out, MARKER)
        if os.path.isdir(args.out) and os.listdir(args.out):
            if not os.path.exists(marker):
                print(f"{args.out} holds files that are not an earlier run's: choose another --out", file=sys.stderr)
                return 2
            shutil.rmtree(args.out)  # an earlier run's cases: they would mix with this run's
        os.makedirs(args.out, exist_ok=True)
        open(marker, "w").close()
        fuzz = []
        for kind in kinds:
            if args.kinds and kind.name not in args.kinds:
                continue
            tally = fuzz_kind(kind, context, args.cases, args.seed, work, args.out, args.jobs, args.cli_every)
            print(f"{kind.name}: {tally.cases} cases, {tally.bad} bad ({time.monotonic() - started:.0f} s)",
                  flush=True)
            fuzz.append(tally)
        kills = kill_all(args.kills, args.seed, os.path.join(args.out, "kills"), args.writes) if args.kills else []
        disk, how = ([], "") if args.no_disk_full else disk_full(args.writes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(report.render(fuzz, kills, disk, how))
    report.save(os.path.join(args.out, "summary.json"), fuzz, kills, disk, how)
    print(f"({time.monotonic() - started:.0f} s; summary in {os.path.join(args.out, 'summary.json')})")
    return 1 if any(report.issue_counts(fuzz, kills, disk).values()) else 0


if __name__ == "__main__":
    sys.exit(main())
