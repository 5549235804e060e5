"""``torch.hub``'s weight cache: where downloaded weight files live and how they are fetched and loaded.

A file is fetched into ``<hub dir>/checkpoints`` once and read from there afterwards, so a file placed there by
hand (torchvision's ``resnet18-f37072fd.pth``, copied from a machine with a network) is used without one.
Downloads arrive whole or not at all (a temporary file beside the target, renamed when complete and, with
``check_hash``, when its SHA-256 starts with the hex digits in its name). Loading goes through the engine's
safe loader, so the default here is ``weights_only=True``, where PyTorch's is ``False``. Running code from a
repository (``hub.load`` of a ``hubconf.py``) is deliberately not offered.
"""

import os
import re
import sys
import urllib.parse

from .serialization import load
from .utils.download import fetch, file_digest
from .utils.files import temporary_file_beside

__all__ = ["download_url_to_file", "get_dir", "load_state_dict_from_url", "set_dir"]

# The SHA-256 prefix torchvision puts in its file names: resnet18-f37072fd.pth
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
DOWNLOAD_TIMEOUT = 60  # seconds without data before a download is abandoned

_hub_dir = None


def get_dir():
    """The hub cache folder: the one ``set_dir`` chose, else ``$TORCH_HOME/hub``, where ``$TORCH_HOME``
    defaults to ``$XDG_CACHE_HOME/torch`` and that to ``~/.cache/torch``, as in PyTorch."""
    if _hub_dir is not None:
        return _hub_dir
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return os.path.join(os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch"))), "hub")


def set_dir(d):
    """Use the folder ``d`` as the hub cache from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` to the file ``dst``; with ``hash_prefix``, keep it only if its SHA-256 starts so."""
    dst = os.path.expanduser(os.fspath(dst))
    with temporary_file_beside(dst) as tmp:
        fetch(url, tmp, progress, DOWNLOAD_TIMEOUT)
        if hash_prefix is not None:
            digest = file_digest(tmp, "sha256")
            if not digest.startswith(hash_prefix):
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        os.replace(tmp, dst)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=True):
    """The object saved in the file at ``url``, downloaded into ``model_dir`` (default
    ``<get_dir()>/checkpoints``) unless a file of that name is already there."""
    model_dir = os.path.join(get_dir(), "checkpoints") if model_dir is None else os.path.expanduser(model_dir)
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        match = HASH_REGEX.search(filename) if check_hash else None
        download_url_to_file(url, cached_file, match.group(1) if match else None, progress=progress)
    return load(cached_file, map_location=map_location, weights_only=weights_only)
