"""``DatasetFolder`` and ``ImageFolder``: one sub-folder per class, as in torchvision."""

import os
import threading

from ...utils.files import FileError
from ..image_file import open_image
from .utils import CorruptFileError
from .vision import VisionDataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether ``filename`` ends with one of ``extensions`` (a string or tuple, compared in lower case)."""
    exts = extensions if isinstance(extensions, str) else tuple(extensions)
    return filename.lower().endswith(exts)


def is_image_file(filename):
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """The sorted class folder names of ``directory`` and their indices."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Couldn't find the dataset folder {os.path.abspath(directory)}: "
                                "it does not exist or is not a folder.")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None, allow_empty=False):
    """The ``(path, class_index)`` pairs under ``directory``'s class folders, sorted, as torchvision makes them."""
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)

    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)

    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))} in {directory}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


def pil_loader(path):
    """The image at ``path`` as an RGB PIL image, fully read within ``engine.vision.image_file``'s budgets;
    ``CorruptFileError`` naming ``path`` when it cannot be."""
    return open_image(path, "RGB", error=CorruptFileError)


def default_loader(path):
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """Samples arranged as ``root/<class>/**/<file>``; ``loader`` turns a path into a sample.

    ``on_bad_sample`` (keyword only; not in torchvision) says what a sample whose file the loader refuses
    with a ``FileError`` (``pil_loader``'s ``CorruptFileError``) does: ``"error"`` (the default, torchvision's
    behaviour) raises it; ``"skip"`` leaves it out of batches: ``__getitems__`` returns the batch's good
    samples only (the batch is smaller) and records the bad file in ``skipped_paths`` (``skipped`` counts
    them), and a recorded file is not read again. ``__getitem__`` raises the error in both modes: a single
    item cannot be skipped. A batch with no good sample left raises ``CorruptFileError``.
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False, *, on_bad_sample="error"):
        if on_bad_sample not in ("error", "skip"):
            raise ValueError(f"on_bad_sample must be 'error' or 'skip', not {on_bad_sample!r}")
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]
        self.on_bad_sample = on_bad_sample
        self.skipped_paths = []
        self._skipped_set = set()
        self._skip_lock = threading.Lock()  # DataLoader workers are threads sharing the dataset

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory):
        return find_classes(directory)

    @property
    def skipped(self):
        """How many bad samples ``__getitems__`` has skipped (each file counted once)."""
        return len(self.skipped_paths)

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._transformed(self.loader(path), target)

    def __getitems__(self, indices):
        """The samples at ``indices``; with ``on_bad_sample="skip"``, the good ones only (see the class)."""
        if self.on_bad_sample == "error":
            return [self[i] for i in indices]
        items, first_bad = [], None
        for i in indices:
            path = self.samples[i][0]
            if path in self._skipped_set:
                first_bad = first_bad or CorruptFileError(path, "skipped before: the file cannot be read")
                continue
            try:
                items.append(self[i])
            except FileError as e:
                first_bad = first_bad or e
                self._record_skipped(path)
        if indices and not items:
            raise CorruptFileError(first_bad.path, f"{first_bad.problem} (no sample of this batch of {len(indices)} "
                                                   "could be read, so none is left to skip to)")
        return items

    def _record_skipped(self, path):
        with self._skip_lock:
            if path not in self._skipped_set:
                self._skipped_set.add(path)
                self.skipped_paths.append(path)

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images arranged as ``root/<class>/<image>``; classes are the sorted folder names, images load as RGB.

    ``samples`` lists ``(path, class_index)``, ``targets`` the class indices, ``imgs`` is ``samples``.
    A missing folder, a folder without class sub-folders or a class without images (unless
    ``allow_empty``) raises ``FileNotFoundError``; an image that cannot be decoded raises
    ``CorruptFileError`` naming the file (or is skipped and counted: ``on_bad_sample``, see ``DatasetFolder``).
    """

    def __init__(self, root, transform=None, target_transform=None, loader=None, is_valid_file=None,
                 allow_empty=False, *, on_bad_sample="error"):
        super().__init__(root, loader if loader is not None else default_loader,
                         IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty, on_bad_sample=on_bad_sample)
        self.imgs = self.samples
