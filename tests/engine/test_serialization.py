"""engine.serialization: save/load (our pickle-free ZIP format) and the safetensors bridge."""

import collections
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import engine
from engine import backend
from engine.serialization import (
    WeightFileError,
    load,
    load_safetensors,
    save,
    save_safetensors,
)

ALL_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _array(dtype, shape=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def _t(arr):
    return engine.from_numpy(np.array(arr))


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **load_kwargs)


def _same_tensor(a, b):
    assert isinstance(b, engine.Tensor)
    assert type(b) is engine.Tensor
    assert a.dtype is b.dtype
    assert tuple(a.shape) == tuple(b.shape)
    assert a.device == b.device
    np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


def _assert_same(a, b):
    """Deep equality that also checks container types, key types and tensor dtypes/shapes."""
    assert type(a) is type(b) or (isinstance(a, engine.Tensor) and type(b) is engine.Tensor), (type(a), type(b))
    if isinstance(a, engine.Tensor):
        _same_tensor(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            assert type(ka) is type(kb)
            _assert_same(va, vb)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _model_file(tmp_path, name="ckpt.pt"):
    path = tmp_path / name
    obj = {"w": engine.randn(4, 5), "b": engine.arange(5), "flag": engine.tensor([True, False])}
    save(obj, path)
    return path, obj


# ----------------------------------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (), (0,), (3, 0, 2), (7,)])
def test_roundtrip_every_dtype_and_shape(dtype, shape):
    t = _t(_array(dtype, shape))
    out = _roundtrip(t)
    _same_tensor(t, out)
    assert out.numpy().flags.writeable and out.numpy().flags.c_contiguous


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_extreme_values_survive_bit_for_bit(dtype):
    if dtype.startswith("float"):
        arr = np.array([np.nan, np.inf, -np.inf, -0.0, np.finfo(dtype).max, np.finfo(dtype).tiny], dtype=dtype)
        out = _roundtrip(_t(arr))
        assert out.numpy().tobytes() == arr.tobytes()
    else:
        arr = np.array([True, False]) if dtype == "bool" else np.array([np.iinfo(dtype).min, np.iinfo(dtype).max])
        np.testing.assert_array_equal(_roundtrip(_t(arr)).numpy(), arr)


def test_non_contiguous_views_roundtrip():
    base = engine.arange(24, dtype=engine.float32).reshape(4, 6)
    views = {"t": base.t(), "step": base[:, ::2], "neg": _t(np.arange(10)[::-3]), "col": base[:, 1]}
    out = _roundtrip(views)
    for k, v in views.items():
        assert not v.is_contiguous() or k == "neg"
        _same_tensor(v, out[k])
        assert out[k].is_contiguous()


def test_state_dict_roundtrip_keeps_ordereddict_and_order():
    sd = collections.OrderedDict()
    for name in ["z.weight", "a.bias", "m.running_mean", "m.num_batches_tracked"]:
        sd[name] = engine.randn(3) if "num" not in name else engine.tensor(7)
    out = _roundtrip(sd)
    assert type(out) is collections.OrderedDict
    assert list(out) == list(sd)
    _assert_same(sd, out)
    assert out["m.num_batches_tracked"].shape == () and out["m.num_batches_tracked"].dtype is engine.int64


def test_optimizer_state_dict_roundtrip():
    state = {
        "state": {
            0: {"step": engine.tensor(10.0), "exp_avg": engine.randn(3, 2), "exp_avg_sq": engine.rand(3, 2)},
            1: {"step": engine.tensor(10.0), "momentum_buffer": None},
        },
        "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
             "foreach": None, "maximize": False, "params": [0, 1], "name": "group-ü"},
        ],
    }
    out = _roundtrip(state)
    _assert_same(state, out)
    assert list(out["state"]) == [0, 1] and all(type(k) is int for k in out["state"])
    assert type(out["param_groups"][0]["betas"]) is tuple
    assert out["state"][0]["step"].shape == ()


