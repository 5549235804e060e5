"""engine.vision.datasets.cifar: CIFAR-10 read from its official layout, safely unpickled, downloaded and
verified."""

import hashlib
import os
import pickle

import numpy as np
import pytest
from PIL import Image

from engine.vision.datasets import (
    CIFAR10,
    CIFAR100,
    CorruptFileError,
    DatasetNotFoundError,
)

from .dataset_files import (
    CIFAR_CLASSES,
    SHARED_CIFAR,
    cifar_at,
    cifar_batch,
    listing,
    make_cifar,
    make_cifar_tarball,
    md5,
)

# ---------------------------------------------------------------------------------------- CIFAR10

@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_reads_the_official_layout(tmp_path, protocol):
    batches = make_cifar(tmp_path, n=4, protocol=protocol)
    ds = CIFAR10(tmp_path, train=True)
    assert len(ds) == 20
    assert ds.data.shape == (20, 32, 32, 3) and ds.data.dtype == np.uint8
    assert ds.classes == CIFAR_CLASSES
    assert ds.class_to_idx == {c: i for i, c in enumerate(CIFAR_CLASSES)}
    expected_labels = [lab for k in range(1, 6) for lab in batches[f"data_batch_{k}"][b"labels"]]
    assert ds.targets == expected_labels and all(type(t) is int for t in ds.targets)
    # pixel (y, x, c) of image i is byte c*1024 + y*32 + x of its row: R plane, G plane, B plane, row-major
    raw = batches["data_batch_2"][b"data"][1]
    img, label = ds[5]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert label == batches["data_batch_2"][b"labels"][1]
    pixels = np.asarray(img)
    for y, x, c in [(0, 0, 0), (0, 1, 0), (1, 0, 1), (31, 31, 2), (7, 19, 1)]:
        assert pixels[y, x, c] == raw[c * 1024 + y * 32 + x]

    test = CIFAR10(tmp_path, train=False)
    assert len(test) == 4 and test.targets == batches["test_batch"][b"labels"]
    assert "Split: Test" in repr(test) and "Number of datapoints: 4" in repr(test)


def test_cifar_transforms_getitems_and_arrays(tmp_path):
    make_cifar(tmp_path)
    ds = CIFAR10(str(tmp_path), transform=lambda im: np.asarray(im).sum(), target_transform=lambda t: t + 100)
    idx = [3, 0, 19, 7, -1]
    batch = ds.__getitems__(idx)
    assert batch == [ds[i] for i in idx]
    assert batch[0] == (int(ds.data[3].sum()), ds.targets[3] + 100)
    data, targets = ds.arrays()
    assert data is ds.data and data.shape == (20, 32, 32, 3) and data.flags.c_contiguous
    assert targets.dtype == np.int64 and targets.tolist() == ds.targets
    assert "Transform:" in repr(ds) and "Target transform:" in repr(ds)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar_refuses_a_malicious_pickle_without_running_it(tmp_path, protocol):
    make_cifar(tmp_path)
    marker = tmp_path / "pwned"
    bad = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    payload = cifar_batch(4, seed=9)
    payload[b"labels"] = _Evil(str(marker))
    bad.write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(CorruptFileError, match="refusing to unpickle the global") as info:
        CIFAR10(tmp_path)
    assert str(bad) in str(info.value) and "mkdir" in str(info.value)
    assert not marker.exists()


def test_cifar_refuses_builtins_eval(tmp_path):
    make_cifar(tmp_path)
    marker = tmp_path / "pwned"
    bad = tmp_path / "cifar-10-batches-py" / "batches.meta"
    # GLOBAL builtins eval; the string argument; REDUCE; STOP
    code = f"__import__('os').mkdir({str(marker)!r})"
    bad.write_bytes(b"cbuiltins\neval\n(" + pickle.dumps(code, protocol=0)[:-1] + b"tR.")
    with pytest.raises(CorruptFileError, match=r"builtins\.eval"):
        CIFAR10(tmp_path)
    assert not marker.exists()


