"""Per-sample losses from ``Trainer.evaluate`` (one forward pass) against PyTorch's cross-entropy with
reduction='none' on the same logits, label smoothing and class weights included; the orders error analysis
shows (a confusion-matrix cell's samples, the top losses), highest loss first."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import engine
import engine.nn as nn
from engine.training import Trainer
from engine.training.sample_losses import cell_samples, top_losses

CLASSES = 5


def evaluated(loss_fn, n=70, batch=16):
    """The evaluation of a small random linear classifier with ``loss_fn``, and its logits and labels."""
    engine.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = rng.integers(0, CLASSES, n)
    model = nn.Linear(6, CLASSES)
    loader = [(engine.tensor(x[i:i + batch]), engine.tensor(y[i:i + batch])) for i in range(0, n, batch)]
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), loss_fn, loader, num_classes=CLASSES)
    result = trainer.evaluate(loader)
    with engine.no_grad():
        logits = model(engine.tensor(x)).numpy()
    return result, torch.from_numpy(logits), torch.from_numpy(y)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"weight": [1.0, 2.0, 0.5, 1.0, 3.0]}])
def test_per_sample_losses_are_pytorchs_cross_entropy_without_reduction(options):
    weight = options.get("weight")
    engine_options = {**options, "weight": None if weight is None else engine.tensor(weight)}
    torch_options = {**options, "weight": None if weight is None else torch.tensor(weight)}
    result, logits, labels = evaluated(nn.CrossEntropyLoss(**engine_options))
    expected = torch.nn.functional.cross_entropy(logits, labels, reduction="none", **torch_options).numpy()
    assert result.losses.dtype == np.float32 and result.losses.shape == (70,)
    np.testing.assert_allclose(result.losses, expected, rtol=1e-5, atol=1e-6)
    probabilities = torch.softmax(logits, 1).numpy()
    np.testing.assert_allclose(result.target_probability, probabilities[np.arange(70), labels], rtol=1e-5)
    np.testing.assert_allclose(result.predicted_probability, probabilities.max(1), rtol=1e-5)
    if weight is None:  # unweighted: the mean of the per-sample losses is the loss the run reports
        assert result.losses.mean() == pytest.approx(result.loss, rel=1e-5)


def test_a_loss_function_without_reduction_gives_plain_cross_entropy():
    result, logits, labels = evaluated(lambda outputs, targets: nn.functional.cross_entropy(outputs, targets))
    expected = torch.nn.functional.cross_entropy(logits, labels, reduction="none").numpy()
    np.testing.assert_allclose(result.losses, expected, rtol=1e-5, atol=1e-6)


def test_a_cells_samples_and_the_top_losses_come_highest_loss_first():
    result = SimpleNamespace(targets=np.array([0, 1, 1, 0, 1, 1, 2]), predictions=np.array([0, 2, 2, 0, 2, 1, 2]),
                             losses=np.array([0.1, 0.7, 2.5, 0.3, 1.2, 0.2, 3.0], np.float32))
    assert cell_samples(result, 1, 2).tolist() == [2, 4, 1]  # true 1 predicted 2: the costliest mistake first
    assert cell_samples(result, 0, 0).tolist() == [3, 0]
    assert cell_samples(result, 2, 0).tolist() == []
    assert top_losses(result, 4).tolist() == [6, 2, 4, 1]


def test_dense_outputs_are_scored_element_by_element():
    """(N, C, H, W) outputs against (N, H, W) targets: each sample's loss is PyTorch's per-element cross-entropy
    averaged over its positions, predictions keep their shape, and there are no per-class probabilities."""
    engine.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3, 5, 5)).astype(np.float32), rng.integers(0, 4, (6, 5, 5))
    model = nn.Conv2d(3, 4, 1)
    loader = [(engine.tensor(x[:4]), engine.tensor(y[:4])), (engine.tensor(x[4:]), engine.tensor(y[4:]))]
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader,
                      num_classes=4)
    result = trainer.evaluate(loader)
    with engine.no_grad():
        logits = torch.from_numpy(model(engine.tensor(x)).numpy())
    expected = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y), reduction="none").mean((1, 2))
    np.testing.assert_allclose(result.losses, expected.numpy(), rtol=1e-5)
    assert result.predictions.shape == (6, 5, 5) and result.count == 6
    assert result.accuracy == pytest.approx(float((logits.argmax(1).numpy() == y).mean()))
    assert result.confusion.sum() == 6 * 25
    assert result.target_probability is None and result.predicted_probability is None


def test_evaluating_and_predicting_put_back_each_modules_mode():
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Linear(8, CLASSES))
    model[1].eval()  # frozen in eval mode inside a training model
    x = engine.tensor(np.random.default_rng(0).standard_normal((10, 6)).astype(np.float32))
    loader = [(x, engine.tensor(np.arange(10) % CLASSES))]
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader)
    trainer.evaluate(loader)
    trainer.predict(x)
    assert model.training and model[0].training and not model[1].training
