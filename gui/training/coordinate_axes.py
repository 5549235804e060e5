"""Where the runs' values sit on the vertical axes of a parallel-coordinates chart: each axis maps its values to
[0, 1] (bottom to top) on a log, linear or categorical scale and names a few ticks. No Qt here."""

import contextlib
import math
import numbers
from dataclasses import dataclass

from engine.graph.diff import value_text

LOG, LINEAR, CATEGORY = "log", "linear", "category"
LOG_SPAN = 20  # positive numbers whose largest is more than this many times their smallest go on a log axis
MAX_VALUE_TICKS = 6  # a numeric axis with at most this many distinct values ticks at each of them
NICE_TICKS = 5  # at most this many steps between the ends of an axis with more


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_missing(value):
    return value is None or (is_number(value) and not math.isfinite(value))


def format_number(value, digits=3):
    """A number in a few characters: 0.001 -> '1e-3', 0.05 -> '0.05', 128 -> '128', 2.5e-4 -> '2.5e-4'."""
    value = float(value)
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    text = f"{value:.{digits}g}"
    if abs(value) < 0.01 or "e" in text:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        text = f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return text


def format_percent(fraction, decimals=None):
    """A fraction as a percentage: compact (0.85 -> '85 %'), or with ``decimals`` places."""
    percent = 100 * float(fraction)
    return f"{format_number(percent) if decimals is None else f'{percent:.{decimals}f}'} %"


def _nice_step(span):
    """The smallest of 1, 2, 5, 10, 20, ... times a power of ten that cuts ``span`` into at most NICE_TICKS."""
    raw = span / NICE_TICKS
    power = 10.0 ** math.floor(math.log10(raw))
    return power * next(m for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def _category_key(value):
    return repr(value)


@dataclass(frozen=True)
class Axis:
    """One vertical axis. Numeric axes run from ``low`` to ``high`` (their log10 on a log axis); a categorical
    axis spaces its ``categories`` evenly. ``percent``: fractions shown as percentages. ``value_ticks``: tick at
    each value when there are few (settings), rather than at round numbers (a metric)."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    categories: tuple = ()
    distinct: tuple = ()  # a numeric axis's distinct values, smallest first
    percent: bool = False
    value_ticks: bool = True

    def _scaled(self, value):
        return math.log10(value) if self.kind == LOG else float(value)

    def position(self, value):
        """Where ``value`` sits, 0 at the bottom and 1 at the top; NaN when it is missing or not on this axis."""
        if self.kind == CATEGORY:
            keys = [_category_key(c) for c in self.categories]
            key = None if is_missing(value) else _category_key(value)
            if key not in keys:
                return math.nan
            return 0.5 if len(keys) == 1 else keys.index(key) / (len(keys) - 1)
        if is_missing(value) or not is_number(value) or (self.kind == LOG and value <= 0):
            return math.nan
        if self.high == self.low:
            return 0.5
        return (self._scaled(value) - self.low) / (self.high - self.low)

    def text(self, value, decimals=2):
        """``value`` as the chart's readout shows it ('—' when missing)."""
        if is_missing(value):
            return "—"
        if self.percent and is_number(value):
            return format_percent(value, decimals)
        return value_text(value)

    def _tick_text(self, value):
        return format_percent(value) if self.percent else format_number(value)

    def ticks(self, min_gap=0.0):
        """``[(position, label)]`` bottom to top, none closer than ``min_gap`` (a fraction of the axis) to the
        one below it: every category, each value of a numeric axis with few, or round numbers."""
        if self.kind == CATEGORY:
            values, texts = self.categories, [value_text(c) for c in self.categories]
        else:
            values = self._numeric_tick_values()
            texts = [self._tick_text(v) for v in values]
        kept = []
        for value, text in zip(values, texts, strict=True):
            at = self.position(value)
            if math.isfinite(at) and (not kept or at - kept[-1][0] >= min_gap):
                kept.append((at, text))
        return kept

    def _numeric_tick_values(self):
        if len(self.distinct) <= 1 or (self.value_ticks and len(self.distinct) <= MAX_VALUE_TICKS):
            return list(self.distinct)
        if self.kind == LOG:
            return self._log_tick_values()
        scale = 100 if self.percent else 1  # round numbers of what the labels show
        step = _nice_step((self.high - self.low) * scale)
        first, last = math.ceil(self.low * scale / step - 1e-9), math.floor(self.high * scale / step + 1e-9)
        return [k * step / scale for k in range(first, last + 1)]

    def _log_tick_values(self):
        """Powers of ten, or 1-3 / 1-2-5 times them where the range holds too few powers for 3 ticks."""
        exponents = range(math.floor(self.low), math.ceil(self.high) + 1)
        for mantissas in ((1,), (1, 3), (1, 2, 5)):
            values = [m * 10.0 ** e for e in exponents for m in mantissas
                      if self.low - 1e-9 <= math.log10(m) + e <= self.high + 1e-9]
            if len(values) >= 3:
                break
        return values


def axis_for(name, values, percent=False, value_ticks=True):
    """The axis for the values of a setting or metric (None, NaN and infinities count as missing): log for
    positive numbers that span more than a factor LOG_SPAN, linear for other numbers, categories for anything
    else (in order when they sort, else in the order seen). A percent axis is always linear."""
    present = [v for v in values if not is_missing(v)]
    if present and all(is_number(v) for v in present):
        distinct = tuple(sorted({float(v) for v in present}))
        low, high = distinct[0], distinct[-1]
        if not percent and low > 0 and high > LOG_SPAN * low:
            return Axis(name, LOG, math.log10(low), math.log10(high), distinct=distinct, value_ticks=value_ticks)
        return Axis(name, LINEAR, low, high, distinct=distinct, percent=percent, value_ticks=value_ticks)
    categories = list({_category_key(v): v for v in present}.values())
    with contextlib.suppress(TypeError):  # mixed kinds (a number and a word) keep the order they came in
        categories = sorted(categories)
    return Axis(name, CATEGORY, categories=tuple(categories))