def test_python_scalars_and_nested_containers():
    obj = {
        "none": None, "t": True, "f": False, "i": -3, "big": 2**100, "pi": 3.141592653589793, "tiny": 5e-324,
        "nan": float("nan"), "inf": float("-inf"), "s": "line\nbreak \u2603 \udcff", "empty": "",
        "list": [1, [2, [3, (4, 5)]], []], "tuple": (), "nested": {"a": {"b": {"c": [engine.ones(2)]}}},
        1: "int key", -2: "neg", 2.5: "float key", None: "none key", (1, ("x", None)): "tuple key",
        "size": engine.Size([2, 3]), "dtype": engine.float16, "device": engine.device("cuda:1"),
        "np": np.arange(4, dtype=np.int16), "np_scalar": np.float32(1.5),
    }
    out = _roundtrip(obj)
    _assert_same(obj, out)
    keys = list(_roundtrip({True: "t", 0: "zero", "x": None}))
    assert keys == [True, 0, "x"] and [type(k) for k in keys] == [bool, int, str]
    assert out["pi"] == 3.141592653589793 and out["tiny"] == 5e-324
    assert isinstance(out["size"], engine.Size) and out["size"] == (2, 3)
    assert out["dtype"] is engine.float16 and out["device"] is engine.device("cuda", 1)
    assert isinstance(out["np_scalar"], np.float32) and out["np_scalar"] == 1.5
    assert isinstance(out["np"], np.ndarray) and out["np"].dtype == np.int16


def test_top_level_values_of_each_kind():
    for obj in [None, 5, 2.5, "x", [], {}, (), [engine.zeros(1)], (engine.zeros(1), 3)]:
        _assert_same(obj, _roundtrip(obj))


def test_requires_grad_kept():
    leaf = engine.randn(3, requires_grad=True)
    nonleaf = leaf * 2
    out = _roundtrip({"leaf": leaf, "nonleaf": nonleaf, "plain": engine.ones(1)})
    assert out["leaf"].requires_grad and out["leaf"].is_leaf
    assert out["nonleaf"].requires_grad and out["nonleaf"].is_leaf
    assert not out["plain"].requires_grad
    _same_tensor(nonleaf.detach(), out["nonleaf"].detach())


def test_parameter_comes_back_as_plain_tensor():
    parameter = pytest.importorskip("engine.nn.parameter")  # engine.nn may be mid-edit elsewhere
    p = parameter.Parameter(engine.randn(2, 2))
    out = _roundtrip({"p": p})
    assert type(out["p"]) is engine.Tensor and out["p"].requires_grad
    _same_tensor(p.detach(), out["p"].detach())


def test_same_tensor_twice_comes_back_as_one_object_and_shared_arrays_share_memory():
    w = engine.randn(3, 3)
    tied = w.detach()  # same array: saved once, comes back sharing memory
    out = _roundtrip({"a": w, "b": w, "c": tied, "lst": [w]})
    assert out["a"] is out["b"] is out["lst"][0]
    assert out["c"] is not out["a"]
    assert np.shares_memory(out["a"].numpy(), out["c"].numpy())
    buf = io.BytesIO()
    save({"a": w, "c": tied}, buf)
    buf.seek(0)
    assert [n for n in zipfile.ZipFile(buf).namelist() if n.startswith("data/")] == ["data/0"]


def test_views_of_one_tensor_are_saved_separately():
    base = engine.arange(6, dtype=engine.float32)
    view = base[2:4]
    out = _roundtrip([base, view])
    out[1].numpy()[0] = 100.0
    assert out[0].numpy()[2] == 2.0  # documented: no storage sharing between a view and its base


def test_saving_is_deterministic():
    obj = {"w": _t(_array("float32")), "step": 3}
    a, b = io.BytesIO(), io.BytesIO()
    save(obj, a)
    save(obj, b)
    assert a.getvalue() == b.getvalue()


