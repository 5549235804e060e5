"""Unpacking an untrusted zip archive: every member checked before anything is written, sizes bounded.

Members with absolute paths, ``..`` components, or that are links are refused (as ``extract_archive`` refuses
them in a tar), and the sizes the central directory declares are summed against a budget before a byte is
inflated. ``zipfile`` inflates a member no further than its declared size and checks its CRC, so a zip bomb
costs no more than the budget.
"""

import stat
import types
import zipfile
import zlib

from .utils import CorruptFileError, _check_member, write_member

MAX_UNPACKED = 4 << 30  # 4 GiB: EMNIST's gzip.zip unpacks to 0.56 GB


def _member(info):
    is_link = stat.S_ISLNK(info.external_attr >> 16)
    return types.SimpleNamespace(name=info.filename, isdir=info.is_dir,
                                 isfile=lambda: not info.is_dir() and not is_link)


def extract_zip(from_path, to_path, limit=MAX_UNPACKED):
    """Unpack the zip archive ``from_path`` into the folder ``to_path``; ``CorruptFileError`` names the archive."""
    try:
        with zipfile.ZipFile(from_path) as archive:
            infos = archive.infolist()
            for info in infos:
                _check_member(_member(info), from_path)
            total = sum(info.file_size for info in infos)
            if total > limit:
                raise CorruptFileError(from_path, f"the archive declares {total:,} bytes unpacked, over the "
                                                  f"{limit:,} bytes allowed")
            for info in infos:
                write_member(to_path, info.filename, info.is_dir(), lambda i=info: archive.open(i))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise CorruptFileError(from_path, f"cannot unpack archive ({type(e).__name__}: {e})") from e
    return to_path
