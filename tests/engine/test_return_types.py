"""``torch.return_types``: ops that return several tensors give a named tuple of the op's own type, with torch's
field names, printed as torch prints it (tutorials print them)."""

import pickle

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

A = np.random.default_rng(0).standard_normal((3, 3))
X = np.random.default_rng(1).standard_normal((2, 4))

CALLS = {
    "max": lambda m, x, a: m.max(x, 1),
    "min": lambda m, x, a: x.min(0),
    "sort": lambda m, x, a: m.sort(x),
    "topk": lambda m, x, a: x.topk(2),
    "kthvalue": lambda m, x, a: m.kthvalue(x, 2),
    "median": lambda m, x, a: x.median(1),
    "nanmedian": lambda m, x, a: m.nanmedian(x, 1),
    "mode": lambda m, x, a: m.mode(x.round(), 1),
    "cummax": lambda m, x, a: m.cummax(x, 1),
    "cummin": lambda m, x, a: x.cummin(0),
    "aminmax": lambda m, x, a: m.aminmax(x),
    "linalg_slogdet": lambda m, x, a: m.linalg.slogdet(a),
    "linalg_qr": lambda m, x, a: m.linalg.qr(a),
    "linalg_eigh": lambda m, x, a: m.linalg.eigh(a + a.T),
    "linalg_svd": lambda m, x, a: m.linalg.svd(a),
    "svd": lambda m, x, a: m.svd(a),
    "qr": lambda m, x, a: m.qr(a),
    "linalg_lu_factor": lambda m, x, a: m.linalg.lu_factor(a),
    "linalg_lu": lambda m, x, a: m.linalg.lu(a),
}


@pytest.mark.parametrize("name", CALLS)
def test_type_name_fields_and_printing_match_torch(name):
    ours = CALLS[name](engine, engine.tensor(X), engine.tensor(A))
    theirs = CALLS[name](torch, torch.tensor(X), torch.tensor(A))
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert ours._fields == tuple(theirs._fields) if hasattr(theirs, "_fields") else len(ours) == len(theirs)
    first = repr(ours).splitlines()[:2]
    assert first[0] == repr(theirs).splitlines()[0] == f"torch.return_types.{name}("
    assert first[1].split("=")[0] == repr(theirs).splitlines()[1].split("=")[0]
    values, *_ = ours
    assert values is ours[0] and isinstance(ours, tuple)


def test_a_result_unpacks_indexes_and_pickles_as_a_tuple():
    values, indices = engine.max(engine.tensor(X), 1)
    result = engine.max(engine.tensor(X), 1)
    assert result.values is result[0] and result.indices is result[1]
    assert isinstance(engine.return_types.max((values, indices)), tuple)
    back = pickle.loads(pickle.dumps(result))
    assert type(back) is engine.return_types.max and np.array_equal(back.values.numpy(), values.numpy())