def test_paths_str_and_pathlike(tmp_path):
    obj = {"w": engine.randn(2, 2)}
    save(obj, tmp_path / "a.pt")
    save(obj, str(tmp_path / "b.pt"))
    _assert_same(obj, load(tmp_path / "a.pt"))
    _assert_same(obj, load(str(tmp_path / "b.pt")))
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    save({"w": 1}, tmp_path / "a.pt")  # overwrite
    assert load(tmp_path / "a.pt") == {"w": 1}


def test_real_file_objects(tmp_path):
    path = tmp_path / "f.pt"
    obj = [engine.randn(3), {"k": 1}]
    with open(path, "wb") as fh:
        save(obj, fh)
    with open(path, "rb") as fh:
        _assert_same(obj, load(fh))


def test_file_object_at_an_offset_and_non_seekable():
    buf = io.BytesIO()
    buf.write(b"prefix-bytes")
    save({"a": engine.ones(2)}, buf)
    buf.seek(len(b"prefix-bytes"))
    _assert_same({"a": engine.ones(2)}, load(buf))

    class Stream(io.RawIOBase):
        def __init__(self, data):
            self._inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._inner.readinto(b)

    raw = io.BytesIO()
    save({"a": engine.ones(2)}, raw)
    _assert_same({"a": engine.ones(2)}, load(Stream(raw.getvalue())))


def test_weights_only_flag_is_accepted():
    obj = {"a": engine.ones(1)}
    _assert_same(obj, _roundtrip(obj, weights_only=False))
    _assert_same(obj, _roundtrip(obj, weights_only=True))


def test_load_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.pt"):
        load(tmp_path / "nope.pt")


# ----------------------------------------------------------------------------------------------------
# map_location
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loc", [None, "cpu", engine.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"}])
def test_map_location_variants_on_cpu(loc):
    obj = {"w": engine.randn(2, 3)}
    out = _roundtrip(obj, map_location=loc)
    assert out["w"].device == engine.device("cpu")
    _assert_same(obj, out)


def test_map_location_callable():
    seen = []

    def fn(t, location):
        seen.append(location)
        return t * 2

    out = _roundtrip({"w": engine.ones(2)}, map_location=fn)
    assert seen == ["cpu"]
    np.testing.assert_array_equal(out["w"].numpy(), [2.0, 2.0])
    out = _roundtrip({"w": engine.ones(2)}, map_location=lambda t, loc: None)
    np.testing.assert_array_equal(out["w"].numpy(), [1.0, 1.0])


def _no_cuda():
    return backend.cuda_device_count() == 0


@pytest.mark.skipif(not _no_cuda(), reason="checks the CPU-only error")
def test_map_location_cuda_without_cuda_is_a_clear_error():
    buf = io.BytesIO()
    save({"w": engine.ones(2)}, buf)
    for loc in ["cuda", "cuda:0", engine.device("cuda", 0), {"cpu": "cuda:0"}]:
        buf.seek(0)
        with pytest.raises(RuntimeError, match="CUDA is not available") as info:
            load(buf, map_location=loc)
        assert not isinstance(info.value, WeightFileError)


def test_device_recorded_and_restored_with_fake_cuda(fake_cuda):
    obj = {"g0": engine.randn(2, 2, device="cuda:0"), "g1": engine.arange(3, device="cuda:1"),
           "c": engine.ones(2)}
    buf = io.BytesIO()
    save(obj, buf)

    buf.seek(0)
    out = load(buf)
    assert out["g0"].device == engine.device("cuda:0")
    assert out["g1"].device == engine.device("cuda:1")
    assert out["c"].device == engine.device("cpu")
    _assert_same(obj, out)

    buf.seek(0)
    out = load(buf, map_location="cpu")
    assert {v.device for v in out.values()} == {engine.device("cpu")}
    for k in obj:
        np.testing.assert_array_equal(obj[k].cpu().numpy(), out[k].numpy())

    buf.seek(0)
    out = load(buf, map_location={"cuda:1": "cuda:0"})
    assert [out[k].device for k in ("g0", "g1", "c")] == [engine.device("cuda:0"), engine.device("cuda:0"),
                                                          engine.device("cpu")]
    buf.seek(0)
    out = load(buf, map_location="cuda:1")
    assert {v.device for v in out.values()} == {engine.device("cuda:1")}


