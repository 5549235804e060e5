"""engine.vision.datasets.svhn and .matfile: SVHN's MATLAB v5 files read as torchvision (through scipy) reads
them, downloaded and verified, and malformed files refused with the file's name, in bounded time and memory."""

import struct
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from torchvision_reference import torchvision

from engine.vision.datasets import SVHN, CorruptFileError, DatasetNotFoundError
from engine.vision.datasets.matfile import read_mat

from .dataset_files import listing, md5, mutated

MI = {"i1": 1, "u1": 2, "i2": 3, "u2": 4, "i4": 5, "u4": 6, "f4": 7, "f8": 9, "i8": 12, "u8": 13}
MX = {"f8": 6, "f4": 7, "i1": 8, "u1": 9, "i2": 10, "u2": 11, "i4": 12, "u4": 13, "i8": 14, "u8": 15}


def _element(order, mtype, data):
    if len(data) <= 4:  # MATLAB's small element form: count and type in one word, data in the next four bytes
        return struct.pack(order + "I", (len(data) << 16) | mtype) + data.ljust(4, b"\0")
    return struct.pack(order + "II", mtype, len(data)) + data + b"\0" * (-len(data) % 8)


def matrix(name, array, stored=None, order="<", mx=None):
    """The miMATRIX element of ``array`` (values stored as ``stored``, MATLAB's class ``mx`` of its dtype)."""
    stored = np.dtype(stored or array.dtype).str[1:]
    flags = struct.pack(order + "II", MX[mx or array.dtype.str[1:]], 0)
    body = (_element(order, MI["u4"], flags)
            + _element(order, MI["i4"], struct.pack(f"{order}{array.ndim}i", *array.shape))
            + _element(order, MI["i1"], name.encode())
            + _element(order, MI[stored], array.astype(order + stored).tobytes(order="F")))
    return struct.pack(order + "II", 14, len(body)) + body


def compressed(element, order="<"):
    data = zlib.compress(element)
    return struct.pack(order + "II", 15, len(data)) + data


def mat_file(elements, order="<"):
    text = b"MATLAB 5.0 MAT-file, written by the LayerLab tests".ljust(116)
    mark = b"IM" if order == "<" else b"MI"
    return text + b"\0" * 8 + struct.pack(order + "H", 0x0100) + mark + b"".join(elements)


def svhn_arrays(n=6, seed=0):
    rng = np.random.default_rng(seed)
    images = np.asfortranarray(rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8))
    labels = rng.integers(1, 11, (n, 1)).astype(np.float64)
    labels[:2] = [[10], [1]]
    return images, labels


def svhn_file(path, compress=True, order="<", n=6, seed=0):
    """An SVHN-like file as MATLAB writes it: X uint8, y of class double stored as uint8, compressed."""
    images, labels = svhn_arrays(n, seed)
    wrap = (lambda e: compressed(e, order)) if compress else (lambda e: e)
    path.write_bytes(mat_file([wrap(matrix("X", images, order=order)),
                               wrap(matrix("y", labels, stored="u1", order=order))], order))
    return images, labels


def reference(monkeypatch):
    """torchvision's SVHN (which reads with scipy), with its MD5 check of the official files switched off."""
    pytest.importorskip("scipy")
    cls = torchvision("datasets").SVHN
    monkeypatch.setattr(cls, "_check_integrity", lambda self: True)
    return cls


@pytest.mark.parametrize(("compress", "order"), [(True, "<"), (False, "<"), (True, ">"), (False, ">")])
@pytest.mark.parametrize("split", ["train", "test", "extra"])
def test_svhn_matches_torchvision(tmp_path, monkeypatch, split, compress, order):
    svhn_file(tmp_path / f"{split}_32x32.mat", compress, order)
    ref = reference(monkeypatch)(tmp_path, split=split)
    ours = SVHN(tmp_path, split=split)
    assert ours.data.shape == ref.data.shape == (6, 3, 32, 32) and np.array_equal(ours.data, ref.data)
    assert ours.labels.dtype == np.int64 and ours.labels.tolist() == ref.labels.tolist()
    assert ours.labels[:2].tolist() == [0, 1]
    for i in range(len(ref)):
        (img, label), (ref_img, ref_label) = ours[i], ref[i]
        assert img.mode == ref_img.mode == "RGB" and np.array_equal(np.asarray(img), np.asarray(ref_img))
        assert label == ref_label and type(label) is int
    assert ours.root == str(ref.root) and repr(ours) == repr(ref)


