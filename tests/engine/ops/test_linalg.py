"""engine.linalg beyond the op table: LinAlgError, CuPy's NaN-instead-of-raise failures, torch.cross's default
dim, non-contiguous and empty inputs."""

import types
import warnings

import numpy as np
import pytest

import engine
from engine import backend
from engine.linalg import checks
from engine.ops.blas import cross

torch = pytest.importorskip("torch")


def test_linalg_error_is_a_runtime_error_raised_on_failures():
    assert engine.linalg.LinAlgError.__name__ == "LinAlgError"
    assert issubclass(engine.linalg.LinAlgError, RuntimeError)
    singular = engine.zeros(3, 3)
    with pytest.raises(engine.linalg.LinAlgError, match="input matrix is singular"):
        engine.linalg.inv(singular)
    with pytest.raises(engine.linalg.LinAlgError, match="The solver failed"):
        engine.linalg.solve(singular, engine.ones(3))
    with pytest.raises(engine.linalg.LinAlgError, match="leading minor of order 1"):
        engine.linalg.cholesky(-engine.eye(2))
    with pytest.raises(engine.linalg.LinAlgError, match="leading minor of order 2"):
        engine.linalg.cholesky(engine.tensor([[1.0, 0.0], [0.0, float("nan")]]))


def test_nan_result_of_finite_input_is_a_failure():
    """CuPy returns NaN, or a non-positive pivot on the Cholesky diagonal, rather than raising."""
    a = np.zeros((2, 2, 2))
    a[0] = np.eye(2)
    a[1, 0, 0] = 1
    nan = types.SimpleNamespace(linalg=types.SimpleNamespace(
        inv=lambda x: np.full(x.shape, np.nan), cholesky=lambda x: np.full(x.shape, np.nan)), diagonal=np.diagonal)
    with pytest.raises(engine.linalg.LinAlgError, match=r"\(Batch element 1\): The diagonal element 2 is zero"):
        checks.inv_or_raise(nan, a)
    with pytest.raises(engine.linalg.LinAlgError, match=r"\(Batch element 1\): .* leading minor of order 2"):
        checks.cholesky_or_raise(nan, a)
    unfinished = types.SimpleNamespace(linalg=types.SimpleNamespace(cholesky=lambda x: np.tril(x) * [1, -1]),
                                       diagonal=np.diagonal)
    with pytest.raises(engine.linalg.LinAlgError, match=r"\(Batch element 1\): .* leading minor of order 2"):
        checks.cholesky_or_raise(unfinished, a)
    # NaN in, NaN out: not a failure
    assert np.isnan(checks.inv_or_raise(nan, np.full((2, 2), np.nan))).all()


def test_cross_without_dim_takes_the_first_dim_of_size_3():
    a = np.random.default_rng(0).standard_normal((3, 3, 2))
    b = np.random.default_rng(1).standard_normal((3, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.cross(torch.tensor(a), torch.tensor(b)).numpy()
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        out = cross(engine.tensor(a), engine.tensor(b))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["inv", "det", "cholesky", "eigvalsh", "svdvals"])
def test_non_contiguous_input(name):
    base = np.random.default_rng(2).standard_normal((4, 6))
    spd = base @ base.T + 4 * np.eye(4)
    results = []
    for m in (engine, torch):
        x = m.tensor(np.ascontiguousarray(spd.T.repeat(2, axis=1)), requires_grad=True)
        y = x[:, ::2]  # a strided view of spd.T (= spd)
        out = getattr(m.linalg, name)(y)
        out.sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_empty_matrices():
    assert engine.linalg.det(engine.zeros(0, 0)).item() == 1.0
    assert engine.linalg.inv(engine.zeros(2, 0, 0)).shape == (2, 0, 0)
    assert engine.linalg.solve(engine.zeros(0, 3, 3) + engine.eye(3), engine.zeros(0, 3)).shape == (0, 3)


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    """d det / dA = adj(A)^T also where det(A) = 0 (PyTorch 2.13 gives 0 for an exactly singular 2x2 matrix)."""
    a = engine.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=engine.float64, requires_grad=True)
    engine.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    b = engine.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]], dtype=engine.float64, requires_grad=True)
    assert engine.autograd.gradcheck(engine.linalg.det, (b,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("impl", ["numba", "lapack"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_det_gradient_of_a_rank_2_matrix_in_a_batch_is_its_cofactor_matrix(impl, dtype):
    """The op table's singular samples: PyTorch's gradient there depends on its LAPACK, the cofactors do not."""
    rank_2 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    cofactors = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    other = np.array([[2.0, 0.3, 0.0], [0.1, 3.0, 0.2], [0.0, 0.5, 4.0]])
    a = engine.tensor(np.stack([rank_2, other]), dtype=getattr(engine, dtype), requires_grad=True)
    with backend.prefer(impl):
        engine.linalg.det(a).sum().backward()
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(a.grad.numpy()[0], cofactors, atol=tolerance)
    np.testing.assert_allclose(a.grad.numpy()[1], np.linalg.det(other) * np.linalg.inv(other).T, rtol=tolerance)


@pytest.mark.parametrize("hermitian", [False, True])
def test_pinv_gradient_of_a_rank_deficient_matrix_is_finite_as_pytorch(hermitian):
    """Through the SVD this would divide by the zero gap between repeated zero singular values."""
    a = np.diag([2.0, 0.0, 0.0]) + np.outer([1.0, 1.0, 0.0], [1.0, 1.0, 0.0])
    weights = np.arange(9.0).reshape(3, 3)
    grads = []
    for m in (engine, torch):
        x = m.tensor(a, requires_grad=True)
        (m.linalg.pinv(x, hermitian=hermitian) * m.tensor(weights)).sum().backward()
        grads.append(x.grad.numpy())
    assert np.isfinite(grads[0]).all()
    np.testing.assert_allclose(*grads, atol=1e-12)


@pytest.mark.parametrize(("rows", "mode"), [(30, "use_mm_for_euclid_dist_if_necessary"), (4, "use_mm_for_euclid_dist"),
                                            (30, "donot_use_mm_for_euclid_dist")])
def test_cdist_over_25_rows_takes_pytorch_matrix_product_route(rows, mode):
    """Past 25 rows (or when asked) Euclidean distances come from one matrix product, as PyTorch's do: values
    and gradients agree, a coincident pair included (its gradient stays finite)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(rows)
    a, b = rng.standard_normal((2, rows, 5), dtype=np.float32), rng.standard_normal((2, 7, 5), dtype=np.float32)
    a[:, 1] = b[:, 0]
    ours = [engine.tensor(a, requires_grad=True), engine.tensor(b, requires_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    d_ours, d_theirs = engine.cdist(*ours, compute_mode=mode), torch.cdist(*theirs, compute_mode=mode)
    (d_ours * d_ours.detach()).sum().backward()
    (d_theirs * d_theirs.detach()).sum().backward()
    got, want = d_ours.detach().numpy(), d_theirs.detach().numpy()
    # the coincident pair is 0 up to the product's cancellation (about 1e-3 in float32, as in PyTorch)
    assert got[:, 1, 0].max() < 3e-3 and want[:, 1, 0].max() < 3e-3
    got[:, 1, 0] = want[:, 1, 0] = 0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    for x, t in zip(ours, theirs):
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-2)


def test_cdist_refuses_an_unknown_compute_mode():
    with pytest.raises(ValueError, match="x is not a valid value for compute_mode"):
        engine.cdist(engine.ones(2, 3), engine.ones(2, 3), compute_mode="x")
