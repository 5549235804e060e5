"""Every command given a file it cannot use (a FIFO, a device, a folder, a damaged or foreign file, a path in a
missing folder) ends with one line, ``main.py CMD: error: <file>: <problem>``, exit code 2 and no traceback;
the loaders' ``FileWarning``s are 'warning:' lines."""

import errno
import json
import os
import struct
import warnings
import zlib

import pytest
from cli_helpers import copy_template, run_subprocess, write_cifar
from PIL import Image

import cli as cli_package
from engine.utils.files import FileError, FileWarning


def one_error_line(result, command, path):
    """The result is exit code 2 and a single error line naming ``path``; returns the problem it states."""
    assert result.code == 2, result
    assert "Traceback" not in result.err and result.err.count("\n") == 1, result
    prefix = f"main.py {command}: error: {path}: "
    assert result.err.startswith(prefix), result
    return result.err[len(prefix):].strip()


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.llnet"
    os.mkfifo(path)
    return path


@pytest.fixture
def weights(cli, mlp, tmp_path):
    """The template's initial weights as a safetensors file."""
    path = tmp_path / "w.safetensors"
    assert cli("export", mlp, "-", "--format", "safetensors", "--out", path).code == 0
    return path


def huge_png(path, side=60_000):
    """A small PNG whose header claims ``side``² pixels (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (side + 1) * 16)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


def test_summary_refuses_what_is_not_a_network_file(cli, tmp_path, fifo):
    big = tmp_path / "big.llnet"
    big.write_bytes(b"not json at all " * (10 * 1024 * 1024 // 16))
    binary = tmp_path / "binary.llnet"
    binary.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.llnet"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.llnet"
    folder.mkdir()
    for path in (fifo, "/dev/zero", folder, big, binary, empty, tmp_path / "missing.llnet"):
        assert one_error_line(cli("summary", path), "summary", path)
    assert "not a regular file" in one_error_line(cli("summary", "/dev/zero"), "summary", "/dev/zero")
    assert "folder" in one_error_line(cli("summary", folder), "summary", folder)
    assert "JSON" in one_error_line(cli("summary", big), "summary", big)
    assert "JSON" in one_error_line(cli("summary", empty), "summary", empty)


def test_export_refuses_bad_weights_and_bad_places_to_write(cli, mlp, tmp_path, fifo):
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header")
    folder = tmp_path / "folder"
    folder.mkdir()
    out = tmp_path / "out.llw"
    for bad in (fifo, "/dev/zero", folder, damaged, tmp_path / "missing" / "w.safetensors"):
        assert one_error_line(cli("export", mlp, bad, "--format", "llw", "--out", out), "export", bad)
    assert not out.exists()
    missing = tmp_path / "missing" / "out.llw"
    problem = one_error_line(cli("export", mlp, "-", "--format", "llw", "--out", missing), "export", missing)
    assert problem == f"cannot write there: the folder {tmp_path / 'missing'} does not exist"
    problem = one_error_line(cli("export", mlp, "-", "--format", "llw", "--out", f"{tmp_path}/nowhere/"), "export",
                             f"{tmp_path}/nowhere/")
    assert problem.endswith("does not exist")
    assert one_error_line(cli("export", mlp, "-", "--format", "llw", "--out", "/proc/w.llw"), "export", "/proc/w.llw")
    assert cli("export", mlp, "-", "--format", "llw", "--out", "").err == (
        "main.py export: error: --out is empty: give a file or a folder to write into\n")
    assert sorted(os.listdir(tmp_path)) == ["damaged.safetensors", "folder", "mlp_fashion_mnist.llnet", "pipe.llnet"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_export_refuses_an_unwritable_folder(cli, mlp, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    problem = one_error_line(cli("export", mlp, "-", "--format", "llw", "--out", locked / "w.llw"), "export",
                             locked / "w.llw")
    assert problem.endswith("is not writable")


def test_a_write_refused_by_the_system_names_the_target_not_its_temporary_file(cli, mlp, tmp_path, monkeypatch):
    out = tmp_path / "w.llw"
    real_open = os.open

    def refusing_open(path, *args, **kwargs):
        if os.path.basename(path).startswith(".w.llw."):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    problem = one_error_line(cli("export", mlp, "-", "--format", "llw", "--out", out), "export", out)
    assert problem == "cannot write the file: Permission denied"
    assert sorted(os.listdir(tmp_path)) == ["mlp_fashion_mnist.llnet"]


def test_a_full_disk_keeps_the_file_export_would_replace(cli, mlp, tmp_path, monkeypatch):
    out = tmp_path / "w.llw"
    out.write_bytes(b"the weights of yesterday")

    def full_disk(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    result = cli("export", mlp, "-", "--format", "llw", "--out", out, "--force")
    assert one_error_line(result, "export", out) == "cannot write the file: No space left on device"
    assert out.read_bytes() == b"the weights of yesterday"
    assert sorted(os.listdir(tmp_path)) == ["mlp_fashion_mnist.llnet", "w.llw"]


def test_export_into_a_folder_uses_the_network_name(cli, mlp, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    result = cli("export", mlp, "-", "--format", "pytorch", "--out", folder)
    assert result.code == 0, result
    code, weights = folder / "mlp_fashion_mnist_pytorch.py", folder / "mlp_fashion_mnist_pytorch.safetensors"
    assert result.out == f"wrote {code}\nwrote {weights}\n"
    assert code.is_file() and weights.is_file() and not (tmp_path / "exports.py").exists()
    result = cli("export", mlp, "-", "--format", "llw", "--out", folder)
    assert result.out == f"wrote {folder / 'mlp_fashion_mnist.llw'}\n"
    again = cli("export", mlp, "-", "--format", "llw", "--out", folder)
    assert again.code == 2 and "exists already; pass --force" in again.err


def test_eval_and_predict_refuse_bad_weights(cli, mlp, tmp_path, fifo):
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header")
    folder = tmp_path / "folder"
    folder.mkdir()
    for bad in (fifo, "/dev/zero", folder, damaged, tmp_path / "missing" / "w.safetensors"):
        assert one_error_line(cli("eval", mlp, bad), "eval", bad)
        assert one_error_line(cli("predict", mlp, bad, tmp_path / "x.png"), "predict", bad)


def test_eval_refuses_a_damaged_dataset(cli, tmp_path, weights):
    lenet = copy_template("lenet_cifar10", tmp_path)
    assert cli("export", lenet, "-", "--format", "safetensors").code == 0
    root = write_cifar(tmp_path / "data", per_batch=2, test=4)
    test_batch = root / "cifar-10-batches-py" / "test_batch"
    test_batch.write_bytes(test_batch.read_bytes()[:100])
    result = cli("eval", lenet, tmp_path / "lenet_cifar10.safetensors", "--data", root)
    assert one_error_line(result, "eval", test_batch)


def test_predict_refuses_what_is_not_an_image(cli, mlp, tmp_path, weights, fifo):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    truncated = tmp_path / "truncated.png"
    Image.frombytes("L", (28, 28), os.urandom(28 * 28)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    folder = tmp_path / "folder.png"
    folder.mkdir()
    bomb = huge_png(tmp_path / "bomb.png")
    for bad in (text, truncated, folder, fifo, bomb, tmp_path / "missing.png"):
        assert one_error_line(cli("predict", mlp, weights, bad), "predict", bad)
    good = tmp_path / "good.png"
    Image.new("L", (28, 28), 128).save(good)
    assert cli("predict", mlp, weights, good).code == 0


def test_file_errors_and_os_errors_from_any_command_are_one_line(cli, mlp, monkeypatch):
    def fail(error):
        def handler(args):
            raise error
        monkeypatch.setattr(cli_package.summary, "main", handler)
        return cli("summary", mlp)

    result = fail(PermissionError(13, "Permission denied", "/srv/x.llw"))
    assert result.code == 2 and result.err == "main.py summary: error: /srv/x.llw: Permission denied\n"
    result = fail(OSError(28, "No space left on device"))
    assert result.code == 2 and result.err == "main.py summary: error: [Errno 28] No space left on device\n"
    result = fail(FileError("/srv/y.llnet", "is damaged"))
    assert result.code == 2 and result.err == "main.py summary: error: /srv/y.llnet: is damaged\n"


def test_file_warnings_are_warning_lines_and_others_keep_pythons_handling(cli, mlp, monkeypatch):
    def handler(args):
        warnings.warn(f"{args.network}: unknown key 'x'; ignored", FileWarning, stacklevel=2)
        warnings.warn(f"{args.network}: unknown key 'x'; ignored", FileWarning, stacklevel=2)  # each one is shown
        warnings.warn("something else", UserWarning, stacklevel=2)
        return 0

    monkeypatch.setattr(cli_package.summary, "main", handler)
    with pytest.warns(UserWarning, match="something else") as caught:
        result = cli("summary", mlp)
    assert result.code == 0
    assert result.err == f"main.py summary: warning: {mlp}: unknown key 'x'; ignored\n" * 2
    assert all(not issubclass(w.category, FileWarning) for w in caught)


def test_warnings_of_a_real_document_in_a_subprocess(mlp):
    document = json.loads(mlp.read_text())
    document["colour"] = "blue"
    mlp.write_text(json.dumps(document))
    result = run_subprocess("summary", mlp)
    assert result.code == 0, result
    warning_lines = [line for line in result.err.splitlines() if line.strip()]
    assert warning_lines and all(line.startswith(f"main.py summary: warning: {mlp}: ") for line in warning_lines)
    assert any("'colour'" in line for line in warning_lines)
