"""The network document: a DAG of layer nodes with training settings, edited through methods that check
every change and tell listeners what changed.

This is the one model of a network. The command line builds, trains and exports it; the node editor
draws it and sends it edits (every undoable command is a pair of calls here); tests drive it directly.
Listeners are called as ``listener(event, payload)`` with events ``node_added``, ``node_removed``,
``edge_added``, ``edge_removed`` (payload: the Node or Edge), ``node_changed`` (params, name or frozen),
``node_moved``, ``group_added``, ``group_removed``, ``group_changed`` (payload: the Group; its members, name,
repeat, collapsed state or position changed), ``settings_changed`` (payload None), ``reset`` (the whole
document was replaced) and ``changed`` (after every edit, moves included, or once at the end of a ``batch()``).

``revision`` grows with every edit; the inference is cached until an edit that can change it (moves
cannot). Node and edge order is the order of the file and of ties in ``topological_order``; undoing a
removal (``restore_node``) puts the node and its edges back where they were.
"""

import functools
import heapq
import keyword
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..nn.module import Module
from .build import GraphModule, build_loss
from .catalogue import get_layer_type, has_layer_type
from .errors import ConnectionRefused, NetworkError
from .groups import MAX_REPEAT, Group, membership
from .inference import infer
from .layout import grouped_positions
from .limits import MAX_NAME_LENGTH
from .params import validate_params
from .settings import default_settings, validate_settings


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict
    position: tuple = (0.0, 0.0)
    frozen: bool = False  # its parameters take no updates in training (transfer learning)

    @property
    def layer_type(self):
        return get_layer_type(self.type)

    def label(self):
        return f"{self.type} '{self.name}'"


@dataclass(frozen=True)
class Edge:
    src: str  # node id whose output is used
    dst: str  # node id that receives it
    port: int = 0  # input slot of dst; merges order their inputs by port
    out_port: int = 0  # which output of src (Split and Chunk have several)

    def describe(self, names):
        """``conv1 → relu1`` (``split1:1 → conv2`` from a second output), for messages; ``names``: node id ->
        name."""
        return f"{names[self.src]}{f':{self.out_port}' if self.out_port else ''} → {names[self.dst]}"


@dataclass
class _Batch:
    depth: int = 0
    dirty: bool = False


# Public attributes of PyTorch's Module that ours lacks: a node named so would break exported PyTorch code.
_TORCH_MODULE_ATTRIBUTES = frozenset((
    "T_destination", "bfloat16", "call_super_init", "compile", "dump_patches", "get_extra_state", "ipu", "mtia",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "set_extra_state", "set_submodule",
    "to_empty", "xpu"))


class PartRefused(NetworkError):
    """``Network.add_many`` refused one of its parts: ``part`` is the Node or Edge, ``index`` its place in
    its list; the message is the one ``add_node`` or ``connect`` gives."""

    def __init__(self, problem, part, index):
        super().__init__(problem)
        self.part, self.index = part, index


@functools.cache
def reserved_names():
    """Names a node cannot take: they are attributes of the built module (``forward``, ``training``...)."""
    return frozenset(dir(Module())) | frozenset(dir(GraphModule)) | _TORCH_MODULE_ATTRIBUTES


