"""Finding, downloading, verifying and unpacking dataset files, with torchvision's helper names.

Everything that lands in a dataset folder arrives whole or not at all: a download goes to a hidden
temporary file beside its target, is checked (length, MD5) and only then renamed into place; an archive
is unpacked into a temporary folder, checked member by member (no absolute paths, no ``..``, no links or
devices) and the result renamed into place. Interrupted or failed work leaves nothing half-written.
"""

import gzip
import os
import shutil
import tarfile
import tempfile

from ...utils.download import CHUNK, fetch, file_digest
from ...utils.files import FileError, temporary_file_beside

__all__ = [
    "CorruptFileError",
    "DatasetNotFoundError",
    "calculate_md5",
    "check_integrity",
    "check_md5",
    "dataset_not_found",
    "default_root",
    "download_and_extract_archive",
    "download_url",
    "extract_archive",
    "replace_dir",
    "unpack_folder",
]

ENV_VAR = "LAYERLAB_DATA"
DEFAULT_DATA_DIR = os.path.join("~", ".cache", "layerlab", "data")


class DatasetNotFoundError(RuntimeError):
    """A dataset's files are not where they were looked for and could not be downloaded."""


class CorruptFileError(FileError, RuntimeError):
    """A dataset file exists but is truncated, malformed or unsafe to read; ``path`` names it."""


def default_root():
    """The default data directory: ``$LAYERLAB_DATA`` if set, else ``~/.cache/layerlab/data``."""
    return os.path.expanduser(os.environ.get(ENV_VAR) or DEFAULT_DATA_DIR)


def resolve_root(root):
    """``root`` with ``~`` expanded, or the default data directory when ``root`` is None."""
    if root is None:
        return default_root()
    return os.path.expanduser(os.fspath(root))


def dataset_not_found(name, missing, looked_in, urls, manual, cause=None):
    """The error for a dataset whose files are missing: what, where it looked, whence, how to fix it."""
    lines = [f"Dataset {name} not found."]
    lines.append("Missing: " + ", ".join(missing))
    lines.append("Looked in:")
    lines.extend(f"  {os.path.abspath(p)}" for p in looked_in)
    if cause is not None:
        lines.append("Download failed:")
        lines.extend(f"  {u}" for u in urls)
        lines.append(f"  error: {cause}")
    else:
        lines.append("It can be downloaded with download=True from:")
        lines.extend(f"  {u}" for u in urls)
    lines.append("To install it by hand: " + manual)
    lines.append(f"(The default data directory is {default_root()}; set {ENV_VAR} or pass root= to change it.)")
    return DatasetNotFoundError("\n".join(lines))


def calculate_md5(fpath, chunk_size=CHUNK):
    return file_digest(fpath, "md5", chunk_size)


