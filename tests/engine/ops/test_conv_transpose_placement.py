"""The last pass of a strided transposed convolution: the phases' outputs placed into the result with the bias,
by the compiled kernel and by NumPy, agree with each other and with PyTorch, on one thread and on two, and
positions that no phase reaches (a kernel smaller than the stride) hold the bias."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops.conv_transpose import _PLACEMENTS, _CompiledPlacement, _StridedPlacement

CASES = [  # input, weight, options
    ((3, 4, 5, 6), (4, 2, 4, 4), {"stride": 2, "padding": 1}),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 3, 4, 4), (3, 2, 2, 1), {"stride": (3, 2), "output_padding": (2, 1)}),
    ((2, 2, 5, 4), (2, 3, 6, 3), {"stride": (3, 3), "padding": (2, 1)}),
    ((16, 32, 16, 16), (32, 16, 4, 4), {"stride": 2, "padding": 1}),  # large enough for two threads
    ((2, 3, 3, 2), (3, 4, 1, 1), {"stride": 2, "padding": 1}),  # no phase reaches the one output column
]


def _run(x, w, b, options):
    """The call by output phases (float32 calls take oneDNN where it is installed)."""
    with backend.disable("onednn"):
        out = engine.nn.functional.conv_transpose2d(engine.tensor(x), engine.tensor(w),
                                                    None if b is None else engine.tensor(b), **options)
    return out.numpy()


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape, w_shape, options", CASES)
def test_placements_agree_with_pytorch(x_shape, w_shape, options, bias, two_threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[1]).astype(np.float32) if bias else None
    expected = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w),
                                                    None if b is None else torch.tensor(b), **options).numpy()
    compiled = _run(x, w, b, options)
    with backend.disable("compiled"):
        strided = _run(x, w, b, options)
    np.testing.assert_allclose(compiled, expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(compiled, strided)


def test_the_compiled_placement_takes_contiguous_host_floats():
    stacked = np.zeros((2, 8, 5, 5), np.float32)
    assert backend.choose(_PLACEMENTS, (stacked,), {}) is _CompiledPlacement
    assert backend.choose(_PLACEMENTS, (stacked[:, :, :, :4],), {}) is _StridedPlacement
    assert backend.choose(_PLACEMENTS, (stacked.astype(np.float16),), {}) is _StridedPlacement


def test_positions_no_phase_reaches_hold_the_bias():
    x = np.ones((1, 1, 2, 2), np.float32)
    w = np.ones((1, 2, 1, 1), np.float32)
    b = np.array([0.5, -2.0], np.float32)
    out = _run(x, w, b, {"stride": 3})
    assert out.shape == (1, 2, 4, 4)
    np.testing.assert_array_equal(out[0, 1], [[-1, -2, -2, -1], [-2] * 4, [-2] * 4, [-1, -2, -2, -1]])
