"""What the op table cannot say about the shape additions: views that write through, and warnings."""

import warnings

import pytest

import engine


def test_meshgrid_warns_without_indexing_as_torch_does():
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        a, b = engine.meshgrid(engine.arange(2), engine.arange(3))
    assert a.shape == (2, 3) and b.shape == (2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine.meshgrid(engine.arange(2), engine.arange(3), indexing="ij")


@pytest.mark.parametrize(
    "make_view",
    [
        lambda x: x.diagonal(1),
        lambda x: x.unfold(1, 2, 2),
        lambda x: engine.tensor_split(x, [1, 3], dim=1)[1],
    ],
    ids=["diagonal", "unfold", "tensor_split"],
)
def test_views_write_through_to_their_base(make_view):
    x = engine.zeros(3, 4)
    view = make_view(x)
    assert view._base is x
    view.fill_(7.0)
    assert x.sum().item() == 7.0 * view.numel()


def test_inplace_on_diagonal_view_reaches_the_gradient():
    a = engine.randn(3, 3, requires_grad=True)
    b = a * 1
    b.diagonal().mul_(2)
    b.sum().backward()
    assert engine.equal(a.grad, engine.ones(3, 3) + engine.eye(3))


def test_tril_inplace_keeps_identity_and_bumps_version():
    x = engine.ones(3, 3)
    version = x._version_counter[0] if x._version_counter else 0
    assert x.tril_() is x
    assert engine.equal(x, engine.ones(3, 3).tril())
    assert x._version_counter[0] == version + 1
