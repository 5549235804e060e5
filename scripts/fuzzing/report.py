"""The closing tables: per file kind, per kind of write, full disk, then each distinct failure once with a
file that reproduces it, and the issue's four counts."""

import json
import os
from dataclasses import asdict

from .runner import BLOCKED_SECONDS, HANG_SECONDS


def _table(headers, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def failure_key(failure):
    """What makes two failures the same bug: kind, how it was loaded, the exception and where it was raised."""
    where = failure.get("where") or [""]
    return (failure["kind"], failure["mode"], failure["status"], failure.get("type"), failure.get("problem"),
            " < ".join(reversed(where[:1] + where[-1:])) if len(where) > 3 else where[-1])


def distinct(failures):
    groups = {}
    for failure in failures:
        groups.setdefault(failure_key(failure), []).append(failure)
    return groups


def render(fuzz, kills, disk, how):
    out = []
    rows = [[t.kind, t.cases, t.loaded, t.clean, t.tracebacks, t.hangs, t.cli_runs, t.cli_bad,
             t.max_rss_kib // 1024, t.over_memory, f"{t.slowest:.2f}"] for t in fuzz]
    if rows:
        out += [f"Fuzzing (one child per case; hang = over {HANG_SECONDS:g} s of CPU or {BLOCKED_SECONDS:g} s blocked; "
                "memory = peak RSS)",
                _table(["kind", "cases", "loaded", "clean errors", "tracebacks", "hangs", "cli runs", "cli bad",
                        "max MiB", "> 2 GiB", "max CPU s"], rows), ""]
    if kills:
        out += ["kill -9 during writes",
                _table(["write", "kills", "whole", "half-written", ".tmp left", ".tmp after next write"],
                       [[k.kind, k.kills, k.whole + k.absent, k.half_written, k.leftovers, k.leftovers_after_write]
                        for k in kills]), ""]
        out += [f"  {k.kind}: {p}" for k in kills for p in k.problems[:5]]
    if disk:
        out += [f"Full disk ({how})",
                _table(["write", "error", "kind's error", "old file whole", ".tmp left"],
                       [[d.kind, d.error[:90], "yes" if d.clean else "NO", "yes" if d.old_whole else "NO",
                         d.leftovers] for d in disk]), ""]
    failures = [f for t in fuzz for f in t.failures]
    groups = distinct(failures)
    if groups:
        out.append(f"Distinct failures ({len(groups)}; every failing case is kept with its case.json):")
        for (kind, mode, status, kind_error, problem, where), cases in groups.items():
            first = cases[0]
            message = first.get("message") or first.get("stderr") or ""
            out.append(f"- {kind} [{mode}] {status}: {kind_error or ''} {problem or ''} x{len(cases)}")
            out += [f"    {message[:240]}".replace("\n", " ")] if message else []
            out += [f"    raised at {where}"] if where else []
            out += [f"    mutation: {first['mutation'][:200]}", f"    reproduce: {first['path']}"]
        out.append("")
    totals = issue_counts(fuzz, kills, disk)
    out.append("Closing note: " + ", ".join(f"{v} {k}" for k, v in totals.items()))
    return "\n".join(out)


def issue_counts(fuzz, kills, disk):
    return {
        "tracebacks": sum(t.tracebacks for t in fuzz),
        "hangs over 5 s": sum(t.hangs for t in fuzz),
        "half-written files": sum(k.half_written for k in kills),
        "processes above 2 GiB": sum(t.over_memory for t in fuzz),
        "command-line failures": sum(t.cli_bad for t in fuzz),
        "temporary files left after a following write": sum(k.leftovers_after_write for k in kills),
        "full-disk writes without the kind's error or with the old file damaged": sum(d.bad for d in disk),
    }


def save(path, fuzz, kills, disk, how):
    data = {"fuzz": [asdict(t) for t in fuzz], "kills": [asdict(k) for k in kills],
            "disk_full": {"how": how, "writes": [asdict(d) for d in disk]},
            "counts": issue_counts(fuzz, kills, disk)}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=1, default=str)
