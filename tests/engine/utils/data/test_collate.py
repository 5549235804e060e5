"""default_collate and default_convert, against PyTorch's."""

import collections

import numpy as np
import pytest
from data_support import as_numpy, assert_nested_equal, needs_torch, torch, tud

import engine
from engine.utils.data import default_collate, default_convert


def test_collate_tensors_arrays_numbers():
    out = default_collate([engine.ones(2, 3), engine.zeros(2, 3)])
    assert isinstance(out, engine.Tensor) and out.shape == (2, 2, 3) and out.dtype is engine.float32
    out = default_collate([np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)])
    assert isinstance(out, engine.Tensor) and out.dtype is engine.int32 and out.shape == (2, 3)
    out = default_collate([1.5, 2.0])
    assert out.dtype is engine.float64 and out.tolist() == [1.5, 2.0]
    out = default_collate([1, 2, 3])
    assert out.dtype is engine.int64 and out.tolist() == [1, 2, 3]
    out = default_collate([True, False])
    assert out.dtype is engine.bool
    out = default_collate([np.float32(1), np.float32(2)])
    assert out.dtype is engine.float32 and out.shape == (2,)
    out = default_collate([np.int64(1), np.int64(2)])
    assert out.dtype is engine.int64
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_structures():
    Point = collections.namedtuple("Point", "x y")
    batch = [
        {"img": np.full((2, 2), i, np.float32), "label": i, "meta": {"name": f"s{i}", "w": [i, 2.5]},
         "pt": Point(i, float(i))}
        for i in range(3)
    ]
    out = default_collate(batch)
    assert set(out) == {"img", "label", "meta", "pt"}
    assert out["img"].shape == (3, 2, 2)
    assert out["label"].tolist() == [0, 1, 2]
    assert out["meta"]["name"] == ["s0", "s1", "s2"]
    assert isinstance(out["meta"]["w"], list) and out["meta"]["w"][0].tolist() == [0, 1, 2]
    assert out["meta"]["w"][1].dtype is engine.float64
    assert isinstance(out["pt"], Point) and out["pt"].y.dtype is engine.float64
    # tuples become lists, lists stay lists
    out = default_collate([(engine.zeros(2), 1), (engine.ones(2), 2)])
    assert isinstance(out, list) and out[0].shape == (2, 2) and out[1].tolist() == [1, 2]
    out = default_collate([[1, 2], [3, 4]])
    assert isinstance(out, list) and out[0].tolist() == [1, 3] and out[1].tolist() == [2, 4]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([engine.zeros(2), engine.zeros(3)])


def test_collate_keeps_grad_and_stacks_with_engine():
    a = engine.ones(2, requires_grad=True)
    out = default_collate([a, engine.zeros(2)])
    assert out.requires_grad
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(2), "s"), "c": 5})
    assert isinstance(out["a"], engine.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and isinstance(out["b"][0], engine.Tensor) and out["b"][1] == "s"
    assert out["c"] == 5


@needs_torch
@pytest.mark.parametrize("batch", [
    [1, 2, 3],
    [1.0, 2.5],
    [True, False],
    [(1, 2.0), (3, 4.0)],
    [{"a": 1, "b": [1.5, 2]}, {"a": 2, "b": [3.5, 4]}],
    [np.arange(4, dtype=np.int16), np.arange(4, dtype=np.int16)],
    [np.float32(1), np.float32(2)],
    [("x", 1), ("y", 2)],
])
def test_collate_matches_torch(batch):
    ours = as_numpy(default_collate(batch))

    def torch_np(b):
        if isinstance(b, torch.Tensor):
            return b.numpy()
        if isinstance(b, (list, tuple)):
            return [torch_np(x) for x in b]
        if isinstance(b, dict):
            return {k: torch_np(v) for k, v in b.items()}
        return b

    assert_nested_equal(ours, torch_np(tud.default_collate(batch)))
