"""From the health of the layers to what each node of the graph shows: the chosen measure's latest value, its
history and its level, with a tooltip that explains it. A node shows the worst of the layers it computes (its
own module, the modules inside it, and the copies of a repeated group)."""

import re

import numpy as np

from engine.training.health_measures import KEYS, LEVEL_NAMES, MEASURES
from gui.editor.health_strip import SPARK_POINTS, HealthBadge, compact

_COPY = re.compile(r"(.+)_r\d+")
_PREFERENCE = {"dead_fraction": 3, "saturated_fraction": 2, "act_std": 1}  # shown when the chosen measure is not


def layer_nodes(document, layers):
    """``{layer: node id}`` for the layers that belong to a node of ``document``."""
    ids = {node.name: node.id for node in document.nodes.values()}
    found = {}
    for layer in layers:
        head = layer.split(".", 1)[0]
        copy = _COPY.fullmatch(head)
        node_id = ids.get(head) or (ids.get(copy[1]) if copy else None)
        if node_id is not None:
            found[layer] = node_id
    return found


def node_badges(document, history, key):
    """``{node id: HealthBadge}`` for the latest record of ``history`` (a ``HealthHistory``): each node shows
    measure ``key`` where it applies, unless another of its measures is worse (then that one: what needs a look
    comes first); the tooltip lists every measure out of its band."""
    if not len(history):
        return {}
    values, levels = history.matrix(), history.levels()
    rows = {}  # node id -> [layer rows]
    nodes = layer_nodes(document, history.layers)
    for r, layer in enumerate(history.layers):
        if layer in nodes:
            rows.setdefault(nodes[layer], []).append(r)
    step = history.last_step
    badges = {}
    for node_id, indices in rows.items():
        name = document.nodes[node_id].name
        candidates = [(int(levels[r, c]), KEYS[c] == key, _PREFERENCE.get(KEYS[c], 0), history.layers[r] == name,
                       r, c) for r in indices for c in range(len(KEYS)) if not np.isnan(values[r, c])]
        if not candidates:
            continue
        level, _, _, _, row, column = max(candidates)
        measure, layer, value = MEASURES[column], history.layers[row], float(values[row, column])
        _, series = history.series(layer, measure.key)
        problems = [(history.layers[r], MEASURES[c], float(values[r, c]), int(levels[r, c]))
                    for *_, r, c in sorted(candidates)[::-1] if levels[r, c] and (r, c) != (row, column)]
        badges[node_id] = HealthBadge(f"{measure.short} {compact(value, measure.share)}", level,
                                      series[-SPARK_POINTS:].copy(),
                                      measure.log_scale, tooltip([(layer, measure, value, level), *problems], step))
    return badges


def tooltip(entries, step):
    """What each ``(layer, measure, value, level)`` is at ``step``: the first in full (what it means), every one
    with what people usually do when it is out of its band."""
    lines = []
    for k, (layer, measure, value, level) in enumerate(entries):
        lines.append(f"{measure.label} of '{layer}' at step {step}: {compact(value, measure.share)} "
                     f"({LEVEL_NAMES[level]})")
        if k == 0:
            lines.append(measure.meaning)
        if level:
            lines.append(measure.advice(value))
    return "\n".join(lines)
