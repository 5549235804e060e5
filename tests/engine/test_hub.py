"""engine.hub: the weight cache folder, downloads that arrive whole and verified, and the safe loader."""

import hashlib
import io
import os

import numpy as np
import pytest

import engine
from engine import hub

torch = pytest.importorskip("torch")


def _weights_file_bytes():
    buf = io.BytesIO()
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)}, buf)
    return buf.getvalue()


def test_get_dir_follows_torch_home_and_xdg(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert hub.get_dir() == str(tmp_path / "th" / "hub")
    assert torch.hub.get_dir() == hub.get_dir()
    hub.set_dir(tmp_path / "mine")
    assert hub.get_dir() == str(tmp_path / "mine")


def test_download_checks_the_hash_in_the_name_and_loads_safely(http_server, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", str(tmp_path / "hub"))
    body = _weights_file_bytes()
    digest = hashlib.sha256(body).hexdigest()
    http_server.files[f"/net-{digest[:8]}.pth"] = (body, "whole")
    state = hub.load_state_dict_from_url(f"{http_server.base}/net-{digest[:8]}.pth", check_hash=True,
                                         progress=False)
    np.testing.assert_array_equal(state["w"].numpy(), np.arange(6.0).reshape(2, 3))
    assert os.path.isfile(tmp_path / "hub" / "checkpoints" / f"net-{digest[:8]}.pth")
    # second call reads the cache: no new request
    hub.load_state_dict_from_url(f"{http_server.base}/net-{digest[:8]}.pth", progress=False)
    assert http_server.requests.count(f"/net-{digest[:8]}.pth") == 1


def test_wrong_hash_and_short_transfer_keep_nothing(http_server, tmp_path):
    body = _weights_file_bytes()
    http_server.files["/net-00000000.pth"] = (body, "whole")
    http_server.files["/cut-00000000.pth"] = (body, "truncate")
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "00000000", got'):
        hub.load_state_dict_from_url(f"{http_server.base}/net-00000000.pth", model_dir=tmp_path, check_hash=True,
                                     progress=False)
    with pytest.raises(OSError, match="transfer interrupted"):
        hub.download_url_to_file(f"{http_server.base}/cut-00000000.pth", tmp_path / "cut.pth", progress=False)
    assert os.listdir(tmp_path) == []


def test_a_pickled_module_is_refused(http_server, tmp_path):
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)
    http_server.files["/module.pth"] = (buf.getvalue(), "whole")
    with pytest.raises(engine.serialization.WeightFileError):
        hub.load_state_dict_from_url(f"{http_server.base}/module.pth", model_dir=tmp_path, progress=False)
