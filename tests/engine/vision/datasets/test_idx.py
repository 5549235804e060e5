"""engine.vision.datasets.idx: IDX files, their corruption reported with the file name."""

import gzip

import numpy as np
import pytest

from engine.vision.datasets import (
    MNIST,
    CorruptFileError,
)

from .dataset_files import (
    idx_bytes,
    make_mnist,
)


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
        (images_path, idx_bytes(np.zeros((6, 27, 27), np.uint8)), "27x27, expected 28x28"),
        (labels_path, idx_bytes(np.zeros(5, np.uint8)), "5 labels for the 6 images"),
        (labels_path, idx_bytes(np.full(6, 10, np.uint8)), "out of range"),
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
