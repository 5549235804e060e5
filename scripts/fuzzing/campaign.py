"""The fuzzing campaign: ``cases`` mutated cases per kind, each loaded in a child of the fork server, a
sample also through the command line; failing cases are kept, with what was done to them, for reproduction."""

import json
import os
import random
import shutil
import stat
from dataclasses import dataclass, field

from . import formats
from .runner import RSS_LIMIT_KIB, Pool, cli_outcome, load_outcome

SPECIAL_RATE = 0.01  # cases whose member is a FIFO, a link to /dev/zero, a folder or a huge sparse file
SPARSE_BYTES = 16 << 30


@dataclass
class Tally:
    """One kind's counts."""

    kind: str
    cases: int = 0
    loaded: int = 0
    clean: int = 0
    tracebacks: int = 0
    hangs: int = 0
    cli_runs: int = 0
    cli_bad: int = 0
    over_memory: int = 0
    max_rss_kib: int = 0
    slowest: float = 0.0
    failures: list = field(default_factory=list)

    @property
    def bad(self):
        return self.tracebacks + self.hangs + self.cli_bad + self.over_memory


def make_case(kind, index, seed, folder):
    """Write case ``index`` of ``kind`` into ``folder``: ``(path to load, description of the mutation)``."""
    rng = random.Random(f"{seed}:{kind.name}:{index}")
    base = rng.choice(kind.seeds)
    member = rng.choice(sorted(base.formats))
    donor = rng.choice(kind.seeds).files.get(member, base.files[member])
    special = rng.random() < SPECIAL_RATE
    if not special:
        data, what = formats.mutate(base.formats[member], base.files[member], rng, donor)
    for rel, content in base.files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if rel == member and special:
            what = _special(path, rng)
            continue
        with open(path, "wb") as f:
            f.write(data if rel == member else content)
    return os.path.join(folder, base.entry), f"{member}: {what}"


def _special(path, rng):
    """Put something that is not a small regular file at ``path``: what a loader must refuse without blocking
    or reading it all."""
    choice = rng.choice(("fifo", "zero", "folder", "sparse"))
    if choice == "fifo":
        os.mkfifo(path)
        return "a FIFO nobody writes to"
    if choice == "zero":
        os.symlink("/dev/zero", path)
        return "a link to /dev/zero"
    if choice == "folder":
        os.makedirs(path)
        return "a folder"
    with open(path, "wb") as f:
        f.truncate(SPARSE_BYTES)
    return f"a sparse file of {SPARSE_BYTES >> 30} GiB"


def _copy_small_regular(source, target):
    """Keep a failing case's files, except what cannot or should not be copied (FIFOs, devices, huge files)."""
    info = os.stat(source)
    if stat.S_ISREG(info.st_mode) and info.st_size < 1 << 28:
        shutil.copy2(source, target)


def _keep(tally, case_folder, out, index, description, mode, outcome):
    target = os.path.join(out, tally.kind, f"{index:05d}-{mode}")
    if os.path.exists(target):
        shutil.rmtree(target)
    shutil.copytree(case_folder, target, symlinks=True, copy_function=_copy_small_regular)
    record = {"kind": tally.kind, "case": index, "mode": mode, "mutation": description, "status": outcome.status,
              "seconds": round(outcome.seconds, 2), "max_rss_mib": outcome.max_rss_kib // 1024, **outcome.detail}
    with open(os.path.join(target, "case.json"), "w") as f:
        json.dump(record, f, indent=1, default=str)
    tally.failures.append({**record, "path": target})


def fuzz_kind(kind, context, cases, seed, work, out, jobs=2, cli_every=10):
    """Run ``cases`` mutated cases of ``kind``; the ``Tally``."""
    tally = Tally(kind.name)
    pool = Pool(jobs)
    pending = {}  # index -> number of children still running on the case

    def finished(index, folder, description, mode):
        def done(outcome):
            tally.max_rss_kib = max(tally.max_rss_kib, outcome.max_rss_kib)
            tally.slowest = max(tally.slowest, outcome.seconds)
            bad = outcome.status in ("traceback", "hang", "cli-bad") or outcome.max_rss_kib > RSS_LIMIT_KIB
            if mode == "load":
                tally.cases += 1
                field_name = {"loaded": "loaded", "clean": "clean", "traceback": "tracebacks", "hang": "hangs"}
                setattr(tally, field_name[outcome.status], getattr(tally, field_name[outcome.status]) + 1)
            else:
                tally.cli_runs += 1
                tally.cli_bad += outcome.status in ("cli-bad", "hang", "traceback")
            tally.over_memory += outcome.max_rss_kib > RSS_LIMIT_KIB
            if bad:
                _keep(tally, folder, out, index, description, mode, outcome)
            pending[index] -= 1
            if not pending[index]:
                shutil.rmtree(folder, ignore_errors=True)
        return done

    for index in range(cases):
        folder = os.path.join(work, f"{kind.name}-{index}")
        path, description = make_case(kind, index, seed, folder)
        with_cli = kind.cli is not None and index % cli_every == 0
        pending[index] = 1 + with_cli
        pool.submit(lambda p=path: load_outcome(lambda: kind.load(p, context)),
                    finished(index, folder, description, "load"))
        if with_cli:
            pool.submit(lambda p=path: _cli_case(kind, p, context), finished(index, folder, description, "cli"))
    pool.drain()
    return tally


def _cli_case(kind, path, context):
    code, _ = load_outcome(lambda: kind.load(path, context))
    return cli_outcome(kind.cli(path, context), bad_file=code != 0 and kind.cli_reads_all)
