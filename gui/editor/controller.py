"""The editor's actions: every user edit becomes an undoable command on the network document.

Each method performs its edit through the document first, so the document's own checks decide; a
refusal comes back as the reason (and the ``refused`` signal, and a bubble on the canvas beside the node
involved) and leaves the document and the undo stack untouched. Gestures that are several edits (cut,
inserting a node into a connection, re-routing a connection) become one undo step. While editing is
disabled (a training run is live) every action is refused.
"""

import math
from contextlib import contextmanager

from PySide6.QtCore import QObject, QPointF, Signal

from engine.graph import NetworkError, NetworkFileError, copy_fragment, get_layer_type
from engine.graph.layout import fold_moves

from . import clipboard
from .commands import (
    AddGroup,
    AddNode,
    Connect,
    Disconnect,
    Layout,
    Macro,
    MoveNodes,
    Paste,
    RemoveNodes,
    Rename,
    ReplaceNetwork,
    SetFrozen,
    SetGroup,
    SetParams,
    SetSettings,
    Ungroup,
)

LOCKED = "the network cannot be edited while a training run is live"
PASTE_OFFSET = 40.0


class _Refused(Exception):
    pass


class EditorController(QObject):
    refused = Signal(str)

    def __init__(self, document, undo_stack, scene, parent=None):
        super().__init__(parent)
        self.document, self.undo_stack, self.scene = document, undo_stack, scene
        self.enabled = True

    # ----- plumbing -----
    def _refuse(self, message, near=None, on_canvas=True):
        """Report a refusal: the ``refused`` signal (the status bar) and, ``on_canvas``, a bubble beside
        ``near`` (a node id or a scene point; None: the middle of the view)."""
        if on_canvas:
            self.scene.show_refusal(message, near)
        self.refused.emit(message)
        return message

    @contextmanager
    def _edit(self, text, view_only=False):
        """Run commands (``do(command)``) as one undo step; a refusal undoes the ones already run.
        ``view_only`` edits (folding a group) change no computation and are allowed during a run."""
        if not self.enabled and not view_only:
            raise _Refused(LOCKED)
        done = []

        def do(command):
            command.execute()
            done.append(command)
            return command

        try:
            with self.document.batch():
                yield do
        except NetworkError as e:
            with self.document.batch():
                for command in reversed(done):
                    command.revert()
            raise _Refused(str(e)) from None
        if len(done) == 1:
            done[0].setText(text or done[0].text())
            self.undo_stack.push(done[0])
        elif done:
            macro = Macro(self.document, text, done)
            macro.mark_done()
            self.undo_stack.push(macro)

    def _run(self, text, steps, near=None, on_canvas=True, view_only=False):
        """``steps(do)`` inside one undo step; returns the refusal (see ``_refuse``), or None."""
        try:
            with self._edit(text, view_only) as do:
                steps(do)
        except _Refused as e:
            return self._refuse(str(e), near, on_canvas)
        return None

    # ----- nodes -----
    def add_node(self, type_name, scene_pos, anchor=None, params=None):
        """Add a layer with its header at ``scene_pos``, attached at ``anchor`` (see ``Anchor``); returns
        the new node's id, or None if refused."""
        pos = scene_pos if isinstance(scene_pos, QPointF) else QPointF(*scene_pos)
        added = []

        def steps(do):
            node_id = do(AddNode(self.document, type_name, self.scene.position_for(pos), params)).node_id
            added.append(node_id)
            if anchor is None:
                return
            if anchor.kind == "out":
                do(Connect(self.document, anchor.node_id, node_id, out_port=anchor.out_port))
            elif anchor.kind == "in":
                do(Connect(self.document, node_id, anchor.node_id, anchor.port))
            elif anchor.kind == "edge" and _insertable(type_name):
                self._insert(do, node_id, anchor.edge)

        near = anchor.node_id if anchor is not None and anchor.kind != "edge" else pos
        if self._run(f"Add {type_name}", steps, near) is not None:
            return None
        self.scene.select_nodes(added)
        return added[0]

    def _insert(self, do, node_id, edge):
        do(Disconnect(self.document, [edge]))
        do(Connect(self.document, edge.src, node_id, out_port=edge.out_port))
        do(Connect(self.document, node_id, edge.dst, edge.port))

    def delete(self, node_ids, edges=()):
        node_ids = list(node_ids)
        edges = [e for e in edges if e.src not in node_ids and e.dst not in node_ids]
        if not node_ids and not edges:
            return None

        def steps(do):
            if edges:
                do(Disconnect(self.document, edges))
            if node_ids:
                do(RemoveNodes(self.document, node_ids))

        return self._run("Delete" if node_ids else "Disconnect", steps, node_ids[0] if node_ids else edges[0].dst)

    def delete_selection(self):
        """Delete the selected nodes (a collapsed group's with it) and connections; a selected frame alone
        ungroups its group, keeping the layers."""
        node_ids = self.scene.selected_node_ids()
        frames = [g for g in self.scene.selected_group_ids() if not self.document.groups[g].collapsed]
        if frames and not node_ids:
            return self.ungroup(frames)
        return self.delete(node_ids, self.scene.selected_edges())

    def set_params(self, node_id, changes):
        return self._run("", lambda do: do(SetParams(self.document, node_id, changes)), node_id)

    def set_settings(self, changes):
        return self._run("", lambda do: do(SetSettings(self.document, changes)), on_canvas=False)

    def rename(self, node_id, name):
        return self._run("", lambda do: do(Rename(self.document, node_id, name)), node_id)

    def replace_network(self, network, text):
        """Replace the whole network (``text`` names the undo step); None, or the refusal."""
        return self._run(text, lambda do: do(ReplaceNetwork(self.document, network, text)), on_canvas=False)

    def set_frozen(self, node_ids, frozen):
        """Freeze (or thaw) nodes, one undo step; None, or the refusal."""
        return self._run("", lambda do: do(SetFrozen(self.document, node_ids, frozen)), on_canvas=False)

    def toggle_frozen(self):
        """Freeze the selected layers that have parameters, or thaw them when all are frozen already."""
        inference = self.document.infer()
        ids = [i for i in self.scene.selected_node_ids() if i in inference.nodes and inference.nodes[i].params]
        if ids:
            self.set_frozen(ids, not all(self.document.nodes[i].frozen for i in ids))

    def move_nodes(self, old, new, insert_into=None, groups_old=None, groups_new=None):
        """Record a move made on the canvas (optionally dropping a lone node into connection ``insert_into``);
        ``groups_old``/``groups_new``: collapsed groups' boxes moved with it."""
        def steps(do):
            do(MoveNodes(self.document, old, new, groups_old=groups_old, groups_new=groups_new))
            if insert_into is not None:
                (node_id,) = new
                self._insert(do, node_id, insert_into)

        refusal = self._run("Insert into connection" if insert_into else "Move", steps,
                            next(iter(new), None) or next(iter(groups_new or {}), None))
        if refusal:  # put the items back where the document has them
            for node_id, pos in old.items():
                if node_id in self.scene.node_items:
                    self.scene.node_items[node_id].setPos(*pos)
            for group_id, pos in (groups_old or {}).items():
                if group_id in self.scene.group_items:
                    self.scene.group_items[group_id].setPos(*pos)
        return refusal

    # ----- groups -----
    def group_selection(self, name=None):
        """Group the selected layers into one box (Ctrl+G) and select it; None, or the refusal."""
        node_ids = [i for i in self.scene.selected_node_ids()
                    if self.document.nodes[i].type not in ("Input", "Output")]
        if not node_ids:
            return self._refuse("select the layers to group first (the Input and Output stay outside groups)")
        chosen = set(node_ids)
        for group in self.document.groups.values():
            if set(group.members) == chosen:
                return self._refuse(f"these layers are {group.label()} already", node_ids[0])
            if group.repeat > 1 and chosen.intersection(group.members):
                return self._refuse(f"{group.label()} repeats {group.repeat} times: set its repeat count to 1 or "
                                    "ungroup it before grouping its layers again", node_ids[0])
        made = []

        taken_in = [g.id for g in self.document.groups.values() if g.collapsed and chosen.intersection(g.members)]

        def steps(do):
            for group_id in taken_in:  # its layers first take their place in the layout again
                self._fold(do, group_id)
            made.append(do(AddGroup(self.document, node_ids, name)).group.id)
            self._fold(do, made[0])  # into one box, the layout to its right closing up

        refusal = self._run("Group", steps, node_ids[0])
        if refusal is None:
            self.scene.select_nodes([], made)
        return refusal

    def ungroup(self, group_ids=None):
        """Dissolve groups (default: the selected ones), keeping their layers (Ctrl+Shift+G)."""
        group_ids = self.scene.selected_group_ids() if group_ids is None else list(group_ids)
        if not group_ids:
            return self._refuse("select a group to ungroup")
        members = [m for g in group_ids for m in self.document.group(g).members]

        def steps(do):
            for group_id in group_ids:
                if not self.document.groups[group_id].collapsed:
                    continue
                self._fold(do, group_id)
            for group_id in group_ids:
                do(Ungroup(self.document, group_id))

        refusal = self._run("Ungroup", steps, members[0] if members else None)
        if refusal is None:
            self.scene.select_nodes(members)
        return refusal

    def feed_group_input(self, group_id, port, src, out_port=0):
        """Make output ``out_port`` of ``src`` feed input ``port`` of a group: every layer inside that read
        the old value reads the new one, in the same slot (one undo step); None, or the refusal."""
        group = self.document.group(group_id)
        old = self.document.infer().ports[group_id].inputs[port]
        inside = set(group.members)
        edges = [e for e in self.document.edges if (e.src, e.out_port) == old and e.dst in inside]

        def steps(do):
            do(Disconnect(self.document, edges))
            for edge in edges:
                do(Connect(self.document, src, edge.dst, edge.port, out_port))

        return self._run(f"Feed {group.name} from {self.document.node(src).name}", steps, group_id)

    def set_group(self, group_id, changes):
        """Rename a group or change its repeat count; None, or the refusal."""
        return self._run("", lambda do: do(SetGroup(self.document, group_id, changes)), group_id)

    def toggle_fold(self, group_id):
        """Expand a collapsed group in place, or collapse an expanded one (double-click); the layout to its
        right moves aside by the width of its members and back."""
        group = self.document.group(group_id)
        refusal = self._run("Expand " + group.name if group.collapsed else "Collapse " + group.name,
                            lambda do: self._fold(do, group_id), group_id, view_only=True)
        if refusal is None:
            self.scene.select_nodes([], [group_id])
        return refusal

    def _fold(self, do, group_id):
        """Fold an expanded group into its box, or unfold a collapsed one (``layout.fold_moves``)."""
        document, group = self.document, self.document.groups[group_id]
        box, cut, nodes, groups = fold_moves(document, group)
        do(SetGroup(document, group_id, {"collapsed": not group.collapsed, "position": box, "fold_cut": cut}))
        if nodes or groups:
            do(MoveNodes(document, {i: document.nodes[i].position for i in nodes}, nodes,
                         groups_old={g: document.groups[g].position for g in groups}, groups_new=groups))

    def layout(self):
        if not self.document.nodes:
            return None
        return self._run("Auto-layout", lambda do: do(Layout(self.document)))

    # ----- connections -----
    def connect(self, src, dst, port=None, replacing=None, out_port=0):
        """Connect output ``out_port`` of ``src`` to ``dst`` (into slot ``port``, or a free one), re-routing
        ``replacing``."""
        def steps(do):
            if replacing is not None:
                do(Disconnect(self.document, [replacing]))
            do(Connect(self.document, src, dst, port, out_port))

        return self._run("Re-route connection" if replacing else "", steps, dst)

    def disconnect(self, edges):
        return self._run("Disconnect", lambda do: do(Disconnect(self.document, edges)), edges[0].dst if edges else None)

    # ----- clipboard -----
    def copy(self, node_ids=None):
        """Put the nodes (default: the selection) on the clipboard; returns whether there were any."""
        node_ids = self.scene.selected_node_ids() if node_ids is None else node_ids
        if not node_ids:
            return False
        clipboard.put_fragment(copy_fragment(self.document, node_ids))
        return True

    def cut(self, node_ids=None):
        node_ids = self.scene.selected_node_ids() if node_ids is None else node_ids
        if not self.enabled:
            return self._refuse(LOCKED)
        if not self.copy(node_ids):
            return None
        return self._run("Cut", lambda do: do(RemoveNodes(self.document, node_ids)))

    def paste(self, scene_pos=None):
        """Paste the clipboard's nodes (top-left at ``scene_pos``, else offset from the originals)."""
        try:
            fragment = clipboard.get_fragment()
        except NetworkFileError as e:
            return self._refuse(str(e), scene_pos)
        if fragment is None:
            return self._refuse("the clipboard holds no LayerLab nodes", scene_pos)
        return self.paste_fragment(fragment, scene_pos, "Paste")

    def duplicate(self, node_ids=None):
        node_ids = self.scene.selected_node_ids() if node_ids is None else node_ids
        if not node_ids:
            return None
        return self.paste_fragment(copy_fragment(self.document, node_ids), None, "Duplicate")

    def paste_fragment(self, fragment, scene_pos, text):
        """Add a fragment (the clipboard's, a palette block's) with its top-left at ``scene_pos`` (None: offset
        from where it was), one undo step named ``text``, and select it; None, or the refusal."""
        offset = (PASTE_OFFSET, PASTE_OFFSET)
        positions = [n.get("position") for n in fragment.get("nodes", []) if isinstance(n, dict)]
        positions = [p for p in positions if isinstance(p, list) and len(p) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p)]
        if scene_pos is not None and positions:
            left, top = min(p[0] for p in positions), min(p[1] for p in positions)
            offset = (scene_pos.x() - left, scene_pos.y() - top)
        pasted = []
        refusal = self._run(text, lambda do: pasted.extend(do(Paste(self.document, fragment, offset, text)).node_ids),
                            scene_pos)
        if refusal is None:
            self.scene.select_nodes(pasted)
        return refusal

    def select_all(self):
        self.scene.select_nodes(list(self.document.nodes))


def _insertable(type_name):
    lt = get_layer_type(type_name)
    return lt.has_output and lt.max_inputs != 0
