"""nn.init's structured initialisers against torch.nn.init's: orthogonality and gain (orthogonal_), truncation
bounds and moments (trunc_normal_), zeros per column and spread (sparse_), the identity convolution (dirac_),
eye_; their errors, and that engine.manual_seed governs them."""

import numpy as np
import pytest

import engine
from engine.nn import init

torch = pytest.importorskip("torch")


def _fill(m, fn, shape, *args, dtype="float32", **kwargs):
    t = m.empty(*shape, dtype=getattr(m, dtype))
    out = getattr(m.nn.init, fn)(t, *args, **kwargs)
    assert out is t
    return t.detach().numpy()


@pytest.mark.parametrize("shape, gain", [((6, 6), 1.0), ((4, 10), 2.0), ((12, 3), 0.5), ((8, 3, 3, 2), 1.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal_matches_torch_structure(shape, gain, dtype):
    for m in (engine, torch):
        w = _fill(m, "orthogonal_", shape, gain, dtype=dtype).reshape(shape[0], -1)
        assert w.dtype == np.dtype(dtype)
        rows, cols = w.shape
        gram = w @ w.T if rows <= cols else w.T @ w  # the smaller side is orthonormal, times gain squared
        np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5 if dtype == "float32" else 1e-12)


def test_orthogonal_is_uniform_in_sign():
    """The sign fix (Q times sign(diag R)) makes the distribution uniform: without it the diagonal of a square
    Q leans positive."""
    engine.manual_seed(0)
    diag = np.concatenate([np.diag(_fill(engine, "orthogonal_", (3, 3))) for _ in range(300)])
    assert abs(np.mean(diag > 0) - 0.5) < 0.06


@pytest.mark.parametrize("a, b, mean, std", [(-2.0, 2.0, 0.0, 1.0), (-0.5, 0.5, 0.0, 1.0), (0.0, 3.0, 1.0, 2.0)])
def test_trunc_normal_bounds_and_moments_match_torch(a, b, mean, std):
    ours = _fill(engine, "trunc_normal_", (200, 300), mean, std, a, b)
    theirs = _fill(torch, "trunc_normal_", (200, 300), mean, std, a, b)
    assert ours.min() >= a and ours.max() <= b
    assert abs(ours.mean() - theirs.mean()) < 0.02 * std and abs(ours.std() - theirs.std()) < 0.02 * std


def test_trunc_normal_far_in_a_tail_fills_and_warns_as_torch():
    """A window 10 std out: the uniform-proposal sampler, not endless normal redraws."""
    with pytest.warns(UserWarning) as ours_warning:
        ours = _fill(engine, "trunc_normal_", (100, 100), 0.0, 1.0, 10.0, 11.0)
    with pytest.warns(UserWarning) as theirs_warning:
        theirs = _fill(torch, "trunc_normal_", (100, 100), 0.0, 1.0, 10.0, 11.0)
    assert str(ours_warning[0].message) == str(theirs_warning[0].message)
    assert ours.min() >= 10 and ours.max() <= 11
    assert abs(ours.mean() - theirs.mean()) < 0.01 and abs(ours.std() - theirs.std()) < 0.01


@pytest.mark.parametrize("shape, sparsity", [((10, 40), 0.3), ((7, 5), 0.5), ((4, 6), 0.0), ((5, 3), 1.0)])
def test_sparse_zeros_per_column_match_torch(shape, sparsity):
    ours = _fill(engine, "sparse_", shape, sparsity, std=0.05)
    theirs = _fill(torch, "sparse_", shape, sparsity, std=0.05)
    np.testing.assert_array_equal((ours == 0).sum(axis=0), (theirs == 0).sum(axis=0))
    if sparsity < 1:
        assert abs(ours[ours != 0].std() - 0.05) < 0.02


def test_sparse_zero_rows_are_random():
    engine.manual_seed(1)
    w = _fill(engine, "sparse_", (20, 200), 0.25)
    hits = (w == 0).mean(axis=1)  # each row is zeroed in about a quarter of the columns
    assert hits.min() > 0.1 and hits.max() < 0.4


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((3, 5, 3, 3), 1), ((4, 2, 3, 3, 3), 2),
                                           ((2, 4, 4, 4), 1), ((3, 3, 5, 5), 1), ((4, 2, 3, 3), 2)])
def test_dirac_equals_torch_and_is_identity_conv(shape, groups):
    ours = _fill(engine, "dirac_", shape, groups)
    np.testing.assert_array_equal(ours, _fill(torch, "dirac_", shape, groups))
    if len(shape) == 4 and shape[0] == shape[1] * groups and shape[2] % 2:
        x = np.random.default_rng(0).standard_normal((1, shape[1] * groups, 6, 6)).astype(np.float32)
        y = engine.nn.functional.conv2d(engine.tensor(x), engine.tensor(ours), padding=shape[2] // 2, groups=groups)
        np.testing.assert_allclose(y.numpy(), x, atol=1e-6)


def test_eye_matches_torch():
    np.testing.assert_array_equal(_fill(engine, "eye_", (3, 5)), _fill(torch, "eye_", (3, 5)))


@pytest.mark.parametrize("fn, shape, args", [
    ("orthogonal_", (3,), ()),
    ("sparse_", (3, 4, 2), (0.1,)),
    ("dirac_", (3, 3), ()),
    ("dirac_", (5, 2, 3, 3), (2,)),
    ("eye_", (2, 2, 2), ()),
])
def test_errors_match_torch(fn, shape, args):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn.init, fn)(torch.empty(*shape), *args)
    with pytest.raises(ValueError) as ours:
        getattr(init, fn)(engine.empty(*shape), *args)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("fn, args", [("orthogonal_", ()), ("sparse_", (0.3,)), ("trunc_normal_", ())])
def test_manual_seed_governs(fn, args):
    engine.manual_seed(5)
    first = _fill(engine, fn, (6, 4), *args)
    engine.manual_seed(5)
    np.testing.assert_array_equal(_fill(engine, fn, (6, 4), *args), first)


def test_orthogonal_of_an_empty_tensor_is_a_no_op():
    t = engine.empty(0, 3)
    assert init.orthogonal_(t) is t


@pytest.mark.parametrize("fn, shape, args", [
    ("orthogonal_", (4, 6), ()), ("sparse_", (6, 4), (0.5,)), ("dirac_", (4, 2, 3, 3), (2,)),
    ("trunc_normal_", (50, 40), (0.0, 1.0, -0.5, 0.5)), ("trunc_normal_", (50, 40), (0.0, 1.0, 1.5, 2.5)),
])
def test_on_the_cupy_stand_in(fake_cuda, fn, shape, args):
    t = engine.empty(*shape, device="cuda")
    assert getattr(init, fn)(t, *args) is t and t.device.type == "cuda"
    w = t.cpu().numpy()
    if fn == "orthogonal_":
        np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-5)
    elif fn == "sparse_":
        assert ((w == 0).sum(axis=0) == 3).all()
    elif fn == "dirac_":
        np.testing.assert_array_equal(w, _fill(torch, "dirac_", shape, *args))
    else:
        assert w.min() >= args[2] and w.max() <= args[3]