def test_saved_on_cuda_loaded_without_cuda(fake_cuda):
    buf = io.BytesIO()
    save({"w": engine.ones(2, device="cuda:1")}, buf)
    backend.install_cuda_module(None)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        load(buf)
    buf.seek(0)
    out = load(buf, map_location="cpu")
    np.testing.assert_array_equal(out["w"].numpy(), [1.0, 1.0])


def test_saved_on_missing_cuda_ordinal(fake_cuda):
    buf = io.BytesIO()
    save({"w": engine.ones(2, device="cuda:1")}, buf)
    backend.install_cuda_module(type(fake_cuda)(device_count=1))
    buf.seek(0)
    with pytest.raises(RuntimeError, match="CUDA device 1"):
        load(buf)
    buf.seek(0)
    assert load(buf, map_location={"cuda:1": "cuda:0"})["w"].device == engine.device("cuda:0")


# ----------------------------------------------------------------------------------------------------
# Unsupported objects at save time
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("obj", "where"),
    [
        ({"opt": {"fn": lambda x: x}}, "obj['opt']['fn']"),
        ([1, 2, object()], "obj[2]"),
        ({"s": {1, 2}}, "obj['s']"),
        ({"b": b"bytes"}, "obj['b']"),
        ({"c": 1j}, "obj['c']"),
        ({"nt": collections.namedtuple("P", "x y")(1, 2)}, "obj['nt']"),
        ({frozenset(): 1}, "obj[frozenset()]"),
        ({"a": np.array(["x"])}, "obj['a']"),
        ({"a": np.arange(3, dtype=np.uint32)}, "obj['a']"),
    ],
)
def test_unsupported_objects_raise_type_error_naming_the_path(obj, where, tmp_path):
    with pytest.raises(TypeError) as info:
        save(obj, tmp_path / "x.pt")
    assert where in str(info.value)
    assert os.listdir(tmp_path) == []


def test_cycles_are_rejected():
    a = []
    a.append(a)
    with pytest.raises(ValueError, match="cycle"):
        save(a, io.BytesIO())
    d = {}
    d["self"] = {"again": d}
    with pytest.raises(ValueError, match=r"obj\['self'\]\['again'\]"):
        save(d, io.BytesIO())


def test_failed_save_to_file_object_writes_nothing():
    buf = io.BytesIO()
    with pytest.raises(TypeError):
        save({"w": engine.ones(2), "bad": print}, buf)
    assert buf.getvalue() == b""


