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


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(3, 4), (4, 3, 1), (3, 3, -1), (0, 3), (3, 5, 9), (2, 2, -5)])
def test_triangle_indices_match_torch(name, args):
    torch = pytest.importorskip("torch")
    got = getattr(engine, name)(*args)
    want = getattr(torch, name)(*args)
    assert got.dtype == engine.int64 and got.tolist() == want.tolist() and tuple(got.shape) == tuple(want.shape)
    assert getattr(engine, name)(*args, dtype=engine.int32).dtype == engine.int32


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_triangle_indices_refuse_negative_sizes(name):
    with pytest.raises(RuntimeError, match="row must be non-negative, got-1"):
        getattr(engine, name)(-1, 3)
    with pytest.raises(RuntimeError, match="col must be non-negative, got-2"):
        getattr(engine, name)(3, -2)


def test_broadcast_shapes_as_torch():
    assert engine.broadcast_shapes((3, 1), (2, 1, 4), 4) == (2, 3, 4)
    assert engine.broadcast_shapes((0,), (1,)) == (0,)
    with pytest.raises(RuntimeError, match=r"Attempting to broadcast a dimension of length 4 at -1! Mismatching "
                                           r"argument at index 1 had \(4,\); but expected shape should be "
                                           r"broadcastable to \[3\]"):
        engine.broadcast_shapes((3,), (4,))


@pytest.mark.parametrize("equation", ["ij->ji", "ii->i", "ij->ij", "ii", "ij->j"])
def test_einsum_of_one_operand_owns_its_result(equation):
    x = engine.arange(9.0).reshape(3, 3)
    engine.einsum(equation, x).add_(100.0)
    assert x.sum().item() == 36.0


@pytest.mark.parametrize(("call", "error"), [
    (lambda m, x: m.movedim(x, 0, 5), IndexError),
    (lambda m, x: m.movedim(x, (0, 0), (1, 0)), RuntimeError),
    (lambda m, x: m.movedim(x, (0, 1), (1, 1)), RuntimeError),
    (lambda m, x: m.movedim(x, (0, 1), (1,)), RuntimeError),
])
def test_movedim_refuses_what_torch_refuses(call, error):
    torch = pytest.importorskip("torch")
    with pytest.raises(error) as ours:
        call(engine, engine.zeros(2, 3))
    with pytest.raises(error) as theirs:
        call(torch, torch.zeros(2, 3))
    assert str(ours.value) == str(theirs.value)


def test_movedim_of_a_scalar_and_flip_with_spread_dims():
    assert engine.movedim(engine.tensor(1.5), 0, -1).item() == 1.5
    x = engine.arange(6.0).reshape(2, 3)
    assert x.flip(0, 1).tolist() == x.flip([0, 1]).tolist() == [[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]
