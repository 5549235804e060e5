"""Undoable edits of the network document: each command is a pair of document calls.

A command is applied once by the editor (``execute``), which lets the document refuse it with a
``NetworkError`` before anything reaches the undo stack; the stack's first ``redo`` after ``push`` is then
skipped. Later ``redo``/``undo`` calls replay it. Commands keep ids and values, never graph items, and
nodes come back with their old ids, so the commands above them in the stack stay valid.
"""

from PySide6.QtGui import QUndoCommand

from engine.graph import Edge, network_from_json, network_to_json, paste_fragment


class DocumentCommand(QUndoCommand):
    def __init__(self, document, text):
        super().__init__(text)
        self.document = document
        self._skip_redo = False

    def execute(self):
        """Apply now (raises ``NetworkError`` if the document refuses); the push that follows is a no-op."""
        self.apply()
        self.mark_done()

    def mark_done(self):
        """The edit is already in the document: the stack's first ``redo`` must not apply it again."""
        self._skip_redo = True

    def redo(self):
        if self._skip_redo:
            self._skip_redo = False
            return
        self.apply()

    def undo(self):
        self.revert()

    def apply(self):
        raise NotImplementedError

    def revert(self):
        raise NotImplementedError


class _CreateNodes(DocumentCommand):
    """Creates nodes the first time (``create`` returns their ids), restores the same nodes afterwards."""

    def __init__(self, document, text):
        super().__init__(document, text)
        self.node_ids = []
        self._records = None

    def create(self):
        raise NotImplementedError

    def apply(self):
        if self._records is None:
            self.node_ids = self.create()
        else:
            self.document.restore_nodes(self._records)

    def revert(self):
        self._records = self.document.remove_nodes(self.node_ids)


class AddNode(_CreateNodes):
    def __init__(self, document, type_name, position, params=None, name=None):
        super().__init__(document, f"Add {type_name}")
        self._args = (type_name, params, name, position)

    @property
    def node_id(self):
        return self.node_ids[0]

    def create(self):
        type_name, params, name, position = self._args
        return [self.document.add_node(type_name, params, name=name, position=position).id]


class Paste(_CreateNodes):
    def __init__(self, document, fragment, offset, text="Paste"):
        super().__init__(document, text)
        self._fragment, self._offset = fragment, offset

    def create(self):
        return [n.id for n in paste_fragment(self.document, self._fragment, self._offset)]


class RemoveNodes(DocumentCommand):
    def __init__(self, document, node_ids):
        super().__init__(document, "Delete" if len(node_ids) != 1 else f"Delete {document.node(node_ids[0]).name}")
        self.node_ids = list(node_ids)
        self._records = []

    def apply(self):
        self._records = self.document.remove_nodes(self.node_ids)

    def revert(self):
        self.document.restore_nodes(self._records)


class Connect(DocumentCommand):
    def __init__(self, document, src, dst, port=None, out_port=0):
        names = {node_id: document.node(node_id).name for node_id in (src, dst)}
        super().__init__(document, f"Connect {Edge(src, dst, 0, out_port).describe(names)}")
        self._args = (src, dst, port, out_port)
        self.edge = None

    def apply(self):
        self.edge = self.document.connect(*self._args)
        edge = self.edge
        self._args = (edge.src, edge.dst, edge.port, edge.out_port)  # replay into the same input slot

    def revert(self):
        self.document.disconnect(self.edge)


class Disconnect(DocumentCommand):
    def __init__(self, document, edges):
        super().__init__(document, "Disconnect")
        self.edges = list(edges)

    def apply(self):
        with self.document.batch():
            for edge in self.edges:
                self.document.disconnect(edge)

    def revert(self):
        with self.document.batch():
            for edge in reversed(self.edges):
                self.document.connect(edge.src, edge.dst, edge.port, edge.out_port)


