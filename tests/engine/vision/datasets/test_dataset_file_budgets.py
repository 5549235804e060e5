"""Dataset files are read in time and memory linear in their size: shared-object pickles, pickled arrays whose
shapes disagree with their data, IDX headers claiming huge shapes and gzip bombs end in ``CorruptFileError``
naming the file, quickly and without allocating what they claim."""

import gzip
import os
import pickle
import time
import tracemalloc

import numpy as np
import pytest

from engine.vision.datasets import CIFAR10, MNIST, CorruptFileError, safe_pickle

from .dataset_files import cifar_batch, idx_bytes, make_cifar, make_mnist

try:
    from numpy._core import multiarray, numeric
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray, numeric

MiB = 1 << 20


class _Reduce:
    """Pickles as ``func(*args)`` then, when ``state`` is given, BUILD with ``state``: a hostile array by hand."""

    def __init__(self, func, args, state=None):
        self.value = (func, args) if state is None else (func, args, state)

    def __reduce__(self):
        return self.value


def _dag(depth):
    node = [0]
    for _ in range(depth):
        node = [node, node]
    return node


def _bounded(call, seconds=2.0, peak=32 * MiB):
    """``call()``'s result or exception, after checking it took under ``seconds`` and ``peak`` bytes."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        return call()
    finally:
        elapsed = time.perf_counter() - start
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < seconds and top < peak, (elapsed, top)


def test_a_shared_object_dag_in_the_labels_is_refused_at_once(tmp_path):
    make_cifar(tmp_path, n=2)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    batch = cifar_batch(2, seed=1)
    batch[b"labels"] = _dag(40)  # 2**40 paths through 41 lists: a tree walk or np.asarray never ends
    path.write_bytes(pickle.dumps(batch, protocol=2))
    assert path.stat().st_size < 2 * 3072 + 4000
    with pytest.raises(CorruptFileError, match="'labels' must hold 2 integer labels") as info:
        _bounded(lambda: CIFAR10(tmp_path))
    assert info.value.path == str(path)


def test_a_shared_object_dag_elsewhere_is_never_walked(tmp_path):
    make_cifar(tmp_path, n=2)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    batch = cifar_batch(2, seed=1)
    batch[b"extra"] = _dag(60)
    path.write_bytes(pickle.dumps(batch, protocol=4))
    assert len(_bounded(lambda: CIFAR10(tmp_path))) == 10


def test_lists_nested_200000_deep_are_refused_quickly(tmp_path):
    make_cifar(tmp_path, n=1)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    depth = 200_000
    path.write_bytes(b"\x80\x02}U\x06labels" + b"]" * depth + b"a" * (depth - 1) + b"s.")
    with pytest.raises(CorruptFileError, match="the batch has no 'data' entry"):
        _bounded(lambda: CIFAR10(tmp_path), peak=64 * MiB)


def test_labels_are_flat_ints_or_a_1d_int_array(tmp_path):
    make_cifar(tmp_path, n=3)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch = cifar_batch(3, seed=5)
    batch[b"labels"] = np.array([1, 2, 3], dtype=np.uint8)
    path.write_bytes(pickle.dumps(batch, protocol=2))
    assert CIFAR10(tmp_path, train=False).targets == [1, 2, 3]
    for labels, message in [([1, 2.0, 3], "3 integer labels"), ([1, [2], 3], "3 integer labels"),
                            ([1, 2, 1 << 80], r"found 1\.\.1208925819614629174706176"),
                            (np.array([[1, 2, 3]]), "3 integer labels"), (np.array([1.0, 2, 3]), "3 integer labels"),
                            (np.array([1, -2, 3], dtype=np.int8), r"found -2\.\.3")]:
        batch[b"labels"] = labels
        path.write_bytes(pickle.dumps(batch, protocol=2))
        with pytest.raises(CorruptFileError, match=message):
            CIFAR10(tmp_path, train=False)


HUGE = 1 << 40


@pytest.mark.parametrize("payload, message", [
    (_Reduce(multiarray._reconstruct, (np.ndarray, (HUGE,), b"b")), "_reconstruct other than of an empty ndarray"),
    (_Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (HUGE,), np.dtype("u1"), False, b"abc")),
     "does not match its 3 bytes of data"),
    (_Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (HUGE, HUGE), np.dtype("u1"), False, b"")),
     "does not match its 0 bytes"),
    (_Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (HUGE,), np.dtype("V0"), False, b"")),
     "does not match its 0 bytes"),
    (_Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (HUGE,), np.dtype("O"), False, [1])),
     "array of Python objects"),
    (_Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (-1,), np.dtype("u1"), False, b"")),
     "shape is not a tuple of sizes"),
    (_Reduce(numeric._frombuffer, (b"abc", np.dtype("u1"), (HUGE,), "C")), "does not match its 3 bytes"),
    (_Reduce(np.ndarray, ((HUGE,), "u1")), "not callable"),
    (_Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), {"a": 1}), "refusing to set the state of a ndarray"),
    (np.zeros(2, dtype=[("a", "u1"), ("b", "<f4")]), "structured NumPy dtype"),
    (_Reduce(dict, ()), r"refusing to unpickle the global '(__builtin__|builtins)\.dict'"),
])
@pytest.mark.parametrize("protocol", [2, 5])
def test_pickled_arrays_never_allocate_what_they_claim(tmp_path, payload, message, protocol):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"data": payload}, protocol=protocol))
    with pytest.raises(CorruptFileError, match=message) as info:
        _bounded(lambda: safe_pickle.load(path))
    assert info.value.path == str(path)


def test_pickled_arrays_that_match_their_data_load(tmp_path):
    path = tmp_path / "batch"
    arrays = [np.arange(12, dtype=np.int16).reshape(3, 4), np.asfortranarray(np.ones((2, 3))), np.zeros((0, 5))]
    for protocol in (0, 2, 5):
        path.write_bytes(pickle.dumps(arrays, protocol=protocol))
        for got, want in zip(safe_pickle.load(path), arrays):
            assert got.dtype == want.dtype and np.array_equal(got, want)


def test_the_pickle_file_is_bounded_and_must_be_regular(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(cifar_batch(4, seed=0), protocol=2))
    with pytest.raises(CorruptFileError, match="over the 1.0 KiB"):
        safe_pickle.load(path, limit=1024)
    with pytest.raises(CorruptFileError, match="a folder"):
        safe_pickle.load(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(CorruptFileError, match="not a regular file"):
            _bounded(lambda: safe_pickle.load(tmp_path / "fifo"))
    path.write_bytes(pickle.dumps(b"x", protocol=2)[:-1] + b"\x8e" + (HUGE).to_bytes(8, "little"))
    with pytest.raises(CorruptFileError, match="truncated or corrupt"):  # BINBYTES8 claims a TiB in a 20-byte file
        _bounded(lambda: safe_pickle.load(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_batch_file_that_is_a_fifo_or_folder_is_damaged_not_missing(tmp_path):
    make_cifar(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    os.remove(folder / "data_batch_4")
    os.mkfifo(folder / "data_batch_4")
    with pytest.raises(CorruptFileError, match="data_batch_4: cannot read it: it is not a regular file"):
        _bounded(lambda: CIFAR10(tmp_path))
    os.remove(folder / "data_batch_4")
    os.mkdir(folder / "data_batch_4")
    with pytest.raises(CorruptFileError, match="data_batch_4: cannot read it"):
        CIFAR10(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_headers_claiming_huge_shapes_allocate_nothing(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    make_mnist(raw, gz=gz)
    path = raw / ("train-images-idx3-ubyte" + (".gz" if gz else ""))

    def put(data):
        path.write_bytes(gzip.compress(data) if gz else data)

    header = bytes([0, 0, 8, 3]) + (0x7FFFFFFF).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    put(header + bytes(100))
    with pytest.raises(CorruptFileError, match="over the 1,073,741,824 bytes") as info:
        _bounded(lambda: MNIST(tmp_path))
    assert info.value.path == str(path)
    header = bytes([0, 0, 8, 3]) + (100000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    put(header + bytes(100))
    with pytest.raises(CorruptFileError, match="truncated: the file holds 116 bytes"):
        _bounded(lambda: MNIST(tmp_path))
    put(bytes([0, 0, 8, 3]) + (-5).to_bytes(4, "big", signed=True) + bytes(8))
    with pytest.raises(CorruptFileError, match="negative dimensions"):
        MNIST(tmp_path)


def test_a_gzip_bomb_is_decompressed_only_as_far_as_its_header_says(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    make_mnist(raw, gz=True)
    path = raw / "train-labels-idx1-ubyte.gz"
    bomb = gzip.compress(idx_bytes(np.zeros(6, np.uint8)) + bytes(64 * MiB), compresslevel=9)
    path.write_bytes(bomb)
    assert len(bomb) < 100_000
    with pytest.raises(CorruptFileError, match="has trailing data") as info:
        _bounded(lambda: MNIST(tmp_path), seconds=2.0, peak=8 * MiB)
    assert info.value.path == str(path)
