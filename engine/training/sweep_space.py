"""What a sweep varies: one ``Dimension`` per training setting, parsed from ``name=v1,v2,...`` (listed values) or
``name=low:high[:log]`` (a range, for random and TPE search), typed and checked by the setting's ``ParamSpec``."""

import itertools
import math
from dataclasses import dataclass

import optuna

from ..graph.settings import SETTINGS_SPECS

SWEEPABLE_KINDS = ("int", "float", "bool", "choice")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class SweepSpaceError(ValueError):
    """A ``--set`` that cannot be used; the message names the setting and the bad value."""


@dataclass(frozen=True)
class Dimension:
    """One swept setting: its listed ``values``, or the range ``low``..``high`` (``log``: sampled on a log scale)."""

    name: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False

    @property
    def is_range(self):
        return not self.values

    def distribution(self):
        """Optuna's distribution for this dimension."""
        if not self.is_range:
            return optuna.distributions.CategoricalDistribution(self.values)
        if SETTINGS_SPECS[self.name].kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.log)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)

    def contains(self, value):
        """Whether ``value`` is one this dimension can take."""
        if not self.is_range:
            return value in self.values and type(value) is type(self.values[0])
        return isinstance(value, (int, float)) and not isinstance(value, bool) and self.low <= value <= self.high

    def describe(self):
        if not self.is_range:
            return f"{self.name}={','.join(map(format_value, self.values))}"
        return f"{self.name}={format_value(self.low)}:{format_value(self.high)}{':log' if self.log else ''}"

    def to_json(self):
        if not self.is_range:
            return {"name": self.name, "values": list(self.values)}
        return {"name": self.name, "low": self.low, "high": self.high, "log": self.log}


def format_value(value):
    """A setting's value as ``--set`` takes it (``0.01``, ``64``, ``true``, ``Adam``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _spec(name, text):
    spec = SETTINGS_SPECS.get(name)
    if spec is None:
        raise SweepSpaceError(f"--set {text}: '{name}' is not a training setting (one of: "
                              f"{', '.join(n for n, s in SETTINGS_SPECS.items() if s.kind in SWEEPABLE_KINDS)})")
    if spec.kind not in SWEEPABLE_KINDS:
        raise SweepSpaceError(f"--set {text}: '{name}' cannot be swept (its values are {spec.kind})")
    return spec


KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def _convert(spec, item):
    if spec.kind == "int":
        return int(item)
    if spec.kind == "float":
        return float(item)
    if spec.kind == "bool":
        if item.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(item)
        return item.lower() in TRUE_WORDS
    return next((c for c in spec.choices if c.lower() == item.lower()), item)


def _typed(spec, item, text):
    """``item`` (text) as a value of ``spec``, checked against its range or choices."""
    try:
        value = _convert(spec, item)
    except ValueError:
        bounds = spec.describe_range()
        raise SweepSpaceError(f"--set {text}: '{spec.name}' must be {KIND_WORDS[spec.kind]}"
                              f"{' ' + bounds if bounds else ''}, got {item!r}") from None
    try:
        return spec.validate(value)
    except ValueError as e:
        raise SweepSpaceError(f"--set {text}: {e}") from None


def _range(spec, parts, text):
    if spec.kind not in ("int", "float"):
        raise SweepSpaceError(f"--set {text}: '{spec.name}' is a {spec.kind} setting: list its values, not a range")
    log = len(parts) == 3
    if len(parts) not in (2, 3) or (log and parts[2].lower() != "log"):
        raise SweepSpaceError(f"--set {text}: a range is LOW:HIGH or LOW:HIGH:log")
    low, high = (_typed(spec, part, text) for part in parts[:2])
    if not low < high:
        raise SweepSpaceError(f"--set {text}: the range's low end {format_value(low)} must be below its high end "
                              f"{format_value(high)}")
    if log and low <= 0:
        raise SweepSpaceError(f"--set {text}: a log range must start above 0, got {format_value(low)}")
    return Dimension(spec.name, low=low, high=high, log=log)


def parse_dimension(text):
    """One ``--set`` argument as a ``Dimension``; ``SweepSpaceError`` naming the setting and what is wrong."""
    name, sep, spec_text = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name or not spec_text.strip():
        raise SweepSpaceError(f"--set {text}: expected NAME=V1,V2,... or NAME=LOW:HIGH[:log]")
    spec = _spec(name, text)
    if ":" in spec_text:
        return _range(spec, [p.strip() for p in spec_text.split(":")], text)
    values = tuple(_typed(spec, item.strip(), text) for item in spec_text.split(","))
    repeated = sorted({format_value(v) for v in values if values.count(v) > 1})
    if repeated:
        raise SweepSpaceError(f"--set {text}: {', '.join(repeated)} is listed more than once")
    return Dimension(name, values=values)


def parse_space(texts):
    """The ``Dimension`` of each ``--set`` argument, in order; a setting given twice is refused."""
    space = [parse_dimension(text) for text in texts]
    names = [d.name for d in space]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SweepSpaceError(f"--set: {', '.join(twice)} is given more than once")
    if not space:
        raise SweepSpaceError("--set: give at least one setting to vary (--set lr=0.01,0.1)")
    return space


def dimension_from_json(item, error):
    """A ``Dimension`` read back from a sweep record (``error(problem)`` builds the exception for a bad one)."""
    if not isinstance(item, dict) or item.get("name") not in SETTINGS_SPECS:
        raise error(f"a swept setting is not a known training setting: {item!r}")
    spec = SETTINGS_SPECS[item["name"]]
    try:
        if "values" in item:
            if not isinstance(item["values"], list) or not item["values"]:
                raise ValueError(f"'{spec.name}' has no values")
            return Dimension(spec.name, values=tuple(spec.validate(v) for v in item["values"]))
        low, high = spec.validate(item.get("low")), spec.validate(item.get("high"))
        if spec.kind not in ("int", "float") or not low < high or not isinstance(item.get("log"), bool):
            raise ValueError(f"'{spec.name}' has a bad range {item!r}")
        return Dimension(spec.name, low=low, high=high, log=item["log"])
    except ValueError as e:
        raise error(str(e)) from None


def grid(space):
    """Every combination of the listed values, the first setting varying slowest."""
    ranges = [d.describe() for d in space if d.is_range]
    if ranges:
        raise SweepSpaceError(f"a grid needs listed values, but {', '.join(ranges)} is a range: list values or "
                              f"use random or TPE search")
    return [dict(zip((d.name for d in space), combo)) for combo in itertools.product(*(d.values for d in space))]


def grid_size(space):
    return math.prod(len(d.values) for d in space)
