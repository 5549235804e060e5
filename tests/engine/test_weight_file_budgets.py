"""Weight-file loaders against hostile files: bombs and lying sizes are refused from headers without
allocating, odd dtypes are converted or named, and nothing but WeightFileError comes out."""

import io
import json
import os
import struct
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

import engine
from engine.graph.export import load_weights
from engine.serialization import WeightFileError, load, load_safetensors, save, save_safetensors
from engine.serialization_npz import load_npz

MiB = 1 << 20


def _npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def _npy_header(descr, shape, fortran=False):
    """The bytes of a version 1.0 .npy header claiming ``descr`` and ``shape``."""
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _patch_sizes(path, compressed=None, uncompressed=None):
    """Rewrite the sizes the ZIP's first member declares, in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        at = data.index(sig) + offset
        if compressed is not None:
            data[at:at + 4] = struct.pack("<I", compressed)
        if uncompressed is not None:
            data[at + 4:at + 8] = struct.pack("<I", uncompressed)
    path.write_bytes(bytes(data))


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _refused(fn, match):
    with pytest.raises(WeightFileError, match=match) as info:
        fn()
    return info.value


# ----- .npz -----
def test_npz_deflate_bomb_is_refused_from_its_directory(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("w.npy", "w") as dest:
        count = 20 * MiB // 4
        dest.write(_npy_header("<f4", (count,)))
        zero = bytes(MiB)
        for _ in range(20):
            dest.write(zero)
    assert path.stat().st_size < 100_000
    peak = _peak_bytes(lambda: _refused(lambda: load_weights(path), r"bomb\.npz: member 'w\.npy' inflates .* "
                                                                   r"refused as a decompression bomb"))
    assert peak < 4 * MiB


def test_npz_header_claiming_2_to_the_40_elements(tmp_path):
    path = _zip(tmp_path / "huge.npz", {"w.npy": _npy_header("<f4", (1 << 40,)) + bytes(16)})
    peak = _peak_bytes(lambda: _refused(lambda: load_weights(path), r"huge\.npz: array 'w' \(float32, shape "
                                                                    r"\(1099511627776,\)\) needs 4,398,046,511,104"))
    assert peak < 4 * MiB


def test_npz_header_with_overflowing_shape(tmp_path):
    path = _zip(tmp_path / "over.npz", {"w.npy": _npy_header("<f8", (1 << 62, 1 << 62, 0, 1 << 62))})
    _refused(lambda: load_weights(path), r"over\.npz: array 'w' has an invalid shape \(4611686018427387904, ")
    path = _zip(tmp_path / "neg.npz", {"w.npy": _npy_header("<f8", (-1,)) + bytes(8)})
    _refused(lambda: load_weights(path), r"neg\.npz: array 'w' has an invalid shape \(-1,\)")


def test_npz_member_declaring_more_than_the_file_holds(tmp_path):
    path = _zip(tmp_path / "lie.npz", {"w.npy": _npy(np.zeros(4, np.float32))})
    _patch_sizes(path, compressed=0xFFFFFFF0, uncompressed=0xFFFFFFF0)
    _refused(lambda: load_weights(path), r"lie\.npz: member 'w\.npy' claims 4,294,967,280 bytes beyond the end")
    path = _zip(tmp_path / "sizes.npz", {"w.npy": _npy(np.zeros(4, np.float32))})
    _patch_sizes(path, uncompressed=0xFFFFFFF0)
    _refused(lambda: load_weights(path), r"sizes\.npz: member 'w\.npy' has inconsistent sizes")


def test_npz_deflated_member_claiming_more_than_deflate_can_give(tmp_path):
    path = _zip(tmp_path / "claim.npz", {"w.npy": _npy(np.zeros(4, np.float32))}, zipfile.ZIP_DEFLATED)
    _patch_sizes(path, uncompressed=0xFFFFFFF0)
    _refused(lambda: load_weights(path), r"claim\.npz: member 'w\.npy' claims 4,294,967,280 bytes from \d+ "
                                         r"compressed bytes, more than deflate can produce")


def test_npz_overlapping_members_are_refused(tmp_path):
    """Two directory entries pointing at one member's data (the overlapping-file zip bomb)."""
    path = _zip(tmp_path / "overlap.npz", {"a.npy": _npy(np.zeros(64, np.float32))})
    data = path.read_bytes()
    cd = data.index(b"PK\x01\x02")
    eocd = data.index(b"PK\x05\x06")
    entry = data[cd:eocd]
    twin = entry.replace(b"a.npy", b"b.npy")
    end = bytearray(data[eocd:])
    struct.pack_into("<HHI", end, 8, 2, 2, 2 * len(entry))
    path.write_bytes(data[:cd] + entry + twin + bytes(end))
    _refused(lambda: load_weights(path), r"overlap\.npz: the archive's members claim .* more than the file's")


