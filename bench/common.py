"""Shared timing for the benchmarks: both frameworks timed in the same run, interleaved."""

import json
import os
import subprocess
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The environment the benchmark was started with, before anything imported the engine (which sets
# GOMP_SPINCOUNT): measuring children start from it, so PyTorch's child runs with PyTorch's own OpenMP settings.
START_ENVIRONMENT = dict(os.environ)


def print_threads(torch):
    """Pin PyTorch to the thread count it has (ours uses as many) and print it with the versions."""
    threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    print(f"threads: {threads} (torch {torch.__version__}, numpy {np.__version__})")


def best_time(fn, min_time=0.2, repeats=5):
    """Seconds per call: the best of ``repeats`` rounds, each long enough to be measurable."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * min_time / 0.2))
    return min(timer.repeat(repeat=repeats, number=number)) / number


def print_header(ours_label="engine", ref_label="torch"):
    print(f"{'case':<40} {ours_label + ' (us)':>14} {ref_label + ' (us)':>14} {'ratio':>8}")


def print_row(name, t_ours, t_ref):
    """A table row: both times (seconds, printed in us) and the ratio ours/ref, which it returns."""
    ratio = t_ours / t_ref
    print(f"{name:<40} {t_ours * 1e6:>14.2f} {t_ref * 1e6:>14.2f} {ratio:>7.2f}x", flush=True)
    return ratio


def compare(cases, ours_label="engine", ref_label="torch"):
    """Time each (name, ours_fn, ref_fn) alternately and print a table with the ratio ours/ref."""
    print_header(ours_label, ref_label)
    rows = []
    for name, ours, ref in cases:
        t_ours = t_ref = float("inf")
        for _ in range(3):  # interleave, so a noisy moment hurts both sides alike
            t_ours = min(t_ours, best_time(ours))
            t_ref = min(t_ref, best_time(ref))
        rows.append((name, t_ours, t_ref, print_row(name, t_ours, t_ref)))
    return rows


def make_batches(batch, count=16, seed=0):
    """``count`` batches of random 3x32x32 images (float32) and CIFAR-10 labels, as NumPy arrays."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((count, batch, 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, (count, batch))
    return images, labels


def training_speed(m, net, criterion, optimizer, batch, seconds, count=16, warmup=5, device="cpu"):
    """Images per second of training ``net`` (already on ``device``) with framework ``m`` over about ``seconds``,
    after ``warmup`` steps, cycling through ``count`` random batches (moved to ``device`` before timing)."""
    images, labels = make_batches(batch, count)
    xs = [m.from_numpy(images[i]).to(device) for i in range(count)]
    ys = [m.from_numpy(labels[i]).to(device) for i in range(count)]
    synchronize = m.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step(i):
        optimizer.zero_grad()
        criterion(net(xs[i % count]), ys[i % count]).backward()
        optimizer.step()

    for i in range(warmup):
        step(i)
    synchronize()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(steps)
        steps += 1
        if steps % 8 == 0:
            synchronize()
    synchronize()
    return steps * batch / (time.perf_counter() - start)


def status_mib(field):
    """A memory figure of this process from /proc (VmHWM, unlike ru_maxrss, is not inherited across exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measured_training(name, train):
    """In a measuring process of its own: ``train()`` (images per second) run with framework ``name`` loaded,
    and the process's peak RSS (MiB) with its growth over the RSS before training (what training costs, without
    the library's own size; numba, which the engine loads at its first convolution, counts as the library's)."""
    if name == "engine":
        from engine.ops import jit

        jit.numba()
    before = status_mib("VmRSS")
    speed = train()
    peak = status_mib("VmHWM")
    return {"speed": speed, "peak": peak, "growth": peak - before}


def run_child(command):
    """The JSON object a measuring child printed last; its error output shown when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, env=START_ENVIRONMENT)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def best_alternating(measure, *args, rounds=2):
    """{framework: figures}: ``measure(name, *args)`` (a measuring child's figures, with its ``speed``) run for the
    engine and PyTorch in turn, ``rounds`` times, the faster run of each kept: alternating spreads a drift in the
    machine's speed over both."""
    runs = {"engine": [], "torch": []}
    for _ in range(rounds):
        for name in runs:
            runs[name].append(measure(name, *args))
    return {name: max(figures, key=lambda f: f["speed"]) for name, figures in runs.items()}
