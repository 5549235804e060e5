"""What changed between two versions of a network document (the one a run trained and the current one, say):
nodes added, removed and renamed, parameters, frozen flags, connections, groups and training settings.

Nodes are matched by id first (ids are stable through one document's edits, so a renamed node is still the
same node), then by name (a document imported or rebuilt again gets new ids). An id match is trusted only for
nodes of one type, and not where both names also name other nodes of the other document: then the ids are a
coincidence of two rebuilt documents. Layout (positions, collapsed groups) is not a change.
"""

from dataclasses import asdict, dataclass, field


@dataclass
class NetworkDiff:
    """Node changes are keyed by the node's name in the new document; connections are ``(src, out_port, dst,
    port)`` by node names (new names for matched nodes); settings and parameters map to ``(old, new)``."""

    added: list = field(default_factory=list)  # [(name, type)]
    removed: list = field(default_factory=list)  # [(name, type)]
    renamed: list = field(default_factory=list)  # [(old name, new name)]
    params: dict = field(default_factory=dict)  # name -> {param: (old, new)}
    frozen: dict = field(default_factory=dict)  # name -> (old, new)
    connections_added: list = field(default_factory=list)
    connections_removed: list = field(default_factory=list)
    groups_added: list = field(default_factory=list)  # [(name, (member names))]
    groups_removed: list = field(default_factory=list)
    groups_changed: dict = field(default_factory=dict)  # name -> {"repeat"|"members": (old, new)}
    settings: dict = field(default_factory=dict)  # name -> (old, new)

    @property
    def count(self):
        """The number of single changes (each parameter, setting, connection... counts once)."""
        return (len(self.added) + len(self.removed) + len(self.renamed) + sum(map(len, self.params.values()))
                + len(self.frozen) + len(self.connections_added) + len(self.connections_removed)
                + len(self.groups_added) + len(self.groups_removed) + sum(map(len, self.groups_changed.values()))
                + len(self.settings))

    @property
    def empty(self):
        return self.count == 0

    def lines(self):
        """One short line per node, connection, group or setting that changed."""
        lines = [f"+ {name} ({type_name})" for name, type_name in self.added]
        lines += [f"- {name} ({type_name})" for name, type_name in self.removed]
        lines += [f"renamed {old} → {new}" for old, new in self.renamed]
        lines += [f"{name}: {_changes_text(changes)}" for name, changes in self.params.items()]
        lines += [f"{name}: {'frozen' if new else 'unfrozen'}" for name, (_, new) in self.frozen.items()]
        lines += [f"+ {_connection(c)}" for c in self.connections_added]
        lines += [f"- {_connection(c)}" for c in self.connections_removed]
        lines += [f"+ group {name} ({', '.join(members)})" for name, members in self.groups_added]
        lines += [f"- group {name} ({', '.join(members)})" for name, members in self.groups_removed]
        lines += [f"group {name}: {_changes_text(changes)}" for name, changes in self.groups_changed.items()]
        lines += [_changes_text({name: change}) for name, change in self.settings.items()]
        return lines

    def summary(self, most=2):
        """``no changes``, the lines joined by ``; `` when there are at most ``most``, else ``N changes``."""
        lines = self.lines()
        if not lines:
            return "no changes"
        return "; ".join(lines) if len(lines) <= most else f"{self.count} changes"

    def as_dict(self):
        """Plain data for JSON: the fields and the lines."""
        return {**asdict(self), "lines": self.lines()}


def value_text(value):
    """A parameter or setting value as the lines show it: numbers short, tuples in brackets, empty text as ''."""
    if isinstance(value, str):
        return value if value else "''"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(map(value_text, value)) + ")"
    return str(value)


def _changes_text(changes):
    """``out_channels 6 → 8, kernel_size (5, 5) → (3, 3)``."""
    return ", ".join(f"{name} {value_text(a)} → {value_text(b)}" for name, (a, b) in changes.items())


def _connection(connection):
    src, out_port, dst, port = connection
    return f"{src}{f':{out_port}' if out_port else ''} → {dst}{f' (input {port})' if port else ''}"


def match_nodes(old, new):
    """``{old node id: new node id}`` for the nodes both documents hold (see the module's note)."""
    old_names = {n.name for n in old.nodes.values()}
    new_names = {n.name for n in new.nodes.values()}
    matched = {}
    for node_id, a in old.nodes.items():
        b = new.nodes.get(node_id)
        if b is None or b.type != a.type:
            continue
        coincidence = a.name != b.name and a.name in new_names and b.name in old_names
        if not coincidence:
            matched[node_id] = node_id
    taken = set(matched.values())
    by_name = {n.name: n for n in new.nodes.values() if n.id not in taken}
    for node_id, a in old.nodes.items():
        b = by_name.get(a.name)
        if node_id not in matched and b is not None and b.type == a.type:
            matched[node_id] = b.id
            del by_name[a.name]
    return matched


def _connections(network, name_of):
    return [(name_of[e.src], e.out_port, name_of[e.dst], e.port) for e in network.edges]


def _groups(network, name_of):
    """``{group name: (member names, repeat)}``; groups are matched by name."""
    return {g.name: (tuple(name_of[m] for m in g.members), g.repeat) for g in network.groups.values()}


def _changed(before, after):
    """``{key: (old, new)}`` for the keys of either dict whose values differ, in the order of ``before``."""
    keys = list(before) + [k for k in after if k not in before]
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


def _diff_nodes(diff, old, new, matched):
    new_matched = set(matched.values())
    diff.added = [(n.name, n.type) for n in new.nodes.values() if n.id not in new_matched]
    diff.removed = [(n.name, n.type) for n in old.nodes.values() if n.id not in matched]
    for old_id, new_id in matched.items():
        a, b = old.nodes[old_id], new.nodes[new_id]
        if a.name != b.name:
            diff.renamed.append((a.name, b.name))
        params = _changed(a.params, b.params)
        if params:
            diff.params[b.name] = params
        if a.frozen != b.frozen:
            diff.frozen[b.name] = (a.frozen, b.frozen)


def _diff_groups(diff, before, after):
    diff.groups_added = [(name, members) for name, (members, _) in after.items() if name not in before]
    diff.groups_removed = [(name, members) for name, (members, _) in before.items() if name not in after]
    for name, (members_b, repeat_b) in after.items():
        if name not in before:
            continue
        members_a, repeat_a = before[name]
        changes = {}
        if set(members_a) != set(members_b):
            changes["members"] = (members_a, members_b)
        if repeat_a != repeat_b:
            changes["repeat"] = (repeat_a, repeat_b)
        if changes:
            diff.groups_changed[name] = changes


def network_diff(old, new):
    """The ``NetworkDiff`` from the document ``old`` to the document ``new`` (``engine.graph.Network``)."""
    matched = match_nodes(old, new)
    diff = NetworkDiff()
    _diff_nodes(diff, old, new, matched)
    # old nodes go by their new names, so that a renamed node's connections and groups do not count as changed
    old_names = {i: new.nodes[matched[i]].name if i in matched else n.name for i, n in old.nodes.items()}
    new_names = {i: n.name for i, n in new.nodes.items()}
    before, after = _connections(old, old_names), _connections(new, new_names)
    before_set, after_set = set(before), set(after)
    diff.connections_added = [c for c in after if c not in before_set]
    diff.connections_removed = [c for c in before if c not in after_set]
    _diff_groups(diff, _groups(old, old_names), _groups(new, new_names))
    diff.settings = _changed(old.settings, new.settings)
    return diff