def test_npz_header_longer_than_numpy_allows(tmp_path):
    header = b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 30)
    path = _zip(tmp_path / "longhdr.npz", {"w.npy": header + bytes(32)})
    _refused(lambda: load_weights(path), r"longhdr\.npz: array 'w' has a header of 1,073,741,824 bytes")


@pytest.mark.parametrize("dtype", [">f4", ">i8", ">f2", ">i2", ">f8"])
def test_big_endian_npz_loads_in_native_order(dtype, tmp_path):
    values = np.arange(-3, 3).reshape(2, 3).astype(dtype)
    path = tmp_path / "be.npz"
    np.savez(path, w=values)
    out = load_weights(path)["w"]
    assert out.dtype.name == np.dtype(dtype).name
    np.testing.assert_array_equal(out.numpy(), values.astype(np.dtype(dtype).newbyteorder("=")))


def test_fortran_order_npz_loads(tmp_path):
    values = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    path = tmp_path / "f.npz"
    np.savez_compressed(path, w=values)
    np.testing.assert_array_equal(load_weights(path)["w"].numpy(), values)


@pytest.mark.parametrize("array", [
    np.zeros(2, np.longdouble), np.zeros(2, np.complex64), np.zeros(2, "datetime64[s]"),
    np.zeros(2, [("a", "<f4"), ("b", "<i4")]), np.zeros(2, np.uint16), np.zeros(2, "S3"),
    np.zeros(2, ">c16"),
], ids=["float128", "complex64", "datetime", "structured", "uint16", "bytes", "bigendian-complex"])
def test_unsupported_npz_dtypes_name_the_array(array, tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, odd=array)
    _refused(lambda: load_weights(path), r"odd\.npz: array 'odd' has dtype .*, which the engine does not support")


def test_npz_bool_values_other_than_0_and_1(tmp_path):
    raw = bytearray(_npy(np.array([True, False])))
    raw[-1] = 7
    path = _zip(tmp_path / "b.npz", {"m.npy": bytes(raw)})
    _refused(lambda: load_weights(path), r"b\.npz: array 'm' holds bool values other than 0/1")


def test_npz_members_must_be_npy_arrays(tmp_path):
    path = _zip(tmp_path / "extra.npz", {"w.npy": _npy(np.zeros(2, np.float32)), "README": b"hello"})
    _refused(lambda: load_weights(path), r"extra\.npz: member 'README' is not an \.npy array")


def test_npz_crc_is_checked(tmp_path):
    path = tmp_path / "crc.npz"
    np.savez(path, w=np.arange(16, dtype=np.float32))
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x01\x02") - 5] ^= 0xFF  # a byte of the array's data
    path.write_bytes(bytes(data))
    _refused(lambda: load_npz(path), r"crc\.npz: the file is damaged")


# ----- safetensors -----
def _safetensors(path, header, data=b""):
    raw = json.dumps(header).encode() if isinstance(header, dict) else header
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_safetensors_duplicate_key_is_refused(tmp_path):
    entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    path = _safetensors(tmp_path / "dup.safetensors", f'{{"w":{entry},"w":{entry}}}'.encode(), bytes(4))
    _refused(lambda: load_safetensors(path), r"dup\.safetensors: .*the header holds the key 'w' twice")


def test_safetensors_header_over_the_format_limit(tmp_path):
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", 100_000_001) + b"{}")
    peak = _peak_bytes(lambda: _refused(lambda: load_safetensors(path), r"big\.safetensors: .*over the format's "
                                                                        r"limit"))
    assert peak < MiB
    path.write_bytes(struct.pack("<Q", 1 << 63) + b"{}")
    _refused(lambda: load_safetensors(path), r"big\.safetensors")
    path.write_bytes(struct.pack("<Q", 5000) + b"{}")
    _refused(lambda: load_safetensors(path), r"big\.safetensors: .*the file holds 2 after its length")


@pytest.mark.parametrize("offsets, problem", [
    ([[0, 8], [4, 12]], r"starts at byte 4 of the data, expected 8"),
    ([[0, 8], [12, 20]], r"starts at byte 12 of the data, expected 8"),
    ([[0, 8], [8, 16]], r"the tensors cover 16 bytes but the file holds 20"),
])
def test_safetensors_offsets_must_tile_the_data(offsets, problem, tmp_path):
    header = {k: {"dtype": "F32", "shape": [2], "data_offsets": o} for k, o in zip("ab", offsets, strict=True)}
    path = _safetensors(tmp_path / "tile.safetensors", header, bytes(20))
    _refused(lambda: load_safetensors(path), r"tile\.safetensors: .*" + problem)