def check_md5(fpath, md5, **kwargs):
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """Whether ``fpath`` is a file and, when ``md5`` is given, has that MD5 sum."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3, *, progress=True, timeout=60):
    """Download ``url`` to ``root/filename``, verify it, and return its path.

    A file already in place (with the right MD5 when ``md5`` is given) is kept, as torchvision does. The bytes
    go to a temporary file first; a short transfer or an MD5 mismatch raises and leaves ``root`` as it was.
    ``progress`` is True for a console bar, False for none, or a callable ``progress(received, total)`` (total
    None when unknown), which may raise to abandon the download (a GUI's Cancel).
    Redirects are followed by urllib (``max_redirect_hops`` is accepted for torchvision compatibility).
    """
    del max_redirect_hops
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        print(f"Using downloaded and verified file: {fpath}")
        return fpath
    print(f"Downloading {url} to {fpath}")
    with temporary_file_beside(fpath) as tmp:
        fetch(url, tmp, progress, timeout)
        if md5 is not None:
            actual = calculate_md5(tmp)
            if actual != md5:
                raise CorruptFileError(fpath, f"MD5 mismatch for the download from {url}: expected {md5}, "
                                              f"got {actual}; the file was not kept")
        os.replace(tmp, fpath)
    return fpath


def _check_member(member, archive):
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise CorruptFileError(archive, f"unsafe path in archive: {name!r}")
    if not (member.isfile() or member.isdir()):
        raise CorruptFileError(archive, f"archive member {name!r} is a link or special file; refusing to extract")


def write_member(to_path, name, is_dir, open_member):
    """One checked archive member ``name`` unpacked under ``to_path``: a folder, or the bytes of the file object
    that ``open_member()`` gives."""
    target = os.path.join(to_path, *name.replace("\\", "/").split("/"))
    if is_dir:
        os.makedirs(target, exist_ok=True)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open_member() as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)


def _extract_tar(from_path, to_path):
    try:
        with tarfile.open(from_path, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, from_path)
            for member in members:
                write_member(to_path, member.name, member.isdir(), lambda m=member: tar.extractfile(m))
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as e:
        if isinstance(e, CorruptFileError):
            raise
        raise CorruptFileError(from_path, f"cannot unpack archive ({type(e).__name__}: {e})") from e


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Unpack a tar archive (any compression) or a single ``.gz`` file safely into ``to_path``.

    Members with absolute paths, ``..`` components, links or device nodes are refused before anything is
    written. Returns ``to_path``.
    """
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    os.makedirs(to_path, exist_ok=True)
    if tarfile.is_tarfile(from_path):
        _extract_tar(from_path, to_path)
    elif from_path.endswith(".gz"):
        target = os.path.join(to_path, os.path.basename(from_path)[:-3])
        with temporary_file_beside(target) as tmp:
            try:
                with gzip.open(from_path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
            except (OSError, EOFError) as e:
                raise CorruptFileError(from_path, f"cannot decompress ({e})") from e
            os.replace(tmp, target)
    else:
        raise CorruptFileError(from_path, "not a tar or gzip archive")
    if remove_finished:
        os.remove(from_path)
    return to_path


def replace_dir(src, dst):
    """Move the folder ``src`` to ``dst`` by renames, replacing whatever ``dst`` was."""
    if not os.path.exists(dst):
        os.rename(src, dst)
        return
    parent, name = os.path.split(os.path.abspath(dst))
    old = tempfile.mkdtemp(prefix=f".{name}.old.", dir=parent)
    os.rmdir(old)
    os.rename(dst, old)
    try:
        os.rename(src, dst)
    except OSError:
        os.rename(old, dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False, *, progress=True, timeout=60):
    """``download_url`` then ``extract_archive`` (torchvision's helper of the same name)."""
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else os.fspath(extract_root)
    archive = download_url(url, download_root, filename, md5, progress=progress, timeout=timeout)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)
    return archive


def missing_files(folder, names):
    """The ``names`` that are not files in ``folder``; one that is there but is no regular file (a folder, a device,
    a FIFO) raises ``CorruptFileError``, not missing: downloading again would not help."""
    missing = []
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            if os.path.lexists(path):
                raise CorruptFileError(path, "cannot read it: it is not a regular file (a folder, device or FIFO)")
            missing.append(name)
    return missing


def unpack_folder(archive, root, base_folder, required):
    """Unpack ``archive`` beside it and move its ``base_folder`` to ``root/base_folder``; an archive that lacks
    any file named in ``required`` is refused and nothing half-unpacked stays."""
    tmp = tempfile.mkdtemp(prefix=f".{base_folder}.", suffix=".tmp", dir=root)
    try:
        print(f"Extracting {archive} to {root}")
        extract_archive(archive, tmp)
        unpacked = os.path.join(tmp, base_folder)
        lacking = [n for n in required if not os.path.isfile(os.path.join(unpacked, n))]
        if lacking:
            raise CorruptFileError(archive, f"the archive lacks {base_folder}/" + ", ".join(lacking))
        replace_dir(unpacked, os.path.join(root, base_folder))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
