"""Custom ``engine.autograd.Function``s (``engine/autograd/function.py``)."""

import numpy as np
import pytest

import engine
from engine.autograd import Function, gradcheck


class Exp(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


def test_custom_function():
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    MulConstant.apply(y, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.0, 1.0]), rtol=1e-6)
    x64 = engine.randn(4, dtype=engine.float64, requires_grad=True)
    assert gradcheck(Exp.apply, (x64,))
    assert gradcheck(lambda t: MulConstant.apply(t, 2.5), (x64,))


def test_custom_function_saved_tensors_freed():
    x = engine.tensor([1.0], requires_grad=True)
    y = Exp.apply(x)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
