"""Automatic layout: nodes in layers from left to right (a layer is the longest path from a source), in
rows that follow the main path.

A chain stays on one row however long it is (the canvas scrolls; wrapping it onto a second row would
draw one long diagonal connection across everything). A node takes the lower median of its inputs' rows,
so the main path of a residual network stays straight; a branch that would take an occupied row moves to
the next free one below.
"""

LAYER_SPACING = 240.0
ROW_SPACING = 130.0


def layered_positions(network, origin=(0.0, 0.0)):
    order = network.topological_order()
    preds = network.sources()
    depth = {}
    for node_id in order:
        depth[node_id] = 1 + max((depth[p] for p in preds[node_id]), default=-1)
    layers = {}
    for node_id in order:  # topological order: within a layer, the earliest added comes first
        layers.setdefault(depth[node_id], []).append(node_id)
    row = {}
    for d in sorted(layers):
        row.update(_rows(layers[d], preds, row))
    return {node_id: (origin[0] + depth[node_id] * LAYER_SPACING, origin[1] + row[node_id] * ROW_SPACING)
            for node_id in order}


def _rows(members, preds, row):
    """``{node id: row}`` for one layer: each member at its wanted row, or the next free one below."""
    wanted = sorted(((_wanted_row(preds[node_id], row), k, node_id) for k, node_id in enumerate(members)))
    taken, rows = set(), {}
    for want, _, node_id in wanted:
        free = want
        while free in taken:
            free += 1
        taken.add(free)
        rows[node_id] = free
    return rows


def _wanted_row(inputs, row):
    """The lower median of the inputs' rows (0 for a source): a merge stays on its main path's row."""
    placed = sorted(row[p] for p in inputs if p in row)
    return placed[(len(placed) - 1) // 2] if placed else 0
