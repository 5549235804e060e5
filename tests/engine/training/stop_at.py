"""A callback that stops a run after a given global step: the mid-epoch interruption resume tests need."""


class StopAt:
    def __init__(self, global_step):
        self.global_step = global_step

    def on_step_end(self, trainer, info):
        if info.global_step == self.global_step:
            trainer.stop()
