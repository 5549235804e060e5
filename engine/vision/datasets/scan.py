"""Finding the files of a folder dataset that cannot be read, before a run needs them.

Each file is opened with the dataset's own loader (``pil_loader``: fully decoded within
``engine.vision.image_file``'s byte and pixel budgets), so a truncated file is caught, which ``Image.verify``
misses, and a huge or hostile one is refused from its size or header without being decoded.
"""

import os
from dataclasses import dataclass

from ...utils.files import FileError

LISTED = 20  # unreadable files an error message names; the others are counted


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    reason: str


class UnreadableFilesError(FileError):
    """Files of an image folder that cannot be read, found before training: ``path`` is the folder, ``files``
    the ``UnreadableFile`` list; the message names each (up to ``LISTED``) and why."""

    def __init__(self, folder, files, total):
        self.files = list(files)
        lines = [f"  {os.path.relpath(f.path, folder)}: {f.reason}" for f in self.files[:LISTED]]
        if len(self.files) > LISTED:
            lines.append(f"  … and {len(self.files) - LISTED:,} more")
        super().__init__(folder, f"{len(self.files):,} of its {total:,} images cannot be read; fix or remove them, "
                                 "or turn on skip_bad_samples to train without them:\n" + "\n".join(lines))


def folder_datasets(*datasets):
    """The distinct folder datasets (with ``samples`` and ``loader``) under ``datasets`` (``Subset``s are
    unwrapped), in order; other datasets are left out."""
    found = []
    for dataset in datasets:
        while hasattr(dataset, "indices") and hasattr(dataset, "dataset"):
            dataset = dataset.dataset
        if hasattr(dataset, "samples") and hasattr(dataset, "loader") and \
                all(dataset.samples is not d.samples for d in found):
            found.append(dataset)
    return found


def common_root(folders):
    """The folder that holds the roots of the folder datasets ``folders`` (an image folder's train/ and test/)."""
    return os.path.commonpath([os.path.abspath(dataset.root) for dataset in folders])


def unreadable_files(dataset, progress=None, stop=None):
    """An ``UnreadableFile`` for each sample of a folder dataset that its loader refuses (a ``FileError``).

    ``progress(done, total)`` is called after each file; once ``stop()`` is true the scan ends early with
    what it has found so far (a window closing).
    """
    bad = []
    total = len(dataset.samples)
    for done, (path, _) in enumerate(dataset.samples, 1):
        if stop is not None and stop():
            break
        try:
            dataset.loader(path)
        except FileError as e:
            empty = os.path.isfile(path) and os.path.getsize(path) == 0  # PIL would say "not an image" of it
            bad.append(UnreadableFile(e.path, "the file is empty (0 bytes)" if empty else e.problem))
        if progress is not None:
            progress(done, total)
    return bad


def check_readable(*datasets):
    """Raise ``UnreadableFilesError`` naming every file of the folder datasets among ``datasets`` that cannot
    be read; datasets held in memory pass."""
    folders = folder_datasets(*datasets)
    bad = [f for dataset in folders for f in unreadable_files(dataset)]
    if bad:
        raise UnreadableFilesError(common_root(folders), bad, sum(len(dataset.samples) for dataset in folders))
