"""engine.vision.datasets.emnist: EMNIST's six splits compared with torchvision's class on the same IDX files,
its zip unpacked safely, and its refusals."""

import gzip
import io
import zipfile

import numpy as np
import pytest
from torchvision_reference import torchvision

from engine.vision.datasets import EMNIST, CorruptFileError, DatasetNotFoundError
from engine.vision.datasets.zip_files import extract_zip

from .dataset_files import idx_bytes, listing, md5, write_idx

N_CLASSES = {"byclass": 62, "bymerge": 47, "balanced": 47, "letters": 27, "digits": 10, "mnist": 10}


def make_emnist(raw, split, n=5, gz=False, seed=0):
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    low = 1 if split == "letters" else 0
    out = {}
    for part in ("train", "test"):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(low, N_CLASSES[split], n).astype(np.uint8)
        write_idx(raw / f"emnist-{split}-{part}-images-idx3-ubyte", images, gz)
        write_idx(raw / f"emnist-{split}-{part}-labels-idx1-ubyte", labels, gz)
        out[part] = images, labels
    return out


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("split", list(N_CLASSES))
def test_emnist_matches_torchvision(tmp_path, split, train):
    make_emnist(tmp_path / "EMNIST" / "raw", split)
    ours = EMNIST(tmp_path, split, train=train)
    ref = torchvision("datasets").EMNIST(tmp_path, split, train=train)
    assert ours.classes == ref.classes and len(ours.classes) == N_CLASSES[split]
    assert ours.class_to_idx == ref.class_to_idx
    assert len(ours) == len(ref) == 5
    assert np.array_equal(ours.data.numpy(), ref.data.numpy()) and ours.targets.tolist() == ref.targets.tolist()
    for i in range(5):
        (img, label), (ref_img, ref_label) = ours[i], ref[i]
        assert img.mode == ref_img.mode == "L" and np.array_equal(np.asarray(img), np.asarray(ref_img))
        assert label == ref_label and type(label) is int
    assert ours.root == str(ref.root) and repr(ours) == repr(ref)


def test_emnist_reads_gzipped_files_and_transforms(tmp_path):
    made = make_emnist(tmp_path / "EMNIST" / "raw", "letters", gz=True)
    ds = EMNIST(tmp_path, "letters", train=False, transform=lambda im: im.size, target_transform=lambda t: -t)
    assert ds.targets.tolist() == made["test"][1].tolist()
    assert ds[3] == ((28, 28), -int(made["test"][1][3]))


def test_emnist_bad_split_is_torchvisions_error(tmp_path):
    ref = torchvision("datasets").EMNIST
    for split in ("bogus", 3):
        with pytest.raises(ValueError) as ours:
            EMNIST(tmp_path, split)
        with pytest.raises(ValueError) as theirs:
            ref(tmp_path, split)
        assert str(ours.value) == str(theirs.value)


def test_emnist_corrupt_files_name_the_file(tmp_path):
    raw = tmp_path / "EMNIST" / "raw"
    make_emnist(raw, "digits")
    images = raw / "emnist-digits-train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    with pytest.raises(CorruptFileError, match="truncated") as info:
        EMNIST(tmp_path, "digits")
    assert info.value.path == str(images)
    labels = raw / "emnist-digits-test-labels-idx1-ubyte"
    write_idx(labels, np.array([1, 2, 10, 3, 4], np.uint8))
    with pytest.raises(CorruptFileError, match="out of range for 10 classes") as info:
        EMNIST(tmp_path, "digits", train=False)
    assert info.value.path == str(labels)


def test_emnist_not_found_says_what_where_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        EMNIST(tmp_path, "balanced", train=False)
    msg = str(info.value)
    assert "Dataset EMNIST not found" in msg and "emnist-balanced-test-images-idx3-ubyte[.gz]" in msg
    assert str(tmp_path / "EMNIST" / "raw") in msg and EMNIST.url in msg and EMNIST.md5 in msg


def zip_of(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_emnist_download_unpacks_the_zip(tmp_path, http_server, capsys):
    src = tmp_path / "src"
    made = make_emnist(src, "mnist", gz=True)
    body = zip_of({f"gzip/{p.name}": p.read_bytes() for p in sorted(src.iterdir())} | {"gzip/readme.txt": b"x"})
    http_server.files["/gzip.zip"] = (body, "ok")
    cls = type("LocalEMNIST", (EMNIST,), {"url": http_server.base + "/gzip.zip", "md5": md5(body)})
    ds = cls(tmp_path / "root", "mnist", download=True)
    assert ds.targets.tolist() == made["train"][1].tolist()
    assert listing(tmp_path / "root") == sorted(["LocalEMNIST", "LocalEMNIST/raw", "LocalEMNIST/raw/gzip.zip",
                                                 *(f"LocalEMNIST/raw/{p.name}" for p in src.iterdir())])
    capsys.readouterr()

    bad = type("BadEMNIST", (EMNIST,), {"url": http_server.base + "/gzip.zip", "md5": "0" * 32})
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch"):
        bad(tmp_path / "root2", "mnist", download=True)
    assert listing(tmp_path / "root2") == ["BadEMNIST", "BadEMNIST/raw"]

    http_server.files["/empty.zip"] = (zip_of({"gzip/readme.txt": b"x"}), "ok")
    empty = type("EmptyEMNIST", (EMNIST,), {"url": http_server.base + "/empty.zip",
                                            "md5": md5(http_server.files["/empty.zip"][0])})
    with pytest.raises(DatasetNotFoundError, match="no gzip/"):
        empty(tmp_path / "root3", "mnist", download=True)
    assert listing(tmp_path / "root3") == ["EmptyEMNIST", "EmptyEMNIST/raw", "EmptyEMNIST/raw/empty.zip"]


@pytest.mark.parametrize("name", ["/abs.gz", "gzip/../../escape.gz", "C:evil.gz"])
def test_extract_zip_refuses_unsafe_paths(tmp_path, name):
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_of({"gzip/ok.gz": b"fine", name: b"bad"}))
    with pytest.raises(CorruptFileError, match="unsafe path") as info:
        extract_zip(archive, tmp_path / "out")
    assert info.value.path == str(archive) and not (tmp_path / "out").exists()


def test_extract_zip_refuses_links_bombs_and_garbage(tmp_path):
    archive = tmp_path / "a.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        link = zipfile.ZipInfo("gzip/link")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
    archive.write_bytes(buf.getvalue())
    with pytest.raises(CorruptFileError, match="link or special file"):
        extract_zip(archive, tmp_path / "out")

    archive.write_bytes(zip_of({"gzip/zeros.gz": bytes(1 << 20)}))
    with pytest.raises(CorruptFileError, match="declares 1,048,576 bytes unpacked, over the 1,000 bytes"):
        extract_zip(archive, tmp_path / "out", limit=1000)
    assert not (tmp_path / "out").exists()

    good = zip_of({"gzip/a.gz": gzip.compress(idx_bytes(np.zeros(3, np.uint8)))})
    archive.write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFileError, match="cannot unpack archive") as info:
        extract_zip(archive, tmp_path / "out")
    assert info.value.path == str(archive)
