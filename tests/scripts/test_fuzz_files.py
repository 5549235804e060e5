"""The fuzzing harness finds what it is for (a traceback, a hang, a memory hog, a half-written file), its
mutations are deterministic and mean what they say, and a quick run of the whole command completes with
every kind counted. Whether today's loaders pass is for the full run (``scripts/fuzz_files.py``) to say."""

import json
import os
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from fuzzing import formats, mutators  # noqa: E402
from fuzzing.runner import Pool, load_outcome  # noqa: E402
from fuzzing.writers import WRITERS  # noqa: E402


def run_pool(works, hang_seconds=5.0, blocked_seconds=30.0):
    outcomes = {}
    pool = Pool(jobs=2, hang_seconds=hang_seconds, blocked_seconds=blocked_seconds)
    for name, work in works.items():
        pool.submit(work, lambda outcome, n=name: outcomes.__setitem__(n, outcome))
    pool.drain()
    return outcomes


def _raise(error):
    raise error


def _spin():
    while True:
        pass


def _hog():
    block = bytearray(200 << 20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    return 0, {}


RUNNER_CHECK = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from test_fuzz_files import _hog, _raise, _spin, run_pool
from fuzzing.runner import load_outcome
from engine.utils.files import FileError
outcomes = run_pool({
    "loaded": lambda: load_outcome(lambda: None),
    "clean": lambda: load_outcome(lambda: _raise(FileError("x.llnet", "bad"))),
    "traceback": lambda: load_outcome(lambda: _raise(KeyError("step"))),
    "hang": lambda: load_outcome(_spin),
    "blocked": lambda: load_outcome(lambda: time.sleep(30)),
    "hog": _hog,
}, hang_seconds=1.0, blocked_seconds=2.0)
print(json.dumps({name: [o.status, o.detail.get("type"), o.seconds, o.max_rss_kib] for name, o in outcomes.items()}))
"""


def test_the_runner_tells_loaded_clean_traceback_hang_and_memory_apart():
    """Run from a small fresh process: a forked child's peak memory starts at its parent's peak, which for the
    test process is gigabytes by the end of the suite (the harness's own fork server stays small)."""
    result = subprocess.run([sys.executable, "-c", RUNNER_CHECK, str(Path(__file__).parent)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    outcomes = json.loads(result.stdout.splitlines()[-1])
    assert {name: o[0] for name, o in outcomes.items()} == {
        "loaded": "loaded", "clean": "clean", "traceback": "traceback", "hang": "hang", "blocked": "hang",
        "hog": "loaded"}
    assert outcomes["traceback"][1] == "KeyError"
    assert outcomes["hang"][2] >= 1 > outcomes["blocked"][2]  # CPU time
    assert outcomes["hog"][3] > 200 << 10 > outcomes["loaded"][3]


def test_the_memory_cap_turns_a_bomb_into_an_error_in_the_child():
    outcomes = run_pool({"bomb": lambda: load_outcome(lambda: bytearray(8 << 30))})
    assert outcomes["bomb"].status == "traceback"
    assert outcomes["bomb"].detail["type"] == "MemoryError"


def test_mutations_are_deterministic_from_the_seed():
    data = json.dumps({"nodes": [{"id": "n1", "params": {"p": 0.5}}], "edges": []}).encode()
    for fmt in ("json", "text", "safetensors", "pickle", "idx", "image", "llw", "npz"):
        first = [formats.mutate(fmt, data, random.Random(f"1:{i}"), data) for i in range(20)]
        again = [formats.mutate(fmt, data, random.Random(f"1:{i}"), data) for i in range(20)]
        assert first == again
    assert {mutators.mutate_bytes(data, random.Random(i), data)[0] for i in range(30)} - {data}


def test_structure_aware_mutations_say_what_they_claim():
    rng = random.Random(0)
    for _ in range(200):
        png, what = formats._image(b"\x89PNG", rng, b"")
        if what.startswith("PNG whose IHDR says 100000x100000"):
            break
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (100_000, 100_000)
    assert zlib.crc32(png[12:29]) == struct.unpack(">I", png[29:33])[0]
    deep = formats._deep_pickle({b"labels": [1]}, b"labels", 1000)
    assert deep.count(b"]") >= 1000
    text, what = formats.mutate_json_value({"a": {"b": 1}}, random.Random(3))
    assert isinstance(text, str) and what


def test_a_half_written_file_is_caught(tmp_path):
    write = WRITERS["save_network"].start(str(tmp_path))
    write(1, 1)
    assert WRITERS["save_network"].check(str(tmp_path)) == 1
    path = tmp_path / "net.llnet"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(Exception):  # noqa: B017 - any error: the check must not pass a torn file
        WRITERS["save_network"].check(str(tmp_path))


def test_a_quick_run_counts_every_kind(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fuzz_files.py"), "--cases", "10", "--kills", "6", "--writes",
         "save_network", "run.json", "--no-disk-full", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Closing note:" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    kinds = {t["kind"]: t for t in summary["fuzz"]}
    assert set(kinds) >= {"network", "safetensors", "llw", "npz", "checkpoint", "cifar10", "fashion_mnist",
                          "image_folder", "image", "recovery", "run"}
    for tally in kinds.values():
        assert tally["cases"] == 10
        assert tally["loaded"] + tally["clean"] + tally["tracebacks"] + tally["hangs"] == 10
        for failure in tally["failures"]:
            assert (Path(failure["path"]) / "case.json").is_file()
    assert sum(k["kills"] for k in summary["kills"]) == 6
    assert (result.returncode == 1) == any(summary["counts"].values())
