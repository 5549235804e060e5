"""Tests for engine.tensor_str: PyTorch-identical tensor reprs.

The literal-string tests run everywhere; the comparisons against ``repr`` of real
torch tensors are skipped when torch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.tensor_str import format_tensor, get_printoptions, printoptions, set_printoptions


@pytest.fixture(autouse=True)
def _default_printoptions():
    """Every test starts and ends with default print options (ours and torch's)."""
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")
    try:
        import torch
    except ImportError:
        return
    torch.set_printoptions(profile="default")


def _rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def _dtype_name(arr: np.ndarray) -> str:
    return "bool" if arr.dtype == np.bool_ else str(arr.dtype)


def _assert_matches_torch(arr: np.ndarray, suffix_kind: str | None = None) -> None:
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(arr.copy())
    suffixes: list[str] = []
    if suffix_kind == "requires_grad":
        tensor.requires_grad_()
        suffixes = ["requires_grad=True"]
    elif suffix_kind == "mul":
        tensor = tensor.requires_grad_() * 1
        suffixes = ["grad_fn=<MulBackward0>"]
    expected = repr(tensor)
    assert format_tensor(arr, _dtype_name(arr), suffixes) == expected


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def _random_float32_cases() -> dict[str, np.ndarray]:
    rng = _rng()
    shapes = [(), (1,), (5,), (5, 3), (2, 3, 4), (2000,), (40, 40), (3, 500), (11, 11, 11), (2, 2, 2, 300)]
    return {f"randn{shape}": rng.standard_normal(shape).astype(np.float32) for shape in shapes}


def _special_cases() -> dict[str, np.ndarray]:
    rng = _rng()
    nan, inf = np.nan, np.inf
    return {
        "int_valued": np.array([1.0, 2.0, -3.0, 100.0], np.float32),
        "int_valued_2d": np.arange(12, dtype=np.float32).reshape(3, 4) - 5,
        "int_valued_large": np.array([1.0, 12345678.0], np.float32),
        "int_valued_huge": np.array([3.0, 1e10], np.float64),
        "twos_float64": np.full(5, 2.0),
        "zeros": np.zeros(4, np.float32),
        "neg_zeros": np.array([-0.0, 0.0, -0.0], np.float32),
        "neg_zero_mixed": np.array([-0.0, 1.5, 2.25], np.float32),
        "neg_zero_int_valued": np.array([-0.0, 3.0], np.float32),
        "large": (rng.standard_normal((4, 5)) * 1e9).astype(np.float32),
        "small": (rng.standard_normal((4, 5)) * 1e-6).astype(np.float32),
        "wide_ratio": np.array([0.5, 1234.5, -3.25], np.float32),
        "tiny_single": np.array([1e-5], np.float32),
        "nan_inf": np.array([1.5, nan, inf, -inf, -2.25], np.float32),
        "nan_inf_int_valued": np.array([1.0, nan, inf, -inf, 0.0], np.float32),
        "nan_inf_sci": np.array([1e-7, nan, inf, 3.0], np.float32),
        "only_nan": np.array([nan, nan], np.float32),
        "only_inf_2d": np.array([[inf, -inf], [nan, 0.0]], np.float32),
        "scalar_nan": np.array(nan, np.float32),
        "scalar_int_valued": np.array(27.0, np.float32),
        "scalar_sci": np.array(1.5e-9, np.float32),
        "float64": rng.standard_normal((3, 4)),
        "float64_long": rng.standard_normal(25) * 100,
        "float16": rng.standard_normal((4, 6)).astype(np.float16),
        "float16_sci": (rng.standard_normal(8) * 3e4).astype(np.float16),
        "float16_summarized": rng.standard_normal((50, 50)).astype(np.float16),
        "int64": rng.integers(-1000, 1000, (6, 7)),
        "int64_long": np.arange(2000, dtype=np.int64).reshape(40, 50) * 997,
        "int64_scalar": np.array(-42, np.int64),
        "int32": rng.integers(-50, 50, 30).astype(np.int32),
        "int16": rng.integers(-300, 300, (3, 3)).astype(np.int16),
        "int8": np.array([-128, 0, 127], np.int8),
        "uint8": np.arange(100, dtype=np.uint8),
        "uint8_2d": rng.integers(0, 256, (4, 4)).astype(np.uint8),
        "bool": np.array([True, False]),
        "bool_2d": rng.random((5, 4)) > 0.5,
        "bool_long": rng.random(1500) > 0.5,
        "bool_scalar": np.array(True),
        "empty_float32": np.zeros((0,), np.float32),
        "empty_2d_float32": np.zeros((0, 3), np.float32),
        "empty_3d_float64": np.zeros((2, 0, 3)),
        "empty_int64": np.zeros((0,), np.int64),
        "empty_2d_bool": np.zeros((3, 0), np.bool_),
        "empty_int32": np.zeros((0,), np.int32),
    }


_ALL_CASES = {**_random_float32_cases(), **_special_cases()}


# ---------------------------------------------------------------------------
# Literal expectations (no torch needed)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arr", "dtype_name", "suffixes", "expected"),
    [
        (
            np.full((2, 2), 4.5, np.float32),
            "float32",
            [],
            "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])",
        ),
        (np.full(5, 2.0), "float64", [], "tensor([2., 2., 2., 2., 2.], dtype=torch.float64)"),
        (
            np.array(27.0, np.float32),
            "float32",
            ["grad_fn=<MeanBackward0>"],
            "tensor(27., grad_fn=<MeanBackward0>)",
        ),
        (np.array([True, False]), "bool", [], "tensor([ True, False])"),
        (np.array([1, 2, 3]), "int64", [], "tensor([1, 2, 3])"),
        (np.array([1, -20, 3], np.int32), "int32", [], "tensor([  1, -20,   3], dtype=torch.int32)"),
        (np.zeros((0, 3), np.float32), "float32", [], "tensor([], size=(0, 3))"),
        (np.zeros((0,), np.float32), "float32", [], "tensor([])"),
        (np.zeros((0,), np.int64), "int64", [], "tensor([], dtype=torch.int64)"),
        (np.array([1.5, np.nan, np.inf], np.float32), "float32", [], "tensor([1.5000,    nan,    inf])"),
        (np.array([1.0, np.nan, -np.inf], np.float32), "float32", [], "tensor([1., nan, -inf])"),
        (np.array([1e-5, 1.0], np.float32), "float32", [], "tensor([1.0000e-05, 1.0000e+00])"),
        (np.array([-0.0, 0.0], np.float32), "float32", [], "tensor([-0., 0.])"),
        (
            np.array([1.0, 2.0], np.float32),
            "float32",
            ["requires_grad=True"],
            "tensor([1., 2.], requires_grad=True)",
        ),
        (
            np.array([1.0, 2.0]),
            "float64",
            ["device='cuda:0'", "grad_fn=<AddBackward0>"],
            "tensor([1., 2.], device='cuda:0', dtype=torch.float64, grad_fn=<AddBackward0>)",
        ),
        (
            np.arange(2000, dtype=np.int64),
            "int64",
            [],
            "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
        ),
    ],
)
def test_literal(arr, dtype_name, suffixes, expected):
    assert format_tensor(arr, dtype_name, suffixes) == expected


