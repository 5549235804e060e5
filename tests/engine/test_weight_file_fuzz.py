"""Property-based fuzzing of every weight loader (issue 14): real files written by our own writers (a small
model's state_dict as safetensors, .npz and .llw, and a training checkpoint), mutated byte-wise and
structurally (ZIP directory fields, .npy headers, safetensors header fields, the engine manifest). Each case
must load or raise WeightFileError naming the file, within seconds; bombs are refused from their headers."""

import io
import json
import os
import struct
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.graph.export import load_weights
from engine.serialization import WeightFileError, load, save, save_safetensors
from engine.serialization_limits import SUPPORTED_DTYPES

EXAMPLES = int(os.environ.get("LAYERLAB_FUZZ_EXAMPLES", "200"))  # the campaign runs 1000 and more
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SECONDS = 5  # a case taking longer is a hang


def _model_files(folder):
    """``{kind: (file name, bytes)}`` written by our writers from a small model after one training step."""
    engine.manual_seed(0)
    model = engine.nn.Sequential(engine.nn.Linear(4, 3), engine.nn.BatchNorm1d(3), engine.nn.Linear(3, 2))
    opt = engine.optim.Adam(model.parameters(), lr=0.01)
    model(engine.randn(5, 4)).sum().backward()
    opt.step()
    sd = model.state_dict()
    arrays = {k: v.numpy() for k, v in sd.items()}
    out = {}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    out["npz"] = ("w.npz", buf.getvalue())
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    out["npz_deflated"] = ("w.npz", buf.getvalue())
    buf = io.BytesIO()
    save(sd, buf)
    out["llw"] = ("w.llw", buf.getvalue())
    buf = io.BytesIO()
    save({"model": sd, "optimizer": opt.state_dict(), "epoch": 1, "step_in_epoch": 3,
          "rng": {"seed": 0, "state": engine.arange(4)}, "history": [0.5, float("nan")]}, buf)
    out["checkpoint"] = ("checkpoint.llw", buf.getvalue())
    save_safetensors(sd, folder / "w.safetensors")
    out["safetensors"] = ("w.safetensors", (folder / "w.safetensors").read_bytes())
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def files(folder):
    return _model_files(folder)


def _loaders(name):
    if name == "checkpoint.llw":
        return [lambda p: load(p, map_location="cpu")]
    return [load_weights, lambda p: load(p, map_location="cpu")] if name.endswith(".llw") else [load_weights]


def _check(folder, name, data):
    """Load ``data`` saved as ``name``: it loads, or raises WeightFileError naming the file, in time."""
    path = folder / name
    path.write_bytes(data)
    for loader in _loaders(name):
        start = time.perf_counter()
        try:
            out = loader(path)
        except WeightFileError as e:
            assert str(path) in str(e)
            out = None
        assert time.perf_counter() - start < SECONDS
        if name != "checkpoint.llw" and out is not None:
            assert all(isinstance(v, engine.Tensor) and v.dtype.name in SUPPORTED_DTYPES for v in out.values())
    return path


# ----- byte mutations -----
_op = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("overwrite"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 64)),
    st.tuples(st.just("splice"), st.integers(0, 1 << 20), st.integers(1, 256), st.integers(0, 1 << 20)),
)


def _mutate(data, ops):
    data = bytearray(data)
    for op in ops:
        n = max(len(data), 1)
        kind, at = op[0], op[1] % n
        if kind == "flip" and data:
            data[at] ^= 1 << op[2]
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = op[2]
        elif kind == "overwrite":
            data[at:at + len(op[2])] = op[2]
        elif kind == "delete":
            del data[at:at + op[2]]
        elif kind == "splice":
            data[op[3] % n:op[3] % n] = data[at:at + op[2]]
    return bytes(data)


@pytest.mark.parametrize("kind", ["safetensors", "npz", "npz_deflated", "llw", "checkpoint"])
@FUZZ
@given(ops=st.lists(_op, min_size=1, max_size=4))
def test_byte_mutations_load_or_raise_weight_file_error(folder, files, kind, ops):
    name, data = files[kind]
    _check(folder, name, _mutate(data, ops))


# ----- ZIP directory fields (the .npz and engine files) -----
# field -> (offset in the central directory entry, offset in the local header or None, struct format)
_ZIP_FIELDS = {"flags": (8, 6, "<H"), "method": (10, 8, "<H"), "crc": (16, 14, "<I"), "compressed": (20, 18, "<I"),
               "size": (24, 22, "<I"), "name_length": (28, 26, "<H"), "offset": (42, None, "<I")}
_interesting = st.one_of(st.sampled_from([0, 1, 8, 12, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]), st.integers(0, 0xFFFFFFFF))


def _central_entries(data):
    entries, at = [], data.find(b"PK\x01\x02")
    while at >= 0:
        entries.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return entries


@pytest.mark.parametrize("kind", ["npz", "npz_deflated", "llw", "checkpoint"])
@FUZZ
@given(member=st.integers(0, 63), field=st.sampled_from(sorted(_ZIP_FIELDS)), value=_interesting,
       both=st.booleans())
