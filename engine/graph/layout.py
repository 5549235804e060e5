"""Automatic layout: nodes in layers from left to right (a layer is the longest path from a source),
ordered within a layer by the mean position of their inputs to keep connections short."""

LAYER_SPACING = 240.0
ROW_SPACING = 130.0


def layered_positions(network, origin=(0.0, 0.0)):
    order = network.topological_order()
    preds = network.sources()
    depth = {}
    for node_id in order:
        depth[node_id] = 1 + max((depth[p] for p in preds[node_id]), default=-1)
    layers = {}
    for node_id in order:
        layers.setdefault(depth[node_id], []).append(node_id)
    row = {}
    positions = {}
    for d in sorted(layers):
        members = layers[d]
        members.sort(key=lambda i: _barycentre(preds[i], row))
        top = -(len(members) - 1) / 2.0
        for k, node_id in enumerate(members):
            row[node_id] = top + k
            positions[node_id] = (origin[0] + d * LAYER_SPACING, origin[1] + (top + k) * ROW_SPACING)
    return positions


def _barycentre(preds, row):
    placed = [row[p] for p in preds if p in row]
    return sum(placed) / len(placed) if placed else 0.0
