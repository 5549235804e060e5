"""Tensor creation, dtypes, the NumPy bridge, conversions and printing."""

import pickle
import re
import warnings

import numpy as np
import pytest
from device_support import NUMPY_ON_CUDA

import engine

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def test_default_dtypes():
    assert engine.tensor([1.5, 2]).dtype is engine.float32
    assert engine.tensor([1, 2]).dtype is engine.int64
    assert engine.tensor([True, False]).dtype is engine.bool
    assert engine.tensor([1, 2.5]).dtype is engine.float32
    assert engine.tensor(np.ones(3)).dtype is engine.float64
    assert engine.zeros(2).dtype is engine.float32
    assert engine.arange(5).dtype is engine.int64
    assert engine.arange(0, 1, 0.25).dtype is engine.float32
    assert engine.randint(0, 5, (3,)).dtype is engine.int64
    assert engine.full((2,), 7).dtype is engine.int64
    assert engine.full((2,), 7.0).dtype is engine.float32


def test_dtype_aliases_and_names():
    assert engine.float is engine.float32 and engine.double is engine.float64
    assert engine.long is engine.int64 and engine.int is engine.int32 and engine.half is engine.float16
    assert repr(engine.float64) == "torch.float64"
    assert engine.float32.is_floating_point and not engine.int64.is_floating_point
    x = engine.ones(2)
    assert x.double().dtype is engine.float64 and x.long().dtype is engine.int64
    assert x.to(engine.float16).dtype is engine.float16 and x.half().dtype is engine.float16
    assert x.to(dtype=engine.int32).dtype is engine.int32 and x.int().dtype is engine.int32
    assert x.bool().dtype is engine.bool


def test_size_is_a_tuple():
    x = engine.Tensor(5, 3)
    s = x.size()
    assert isinstance(s, tuple) and s == (5, 3) and isinstance(s, engine.Size)
    assert repr(s) == "torch.Size([5, 3])"
    assert x.shape == (5, 3) and x.size(1) == 3 and x.size(-1) == 3 and s[1:] == (3,)
    assert isinstance(s[1:], engine.Size)
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 15 and len(x) == 5


def test_legacy_constructors():
    assert engine.Tensor(5, 3).shape == (5, 3) and engine.Tensor(5, 3).dtype is engine.float32
    t = engine.Tensor([2, 3])
    assert t.dtype is engine.float32 and t.tolist() == [2.0, 3.0]
    assert engine.FloatTensor(2, 2).dtype is engine.float32
    assert engine.LongTensor([3]).dtype is engine.int64 and engine.LongTensor([3]).tolist() == [3]
    assert engine.DoubleTensor([1]).dtype is engine.float64
    assert isinstance(engine.ones(2), engine.FloatTensor) and not isinstance(engine.ones(2), engine.LongTensor)
    assert engine.ones(2).type() == "torch.FloatTensor"
    assert engine.ones(2).type(engine.LongTensor).dtype is engine.int64
    assert engine.Tensor(engine.Size([2, 3])).shape == (2, 3)
    assert engine.Tensor().shape == (0,)
    a = np.ones(3, dtype=np.float32)
    shared = engine.Tensor(a)
    a[0] = 5
    assert shared[0].item() == 5  # float32 arrays are shared, as in PyTorch
    assert engine.Tensor(np.ones(3)).dtype is engine.float32  # other dtypes are converted (copied)


