"""The Trainer as one rank of several (``parallel``): it stops only where the ranks' summed stop request says,
after the same step on every rank, never on its own request alone (a Ctrl+C reaches the ranks at different
moments; a rank that stopped by itself would leave the others waiting in their next collective)."""

import numpy as np

import engine
from engine import nn
from engine.training import Trainer


class Ranks:
    """Stands for ``RankShare`` with one rank: the whole batch, and sums whose stop request is scripted (the
    other ranks' requests are what ``others_stop_at`` says, from that step on)."""

    def __init__(self, model, others_stop_at=None):
        self.module = model
        self.others_stop_at = others_stop_at
        self.steps = 0
        self.requests = []

    def share(self, inputs, targets):
        return inputs, targets, 1.0

    def combine(self, loss_sum, correct, count, stop):
        self.steps += 1
        self.requests.append(stop)
        others = self.others_stop_at is not None and self.steps >= self.others_stop_at
        return loss_sum, correct, count, stop or others


def _trainer(others_stop_at=None, stop_at=None):
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    rng = np.random.default_rng(0)
    batches = [(engine.tensor(rng.standard_normal((8, 4)).astype(np.float32)), engine.tensor(rng.integers(0, 3, 8)))
               for _ in range(10)]
    ranks = Ranks(model, others_stop_at)
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), batches,
                      parallel=ranks)

    class StopHere:  # this rank's own request arrives during step ``stop_at`` (after its sum, before the check)
        def on_step_end(self, trainer, info):
            if info.global_step == stop_at:
                trainer.stop()

    trainer.callbacks = [StopHere()]
    return trainer, ranks


def test_a_rank_asked_to_stop_goes_on_until_the_sum_says_so():
    trainer, ranks = _trainer(stop_at=3)
    info = trainer.fit(5)
    assert info.status == "stopped" and info.global_step == 4  # its request counted in step 4's sum
    assert ranks.requests == [False, False, False, True]


def test_another_ranks_request_stops_this_one_after_the_same_step():
    trainer, ranks = _trainer(others_stop_at=6)
    info = trainer.fit(5)
    assert info.status == "stopped" and info.global_step == 6 and not any(ranks.requests)


def test_without_requests_every_step_is_trained():
    trainer, _ = _trainer()
    assert trainer.fit(2).global_step == 20
