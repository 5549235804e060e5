"""Wall time of a 4-trial sweep (LeNet on 2,000 real CIFAR-10 images, 1 epoch each) run one trial at a time and
two at a time: ``python bench/sweep_jobs.py [--data DIR]``. Each sweep runs in a fresh copy of the template;
prints the CPU, both times and their ratio."""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.graph.templates import TEMPLATE_DIR
from engine.training.runs import list_runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "cifar10")
SWEEP = ("--set", "lr=0.01,0.05", "--set", "batch_size=32,64", "--epochs", "1", "--limit", "2000", "--no-prune")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")


def timed_sweep(jobs, data):
    """Seconds of ``main.py sweep`` with ``--jobs jobs`` in a fresh folder, and the line naming the best trial."""
    with tempfile.TemporaryDirectory() as folder:
        net = shutil.copy(os.path.join(TEMPLATE_DIR, "lenet_cifar10.llnet"), folder)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "sweep", net, *SWEEP, "--data", data,
                                 "--jobs", str(jobs)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"the sweep with --jobs {jobs} failed:\n{result.stdout}\n{result.stderr}")
        runs = list_runs(net)
        assert len(runs) == 4 and all(run.status == "finished" for run in runs), result.stdout
        best = next(line for line in result.stdout.splitlines() if line.startswith("best:"))
        return seconds, best


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=DEFAULT_DATA, help="the CIFAR-10 root (holding cifar-10-batches-py)")
    args = parser.parse_args()
    print(f"cpu: {cpu_model()}, {os.cpu_count()} cores; sweep: {' '.join(SWEEP)}")
    times = {}
    for jobs in (1, 2):
        times[jobs], best = timed_sweep(jobs, os.path.abspath(args.data))
        print(f"--jobs {jobs}: {times[jobs]:.1f} s wall ({best})", flush=True)
    print(f"ratio jobs 2 / jobs 1: {times[2] / times[1]:.2f}")


if __name__ == "__main__":
    main()
