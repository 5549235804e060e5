"""PyTorch's legacy checkpoint format (``torch.save`` before PyTorch 1.6, or with
``_use_new_zipfile_serialization=False``), read with ``weights_only=True`` semantics whatever ``load`` is given.

The file is five pickles in a row (a magic number, the protocol version 1001, system information with the byte
order, the saved object, the list of storage keys), then each storage in the keys' order as an 8-byte element
count and its raw bytes. The object's pickle refers to storages (``('storage', type, key, location, numel,
view)``) that come after it, so it is read twice by the restricted unpickler: first to learn each storage's
dtype and size while rebuilding nothing, then, once every storage's place is found and checked against the
file's size, for real."""

import contextlib
import struct

import numpy as np

from .serialization_torch import MAX_PICKLE_BYTES, Rebuilder, Refused, guarded
from .serialization_unpickler import RestrictedUnpickler

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def is_legacy(head):
    """Whether a file starting with ``head`` looks like a legacy checkpoint (PROTO 2, then the magic LONG1)."""
    return head[:3] == b"\x80\x02\x8a"


def _skip(*args):
    """What the rebuild functions are on the first reading: nothing is rebuilt."""


def _no_global(full):
    raise Refused(f"a header pickle names the global {full}")


def _no_storage(pid):
    raise Refused("a header pickle refers to a storage")


def load_legacy(fh, name, size, placer):
    """The object saved in the legacy checkpoint ``fh`` (positioned at its start, ``size`` bytes long)."""
    def run():
        start = fh.tell()
        data = fh.read(min(size, MAX_PICKLE_BYTES))
        header = []
        pos = 0
        for _ in range(3):
            u = RestrictedUnpickler(data, _no_global, _no_storage, pos)
            header.append(u.load())
            pos = u.pos
        magic, protocol, info = header
        if magic != MAGIC_NUMBER or protocol != PROTOCOL_VERSION or type(info) is not dict:
            raise Refused("not a PyTorch legacy checkpoint (wrong magic number or protocol version)")
        little = info.get("little_endian", True)
        if type(little) is not bool:
            raise Refused("the system information's byte order is not a bool")
        places = {}
        rebuilder = Rebuilder(lambda key, nbytes, what: _storage_at(fh, places, key, nbytes, what), placer, little)
        refs = {}
        scout = RestrictedUnpickler(data, lambda full: _scouted(rebuilder, full),
                                    lambda pid: refs.setdefault(_reference(rebuilder, pid)[1], pid), pos)
        scout.load()
        keys_pickle = RestrictedUnpickler(data, _no_global, _no_storage, scout.pos)
        keys = keys_pickle.load()
        if type(keys) is not list or sorted(keys) != sorted(refs):
            raise Refused("the list of storage keys does not match the storages the object refers to")
        offset = start + keys_pickle.pos
        for key in keys:
            dtype, _, _, numel, _ = _reference(rebuilder, refs[key])
            fh.seek(offset)
            head = fh.read(8)
            if len(head) != 8 or struct.unpack("<q" if little else ">q", head)[0] != numel:
                raise Refused(f"storage {key!r} does not start where expected (truncated or corrupted)")
            nbytes = numel * np.dtype(dtype).itemsize
            places[key] = (offset + 8, nbytes)
            offset += 8 + nbytes
            if offset > start + size:
                raise Refused(f"storage {key!r} reaches past the end of the file (truncated)")
        return RestrictedUnpickler(data, rebuilder.resolve, lambda pid: rebuilder.persistent_load(
            _reference(rebuilder, pid)[4]), pos).load()

    return guarded(name, run)


def _scouted(rebuilder, full):
    obj = rebuilder.resolve(full)
    return _skip if full.startswith(("torch._utils._rebuild", "torch._tensor._rebuild")) else obj


def _reference(rebuilder, pid):
    """``(dtype, key, location, numel, the zip format's 5-tuple)`` of a legacy storage reference."""
    if type(pid) is not tuple or len(pid) != 6 or pid[5] is not None:
        raise Refused(f"persistent id {pid!r:.80} is not a storage reference (storage views, of PyTorch < 0.4, "
                       "are not supported)")
    return (*rebuilder.reference(pid[:5]), pid[:5])


def _storage_at(fh, places, key, nbytes, what):
    place = places.get(key)
    if place is None or place[1] != nbytes:
        raise Refused(f"storage {key!r} is not where the file's storage list puts it, or not {what}")
    fh.seek(place[0])
    return contextlib.nullcontext(fh)

