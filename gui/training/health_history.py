"""The health of the run on screen: every sampled step's measures of every layer (from the worker's
``HealthRecord`` messages, or from a run folder's ``health.csv``), and the histograms of weights, gradients and
activations per layer over time. Nothing here knows Qt."""


import numpy as np

from engine.training.health_csv import read_health_csv
from engine.training.health_measures import BY_KEY, KEYS

from .buffers import GrowableArray


class HealthHistory:
    def __init__(self):
        self.revision = 0
        self.reset()

    def reset(self, layers=()):
        self.layers = tuple(layers)
        self.steps = GrowableArray(1)
        self.values = GrowableArray(max(len(self.layers), 1) * len(KEYS))  # a row per record: layers × measures
        self.histograms = {}  # (layer, kind) -> [(step, Histogram)]
        self._levels = None  # (revision, levels of the latest record)
        self._images = {}  # (layer, kind) -> (records drawn, low, high, image): appended while the grid holds
        self.revision += 1

    def __len__(self):
        return len(self.steps)

    @property
    def last_step(self):
        """The step of the latest record (the history must have one)."""
        return int(self.steps.column(0)[-1])

    def add(self, record):
        """Add a ``HealthRecord``; the first one (or one of other layers) names the layers."""
        if record.layers != self.layers:
            self.reset(record.layers)
        elif len(self.steps) and record.step <= self.steps.column(0)[-1]:  # a continued run trains these again
            self._drop_from(record.step)
        self.steps.append([record.step])
        self.values.append(record.values.reshape(-1))
        for key, histogram in record.histograms.items():
            self.histograms.setdefault(key, []).append((record.step, histogram))
        self.revision += 1

    def _drop_from(self, step):
        kept = int(np.searchsorted(self.steps.column(0), step))
        self.steps.truncate(kept)
        self.values.truncate(kept)
        self.histograms = {key: [(s, h) for s, h in recorded if s < step] for key, recorded in self.histograms.items()}
        self._images = {}

    def matrix(self, k=-1):
        """The (layers, measures) values of record ``k`` (the latest by default)."""
        return self.values.data[k].reshape(len(self.layers), len(KEYS))

    def series(self, layer, key):
        """``(steps, values)`` of one measure of one layer over the run."""
        column = self.layers.index(layer) * len(KEYS) + KEYS.index(key)
        return self.steps.column(0), self.values.column(column)

    def levels(self, k=-1):
        """The (layers, measures) levels (0 fine, 1 amber, 2 red) of record ``k`` (the latest's kept per revision)."""
        if k == -1 and self._levels is not None and self._levels[0] == self.revision:
            return self._levels[1]
        values = self.matrix(k)
        levels = np.array([[BY_KEY[key].level(v) for key, v in zip(KEYS, row, strict=True)]
                           for row in values.tolist()], np.int8).reshape(values.shape)
        if k == -1:
            self._levels = (self.revision, levels)
        return levels

    def load_csv(self, path):
        """Replace the history by a run folder's ``health.csv`` (no histograms: the file has none); a missing file
        leaves it empty. ``RunFileError`` names the file when it cannot be read."""
        self.reset()
        table = read_health_csv(path)
        if not table.layers:
            return
        self.reset(table.layers)
        for step, values in zip(table.steps, table.values):
            self.steps.append([step])
            self.values.append(values.reshape(-1))
        self.revision += 1

    def histogram_image(self, layer, kind, rows=64):
        """The histograms of ``layer``'s ``kind`` ('weights', 'gradients', 'activations') over the run on one value
        grid: ``(image, steps, low, high)`` with ``image`` (records, rows) holding each record's share of values per
        grid cell, or None when none were recorded."""
        recorded = self.histograms.get((layer, kind))
        if not recorded:
            return None
        drawn, low, high, image = self._images.get((layer, kind), (0, 0.0, 0.0, None))
        new = recorded[drawn:]
        if image is None or image.shape[1] != rows or any(h.low < low or h.high > high for _, h in new):
            low = min(h.low for _, h in recorded)
            high = max(h.high for _, h in recorded)
            if high <= low:
                high = low + 1.0
            image, new = np.empty((0, rows), np.float32), recorded
        grid = np.linspace(low, high, rows + 1)
        image = np.concatenate([image, [_on_grid(h, grid) for _, h in new]]) if new else image
        self._images[(layer, kind)] = (len(recorded), low, high, image)
        return image, np.array([step for step, _ in recorded]), low, high


def _on_grid(histogram, grid):
    """The share of ``histogram``'s values in each cell of ``grid`` (cell edges), the counts spread evenly within
    each of its bins."""
    edges = np.linspace(histogram.low, histogram.high, len(histogram.counts) + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(histogram.counts, dtype=np.float64)])
    return (np.diff(np.interp(grid, edges, cumulative)) / max(cumulative[-1], 1.0)).astype(np.float32)
