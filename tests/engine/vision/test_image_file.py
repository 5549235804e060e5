"""engine.vision.image_file: the one bounded way to open an image file; every failure is one error naming the
file, decompression bombs cost nothing, and PIL's global settings stay as they were."""

import io
import os
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from engine.utils.files import FileError
from engine.vision import ImageFileError, open_image
from engine.vision.datasets import CorruptFileError


def _image_bytes(fmt, size=(16, 12), mode="RGB"):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(array).convert(mode).save(out, format=fmt)
    return out.getvalue()


def png_claiming(width, height):
    """A valid 1x1 PNG whose header (with a correct CRC) claims ``width`` x ``height`` pixels."""
    data = bytearray(_image_bytes("PNG", (1, 1)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_an_image_is_read_whole_in_the_mode_asked(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(_image_bytes("PNG"))
    img = open_image(path)
    assert img.mode == "RGB" and img.size == (16, 12)
    assert open_image(path, "L").mode == "L"
    np.testing.assert_array_equal(np.asarray(img), np.asarray(Image.open(path).convert("RGB")))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP"])
def test_broken_files_are_one_error_naming_the_file(tmp_path, fmt):
    good = _image_bytes(fmt, (64, 48))
    path = tmp_path / f"x.{fmt.lower()}"
    for data, message in [(good[: len(good) // 2], "truncated or corrupt"), (good[:20], "cannot read the image"),
                          (b"plain text, no image", "not an image file"), (b"", "not an image file")]:
        path.write_bytes(data)
        with pytest.raises(ImageFileError, match=message) as info:
            open_image(path)
        assert info.value.path == str(path) and str(info.value).startswith(f"{path}: ")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_files_that_are_no_regular_files_or_too_large_are_refused(tmp_path):
    with pytest.raises(ImageFileError, match="No such file"):
        open_image(tmp_path / "absent.png")
    with pytest.raises(ImageFileError, match="a folder"):
        open_image(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.png")
        with pytest.raises(ImageFileError, match="not a regular file"):
            open_image(tmp_path / "fifo.png")
    path = tmp_path / "a.png"
    path.write_bytes(_image_bytes("PNG"))
    with pytest.raises(ImageFileError, match="over the 100 bytes"):
        open_image(path, max_bytes=100)


@pytest.mark.parametrize("width, height, message", [
    (9000, 9000, "9000x9000 pixels, over the 67,108,864 pixels"),   # our budget, under PIL's warning
    (10000, 10000, "too large to open"),                            # PIL's DecompressionBombWarning
    (20000, 20000, "too large to open"),                            # PIL's DecompressionBombError
    (1 << 30, 1 << 30, "too large to open"),
])
def test_decompression_bombs_cost_nothing_and_change_no_global_setting(tmp_path, width, height, message):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(width, height))
    filters, pixel_limit = list(warnings.filters), Image.MAX_IMAGE_PIXELS
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageFileError, match=message) as info:
            open_image(path)
    assert time.perf_counter() - start < 1 and info.value.path == str(path)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert warnings.filters == filters and pixel_limit == Image.MAX_IMAGE_PIXELS


def test_the_pixel_budget_and_the_error_kind_are_the_callers(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(_image_bytes("PNG", (20, 20)))
    with pytest.raises(CorruptFileError, match="20x20 pixels, over the 100 pixels"):
        open_image(path, max_pixels=100, error=CorruptFileError)
    assert issubclass(ImageFileError, FileError) and issubclass(ImageFileError, ValueError)