def test_svhn_pixel_layout_and_transforms(tmp_path):
    images, labels = svhn_file(tmp_path / "test_32x32.mat")
    ds = SVHN(tmp_path, split="test", transform=np.asarray, target_transform=lambda t: -t)
    pixels, label = ds[3]
    assert np.array_equal(pixels, images[:, :, :, 3]) and label == -(int(labels[3, 0]) % 10)
    assert "Split: test" in repr(ds) and "Transform:" in repr(ds)


@pytest.mark.parametrize("do_compression", [False, True])
def test_read_mat_matches_scipy_and_skips_other_variables(tmp_path, do_compression):
    sio = pytest.importorskip("scipy.io")
    images, _ = svhn_arrays(3)
    variables = {"note": "a string", "cells": np.array([[1, "two"]], dtype=object), "X": images,
                 "s": {"a": np.arange(3)}, "y": np.arange(3, dtype=np.int16)[:, None],
                 "f": np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)}
    path = tmp_path / "many.mat"
    sio.savemat(path, variables, do_compression=do_compression)
    ours, ref = read_mat(path, ("X", "y", "f")), sio.loadmat(path)
    for name in ("X", "y", "f"):
        assert ours[name].dtype == ref[name].dtype and np.array_equal(ours[name], ref[name])
    assert read_mat(path, ("absent",)) == {}


def test_svhn_argument_errors_are_torchvisions(tmp_path, monkeypatch):
    ref = reference(monkeypatch)
    for split in ("validation", 2):
        with pytest.raises(ValueError) as ours:
            SVHN(tmp_path, split=split)
        with pytest.raises(ValueError) as theirs:
            ref(tmp_path, split=split)
        assert str(ours.value) == str(theirs.value)


def _bad_header(data):
    return b"\0\0\0\0" + data[4:]


def _v73(data):
    return data[:124] + struct.pack("<H", 0x0200) + data[126:]


def _labels_of(labels):
    return lambda images: mat_file([matrix("X", images), matrix("y", labels)])


BAD = [
    (lambda d: d[:100], "truncated"),
    (lambda d: d[:-7], "truncated"),
    (_bad_header, "not a MATLAB v5 file"),
    (_v73, "0x0200; only version 5.*v7.3"),
    (lambda d: d[:200] + b"\xff" * 40 + d[240:], "cannot decompress|malformed"),
]


@pytest.mark.parametrize(("mutate", "match"), BAD)
def test_svhn_corrupt_files_name_the_file(tmp_path, mutate, match):
    path = tmp_path / "train_32x32.mat"
    svhn_file(path)
    path.write_bytes(mutate(path.read_bytes()))
    with pytest.raises(CorruptFileError, match=match) as info:
        SVHN(tmp_path)
    assert info.value.path == str(path)


@pytest.mark.parametrize(("elements", "match"), [
    ([matrix("X", np.zeros((32, 32, 3, 2), np.uint8))], "no variable 'y'"),
    ([matrix("X", np.zeros((32, 32, 2), np.uint8)), matrix("y", np.ones((2, 1)))], r"shape \(32, 32, 3, N\)"),
    ([matrix("X", np.zeros((32, 32, 3, 2), np.float32)), matrix("y", np.ones((2, 1)))], "must be a uint8"),
    ([matrix("X", np.zeros((32, 32, 3, 2), np.uint8)), matrix("y", np.ones((3, 1)))], "the 2 labels"),
    ([matrix("X", np.zeros((32, 32, 3, 2), np.uint8)), matrix("y", np.array([[1.0], [11.0]]))], r"\[1, 10\]"),
    ([matrix("X", np.zeros((32, 32, 3, 2), np.uint8)), matrix("y", np.array([[1.5], [2.0]]))], "whole numbers"),
    ([matrix("X", np.zeros((32, 32, 3, 2), np.uint8)), matrix("y", np.array([[np.nan], [2.0]]))], "whole"),
    ([matrix("X", np.zeros((32, 32, 3, 2), np.uint8), mx="f8"), matrix("y", np.ones((2, 1)))], "must be a uint8"),
])
def test_svhn_refuses_wrong_variables(tmp_path, elements, match):
    path = tmp_path / "train_32x32.mat"
    path.write_bytes(mat_file(elements))
    with pytest.raises(CorruptFileError, match=match) as info:
        SVHN(tmp_path)
    assert info.value.path == str(path)


