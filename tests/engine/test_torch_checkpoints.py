"""engine.load of files written by the installed PyTorch's ``torch.save``, compared value for value; files that
pickle forbidden globals are refused without running them; whole modules need ``weights_only=False``."""

import collections
import contextlib
import io
import math
import os
import pickle
import random
import zipfile

import numpy as np
import pytest

import engine
from engine import serialization_torch
from engine.serialization import WeightFileError, load, save

torch = pytest.importorskip("torch")

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _same(ours, theirs, where="obj"):
    """``ours`` (from engine.load) equals ``theirs`` (the object torch saved), exactly and with the same types."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, engine.Tensor), where
        assert isinstance(ours, engine.nn.Parameter) == isinstance(theirs, torch.nn.Parameter), where
        assert str(ours.dtype) == str(theirs.dtype), where
        assert tuple(ours.shape) == tuple(theirs.shape), where
        assert ours.requires_grad == theirs.requires_grad, where
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy(), err_msg=where)
    elif isinstance(theirs, torch.dtype):
        assert ours is getattr(engine, str(theirs).removeprefix("torch.")), where
    elif isinstance(theirs, torch.device):
        assert isinstance(ours, engine.device) and str(ours) == str(theirs), where
    elif isinstance(theirs, torch.Size):
        assert isinstance(ours, engine.Size) and tuple(ours) == tuple(theirs), where
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), where
        for k in theirs:
            _same(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float) and math.isnan(theirs):
        assert isinstance(ours, float) and math.isnan(ours), where
    else:
        assert type(ours) is type(theirs) and ours == theirs, where


def _saved(obj, tmp_path, name="ckpt.pt"):
    path = tmp_path / name
    torch.save(obj, path)
    return path


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5))


def test_state_dict_of_a_torch_model_loads_into_the_engine_model(tmp_path):
    model = _model()
    model(torch.randn(2, 3, 8, 8))  # moves the batch-norm statistics off their initial values
    sd = model.state_dict()
    ours = load(_saved(sd, tmp_path))
    _same(ours, sd)
    assert ours._metadata == sd._metadata  # the state dict's version info (set by pickle's BUILD)
    twin = engine.nn.Sequential(engine.nn.Conv2d(3, 4, 3), engine.nn.BatchNorm2d(4), engine.nn.ReLU(),
                                engine.nn.Flatten(), engine.nn.Linear(4 * 6 * 6, 5))
    twin.load_state_dict(ours)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    model.eval()
    twin.eval()
    np.testing.assert_allclose(twin(engine.from_numpy(x)).detach().numpy(), model(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_optimizer_state_dict(tmp_path):
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randn(2, 3, 8, 8)).sum().backward()
        opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2}
    _same(load(_saved(ckpt, tmp_path)), ckpt)


def test_nested_containers_and_plain_values(tmp_path):
    obj = {
        "ints": [0, -1, 2 ** 40, -(2 ** 70)], "floats": (1.5, float("inf"), float("-inf"), float("nan"), -0.0),
        "odict": collections.OrderedDict([("b", 1), ("a", [None, True, False])]), 3: "int key",
        (1, "t"): {"deep": [[[torch.arange(3)]]]}, "size": torch.Size([2, 0, 5]), "dtypes": [torch.float16,
        torch.int64, torch.bool], "device": torch.device("cpu"), "bytes": b"\x00\xffab", "str": "é€🙂",
        "counter": collections.Counter("abca"), "set": {1, 2, 3}, "complex": complex(1, -2), "empty": {},
        "param": torch.nn.Parameter(torch.ones(2, 2)), "no_grad_param": torch.nn.Parameter(torch.ones(1), False),
    }
    _same(load(_saved(obj, tmp_path)), obj)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_engine_dtype(tmp_path, dtype):
    rng = np.random.default_rng(1)
    arr = (rng.random((3, 4)) > 0.5) if dtype == "bool" else (rng.standard_normal((3, 4)) * 50).astype(dtype)
    t = torch.from_numpy(arr)
    obj = {"t": t, "view": t[1:, ::2], "scalar": t[1, 2].clone(), "empty": t[:0]}
    _same(load(_saved(obj, tmp_path)), obj)


def test_views_sharing_a_storage_and_non_contiguous_tensors(tmp_path):
    base = torch.arange(60, dtype=torch.float64).reshape(3, 4, 5)
    obj = {"base": base, "transposed": base.transpose(0, 2), "strided": base[1:, ::2, 1::3],
           "offset": base.view(-1)[7:19].view(3, 4), "expanded": base[0, 0, :1].expand(4, 6),
           "diagonal": base[0].diagonal(), "permuted": base.permute(2, 0, 1)[1]}
    ours = load(_saved(obj, tmp_path))
    _same(ours, obj)
    ours["base"].add_(1)  # each view comes back as its own tensor (a copy of its view of the storage)
    assert ours["transposed"][0, 0, 0].item() == 0


def test_big_endian_checkpoint(tmp_path):
    obj = {"a": torch.randn(3, 4, dtype=torch.float64), "b": torch.arange(5, dtype=torch.float64)[::2]}
    little = _saved(obj, tmp_path)
    big = tmp_path / "big.pt"
    with zipfile.ZipFile(little) as src, zipfile.ZipFile(big, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in info.filename:
                data = np.frombuffer(data, "<f8").astype(">f8").tobytes()
            dst.writestr(info.filename, data)
    theirs = torch.load(big)  # PyTorch reads the rewritten file as the same values
    assert all(torch.equal(theirs[k], obj[k]) for k in obj)
    _same(load(big), obj)


def test_map_location(tmp_path):
    path = _saved({"w": torch.ones(2)}, tmp_path)
    seen = []
    out = load(path, map_location=lambda t, loc: seen.append(loc))
    assert seen == ["cpu"] and out["w"].device == engine.device("cpu")
    assert load(path, map_location="cpu")["w"].tolist() == [1.0, 1.0]


class _System:
    """Unpickling this runs ``os.system(command)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_forbidden_global_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = _saved({"w": torch.ones(2), "evil": _System(f"touch {marker}")}, tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(path)  # PyTorch refuses it too
    with pytest.raises(WeightFileError, match=r"GLOBAL posix\.system was not an allowed global") as info:
        load(path)
    assert isinstance(info.value, pickle.UnpicklingError) and str(path) in str(info.value)
    assert not marker.exists()


def test_admitted_globals_the_engine_lacks_are_refused_by_name(tmp_path):
    back = load(_saved({"w": torch.ones(2, dtype=torch.bfloat16) / 3, "dt": torch.bfloat16}, tmp_path))
    assert back["dt"] is engine.bfloat16 and back["w"].dtype is engine.bfloat16  # bfloat16 is no longer lacking
    assert back["w"].float().tolist() == (torch.ones(2, dtype=torch.bfloat16) / 3).float().tolist()
    with pytest.raises(WeightFileError, match="torch.complex64, which this engine does not support"):
        load(_saved({"dt": torch.complex64}, tmp_path))


def test_whole_torch_module_needs_weights_only_false_and_is_then_refused_clearly(tmp_path):
    path = _saved(torch.nn.Linear(2, 3), tmp_path)
    with pytest.raises(WeightFileError, match="(?s)Weights only load failed.*weights_only"):
        load(path)
    with pytest.raises(WeightFileError, match="torch.nn.modules.linear.Linear.*state_dict"):
        load(path, weights_only=False)


def test_whole_engine_module_round_trips_only_with_weights_only_false(tmp_path):
    model = engine.nn.Sequential(engine.nn.Linear(2, 3), engine.nn.ReLU(), engine.nn.Linear(3, 1))
    path = tmp_path / "model.pt"
    save(model, path)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL engine\.nn\.container\.Sequential"):
        load(path)
    back = load(path, weights_only=False)
    assert type(back) is engine.nn.Sequential and str(back) == str(model)
    for (k, a), (k2, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    buf = io.BytesIO()
    save(model, buf)
    buf.seek(0)
    assert type(load(buf, weights_only=False)) is engine.nn.Sequential


def _rewrite(path, out, **replace):
    """A copy of the checkpoint ``path`` with the members named (by their suffix) replaced or dropped (None)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            suffix = info.filename.split("/", 1)[1]
            data = replace[suffix] if suffix in replace else src.read(info)
            if data is not None:
                dst.writestr(info.filename, data)
    return out


def test_damaged_checkpoints_raise_weight_file_error(tmp_path):
    path = _saved({"w": torch.arange(6.).reshape(2, 3), "i": torch.arange(3)}, tmp_path)
    cases = [({"data/0": b"\x00" * 8}, "holds 8 bytes"), ({"data/1": None}, "lacks storage"),
             ({"byteorder": b"middle"}, "unknown byte order")]
    for replace, problem in cases:
        with pytest.raises(WeightFileError, match=problem):
            load(_rewrite(path, tmp_path / "bad.pt", **replace))
    raw = path.read_bytes()
    for n in (0, 10, len(raw) // 2, len(raw) - 10):
        (tmp_path / "cut.pt").write_bytes(raw[:n])
        with pytest.raises(WeightFileError):
            load(tmp_path / "cut.pt")


def test_tensor_reaching_past_its_storage_is_refused(tmp_path):
    path = _saved({"w": torch.arange(6.)}, tmp_path)
    with zipfile.ZipFile(path) as zf:
        pkl = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))
    assert pkl.count(b"K\x06\x85") == 1  # the size (6,) as BININT1 6, TUPLE1
    bad = _rewrite(path, tmp_path / "bad.pt", **{"data.pkl": pkl.replace(b"K\x06\x85", b"K\x07\x85")})
    with pytest.raises(WeightFileError, match="past the end of its storage"):
        load(bad)


def test_mutated_pickles_load_or_raise_weight_file_error(tmp_path):
    path = _saved({"sd": _model().state_dict(), "n": [1, 2.5, "x"], "s": torch.Size([2])}, tmp_path)
    with zipfile.ZipFile(path) as zf:
        pkl = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))
    rng = random.Random(0)
    for _ in range(150):
        data = bytearray(pkl)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        bad = _rewrite(path, tmp_path / "bad.pt", **{"data.pkl": bytes(data)})
        with contextlib.suppress(WeightFileError):
            load(bad)


def _with_pickle(tmp_path, data):
    """A real checkpoint whose data.pkl is replaced by ``data`` (protocol-2 opcodes)."""
    path = _saved({"w": torch.arange(4.)}, tmp_path, "base.pt")
    return _rewrite(path, tmp_path / "crafted.pt", **{"data.pkl": data})


def test_restricted_unpickler_refuses_calls_and_builds_torch_would_not_allow(tmp_path):
    # torch.Tensor(10**9) would allocate: the admitted torch.Tensor global is a name only, never called
    with pytest.raises(WeightFileError):
        load(_with_pickle(tmp_path, b"\x80\x02ctorch\nTensor\nJ\x00\xca\x9a;\x85R."))
    # a REDUCE of something no GLOBAL admitted (a str): refused
    with pytest.raises(WeightFileError, match="reduce for unrecognized function"):
        load(_with_pickle(tmp_path, b"\x80\x02X\x01\x00\x00\x00a)R."))
    # BUILD may set a state dict's _metadata, not shadow an OrderedDict method
    with pytest.raises(WeightFileError, match="shadow"):
        load(_with_pickle(tmp_path, b"\x80\x02ccollections\nOrderedDict\n)R}X\x04\x00\x00\x00keysK\x01sb."))
    with pytest.raises(WeightFileError, match="Unsupported operand"):  # protocol 4's FRAME, as torch
        load(_with_pickle(tmp_path, b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00N."))


def test_copied_views_draw_on_the_budget_shared_ones_do_not(tmp_path, monkeypatch):
    base = torch.arange(64.)  # 256 bytes
    monkeypatch.setattr(serialization_torch, "MAX_EXPANDED_BYTES", 300)
    shared = _saved([base, base.view(8, 8), base.view(8, 8), base[8:], base.view(8, 8).t()], tmp_path)
    assert len(load(shared)) == 5
    copied = _saved([base, *(base.view(8, 8).t() for _ in range(3))], tmp_path)
    with pytest.raises(WeightFileError, match="more than its storages"):
        load(copied)


def test_saved_cuda_location_follows_map_location(tmp_path):
    path = _saved({"w": torch.ones(2)}, tmp_path)
    with zipfile.ZipFile(path) as zf:
        pkl = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))
    cpu = b"X\x03\x00\x00\x00cpu"
    assert pkl.count(cpu) == 1
    cuda = _rewrite(path, tmp_path / "cuda.pt", **{"data.pkl": pkl.replace(cpu, b"X\x06\x00\x00\x00cuda:0")})
    if engine.cuda.is_available():
        assert load(cuda)["w"].device == engine.device("cuda:0")
    else:
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            load(cuda)
    for where in ("cpu", {"cuda:0": "cpu"}):
        assert load(cuda, map_location=where)["w"].device == engine.device("cpu")
    seen = []
    load(cuda, map_location=lambda t, loc: seen.append(loc) or t)
    assert seen == ["cuda:0"]


def test_checkpoint_holding_an_engine_module_is_pickled(tmp_path):
    model = engine.nn.Linear(2, 2)
    path = tmp_path / "ckpt.pt"
    save({"model": model, "epoch": 3}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL engine\.nn\.linear\.Linear"):
        load(path)
    back = load(path, weights_only=False)
    assert back["epoch"] == 3 and type(back["model"]) is engine.nn.Linear
    np.testing.assert_array_equal(back["model"].weight.detach().numpy(), model.weight.detach().numpy())
    save({"w": model.weight}, path)  # without a Module: the engine's own format, no pickle
    with zipfile.ZipFile(path) as zf:
        assert "manifest.json" in zf.namelist()


def _legacy(obj, tmp_path, name="legacy.pt"):
    path = tmp_path / name
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    return path


def test_legacy_format(tmp_path):
    base = torch.arange(12.).reshape(3, 4)
    obj = {"sd": _model().state_dict(), "view": base[1:, ::2], "base": base, "i": torch.arange(3),
           "h": torch.ones(2, dtype=torch.float16), "p": torch.nn.Parameter(torch.ones(2)), "n": [1, "a", None],
           "empty": torch.zeros(0), "size": torch.Size([1, 2])}
    _same(load(_legacy(obj, tmp_path)), obj)
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    buf.seek(0)
    _same(load(buf), obj)


def test_legacy_format_refuses_forbidden_globals_and_damage(tmp_path):
    marker = tmp_path / "pwned"
    path = _legacy({"w": torch.ones(2), "evil": _System(f"touch {marker}")}, tmp_path)
    with pytest.raises(WeightFileError, match=r"GLOBAL posix\.system was not an allowed global"):
        load(path, weights_only=False)  # the legacy format is only ever read with weights_only=True semantics
    assert not marker.exists()
    raw = _legacy({"w": torch.arange(6.), "i": torch.arange(3)}, tmp_path, "ok.pt").read_bytes()
    for n in (3, 20, len(raw) // 2, len(raw) - 1):
        (tmp_path / "cut.pt").write_bytes(raw[:n])
        with pytest.raises(WeightFileError):
            load(tmp_path / "cut.pt")
    rng = random.Random(1)
    for _ in range(150):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(3, len(data))] = rng.randrange(256)
        (tmp_path / "bad.pt").write_bytes(bytes(data))
        with contextlib.suppress(WeightFileError):
            load(tmp_path / "bad.pt")


def test_contiguous_views_of_one_storage_share_memory_again(tmp_path):
    base = torch.arange(12, dtype=torch.float32)
    path = _saved({"all": base, "tail": base[4:], "rows": base.view(3, 4)[1], "cols": base.view(3, 4)[:, 1]},
                  tmp_path)
    out = load(path)
    out["all"][5] = -1.0
    assert out["tail"][1].item() == -1.0 and out["rows"][1].item() == -1.0
    assert out["cols"].tolist() == [1.0, 5.0, 9.0]  # a strided view comes back as a copy
    out["all"].add_(1)
    assert out["tail"].tolist() == [5.0, 0.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]


def test_whole_module_keeps_its_tensors_out_of_the_pickle(tmp_path, monkeypatch):
    """As torch.save lays it out: each tensor a storage member of its own, the pickle only structure, so a model
    of any size loads back (here past a pickle budget lowered to 64 KiB); views, bfloat16 and buffers survive."""
    model = engine.nn.Sequential(engine.nn.Linear(300, 400), engine.nn.BatchNorm1d(400))
    model.register_buffer("table", engine.arange(12.0).reshape(3, 4).t())  # not contiguous
    model.register_buffer("brain", engine.ones(5, dtype=engine.bfloat16))
    path = tmp_path / "model.pt"
    save(model, path)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("archive/data.pkl").file_size < 8192
        weight_bytes = [zf.getinfo(n).file_size for n in zf.namelist() if "/data/" in n]
    assert 300 * 400 * 4 in weight_bytes
    monkeypatch.setattr(serialization_torch, "MAX_PICKLE_BYTES", 64 << 10)
    back = load(path, weights_only=False)
    assert isinstance(back[0].weight, engine.nn.Parameter) and back[0].weight.requires_grad
    for (key, a), (_, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape), key
        np.testing.assert_array_equal(a.float().numpy(), b.float().numpy(), err_msg=key)