def test_cifar_truncated_and_malformed_batches_name_the_file(tmp_path):
    make_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_4"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt") as info:
        CIFAR10(tmp_path)
    assert info.value.path == str(path)

    bad = cifar_batch(4, seed=4)
    bad[b"data"] = bad[b"data"][:, :100]
    path.write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(CorruptFileError, match=r"shape \(N, 3072\)"):
        CIFAR10(tmp_path)

    bad = cifar_batch(4, seed=4)
    bad[b"labels"] = bad[b"labels"][:3]
    path.write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(CorruptFileError, match="4 integer labels"):
        CIFAR10(tmp_path)

    bad = cifar_batch(4, seed=4)
    bad[b"labels"][0] = 10
    path.write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(CorruptFileError, match=r"labels must lie in \[0, 9\]"):
        CIFAR10(tmp_path)

    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(CorruptFileError, match="expected a pickled dict"):
        CIFAR10(tmp_path)


def test_cifar_missing_dataset_error_says_what_where_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        CIFAR10(tmp_path / "nowhere")
    msg = str(info.value)
    assert "CIFAR10" in msg and "data_batch_1" in msg and "batches.meta" in msg
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in msg
    assert CIFAR10.url in msg and CIFAR10.tgz_md5 in msg and "by hand" in msg
    assert isinstance(info.value, RuntimeError)  # torchvision raises RuntimeError here


def test_cifar_download_verifies_extracts_and_reports_progress(tmp_path, http_server, capsys):
    body, batches = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/cifar-10-python.tar.gz"] = (body, "ok")
    cls = cifar_at(http_server.base + "/cifar-10-python.tar.gz", md5(body))
    root = tmp_path / "root"
    ds = cls(root, train=False, download=True)
    assert ds.targets == batches["test_batch"][b"labels"]
    assert np.array_equal(ds.data[0].transpose(2, 0, 1).reshape(-1), batches["test_batch"][b"data"][0])
    err = capsys.readouterr().err
    assert "100%" in err
    files = listing(root)
    assert files == sorted(["cifar-10-python.tar.gz", "cifar-10-batches-py"]
                             + [f"cifar-10-batches-py/{n}" for n in ds._all_files()])
    assert (root / "cifar-10-python.tar.gz").read_bytes() == body

    requests = len(http_server.requests)
    cls(root, download=True)
    assert "Files already downloaded and verified" in capsys.readouterr().out
    assert len(http_server.requests) == requests


def test_cifar_download_replaces_an_incomplete_folder(tmp_path, http_server):
    body, batches = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/c.tar.gz"] = (body, "ok")
    root = tmp_path / "root"
    make_cifar(root, n=2)
    (root / "cifar-10-batches-py" / "data_batch_5").unlink()
    with pytest.raises(DatasetNotFoundError, match="data_batch_5"):
        CIFAR10(root)
    ds = cifar_at(http_server.base + "/c.tar.gz", md5(body))(root, download=True)
    assert len(ds) == 20 and ds.targets[:4] == batches["data_batch_1"][b"labels"]
    assert sorted(os.listdir(root)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_cifar_download_reuses_a_verified_tarball(tmp_path, http_server, capsys):
    body, _ = make_cifar_tarball(tmp_path / "src.tar.gz")
    root = tmp_path / "root"
    root.mkdir()
    (root / "cifar-10-python.tar.gz").write_bytes(body)
    cls = cifar_at(http_server.base + "/cifar-10-python.tar.gz", md5(body))
    assert len(cls(root, download=True)) == 20
    assert http_server.requests == []
    assert "Using downloaded and verified file" in capsys.readouterr().out


def test_cifar_download_md5_mismatch_leaves_nothing(tmp_path, http_server):
    body, _ = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/c.tar.gz"] = (body, "ok")
    cls = cifar_at(http_server.base + "/c.tar.gz", "0" * 32)
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch") as info:
        cls(root, download=True)
    assert http_server.base + "/c.tar.gz" in str(info.value)
    assert listing(root) == []


def test_cifar_interrupted_download_leaves_nothing(tmp_path, http_server):
    body, _ = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/c.tar.gz"] = (body, "truncate")
    cls = cifar_at(http_server.base + "/c.tar.gz", md5(body))
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="transfer interrupted"):
        cls(root, download=True)
    assert listing(root) == []


