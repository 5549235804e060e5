"""JSON from files users give us: the nesting depth is measured first, in linear time with strings left out,
so a deeply nested file is refused by line instead of overflowing the parser's stack; integers over Python's
digit limit and bad syntax become the file kind's error too."""

import json
import re

import numpy as np

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1
_CHUNK = 1 << 20


def check_depth(text, max_depth, source, error):
    """``error(source, problem)`` naming the line where ``text`` nests more than ``max_depth`` levels."""
    bare = _STRING.sub('""', text).encode("utf-8", "replace")
    steps = np.frombuffer(bare, dtype=np.uint8)
    depth = 0
    for start in range(0, len(steps), _CHUNK):
        levels = np.cumsum(_DEPTH_STEP[steps[start:start + _CHUNK]], dtype=np.int64) + depth
        if len(levels) and levels.max() > max_depth:
            at = start + int(np.argmax(levels > max_depth))
            line = bare.count(b"\n", 0, at) + 1
            raise error(source, f"line {line}: nested more than {max_depth} levels deep")
        depth = int(levels[-1]) if len(levels) else depth


def parse_json(text, source, error, max_depth):
    """The JSON value of ``text``, or ``error(source, problem)``. NaN and infinities (``1e400``) are read:
    whoever uses a value checks it and can name it."""
    check_depth(text, max_depth, source, error)
    return loads(text, source, error)


def loads(text, source, error, line=None):
    """``json.loads`` of text whose depth was checked, its failures as ``error(source, problem)``."""
    where = "" if line is None else f"line {line}: "
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        at = f"line {e.lineno}, column {e.colno}" if line is None else f"column {e.colno}"
        raise error(source, f"{where}bad JSON at {at}: {e.msg}") from None
    except ValueError as e:  # an integer over Python's digit limit
        raise error(source, f"{where}bad JSON: {e}") from None


def check_record(data, source, error, kind, format_name, version):
    """``data`` (parsed JSON) when it is a LayerLab record of ``format_name`` in a version up to ``version``;
    else ``error(source, problem)``, ``kind`` naming what it should have been ("sweep record")."""
    if not isinstance(data, dict) or data.get("format") != format_name:
        raise error(source, f"not a LayerLab {kind} (expected format {format_name!r})")
    if not isinstance(data.get("version"), int) or data["version"] > version:
        raise error(source, f"version {data.get('version')!r} is not one this LayerLab reads ({version})")
    return data
