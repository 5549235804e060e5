"""The canvas model-view: a QGraphicsScene that draws one network document.

It listens to the document's events and keeps one item per node and per edge; after every edit it asks
the document's (cached) inference once and updates the faces of the nodes that changed. It never edits
the document: user gestures leave as signals (a connection, a move, a rename) that the editor turns
into undoable commands.

Groups: a collapsed group is one ``GroupItem`` in place of its members, whose items are hidden, and the
connections that cross its border are drawn to its ports; an expanded group is a ``FrameItem`` behind its
members. After any edit that can change them, ``_apply_groups`` sets these from the document in one pass.
"""

from dataclasses import dataclass

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from .compatibility import Anchor
from .edge_item import EdgeItem, PendingEdge, TipItem
from .group_items import FrameItem, GroupItem, group_face
from .node_item import HEADER, WIDTH, NodeItem, node_face
from .port_item import PortItem

REFUSAL_MS = 4500  # how long a refusal's bubble stays on the canvas
GRID = 20.0
MAJOR_EVERY = 5
EXTENT = 100_000.0


@dataclass
class _Pending:
    """A connection being dragged: from a node's output ``out_port`` (``out``) or backwards from a free input
    slot (``in``); ``detached`` is the edge picked up from a connected input slot, to be re-routed."""

    kind: str
    node_id: str
    port: int | None = None
    detached: object = None
    out_port: int = 0