def test_read_mat_refuses_what_it_cannot_represent(tmp_path):
    path = tmp_path / "odd.mat"
    x = matrix("X", np.zeros((2, 2), np.uint8))
    complex_x = x[:16] + struct.pack("<I", 9 | 0x0800) + x[20:]
    char_x = x[:16] + struct.pack("<I", 4) + x[20:]
    for element, match in ((complex_x, "complex"), (char_x, "char array where a numeric one")):
        path.write_bytes(mat_file([element]))
        with pytest.raises(CorruptFileError, match=match):
            read_mat(path, ("X",))


def _bounded(call, path, peak=16 << 20):
    """``call()`` loads or raises CorruptFileError naming ``path``, in under 2 s and ``peak`` bytes; returns
    the error's text ("" when it loaded)."""
    tracemalloc.start()
    start = time.perf_counter()
    problem = ""
    try:
        call()
    except CorruptFileError as e:
        assert e.path == str(path)
        problem = e.problem
    finally:
        elapsed, (_, top) = time.perf_counter() - start, tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < 2 and top < peak, (elapsed, top)
    return problem


def test_read_mat_headers_that_lie_cost_what_the_file_holds(tmp_path):
    path = tmp_path / "liar.mat"
    x = matrix("X", np.zeros((32, 32, 3, 1), np.uint8))
    huge = x[:32] + struct.pack("<4i", 32, 32, 3, 10**8) + x[48:]  # dimensions for 300 GB, values for one image
    for elements in ([huge], [compressed(huge)]):
        path.write_bytes(mat_file(elements))
        assert "3,072 bytes of values for dimensions (32, 32, 3, 100000000)" in _bounded(
            lambda: read_mat(path, ("X",)), path)
    claims = huge[:60] + struct.pack("<I", 1 << 30) + huge[64:]  # a values element claiming 1 GiB
    bomb = struct.pack("<II", 14, 1 << 30) + claims[8:]
    for element, limit, problem in ((claims, 2 << 30, "truncated"), (compressed(bomb), 2 << 30, "truncated"),
                                    (compressed(bomb + bytes(50 << 20)), 1 << 29, "1,073,741,824 bytes, over the")):
        path.write_bytes(mat_file([element]))
        assert problem in _bounded(lambda lim=limit: read_mat(path, ("X",), limit=lim), path)


SETTINGS = settings(max_examples=150, deadline=2000, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=mutated(mat_file([compressed(matrix("X", svhn_arrays(2)[0])), matrix("y", svhn_arrays(2)[1], "u1")])))
def test_mutated_mat_files_load_or_refuse(tmp_path, data):
    path = tmp_path / "train_32x32.mat"
    path.write_bytes(data)
    _bounded(lambda: SVHN(tmp_path), path)


def test_svhn_not_found_and_download(tmp_path, http_server):
    with pytest.raises(DatasetNotFoundError) as info:
        SVHN(tmp_path / "nowhere", split="extra")
    msg = str(info.value)
    assert "Dataset SVHN not found" in msg and "Missing: extra_32x32.mat" in msg
    assert str(tmp_path / "nowhere") in msg and SVHN.split_list["extra"][0] in msg and "a93ce644" in msg

    svhn_file(tmp_path / "src.mat")
    body = (tmp_path / "src.mat").read_bytes()
    http_server.files["/test_32x32.mat"] = (body, "ok")
    split_list = {"test": [http_server.base + "/test_32x32.mat", "test_32x32.mat", md5(body)]}
    cls = type("LocalSVHN", (SVHN,), {"split_list": split_list})
    assert len(cls(tmp_path / "root", split="test", download=True)) == 6
    assert listing(tmp_path / "root") == ["test_32x32.mat"]
    bad = type("BadSVHN", (SVHN,), {"split_list": {"test": [*split_list["test"][:2], "0" * 32]}})
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch"):
        bad(tmp_path / "root2", split="test", download=True)
    assert listing(tmp_path / "root2") == []
