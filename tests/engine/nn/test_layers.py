"""Every layer module against PyTorch's: same state dict keys and shapes, and with the same weights the
same outputs and gradients (input and parameters), in training and eval mode."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

LAYERS = [
    ("Linear", lambda m: m.nn.Linear(7, 4), (3, 7)),
    ("Linear no bias", lambda m: m.nn.Linear(7, 4, bias=False), (2, 5, 7)),
    ("Conv2d", lambda m: m.nn.Conv2d(3, 6, 5), (2, 3, 12, 12)),
    ("Conv2d options", lambda m: m.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
     (2, 4, 9, 8)),
    ("Conv2d same", lambda m: m.nn.Conv2d(3, 4, 4, padding="same", bias=False), (1, 3, 7, 7)),
    ("Conv2d reflect", lambda m: m.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 6, 6)),
    ("MaxPool2d", lambda m: m.nn.MaxPool2d(2, 2), (2, 3, 8, 8)),
    ("MaxPool2d overlap", lambda m: m.nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), (2, 3, 9, 9)),
    ("AvgPool2d", lambda m: m.nn.AvgPool2d(3, 2, padding=1), (2, 3, 8, 8)),
    ("AdaptiveAvgPool2d", lambda m: m.nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    ("BatchNorm1d", lambda m: m.nn.BatchNorm1d(5), (8, 5)),
    ("BatchNorm1d 3d", lambda m: m.nn.BatchNorm1d(5, momentum=None), (4, 5, 6)),
    ("BatchNorm2d", lambda m: m.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("BatchNorm2d no affine", lambda m: m.nn.BatchNorm2d(3, affine=False), (4, 3, 5, 5)),
    ("Flatten", lambda m: m.nn.Flatten(), (2, 3, 4)),
    ("Identity", lambda m: m.nn.Identity(), (2, 3)),
    ("ReLU", lambda m: m.nn.ReLU(), (4, 5)),
    ("LeakyReLU", lambda m: m.nn.LeakyReLU(0.2), (4, 5)),
    ("GELU", lambda m: m.nn.GELU(), (4, 5)),
    ("GELU tanh", lambda m: m.nn.GELU(approximate="tanh"), (4, 5)),
    ("Sigmoid", lambda m: m.nn.Sigmoid(), (4, 5)),
    ("Tanh", lambda m: m.nn.Tanh(), (4, 5)),
    ("Softmax", lambda m: m.nn.Softmax(dim=1), (4, 5)),
    ("LogSoftmax", lambda m: m.nn.LogSoftmax(dim=-1), (4, 5)),
]


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_pytorch(name, make, shape, training):
    tlayer = make(torch)
    elayer = make(engine)
    tsd = tlayer.state_dict()
    assert list(tsd) == list(elayer.state_dict())
    elayer.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})
    tlayer.train(training)
    elayer.train(training)
    assert repr(elayer) == repr(tlayer)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    tout, eout = tlayer(tx), elayer(ex)
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    tout.backward(torch.tensor(g))
    eout.backward(engine.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (pname, tp), (_, ep) in zip(tlayer.named_parameters(), elayer.named_parameters()):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=pname)
    for key, value in tlayer.state_dict().items():  # running statistics after the step
        np.testing.assert_allclose(elayer.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=key)


def test_dropout_module_train_and_eval():
    drop = engine.nn.Dropout(0.5)
    x = engine.ones(1000)
    y = drop(x)
    assert 0.4 < float((y == 0).float().mean()) < 0.6 and set(np.unique(y.numpy())) <= {0.0, 2.0}
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).numpy(), x.numpy())
    assert repr(drop) == repr(torch.nn.Dropout(0.5))


LOSSES = [
    ("CrossEntropyLoss", lambda m: m.nn.CrossEntropyLoss(), "class"),
    ("CrossEntropyLoss options", lambda m: m.nn.CrossEntropyLoss(weight=m.tensor([1.0, 2.0, 0.5, 1.0]),
                                                                 ignore_index=2, label_smoothing=0.1), "class"),
    ("NLLLoss", lambda m: m.nn.NLLLoss(reduction="sum"), "class"),
    ("MSELoss", lambda m: m.nn.MSELoss(), "real"),
    ("L1Loss", lambda m: m.nn.L1Loss(reduction="none"), "real"),
    ("SmoothL1Loss", lambda m: m.nn.SmoothL1Loss(beta=0.5), "real"),
    ("BCEWithLogitsLoss", lambda m: m.nn.BCEWithLogitsLoss(pos_weight=m.tensor([1.0, 2.0, 3.0, 0.5])), "prob"),
]


@pytest.mark.parametrize("name, make, kind", LOSSES, ids=[case[0] for case in LOSSES])
def test_loss_modules_match_pytorch(name, make, kind):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    if kind == "class":
        target = rng.integers(0, 4, 6)
    elif kind == "prob":
        target = rng.random((6, 4)).astype(np.float32)
    else:
        target = rng.standard_normal((6, 4)).astype(np.float32)
    results = []
    for m in (engine, torch):
        xt = m.tensor(x, requires_grad=True)
        loss = make(m)(xt, m.tensor(target))
        loss.sum().backward()
        results.append((loss.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-6)
