"""engine.vision.datasets.utils: archives refused when unsafe, downloads, the data directory."""

import io
import tarfile
from pathlib import Path

import pytest

from engine.vision.datasets import (
    CIFAR10,
    MNIST,
    CorruptFileError,
    DatasetNotFoundError,
)
from engine.vision.datasets import utils as dsutils

from .dataset_files import (
    cifar_at,
    listing,
    make_cifar,
    make_mnist,
    md5,
)


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
    assert listing(tmp_path / "out") == []
    assert not (tmp_path / "escaped").exists()

    http_server.files["/c.tar.gz"] = (body, "ok")
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="unsafe path|link or special"):
        cifar_at(http_server.base + "/c.tar.gz", md5(body))(root, download=True)
    assert listing(root) == ["cifar-10-python.tar.gz"]  # the verified download stays; nothing unpacked
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
        cifar_at(http_server.base + "/c.tar.gz", md5(body))(root, download=True)
    assert listing(root) == ["cifar-10-python.tar.gz"]


def test_download_url_helper(tmp_path, http_server, capsys):
    http_server.files["/f.bin"] = (b"x" * 5000, "ok")
    path = dsutils.download_url(http_server.base + "/f.bin", tmp_path, md5=md5(b"x" * 5000))
    assert Path(path).read_bytes() == b"x" * 5000 and Path(path).name == "f.bin"
    assert dsutils.check_integrity(path, md5(b"x" * 5000)) and not dsutils.check_integrity(path, "1" * 32)
    assert not dsutils.check_integrity(tmp_path / "absent")
    with pytest.raises(OSError, match="404"):
        dsutils.download_url(http_server.base + "/missing.bin", tmp_path)
    assert listing(tmp_path) == ["f.bin"]


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
