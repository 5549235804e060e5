"""The paths that take a sum's gradient (one value, broadcast) once, on the CuPy stand-in: array code for the
device's arrays, results on the device and equal to the CPU's."""

import numpy as np
import pytest

import engine

LAYERS = {
    "Upsample bilinear": (lambda: engine.nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 5, 4)),
    "ConvTranspose2d (its bias)": (lambda: engine.nn.ConvTranspose2d(3, 2, 3, stride=2), (2, 3, 5, 4)),
    "Conv2d depthwise (its bias)": (lambda: engine.nn.Conv2d(3, 3, 3, padding=1, groups=3), (2, 3, 5, 4)),
    "GroupNorm": (lambda: engine.nn.GroupNorm(1, 3), (2, 3, 5, 4)),
    "Softmax": (lambda: engine.nn.Softmax(dim=-1), (2, 3, 5, 4)),
    "Linear, a bias broadcast to the product": (lambda: _LinearBias((3, 5)), (2, 3, 4)),
    "Linear, a bias on the product's rows": (lambda: _LinearBias((6, 1)), (2, 3, 4)),
}


class _LinearBias(engine.nn.Module):
    def __init__(self, bias_shape):
        super().__init__()
        self.weight = engine.nn.Parameter(engine.randn(5, 4))
        self.bias = engine.nn.Parameter(engine.randn(*bias_shape))

    def forward(self, x):
        return engine.nn.functional.linear(x, self.weight, self.bias)


@pytest.mark.parametrize("name", LAYERS)
def test_a_sums_gradient_on_the_stand_in(fake_cuda, name):
    make, shape = LAYERS[name]
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    results = []
    for device in ("cpu", "cuda"):
        engine.manual_seed(0)
        layer = make().to(device)
        X = engine.tensor(x, device=device, requires_grad=True)
        layer(X).sum().backward()  # a one-value gradient, broadcast, reaches the layer
        assert X.grad.device.type == device
        results.append([X.grad.cpu().numpy()] + [p.grad.cpu().numpy() for p in layer.parameters()])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