def _position(position):
    """``(x, y)`` as floats at the document's resolution (0.1), so that a saved file reloads equal."""
    try:
        x, y = (float(v) for v in position)
    except (TypeError, ValueError):
        raise NetworkError(f"a position must be two numbers (x, y), got {position!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise NetworkError(f"a position must be finite, got {position!r}")
    return (round(x, 1) + 0.0, round(y, 1) + 0.0)


def name_problem(name):
    """Why ``name`` cannot name any node (its form), or None; whether it is free is the network's question."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        return f"{name!r:.80} is not a valid name: use letters, digits and _, not starting with a digit"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name has at most {MAX_NAME_LENGTH} characters, {name[:20]!r}... has {len(name):,}"
    if name.startswith("_"):
        return f"{name!r} starts with '_', which is kept for the module's own attributes; choose another name"
    if name in reserved_names():
        return f"{name!r} is reserved (it is a Module attribute); choose another name"
    return None


def _name_taken(name, owner):
    return f"the name {name!r} is already used by {owner.label()}"


class _Inputs:
    """What the connection checks need to know of a node's inputs: their sources (node id, output), their
    ports, how many."""

    def __init__(self, edges=()):
        self.sources, self.ports, self.free = set(), set(), 0
        for e in edges:
            self.add(e)

    def add(self, edge):
        self.sources.add((edge.src, edge.out_port))
        self.ports.add(edge.port)

    def lowest_free(self):
        """The lowest port not taken (ports are only added, so the search goes on from the last answer)."""
        while self.free in self.ports:
            self.free += 1
        return self.free


def _output_problem(node, out_port):
    """Why ``node`` has no output ``out_port``, or None."""
    count = node.layer_type.output_count(node.params)
    if isinstance(out_port, bool) or not isinstance(out_port, int) or not 0 <= out_port < count:
        outputs = "one output (0)" if count == 1 else f"{count} outputs, numbered 0 to {count - 1}"
        return f"{node.label()} has no output {out_port!r:.40}: it has {outputs}"
    return None


def _connection_problem(a, b, inputs, port, makes_cycle, out_port=0):
    """Why output ``out_port`` of ``a`` cannot feed ``b`` given ``b``'s current ``inputs`` (``makes_cycle()`` is
    asked in its turn, as it is the costly question), or None."""
    if a.id == b.id:
        return "a node cannot feed itself"
    if not a.layer_type.has_output:
        return f"{a.label()} has no output to connect from"
    problem = _output_problem(a, out_port)
    if problem:
        return problem
    most = b.layer_type.max_inputs
    if most == 0:
        return f"{b.label()} takes no inputs"
    if (a.id, out_port) in inputs.sources:
        which = f"output {out_port} of " if a.layer_type.multi_output else ""
        return f"{which}{a.label()} already feeds {b.label()}"
    if makes_cycle():
        return f"connecting {a.label()} to {b.label()} would make a cycle"
    if not b.layer_type.accepts_more_inputs(len(inputs.ports)):
        return (f"{b.label()} takes a single input and already has one; disconnect it first" if most == 1
                else f"{b.label()} takes at most {most} inputs and already has them")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or port < 0:
            return f"input {port!r:.40} of {b.label()} is not an input number (0, 1, ...)"
        if most is not None and port >= most:
            return f"{b.label()} has no input {port}: its inputs are numbered 0 to {most - 1}"
        if port in inputs.ports:
            return f"input {port} of {b.label()} is already connected"
    return None


def _is_acyclic(node_ids, edges):
    """Whether the graph has no cycle (Kahn's algorithm: every node can be ordered after its inputs)."""
    indegree = dict.fromkeys(node_ids, 0)
    successors = {node_id: [] for node_id in node_ids}
    for e in edges:
        indegree[e.dst] += 1
        successors[e.src].append(e.dst)
    ready = [node_id for node_id, d in indegree.items() if d == 0]
    ordered = 0
    while ready:
        ordered += 1
        for nxt in successors[ready.pop()]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return ordered == len(indegree)


def _first_closing(node_ids, edges, new_edges):
    """The index of the first of ``new_edges`` that, added in turn after ``edges``, would close a cycle, or
    None: a binary search over prefixes, each checked with Kahn's algorithm (n log n in all; one pass when
    there is no cycle)."""
    if _is_acyclic(node_ids, edges + new_edges):
        return None
    low, high = 0, len(new_edges) - 1  # the prefix up to ``high`` has a cycle
    while low < high:
        middle = (low + high) // 2
        if _is_acyclic(node_ids, edges + new_edges[:middle + 1]):
            low = middle + 1
        else:
            high = middle
    return high


@dataclass
class Network:
    title: str = "Untitled"
    description: str = ""
    nodes: dict = field(default_factory=dict)  # id -> Node, in insertion order
    edges: list = field(default_factory=list)
    settings: dict = field(default_factory=default_settings)
    groups: dict = field(default_factory=dict)  # id -> Group, in insertion order

    def __post_init__(self):
        self.revision = 0
        self._listeners = []
        self._batch = _Batch()
        self._inference = None
        self._next_id = 1 + max((_id_number(i) for i in self.nodes), default=0)
        self._next_group = 1 + max((_id_number(i, "g") for i in self.groups), default=0)
        self._removed = {}  # node id -> (its index, [(index, edge)], its group's record) while it may be undone
        self._removed_groups = {}  # group id -> its index, while a removal may be undone
        self._owners = None  # node id -> group id, until the groups change

    # ----- events -----
    def subscribe(self, listener):
        self._listeners.append(listener)

    def unsubscribe(self, listener):
        self._listeners.remove(listener)

    def _emit(self, event, payload=None):
        for listener in list(self._listeners):
            listener(event, payload)

    def _changed(self, shapes=True):
        """Count an edit and tell listeners (now, or at the end of the batch); ``shapes``: it can change
        the inference."""
        self.revision += 1
        if shapes:
            self._inference = None
        if self._batch.depth:
            self._batch.dirty = True
        else:
            self._emit("changed")

    @contextmanager
    def batch(self):
        """Group edits so that listeners get one ``changed`` at the end (paste, layout, loading)."""
        self._batch.depth += 1
        try:
            yield self
        finally:
            self._batch.depth -= 1
            if self._batch.depth == 0 and self._batch.dirty:
                self._batch.dirty = False
                self._emit("changed")

    # ----- queries -----
    def node(self, node_id):
        return _look_up(self.nodes, node_id, "node")

    def node_by_name(self, name):
        for node in self.nodes.values():
            if node.name == name:
                return node
        raise NetworkError(f"no node named {name!r}")

    def names(self):
        """``{node id: node name}``."""
        return {node_id: node.name for node_id, node in self.nodes.items()}

    def nodes_of_type(self, type_name):
        return [n for n in self.nodes.values() if n.type == type_name]

    def input_edges(self, node_id):
        """Edges into ``node_id``, in port order."""
        return sorted((e for e in self.edges if e.dst == node_id), key=lambda e: e.port)

    def output_edges(self, node_id):
        return [e for e in self.edges if e.src == node_id]

    def predecessors(self, node_id):
        return [e.src for e in self.input_edges(node_id)]

    def sources(self):
        """``{node id: [ids of its inputs in port order]}`` for every node at once (linear time)."""
        return {node_id: [e.src for e in edges] for node_id, edges in self.feeds().items()}

    def feeds(self):
        """``{node id: [its input Edges in port order]}`` for every node at once (linear time)."""
        incoming = {node_id: [] for node_id in self.nodes}
        for e in sorted(self.edges, key=lambda e: e.port):
            incoming[e.dst].append(e)
        return incoming

    def topological_order(self):
        """Node ids, every node after its inputs; of the nodes ready at a time, the earliest added comes
        first, so the order depends on the nodes' order and the connections, not on the edges' order."""
        ids = list(self.nodes)
        index = {node_id: k for k, node_id in enumerate(ids)}
        indegree = [0] * len(ids)
        successors = [[] for _ in ids]
        for e in self.edges:
            indegree[index[e.dst]] += 1
            successors[index[e.src]].append(index[e.dst])
        ready = [k for k, d in enumerate(indegree) if d == 0]  # ascending, so already a heap
        order = []
        while ready:
            current = heapq.heappop(ready)
            order.append(ids[current])
            for nxt in successors[current]:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    heapq.heappush(ready, nxt)
        return order

    def reaches(self, start, goal):
        """Whether a path of connections leads from node ``start`` to node ``goal``."""
        stack, seen = [start], set()
        successors = {}
        for e in self.edges:
            successors.setdefault(e.src, []).append(e.dst)
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(successors.get(current, ()))
        return False

    # ----- names -----
    def unique_name(self, prefix):
        used = {n.name for n in self.nodes.values()} | {g.name for g in self.groups.values()}
        i = 1
        while f"{prefix}{i}" in used:
            i += 1
        return f"{prefix}{i}"

    def check_name(self, name, node_id=None):
        """The reason ``name`` cannot name a node, or None."""
        return self._name_problem(name, self.nodes.get(node_id))

    def _name_problem(self, name, exempt):
        """Why ``name`` cannot name a node or group (``exempt``, the one being renamed, may keep it), or None."""
        problem = name_problem(name)
        if problem:
            return problem
        for owner in (*self.nodes.values(), *self.groups.values()):
            if owner.name == name and owner is not exempt:
                return _name_taken(name, owner)
        return None

    # ----- edits -----
    def add_node(self, type_name, params=None, *, name=None, position=(0.0, 0.0), node_id=None):
        if not has_layer_type(type_name):
            raise NetworkError(f"unknown layer type {type_name!r:.80}")
        node_id = node_id or self.new_id()
        name = name or self.unique_name(get_layer_type(type_name).prefix)
        node = self._checked_node(Node(node_id, type_name, name, params or {}, position), self.nodes, self.groups,
                                  self.check_name(name))
        self._insert(node)
        self._changed()
        return node

    @staticmethod
    def _checked_node(node, nodes, groups, name_trouble):
        """``node`` in normal form (its params validated, its position rounded), or ``NetworkError`` with
        ``add_node``'s message; ``nodes``, ``groups``: the ids taken, ``name_trouble``: the name's problem or
        None."""
        if not has_layer_type(node.type):
            raise NetworkError(f"unknown layer type {node.type!r:.80}")
        if node.id in nodes:
            raise NetworkError(f"a node with id {node.id!r:.80} already exists")
        if node.id in groups:  # a problem's id names a node or a group, never both
            raise NetworkError(f"the id {node.id!r:.80} is a group's; a node needs another")
        if name_trouble:
            raise NetworkError(name_trouble)
        try:
            values = validate_params(get_layer_type(node.type).params, dict(node.params))
        except ValueError as e:
            raise NetworkError(f"{node.type} '{node.name}': {e}") from None
        return Node(node.id, node.type, node.name, values, _position(node.position), bool(node.frozen))

    def _insert(self, node):
        self.nodes[node.id] = node
        self._next_id = max(self._next_id, _id_number(node.id) + 1)
        self._emit("node_added", node)

    def add_many(self, nodes, edges):
        """Add ``nodes`` (Node objects with their ids and names) and then ``edges`` (Edge objects; a port of
        None takes the lowest free input) with the checks and messages of ``add_node`` and ``connect``, the first
        refusal reported as adding them one by one would, in linear time: one cycle check (Kahn's algorithm)
        instead of a search per edge, and a binary search over prefixes only when there is a cycle. All or
        nothing: a refusal raises ``PartRefused`` naming the part and changes nothing. Returns the added nodes,
        in order."""
        owners = {n.name: n for n in (*self.nodes.values(), *self.groups.values())}
        added = {}
        for index, node in enumerate(nodes):
            taken = owners.get(node.name)
            try:
                checked = self._checked_node(node, _Either(self.nodes, added), self.groups, name_problem(node.name) or (
                    _name_taken(node.name, taken) if taken is not None else None))
            except NetworkError as e:
                raise PartRefused(str(e), node, index) from None
            added[checked.id] = owners[checked.name] = checked
        every = _Either(self.nodes, added)
        inputs, new_edges, failed = {}, [], None  # failed: (index, problem) of the first refused connection
        for e in self.edges:
            inputs.setdefault(e.dst, _Inputs()).add(e)
        for index, edge in enumerate(edges):
            if edge.src not in every or edge.dst not in every:
                failed = (index, "both ends must be nodes of this network")
                break
            current = inputs.setdefault(edge.dst, _Inputs())
            a, b = every[edge.src], every[edge.dst]
            problem = _connection_problem(a, b, current, edge.port, lambda: False, edge.out_port)
            if problem:
                failed = (index, problem)
                if _connection_problem(a, b, current, edge.port, lambda: True, edge.out_port) != problem:
                    new_edges.append(edge)  # a cycle would be its first problem: ask below
                break
            edge = Edge(edge.src, edge.dst, current.lowest_free() if edge.port is None else edge.port, edge.out_port)
            current.add(edge)
            new_edges.append(edge)
        closing = _first_closing(list(every), self.edges, new_edges)
        if closing is not None:  # the cycle question, asked once for every connection up to the refused one
            a, b = every[new_edges[closing].src], every[new_edges[closing].dst]
            raise PartRefused(f"connecting {a.label()} to {b.label()} would make a cycle", edges[closing], closing)
        if failed is not None:
            raise PartRefused(failed[1], edges[failed[0]], failed[0])
        with self.batch():
            for node in added.values():
                self._insert(node)
                self._changed()
            for edge in new_edges:
                self.edges.append(edge)
                self._emit("edge_added", edge)
                self._changed()
        return list(added.values())

    def new_id(self):
        """An id no node has (and none handed out before)."""
        while f"n{self._next_id}" in self.nodes or f"n{self._next_id}" in self.groups:
            self._next_id += 1
        self._next_id += 1
        return f"n{self._next_id - 1}"

    def remove_node(self, node_id):
        """Remove a node and its connections; returns ``(node, edges)`` for ``restore_node``."""
        node = self.node(node_id)
        places = [(k, e) for k, e in enumerate(self.edges) if node_id in (e.src, e.dst)]
        edges = [e for _, e in places]
        with self.batch():
            group_record = self._leave_group(node_id)
            self._removed[node_id] = (list(self.nodes).index(node_id), places, group_record)
            for e in edges:
                self._remove_edge(e)
            del self.nodes[node_id]
            self._emit("node_removed", node)
            self._changed()
        return node, edges

    def remove_nodes(self, node_ids):
        """Remove several nodes with their connections, as one change; returns the records that
        ``restore_nodes`` takes to put them back (undo)."""
        with self.batch():
            return [self.remove_node(i) for i in node_ids]

    def restore_nodes(self, records):
        """Put back nodes removed by ``remove_nodes``: in reverse, since each node's recorded connections lead
        only to nodes that were still there when it was removed."""
        with self.batch():
            for node, edges in reversed(records):
                self.restore_node(node, edges)

    def _leave_group(self, node_id):
        """Take a node out of its group (removing the group it leaves empty); returns ``(group, place in its
        members, whether the group went too)`` for ``restore_node``, or None."""
        group = self.group_of(node_id)
        if group is None:
            return None
        place = group.members.index(node_id)
        if len(group.members) == 1:
            self.remove_group(group.id)
            return group, place, True
        self._set_members(group, [m for m in group.members if m != node_id])
        return group, place, False

    def restore_node(self, node, edges=()):
        """Put back a node removed by ``remove_node`` (undo), with its connections; when nothing else
        changed since, the node and its edges go back to their places, so the document is as before."""
        index, places, group_record = self._removed.pop(node.id, (None, [], None))
        if [e for _, e in places] != list(edges):
            index, places = None, [(None, e) for e in edges]
        with self.batch():
            self._restore_membership(node, group_record)
            if index is not None and index < len(self.nodes) - 1:
                items = list(self.nodes.items())
                items.insert(index, items.pop())
                self.nodes = dict(items)
            for k, e in places:
                self.connect(e.src, e.dst, e.port, e.out_port)
                if k is not None and k < len(self.edges) - 1:
                    self.edges.insert(k, self.edges.pop())
        return self.nodes[node.id]

    def _restore_membership(self, node, group_record):
        """Put a node being restored back into the group it left (``_leave_group``'s record), first adding
        the node itself, when that group is as the removal left it."""
        self.add_node(node.type, node.params, name=node.name, position=node.position, node_id=node.id)
        self.nodes[node.id].frozen = node.frozen
        if group_record is None:
            return
        group, place, went = group_record
        if went and group.id not in self.groups:
            group.members = [node.id]
            self.restore_group(group)
        elif not went and self.groups.get(group.id) is group:
            self._set_members(group, [*group.members[:place], node.id, *group.members[place:]])

    def can_connect(self, src, dst, port=None, out_port=0):
        """Why output ``out_port`` of ``src`` cannot feed ``dst``, or None when it can."""
        if src not in self.nodes or dst not in self.nodes:
            return "both ends must be nodes of this network"
        inputs = _Inputs(e for e in self.edges if e.dst == dst)
        return _connection_problem(self.nodes[src], self.nodes[dst], inputs, port, lambda: self.reaches(dst, src),
                                   out_port)

    def connect(self, src, dst, port=None, out_port=0):
        """Feed output ``out_port`` of ``src`` into input ``port`` of ``dst`` (default: its lowest free input);
        returns the Edge or raises ``ConnectionRefused`` with ``can_connect``'s reason."""
        reason = self.can_connect(src, dst, port, out_port)
        if reason:
            raise ConnectionRefused(reason)
        if port is None:  # the lowest free input, so a merge's replaced input keeps its place
            port = _Inputs(e for e in self.edges if e.dst == dst).lowest_free()
        edge = Edge(src, dst, port, out_port)
        self.edges.append(edge)
        self._emit("edge_added", edge)
        self._changed()
        return edge

    def _remove_edge(self, edge):
        self.edges.remove(edge)
        self._emit("edge_removed", edge)
        self._changed()

    def disconnect(self, edge):
        if edge not in self.edges:
            output = f" (output {edge.out_port})" if edge.out_port else ""
            raise NetworkError(f"no connection from {edge.src!r}{output} to {edge.dst!r} (input {edge.port})")
        self._remove_edge(edge)

    def set_params(self, node_id, changes):
        """Change some parameters of a node; returns the old values of those parameters (for undo)."""
        node = self.node(node_id)
        merged = {**node.params, **changes}
        try:
            values = validate_params(node.layer_type.params, merged)
        except ValueError as e:
            raise NetworkError(f"{node.label()}: {e}") from None
        lost = [e for e in self.output_edges(node_id)
                if e.out_port >= node.layer_type.output_count(values)]
        if lost:
            count = node.layer_type.output_count(values)
            outputs = f"{count} output{'s' if count != 1 else ''}"
            raise NetworkError(f"{node.label()}: the new parameters give it {outputs}, but "
                               f"{lost[0].describe(self.names())} uses output {lost[0].out_port}; disconnect it first")
        old = {k: node.params[k] for k in changes}
        node.params = values
        self._emit("node_changed", node)
        self._changed()
        return old

    def set_frozen(self, node_ids, frozen):
        """Freeze (or thaw) nodes: their parameters keep their values in training. Returns ``{node id: old
        value}`` (for undo)."""
        nodes = [self.node(node_id) for node_id in node_ids]
        for node in nodes:
            if frozen and node.layer_type.module is None:
                raise NetworkError(f"{node.label()} has no parameters to freeze")
        old = {node.id: node.frozen for node in nodes}
        with self.batch():
            for node in nodes:
                if node.frozen != bool(frozen):
                    node.frozen = bool(frozen)
                    self._emit("node_changed", node)
                    self._changed()  # the inference counts the frozen parameters
        return old

    def rename(self, node_id, name):
        node = self.node(node_id)
        problem = self.check_name(name, node_id)
        if problem:
            raise NetworkError(problem)
        old, node.name = node.name, name
        self._emit("node_changed", node)
        self._changed()
        return old

    def move(self, node_id, position):
        """Move a node (positions are kept to 0.1); returns its old position."""
        node = self.node(node_id)
        old, node.position = node.position, _position(position)
        self._emit("node_moved", node)
        self._changed(shapes=False)
        return old

    def move_many(self, positions):
        """Move several nodes (``{id: (x, y)}``) with one ``changed``; returns their old positions."""
        with self.batch():
            return {node_id: self.move(node_id, pos) for node_id, pos in positions.items()}

    def set_settings(self, changes):
        """Change training settings; returns the old values of the changed keys."""
        try:
            values = validate_settings({**self.settings, **changes})
        except ValueError as e:
            raise NetworkError(f"training settings: {e}") from None
        old = {k: self.settings[k] for k in changes}
        self.settings = values
        self._emit("settings_changed")
        self._changed()
        return old

    def assign(self, other, keep_removed=False):
        """Replace this document's content with ``other``'s (opening a file into an open editor). The nodes
        and edges are taken over, not copied: ``other`` is not to be edited afterwards. ``keep_removed``: keep
        the records of deleted nodes and groups, which undoing an edit made before an undoable replacement
        needs."""
        self.title, self.description = other.title, other.description
        self.nodes, self.edges, self.settings = other.nodes, other.edges, other.settings
        self.groups, self._owners = other.groups, None
        self._next_id, self._next_group = other._next_id, other._next_group
        if not keep_removed:
            self._removed, self._removed_groups = {}, {}
        self._inference = None  # listeners of "reset" may infer the new content at once
        self._emit("reset")
        self._changed()

    # ----- groups -----
    def group(self, group_id):
        return _look_up(self.groups, group_id, "group")

    def group_of(self, node_id):
        """The Group holding ``node_id``, or None."""
        if self._owners is None:
            self._owners = membership(self.groups)
        group_id = self._owners.get(node_id)
        return self.groups[group_id] if group_id is not None else None

    def new_group_id(self):
        """An id no group or node has, and none handed out before (so an undone group keeps its own)."""
        while f"g{self._next_group}" in self.groups or f"g{self._next_group}" in self.nodes:
            self._next_group += 1
        self._next_group += 1
        return f"g{self._next_group - 1}"

    def members_problem(self, node_ids, group_id=None):
        """Why ``node_ids`` cannot be the members of a group (``group_id``, when it is an existing one), or
        None."""
        if not node_ids:
            return "a group needs at least one layer"
        if len(set(node_ids)) != len(node_ids):
            return "a group lists a layer twice"
        for node_id in node_ids:
            node = self.nodes.get(node_id)
            if node is None:
                return f"a group's member {node_id!r:.80} is not a node of this network"
            if node.type in ("Input", "Output"):
                return f"{node.label()} stays outside groups: a group holds layers between the Input and the Output"
            owner = self.group_of(node_id)
            if owner is not None and owner.id != group_id:
                return f"{node.label()} already belongs to {owner.label()}; a layer is in one group at most"
        return None

    @staticmethod
    def group_fields_problem(repeat, collapsed, position, fold_cut=0.0):
        """Why a group's repeat count, collapsed flag, position or fold cut is not valid, or None."""
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
            return f"a group's repeat count is a whole number from 1 to {MAX_REPEAT}, got {repeat!r:.40}"
        if not isinstance(collapsed, bool):
            return f"a group is collapsed or not (true or false), got {collapsed!r:.40}"
        try:
            _position(position)
        except NetworkError as e:
            return str(e)
        if isinstance(fold_cut, bool) or not isinstance(fold_cut, (int, float)) or not 0 <= fold_cut < math.inf:
            return f"a group's fold cut is a distance of 0 or more, got {fold_cut!r:.40}"
        return None

    def add_group(self, node_ids, *, name=None, group_id=None, repeat=1, collapsed=True, position=None):
        """Group layer nodes (each in no other group) under a new name; the collapsed box sits at
        ``position``, by default where its first member is. Returns the Group."""
        name = name or self.unique_name("group")
        group = Group(group_id or self.new_group_id(), name, list(node_ids), repeat, collapsed, position)
        return self._add_group(group, self.check_name(name))

    def add_groups(self, groups):
        """Add ``Group`` objects (their ids, names and fields given; an id of None takes a new one) one after
        the other with ``add_group``'s checks and messages, in linear time (loading a file, pasting): the names
        taken are looked up once, not searched for each group. A refusal raises ``PartRefused`` naming the
        group; those before it stay. Returns the added groups."""
        owners = {o.name: o for o in (*self.nodes.values(), *self.groups.values())}
        added = []
        with self.batch():
            for index, group in enumerate(groups):
                taken = owners.get(group.name)
                trouble = name_problem(group.name) or (_name_taken(group.name, taken) if taken is not None else None)
                group = Group(group.id or self.new_group_id(), group.name, list(group.members), group.repeat,
                              group.collapsed, group.position, group.fold_cut)
                try:
                    added.append(self._add_group(group, trouble))
                except NetworkError as e:
                    raise PartRefused(str(e), group, index) from None
                owners[group.name] = group
        return added

    def _arrival_problem(self, group, name_trouble):
        """Why ``group`` cannot join the document (its members, name, fields or id), or None; ``name_trouble``:
        its name's problem, or None."""
        problem = (self.members_problem(group.members) or name_trouble
                   or self.group_fields_problem(group.repeat, group.collapsed, group.position or (0, 0),
                                                group.fold_cut))
        if problem is None and group.id in self.groups:
            problem = f"a group with id {group.id!r:.80} already exists"
        if problem is None and group.id in self.nodes:
            problem = f"the id {group.id!r:.80} is a node's; a group needs another"
        return problem

    def _add_group(self, group, name_trouble):
        """Check and insert a new Group; ``name_trouble``: its name's problem, or None."""
        problem = self._arrival_problem(group, name_trouble)
        if problem:
            raise NetworkError(problem)
        group.position = _position(group.position or self.nodes[group.members[0]].position)
        self._insert_group(group)
        return group

    def _insert_group(self, group, index=None):
        self.groups[group.id] = group
        self._next_group = max(self._next_group, _id_number(group.id, "g") + 1)
        if index is not None and index < len(self.groups) - 1:
            items = list(self.groups.items())
            items.insert(index, items.pop())
            self.groups = dict(items)
        if self._owners is not None:  # kept up to date, so that adding many groups stays linear
            self._owners.update(dict.fromkeys(group.members, group.id))
        self._emit("group_added", group)
        self._changed()

    def remove_group(self, group_id):
        """Ungroup: the members stay where they are. Returns the Group (for ``restore_group``)."""
        group = self.group(group_id)
        self._removed_groups[group_id] = list(self.groups).index(group_id)
        del self.groups[group_id]
        self._owners = None
        self._emit("group_removed", group)
        self._changed()
        return group

    def restore_group(self, group):
        """Put back a group removed by ``remove_group`` (undo), in its place when nothing else changed. The
        Group object itself goes back, so that the records holding it (``restore_node``'s, the editor's
        commands') still find it in the document."""
        index = self._removed_groups.pop(group.id, None)
        problem = self._arrival_problem(group, self.check_name(group.name))
        if problem:
            raise NetworkError(problem)
        group.members, group.position = list(group.members), _position(group.position)
        self._insert_group(group, index)
        return group

    def _set_members(self, group, members):
        group.members = members
        self._owners = None
        self._emit("group_changed", group)
        self._changed()

    def set_members(self, group_id, node_ids):
        """Make ``node_ids`` the members of a group; returns the old members."""
        group = self.group(group_id)
        node_ids = list(node_ids)
        problem = self.members_problem(node_ids, group_id)
        if problem:
            raise NetworkError(f"{group.label()}: {problem}")
        old = list(group.members)
        self._set_members(group, node_ids)
        return old

    def move_group(self, group_id, position, carry=True):
        """Move a group's box; with ``carry`` its members move as much, so that expanding shows them beside it.
        Returns the old position."""
        group = self.group(group_id)
        old, new = group.position, _position(position)
        with self.batch():
            if carry:
                dx, dy = new[0] - old[0], new[1] - old[1]
                for member in group.members:
                    x, y = self.nodes[member].position
                    self.move(member, (x + dx, y + dy))
            group.position = new
            self._emit("group_changed", group)
            self._changed(shapes=False)
        return old

    def set_group(self, group_id, **changes):
        """Change a group's ``name``, ``repeat``, ``collapsed``, ``position`` or ``fold_cut``; returns the old
        values."""
        group = self.group(group_id)
        unknown = set(changes) - {"name", "repeat", "collapsed", "position", "fold_cut"}
        if unknown:
            raise NetworkError(f"a group has no field {sorted(unknown)[0]!r}")
        merged = {"name": group.name, "repeat": group.repeat, "collapsed": group.collapsed,
                  "position": group.position, "fold_cut": group.fold_cut, **changes}
        problem = ((self._name_problem(merged["name"], group) if "name" in changes else None)
                   or self.group_fields_problem(merged["repeat"], merged["collapsed"], merged["position"],
                                                merged["fold_cut"]))
        if problem:
            raise NetworkError(f"{group.label()}: {problem}")
        old = {k: getattr(group, k) for k in changes}
        group.name, group.repeat, group.collapsed = merged["name"], merged["repeat"], merged["collapsed"]
        group.position, group.fold_cut = _position(merged["position"]), round(float(merged["fold_cut"]), 1)
        self._emit("group_changed", group)
        self._changed(shapes=bool({"name", "repeat"} & set(changes)))  # names number the copies
        return old

    # ----- whole-graph work -----
    def infer(self):
        """Shapes, parameter and MAC counts and problems of every node (cached until the next edit)."""
        if self._inference is None:
            self._inference = infer(self)
        return self._inference

    def build(self):
        """The ``engine.nn.Module`` that runs this network; refuses with the list of errors if it has any."""
        return GraphModule(self)

    def build_loss(self):
        """The loss module the Output node names."""
        return build_loss(self)

    def input_node(self):
        inputs = self.nodes_of_type("Input")
        return inputs[0] if inputs else None

    def output_node(self):
        outputs = self.nodes_of_type("Output")
        return outputs[0] if outputs else None

    def layout(self):
        """Arrange the nodes in layers from left to right, each collapsed group as one box; returns the old
        positions of the nodes and of the groups (for undo)."""
        nodes, groups = grouped_positions(self)
        with self.batch():
            old_groups = {gid: self.move_group(gid, pos, carry=False) for gid, pos in groups.items()}
            for group in self.groups.values():
                if group.fold_cut:  # the layout leaves one column to each box
                    self.set_group(group.id, fold_cut=0.0)
            return self.move_many(nodes), old_groups


class _Either:
    """Two id -> Node dicts read as one (a network's nodes and those being added), without copying."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def __contains__(self, key):
        return key in self.first or key in self.second

    def __getitem__(self, key):
        return self.first[key] if key in self.first else self.second[key]

    def __iter__(self):
        yield from self.first
        yield from self.second


def _look_up(table, key, what):
    """``table[key]``, or ``NetworkError`` saying there is no such node or group."""
    try:
        return table[key]
    except (KeyError, TypeError):
        raise NetworkError(f"no {what} with id {key!r:.80}") from None


def _id_number(node_id, prefix="n"):
    digits = node_id[1:] if node_id.startswith(prefix) else ""
    return int(digits) if digits.isascii() and digits.isdigit() else 0
