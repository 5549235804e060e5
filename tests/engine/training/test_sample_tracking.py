"""Per-sample tracking across epochs (Toneva et al.'s forgetting events): a hand-made sequence of validations
classified sample by sample, the likely-mislabelled ranking, the refusal of a reordered validation set, the
samples.csv summary, a resumed run's tracker continuing the saved history, and the Trainer handing every epoch's
validation to the tracker."""

import csv
import io
from types import SimpleNamespace

import numpy as np
import pytest

import engine
import engine.nn as nn
from engine.training import RunFileError, Trainer
from engine.training.sample_tracking import CSV_FIELDS, FORGOTTEN, LEARNED, NEVER_LEARNED, SampleTracker
from engine.utils.files import FileWarning

TARGETS = np.array([0, 1, 2, 0, 1])
# rows: epochs; columns: samples. Sample 0 always right; 1 learned at epoch 2; 2 right, wrong, right, wrong
# (forgotten twice); 3 never right, always predicted 2 with confidence; 4 never right, wavering between classes.
PREDICTIONS = np.array([[0, 0, 2, 2, 0],
                        [0, 1, 0, 2, 2],
                        [0, 1, 2, 2, 0],
                        [0, 1, 1, 2, 2]])
CONFIDENCE = np.array([[0.9, 0.5, 0.6, 0.8, 0.4],
                       [0.9, 0.6, 0.5, 0.9, 0.4],
                       [0.9, 0.7, 0.6, 0.9, 0.5],
                       [0.9, 0.8, 0.5, 0.95, 0.4]])
LOSSES = np.array([[0.1, 2.0, 0.5, 3.0, 2.0],
                   [0.1, 0.5, 1.5, 3.5, 2.5],
                   [0.1, 0.4, 0.5, 3.5, 2.0],
                   [0.1, 0.3, 1.9, 4.0, 2.2]], np.float32)


def validation(epoch, targets=TARGETS):
    return SimpleNamespace(targets=targets, predictions=PREDICTIONS[epoch], losses=LOSSES[epoch],
                           predicted_probability=CONFIDENCE[epoch])


def tracked(path=None):
    tracker = SampleTracker(path, classes=("cat", "dog", "fox"))
    for epoch in range(4):
        tracker.record(validation(epoch), epoch)
    return tracker


def test_samples_are_classified_by_their_history():
    history = tracked().history()
    assert history.forgetting_events().tolist() == [0, 0, 2, 0, 0]
    assert history.status().tolist() == [LEARNED, LEARNED, FORGOTTEN, NEVER_LEARNED, NEVER_LEARNED]
    assert history.first_learned().tolist() == [0, 1, 0, -1, -1]
    assert history.forgotten().tolist() == [2]
    suspect, score = history.suspects()
    assert suspect[3] == 2 and score[3] == pytest.approx((0.8 + 0.9 + 0.9 + 0.95) / 4)
    assert suspect[4] == 0 and score[4] == pytest.approx((0.4 + 0.5) / 4)  # class 0 got more than class 2
    assert history.likely_mislabelled().tolist() == [3, 4]  # always the same other class, confidently, first


def test_a_reordered_validation_set_is_refused():
    tracker = tracked()
    with pytest.raises(ValueError, match="epoch 5 has other targets, or another order"):
        tracker.record(validation(0, TARGETS[::-1]), 4)


def test_the_summary_is_written_after_each_validation(tmp_path):
    path = tmp_path / "samples.csv"
    tracked(str(path))
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == 5
    assert rows[3] == {"sample": "3", "target": "cat", "prediction": "fox", "loss": "4", "status": NEVER_LEARNED,
                       "forgetting_events": "0", "first_learned_epoch": "", "suspect_class": "fox",
                       "mislabel_score": "0.8875"}
    assert rows[1]["first_learned_epoch"] == "2" and rows[1]["suspect_class"] == "cat"  # wrong once, as a cat
    assert rows[0]["suspect_class"] == "" and rows[0]["status"] == LEARNED


def test_a_resumed_run_continues_the_saved_history(tmp_path):
    """A run that stopped after epoch 3's validation and resumes at epoch 2 (its last checkpoint) keeps epochs 1
    and 2 from samples.npz and tracks on: the summary is the whole run's."""
    path = tmp_path / "samples.csv"
    tracked(str(path))
    assert (tmp_path / "samples.npz").is_file()
    resumed = SampleTracker(str(path), classes=("cat", "dog", "fox"))
    for epoch in (2, 3):
        resumed.record(validation(epoch), epoch)
    whole, continued = tracked().history(), resumed.history()
    assert continued.epochs.tolist() == [0, 1, 2, 3]
    for name in ("losses", "predictions", "confidence", "targets"):
        np.testing.assert_array_equal(getattr(continued, name), getattr(whole, name))
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows[2]["forgetting_events"] == "2" and rows[1]["first_learned_epoch"] == "2"


@pytest.mark.parametrize("damage, problem", [
    (lambda folder: (folder / "samples.npz").write_bytes(b"not a zip"), "not a valid .npz file"),
    (lambda folder: np.savez(folder / "samples.npz", targets=TARGETS), "lacks the arrays losses, predictions"),
    (lambda folder: None, "other validation samples"),
])
def test_a_saved_history_that_does_not_fit_is_left_out_with_a_warning(tmp_path, damage, problem):
    path = tmp_path / "samples.csv"
    tracked(str(path))
    damage(tmp_path)
    resumed = SampleTracker(str(path))
    with pytest.warns(FileWarning, match=f"samples.npz: .*{problem}.*starts again at epoch 3"):
        resumed.record(validation(2, TARGETS[::-1]) if problem.startswith("other") else validation(2), 2)
    assert resumed.history().epochs.tolist() == [2]


def test_dense_validations_are_not_tracked_and_unwritable_files_are_run_file_errors(tmp_path):
    tracker = SampleTracker(str(tmp_path / "samples.csv"))
    tracker.record(SimpleNamespace(targets=np.zeros((2, 3, 3)), predictions=np.zeros((2, 3, 3)),
                                   losses=np.zeros(2, np.float32), predicted_probability=None), 0)
    assert tracker.history() is None and not list(tmp_path.iterdir())
    (tmp_path / "file").write_text("")
    with pytest.raises(RunFileError, match="samples.csv: cannot"):
        SampleTracker(str(tmp_path / "file" / "samples.csv")).record(validation(0), 0)


def test_the_trainer_hands_every_validation_to_the_tracker():
    engine.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    loader = [(engine.tensor(x[i:i + 10]), engine.tensor(y[i:i + 10])) for i in range(0, 40, 10)]
    model = nn.Linear(4, 3)
    tracker = SampleTracker()
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader,
                      val_loader=loader, callbacks=[tracker], num_classes=3)
    trainer.fit(3)
    history = tracker.history()
    assert history.losses.shape == (3, 40) and history.epochs.tolist() == [0, 1, 2]
    last = trainer.evaluate(loader)
    np.testing.assert_array_equal(history.predictions[-1], last.predictions)
    np.testing.assert_allclose(history.losses[-1], last.losses)
    assert np.mean(history.losses[-1]) == pytest.approx(trainer.history[-1].val_loss, rel=1e-5)