# ----------------------------------------------------------------------------------------------------
# Atomicity
# ----------------------------------------------------------------------------------------------------
def test_failure_mid_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path, obj = _model_file(tmp_path)
    before = path.read_bytes()

    import engine.serialization as ser

    real = ser._write_member
    calls = []

    def failing(zf, name, chunks, size):
        calls.append(name)
        if len(calls) == 3:  # after the manifest and one blob have been written
            raise OSError("disk full (simulated)")
        return real(zf, name, chunks, size)

    monkeypatch.setattr(ser, "_write_member", failing)
    with pytest.raises(WeightFileError, match="cannot write the file: disk full"):
        save({"w": engine.zeros(100), "b": engine.zeros(100), "c": engine.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]
    _assert_same(obj, load(path))


def test_failure_at_fsync_or_rename_keeps_old_file(tmp_path, monkeypatch):
    path, _ = _model_file(tmp_path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("failed (simulated)")

    for target in ("fsync", "replace"):
        with monkeypatch.context() as m:

            m.setattr(os, target, boom)
            with pytest.raises(WeightFileError, match="simulated"):
                save({"new": engine.ones(1)}, path)
        assert path.read_bytes() == before
        assert os.listdir(tmp_path) == [path.name]


def test_keyboard_interrupt_mid_save_cleans_up(tmp_path, monkeypatch):
    path, _ = _model_file(tmp_path)
    before = path.read_bytes()
    import engine.serialization as ser

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(ser, "_write_zip", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"x": 1}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(WeightFileError, match=r"x\.pt: cannot write the file: its folder .* does not exist"):
        save({"a": 1}, tmp_path / "missing" / "x.pt")


def test_save_through_symlink_keeps_link(tmp_path):
    real = tmp_path / "real.pt"
    link = tmp_path / "link.pt"
    save({"v": 1}, real)
    link.symlink_to(real)
    save({"v": 2}, link)
    assert link.is_symlink()
    assert load(real) == {"v": 2}


def test_saved_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save({"a": 1}, tmp_path / "m.pt")
    finally:
        os.umask(old)
    assert (tmp_path / "m.pt").stat().st_mode & 0o777 == 0o644


# ----------------------------------------------------------------------------------------------------
# Damaged and foreign files
# ----------------------------------------------------------------------------------------------------
def _expect_error(path, *fragments):
    with pytest.raises(WeightFileError) as info:
        load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert info.value.path == str(path)
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


def test_truncated_at_many_offsets(tmp_path):
    path, _ = _model_file(tmp_path)
    data = path.read_bytes()
    offsets = sorted({0, 1, 4, 10, 30, 100, len(data) // 3, len(data) // 2, len(data) - 100, len(data) - 22,
                      len(data) - 1} | set(range(0, len(data), max(1, len(data) // 40))))
    for n in offsets:
        cut = tmp_path / f"cut{n}.pt"
        cut.write_bytes(data[:n])
        _expect_error(cut)


def _blob_offset(path, member):
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = path.read_bytes()
    name_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    return info.header_offset + 30 + name_len + extra_len, info.file_size


def _flip(path, offset, out):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    out.write_bytes(bytes(data))
    return out


def test_flipped_byte_in_tensor_blob(tmp_path):
    path, _ = _model_file(tmp_path)
    start, size = _blob_offset(path, "data/0")
    for k in (0, size // 2, size - 1):
        bad = _flip(path, start + k, tmp_path / f"flip{k}.pt")
        _expect_error(bad, "data/0")


def test_flipped_byte_in_blob_with_zip_crc_patched_is_caught_by_our_crc(tmp_path):
    # An attacker (or a tool) that rewrites the ZIP's CRC fields still cannot sneak a change past the manifest.
    path, _ = _model_file(tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = zf.read("manifest.json")
        members = {n: zf.read(n) for n in zf.namelist()}
    blob = bytearray(members["data/0"])
    blob[3] ^= 0xFF
    members["data/0"] = bytes(blob)
    bad = tmp_path / "patched.pt"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", manifest)
        for n, v in members.items():
            if n != "manifest.json":
                zf.writestr(n, v)
    _expect_error(bad, "data/0", "CRC32")


def test_flipped_byte_in_manifest(tmp_path):
    path, _ = _model_file(tmp_path)
    start, size = _blob_offset(path, "manifest.json")
    for k in (0, 15, size // 2, size - 1):
        _expect_error(_flip(path, start + k, tmp_path / f"m{k}.pt"))


def test_every_single_byte_flip_is_detected_or_harmless(tmp_path):
    path, obj = _model_file(tmp_path)
    data = path.read_bytes()
    for offset in range(len(data)):
        bad = _flip(path, offset, tmp_path / "f.pt")
        try:
            out = load(bad)
        except WeightFileError as e:
            assert str(bad) in str(e)
        else:  # a flip in a ZIP field nobody reads (timestamps, attributes): the data must be intact
            _assert_same(obj, out)
    assert data  # the loop ran


def _rewrite(path, out, edit_manifest=None, members=None):
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        blobs = {n: zf.read(n) for n in zf.namelist() if n != "manifest.json"}
    if edit_manifest:
        edit_manifest(manifest)
    if members:
        members(blobs)
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for n, v in blobs.items():
            zf.writestr(n, v)
    return out


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda m: m.update(format="something-else"), "format"),
        (lambda m: m.update(version=2), "newer"),
        (lambda m: m.update(version="1"), "version"),
        (lambda m: m.pop("root"), "keys"),
        (lambda m: m.update(extra=1), "keys"),
        (lambda m: m["blobs"][0].update(dtype="object"), "dtype"),
        (lambda m: m["blobs"][0].update(dtype="complex64"), "dtype"),
        (lambda m: m["blobs"][0].update(shape=[5, 5]), "bytes"),
        (lambda m: m["blobs"][0].update(shape=[-4, -5]), "shape"),
        (lambda m: m["blobs"][0].update(shape=[4.0, 5]), "shape"),
        (lambda m: m["blobs"][0].update(shape="4x5"), "shape"),
        (lambda m: m["blobs"][0].update(nbytes=10), "bytes"),
        (lambda m: m["blobs"][0].update(file="../../etc/passwd"), "file"),
        (lambda m: m["blobs"][0].update(crc32=-1), "crc32"),
        (lambda m: m["blobs"][0].update(device="tpu:0"), "device"),
        (lambda m: m["tensors"][0].update(blob=99), "blob"),
        (lambda m: m["tensors"][0].update(kind="module"), "kind"),
        (lambda m: m["tensors"][1].update(requires_grad=True), "requires grad"),
        (lambda m: m["root"].update(t="pickle"), "tag"),
        (lambda m: m["root"]["items"][0][1].update(i=42), "missing tensor"),
        (lambda m: m["root"]["items"][0].__setitem__(0, {"t": "list", "items": []}), "key"),
        (lambda m: m["root"]["items"].append(m["root"]["items"][0]), "twice"),
        (lambda m: m.update(root={"t": "float", "v": "not-a-float"}), "float"),
        (lambda m: m.update(root={"t": "int", "v": 1.5}), "int"),
        (lambda m: m.update(root={"t": "dtype", "v": "object"}), "dtype"),
    ],
)
def test_inconsistent_manifest_fields(tmp_path, edit, fragment):
    path, _ = _model_file(tmp_path)
    bad = _rewrite(path, tmp_path / "bad.pt", edit_manifest=edit)
    _expect_error(bad, fragment)


def test_member_problems(tmp_path):
    path, _ = _model_file(tmp_path)
    _expect_error(_rewrite(path, tmp_path / "a.pt", members=lambda b: b.pop("data/1")), "data/1")
    _expect_error(_rewrite(path, tmp_path / "b.pt", members=lambda b: b.update({"evil.py": b"x"})), "evil.py")
    _expect_error(_rewrite(path, tmp_path / "c.pt", members=lambda b: b.update({"data/0": b"\0" * 8})), "data/0")


def test_bool_blob_with_values_other_than_0_1(tmp_path):
    path, _ = _model_file(tmp_path)

    def corrupt(blobs):
        blobs["data/2"] = b"\x07\x01"

    def fix_crc(m):
        import zlib

        m["blobs"][2]["crc32"] = zlib.crc32(b"\x07\x01")

    _expect_error(_rewrite(path, tmp_path / "b.pt", edit_manifest=fix_crc, members=corrupt), "bool")


def test_compressed_member_is_rejected(tmp_path):
    path, _ = _model_file(tmp_path)
    bad = tmp_path / "deflated.pt"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for n in src.namelist():
            dst.writestr(n, src.read(n))
    _expect_error(bad, "compressed")


def test_manifest_that_is_not_json_or_too_deep(tmp_path):
    for i, body in enumerate([b"\xff\xfe not utf8", b"{not json", b'{"format": NaN}', b'{"a": 1, "a": 2}',
                              b"[" * 100000 + b"]" * 100000]):
        bad = tmp_path / f"j{i}.pt"
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("manifest.json", body)
        _expect_error(bad)
    deep = {"t": "none"}
    for _ in range(300):
        deep = {"t": "list", "items": [deep]}
    bad = tmp_path / "deep.pt"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", json.dumps(
            {"format": "layerlab.engine", "version": 1, "root": deep, "tensors": [], "blobs": []}))
    _expect_error(bad, "deeper")


def test_deep_nesting_refused_at_save():
    deep = []
    for _ in range(500):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        save(deep, io.BytesIO())


def test_zip_without_manifest(tmp_path):
    bad = tmp_path / "plain.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _expect_error(bad, "manifest.json")


class _Exploit:
    """Unpickling this runs ``os.system`` (well, a harmless stand-in: it creates a marker file)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_files_are_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _Exploit(str(marker))}, protocol=2)
    pickle_path = tmp_path / "evil.pkl"
    pickle_path.write_bytes(payload)
    _expect_error(pickle_path, "pickle")
    assert not marker.exists()
    # the same payload inside a ZIP laid out like a PyTorch checkpoint
    pt_path = tmp_path / "evil.pt"
    with zipfile.ZipFile(pt_path, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
    _expect_error(pt_path, "Weights only load failed", "GLOBAL io.open was not an allowed global")
    with pytest.raises(pickle.UnpicklingError):  # what torch.load raises
        load(pt_path)
    assert not marker.exists()
    # weights_only=False unpickles with Python's pickle, as torch.load does: the payload runs
    with open(pt_path, "rb") as fh:
        load(fh, weights_only=False)
    assert marker.exists()


def test_text_empty_and_safetensors_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("these are not the weights you are looking for\n" * 10)
    _expect_error(text, "not a file written by engine.save()")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    _expect_error(empty, "empty")
    st = tmp_path / "w.safetensors"
    save_safetensors({"w": engine.ones(2)}, st)
    _expect_error(st, "load_safetensors")


def test_file_object_errors_name_the_file(tmp_path):
    text = tmp_path / "t.bin"
    text.write_bytes(b"garbage" * 10)
    with open(text, "rb") as fh:
        with pytest.raises(WeightFileError, match=r"t\.bin"):
            load(fh)
    with pytest.raises(WeightFileError, match="BytesIO"):
        load(io.BytesIO(b"garbage"))


def test_weight_file_error_is_a_runtime_error():
    assert issubclass(WeightFileError, RuntimeError)


# ----------------------------------------------------------------------------------------------------
# safetensors
# ----------------------------------------------------------------------------------------------------
def _all_dtype_state():
    sd = {f"t_{d}": _t(_array(d, (3, 2), seed=i)) for i, d in enumerate(ALL_DTYPES)}
    base = engine.arange(12, dtype=engine.float32).reshape(3, 4)
    sd["view_t"] = base.t()
    sd["view_step"] = base[:, ::2]
    sd["scalar"] = engine.tensor(2.5)
    sd["empty"] = engine.zeros(0, 3)
    return sd


def test_safetensors_roundtrip(tmp_path):
    sd = _all_dtype_state()
    assert not sd["view_t"].is_contiguous()
    path = tmp_path / "m.safetensors"
    save_safetensors(sd, path, metadata={"format": "pt", "note": "hi"})
    out = load_safetensors(path)
    assert sorted(out) == sorted(sd)
    for k in sd:
        _same_tensor(sd[k], out[k])
        assert out[k].numpy().flags.writeable
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        assert f.metadata() == {"format": "pt", "note": "hi"}
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_safetensors_str_path_and_device(tmp_path):
    path = str(tmp_path / "m.safetensors")
    save_safetensors({"a": engine.ones(2)}, path)
    out = load_safetensors(path, device=engine.device("cpu"))
    assert out["a"].device == engine.device("cpu")


def test_safetensors_to_fake_cuda(tmp_path, fake_cuda):
    path = tmp_path / "m.safetensors"
    save_safetensors({"a": engine.arange(4, device="cuda:1")}, path)
    out = load_safetensors(path, device="cuda:0")
    assert out["a"].device == engine.device("cuda:0")
    np.testing.assert_array_equal(out["a"].cpu().numpy(), np.arange(4))


def test_safetensors_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="'x'"):
        save_safetensors({"x": [1, 2]}, tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="not a str"):
        save_safetensors({1: engine.ones(1)}, tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="metadata"):
        save_safetensors({"a": engine.ones(1)}, tmp_path / "a.safetensors", metadata={"k": 1})
    assert os.listdir(tmp_path) == []


def test_safetensors_missing_and_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.safetensors"):
        load_safetensors(tmp_path / "missing.safetensors")
    path = tmp_path / "m.safetensors"
    save_safetensors({"a": engine.randn(10, 10), "b": engine.ones(3)}, path)
    data = path.read_bytes()
    for n in (0, 4, 8, 20, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{n}.safetensors"
        cut.write_bytes(data[:n])
        with pytest.raises(WeightFileError, match=f"cut{n}.safetensors"):
            load_safetensors(cut)
    header_len = int.from_bytes(data[:8], "little")
    bad = tmp_path / "hdr.safetensors"
    bad.write_bytes(data[:8] + b"X" + data[9:])
    with pytest.raises(WeightFileError, match=r"hdr\.safetensors"):
        load_safetensors(bad)
    assert header_len < len(data)
    text = tmp_path / "t.safetensors"
    text.write_text("hello, I am text and definitely not a tensor file")
    with pytest.raises(WeightFileError, match=r"t\.safetensors"):
        load_safetensors(text)
    ours = tmp_path / "ours.pt"
    save({"a": engine.ones(1)}, ours)
    with pytest.raises(WeightFileError, match=r"engine\.load"):
        load_safetensors(ours)


def test_safetensors_atomic_write(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_safetensors({"a": engine.ones(3)}, path)
    before = path.read_bytes()
    import safetensors.numpy

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(safetensors.numpy, "save_file", boom)
    with pytest.raises(WeightFileError, match="simulated"):
        save_safetensors({"a": engine.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]

    def full_disk(*a, **k):  # how the library reports a full disk
        raise safetensors.SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.numpy, "save_file", full_disk)
    with pytest.raises(WeightFileError, match=r"m\.safetensors: cannot write the file: No space left on device$"):
        save_safetensors({"a": engine.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_safetensors_interop_with_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch

    sd = _all_dtype_state()
    ours = tmp_path / "ours.safetensors"
    save_safetensors(sd, ours)
    theirs = safetensors.torch.load_file(str(ours))
    assert sorted(theirs) == sorted(sd)
    for k, v in sd.items():
        tv = theirs[k]
        assert str(tv.dtype) == "torch." + v.dtype.name
        assert tuple(tv.shape) == tuple(v.shape)
        np.testing.assert_array_equal(tv.numpy(), v.numpy())

    ref = {"layer.weight": torch.randn(4, 3), "layer.bias": torch.randn(4), "bn.num_batches_tracked":
           torch.tensor(5), "mask": torch.tensor([True, False]), "half": torch.randn(2, 2).half(),
           "noncontig": torch.randn(3, 4).t().contiguous(), "i8": torch.tensor([-128, 127], dtype=torch.int8)}
    path = tmp_path / "theirs.safetensors"
    safetensors.torch.save_file(ref, str(path))
    out = load_safetensors(path)
    assert sorted(out) == sorted(ref)
    for k, v in ref.items():
        assert out[k].dtype.name == str(v.dtype).removeprefix("torch.")
        assert tuple(out[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())


def test_safetensors_state_dict_loads_into_a_pytorch_model(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ours = {k: engine.from_numpy(np.random.default_rng(1).standard_normal(tuple(v.shape)).astype(
        str(v.dtype).removeprefix("torch."))) for k, v in model.state_dict().items()}
    path = tmp_path / "m.safetensors"
    save_safetensors(ours, path)
    model.load_state_dict(safetensors.torch.load_file(str(path)))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ours[k].numpy())
