"""engine.vision.datasets: CIFAR10, MNIST, FashionMNIST, ImageFolder and the download/verify helpers.

Small files are generated in the official formats (CIFAR pickles and tarball, IDX files, PNG folders);
downloads run against an HTTP server on 127.0.0.1. The real CIFAR-10 (../shared/data/cifar10) and the
real Fashion-MNIST (Debian's dataset-fashion-mnist) are checked when present and skipped otherwise.
"""

import gzip
import hashlib
import http.server
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine
from engine.vision.datasets import (
    CIFAR10,
    MNIST,
    CorruptFileError,
    DatasetNotFoundError,
    FashionMNIST,
    ImageFolder,
)
from engine.vision.datasets import utils as dsutils

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SHARED_CIFAR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cifar10"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ---------------------------------------------------------------------------------------- generators

def _cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"generated batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(n)],
    }


def make_cifar(root, n=4, protocol=2):
    """``root/cifar-10-batches-py`` with 5 training batches and a test batch of ``n`` images each."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batches[name] = _cifar_batch(n, seed=i)
        with open(folder / name, "wb") as f:
            pickle.dump(batches[name], f, protocol=protocol)
    meta = {b"num_cases_per_batch": n, b"label_names": [c.encode() for c in CIFAR_CLASSES], b"num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=protocol)
    return batches


def make_cifar_tarball(path, n=4):
    """A ``cifar-10-python.tar.gz`` of a generated dataset; returns its bytes and the batches."""
    src = Path(path).parent / "tarball-src"
    batches = make_cifar(src, n)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return Path(path).read_bytes(), batches


def _idx_bytes(arr):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[arr.dtype], arr.ndim]) + b"".join(struct.pack(">i", d) for d in arr.shape)
    return header + arr.tobytes()


def write_idx(path, arr, gz=False):
    data = _idx_bytes(arr)
    path = Path(str(path) + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_mnist(folder, gz=False, n_train=6, n_test=3, seed=0):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, gz)
        out[prefix] = (images, labels)
    return out


# ---------------------------------------------------------------------------------------- HTTP server

class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        entry = self.server.files.get(self.path)
        if entry is None:
            self.send_error(404)
            return
        body, mode = entry
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate":  # promise the whole body, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files, server.requests = {}, []
    server.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _listing(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*"))


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
    payload = _cifar_batch(4, seed=9)
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

    bad = _cifar_batch(4, seed=4)
    bad[b"data"] = bad[b"data"][:, :100]
    path.write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(CorruptFileError, match=r"shape \(N, 3072\)"):
        CIFAR10(tmp_path)

    bad = _cifar_batch(4, seed=4)
    bad[b"labels"] = bad[b"labels"][:3]
    path.write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(CorruptFileError, match="4 integer labels"):
        CIFAR10(tmp_path)

    bad = _cifar_batch(4, seed=4)
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


def _cifar_at(url, md5):
    return type("LocalCIFAR10", (CIFAR10,), {"url": url, "tgz_md5": md5})


def test_cifar_download_verifies_extracts_and_reports_progress(tmp_path, http_server, capsys):
    body, batches = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/cifar-10-python.tar.gz"] = (body, "ok")
    cls = _cifar_at(http_server.base + "/cifar-10-python.tar.gz", _md5(body))
    root = tmp_path / "root"
    ds = cls(root, train=False, download=True)
    assert ds.targets == batches["test_batch"][b"labels"]
    assert np.array_equal(ds.data[0].transpose(2, 0, 1).reshape(-1), batches["test_batch"][b"data"][0])
    err = capsys.readouterr().err
    assert "100%" in err
    listing = _listing(root)
    assert listing == sorted(["cifar-10-python.tar.gz", "cifar-10-batches-py"]
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
    ds = _cifar_at(http_server.base + "/c.tar.gz", _md5(body))(root, download=True)
    assert len(ds) == 20 and ds.targets[:4] == batches["data_batch_1"][b"labels"]
    assert sorted(os.listdir(root)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_cifar_download_reuses_a_verified_tarball(tmp_path, http_server, capsys):
    body, _ = make_cifar_tarball(tmp_path / "src.tar.gz")
    root = tmp_path / "root"
    root.mkdir()
    (root / "cifar-10-python.tar.gz").write_bytes(body)
    cls = _cifar_at(http_server.base + "/cifar-10-python.tar.gz", _md5(body))
    assert len(cls(root, download=True)) == 20
    assert http_server.requests == []
    assert "Using downloaded and verified file" in capsys.readouterr().out


def test_cifar_download_md5_mismatch_leaves_nothing(tmp_path, http_server):
    body, _ = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/c.tar.gz"] = (body, "ok")
    cls = _cifar_at(http_server.base + "/c.tar.gz", "0" * 32)
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch") as info:
        cls(root, download=True)
    assert http_server.base + "/c.tar.gz" in str(info.value)
    assert _listing(root) == []


def test_cifar_interrupted_download_leaves_nothing(tmp_path, http_server):
    body, _ = make_cifar_tarball(tmp_path / "src.tar.gz")
    http_server.files["/c.tar.gz"] = (body, "truncate")
    cls = _cifar_at(http_server.base + "/c.tar.gz", _md5(body))
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="transfer interrupted"):
        cls(root, download=True)
    assert _listing(root) == []


def test_cifar_download_without_network_explains(tmp_path, closed_port_url, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    url = closed_port_url + "cifar-10-python.tar.gz"
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError) as info:
        _cifar_at(url, "0" * 32)(root, download=True)
    msg = str(info.value)
    assert "Download failed" in msg and url in msg
    assert "data_batch_1" in msg and str(root / "cifar-10-batches-py") in msg and "by hand" in msg
    assert _listing(root) == []


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink", "hardlink"])
def test_unsafe_archives_are_refused_before_writing(tmp_path, http_server, kind):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        ok = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"hi"))
        if kind in ("traversal", "absolute"):
            name = "cifar-10-batches-py/../../escaped" if kind == "traversal" else str(tmp_path / "escaped")
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        else:
            info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
            info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
            info.linkname = "/etc/passwd" if kind == "symlink" else "cifar-10-batches-py/readme.html"
            tar.addfile(info)
    body = buf.getvalue()
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(body)
    with pytest.raises(CorruptFileError, match="unsafe path|link or special"):
        dsutils.extract_archive(archive, tmp_path / "out")
    assert _listing(tmp_path / "out") == []
    assert not (tmp_path / "escaped").exists()

    http_server.files["/c.tar.gz"] = (body, "ok")
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="unsafe path|link or special"):
        _cifar_at(http_server.base + "/c.tar.gz", _md5(body))(root, download=True)
    assert _listing(root) == ["cifar-10-python.tar.gz"]  # the verified download stays; nothing unpacked
    assert not (tmp_path / "escaped").exists()


def test_archive_lacking_files_is_not_put_in_place(tmp_path, http_server):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    body = buf.getvalue()
    http_server.files["/c.tar.gz"] = (body, "ok")
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="the archive lacks"):
        _cifar_at(http_server.base + "/c.tar.gz", _md5(body))(root, download=True)
    assert _listing(root) == ["cifar-10-python.tar.gz"]


def test_download_url_helper(tmp_path, http_server, capsys):
    http_server.files["/f.bin"] = (b"x" * 5000, "ok")
    path = dsutils.download_url(http_server.base + "/f.bin", tmp_path, md5=_md5(b"x" * 5000))
    assert Path(path).read_bytes() == b"x" * 5000 and Path(path).name == "f.bin"
    assert dsutils.check_integrity(path, _md5(b"x" * 5000)) and not dsutils.check_integrity(path, "1" * 32)
    assert not dsutils.check_integrity(tmp_path / "absent")
    with pytest.raises(OSError, match="404"):
        dsutils.download_url(http_server.base + "/missing.bin", tmp_path)
    assert _listing(tmp_path) == ["f.bin"]


# ---------------------------------------------------------------------------------------- data directory

def test_default_root_and_layerlab_data(tmp_path, monkeypatch):
    monkeypatch.delenv("LAYERLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dsutils.default_root() == str(tmp_path / "home" / ".cache" / "layerlab" / "data")
    with pytest.raises(DatasetNotFoundError) as info:
        CIFAR10()
    assert str(tmp_path / "home" / ".cache" / "layerlab" / "data" / "cifar-10-batches-py") in str(info.value)

    data_dir = tmp_path / "data"
    make_cifar(data_dir)
    monkeypatch.setenv("LAYERLAB_DATA", str(data_dir))
    assert dsutils.default_root() == str(data_dir)
    assert CIFAR10().root == str(data_dir) and len(CIFAR10(root=None)) == 20
    # an explicit root wins over the variable
    with pytest.raises(DatasetNotFoundError, match="LAYERLAB_DATA"):
        CIFAR10(tmp_path / "elsewhere")
    make_mnist(data_dir / "MNIST" / "raw")
    assert len(MNIST()) == 6


def test_root_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    make_cifar(tmp_path / "d")
    assert CIFAR10("~/d").root == str(tmp_path / "d")


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


# ---------------------------------------------------------------------------------------- MNIST family

@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_mnist_family_reads_idx(tmp_path, cls, gz):
    made = make_mnist(tmp_path / cls.__name__ / "raw", gz=gz)
    ds = cls(tmp_path, train=True)
    images, labels = made["train"]
    assert isinstance(ds.data, engine.Tensor) and ds.data.dtype == engine.uint8
    assert tuple(ds.data.shape) == (6, 28, 28) and np.array_equal(ds.data.numpy(), images)
    assert ds.targets.dtype == engine.int64 and ds.targets.tolist() == labels.tolist()
    img, label = ds[2]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert np.array_equal(np.asarray(img), images[2]) and label == int(labels[2]) and type(label) is int
    assert ds.classes == (FASHION_CLASSES if cls is FashionMNIST else MNIST.classes)
    assert ds.class_to_idx[ds.classes[3]] == 3
    test = cls(tmp_path, train=False)
    assert len(test) == 3 and test.targets.tolist() == made["t10k"][1].tolist()
    batch = test.__getitems__([2, 0])
    assert [t for _, t in batch] == [int(made["t10k"][1][2]), int(made["t10k"][1][0])]
    assert np.array_equal(np.asarray(batch[0][0]), made["t10k"][0][2])
    data, targets = test.arrays()
    assert data.shape == (3, 28, 28, 1) and data.dtype == np.uint8 and targets.dtype == np.int64


def test_mnist_transforms(tmp_path):
    make_mnist(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path, transform=lambda im: im.size, target_transform=str)
    size, label = ds[0]
    assert size == (28, 28) and isinstance(label, str)


def test_fashion_mnist_finds_system_package_folder(tmp_path, monkeypatch):
    assert "/usr/share/datasets/fashion-mnist" in FashionMNIST.system_folders
    system = tmp_path / "usr-share"
    made = make_mnist(system, gz=True)
    monkeypatch.setattr(FashionMNIST, "system_folders", (str(system),))
    ds = FashionMNIST(tmp_path / "empty-root", train=False)
    assert ds.targets.tolist() == made["t10k"][1].tolist()
    # files in root win over the system folder
    mine = make_mnist(tmp_path / "empty-root" / "FashionMNIST" / "raw", seed=5)
    assert FashionMNIST(tmp_path / "empty-root", train=False).targets.tolist() == mine["t10k"][1].tolist()


def test_mnist_missing_error_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_folders", ("/no/such/system/folder",))
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST(tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in msg and "/no/such/system/folder" in msg
    assert "train-images-idx3-ubyte" in msg and FashionMNIST.mirrors[0] in msg and "by hand" in msg


@pytest.mark.parametrize("gz", [False, True])
def test_idx_corruption_is_reported_with_the_file_name(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    make_mnist(raw, gz=gz)
    suffix = ".gz" if gz else ""
    images_path = raw / f"train-images-idx3-ubyte{suffix}"
    labels_path = raw / f"train-labels-idx1-ubyte{suffix}"
    good_images = images_path.read_bytes()

    def put(path, data):
        path.write_bytes(gzip.compress(data) if gz else data)

    plain = gzip.decompress(good_images) if gz else good_images
    cases = [
        (images_path, plain[:-10], "truncated"),
        (images_path, plain + b"\0", "trailing data"),
        (images_path, b"\x00\x00\x08", "too short"),
        (images_path, b"\x12\x34" + plain[2:], "bad IDX magic"),
        (images_path, b"\x00\x00\x08\x01" + plain[4:], "declares 1 dimensions, expected 3"),
        (images_path, b"\x00\x00\x0c\x03" + plain[4:], "declares type"),
        (images_path, _idx_bytes(np.zeros((6, 27, 27), np.uint8)), "27x27, expected 28x28"),
        (labels_path, _idx_bytes(np.zeros(5, np.uint8)), "5 labels for the 6 images"),
        (labels_path, _idx_bytes(np.full(6, 10, np.uint8)), "out of range"),
    ]
    for path, data, message in cases:
        put(path, data)
        with pytest.raises(CorruptFileError, match=message) as info:
            MNIST(tmp_path)
        assert info.value.path == str(path), message
        make_mnist(raw, gz=gz)
    if gz:
        images_path.write_bytes(good_images[: len(good_images) // 2])
        with pytest.raises(CorruptFileError, match="cannot decompress") as info:
            MNIST(tmp_path)
        assert str(images_path) in str(info.value)
        images_path.write_bytes(b"not gzip at all")
        with pytest.raises(CorruptFileError, match="cannot decompress"):
            MNIST(tmp_path)


def test_mnist_download_tries_mirrors_and_verifies(tmp_path, http_server, closed_port_url, capsys):
    src = tmp_path / "src"
    make_mnist(src, gz=True)
    resources = []
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        body = (src / name).read_bytes()
        http_server.files[f"/mnist/{name}"] = (body, "ok")
        resources.append((name, _md5(body)))
    cls = type("LocalMNIST", (MNIST,), {"mirrors": [closed_port_url, http_server.base + "/mnist/"],
                                        "resources": resources, "__module__": __name__})
    cls.__name__ = "MNIST"
    ds = cls(tmp_path / "root", download=True)
    assert len(ds) == 6
    assert "Failed to download (trying next)" in capsys.readouterr().out
    assert _listing(tmp_path / "root") == ["MNIST", "MNIST/raw"] + [f"MNIST/raw/{n}" for n, _ in sorted(resources)]

    bad = type("BadMNIST", (MNIST,), {"mirrors": [http_server.base + "/mnist/"],
                                      "resources": [(resources[0][0], "0" * 32), *resources[1:]]})
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch"):
        bad(tmp_path / "root2", download=True)
    assert _listing(tmp_path / "root2") == ["BadMNIST", "BadMNIST/raw"]


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_from_the_debian_package(tmp_path):
    train = FashionMNIST(tmp_path, train=True)
    test = FashionMNIST(tmp_path, train=False)
    assert (len(train), len(test)) == (60000, 10000)
    assert tuple(train.data.shape) == (60000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.targets[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test.targets[:8].tolist() == [9, 2, 1, 1, 6, 1, 4, 6]
    img, label = train[0]
    assert img.mode == "L" and label == 9 and train.classes[label] == "Ankle boot"


# ---------------------------------------------------------------------------------------- ImageFolder

def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def image_tree(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for rel in ["zebra/b.png", "zebra/a.png", "cat/x.png", "cat/nested/y.PNG"]:
        arr = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
        _png(tmp_path / "root" / rel, arr)
        arrays[rel] = arr
    gray = rng.integers(0, 256, (5, 4), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "root" / "cat" / "gray.png")
    arrays["cat/gray.png"] = np.repeat(gray[..., None], 3, axis=2)
    (tmp_path / "root" / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "root" / "stray.png").write_bytes(b"outside any class")
    return tmp_path / "root", arrays


def test_image_folder_classes_samples_and_items(image_tree):
    root, arrays = image_tree
    ds = ImageFolder(root)
    assert ds.classes == ["cat", "zebra"] and ds.class_to_idx == {"cat": 0, "zebra": 1}
    rels = [os.path.relpath(p, root) for p, _ in ds.samples]
    assert rels == ["cat/gray.png", "cat/x.png", "cat/nested/y.PNG", "zebra/a.png", "zebra/b.png"]
    assert ds.targets == [0, 0, 0, 1, 1] and ds.imgs is ds.samples and len(ds) == 5
    for i, rel in enumerate(rels):
        img, target = ds[i]
        assert img.mode == "RGB" and target == ds.targets[i]
        assert np.array_equal(np.asarray(img), arrays[rel])


def test_image_folder_options(image_tree):
    root, _ = image_tree
    ds = ImageFolder(root, is_valid_file=lambda p: p.endswith("a.png") or p.endswith("x.png"))
    assert [os.path.basename(p) for p, _ in ds.samples] == ["x.png", "a.png"]
    ds = ImageFolder(root, loader=lambda p: os.path.basename(p), transform=str.upper,
                     target_transform=lambda t: -t)
    assert ds[3] == ("A.PNG", -1)


def test_image_folder_errors(tmp_path, image_tree):
    root, _ = image_tree
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        ImageFolder(tmp_path / "missing")
    assert str(tmp_path / "missing") in str(info.value)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path / "flat")
    (root / "empty_class").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty_class"):
        ImageFolder(root)
    ds = ImageFolder(root, allow_empty=True)
    assert ds.classes == ["cat", "empty_class", "zebra"] and ds.targets == [0, 0, 0, 2, 2]


def test_image_folder_unreadable_image_names_the_file(image_tree):
    root, _ = image_tree
    bad = root / "zebra" / "a.png"
    bad.write_bytes(b"this is not a png")
    ds = ImageFolder(root)
    with pytest.raises(CorruptFileError, match="cannot read the image") as info:
        ds[3]
    assert info.value.path == str(bad)
    good = (root / "zebra" / "b.png").read_bytes()
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFileError) as info:
        ds[3]
    assert str(bad) in str(info.value)


# ---------------------------------------------------------------------------------------- DataLoader path

def test_batched_loader_path_matches_per_sample_collation(tmp_path):
    transforms = pytest.importorskip("engine.vision.transforms", reason="engine.vision.transforms not available")
    from engine.utils.data import DataLoader, default_collate

    make_cifar(tmp_path)
    make_mnist(tmp_path / "MNIST" / "raw")
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    idx = [5, 0, 3, 1]
    for ds in (CIFAR10(tmp_path, transform=to_tensor), MNIST(tmp_path, transform=to_tensor),
               CIFAR10(tmp_path, transform=to_tensor, target_transform=lambda t: t * 2)):
        fast = ds.__getbatch__(idx)
        slow = default_collate([ds[i] for i in idx])
        assert fast is not NotImplemented
        np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())
        assert fast[1].tolist() == slow[1].tolist() and fast[1].dtype == slow[1].dtype
        batches = list(DataLoader(ds, batch_size=4))
        assert sum(len(y) for _, y in batches) == len(ds)

    plain = CIFAR10(tmp_path)
    assert plain.__getbatch__([0, 1]) is NotImplemented
    with pytest.raises(TypeError, match="PIL"):  # PIL images do not collate, as with PyTorch
        next(iter(DataLoader(plain, batch_size=2)))
    assert isinstance(plain, engine.utils.data.Dataset)
