"""NumPy buffers for live metrics: rows appended in amortised O(1), the full history kept, and the helpers
that turn it into what a plot draws (min-max decimation; the smoothing is ``engine.training.smoothing``).

Nothing here knows Qt; the plots read views of these arrays at redraw time.
"""

import numpy as np


class GrowableArray:
    """A 2-D float array of ``width`` columns that grows by doubling; ``data`` is a view of the filled rows."""

    def __init__(self, width, capacity=1024, dtype=np.float64):
        self._rows = np.empty((capacity, width), dtype)
        self._n = 0

    def __len__(self):
        return self._n

    @property
    def width(self):
        return self._rows.shape[1]

    @property
    def data(self):
        return self._rows[:self._n]

    def column(self, k):
        return self._rows[:self._n, k]

    def append(self, rows):
        """Add rows (a 2-D array-like with ``width`` columns, or one row)."""
        rows = np.asarray(rows, self._rows.dtype)
        if rows.ndim == 1:
            rows = rows[None, :]
        if rows.shape[1] != self.width:
            raise ValueError(f"expected rows of {self.width} values, got {rows.shape[1]}")
        end = self._n + len(rows)
        if end > len(self._rows):
            grown = np.empty((max(end, 2 * len(self._rows)), self.width), self._rows.dtype)
            grown[:self._n] = self._rows[:self._n]
            self._rows = grown
        self._rows[self._n:end] = rows
        self._n = end

    def clear(self):
        self._n = 0

    def truncate(self, rows):
        """Keep the first ``rows`` rows."""
        self._n = min(self._n, rows)


def minmax_decimate(x, y, max_points):
    """At most about ``max_points`` points that keep every spike: ``x`` and ``y`` cut into buckets, each
    drawn by its minimum and maximum. NaN gaps survive (a bucket holding a NaN keeps one)."""
    n = len(x)
    if n <= max_points:
        return x, y
    bucket = int(np.ceil(2 * n / max_points))
    m = n // bucket
    head_y = y[:m * bucket].reshape(m, bucket)
    head_x = x[:m * bucket].reshape(m, bucket)
    with np.errstate(invalid="ignore"):
        lo = np.nanargmin(np.where(np.isnan(head_y), np.inf, head_y), axis=1)
        hi = np.nanargmax(np.where(np.isnan(head_y), -np.inf, head_y), axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    rows = np.arange(m)
    xs = np.stack([head_x[rows, first], head_x[rows, second]], 1).ravel()
    ys = np.stack([head_y[rows, first], head_y[rows, second]], 1).ravel()
    gaps = np.isnan(head_y).any(axis=1)
    if gaps.any():
        ys.reshape(m, 2)[gaps, 1] = np.nan
    return np.concatenate([xs, x[m * bucket:]]), np.concatenate([ys, y[m * bucket:]])


def mean_decimate(x, y, max_points, log=False):
    """At most ``max_points`` points: the mean of each bucket (of the logs with ``log``), for noisy series
    whose trend matters more than their extremes (a min-max envelope of them draws a solid band). A bucket
    holding a NaN draws a gap."""
    n = len(x)
    if n <= max_points:
        return x, y
    bucket = int(np.ceil(n / max_points))
    m = n // bucket
    values = y[:m * bucket].reshape(m, bucket)
    with np.errstate(divide="ignore", invalid="ignore"):
        if log:
            means = 10.0 ** np.log10(np.where(values > 0, values, np.nan)).mean(axis=1)
        else:
            means = values.mean(axis=1)
    centers = x[:m * bucket].reshape(m, bucket).mean(axis=1)
    return np.concatenate([centers, x[m * bucket:]]), np.concatenate([means, y[m * bucket:]])


def visible_slice(x, x0, x1, margin=1):
    """The index range of sorted ``x`` covering ``[x0, x1]``, one point beyond each end so lines reach the
    edges of the view."""
    start = max(int(np.searchsorted(x, x0, "left")) - margin, 0)
    stop = min(int(np.searchsorted(x, x1, "right")) + margin, len(x))
    return start, stop


def finite_bounds(*arrays, log=False):
    """``(min, max)`` of the finite values of ``arrays`` (of their log10 with ``log``, positives only), or None."""
    lows, highs = [], []
    for a in arrays:
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.log10(np.where(a > 0, a, np.nan))
        a = a[np.isfinite(a)]
        if len(a):
            lows.append(a.min())
            highs.append(a.max())
    return (float(min(lows)), float(max(highs))) if lows else None


def sticky_range(current, bounds, margin=0.06, slack=0.4):
    """The view range for data within ``bounds``: ``current`` while it holds them and they fill at least
    ``slack`` of it (so a growing curve does not rescale its axis at every step), else ``bounds`` with a
    ``margin`` on each side."""
    low, high = bounds
    span = high - low
    if current is not None:
        c_low, c_high = current
        if c_low <= low and high <= c_high and span >= slack * (c_high - c_low):
            return current
    pad = margin * span if span > 0 else max(abs(high) * 0.1, 1e-3)
    return (low - pad, high + pad)
