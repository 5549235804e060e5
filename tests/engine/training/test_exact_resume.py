"""A checkpoint taken at any step (a stop, a crash) resumes to the same weights as an uninterrupted run, skipping
the batches already done without loading them; checkpoints from before the mid-epoch fields still load."""

import re

import numpy as np
import pytest
from stop_at import StopAt

import engine
import engine.nn as nn
from engine.training import Checkpoint, Trainer
from engine.utils.data import DataLoader, Dataset, current_rng
from engine.utils.files import FileError

CENTERS = np.random.default_rng(1234).standard_normal((3, 4)).astype(np.float32) * 3


class NoisyBlobs(Dataset):
    """Gaussian blobs with augmentation noise drawn from the loader's per-batch generator; counts the samples
    it loads, and the load after ``fail_after`` of them raises a ``FileError`` naming the sample."""

    def __init__(self, n=150, fail_after=None):
        rng = np.random.default_rng(0)
        self.labels = rng.integers(0, 3, n)
        self.x = (CENTERS[self.labels] + rng.standard_normal((n, 4))).astype(np.float32)
        self.loaded = 0
        self.fail_after = fail_after

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        if self.loaded == self.fail_after:
            raise FileError(f"/data/img{i}.png", "not an image")
        self.loaded += 1
        noise = current_rng().standard_normal(4).astype(np.float32) * 0.1
        return engine.tensor(self.x[i] + noise), int(self.labels[i])


def make(workers=0, init_seed=0, dataset=None, callbacks=()):
    engine.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    optimizer = engine.optim.Adam(model.parameters(), lr=0.01)
    scheduler = engine.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.02, total_steps=30)
    loader = DataLoader(dataset or NoisyBlobs(), batch_size=16, shuffle=True, num_workers=workers)
    return Trainer(model, optimizer, nn.CrossEntropyLoss(), loader, scheduler=scheduler, scheduler_interval="step",
                   seed=7, callbacks=callbacks, num_classes=3)


def weights(trainer):
    return [p.detach().numpy().copy() for p in trainer.model.parameters()]


def assert_same_run(a, b):
    assert a.global_step == b.global_step and a.epoch == b.epoch
    for x, y in zip(weights(a), weights(b), strict=True):
        np.testing.assert_array_equal(x, y)
    assert [(h.train_loss, h.train_accuracy, h.lr) for h in a.history] == \
        [(h.train_loss, h.train_accuracy, h.lr) for h in b.history]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stop_mid_epoch_resumes_to_the_uninterrupted_weights(tmp_path, workers):
    straight = make(workers)
    assert straight.fit(3).status == "finished" and straight.global_step == 30

    stopped = make(workers, callbacks=[StopAt(14)])  # epoch 2, step 4 of 10
    info = stopped.fit(3)
    assert (info.status, stopped.epoch, stopped.epoch_step, stopped.global_step) == ("stopped", 1, 4, 14)
    stopped.save_checkpoint(tmp_path / "checkpoint.llw")

    data = NoisyBlobs()
    resumed = make(workers, init_seed=99, dataset=data)  # other initial weights: everything comes from the file
    resumed.load_checkpoint(tmp_path / "checkpoint.llw")
    assert (resumed.epoch, resumed.epoch_step, resumed.global_step) == (1, 4, 14)
    resumed.fit(3)
    assert_same_run(straight, resumed)
    assert data.loaded == 150 - 4 * 16 + 150  # the rest of epoch 2 and epoch 3: the skipped batches were not loaded


def test_a_failing_sample_fails_the_run_naming_it_and_the_checkpoint_resumes_exactly(tmp_path):
    straight = make()
    straight.fit(2)

    data = NoisyBlobs(fail_after=150 + 2 * 16 + 5)  # in the third batch of the second epoch
    crashing = make(dataset=data, callbacks=[Checkpoint(tmp_path)])
    info = crashing.fit(2)
    assert info.status == "failed"
    assert re.fullmatch(r"/data/img\d+\.png: not an image", info.message), info.message
    assert (crashing.epoch, crashing.epoch_step, crashing.global_step) == (1, 2, 12)
    state = engine.load(tmp_path / "checkpoint.llw")
    assert (state["epoch"], state["epoch_step"], state["global_step"]) == (1, 2, 12)

    resumed = make(init_seed=5)
    resumed.load_checkpoint(tmp_path / "checkpoint.llw")
    resumed.fit(2)
    assert_same_run(straight, resumed)


def test_a_checkpoint_without_the_mid_epoch_fields_resumes_at_the_next_epoch(tmp_path):
    stopped = make(callbacks=[StopAt(14)])
    stopped.fit(3)
    state = stopped.state_dict()
    for key in ("epoch_step", "steps_per_epoch", "partial", "rng_state", "loader", "optimizer_kind", "scheduler_kind"):
        del state[key]
    engine.save(state, tmp_path / "old.llw")
    resumed = make()
    resumed.load_checkpoint(tmp_path / "old.llw")
    assert (resumed.epoch, resumed.epoch_step, resumed.global_step) == (1, 0, 14)
    assert resumed.fit(2).status == "finished" and resumed.global_step == 24


def test_a_loader_pass_resumes_from_its_state_without_loading_the_skipped_batches():
    data = NoisyBlobs(n=40)
    loader = DataLoader(data, batch_size=8, shuffle=True)
    engine.manual_seed(3)
    batches = iter(loader)
    first = [next(batches) for _ in range(2)]
    state = loader.state_dict()
    rest = list(batches)
    assert state["batches"] == 2 and len(first) + len(rest) == 5
    data.loaded = 0
    engine.manual_seed(1000)  # the resumed pass does not depend on the generator's state
    loader.load_state_dict(state)
    again = list(loader)
    assert data.loaded == 24 and len(again) == 3
    for (x, y), (x2, y2) in zip(rest, again, strict=True):
        np.testing.assert_array_equal(x.numpy(), x2.numpy())
        np.testing.assert_array_equal(y.numpy(), y2.numpy())


def test_fit_again_after_a_stop_continues_the_epoch_in_the_same_trainer():
    straight = make()
    straight.fit(3)
    trainer = make(callbacks=[StopAt(14)])
    assert trainer.fit(3).status == "stopped"
    assert trainer.fit(3).status == "finished"
    assert_same_run(straight, trainer)