def test_literal_summarized_2d():
    arr = np.arange(1600, dtype=np.float32).reshape(40, 40) + 100
    expected = (
        "tensor([[ 100.,  101.,  102.,  ...,  137.,  138.,  139.],\n"
        "        [ 140.,  141.,  142.,  ...,  177.,  178.,  179.],\n"
        "        [ 180.,  181.,  182.,  ...,  217.,  218.,  219.],\n"
        "        ...,\n"
        "        [1580., 1581., 1582.,  ..., 1617., 1618., 1619.],\n"
        "        [1620., 1621., 1622.,  ..., 1657., 1658., 1659.],\n"
        "        [1660., 1661., 1662.,  ..., 1697., 1698., 1699.]])"
    )
    assert format_tensor(arr, "float32", []) == expected


def test_literal_line_wrap_and_3d():
    arr = np.arange(30, dtype=np.float32) / 4
    expected = (
        "tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000, 1.2500, 1.5000, 1.7500, 2.0000,\n"
        "        2.2500, 2.5000, 2.7500, 3.0000, 3.2500, 3.5000, 3.7500, 4.0000, 4.2500,\n"
        "        4.5000, 4.7500, 5.0000, 5.2500, 5.5000, 5.7500, 6.0000, 6.2500, 6.5000,\n"
        "        6.7500, 7.0000, 7.2500])"
    )
    assert format_tensor(arr, "float32", []) == expected
    cube = np.arange(8, dtype=np.int64).reshape(2, 2, 2)
    assert format_tensor(cube, "int64", []) == (
        "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])"
    )


def test_literal_printoptions():
    arr = np.array([1.12345, 2.5], np.float32)
    set_printoptions(precision=2)
    assert format_tensor(arr, "float32", []) == "tensor([1.12, 2.50])"
    set_printoptions(profile="default")
    assert format_tensor(arr, "float32", []) == "tensor([1.1235, 2.5000])"
    with printoptions(threshold=5):
        assert format_tensor(np.arange(10), "int64", []) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    assert get_printoptions()["threshold"] == 1000
    set_printoptions(sci_mode=True)
    assert format_tensor(np.array([1.0, 2.5], np.float32), "float32", []) == (
        "tensor([1.0000e+00, 2.5000e+00])"
    )
    set_printoptions(edgeitems=0, threshold=3)
    assert format_tensor(np.arange(5), "int64", []) == "tensor([...], size=(5,))"


