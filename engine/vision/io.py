"""``torchvision.io``'s image functions through Pillow: reading and decoding images into uint8 CHW tensors,
encoding and writing PNG and JPEG files.

Files and bytes are untrusted: reads are bounded (``image_file.MAX_BYTES``), an image whose header claims
more than ``image_file.MAX_PIXELS`` pixels is refused before any pixel is decoded (Pillow's decompression-bomb
warning is an error too), and a truncated, corrupt or non-image input raises ``ImageFileError`` naming the
file (or ``<image data>`` for bytes) and what is wrong. Writes are atomic.
"""

import io
from enum import Enum

import numpy as np
from PIL import Image, ImageOps

from ..backend import CPU
from ..tensor import Tensor, make_tensor
from ..utils.files import FileError, atomic_write, read_limited
from .image_file import MAX_BYTES, MAX_PIXELS, ImageFileError, _bomb_warning_raised, _problem

__all__ = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg", "encode_png", "read_file",
           "read_image", "write_file", "write_jpeg", "write_png"]

_DATA_NAME = "<image data>"


class ImageReadMode(Enum):
    """The channels a decoded image has: as stored (UNCHANGED), or converted to grey, grey and alpha, RGB or
    RGB and alpha."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
             ImageReadMode.RGB_ALPHA: "RGBA"}


def _unchanged_mode(img):
    """The Pillow mode that keeps an image's channels: 8-bit grey, grey and alpha, RGB or RGBA; palette
    images expand to RGB (RGBA when they have transparency), 32-bit and 16-bit integer images stay integer."""
    if img.mode in ("L", "LA", "RGB", "RGBA", "I"):
        return img.mode
    if img.mode == "1":
        return "L"
    if img.mode.startswith("I;16"):
        return "I"
    if img.mode in ("P", "PA"):
        return "RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB"
    return "RGB"


def read_file(path):
    """The bytes of the file at ``path`` as a 1-d uint8 tensor."""
    data = read_limited(str(path), MAX_BYTES, ImageFileError)
    return make_tensor(np.frombuffer(data, dtype=np.uint8).copy(), CPU)


def write_file(filename, data):
    """Write the bytes of the 1-d uint8 tensor ``data`` to ``filename`` (atomically)."""
    payload = _bytes_of(data)
    atomic_write(str(filename), lambda fh, _: fh.write(payload), ImageFileError)


def _bytes_of(data):
    if not isinstance(data, Tensor):
        raise TypeError(f"Expected a tensor of bytes, got {type(data).__name__}")
    arr = data.detach()._host()
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise RuntimeError(f"Expected a 1-d uint8 tensor of bytes, got a {arr.ndim}-d tensor of dtype {data.dtype}")
    return arr.tobytes()


def _decode(fh, name, mode, apply_exif_orientation):
    try:
        with _bomb_warning_raised():
            img = Image.open(fh)
        with img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ImageFileError(name, f"the image is {width}x{height} pixels, over the {MAX_PIXELS:,} pixels "
                                           "an image may have")
            img.load()
            if apply_exif_orientation:
                img = ImageOps.exif_transpose(img)
            out = img.convert(_PIL_MODE.get(mode) or _unchanged_mode(img))
    except FileError:
        raise
    except Exception as e:
        raise ImageFileError(name, _problem(e)) from e
    arr = np.asarray(out)
    arr = arr.reshape(out.height, out.width, -1)
    return make_tensor(np.ascontiguousarray(arr.transpose(2, 0, 1)), CPU)


def _read_mode(mode):
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or its name, got {type(mode).__name__}")
    return mode


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode the image in a 1-d uint8 tensor of file bytes (or read the file at a path) into a (C, H, W)
    uint8 tensor (int32 for 16- and 32-bit integer images)."""
    mode = _read_mode(mode)
    if not isinstance(input, Tensor):
        return read_image(input, mode, apply_exif_orientation)
    return _decode(io.BytesIO(_bytes_of(input)), _DATA_NAME, mode, apply_exif_orientation)


decode_png = decode_image
decode_jpeg = decode_image


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read and decode the image file at ``path`` (JPEG, PNG, GIF, WebP, BMP, TIFF: what Pillow reads) into a
    (C, H, W) uint8 tensor."""
    mode = _read_mode(mode)
    data = read_limited(str(path), MAX_BYTES, ImageFileError)
    return _decode(io.BytesIO(data), str(path), mode, apply_exif_orientation)


def _pil_of(input, kind):
    if not isinstance(input, Tensor):
        raise TypeError(f"Expected a tensor, got {type(input).__name__}")
    if input.dtype.np != np.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.ndim != 3:
        raise RuntimeError("Input data should be a 3-dimensional tensor")
    channels = input.shape[0]
    if channels not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {channels}" if kind == "PNG"
                           else f"Number of channels should be 1 or 3, got: {channels}")
    arr = np.ascontiguousarray(input.detach()._host().transpose(1, 2, 0))
    return Image.fromarray(arr[:, :, 0], "L") if channels == 1 else Image.fromarray(arr, "RGB")


def _encode(img, **options):
    buffer = io.BytesIO()
    img.save(buffer, **options)
    return make_tensor(np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy(), CPU)


def encode_png(input, compression_level=6):
    """The PNG file bytes of a (C, H, W) uint8 tensor (C = 1 or 3) as a 1-d uint8 tensor."""
    if compression_level < 0 or compression_level > 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    return _encode(_pil_of(input, "PNG"), format="PNG", compress_level=compression_level)


def write_png(input, filename, compression_level=6):
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality=75):
    """The JPEG file bytes of a (C, H, W) uint8 tensor (or of each of a list of them)."""
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, list):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is passed")
        return [encode_jpeg(image, quality) for image in input]
    return _encode(_pil_of(input, "JPEG"), format="JPEG", quality=quality)


def write_jpeg(input, filename, quality=75):
    write_file(filename, encode_jpeg(input, quality))
