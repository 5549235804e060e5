"""engine.vision.ops against torchvision.ops: the blocks' repr, state dicts and outputs; stochastic depth's
statistics and errors."""

import numpy as np
import pytest
from torchvision_reference import torchvision

import engine
from engine.vision import ops

torch = pytest.importorskip("torch")

BLOCKS = [
    ("Conv2dNormActivation", lambda M, nn: M.Conv2dNormActivation(4, 6, 3, stride=2, activation_layer=nn.SiLU)),
    ("Conv2dNormActivation tuple", lambda M, nn: M.Conv2dNormActivation(4, 6, (3, 5), dilation=(1, 2),
                                                                         norm_layer=None)),
    ("SqueezeExcitation", lambda M, nn: M.SqueezeExcitation(6, 2, scale_activation=nn.Hardsigmoid)),
    ("MLP", lambda M, nn: M.MLP(6, [12, 6], norm_layer=nn.LayerNorm, activation_layer=nn.GELU)),
    ("Permute", lambda M, nn: M.Permute([0, 2, 3, 1])),
]


@pytest.mark.parametrize("name, make", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_matches_torchvision(name, make):
    theirs = make(torchvision("ops"), torch.nn)
    ours = make(ops, engine.nn)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: engine.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    shape = (3, 7, 6) if name == "MLP" else (2, 4 if name.startswith("Conv") else 6, 9, 8)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(engine.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_stochastic_depth_drops_rows_or_the_batch_and_rescales():
    engine.manual_seed(0)
    x = engine.ones(4000, 3)
    y = ops.stochastic_depth(x, 0.25, "row").numpy()
    kept = y[:, 0] != 0
    assert np.all(y[kept] == np.float32(1 / 0.75)) and np.all(y[~kept] == 0)
    assert np.all(y == y[:, :1])  # a row is dropped whole
    assert abs(kept.mean() - 0.75) < 0.03
    batch = [ops.stochastic_depth(x, 0.5, "batch").numpy() for _ in range(200)]
    assert all(np.all(b == b.flat[0]) for b in batch) and 0.35 < np.mean([b.flat[0] != 0 for b in batch]) < 0.65
    assert ops.stochastic_depth(x, 0.25, "row", training=False) is x
    layer = ops.StochasticDepth(0.2, "row")
    assert repr(layer) == repr(torchvision("ops").StochasticDepth(0.2, "row")) == "StochasticDepth(p=0.2, mode=row)"
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1, but got 1.5"):
        ops.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row', but got col"):
        ops.stochastic_depth(x, 0.5, "col")


def test_stochastic_depth_gradient_flows_through_kept_rows():
    engine.manual_seed(1)
    x = engine.randn(50, 4, requires_grad=True)
    y = ops.stochastic_depth(x, 0.5, "row")
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (y.detach().numpy() / x.detach().numpy()))
