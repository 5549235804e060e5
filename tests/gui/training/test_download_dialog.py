"""The dataset download dialog against a local HTTP server on 127.0.0.1: a whole download, verified and
loadable; a refused connection read as no network; a cancelled download that leaves nothing behind."""

import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
import time

import numpy as np
import pytest

from engine.vision.datasets import FashionMNIST
from gui.training import downloads
from gui.training.download_dialog import DatasetDownloadDialog
from gui.training.downloads import RemoteFile


def idx_images(images):
    return struct.pack(">IIII", 0x803, len(images), 28, 28) + images.tobytes()


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + labels.tobytes()


@pytest.fixture
def served(tmp_path):
    """A small Fashion-MNIST (20 training, 10 test images) as gzipped IDX files behind an HTTP server."""
    folder = tmp_path / "www"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 20), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_images(images)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_labels(labels)))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def remote_files(folder, base_url, root):
    raw = os.path.join(root, "FashionMNIST", "raw")
    return [RemoteFile((base_url + name,), raw, name, hashlib.md5((folder / name).read_bytes()).hexdigest())
            for name, _ in FashionMNIST.resources]


def test_the_official_files_and_a_mirror(tmp_path):
    files = downloads.dataset_files("Fashion-MNIST", str(tmp_path))
    assert [f.filename for f in files] == [name for name, _ in FashionMNIST.resources]
    assert files[0].urls[0].startswith(FashionMNIST.mirrors[0]) and files[0].md5 == FashionMNIST.resources[0][1]
    assert files[0].folder == str(tmp_path / "FashionMNIST" / "raw")
    cifar = downloads.dataset_files("CIFAR-10", str(tmp_path), base_url="http://127.0.0.1:1/data")
    assert cifar[0].urls == ("http://127.0.0.1:1/data/cifar-10-python.tar.gz",) and cifar[0].folder == str(tmp_path)
    with pytest.raises(ValueError, match="image folder"):
        downloads.dataset_files("Image folder")


def test_downloads_with_progress_and_the_dataset_loads(qtbot, served, tmp_path):
    folder, base_url = served
    root = str(tmp_path / "data")
    dialog = DatasetDownloadDialog("Fashion-MNIST", root, "not found", remote_files(folder, base_url, root))
    qtbot.addWidget(dialog)
    dialog.show()
    assert "127.0.0.1" in dialog.text.text() and dialog.download_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=20000):
        dialog.download_button.click()
    assert dialog.result() == DatasetDownloadDialog.DialogCode.Accepted and dialog.data_dir == root
    train, test = FashionMNIST(root, train=True), FashionMNIST(root, train=False)
    assert len(train) == 20 and len(test) == 10
    assert sorted(os.listdir(os.path.join(root, "FashionMNIST", "raw"))) == sorted(n for n, _ in FashionMNIST.resources)


def test_a_corrupt_download_is_refused_and_not_kept(qtbot, served, tmp_path):
    folder, base_url = served
    root = str(tmp_path / "data")
    files = remote_files(folder, base_url, root)
    files[0] = RemoteFile(files[0].urls, files[0].folder, files[0].filename, "0" * 32)
    dialog = DatasetDownloadDialog("Fashion-MNIST", root, "", files)
    qtbot.addWidget(dialog)
    dialog.start_download()
    qtbot.waitUntil(lambda: not dialog.downloading and dialog.download_button.isEnabled(), timeout=20000)
    assert "MD5" in dialog.status.text() and not dialog.offline
    assert os.listdir(files[0].folder) == []


def test_no_network_says_so_and_suggests_fashion_mnist(qtbot, tmp_path):
    with socket.socket() as s:  # a port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = str(tmp_path / "data")
    files = downloads.dataset_files("CIFAR-10", root, base_url=f"http://127.0.0.1:{port}")
    dialog = DatasetDownloadDialog("CIFAR-10", root, "", files)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.downloading and dialog.download_button.isEnabled(), timeout=20000)
    text = dialog.status.text()
    assert dialog.offline and text.startswith("No network")
    assert "Fashion-MNIST" in text and "/usr/share/datasets/fashion-mnist" in text
    assert dialog.isVisible() and not os.listdir(root)


def test_cancel_stops_the_download_and_removes_the_partial_file(qtbot, tmp_path):
    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"x" * (1 << 14))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.01)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        root = str(tmp_path / "data")
        url = f"http://127.0.0.1:{server.server_address[1]}/big.gz"
        dialog = DatasetDownloadDialog("MNIST", root, "", [RemoteFile((url,), root, "big.gz")])
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.download_button.click()
        qtbot.waitUntil(lambda: "MB" in dialog.status.text(), timeout=20000)
        dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()  # cancels the download, stays open
        assert not dialog.downloading and dialog.isVisible()
        assert dialog.status.text() == "Download cancelled; nothing was kept."
        assert os.listdir(root) == []
    finally:
        server.shutdown()
        server.server_close()


def test_choosing_a_folder_accepts_it(qtbot, tmp_path):
    dialog = DatasetDownloadDialog("CIFAR-10", None, "")
    qtbot.addWidget(dialog)
    dialog.choose_folder(str(tmp_path))
    assert dialog.result() == DatasetDownloadDialog.DialogCode.Accepted and dialog.data_dir == str(tmp_path)
