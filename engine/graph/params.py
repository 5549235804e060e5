"""Typed parameters: how a layer's (or the training settings') options are described once, checked, and
stored in JSON.

A ``ParamSpec`` knows its kind, default, valid range, choices and which choices of another parameter it
applies to (``applies``: momentum only for SGD and RMSprop); ``validate`` turns any value a user or a
file may give (JSON lists for tuples, ints for floats) into the normal form or raises ``ValueError`` with
a message that names the parameter and says what is wrong. The GUI generates its inspector widgets from
the same specs, so the ranges shown are the ranges enforced and the options shown those used.
"""

import math
from dataclasses import dataclass

KINDS = ("int", "float", "bool", "choice", "pair", "padding", "shape", "ints", "text")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    help: str = ""
    key: bool = False  # shown on the node in the editor
    applies: tuple = ()  # (other parameter, its choices): used only while that parameter holds one of them
    length: tuple = (0, None)  # ints: the fewest and most items (None: no limit)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    def describe_range(self):
        if self.minimum is not None and self.maximum is not None:
            return f"between {_fmt(self.minimum)} and {_fmt(self.maximum)}"
        if self.minimum is not None:
            return f">= {_fmt(self.minimum)}"
        if self.maximum is not None:
            return f"<= {_fmt(self.maximum)}"
        return ""

    def applies_to(self, values):
        """Whether this parameter is used, given the other ``values`` (always, without ``applies``)."""
        return not self.applies or values[self.applies[0]] in self.applies[1]

    def describe_applies(self):
        """``"SGD and RMSprop only"``, or "" for a parameter that always applies."""
        if not self.applies:
            return ""
        *rest, last = self.applies[1]
        return f"{', '.join(rest)} and {last} only" if rest else f"{last} only"

    def _check_range(self, value):
        low_ok = self.minimum is None or value >= self.minimum
        high_ok = self.maximum is None or value <= self.maximum
        if not (low_ok and high_ok):
            raise ValueError(f"'{self.name}' must be {self.describe_range()}, got {_fmt(value)}")
        return value

    def _int(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ValueError(f"'{self.name}' must be an integer, got {value!r}")
        return self._check_range(value)

    @property
    def optional(self):
        """A parameter whose default is None accepts None: "auto" (e.g. in_channels from the input)."""
        return self.default is None

    def validate(self, value):
        """``value`` in normal form (tuples for pairs and shapes), or ``ValueError`` naming the problem."""
        kind = self.kind
        if value is None and self.optional:
            return None
        if kind == "int":
            return self._int(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"'{self.name}' must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"'{self.name}' must be finite, got {value!r}")
            return self._check_range(float(value))
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"'{self.name}' must be true or false, got {value!r}")
            return value
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise ValueError(f"'{self.name}' must be one of {options}, got {value!r}")
            return value
        if kind == "text":
            if not isinstance(value, str):
                raise ValueError(f"'{self.name}' must be text, got {value!r}")
            return value
        if kind == "padding" and isinstance(value, str):
            if value not in ("same", "valid"):
                raise ValueError(f"'{self.name}' must be an integer, a pair, 'same' or 'valid', got {value!r}")
            return value
        if kind in ("pair", "padding"):
            items = self._sequence(value, 2) if isinstance(value, (list, tuple)) else (value, value)
            return tuple(self._int(v) for v in items)
        if kind == "shape":
            items = self._sequence(value, None)
            if not items:
                raise ValueError(f"'{self.name}' must have at least one dimension")
            return tuple(self._int(v) for v in items)
        if kind == "ints":
            items = self._sequence(value, None)
            fewest, most = self.length
            if len(items) < fewest or (most is not None and len(items) > most):
                count = f"{fewest} to {most}" if most is not None else f"at least {fewest}"
                raise ValueError(f"'{self.name}' must have {count} items, got {len(items)}")
            return tuple(self._int(v) for v in items)
        raise AssertionError(kind)

    def _sequence(self, value, length):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"'{self.name}' must be a list of integers, got {value!r}")
        if length is not None and len(value) != length:
            raise ValueError(f"'{self.name}' must be an integer or a pair of integers, got {list(value)!r}")
        return value

    def to_json(self, value):
        return list(value) if isinstance(value, tuple) else value

    def format(self, value):
        """Short text for the node face and tables: ``5`` for (5, 5), ``3×32×32`` for a shape."""
        if value is None:
            return "auto"
        if isinstance(value, tuple):
            if self.kind in ("pair", "padding") and value[0] == value[1]:
                return str(value[0])
            return {"shape": "×", "ints": ", "}.get(self.kind, ",").join(str(v) for v in value)
        return _fmt(value)


def _fmt(value):
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def validate_params(specs, values):
    """Normal-form dict for ``values`` against ``specs`` (a name → ParamSpec mapping): unknown names and
    invalid values raise ``ValueError``; missing ones take their defaults."""
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ValueError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"expected {', '.join(specs) or 'none'}")
    out = {}
    for name, spec in specs.items():
        out[name] = spec.validate(values[name]) if name in values else spec.default
    return out
