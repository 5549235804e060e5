"""``engine.autograd.Variable`` (``engine/autograd/__init__.py``): the pre-0.4 wrapper is the tensor API."""

import warnings

import pytest

import engine
from engine.autograd import Variable


def test_variable_is_the_tensor_api():
    t = engine.ones(2)
    v = Variable(t)
    assert isinstance(v, engine.Tensor) and isinstance(v, Variable)
    v[0] = 3
    assert t[0].item() == 3  # shares data
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(t, volatile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Variable(t, requires_grad=True).requires_grad
