"""``add_safe_globals`` and friends: a checkpoint pickling the user's own classes loads with
``weights_only=True`` once, and only once, the user allowlists them, as in PyTorch."""

import dataclasses
import enum
import pickle
import re

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")


@dataclasses.dataclass
class Config:
    width: int
    name: str


class Mode(enum.Enum):
    TRAIN = "train"
    EVAL = "eval"


class Slotted:
    __slots__ = ("rate",)

    def __init__(self, rate):
        self.rate = rate


@pytest.fixture(autouse=True)
def empty_allowlist():
    engine.serialization.clear_safe_globals()
    yield
    engine.serialization.clear_safe_globals()


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    torch.save({"config": Config(4, "net"), "mode": Mode.EVAL, "slotted": Slotted(0.5),
                "state": {"w": torch.tensor(weight)}}, path)
    return path, weight


def test_refused_until_allowlisted_with_torchs_advice(checkpoint):
    path, _ = checkpoint
    advice = (r"Unsupported global: GLOBAL test_safe_globals\.Config was not an allowed global by default\. Please "
              r"use `torch\.serialization\.add_safe_globals\(\[test_safe_globals\.Config\]\)`")
    with pytest.raises(pickle.UnpicklingError, match=advice) as ours:
        engine.load(path)
    with pytest.raises(pickle.UnpicklingError, match="add_safe_globals") as theirs:
        torch.load(path)
    advice = re.search(r"Unsupported global:.*?if you trust this class/function\.", str(theirs.value)).group(0)
    assert advice in str(ours.value)


def test_allowlisted_classes_load_as_torch_loads_them(checkpoint):
    path, weight = checkpoint
    engine.serialization.add_safe_globals([Config, Mode, Slotted])
    out = engine.load(path)
    with torch.serialization.safe_globals([Config, Mode, Slotted]):
        ref = torch.load(path)
    assert out["config"] == ref["config"] == Config(4, "net")
    assert out["mode"] is ref["mode"] is Mode.EVAL
    assert out["slotted"].rate == ref["slotted"].rate == 0.5
    np.testing.assert_array_equal(out["state"]["w"].numpy(), weight)
    assert engine.serialization.get_safe_globals() == [Config, Mode, Slotted]


def test_safe_globals_context_restores_the_allowlist(checkpoint):
    path, _ = checkpoint
    engine.serialization.add_safe_globals([Mode])
    with engine.serialization.safe_globals([Config, Slotted]):
        assert engine.load(path)["config"].width == 4
    assert engine.serialization.get_safe_globals() == [Mode]
    with pytest.raises(Exception, match="test_safe_globals.Config"):
        engine.load(path)


def test_a_class_allowlisted_under_another_name(tmp_path):
    path = tmp_path / "renamed.pt"
    torch.save({"config": Config(2, "x")}, path)
    engine.serialization.add_safe_globals([(Config, "test_safe_globals.Config")])
    assert engine.load(path)["config"] == Config(2, "x")
    assert engine.serialization.get_safe_globals() == [Config]
    with pytest.raises(ValueError, match="module.name"):
        engine.serialization.add_safe_globals([(Config,)])


def test_allowlisting_a_class_allows_nothing_else(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"config": Config(1, "y"), "fn": np.add}, path)
    engine.serialization.add_safe_globals([Config])
    with pytest.raises(Exception, match="Unsupported global"):
        engine.load(path)