class SetParams(DocumentCommand):
    """Consecutive edits of the same parameters of a node (a spin box's arrow clicked five times, a pair's
    height then width) merge into one undo step; one that comes back to the old value disappears."""

    ID = 1

    def __init__(self, document, node_id, changes):
        names = ", ".join(changes)
        super().__init__(document, f"Set {document.node(node_id).name}.{names}")
        self.node_id, self.changes, self.old = node_id, dict(changes), None

    def apply(self):
        old = self.document.set_params(self.node_id, self.changes)
        if self.old is None:
            self.old = old

    def revert(self):
        self.document.set_params(self.node_id, self.old)

    def id(self):
        return self.ID

    def mergeWith(self, other):
        if not isinstance(other, SetParams) or (other.node_id, set(other.changes)) != (self.node_id,
                                                                                       set(self.changes)):
            return False
        self.changes = dict(other.changes)
        self.setObsolete(self.changes == self.old)
        return True


class SetFrozen(DocumentCommand):
    """Freeze or thaw nodes (their parameters take no updates in training)."""

    def __init__(self, document, node_ids, frozen):
        what = document.node(node_ids[0]).name if len(node_ids) == 1 else f"{len(node_ids)} nodes"
        super().__init__(document, f"{'Freeze' if frozen else 'Thaw'} {what}")
        self.node_ids, self.frozen, self.old = list(node_ids), bool(frozen), None

    def apply(self):
        old = self.document.set_frozen(self.node_ids, self.frozen)
        if self.old is None:
            self.old = old

    def revert(self):
        with self.document.batch():
            for node_id, frozen in self.old.items():
                self.document.set_frozen([node_id], frozen)


class SetSettings(DocumentCommand):
    """Training settings; consecutive edits of the same settings merge like ``SetParams``."""

    ID = 2

    def __init__(self, document, changes):
        super().__init__(document, f"Set {', '.join(changes)}")
        self.changes, self.old = dict(changes), None

    def apply(self):
        old = self.document.set_settings(self.changes)
        if self.old is None:
            self.old = old

    def revert(self):
        self.document.set_settings(self.old)

    def id(self):
        return self.ID

    def mergeWith(self, other):
        if not isinstance(other, SetSettings) or set(other.changes) != set(self.changes):
            return False
        self.changes = dict(other.changes)
        self.setObsolete(self.changes == self.old)
        return True


class Rename(DocumentCommand):
    def __init__(self, document, node_id, name):
        super().__init__(document, f"Rename {document.node(node_id).name} to {name}")
        self.node_id, self.name, self.old = node_id, name, None

    def apply(self):
        self.old = self.document.rename(self.node_id, self.name)

    def revert(self):
        self.document.rename(self.node_id, self.old)


class MoveNodes(DocumentCommand):
    """Moves of nodes and of groups' boxes (``groups_old``/``groups_new``): a box carries its members, then
    the nodes named go where they are told."""

    def __init__(self, document, old, new, text="Move", groups_old=None, groups_new=None):
        super().__init__(document, text)
        self.old, self.new = dict(old), dict(new)
        self.groups_old, self.groups_new = dict(groups_old or {}), dict(groups_new or {})

    def _move(self, nodes, groups):
        with self.document.batch():
            for group_id, position in groups.items():
                self.document.move_group(group_id, position)
            self.document.move_many(nodes)

    def apply(self):
        self._move(self.new, self.groups_new)

    def revert(self):
        self._move(self.old, self.groups_old)


class Layout(MoveNodes):
    """Auto-layout: the first apply lays the document out and keeps the moves; redo and undo replay them."""

    def __init__(self, document):
        super().__init__(document, {}, {}, "Auto-layout")
        self.old = self.new = None

    def apply(self):
        if self.new is None:
            self.cuts = {g.id: g.fold_cut for g in self.document.groups.values() if g.fold_cut}
            self.old, self.groups_old = self.document.layout()
            self.new = {i: self.document.nodes[i].position for i in self.old}
            self.groups_new = {i: self.document.groups[i].position for i in self.groups_old}
        else:
            with self.document.batch():
                super().apply()
                for group_id in self.cuts:
                    self.document.set_group(group_id, fold_cut=0.0)

    def revert(self):
        with self.document.batch():
            super().revert()
            for group_id, cut in self.cuts.items():  # where folding had closed up, for unfolding
                self.document.set_group(group_id, fold_cut=cut)