def test_safetensors_huge_shape_is_refused_before_allocating(tmp_path):
    header = {"w": {"dtype": "F64", "shape": [1 << 20, 1 << 20], "data_offsets": [0, 8 << 40]}}
    path = _safetensors(tmp_path / "huge.safetensors", header, bytes(8))
    peak = _peak_bytes(lambda: _refused(lambda: load_safetensors(path), r"huge\.safetensors: .*the tensors "
                                                                        r"cover 8,796,093,022,208 bytes"))
    assert peak < MiB


def test_safetensors_shape_numpy_cannot_allocate_even_when_empty(tmp_path):
    header = {"w": {"dtype": "F32", "shape": [0, 1 << 62, 1 << 62], "data_offsets": [0, 0]}}
    path = _safetensors(tmp_path / "empty.safetensors", header)
    _refused(lambda: load_safetensors(path), r"empty\.safetensors: .*tensor 'w' has an invalid shape")


@pytest.mark.parametrize("dtype", ["F8_E5M2", "F8_E4M3", "U16", "C64", "whatever"])
def test_safetensors_unsupported_dtype_names_the_tensor(dtype, tmp_path):
    path = _safetensors(tmp_path / "odd.safetensors", {"w": {"dtype": dtype, "shape": [1], "data_offsets": [0, 2]}},
                        bytes(2))
    _refused(lambda: load_safetensors(path), rf"odd\.safetensors: .*tensor 'w' has dtype {dtype}, which the engine")


def test_safetensors_roundtrip_keeps_metadata_out_and_sorts_names(tmp_path):
    path = tmp_path / "m.safetensors"
    save_safetensors({"b": engine.arange(3), "a": engine.ones(2, 2)}, path, metadata={"k": "v"})
    out = load_safetensors(path)
    assert list(out) == ["a", "b"]
    np.testing.assert_array_equal(out["b"].numpy(), [0, 1, 2])


# ----- engine.load -----
def test_engine_member_declaring_more_than_the_file_holds(tmp_path):
    path = tmp_path / "lie.llw"
    save({"w": engine.zeros(4)}, path)
    data = bytearray(path.read_bytes())
    member = data.rindex(b"PK\x01\x02")  # the last member: data/0
    data[member + 20:member + 28] = struct.pack("<II", 0xFFFFFFF0, 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    peak = _peak_bytes(lambda: _refused(lambda: load(path), r"lie\.llw: member 'data/0' claims 4,294,967,280 bytes "
                                                            r"beyond the end of the file"))
    assert peak < MiB


def test_engine_shape_numpy_cannot_allocate_even_when_empty(tmp_path):
    path = tmp_path / "empty.llw"
    save({"w": engine.zeros(0)}, path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members["manifest.json"])
    manifest["blobs"][0]["shape"] = [0, 1 << 62, 1 << 62]
    members["manifest.json"] = json.dumps(manifest).encode()
    _zip(path, members)
    _refused(lambda: load(path), r"empty\.llw: blob 0 has an invalid shape")


def test_engine_load_of_a_stream_is_bounded(tmp_path):
    class Stream(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, b):
            return 0

    with pytest.raises(WeightFileError, match="the file is empty"):
        load(Stream())


# ----- not regular files -----
@pytest.mark.parametrize("loader, suffix", [(load_weights, ".npz"), (load_weights, ".safetensors"),
                                            (load_weights, ".llw"), (load, ".pt"), (load_safetensors, ".st"),
                                            (load_npz, ".npz")])
def test_folders_fifos_and_devices_are_refused_without_blocking(loader, suffix, tmp_path):
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    _refused(lambda: loader(folder), r"folder.*it is a folder")
    fifo = tmp_path / f"fifo{suffix}"
    os.mkfifo(fifo)
    done = []

    def read_fifo():
        try:
            loader(fifo)
        except WeightFileError as e:
            done.append(e)

    worker = threading.Thread(target=read_fifo, daemon=True)
    worker.start()
    worker.join(5)
    assert done, "reading a FIFO blocked or did not raise WeightFileError"
    assert "not a regular file" in str(done[0])
    zero = tmp_path / f"zero{suffix}"
    os.symlink("/dev/zero", zero)
    _refused(lambda: loader(zero), r"not a regular file")


def test_missing_files_raise_file_not_found(tmp_path):
    for loader in (load, load_safetensors, load_npz, load_weights):
        with pytest.raises(FileNotFoundError, match=r"absent\.npz"):
            loader(tmp_path / "absent.npz")


def test_crc_of_engine_member_still_checked(tmp_path):
    path = tmp_path / "c.llw"
    save({"w": engine.arange(16).float()}, path)
    data = bytearray(path.read_bytes())
    at = data.index(b"data/0") + len(b"data/0") + 3  # inside the first member's data
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    _refused(lambda: load(path), r"c\.llw")