def test_zip_directory_mutations(folder, files, kind, member, field, value, both):
    name, data = files[kind]
    data = bytearray(data)
    entries = _central_entries(data)
    central = entries[member % len(entries)]
    at, local_at, fmt = _ZIP_FIELDS[field]
    value &= (1 << (8 * struct.calcsize(fmt))) - 1
    struct.pack_into(fmt, data, central + at, value)
    if both and local_at is not None:
        local = struct.unpack_from("<I", data, central + 42)[0]
        if local + local_at + 4 <= len(data):
            struct.pack_into(fmt, data, local + local_at, value)
    _check(folder, name, bytes(data))


# ----- .npy headers inside an .npz -----
_descr = st.sampled_from(["<f4", ">f4", "<f8", ">f8", "<f2", "|b1", "|u1", "<i8", ">i4", "<u2", "<c8", "<f16",
                          "|O", "|V8", "<M8[s]", "<U3", "|S0", [("a", "<f4"), ("b", "<i4")], ("<f4", (2,))])
_dim = st.one_of(st.integers(0, 8), st.sampled_from([-1, 1 << 31, 1 << 40, 1 << 62, 1 << 64]))


def _npy_header(descr, shape, fortran):
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


@FUZZ
@given(member=st.integers(0, 63), descr=_descr, shape=st.lists(_dim, max_size=4).map(tuple),
       fortran=st.booleans(), keep=st.integers(0, 64), deflate=st.booleans())
def test_npy_header_mutations(folder, files, member, descr, shape, fortran, keep, deflate):
    with zipfile.ZipFile(io.BytesIO(files["npz"][1])) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    key = sorted(members)[member % len(members)]
    body = members[key]
    header_length = 10 + struct.unpack_from("<H", body, 8)[0]
    members[key] = _npy_header(descr, shape, fortran) + body[header_length:][:keep]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    _check(folder, "w.npz", buf.getvalue())


# ----- JSON headers: safetensors and the engine's manifest -----
_json_leaf = st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, -1, 4, 8, 1 << 32, 1 << 63, 1 << 64, 1 << 70]),
                       st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False),
                       st.sampled_from(["F32", "I64", "BF16", "float32", "data/0", "cpu", "tensor", "dict"]),
                       st.text(max_size=4))
_json_value = st.recursive(_json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c,
                                                                                           max_size=3), max_leaves=6)


def _slots(obj):
    """Every (container, key) of a parsed JSON value, in a fixed order."""
    out, stack = [], [obj]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        for k in keys:
            out.append((node, k))
            stack.append(node[k])
    return out


def _mutate_json(obj, picks, values, deletes):
    for pick, value, delete in zip(picks, values, deletes, strict=False):
        slots = _slots(obj)
        if not slots:
            return value
        node, key = slots[pick % len(slots)]
        if delete:
            del node[key]
        else:
            node[key] = value
    return obj


_json_edits = {"picks": st.lists(st.integers(0, 1 << 16), min_size=1, max_size=3),
               "values": st.lists(_json_value, min_size=1, max_size=3), "deletes": st.lists(st.booleans(), max_size=3)}


def _safetensors_parts(data):
    length = struct.unpack_from("<Q", data)[0]
    return json.loads(data[8:8 + length]), data[8 + length:]


def _library_accepts(path):
    from safetensors.numpy import load_file

    try:
        load_file(str(path))
    except Exception:  # whatever the library refuses, we must refuse too
        return False
    return True


@FUZZ
@given(**_json_edits, length_delta=st.sampled_from([0, 0, 0, -1, 1, 1 << 40]), duplicate=st.booleans())
def test_safetensors_header_mutations(folder, files, picks, values, deletes, length_delta, duplicate):
    header, data = _safetensors_parts(files["safetensors"][1])
    text = json.dumps(_mutate_json(header, picks, values, deletes)).encode()
    if duplicate and text.startswith(b'{"') and isinstance(header, dict) and header:
        first = json.dumps({next(iter(header)): header[next(iter(header))]})[1:-1].encode()
        text = b"{" + first + b"," + text[1:]
    raw = struct.pack("<Q", max(len(text) + length_delta, 0)) + text + data
    path = _check(folder, "w.safetensors", raw)
    if not _library_accepts(path):
        with pytest.raises(WeightFileError):
            load_weights(path)


@FUZZ
@given(ops=st.lists(_op, min_size=1, max_size=3))
def test_safetensors_refuses_whatever_the_library_refuses(folder, files, ops):
    path = _check(folder, "w.safetensors", _mutate(files["safetensors"][1], ops))
    if not _library_accepts(path):
        with pytest.raises(WeightFileError):
            load_weights(path)


@pytest.mark.parametrize("kind", ["llw", "checkpoint"])
@FUZZ
@given(**_json_edits)
def test_engine_manifest_mutations(folder, files, kind, picks, values, deletes):
    name, data = files[kind]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = _mutate_json(json.loads(members["manifest.json"]), picks, values, deletes)
    members["manifest.json"] = json.dumps(manifest).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, content in members.items():
            zf.writestr(member, content)
    _check(folder, name, buf.getvalue())


def test_the_unmutated_files_load(folder, files):
    for kind, (name, data) in files.items():
        path = folder / name
        path.write_bytes(data)
        out = load(path) if kind == "checkpoint" else load_weights(path)
        assert out, kind