# ---------------------------------------------------------------------------
# Comparisons with torch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_ALL_CASES))
def test_matches_torch(name):
    _assert_matches_torch(_ALL_CASES[name])


_FLOAT_CASES = sorted(name for name, arr in _ALL_CASES.items() if arr.dtype.kind == "f" and arr.size > 0)


@pytest.mark.parametrize("name", _FLOAT_CASES)
@pytest.mark.parametrize("suffix_kind", ["requires_grad", "mul"])
def test_matches_torch_with_grad_suffix(name, suffix_kind):
    _assert_matches_torch(_ALL_CASES[name], suffix_kind)


def test_matches_torch_mean_grad_fn():
    torch = pytest.importorskip("torch")
    arr = np.full((3, 3), 27.0, np.float32)
    tensor = torch.from_numpy(arr).requires_grad_().mean()
    value = tensor.detach().numpy()
    assert format_tensor(value, "float32", ["grad_fn=<MeanBackward0>"]) == repr(tensor)


def test_matches_torch_suffix_wraps_to_new_line():
    torch = pytest.importorskip("torch")
    for length in range(1, 30):
        arr = (np.arange(length, dtype=np.float64) + 0.5) * 3
        tensor = torch.from_numpy(arr.copy()).requires_grad_() * 1
        expected = repr(tensor)
        assert format_tensor(arr, "float64", ["grad_fn=<MulBackward0>"]) == expected


_OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"threshold": 10},
    {"threshold": 0},
    {"edgeitems": 1, "threshold": 20},
    {"edgeitems": 0, "threshold": 20},
    {"linewidth": 40},
    {"linewidth": 5},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6},
]


@pytest.mark.parametrize("options", _OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_matches_torch_with_printoptions(options):
    torch = pytest.importorskip("torch")
    set_printoptions(**options)
    torch.set_printoptions(**options)
    for name in sorted(_ALL_CASES):
        arr = _ALL_CASES[name]
        expected = repr(torch.from_numpy(arr.copy()))
        assert format_tensor(arr, _dtype_name(arr), []) == expected, name


def test_set_printoptions_precision_2_matches_torch():
    torch = pytest.importorskip("torch")
    set_printoptions(precision=2)
    torch.set_printoptions(precision=2)
    arr = _rng().standard_normal((5, 3)).astype(np.float32)
    expected = repr(torch.from_numpy(arr))
    assert format_tensor(arr, "float32", []) == expected
    assert "0000" not in expected
    assert get_printoptions() == {
        "precision": 2,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


def test_random_fuzz_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(99)
    for _ in range(200):
        ndim = int(rng.integers(0, 4))
        shape = tuple(int(n) for n in rng.integers(1, 7, ndim))
        scale = 10.0 ** rng.integers(-8, 10)
        arr = rng.standard_normal(shape) * scale
        if rng.random() < 0.3:
            arr = np.round(arr)
        arr = np.array(arr)  # writable, even when 0-d
        if rng.random() < 0.2 and arr.size:
            arr.reshape(-1)[rng.integers(0, arr.size)] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
        dtype = (np.float16, np.float32, np.float64)[int(rng.integers(0, 3))]
        with np.errstate(over="ignore"):
            arr = arr.astype(dtype)
        expected = repr(torch.from_numpy(arr.copy()))
        assert format_tensor(arr, str(arr.dtype), []) == expected, repr(arr)


def test_dtype_suffix_wraps_like_torch():
    """The ``dtype=`` suffix wraps onto its own line where torch's does."""
    torch = pytest.importorskip("torch")
    for width in range(40, 90):
        torch.set_printoptions(linewidth=width)
        set_printoptions(linewidth=width)
        for length in range(1, 12):
            arr = np.arange(length, dtype=np.float16) + np.float16(0.5)
            expected = repr(torch.from_numpy(arr))
            assert format_tensor(arr, "float16", []) == expected, (width, length)


# ---------------------------------------------------------------------------
# A CUDA tensor (the CuPy stand-in) prints its device
# ---------------------------------------------------------------------------
def test_print_cuda_tensor(fake_cuda, capsys):
    x = engine.tensor([1.0, 2.0], device="cuda:1")
    print(x)
    assert capsys.readouterr().out == "tensor([1., 2.], device='cuda:1')\n"
    y = engine.tensor([1.0], device="cuda", requires_grad=True) * 2
    assert repr(y) == "tensor([2.], device='cuda:0', grad_fn=<MulBackward0>)"
    assert x.type() == "torch.cuda.FloatTensor"
