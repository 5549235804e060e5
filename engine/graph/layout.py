"""Automatic layout: nodes in layers from left to right (a layer is the longest path from a source), in
rows that follow the main path.

A chain stays on one row however long it is (the canvas scrolls; wrapping it onto a second row would
draw one long diagonal connection across everything). A node takes the lower median of its inputs' rows,
so the main path of a residual network stays straight; a branch that would take an occupied row moves to
the next free one below.
"""

LAYER_SPACING = 240.0
ROW_SPACING = 130.0


def grouped_positions(network, origin=(0.0, 0.0)):
    """``(node positions, group positions)``: the layout with each collapsed group as one box, and the
    members of a collapsed group laid out among themselves from its box, where expanding it shows them; an
    expanded group's box goes to its members' top-left corner, where folding it puts it."""
    collapsed = {g.id: g for g in network.groups.values() if g.collapsed}
    unit = {m: gid for gid, g in collapsed.items() for m in g.members}
    topological, sources = network.topological_order(), network.sources()
    order = list(dict.fromkeys(unit.get(i, i) for i in topological))
    preds = {u: {} for u in order}  # dicts as ordered sets
    for e in network.edges:
        a, b = unit.get(e.src, e.src), unit.get(e.dst, e.dst)
        if a != b:
            preds[b][a] = None
    places = _layered(order, {u: list(p) for u, p in preds.items()}, origin)
    nodes = {i: places[i] for i in places if i not in collapsed}
    member_order = {gid: [] for gid in collapsed}
    for i in topological:
        if i in unit:
            member_order[unit[i]].append(i)
    groups = {}
    for gid, members in member_order.items():
        groups[gid] = places[gid]
        member_preds = {i: [p for p in sources[i] if unit.get(p) == gid] for i in members}
        nodes.update(_layered(members, member_preds, places[gid]))
    for group in network.groups.values():
        if not group.collapsed:
            groups[group.id] = _corner(nodes[m] for m in group.members)
    return nodes, groups


def _corner(positions):
    xs, ys = zip(*positions)
    return min(xs), min(ys)


def fold_moves(network, group):
    """``(box position, fold cut, {node id: position}, {group id: box position})`` that fold an expanded group
    into its box or unfold a collapsed one, as a code editor folds a block. Folding puts the box at the
    members' top-left corner and closes up what lies right of the members, as far as the rightmost other box
    within their columns (the fold cut, kept relative to the box); unfolding moves what lies right of the cut
    back, so the two give back the layout."""
    members = [network.nodes[m].position for m in group.members]
    left, right = min(x for x, _ in members), max(x for x, _ in members)
    inside = set(group.members)
    others = [g for g in network.groups.values() if g.id != group.id]
    carried = {m for g in others if g.collapsed for m in g.members}  # they move with their boxes
    places = {("node", i): n.position for i, n in network.nodes.items() if i not in inside and i not in carried}
    places.update({("group", g.id): g.position for g in others})
    if group.collapsed:  # unfold: from the cut, as far as the fold closed up
        box = group.position
        start, shift = box[0] + group.fold_cut, (right - left) - group.fold_cut
        cut = 0.0
    else:
        box = _corner(members)
        cut = max((x for x, _ in places.values() if left < x <= right), default=left) - left
        start, shift = right, -((right - left) - cut)
    moved = {key: (x + shift, y) for key, (x, y) in places.items() if x > start} if shift else {}
    return (box, cut, {i: p for (kind, i), p in moved.items() if kind == "node"},
            {i: p for (kind, i), p in moved.items() if kind == "group"})


def layered_positions(network, origin=(0.0, 0.0)):
    return _layered(network.topological_order(), network.sources(), origin)


def _layered(order, preds, origin):
    depth = {}
    for node_id in order:  # a group that leaves its path and comes back reads a later box: placed by the others
        depth[node_id] = 1 + max((depth[p] for p in preds[node_id] if p in depth), default=-1)
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
