"""``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode`` (``engine/autograd/grad_mode.py``)."""

import engine


def test_grad_modes():
    x = engine.ones(2, requires_grad=True)
    with engine.no_grad():
        assert not (x * 2).requires_grad
        with engine.enable_grad():
            assert (x * 2).requires_grad
    assert engine.is_grad_enabled()

    @engine.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with engine.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    engine.set_grad_enabled(False)
    assert not engine.is_grad_enabled()
    engine.set_grad_enabled(True)
    with engine.inference_mode():
        assert not (x * 2).requires_grad
    with engine.inference_mode(False):
        assert (x * 2).requires_grad

    @engine.inference_mode()
    def g(t):
        return t * 2

    assert not g(x).requires_grad and engine.is_grad_enabled()