def test_cifar_download_without_network_explains(tmp_path, closed_port_url, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    url = closed_port_url + "cifar-10-python.tar.gz"
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError) as info:
        cifar_at(url, "0" * 32)(root, download=True)
    msg = str(info.value)
    assert "Download failed" in msg and url in msg
    assert "data_batch_1" in msg and str(root / "cifar-10-batches-py") in msg and "by hand" in msg
    assert listing(root) == []



# ---------------------------------------------------------------------------------------- real CIFAR-10

@pytest.mark.skipif(not (SHARED_CIFAR / "cifar-10-batches-py").is_dir(),
                    reason="the real CIFAR-10 is not at ../shared/data/cifar10 (shared data folder absent)")
def test_real_cifar10():
    def sha(a):
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()

    train = CIFAR10(SHARED_CIFAR, train=True)
    test = CIFAR10(SHARED_CIFAR, train=False)
    assert (len(train), len(test)) == (50000, 10000)
    assert train.classes == CIFAR_CLASSES
    planes = train.data.transpose(0, 3, 1, 2).reshape(50000, 3072)
    assert sha(planes) == "9d5c2eddadb0deff02c14c350c0385aab7b1d5ff1edfeb4997c8dc8644960111"
    assert sha(test.data.transpose(0, 3, 1, 2).reshape(10000, 3072)) == \
        "177777c33ba79825320efa646ad04a94bdc3c80e4ebe3bd21724f8cdfd4b9d56"
    assert sha(np.asarray(train.targets, dtype=np.int64)) == \
        "f5cfe00b0f00968c0cc5ff3b1d2de51b10e33efa277c2986f4e0fa63e58c9f4f"
    assert sha(test.arrays()[1]) == "cbb7365de8ed11f05cc4c3a1e7f78144127c5e851efd83762fb18202461230bb"
    assert np.bincount(train.targets).tolist() == [5000] * 10
    mean = train.data.reshape(-1, 3).mean(0)
    np.testing.assert_allclose(mean, [125.307, 122.950, 113.865], atol=1e-3)
    img, label = train[0]
    assert img.mode == "RGB" and img.size == (32, 32) and label == train.targets[0]


def _make_cifar100(root, n=5):
    """``root/cifar-100-python`` as the official archive lays it out: ``train``, ``test`` and ``meta``, with
    fine and coarse labels."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    made = {}
    for name in ("train", "test"):
        made[name] = {b"filenames": [f"{name}_{i}.png".encode() for i in range(n)], b"batch_label": name.encode(),
                      b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
                      b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
                      b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(made[name], protocol=2))
    meta = {b"fine_label_names": [f"fine{i}".encode() for i in range(100)],
            b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]}
    (folder / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    return made


def test_cifar100_reads_fine_labels_and_names(tmp_path):
    made = _make_cifar100(tmp_path)
    ds = CIFAR100(tmp_path, train=True)
    assert len(ds) == 5 and ds.classes[:2] == ["fine0", "fine1"] and len(ds.classes) == 100
    assert ds.targets == made["train"][b"fine_labels"]
    img, label = ds[3]
    expected = made["train"][b"data"][3].reshape(3, 32, 32).transpose(1, 2, 0)
    assert isinstance(img, Image.Image) and np.array_equal(np.asarray(img), expected)
    assert label == made["train"][b"fine_labels"][3]
    assert CIFAR100(tmp_path, train=False).targets == made["test"][b"fine_labels"]
    assert repr(ds).startswith("Dataset CIFAR100\n    Number of datapoints: 5")


def test_cifar100_refuses_out_of_range_labels_and_says_what_is_missing(tmp_path):
    made = _make_cifar100(tmp_path)
    made["test"][b"fine_labels"][0] = 100
    (tmp_path / "cifar-100-python" / "test").write_bytes(pickle.dumps(made["test"], protocol=2))
    with pytest.raises(CorruptFileError, match=r"labels must lie in \[0, 99\], found .*100"):
        CIFAR100(tmp_path, train=False)
    (tmp_path / "cifar-100-python" / "meta").unlink()
    with pytest.raises(DatasetNotFoundError,
                       match="(?s)Dataset CIFAR100 not found.*Missing: meta.*cifar-100-python.tar.gz"):
        CIFAR100(tmp_path)
