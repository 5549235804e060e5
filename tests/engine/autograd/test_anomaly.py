"""Anomaly mode: the first op whose result is not finite, forward or backward, with its layer and the statistics of
its inputs; PyTorch's names, warning and NaN error; nothing recorded or changed when it is off."""

import numpy as np
import pytest
import torch

import engine
import engine.nn as nn
from engine.autograd import anomaly
from engine.autograd.anomaly import set_detect_anomaly


class Exp(nn.Module):
    def forward(self, x):
        return x.exp()


class Sqrt(nn.Module):
    def forward(self, x):
        return x.sqrt()


def named(model):
    return {**dict(model.named_modules()), **dict(model.named_parameters())}


def test_a_forward_overflow_names_the_op_its_layer_and_its_inputs():
    model = nn.Sequential(nn.Linear(3, 2), Exp())
    with engine.no_grad():
        model[0].weight.fill_(100.0)
        model[0].bias.zero_()
    x = engine.tensor([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    with set_detect_anomaly(True, check_nan=False, names=named(model)) as mode:
        model(x).sum().backward()
    origin = mode.origin
    assert (origin.op, origin.node, origin.direction, origin.module, origin.module_type) == \
           ("exp", "ExpBackward0", "forward", "1", "Exp")
    assert origin.inputs_finite and len(origin.inputs) == 1
    stats = origin.inputs[0]
    assert (stats.shape, stats.non_finite, stats.min, stats.max) == ((2, 2), 0, 0.0, 150.0)
    assert stats.mean == pytest.approx(75.0) and stats.std == pytest.approx(75.0)
    assert (origin.outputs[0].non_finite, origin.outputs[0].nan) == (2, 0)  # exp(150) is inf, exp(0) is 1
    assert origin.describe().startswith("the first op to make a value that is not finite is exp (forward) in layer "
                                        "'1' (Exp): it made [2×2] min 1, max 1, mean 1, std 0, 2 inf of 4 from "
                                        "finite inputs ([2×2] min 0, max 150, mean 75, std 75)")


def test_a_value_that_goes_non_finite_only_in_backward_names_the_backward_op():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), Sqrt())
    with engine.no_grad():
        model[0].weight.copy_(engine.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        model[0].bias.zero_()
    loss = None
    with set_detect_anomaly(True, check_nan=False, names=named(model)) as mode:
        loss = model(engine.tensor([[4.0, 1.0]])).sum()  # sqrt(relu(-4)) = sqrt(0): finite, its gradient is not
        assert mode.origin is None and np.isfinite(loss.item())
        loss.backward()
    origin = mode.origin
    assert (origin.op, origin.node, origin.direction, origin.module) == ("sqrt", "SqrtBackward0", "backward", "2")
    assert origin.inputs[0].min == 0.0 and origin.grad_outputs[0].non_finite == 0
    assert origin.outputs[0].non_finite == 1 and origin.outputs[0].nan == 0
    assert "the backward of sqrt (SqrtBackward0) in layer '2' (Sqrt)" in origin.describe()


def test_an_input_already_not_finite_is_named_as_the_parameter_it_is():
    model = nn.Sequential(nn.Linear(2, 2))
    with engine.no_grad():
        model[0].bias[0] = float("nan")
    bias = float(model[0].bias[1])
    with set_detect_anomaly(True, names=named(model)) as mode:
        model(engine.ones(1, 2))
    assert not mode.origin.inputs_finite
    assert mode.origin.describe() == "the first op whose result is not finite is mm (forward) in layer '0' (Linear), " \
        f"and an input was already not finite: 0.bias [2] min {bias:.4g}, max {bias:.4g}, mean {bias:.4g}, std 0, " \
        "1 NaN of 2"


@pytest.mark.filterwarnings("ignore:Error detected in")  # torch's note of where the failing node was made
def test_nan_in_backward_raises_pytorchs_error():
    def run(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
            detect = lib.autograd.detect_anomaly()
        with detect, pytest.raises(RuntimeError) as err:
            (x.sqrt() * 0).sum().backward()  # 0 / (2 sqrt(0)) is NaN
        return str(err.value).splitlines()[0]

    assert run(engine) == run(torch) == "Function 'SqrtBackward0' returned nan values in its 0th output."


def test_off_records_nothing_and_the_block_restores_the_previous_mode():
    assert not anomaly.state.enabled
    x = engine.tensor([1000.0], requires_grad=True)
    x.exp().sum().backward()
    assert anomaly.state.origin is None and not anomaly.state.forward
    with set_detect_anomaly(True):
        with set_detect_anomaly(False):
            assert not anomaly.is_anomaly_enabled()
            x.exp()
        assert anomaly.is_anomaly_enabled() and anomaly.state.origin is None
    assert not anomaly.state.enabled and not anomaly.state.forward and not anomaly.state.modules
    assert torch.autograd.set_detect_anomaly.__name__ == engine.autograd.set_detect_anomaly.__name__
