"""Property-based fuzzing of the image opener: mutated, truncated and huge-header PNG, JPEG and BMP files either
open or raise ``ImageFileError`` naming the file, quickly."""

import io
import struct
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.vision import ImageFileError, open_image

from .datasets.dataset_files import mutated

FUZZ = settings(max_examples=200, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
FORMATS = ["PNG", "JPEG", "BMP"]


def _encoded(fmt, width, height, mode):
    rng = np.random.default_rng(width * 31 + height)
    array = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(array).convert(mode).save(out, format=fmt)
    return out.getvalue()


def _claiming(fmt, data, width, height):
    """``data`` with its header's width and height replaced (PNG's checksum kept right, so it is read)."""
    data = bytearray(data)
    if fmt == "PNG":
        data[16:24] = struct.pack(">II", width, height)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    elif fmt == "BMP":
        data[18:26] = struct.pack("<ii", width - (1 << 31) if width >= 1 << 31 else width, height & 0x7FFFFFFF)
    else:  # JPEG: the frame header after the SOF0 marker: length, precision, height, width
        at = data.find(b"\xff\xc0")
        data[at + 5:at + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
    return bytes(data)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as path:
        yield Path(path)


def _opens_or_refuses(path):
    start = time.perf_counter()
    try:
        image = open_image(path)
        assert image.mode == "RGB"
    except ImageFileError as e:
        assert e.path == str(path) and str(e).startswith(f"{path}: ")
    assert time.perf_counter() - start < 2


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(FORMATS), mode=st.sampled_from(["RGB", "L"]),
       size=st.tuples(st.integers(1, 40), st.integers(1, 40)))
def test_mutated_images(folder, data, fmt, mode, size):
    path = folder / f"m.{fmt.lower()}"
    path.write_bytes(data.draw(mutated(_encoded(fmt, *size, mode))))
    _opens_or_refuses(path)


@FUZZ
@given(fmt=st.sampled_from(FORMATS), width=st.integers(0, (1 << 32) - 1) | st.integers(0, 20000),
       height=st.integers(0, (1 << 32) - 1) | st.integers(0, 20000), cut=st.integers(0, 400))
def test_images_whose_header_claims_any_size(folder, fmt, width, height, cut):
    path = folder / f"h.{fmt.lower()}"
    data = _claiming(fmt, _encoded(fmt, 8, 8, "RGB"), width, height)
    path.write_bytes(data[: len(data) - cut])
    _opens_or_refuses(path)