class NetworkScene(QGraphicsScene):
    inferenceUpdated = Signal(object)  # Inference, after every edit
    connectionRequested = Signal(str, str, object, int, object)  # src, dst, port, src's output, edge replaced
    connectionDroppedOnEmpty = Signal(object, QPointF)  # Anchor, scene position
    disconnectRequested = Signal(list)  # [Edge]
    nodesMoved = Signal(dict, dict, object, dict, dict)  # old positions, new positions, Edge to insert into (or
    # None), old and new positions of collapsed groups' boxes
    renameRequested = Signal(str)
    groupFoldRequested = Signal(str)  # a group double-clicked: expand or collapse it
    groupInputRequested = Signal(str, int, str, int)  # group id, its input, the node and output to feed it from
    refused = Signal(str)  # a gesture the document would not accept, with the reason (also shown in a bubble)

    def __init__(self, document, style, parent=None):
        super().__init__(parent)
        self.document = document
        self.style = style
        self.editable = True
        self.node_items, self.edge_items = {}, {}
        self.group_items, self.frame_items = {}, {}  # group id -> GroupItem (collapsed) or FrameItem (expanded)
        self.hidden_in = {}  # node id -> id of the collapsed group that hides it
        self.health_badges = {}  # node id -> HealthBadge, while a run's health is shown
        self._groups_dirty = False
        self.inference = None
        self._pending = None  # the connection being dragged
        self._drag_start = None
        self._insert_target = None
        self._moved = False  # nodes moved since the last "changed": connections are re-routed then
        self._unrouted = False  # items were rebuilt: every connection is routed once, at the next refresh
        self.routing_deferred = False  # a node is being moved by the document: the refresh routes its connections
        self._refusal_timer = QTimer(self, singleShot=True, interval=REFUSAL_MS)
        self._refusal_timer.timeout.connect(self.hide_refusal)
        self.setSceneRect(-EXTENT, -EXTENT, 2 * EXTENT, 2 * EXTENT)
        document.subscribe(self._on_document_event)
        self._attached = True
        self._rebuild(refresh=True)

    def detach(self):
        """Stop listening to the document (the window is closing); safe to call twice."""
        if self._attached:
            self.document.unsubscribe(self._on_document_event)
            self._attached = False

    # ----- following the document -----
    def _on_document_event(self, event, payload):
        if event in ("group_added", "group_removed", "group_changed"):
            self._groups_dirty = True
            return
        if event in ("node_added", "node_removed", "edge_added", "edge_removed") and self.document.groups:
            self._groups_dirty = True
        if event == "node_added":
            self._add_node_item(payload)
        elif event == "node_removed":
            self.removeItem(self.node_items.pop(payload.id))
        elif event == "edge_added":
            self._add_edge_item(payload)
        elif event == "edge_removed":
            self._remove_edge_item(payload)
        elif event == "node_moved":  # its connections are re-routed once, at the "changed" that follows
            self.routing_deferred = True
            try:
                self.node_items[payload.id].setPos(*payload.position)
            finally:
                self.routing_deferred = False
            self._cover(payload.position)
            self._moved = True
        elif event == "reset":  # a "changed" follows, which refreshes the faces
            self._rebuild(refresh=False)
        elif event == "changed":
            self.refresh()
            if self._moved:
                self._reroute_edges()

    def _reroute_edges(self):
        """After moves: a node moved into (or out of) a connection's way changes that connection's detour.
        After a rebuild: the first routing of every connection."""
        self._moved = self._unrouted = False
        for item in self.edge_items.values():
            item.update_path()

    def _rebuild(self, refresh):
        """New items for the whole document. Faces are drawn and connections routed once each, at the refresh
        that follows, rather than as each item arrives (which routed each connection several times)."""
        self.cancel_connection()
        self.clear()  # deletes every item
        self.node_items, self.edge_items = {}, {}
        self.group_items, self.frame_items, self.hidden_in = {}, {}, {}
        self._groups_dirty = True
        self._pending_edge, self._tip = PendingEdge(), TipItem()  # added while a connection is dragged
        self.refusal_bubble = TipItem()  # added while a refusal is shown
        self.inference = None  # so that the refresh gives every node its face
        for node in self.document.nodes.values():
            self._add_node_item(node, with_face=False)
        self._unrouted = True
        for edge in self.document.edges:
            self._add_edge_item(edge)
        if refresh:
            self.refresh()

    def _cover(self, position):
        """Grow the scene (by a whole ``EXTENT``) to reach ``position``. The scene's spatial index only
        divides its rectangle: items outside it are found by a scan of every item, which made routing the
        connections of a long network quadratic."""
        x, y = position
        if not self.sceneRect().contains(x, y):
            self.setSceneRect(self.sceneRect().united(QRectF(x - EXTENT, y - EXTENT, 2 * EXTENT, 2 * EXTENT)))

    def _add_node_item(self, node, with_face=True):
        item = NodeItem(node.id)
        item.setPos(*node.position)
        self._cover(node.position)
        self.addItem(item)
        if with_face:
            item.sync(node_face(node, None, ()))
        self.node_items[node.id] = item

    def _add_edge_item(self, edge):
        src, dst = self.node_items[edge.src], self.node_items[edge.dst]
        item = EdgeItem(edge, src, dst)
        src.edges.add(item)
        dst.edges.add(item)
        self.edge_items[edge] = item
        self.addItem(item)
        if not self._unrouted:
            self._sync_slots(dst)
            item.update_path()

    def _remove_edge_item(self, edge):
        item = self.edge_items.pop(edge)
        for end in (item.src_item, item.dst_item, self.node_items.get(edge.src), self.node_items.get(edge.dst)):
            if end is not None:
                end.edges.discard(item)
        self.removeItem(item)
        if edge.dst in self.node_items:
            self._sync_slots(self.node_items[edge.dst])

    def _sync(self, item, info, connected):
        if item.sync(node_face(self.document.nodes[item.node_id], info, connected)) and not self._unrouted:
            for edge in item.edges:
                edge.update_path()

    def _sync_slots(self, item):
        """Input slots follow the connections at once (a merge grows a slot per input)."""
        connected = sorted(edge.edge.port for edge in item.edges if edge.edge.dst == item.node_id)
        info = self.inference.nodes.get(item.node_id) if self.inference else None
        self._sync(item, info, connected)

    def refresh(self):
        """Re-read the inference and update the nodes whose face changed, and the groups' items. The document
        keeps its inference until an edit that can change it: after a move it is the same object, and nothing is
        redone but the frames of open groups."""
        inference = self.document.infer()
        changed = inference is not self.inference
        if changed:
            self.inference = inference
            ports = {node_id: [] for node_id in self.node_items}
            for edge in self.document.edges:
                ports[edge.dst].append(edge.port)
            for node_id, item in self.node_items.items():
                self._sync(item, self.inference.nodes.get(node_id), sorted(ports[node_id]))
        if self._groups_dirty:
            self._apply_groups()
        elif changed or self._moved:
            self._sync_groups()
        if changed:
            self.inferenceUpdated.emit(self.inference)
        if self._unrouted:
            self._reroute_edges()

    # ----- groups -----
    def _apply_groups(self):
        """Items for the document's groups: a box for each collapsed one (its members hidden, the connections
        crossing its border drawn to its ports), a frame behind each expanded one."""
        self._groups_dirty = False
        groups = self.document.groups
        for items, keep in ((self.group_items, True), (self.frame_items, False)):
            for group_id in [g for g in items if g not in groups or groups[g].collapsed != keep]:
                self.removeItem(items.pop(group_id))
        self.hidden_in = {m: g.id for g in groups.values() if g.collapsed for m in g.members}
        for group in groups.values():
            items, kind = (self.group_items, GroupItem) if group.collapsed else (self.frame_items, FrameItem)
            if group.id not in items:
                items[group.id] = kind(group.id)
                self.addItem(items[group.id])
                items[group.id].setFlag(QGraphicsItem.ItemIsMovable, self.editable and group.collapsed)
            if group.collapsed:
                items[group.id].setPos(*group.position)
                items[group.id].repeats = group.repeat > 1
                self._cover(group.position)
        for node_id, item in self.node_items.items():
            hidden = node_id in self.hidden_in
            if hidden and item.isSelected():
                item.setSelected(False)
            item.setVisible(not hidden)
        self._sync_groups()
        self._retarget_edges()
        if self.health_badges:
            self.show_health(self.health_badges)

    def _retarget_edges(self):
        """Draw each connection between the items that show its ends; hide those inside a collapsed group."""
        ports = self.inference.ports
        for item in self.group_items.values():
            item.edges = set()
        for edge, item in self.edge_items.items():
            src_group, dst_group = self.hidden_in.get(edge.src), self.hidden_in.get(edge.dst)
            item.setVisible(src_group is None or src_group != dst_group)
            if not item.isVisible():
                continue
            src, src_port = self.node_items[edge.src], edge.out_port
            if src_group is not None:
                src, src_port = self.group_items[src_group], ports[src_group].outputs.index((edge.src, edge.out_port))
            dst, dst_port = self.node_items[edge.dst], edge.port
            if dst_group is not None:
                dst, dst_port = self.group_items[dst_group], ports[dst_group].inputs.index((edge.src, edge.out_port))
            for end in (src, dst):
                end.edges.add(item)
            full_reroute = self._moved or self._unrouted  # every connection is routed after this
            if item.retarget(src, src_port, dst, dst_port) or ((src_group or dst_group) and not full_reroute):
                item.update_path()

    def _sync_groups(self):
        """Faces of the group boxes and extents of the frames, from the inference."""
        if self.inference is None:
            return
        groups = self.document.groups  # (items of groups gone since are removed by the next _apply_groups)
        for group_id, item in self.group_items.items():
            if group_id in groups and item.sync(group_face(groups[group_id], self.inference.groups.get(group_id))):
                for edge in item.edges:
                    edge.update_path()
        for group_id, frame in self.frame_items.items():
            group = groups.get(group_id)
            if group is not None:
                frame.sync(group, self.inference.groups.get(group_id), self.nodes_rect(group.members))

    def _follow_frames(self, items):
        """Keep the frames of open groups around their layers while some of them (``items``) are dragged: each
        frame once per mouse move."""
        owners = (self.document.group_of(item.node_id) for item in items if not isinstance(item, GroupItem))
        for group in {owner.id: owner for owner in owners if owner is not None}.values():
            frame = self.frame_items.get(group.id)
            if frame is not None and self.inference is not None:
                frame.sync(group, self.inference.groups.get(group.id), self.nodes_rect(group.members))

    def group_item(self, group_id):
        """The item that shows group ``group_id`` (its box or its frame), or None."""
        return self.group_items.get(group_id) or self.frame_items.get(group_id)

    def lone_selected_group(self):
        """The id of the one group selected (its box or frame) when no shown node is, else None."""
        groups = self.selected_group_ids()
        shown = [i for i in self.selected_node_ids() if i not in self.hidden_in]
        return groups[0] if len(groups) == 1 and not shown else None

    def selected_group_ids(self):
        """Groups whose box or frame is selected, in document order."""
        chosen = {item.group_id for item in self.selectedItems() if isinstance(item, (GroupItem, FrameItem))}
        return [g for g in self.document.groups if g in chosen]

    # ----- queries for the editor -----
    def selected_node_ids(self):
        """Selected nodes in document order; a selected collapsed group stands for its members."""
        chosen = set()
        for item in self.selectedItems():
            if isinstance(item, GroupItem):  # (a group removed in a batch not yet over has no members)
                group = self.document.groups.get(item.group_id)
                chosen.update(group.members if group is not None else ())
            elif isinstance(item, NodeItem):
                chosen.add(item.node_id)
        return [i for i in self.document.nodes if i in chosen]

    def selected_edges(self):
        return [item.edge for item in self.selectedItems() if isinstance(item, EdgeItem)]

    def select_nodes(self, node_ids, group_ids=()):
        """Select nodes (a node inside a collapsed group selects the group's box) and groups."""
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.hidden_in:
                self.group_items[self.hidden_in[node_id]].setSelected(True)
            elif node_id in self.node_items:
                self.node_items[node_id].setSelected(True)
        for group_id in group_ids:
            item = self.group_item(group_id)
            if item is not None:
                item.setSelected(True)

    def shown_items(self):
        """The boxes on the canvas: the visible nodes' and the collapsed groups'."""
        return [*(item for item in self.node_items.values() if item.isVisible()), *self.group_items.values()]

    def nodes_rect(self, node_ids=None):
        """The extent of the given nodes, or of everything shown."""
        items = self.shown_items() if node_ids is None else [self.node_items[i] for i in node_ids]
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        return rect

    @staticmethod
    def position_for(scene_pos):
        """The node position that puts a new node's header under ``scene_pos``."""
        return (round(scene_pos.x() - WIDTH / 2), round(scene_pos.y() - HEADER / 2))

    def edge_at(self, scene_pos, exclude_node=None):
        """The connection under ``scene_pos`` (not one attached to ``exclude_node``), or None."""
        for item in self.items(QRectF(scene_pos - QPointF(6, 6), scene_pos + QPointF(6, 6))):
            if isinstance(item, EdgeItem) and exclude_node not in (item.edge.src, item.edge.dst):
                return item.edge
        return None

    def highlight_edge(self, edge):
        """Mark the connection a node would be inserted into (None clears the mark)."""
        for key, item in self.edge_items.items():
            item.set_highlighted(key == edge)

    def show_health(self, badges):
        """Show each node's ``HealthBadge`` from ``{node id: badge}`` (the nodes left out show none); a collapsed
        group shows the worst of its members'."""
        self.health_badges = badges
        for node_id, item in self.node_items.items():
            item.show_health(badges.get(node_id))
        for group_id, item in self.group_items.items():
            members = [badges[m] for m in self.document.groups[group_id].members if m in badges]
            item.show_health(max(members, key=lambda badge: badge.level) if members else None)

    def set_editable(self, editable):
        self.editable = editable
        for item in [*self.node_items.values(), *self.group_items.values()]:
            item.setFlag(NodeItem.ItemIsMovable, editable)
        if not editable:
            self.cancel_connection()

    def set_style(self, style):
        self.style = style
        for item in self.items():
            item.update()
        self.update()

    # ----- dragging a connection -----
    def begin_connection(self, port_item, scene_pos):
        box = port_item.parentItem()
        if isinstance(box, GroupItem):  # a group's output is a member's; its inputs are opened to be changed
            if port_item.kind != "out":
                self.show_refusal("open the group (double-click) to change what feeds the layers inside it",
                                  scene_pos)
                return
            member, output = self.inference.ports[box.group_id].outputs[port_item.port]
            self._pending = _Pending("out", member, out_port=output)
        elif port_item.kind == "out":
            self._pending = _Pending("out", port_item.node_id, out_port=port_item.port)
        elif port_item.port is not None:  # pick up the connection in this slot and re-route it
            edge = next(e for e in self.document.input_edges(port_item.node_id) if e.port == port_item.port)
            self._pending = _Pending("out", edge.src, detached=edge, out_port=edge.out_port)
            self.edge_items[edge].setVisible(False)
        else:
            self._pending = _Pending("in", port_item.node_id)
        self.addItem(self._pending_edge)
        self.addItem(self._tip)
        self.drag_connection(scene_pos)

    def _pending_anchor(self):
        pending = self._pending
        group_id = self.hidden_in.get(pending.node_id)
        if group_id is not None:
            outputs = self.inference.ports[group_id].outputs
            port = (pending.node_id, pending.out_port)
            return self.group_items[group_id].output_anchor(outputs.index(port) if port in outputs else 0)
        item = self.node_items[pending.node_id]
        return item.output_anchor(pending.out_port) if pending.kind == "out" else item.input_anchor(pending.port)

    def connection_target(self, scene_pos):
        """``(src, dst, port, src's output, reason, anchor point)`` for the port or node under ``scene_pos``, or
        None."""
        pending = self._pending
        near = self.items(QRectF(scene_pos - QPointF(4, 4), scene_pos + QPointF(4, 4)))
        wanted = "in" if pending.kind == "out" else "out"
        ports = [i for i in near if isinstance(i, PortItem)]
        port = min((i for i in ports if i.kind == wanted), key=lambda i: QLineF(i.scenePos(), scene_pos).length(),
                   default=None)  # ports' hit areas overlap: the nearest one
        node = port.parentItem() if port else next((i for i in near if isinstance(i, NodeItem) and i.isVisible()), None)
        if node is None or node.node_id == pending.node_id:
            return None
        if isinstance(node, GroupItem) and pending.kind == "out":
            return self._group_input_target(node, port, scene_pos)
        if isinstance(node, GroupItem):
            outputs = self.inference.ports[node.group_id].outputs
            if (port is None and len(outputs) != 1) or not outputs:
                return (None, None, None, 0, f"open the group '{node.face.name}' (double-click) to connect to a "
                                             "layer inside it", scene_pos)
            member, output = outputs[port.port if port else 0]  # a box's output is its member's
            point = node.output_anchor(port.port if port else 0)
            return member, pending.node_id, pending.port, output, self.document.can_connect(
                member, pending.node_id, pending.port, output), point
        if port is None and any(p.parentItem() is node for p in ports):  # an output onto an output...
            reason = ("an output connects to an input (a port on the left of a node)" if wanted == "in"
                      else "an input takes its value from an output (a port on the right of a node)")
            return None, None, None, 0, reason, scene_pos
        if port is None and wanted == "out" and len(node.output_ports) > 1:
            return None, None, None, 0, f"{node.face.name} has several outputs: drop on the one to connect", scene_pos
        if pending.kind == "out":
            src, dst, slot, output = pending.node_id, node.node_id, port.port if port else None, pending.out_port
            point = port.scenePos() if port else node.input_anchor(slot)
        else:
            src, dst, slot, output = node.node_id, pending.node_id, pending.port, port.port if port else 0
            point = node.output_anchor(output)
        detached = pending.detached
        if detached is not None and (src, dst) == (detached.src, detached.dst):  # put back where it was
            return src, dst, detached.port, output, None, node.input_anchor(detached.port)
        return src, dst, slot, output, self.document.can_connect(src, dst, slot, output), point

    def _group_input_target(self, box, port, scene_pos):
        """A connection dropped on a collapsed group's input port: it will feed what that input fed inside
        (``groupInputRequested``); the target's ``dst`` is the group's id."""
        pending = self._pending
        inputs = self.inference.ports[box.group_id].inputs
        if port is None or pending.detached is not None or port.port >= len(inputs):
            return (None, None, None, 0, f"drop on one of the inputs of '{box.face.name}' to feed it, or open the "
                                         "group (double-click) to connect to a layer inside it", scene_pos)
        if inputs[port.port] == (pending.node_id, pending.out_port):
            return None, None, None, 0, f"this output feeds '{box.face.name}' there already", scene_pos
        members = self.document.groups[box.group_id].members
        if pending.node_id in members:
            return None, None, None, 0, "a group cannot feed itself", scene_pos
        if any(self.document.reaches(member, pending.node_id) for member in members):
            source = self.document.node(pending.node_id).label()
            return (None, None, None, 0, f"'{box.face.name}' computes what feeds {source}: connecting them would "
                                         "make a cycle", scene_pos)
        return pending.node_id, box.group_id, port.port, pending.out_port, None, port.scenePos()

    def drag_connection(self, scene_pos):
        if self._pending is None:
            return
        target = self.connection_target(scene_pos)
        anchor = self._pending_anchor()
        state, end, reason = "none", scene_pos, ""
        if target is not None:
            *_, reason, point = target
            state = "refused" if reason else "valid"
            end = point if not reason else scene_pos
            reason = reason or ""
        start, stop = (anchor, end) if self._pending.kind == "out" else (end, anchor)
        self._pending_edge.set_ends(start, stop, state)
        self._tip.set_text(reason)
        self._tip.setPos(scene_pos)

    def finish_connection(self, scene_pos):
        pending = self._pending
        if pending is None:
            return
        target = self.connection_target(scene_pos)
        self.cancel_connection()
        if target is not None:
            src, dst, port, output, reason, point = target
            if reason:
                self.show_refusal(reason, point)
                self.refused.emit(reason)
            elif dst in self.group_items:  # group ids never are node ids
                self.groupInputRequested.emit(dst, port, src, output)
            elif pending.detached is None or (src, dst, port) != (pending.detached.src, pending.detached.dst,
                                                                   pending.detached.port):
                self.connectionRequested.emit(src, dst, port, output, pending.detached)
        elif pending.detached is not None:
            self.disconnectRequested.emit([pending.detached])
        elif pending.kind == "out":
            self.connectionDroppedOnEmpty.emit(Anchor.output_of(pending.node_id, pending.out_port), scene_pos)
        else:
            self.connectionDroppedOnEmpty.emit(Anchor.input_of(pending.node_id, pending.port), scene_pos)

    # ----- refusals -----
    def show_refusal(self, message, where=None):
        """Say why an edit was refused in a bubble on the canvas, where the user is looking: beside node
        ``where`` (an id), at scene point ``where``, or (None) in the middle of the view; it goes away by
        itself after a few seconds."""
        self.refusal_bubble.set_text(message)
        self.refusal_bubble.setPos(self._refusal_point(where))
        if self.refusal_bubble.scene() is not self:
            self.addItem(self.refusal_bubble)
        self._refusal_timer.start()

    def hide_refusal(self):
        self._refusal_timer.stop()
        if self.refusal_bubble.scene() is self:
            self.removeItem(self.refusal_bubble)

    def _refusal_point(self, where):
        if isinstance(where, QPointF):
            return where
        item = (self.group_items.get(self.hidden_in.get(where)) or self.node_items.get(where)
                or self.group_items.get(where))
        if item is not None:  # below the node's middle, clear of its text
            return item.mapToScene(QPointF(WIDTH / 2, item.height))
        views = self.views()
        return views[0].mapToScene(views[0].viewport().rect().center()) if views else QPointF()

    def cancel_connection(self):
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if pending.detached is not None and pending.detached in self.edge_items:
            self.edge_items[pending.detached].setVisible(True)
        for item in (self._pending_edge, self._tip):
            if item.scene() is self:
                self.removeItem(item)

    # ----- moving nodes -----
    def mousePressEvent(self, event):
        super().mousePressEvent(event)
        grabbed = self.mouseGrabberItem()
        if isinstance(grabbed, NodeItem) and self.editable:  # Qt moves the selection and the grabbed node
            moving = [i for i in self.selectedItems() if isinstance(i, NodeItem)] + [grabbed]
            self._drag_start = {item: item.pos() for item in moving}

    def _lone_dragged_node(self):
        """The node being dragged if it is alone and unconnected: it may be dropped into a connection."""
        if self._drag_start is None or len(self._drag_start) != 1:
            return None
        item = next(iter(self._drag_start))
        return item if not isinstance(item, GroupItem) and not item.edges else None

    def mouseMoveEvent(self, event):
        super().mouseMoveEvent(event)
        if self._drag_start and self.frame_items:
            self._follow_frames(self._drag_start)
        item = self._lone_dragged_node()
        if item is not None:
            face = item.face
            can_insert = face.has_output and face.slots
            centre = item.sceneBoundingRect().center()
            self._insert_target = self.edge_at(centre, item.node_id) if can_insert else None
            self.highlight_edge(self._insert_target)

    def mouseReleaseEvent(self, event):
        super().mouseReleaseEvent(event)
        start, self._drag_start = self._drag_start, None
        target, self._insert_target = self._insert_target, None
        if not start:
            return
        self.highlight_edge(None)
        old, new, groups_old, groups_new = {}, {}, {}, {}
        for item, pos in start.items():
            if item.scene() is self and QLineF(item.pos(), pos).length() > 0.5:
                before, after = (groups_old, groups_new) if isinstance(item, GroupItem) else (old, new)
                before[item.node_id] = (pos.x(), pos.y())
                after[item.node_id] = (item.pos().x(), item.pos().y())
        if new or groups_new:
            self.nodesMoved.emit(old, new, target, groups_old, groups_new)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Escape and self._pending is not None:
            self.cancel_connection()
            event.accept()
            return
        super().keyPressEvent(event)

    # ----- background -----
    def drawBackground(self, painter, rect):
        painter.fillRect(rect, self.style.background)
        scale = painter.worldTransform().m11()
        step = GRID
        while step * scale < 9:  # keep grid lines at least 9 pixels apart
            step *= MAJOR_EVERY
        major_step = step * MAJOR_EVERY
        minor, major = [], []
        x = int(rect.left() // step) * step
        while x < rect.right():
            (major if round(x / major_step) * major_step == x else minor).append(
                QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = int(rect.top() // step) * step
        while y < rect.bottom():
            (major if round(y / major_step) * major_step == y else minor).append(
                QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setPen(QPen(self.style.grid_minor, 0))
        painter.drawLines(minor)
        painter.setPen(QPen(self.style.grid_major, 0))
        painter.drawLines(major)