def test_creation_functions():
    assert engine.empty(2, 3).shape == (2, 3)
    np.testing.assert_array_equal(engine.zeros(2, 3).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(engine.ones((2, 3)).numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(engine.full((2,), 3.5).numpy(), [3.5, 3.5])
    np.testing.assert_array_equal(engine.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(engine.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_array_equal(engine.arange(1, 10, 3).numpy(), [1, 4, 7])
    np.testing.assert_allclose(engine.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    r = engine.rand(1000)
    assert r.min().item() >= 0 and r.max().item() < 1 and r.dtype is engine.float32
    n = engine.randn(10000)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    ri = engine.randint(3, 6, (1000,))
    assert ri.min().item() == 3 and ri.max().item() == 5
    assert sorted(engine.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    x = engine.ones(2, 3, dtype=engine.float64)
    for like in (engine.zeros_like, engine.ones_like, engine.empty_like, engine.rand_like, engine.randn_like):
        y = like(x)
        assert y.shape == (2, 3) and y.dtype is engine.float64
    assert engine.randn_like(x, dtype=engine.float).dtype is engine.float32
    assert engine.full_like(x, 2).tolist() == [[2.0] * 3] * 2
    assert x.new_ones(2, dtype=engine.int64).dtype is engine.int64
    assert x.new_zeros((1, 2)).dtype is engine.float64
    assert x.new_tensor([1, 2]).dtype is engine.float64
    assert engine.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        engine.zeros(-1)


def test_torch_range_is_inclusive_and_warns():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        a = engine.range(1, 16)
    assert a.dtype is engine.float32 and a.tolist() == [float(i) for i in range(1, 17)]
    np.testing.assert_array_equal(a.view(4, 4).numpy()[0], [1, 2, 3, 4])


def test_manual_seed_reproduces():
    engine.manual_seed(7)
    a = engine.rand(5)
    engine.manual_seed(7)
    b = engine.rand(5)
    assert a.tolist() == b.tolist()
    g = engine.Generator().manual_seed(3)
    c = engine.randn(4, generator=g)
    g.manual_seed(3)
    assert engine.randn(4, generator=g).tolist() == c.tolist()
    state = engine.get_rng_state()
    d = engine.rand(3)
    engine.set_rng_state(state)
    assert engine.rand(3).tolist() == d.tolist()


def test_numpy_bridge_shares_memory():
    a = engine.ones(5)
    b = a.numpy()
    a.add_(1)
    np.testing.assert_array_equal(b, [2, 2, 2, 2, 2])
    b[0] = -1000
    assert a[0].item() == -1000
    c = np.ones(5)
    d = engine.from_numpy(c)
    np.add(c, 1, out=c)
    assert d.dtype is engine.float64 and d.tolist() == [2.0] * 5
    e = engine.tensor(c)  # copies
    c[0] = 9
    assert e[0].item() == 2


def test_numpy_refuses_tensors_that_require_grad():
    x = engine.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1, 1]


def test_unsupported_numpy_dtype():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        engine.from_numpy(np.array(["a"]))


def test_tensor_from_tensor_warns_like_pytorch():
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        engine.tensor(engine.ones(2))


def test_python_conversions():
    x = engine.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert x[0, 0].item() == 1.5 and float(x[0, 0]) == 1.5 and int(x[1, 1]) == 4
    assert isinstance(engine.tensor([3]).item(), int)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(x)
    assert [row.tolist() for row in x] == [[1.5, 2.0], [3.0, 4.0]]
    assert list(range(10))[engine.tensor(3)] == 3
    assert f"{engine.tensor(0.5):.2f}" == "0.50"


def test_pickle_and_deepcopy():
    import copy

    x = engine.randn(3, 2)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == x.tolist()
    w = engine.ones(2, requires_grad=True)
    w2 = copy.deepcopy(w)
    assert w2.requires_grad and w2 is not w and w2.tolist() == [1.0, 1.0]


def test_printing():
    assert repr(engine.ones(2, 2) * 4.5) == "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])"
    assert repr(engine.from_numpy(np.ones(5) * 2)) == "tensor([2., 2., 2., 2., 2.], dtype=torch.float64)"
    x = engine.ones(2, 2, requires_grad=True)
    assert repr(x) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"
    assert repr(((x + 2) * (x + 2) * 3).mean()) == "tensor(27., grad_fn=<MeanBackward0>)"
    assert str(engine.tensor([1, 2])) == "tensor([1, 2])"


@needs_torch
def test_printing_matches_pytorch_on_random_values():
    rng = np.random.default_rng(0)
    for shape in [(5, 3), (4,), (), (2, 3, 2)]:
        a = np.asarray(rng.standard_normal(shape) * 10, dtype=np.float32)
        assert repr(engine.from_numpy(a)) == repr(torch.from_numpy(a))


def test_strides_and_contiguity():
    x = engine.zeros(3, 4)
    assert x.stride() == (4, 1) and x.is_contiguous()
    t = x.t()
    assert t.stride() == (1, 4) and not t.is_contiguous() and t.contiguous().is_contiguous()


def test_no_warnings_from_numpy_on_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert engine.tensor([1e4]).exp().isinf().all()
        assert engine.tensor([0.0]).log().item() == float("-inf")


# ----- a CUDA tensor (the CuPy stand-in) to the host: numpy(), item(), tolist(), data_ptr() -----
def test_numpy_on_cuda_tensor_raises(fake_cuda):
    x = engine.randn(2, 2, device="cuda")
    with pytest.raises(TypeError) as info:
        x.numpy()
    assert str(info.value) == NUMPY_ON_CUDA.format("cuda:0")
    with pytest.raises(TypeError, match=re.escape(NUMPY_ON_CUDA.format("cuda:1"))):
        x.to("cuda:1").numpy()


def test_host_conversions_of_cuda_tensor(fake_cuda):
    x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")
    host = x.cpu().numpy()
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, [[1.0, 2.0], [3.0, 4.0]])
    assert x[1, 0].item() == 3.0
    assert x.sum().item() == 10.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert float(x[0, 1]) == 2.0
    assert int(x[1, 1]) == 4
    assert bool(x[0, 0])
    assert type(np.asarray(x)) is np.ndarray  # __array__ copies to the host
    np.testing.assert_array_equal(x.numpy(force=True), host)


def test_data_ptr_of_cuda_tensor(fake_cuda):
    x = engine.zeros(4, device="cuda")
    assert isinstance(x.data_ptr(), int)
    assert x[2:].data_ptr() == x.data_ptr() + 2 * x.element_size()
