"""Fine-tuning: a new run that starts from weights trained (or imported) before instead of the seed's initial
ones. The layers whose weights fit (same ``state_dict`` name and shape) take them; the others start fresh, so
a network whose head was replaced for new classes still takes its body's weights."""

from dataclasses import dataclass

from .predictor import read_weights
from .run_errors import RunFileError


@dataclass(frozen=True)
class Initialised:
    source: str  # the weight file read
    loaded: tuple  # the state_dict entries that took its weights
    fresh: tuple  # those that start from their initial values

    def summary(self):
        text = f"starting from {self.source}: {len(self.loaded)} of {len(self.loaded) + len(self.fresh)} weights"
        return text + (f" (fresh: {', '.join(self.fresh)})" if self.fresh else "")


def load_initial_weights(model, source):
    """Copy into ``model`` the weights of ``source`` (a weight file or a run folder) that fit it; ``RunFileError``
    when none do. Returns an ``Initialised``."""
    path, state = read_weights(source)
    own = model.state_dict()
    fitting = {key: value for key, value in state.items()
               if key in own and tuple(value.shape) == tuple(own[key].shape)}
    if not any(not key.endswith("num_batches_tracked") for key in fitting):
        raise RunFileError(path, "none of its weights fit the network (no name with the same shape)")
    model.load_state_dict(fitting, strict=False)
    return Initialised(str(path), tuple(fitting), tuple(key for key in own if key not in fitting))