class AddGroup(DocumentCommand):
    """Group nodes; a node already in a group leaves it (a group left empty goes)."""

    def __init__(self, document, node_ids, name=None):
        super().__init__(document, "Group")
        self.node_ids, self.name = list(node_ids), name
        self.group = None
        self._left = []  # (group, old members) of the groups the nodes left, in order

    def apply(self):
        with self.document.batch():
            self._left = []
            chosen = set(self.node_ids)
            for group in list(self.document.groups.values()):
                if chosen.intersection(group.members):
                    rest = [m for m in group.members if m not in chosen]
                    if rest:
                        self._left.append((group, self.document.set_members(group.id, rest)))
                    else:
                        self._left.append((self.document.remove_group(group.id), None))
            xs = [self.document.nodes[i].position for i in self.node_ids]
            corner = (min(x for x, _ in xs), min(y for _, y in xs))
            if self.group is None:
                self.group = self.document.add_group(self.node_ids, name=self.name, position=corner, collapsed=False)
                self.setText(f"Group {self.group.name}")
            else:
                self.document.restore_group(self.group)

    def revert(self):
        with self.document.batch():
            self.group = self.document.remove_group(self.group.id)
            for group, members in reversed(self._left):
                if members is None:
                    self.document.restore_group(group)
                else:
                    self.document.set_members(group.id, members)


class Ungroup(DocumentCommand):
    def __init__(self, document, group_id):
        super().__init__(document, f"Ungroup {document.group(group_id).name}")
        self.group_id, self.group = group_id, None

    def apply(self):
        self.group = self.document.remove_group(self.group_id)

    def revert(self):
        self.document.restore_group(self.group)


class SetGroup(DocumentCommand):
    """A group's name or repeat count; consecutive edits of the same field merge like ``SetParams``."""

    ID = 3

    def __init__(self, document, group_id, changes):
        super().__init__(document, f"Set {document.group(group_id).name}.{', '.join(changes)}")
        self.group_id, self.changes, self.old = group_id, dict(changes), None

    def apply(self):
        old = self.document.set_group(self.group_id, **self.changes)
        if self.old is None:
            self.old = old

    def revert(self):
        self.document.set_group(self.group_id, **self.old)

    def id(self):
        return self.ID

    def mergeWith(self, other):
        if (not isinstance(other, SetGroup) or "collapsed" in self.changes
                or (other.group_id, set(other.changes)) != (self.group_id, set(self.changes))):
            return False  # folding is a step of its own
        self.changes = dict(other.changes)
        self.setObsolete(self.changes == self.old)
        return True


class ReplaceNetwork(DocumentCommand):
    """The whole document replaced by another network (a run's document, as trained), undoably. Both are kept as
    JSON text and rebuilt at each redo and undo, since ``assign`` takes over the nodes it is given; ids survive
    the round trip and the records of deleted nodes and groups are kept, so the commands on either side of this
    one in the undo stack stay valid."""

    def __init__(self, document, network, text):
        super().__init__(document, text)
        self.old, self.new = network_to_json(document), network_to_json(network)

    def apply(self):
        self.document.assign(network_from_json(self.new), keep_removed=True)

    def revert(self):
        self.document.assign(network_from_json(self.old), keep_removed=True)


class Macro(DocumentCommand):
    """Several commands as one undo step (cut, insert a node into a connection, ...)."""

    def __init__(self, document, text, commands):
        super().__init__(document, text)
        self.commands = list(commands)

    def apply(self):
        with self.document.batch():
            for command in self.commands:
                command.apply()

    def revert(self):
        with self.document.batch():
            for command in reversed(self.commands):
                command.revert()
