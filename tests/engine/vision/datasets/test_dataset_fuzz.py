"""Property-based fuzzing of the dataset files: mutated CIFAR batch pickles (bytes and structure, shared-object
DAGs, deep nesting) and IDX files (plain and gzipped) either load or raise ``CorruptFileError`` naming the
file, each within a time and memory bound."""

import gzip
import pickle
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.vision.datasets import CIFAR10, CorruptFileError
from engine.vision.datasets.idx import read_idx

from .dataset_files import cifar_batch, idx_bytes, make_cifar, mutated

FUZZ = settings(max_examples=200, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PEAK = 64 << 20


def _cifar_with(root, name, *contents):
    """Load CIFAR10(root) with the batch file ``name`` holding each of ``contents`` in turn, then restore it."""
    path = root / "cifar-10-batches-py" / name
    good = path.read_bytes()
    try:
        for content in contents:
            path.write_bytes(content)
            _loads_or_refuses(lambda: CIFAR10(root), path)
    finally:
        path.write_bytes(good)


def _loads_or_refuses(call, path):
    """Run ``call()``: it returns, or raises CorruptFileError naming ``path``; under 2 s and PEAK bytes."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
    except CorruptFileError as e:
        assert e.path == str(path) and str(e).startswith(f"{path}: ")
    finally:
        elapsed = time.perf_counter() - start
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < 2 and top < PEAK, (elapsed, top)


@pytest.fixture(scope="module")
def cifar_root():
    with tempfile.TemporaryDirectory() as root:
        make_cifar(root, n=1)
        yield Path(root)


def _dag(depth):
    node = [1]
    for _ in range(depth):
        node = [node, node]
    return node


@FUZZ
@given(data=st.data(), protocol=st.sampled_from([0, 2, 4, 5]))
def test_mutated_cifar_batch_bytes(cifar_root, data, protocol):
    _cifar_with(cifar_root, "data_batch_3", data.draw(mutated(pickle.dumps(cifar_batch(1, seed=3), protocol=protocol))))


_leaves = st.one_of(st.integers(-3, 12), st.integers(), st.binary(max_size=8), st.floats(allow_nan=False),
                    st.none(), st.booleans(), st.text(max_size=4))
_arrays = st.builds(lambda shape, dtype: np.zeros(shape, dtype=dtype),
                    st.lists(st.integers(0, 3100), min_size=0, max_size=3).filter(lambda s: np.prod(s) < 10_000),
                    st.sampled_from(["u1", "i8", "f4", "b1", "<i2", ">i4", "V3", "U2", "S2"]))
_values = st.recursive(st.one_of(_leaves, _arrays), lambda children: st.one_of(
    st.lists(children, max_size=4), st.tuples(children, children),
    st.dictionaries(st.sampled_from([b"data", b"labels", "labels", b"x"]), children, max_size=3)), max_leaves=12)


@FUZZ
@given(data=_values, labels=_values, dag=st.integers(0, 60), where=st.sampled_from(["data", "labels", "extra"]),
       protocol=st.sampled_from([2, 4, 5]))
def test_cifar_batches_of_any_structure(cifar_root, data, labels, dag, where, protocol):
    batch = cifar_batch(1, seed=3)
    batch.update({b"data": data, b"labels": labels})
    if dag:
        batch[b"extra" if where == "extra" else where.encode()] = _dag(dag)
    _cifar_with(cifar_root, "data_batch_4", pickle.dumps(batch, protocol=protocol))


@FUZZ
@given(depth=st.integers(1, 3000), key=st.sampled_from([b"labels", b"data"]))
def test_deeply_nested_cifar_pickles(cifar_root, depth, key):
    nested = b"]" * depth + b"a" * (depth - 1)  # EMPTY_LIST depth times, then APPEND each into the one below
    _cifar_with(cifar_root, "data_batch_5", b"\x80\x02}U" + bytes([len(key)]) + key + nested + b"s.",
                b"\x80\x02" + nested + b".")


@pytest.fixture(scope="module")
def idx_folder():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


_IDX = [idx_bytes(np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)), idx_bytes(np.arange(7, dtype=np.uint8))]


@FUZZ
@given(data=st.data(), which=st.sampled_from([0, 1]), gz=st.sampled_from(["plain", "gzip", "mutated gzip"]))
def test_mutated_idx_files(idx_folder, data, which, gz):
    raw = _IDX[which]
    if gz == "plain":
        path, content = idx_folder / "f-idx", data.draw(mutated(raw))
    else:
        path = idx_folder / "f-idx.gz"
        content = gzip.compress(data.draw(mutated(raw)) if gz == "gzip" else raw)
        content = data.draw(mutated(content)) if gz == "mutated gzip" else content
    path.write_bytes(content)
    _loads_or_refuses(lambda: read_idx(path), path)


@FUZZ
@given(dims=st.lists(st.integers(-2**31, 2**31 - 1) | st.integers(0, 40), max_size=6),
       code=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07]), body=st.integers(0, 5000),
       gz=st.booleans())
def test_idx_headers_of_any_shape(idx_folder, dims, code, body, gz):
    content = bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big", signed=True) for d in dims) + bytes(body)
    path = idx_folder / ("h-idx.gz" if gz else "h-idx")
    path.write_bytes(gzip.compress(content) if gz else content)
    _loads_or_refuses(lambda: read_idx(path), path)
