"""Files written atomically (under a temporary name, then renamed) get the mode any new file gets, 0o666 less
the umask, whoever wrote the temporary file: our own writes, safetensors' writer, a download, a run folder."""

import gzip
import os
import stat

import pytest

import engine
import engine.nn as nn
from engine.graph.templates import load_template
from engine.serialization import save_safetensors
from engine.training import Trainer, create_run
from engine.utils.files import atomic_write, atomic_write_text, temporary_file_beside
from engine.vision.datasets.utils import download_url, extract_archive


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(folder):
    return [name for name in os.listdir(folder) if name.startswith(".")]


def test_atomic_writes_get_the_mode_of_a_new_file(tmp_path, umask):
    expected = 0o666 & ~umask
    atomic_write_text(tmp_path / "a.txt", "hello")
    atomic_write(tmp_path / "b.bin", lambda fh, _tmp: fh.write(b"\x00\x01"))
    save_safetensors({"w": engine.ones(2, 3)}, tmp_path / "w.safetensors")  # safetensors writes a 0o600 file
    engine.save({"w": engine.ones(2)}, tmp_path / "w.pt")
    for name in ("a.txt", "b.bin", "w.safetensors", "w.pt"):
        assert mode(tmp_path / name) == expected, name
    assert not leftovers(tmp_path)


def test_an_overwritten_file_gets_the_mode_of_a_new_file(tmp_path, umask):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    save_safetensors({"w": engine.zeros(4)}, path)
    assert mode(path) == 0o666 & ~umask and engine.load_safetensors(path)["w"].shape == (4,)


def test_every_file_of_a_run_folder_has_the_same_mode(tmp_path, umask):
    run = create_run(load_template("mlp_fashion_mnist"), tmp_path / "mlp.llnet")
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    batches = [(engine.randn(8, 4), engine.tensor([0, 1, 2, 0, 1, 2, 0, 1]))]
    Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), batches, batches,
            callbacks=run.callbacks(), num_classes=3).fit(1)
    run.save_weights(model)
    names = sorted(os.listdir(run.folder))
    assert {"weights.safetensors", "checkpoint.llw", "run.json", "metrics.csv", "network.llnet"} <= set(names)
    assert {name: mode(os.path.join(run.folder, name)) for name in names} == dict.fromkeys(names, 0o666 & ~umask)


def test_downloads_and_unpacked_files_get_the_mode_of_a_new_file(tmp_path, umask):
    source = tmp_path / "source"
    source.mkdir()
    (source / "data.gz").write_bytes(gzip.compress(b"payload"))
    target = tmp_path / "root"
    path = download_url((source / "data.gz").as_uri(), target, progress=False)
    extract_archive(path)
    assert mode(path) == 0o666 & ~umask and mode(target / "data") == 0o666 & ~umask
    assert (target / "data").read_bytes() == b"payload" and not leftovers(target)


def test_a_temporary_file_is_removed_unless_renamed_away(tmp_path):
    with temporary_file_beside(tmp_path / "x") as tmp:
        assert os.path.dirname(tmp) == str(tmp_path) and os.path.basename(tmp).startswith(".x.")
    assert not os.path.exists(tmp)
    with temporary_file_beside(tmp_path / "x") as tmp:
        os.replace(tmp, tmp_path / "x")
    assert os.listdir(tmp_path) == ["x"]
