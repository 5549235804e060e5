"""ParameterList, ParameterDict and ModuleDict against PyTorch's: registration, state-dict keys, repr, indexing,
append/extend/update semantics (including a plain dict's sorted order) and errors; nn.parallel's module path."""

from collections import OrderedDict

import numpy as np
import pytest
from tutorial_support import torch_is_engine

import engine

torch = pytest.importorskip("torch")


def _both(build):
    """``build(m)`` for the engine and for torch."""
    return build(engine), build(torch)


def _same_errors(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(engine)
    assert str(ours.value) == str(theirs.value)


def _parameter_list(m):
    plist = m.nn.ParameterList([m.ones(2, 3), m.nn.Parameter(m.zeros(4)), "not a tensor"])
    plist.append(m.full((1,), 2.0))
    plist.extend([m.ones(2, 2, dtype=m.float64)])
    plist += [m.nn.Parameter(m.ones(3), requires_grad=False)]
    return plist


def test_parameter_list_matches_pytorch():
    ours, theirs = _both(_parameter_list)
    assert repr(ours) == repr(theirs)
    assert len(ours) == len(theirs) == 6
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [type(p).__name__ for p in ours] == [type(p).__name__ for p in theirs]
    assert [getattr(p, "requires_grad", None) for p in ours] == [getattr(p, "requires_grad", None) for p in theirs]
    assert ours[-1] is ours[5] and isinstance(ours[1:4], engine.nn.ParameterList)
    assert repr(ours[1:4]) == repr(theirs[1:4])
    ours[0] = engine.zeros(5)
    theirs[0] = torch.zeros(5)
    assert repr(ours) == repr(theirs) and isinstance(ours[0], engine.nn.Parameter)
    assert "0" not in dir(ours)


def test_parameter_list_in_a_module_trains():
    class Net(engine.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = engine.nn.ParameterList([engine.ones(3) * (i + 1) for i in range(2)])

        def forward(self, x):
            for w in self.weights:
                x = x * w
            return x.sum()

    net = Net()
    assert list(net.state_dict()) == ["weights.0", "weights.1"]
    net(engine.ones(3)).backward()
    np.testing.assert_array_equal(net.weights[0].grad.numpy(), np.full(3, 2.0))
    assert len(list(net.parameters())) == 2


def test_parameter_list_errors_match_pytorch():
    _same_errors(lambda m: m.nn.ParameterList()[0])
    _same_errors(lambda m: m.nn.ParameterList([m.ones(1)])[-2])
    _same_errors(lambda m: m.nn.ParameterList().extend(m.ones(2)))
    _same_errors(lambda m: m.nn.ParameterList()(m.ones(1)))


def _parameter_dict(m):
    pdict = m.nn.ParameterDict({"b": m.ones(2), "a": m.nn.Parameter(m.zeros(3, 3))})  # a plain dict: sorted
    pdict["c"] = m.ones(1, 2, dtype=m.float64)
    pdict.update([("e", m.ones(4)), ("d", "text")])
    pdict.update(OrderedDict([("g", m.ones(1)), ("f", m.zeros(1))]))
    return pdict


def test_parameter_dict_matches_pytorch():
    ours, theirs = _both(_parameter_dict)
    assert repr(ours) == repr(theirs)
    assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [type(v).__name__ for v in ours.values()] == [type(v).__name__ for v in theirs.values()]
    assert "a" in ours and "zz" not in ours and ours.get("zz", 3) == 3
    assert ours.setdefault("h", engine.ones(2)) is ours["h"]
    assert theirs.setdefault("h", torch.ones(2)) is theirs["h"]
    assert ours.pop("b").shape == (2,) and theirs.pop("b").shape == (2,)
    assert ours.popitem()[0] == theirs.popitem()[0]
    assert list(reversed(ours)) == list(reversed(theirs))
    merged_ours = ours | engine.nn.ParameterDict({"z": engine.ones(1)})
    merged_theirs = theirs | torch.nn.ParameterDict({"z": torch.ones(1)})
    assert list(merged_ours) == list(merged_theirs) and list(ours) == list(theirs)
    copy = ours.copy()
    assert list(copy) == list(ours) and copy["a"] is ours["a"]
    ours.clear()
    assert len(ours) == 0 and not list(ours.parameters())


def test_parameter_dict_errors_match_pytorch():
    _same_errors(lambda m: m.nn.ParameterDict()[1])
    _same_errors(lambda m: m.nn.ParameterDict().update(3))
    _same_errors(lambda m: m.nn.ParameterDict().update([1]))
    _same_errors(lambda m: m.nn.ParameterDict().update([("a", 1, 2)]))
    _same_errors(lambda m: m.nn.ParameterDict()["missing"])
    _same_errors(lambda m: m.nn.ParameterDict()(m.ones(1)))


def test_module_dict_matches_pytorch():
    def build(m):
        d = m.nn.ModuleDict({"b": m.nn.ReLU(), "a": m.nn.Linear(2, 3)})  # insertion order kept, not sorted
        d.update([("c", m.nn.Tanh())])
        d["d"] = m.nn.Linear(3, 1, bias=False)
        return d

    ours, theirs = _both(build)
    assert repr(ours) == repr(theirs)
    assert list(ours) == list(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.pop("c")).__name__ == type(theirs.pop("c")).__name__
    assert list(ours.keys()) == list(theirs.keys())
    _same_errors(lambda m: m.nn.ModuleDict().update(3))
    _same_errors(lambda m: m.nn.ModuleDict().update([1]))
    _same_errors(lambda m: m.nn.ModuleDict().update([("a",)]))
    _same_errors(lambda m: m.nn.ModuleDict()["zz"])


def test_unflatten_matches_pytorch():
    for size in ((2, 3), [2, 3]):
        ours, theirs = _both(lambda m, size=size: m.nn.Unflatten(1, size))
        assert repr(ours) == repr(theirs)
        assert tuple(ours(engine.ones(4, 6)).shape) == tuple(theirs(torch.ones(4, 6)).shape)
    _same_errors(lambda m: m.nn.Unflatten(1, (2, 3.0)))
    _same_errors(lambda m: m.nn.Unflatten(1, 6))


def test_module_list_repr_folds_runs_as_pytorch():
    def stack(m):
        return m.nn.ModuleList([m.nn.Linear(2, 2), m.nn.Linear(2, 2), m.nn.ReLU(), m.nn.Linear(2, 2),
                                m.nn.ModuleList([m.nn.Tanh()] * 3)])

    for make in (stack, lambda m: m.nn.ModuleList(), lambda m: m.nn.ModuleList([m.nn.ReLU()]),
                 lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 16), 3,
                                                   enable_nested_tensor=False)):
        ours, theirs = _both(make)
        assert repr(ours) == repr(theirs)


def test_nn_parallel_is_torch_nn_parallel_path():
    with torch_is_engine():
        from torch.nn.parallel import DataParallel

    assert DataParallel is engine.nn.DataParallel
    assert engine.nn.parallel.DataParallel is engine.nn.DataParallel
