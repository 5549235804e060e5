"""Opening an image file a user gave, the one bounded way (image folders, ``predict``, the GUI's gallery).

A file is refused, with one error naming it, when it is no regular file, is over a byte budget, says in its
header that it has more pixels than a budget (checked before any pixel is decoded: a decompression bomb
costs nothing), is truncated (PIL's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left False), or makes PIL raise
anything else (PIL parses untrusted bytes and raises SyntaxError, ValueError, struct.error, EOFError, ...).
PIL's ``DecompressionBombWarning`` becomes that error too; PIL's global settings are not changed.
"""

import contextlib
import threading
import warnings

from PIL import Image, UnidentifiedImageError

from ..utils.files import FileError, open_regular

MAX_BYTES = 256 << 20
MAX_PIXELS = 1 << 26  # 64 megapixels (8192 x 8192): below PIL's own warning threshold, ~89 megapixels


class ImageFileError(FileError, ValueError):
    """An image file that cannot be used: not an image, truncated or corrupt, or over the size budgets.
    A ``ValueError`` too, as the command line and the GUI have always caught for unreadable images."""


_filters_lock = threading.Lock()  # warnings filters are process-wide: one opener at a time changes them


@contextlib.contextmanager
def _bomb_warning_raised():
    with _filters_lock, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _problem(e):
    if isinstance(e, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return f"the image is too large to open ({e})"
    if isinstance(e, UnidentifiedImageError):
        return "cannot read the image: it is not an image file in a format PIL reads"
    return f"cannot read the image ({type(e).__name__}: {e}); the file is truncated or corrupt"


def open_image(path, mode="RGB", *, error=ImageFileError, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS):
    """The image at ``path`` converted to ``mode``, fully decoded and detached from the file.

    Raises ``error(path, problem)`` (``ImageFileError``, or the caller's file kind's error, such as a
    dataset's ``CorruptFileError``) for anything that keeps it from being read within the budgets.
    """
    with open_regular(path, max_bytes, error) as fh:
        try:
            with _bomb_warning_raised():
                img = Image.open(fh)
            with img:
                width, height = img.size
                if width * height > max_pixels:
                    raise error(path, f"the image is {width}x{height} pixels, over the {max_pixels:,} pixels "
                                      "an image may have")
                return img.convert(mode)
        except FileError:
            raise
        except Exception as e:
            raise error(path, _problem(e)) from e
