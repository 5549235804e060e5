"""TensorBoard's debiased exponential moving average of a curve: fed incrementally for the live loss plot, whole
for a finished run's curves (``run_compare``), one loop for both."""

import numpy as np


class Smoother:
    """TensorBoard's debiased exponential moving average, fed incrementally; NaN inputs give NaN outputs
    (a gap) and leave the average as it was."""

    def __init__(self, weight=0.9):
        self.weight = float(weight)
        self.reset()

    def reset(self):
        self._last = 0.0
        self._count = 0

    def feed(self, values):
        w = self.weight
        out = np.empty(len(values))
        last, count = self._last, self._count
        for i, v in enumerate(values.tolist()):
            if v != v or v in (np.inf, -np.inf):
                out[i] = np.nan
                continue
            last = last * w + (1.0 - w) * v
            count += 1
            out[i] = last / (1.0 - w ** count) if w > 0 else last
        self._last, self._count = last, count
        return out


def smooth(values, weight):
    """``values`` smoothed with ``weight`` in [0, 1) (0: unchanged). A value that is not finite gives NaN and
    leaves the average as it was."""
    values = np.asarray(values, np.float64)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {weight!r}")
    if weight == 0.0:
        return values.copy()
    return Smoother(weight).feed(values)
