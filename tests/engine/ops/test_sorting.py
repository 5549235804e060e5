"""Sorting and selection beyond the op table (``op_table/sorting.py`` compares the values with PyTorch):
the named results, unique's place in the graph, and the integers that unique counts rather than sorts."""

import numpy as np
import pytest
import torch

import engine


def test_results_are_named_like_torch_return_types():
    x = engine.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    for result in (x.sort(), x.topk(2), x.kthvalue(1), x.median(1), x.nanmedian(1), x.mode()):
        values, indices = result
        assert result.values is values and result.indices is indices
        assert indices.dtype == engine.int64


@pytest.mark.parametrize(
    "call, derivative",
    [
        (lambda x: engine.unique(x), "_unique2"),
        (lambda x: x.unique(dim=0, return_counts=True)[0], "unique_dim"),
        (lambda x: engine.unique_consecutive(x, return_inverse=True)[0], "unique_consecutive"),
    ],
)
def test_unique_values_require_grad_but_have_no_derivative(call, derivative):
    x = engine.tensor([[1.0, 2.0], [1.0, 2.0]], requires_grad=True)
    values = call(x)
    assert values.requires_grad
    with pytest.raises(NotImplementedError, match=f"the derivative for '{derivative}' is not implemented"):
        values.sum().backward()


def test_unique_counts_and_inverse_need_no_grad():
    x = engine.tensor([2.0, 1.0, 2.0], requires_grad=True)
    _, inverse, counts = engine.unique(x, return_inverse=True, return_counts=True)
    assert not inverse.requires_grad and not counts.requires_grad
    assert inverse.tolist() == [1, 0, 1] and counts.tolist() == [1, 2]


def test_isin_needs_a_tensor():
    with pytest.raises(TypeError, match="isin"):
        engine.isin(1, 2)


@pytest.mark.parametrize("values", [
    np.array([[5, -3, 5], [7, -3, 0]], np.int64),  # negatives: counted from the least
    np.array([-128, 127, 0, 127, -128], np.int8),  # the whole range of a narrow type
    np.array([0, 10**12, 3, 3], np.int64),  # a span far wider than the count: sorted instead
    np.array([True, False, True]),
    np.random.default_rng(0).integers(200, 260, 5000).astype(np.uint8),
], ids=["negative", "int8 range", "wide span", "bool", "uint8"])
def test_unique_of_integers_counted(values):
    ours = engine.unique(engine.tensor(values), return_inverse=True, return_counts=True)
    theirs = torch.unique(torch.tensor(values), return_inverse=True, return_counts=True)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == engine.tensor(b.numpy()).dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
