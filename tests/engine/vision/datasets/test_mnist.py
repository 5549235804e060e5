"""engine.vision.datasets.mnist: the MNIST family, read, found and downloaded."""


import numpy as np
import pytest
from PIL import Image

import engine
from engine.vision.datasets import (
    KMNIST,
    MNIST,
    DatasetNotFoundError,
    FashionMNIST,
)

from .dataset_files import (
    DEBIAN_FASHION,
    FASHION_CLASSES,
    listing,
    make_mnist,
    md5,
)

# torchvision's, romanised: the first of each Kuzushiji character's readings
KMNIST_CLASSES = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

# ---------------------------------------------------------------------------------------- MNIST family

@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
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
    assert ds.classes == {FashionMNIST: FASHION_CLASSES, KMNIST: KMNIST_CLASSES}.get(cls, MNIST.classes)
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



def test_mnist_download_tries_mirrors_and_verifies(tmp_path, http_server, closed_port_url, capsys):
    src = tmp_path / "src"
    make_mnist(src, gz=True)
    resources = []
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        body = (src / name).read_bytes()
        http_server.files[f"/mnist/{name}"] = (body, "ok")
        resources.append((name, md5(body)))
    cls = type("LocalMNIST", (MNIST,), {"mirrors": [closed_port_url, http_server.base + "/mnist/"],
                                        "resources": resources, "__module__": __name__})
    cls.__name__ = "MNIST"
    ds = cls(tmp_path / "root", download=True)
    assert len(ds) == 6
    assert "Failed to download (trying next)" in capsys.readouterr().out
    assert listing(tmp_path / "root") == ["MNIST", "MNIST/raw"] + [f"MNIST/raw/{n}" for n, _ in sorted(resources)]

    bad = type("BadMNIST", (MNIST,), {"mirrors": [http_server.base + "/mnist/"],
                                      "resources": [(resources[0][0], "0" * 32), *resources[1:]]})
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch"):
        bad(tmp_path / "root2", download=True)
    assert listing(tmp_path / "root2") == ["BadMNIST", "BadMNIST/raw"]


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
