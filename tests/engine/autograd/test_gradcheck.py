"""``engine.autograd.gradcheck`` (``engine/autograd/gradcheck.py``)."""

import pytest

import engine
from engine.autograd import Function, gradcheck


def test_gradcheck_catches_wrong_gradient():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, t):
            return t * t

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 * t * g

    x = engine.randn(3, dtype=engine.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_gradcheck_warns_on_float32():
    x = engine.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_inputs_and_outputs_as_lists():
    """A list of inputs is taken as their tuple, and a function's list of outputs as theirs, as PyTorch's do."""
    a, b = (engine.randn(3, dtype=engine.float64, requires_grad=True) for _ in range(2))
    assert gradcheck(lambda x, y: [x * y, x + y], [a, b])
    assert engine.autograd.gradgradcheck(lambda x, y: [x * y, x.sin()], [a, b])
