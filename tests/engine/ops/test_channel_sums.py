"""Per-channel sums (``channel_sums``) of arrays that repeat their values along some axes, as a gradient broadcast
from a sum does: one slice is summed and scaled, and the result is the sum of every value."""

import numpy as np
import pytest
import torch

import engine
from engine.ops.channel_sums import channel_sum

SHAPE = (6, 5, 4, 7)
# name -> the shape the (6, 5, 4, 7) array is broadcast from
BROADCASTS = {"one value (a sum's gradient)": (), "over the batch": (1, 5, 4, 7), "over the plane": (6, 5, 1, 1),
              "over the channels and a row": (6, 1, 4, 1), "over nothing": SHAPE}


@pytest.mark.parametrize("name", BROADCASTS)
def test_channel_sum_of_a_broadcast_array(name):
    rng = np.random.default_rng(3)
    source = rng.standard_normal(BROADCASTS[name]).astype(np.float32)
    a = np.broadcast_to(source, SHAPE)
    sums = channel_sum(a)
    assert sums.dtype == np.float32 and sums.shape == (5,)
    np.testing.assert_allclose(sums, a.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", ["Conv2d", "ConvTranspose2d"])
def test_a_sums_gradient_into_a_convolutions_bias(layer):
    """The bias gradient of a convolution whose output is summed is the count of its output positions, as
    PyTorch's."""
    grads = []
    for m in (engine, torch):
        m.manual_seed(0)
        conv = getattr(m.nn, layer)(3, 4, 3, stride=2)
        conv(m.ones(5, 3, 9, 9)).sum().backward()
        grads.append(conv.bias.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_a_float16_count_past_its_range():
    """A float16 gradient repeated over more positions than float16 counts to (65,504): the scaled sum is taken in
    float32, not inf."""
    a = np.broadcast_to(np.float16(2 ** -16), (64, 4, 32, 32))
    np.testing.assert_array_equal(channel_sum(a), np.ones(4, np.float16))
