"""The ``.llnet`` file: versioned, readable, diffable JSON, checked completely before a Network exists.

Version 3 (current)::

    {"format": "layerlab.network", "version": 3, "title": ..., "description": ...,
     "nodes": [{"id": "n1", "type": "Conv2d", "name": "conv1", "params": {...}, "position": [x, y]}, ...],
     "edges": [{"from": "n1", "to": "n2", "port": 0}, ...],
     "groups": [{"id": "g1", "name": "stage1", "members": ["n1", ...], "repeat": 1, "collapsed": true,
                 "position": [x, y]}, ...],
     "training": {...}}

``groups`` (version 3) name sets of layers drawn as one box; a group's ``repeat`` stacks that many copies of
it when the network is computed, so an older LayerLab, which would compute one copy, refuses the version. A
folded group may hold ``fold_cut``, where folding closed up the layout (see ``layout.fold_moves``), written
only when not 0.
Version 2 is version 3 without groups and reads as it is.

``port`` is the input of the receiving node (merges order their inputs by it); when left out, connections
fill a node's inputs in file order. ``output`` is the output of the sending node that a connection takes
(Split and Chunk have several, numbered from 0); it is written only when it is not 0, so files of networks
without such layers read as before, and a LayerLab that knows no layer with several outputs refuses such a
file for its unknown layer type instead of reading ``output`` wrongly. Missing ``title``, ``description``,
``params``, ``position`` and ``training`` (or settings within it) take their defaults.

Version 1 kept each node's inputs in the node (``"inputs": [ids]``), its position as ``"x"``/``"y"`` and
the settings under ``"settings"``; it is upgraded on load. Any problem raises ``NetworkFileError`` naming
the file, the node and what is wrong, and no Network is made; keys the format does not know are ignored with
a ``FileWarning`` naming them.

A document is untrusted: it is read within a byte budget, its nesting depth is measured on the text before it
is parsed, node and connection counts have budgets, every value is checked to be plain JSON (finite numbers,
integers of at most 64 bits, text that is valid Unicode and not huge), and the whole graph is assembled in
linear time (``Network.add_many``).
"""

import json
import math
import os
import warnings

from ..utils import json_text
from ..utils.files import FileError, FileWarning, atomic_write_text, read_limited
from .catalogue import get_layer_type, has_layer_type
from .document import Edge, Network, NetworkError, Node, PartRefused
from .groups import Group
from .limits import MAX_NAME_LENGTH, MAX_NODES
from .params import validate_params
from .settings import SETTINGS_SPECS, validate_settings

FORMAT = "layerlab.network"
VERSION = 3
EXTENSIONS = (".llnet", ".json")

MAX_BYTES = 64 * 1024 * 1024  # a 20,000-node network is about 3 MiB
MAX_EDGES = 400_000
MAX_DEPTH = 64  # a document nests 5 deep
MAX_TEXT = 65_536  # characters of any one text (a description included)
MAX_ID_LENGTH = 200
MAX_KEY_LENGTH = 200
INT_LIMIT = 2 ** 63

TOP_KEYS = ("format", "version", "title", "description", "nodes", "edges", "groups", "training")
FRAGMENT_KEYS = ("nodes", "edges", "groups")
GROUP_KEYS = ("id", "name", "members", "repeat", "collapsed", "position", "fold_cut")
NODE_KEYS = ("id", "type", "name", "params", "position", "frozen")
EDGE_KEYS = ("from", "output", "to", "port")


class NetworkFileError(FileError, NetworkError):
    """A network document that cannot be read; ``source`` (also ``path``) names the file or 'clipboard'."""

    @property
    def source(self):
        return self.path


def node_to_json(node):
    lt = node.layer_type
    data = {"id": node.id, "type": node.type, "name": node.name,
            "params": {k: lt.params[k].to_json(v) for k, v in node.params.items()},
            "position": [round(node.position[0], 1), round(node.position[1], 1)]}
    return {**data, "frozen": True} if node.frozen else data  # files without frozen layers stay as they were


def edge_to_json(edge):
    source = {"from": edge.src, "output": edge.out_port} if edge.out_port else {"from": edge.src}
    return {**source, "to": edge.dst, "port": edge.port}


def group_to_json(group):
    data = {"id": group.id, "name": group.name, "members": list(group.members), "repeat": group.repeat,
            "collapsed": group.collapsed, "position": [round(group.position[0], 1), round(group.position[1], 1)]}
    return {**data, "fold_cut": group.fold_cut} if group.fold_cut else data  # where folding closed up


def network_to_json(network):
    return {"format": FORMAT, "version": VERSION, "title": network.title, "description": network.description,
            "nodes": [node_to_json(n) for n in network.nodes.values()],
            "edges": [edge_to_json(e) for e in network.edges],
            "groups": [group_to_json(g) for g in network.groups.values()],
            "training": {k: SETTINGS_SPECS[k].to_json(v) for k, v in network.settings.items()}}


def _shown(value):
    """``repr(value)`` cut to a readable length, for messages about values of any size."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python converts
        text = f"an integer of {value.bit_length():,} bits"
    return text if len(text) <= 60 else text[:57] + "..."


def _require(mapping, key, kind, where, source):
    if not isinstance(mapping, dict):
        raise NetworkFileError(source, f"{where} must be a JSON object, got {type(mapping).__name__}")
    if key not in mapping:
        raise NetworkFileError(source, f"{where} has no '{key}' field")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise NetworkFileError(source, f"{where}: '{key}' must be {names}, got {_shown(value)}")
    return value


def _clipped(message, limit=300):
    """A checker's message cut to a readable length (it may quote a huge value)."""
    return message if len(message) <= limit else message[:limit - 3] + "..."


def _warn_unknown(source, where, found):
    """One ``FileWarning`` for the keys in ``found`` (place -> set of unknown keys) of one kind of place."""
    found = {place: keys for place, keys in found.items() if keys}
    if not found:
        return
    keys = sorted(set().union(*found.values()))
    places = list(found)
    shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
    warnings.warn(f"{source}: unknown key{'s' if len(keys) > 1 else ''} "
                  f"{', '.join(_shown(k) for k in keys[:10])}{' ...' if len(keys) > 10 else ''} in {where} "
                  f"{shown}; ignored", FileWarning, stacklevel=4)


def _unknown(raw, known):
    return {k for k in raw if k not in known} if isinstance(raw, dict) else set()


def _position_field(raw, where, source):
    """The ``position`` of a node or group (``[0, 0]`` when left out) as ``(x, y)`` floats."""
    position = raw.get("position", [0, 0])
    if (not isinstance(position, list) or len(position) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in position)):
        raise NetworkFileError(source, f"{where}: 'position' must be [x, y], got {_shown(position)}")
    return float(position[0]), float(position[1])


def nodes_from_json(data, source):
    raw_nodes = _require(data, "nodes", list, "the document", source)
    if len(raw_nodes) > MAX_NODES:
        raise NetworkFileError(source, f"{len(raw_nodes):,} nodes, over the {MAX_NODES:,} a network may have")
    nodes, seen_ids, seen_names, unknown = [], set(), set(), {}
    for index, raw in enumerate(raw_nodes):
        where = f"node {index + 1}"
        node_id = _require(raw, "id", str, where, source)
        if not node_id or len(node_id) > MAX_ID_LENGTH:
            raise NetworkFileError(source, f"{where}: an id has 1 to {MAX_ID_LENGTH} characters, got {_shown(node_id)}")
        where = f"node {node_id!r}"
        type_name = _require(raw, "type", str, where, source)
        name = _require(raw, "name", str, where, source)
        where = f"node {_shown(name)} ({type_name:.60})"
        if not has_layer_type(type_name):
            raise NetworkFileError(source, f"{where}: unknown layer type {_shown(type_name)}")
        if node_id in seen_ids:
            raise NetworkFileError(source, f"{where}: the id {node_id!r} is used twice")
        if name in seen_names:
            raise NetworkFileError(source, f"{where}: the name {_shown(name)} is used twice")
        seen_ids.add(node_id)
        seen_names.add(name)
        unknown[f"{name!r:.60}"] = _unknown(raw, NODE_KEYS)
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise NetworkFileError(source, f"{where}: 'params' must be an object, got {_shown(params)}")
        try:
            params = validate_params(get_layer_type(type_name).params, params)
        except ValueError as e:
            raise NetworkFileError(source, f"{where}: {_clipped(str(e))}") from None
        position = _position_field(raw, where, source)
        frozen = raw.get("frozen", False)
        if not isinstance(frozen, bool):
            raise NetworkFileError(source, f"{where}: 'frozen' must be true or false, got {_shown(frozen)}")
        nodes.append(Node(node_id, type_name, name, params, position, frozen))
    _warn_unknown(source, "nodes", unknown)
    return nodes


def edges_from_json(data, source, node_ids):
    """The connections, checked for form and dangling ends; a missing ``port`` stays None (the lowest free
    input, as ``Network.connect`` chooses)."""
    raw_edges = _require(data, "edges", list, "the document", source)
    if len(raw_edges) > MAX_EDGES:
        raise NetworkFileError(source, f"{len(raw_edges):,} connections, over the {MAX_EDGES:,} a network may have")
    edges, unknown = [], {}
    for index, raw in enumerate(raw_edges):
        where = f"connection {index + 1}"
        src = _require(raw, "from", str, where, source)
        dst = _require(raw, "to", str, where, source)
        where = f"connection {index + 1} ({src:.60} → {dst:.60})"
        port = _require(raw, "port", int, where, source) if "port" in raw else None
        out_port = _require(raw, "output", int, where, source) if "output" in raw else 0
        for end in (src, dst):
            if end not in node_ids:
                raise NetworkFileError(source, f"{where}: dangling connection, there is no node {_shown(end)}")
        unknown[str(index + 1)] = _unknown(raw, EDGE_KEYS)
        edges.append(Edge(src, dst, port, out_port))
    _warn_unknown(source, "connections", unknown)
    return edges


def groups_from_json(data, source):
    """The groups of a document (none when it has no ``groups``), checked for form; whether their members
    and names fit the network is ``Network.add_groups``'s question."""
    raw_groups = data.get("groups", [])
    if not isinstance(raw_groups, list):
        raise NetworkFileError(source, f"'groups' must be a list, got {_shown(raw_groups)}")
    groups, unknown = [], {}
    for index, raw in enumerate(raw_groups):
        where = f"group {index + 1}"
        group_id = _require(raw, "id", str, where, source)
        if not group_id or len(group_id) > MAX_ID_LENGTH:
            raise NetworkFileError(source, f"{where}: an id has 1 to {MAX_ID_LENGTH} characters, "
                                           f"got {_shown(group_id)}")
        name = _require(raw, "name", str, where, source)
        where = f"group {_shown(name)}"
        members = _require(raw, "members", list, where, source)
        if not all(isinstance(m, str) for m in members):
            raise NetworkFileError(source, f"{where}: 'members' must be a list of node ids")
        repeat = _require(raw, "repeat", int, where, source) if "repeat" in raw else 1
        collapsed = _require(raw, "collapsed", bool, where, source) if "collapsed" in raw else True
        position = _position_field(raw, where, source)
        fold_cut = raw.get("fold_cut", 0.0)
        problem = Network.group_fields_problem(repeat, collapsed, position, fold_cut)
        if problem:
            raise NetworkFileError(source, f"{where}: {problem}")
        unknown[f"{name!r:.60}"] = _unknown(raw, GROUP_KEYS)
        groups.append(Group(group_id, name, members, repeat, collapsed, position, round(float(fold_cut), 1)))
    _warn_unknown(source, "groups", unknown)
    return groups


def add_groups(network, groups, source):
    """Add checked groups to ``network`` (``NetworkFileError`` naming the group when one does not fit)."""
    try:
        network.add_groups(groups)
    except PartRefused as e:
        raise NetworkFileError(source, f"group {_shown(e.part.name)}: {e}") from None


def upgrade(data, source):
    """The document in the current version's layout; older versions are converted, newer ones refused."""
    if not isinstance(data, dict):
        raise NetworkFileError(source, f"not a LayerLab network: the top level is a JSON {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise NetworkFileError(source, f"not a LayerLab network (format is {_shown(data.get('format'))}, "
                                       f"expected {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NetworkFileError(source, f"'version' must be a positive integer, got {_shown(version)}")
    if version > VERSION:
        raise NetworkFileError(source, f"the file is version {version}, newer than this LayerLab "
                                       f"understands ({VERSION}); update LayerLab")
    if version == 1:
        data = _upgrade_v1(data, source)
    return data


def _upgrade_v1(data, source):
    nodes, edges = [], []
    for raw in _require(data, "nodes", list, "the document", source):
        if not isinstance(raw, dict):
            raise NetworkFileError(source, f"every node must be a JSON object, got {_shown(raw)}")
        raw = dict(raw)
        inputs = raw.pop("inputs", [])
        if not isinstance(inputs, list):
            raise NetworkFileError(source, f"node {_shown(raw.get('name'))}: 'inputs' must be a list")
        raw["position"] = [raw.pop("x", 0), raw.pop("y", 0)]
        for port, src in enumerate(inputs):
            edges.append({"from": src, "to": raw.get("id"), "port": port})
        nodes.append(raw)
    return {**{k: v for k, v in data.items() if k != "settings"}, "version": VERSION, "nodes": nodes,
            "edges": edges, "training": data.get("settings", {})}


def check_values(data, source):
    """Refuse (``NetworkFileError`` naming where) anything in ``data`` that is not plain, bounded JSON: nesting
    deeper than ``MAX_DEPTH``, non-text keys, integers beyond 64 bits, text that
    is not valid Unicode (lone surrogates) or longer than ``MAX_TEXT``, other Python objects. Iterative and
    linear, so a document built in Python (the clipboard, an API caller) is as safe as one parsed from text."""
    stack = [(data, 0, None)]  # (value, depth, (parent entry, key) for the message)
    while stack:
        entry = stack.pop()
        value, depth, _ = entry
        problem = None
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                problem = f"nested more than {MAX_DEPTH} levels deep"
            else:
                for key, item in value.items():
                    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH:
                        problem = (f"the key {_shown(key)} is not text" if not isinstance(key, str)
                                   else f"a key of {len(key):,} characters, over the {MAX_KEY_LENGTH}")
                        break
                    stack.append((item, depth + 1, (entry, key)))
        elif isinstance(value, (list, tuple)):
            if depth >= MAX_DEPTH:
                problem = f"nested more than {MAX_DEPTH} levels deep"
            else:
                stack.extend((item, depth + 1, (entry, k)) for k, item in enumerate(value))
        elif isinstance(value, str):
            problem = _text_problem(value)
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if not -INT_LIMIT <= value < INT_LIMIT:
                problem = f"the integer {_shown(value)} is beyond 64 bits"
        elif not isinstance(value, float):  # NaN and infinities are left to the checks of each value
            problem = f"{type(value).__name__} is not a JSON value"
        if problem:
            raise NetworkFileError(source, f"{_place(entry)}: {problem}")


def _text_problem(text):
    if len(text) > MAX_TEXT:
        return f"a text of {len(text):,} characters, over the {MAX_TEXT:,} a document's text may have"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return f"the text {_shown(text)} is not valid Unicode (it has a lone surrogate)"
    return None


def _place(entry):
    """Where a value of ``check_values``'s walk is: ``nodes[3]["params"]["units"]``."""
    keys = []
    while entry[2] is not None:
        entry, key = entry[2]
        keys.append(f"[{key}]" if isinstance(key, int) else f"[{_shown(key)}]")
    return "the document" + "".join(reversed(keys)) if keys else "the document"


def _assemble(network, data, source):
    """Add the nodes and connections of ``data`` to the empty ``network`` at once (``Network.add_many``: the
    checks an edit has, in linear time), so a file obeys the rules an edit does; a refusal becomes a
    ``NetworkFileError`` naming the node or connection."""
    nodes = nodes_from_json(data, source)
    edges = edges_from_json(data, source, {n.id for n in nodes})
    try:
        network.add_many(nodes, edges)
    except PartRefused as e:
        if isinstance(e.part, Node):
            raise NetworkFileError(source, f"node {_shown(e.part.name)} ({e.part.type}): {e}") from None
        names = {n.id: n.name for n in nodes}
        raise NetworkFileError(source, f"connection {e.index + 1} ({e.part.describe(names)}): {e}") from None
    add_groups(network, groups_from_json(data, source), source)
    network.revision = 0
    return network


def fragment_from_json(fragment, source="clipboard"):
    """A scratch Network holding a copied fragment (``{"nodes": [...], "edges": [...]}``), checked like a file."""
    check_values(fragment, source)
    if isinstance(fragment, dict):
        _warn_unknown(source, "the", {"fragment": _unknown(fragment, FRAGMENT_KEYS)})
    return _assemble(Network(), fragment, source)


def fragment_from_text(text, source="clipboard"):
    """``fragment_from_json`` of JSON text (the clipboard's), parsed within the document's budgets."""
    return fragment_from_json(parse_json(text, source), source)


def copy_fragment(network, node_ids):
    """A JSON-ready fragment of the given nodes, the connections among them and the groups all of whose
    members they hold (the clipboard, a user block)."""
    wanted = set(node_ids)
    ids = [i for i in network.nodes if i in wanted]
    inside = set(ids)
    return {"nodes": [node_to_json(network.nodes[i]) for i in ids],
            "edges": [edge_to_json(e) for e in network.edges if e.src in inside and e.dst in inside],
            "groups": [group_to_json(g) for g in network.groups.values() if inside.issuperset(g.members)]}


def paste_fragment(network, fragment, offset=(40.0, 40.0)):
    """Add a copied fragment to ``network`` with new ids and fresh names where they clash; returns the new
    nodes. The whole fragment is checked first (``NetworkFileError`` naming 'clipboard'): all or nothing."""
    part = fragment_from_json(fragment, "clipboard")
    used = {n.name for n in network.nodes.values()} | {g.name for g in network.groups.values()}
    counters = {}

    def fresh(name, prefix):
        """``name``, or when it is taken the lowest free ``prefix{k}``; names are only added, so each search
        goes on where the last one with that prefix stopped."""
        if name in used:
            k = counters.get(prefix, 1)
            while f"{prefix}{k}" in used:
                k += 1
            counters[prefix], name = k, f"{prefix}{k}"
        used.add(name)
        return name

    mapping, nodes = {}, []
    for node in part.nodes.values():
        name = fresh(node.name, node.layer_type.prefix)
        mapping[node.id] = network.new_id()
        x, y = node.position
        nodes.append(Node(mapping[node.id], node.type, name, node.params, (x + offset[0], y + offset[1]), node.frozen))
    edges = [Edge(mapping[e.src], mapping[e.dst], e.port, e.out_port) for e in part.edges]
    groups = [Group(None, fresh(g.name, g.name.rstrip("0123456789")[:MAX_NAME_LENGTH - 8] or "group"),
                    [mapping[m] for m in g.members], g.repeat, g.collapsed,
                    (g.position[0] + offset[0], g.position[1] + offset[1]), g.fold_cut) for g in part.groups.values()]
    with network.batch():
        added = network.add_many(nodes, edges)
        try:
            network.add_groups(groups)
        except PartRefused as e:  # all or nothing: the nodes go again
            for node in reversed(added):
                network.remove_node(node.id)
            raise NetworkFileError("clipboard", f"group {_shown(e.part.name)}: {e}") from None
    return added


def network_from_json(data, source="<document>"):
    check_values(data, source)
    data = upgrade(data, source)
    _warn_unknown(source, "the", {"document": _unknown(data, TOP_KEYS)})
    training = data.get("training", {})
    if not isinstance(training, dict):
        raise NetworkFileError(source, f"'training' must be a JSON object of settings, got {_shown(training)}")
    try:
        settings = validate_settings(training)
    except ValueError as e:
        raise NetworkFileError(source, f"training settings: {_clipped(str(e))}") from None
    title = data.get("title", "Untitled")
    description = data.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        raise NetworkFileError(source, "'title' and 'description' must be text")
    return _assemble(Network(title=title, description=description, settings=settings), data, source)


def load_network(path):
    """The network in the file ``path`` (at most ``MAX_BYTES``; folders, devices and FIFOs are refused)."""
    source = os.fspath(path)
    raw = read_limited(source, MAX_BYTES, NetworkFileError)
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as some editors write, is fine
    except UnicodeDecodeError:
        raise NetworkFileError(source, "not a LayerLab network: the file is not UTF-8 text") from None
    return network_from_json(parse_json(text, source), source)


def parse_json(text, source):
    """The JSON value of a document's text (``json_text.parse_json`` within ``MAX_DEPTH``)."""
    return json_text.parse_json(text, source, NetworkFileError, MAX_DEPTH)


def save_network(network, path):
    """Write the document atomically: a crash mid-save leaves the old file whole."""
    source = os.fspath(path)
    try:
        atomic_write_text(source, dumps(network_to_json(network)))
    except OSError as e:
        raise NetworkFileError(source, f"cannot write the file: {e.strerror or e}") from None


LINE_LENGTH = 100


def dumps(data):
    """Indented JSON where a list or object of plain values that fits on a short line stays on one line
    (``"shape": [3, 32, 32]``, one connection per line), so files read and diff well."""
    return _encode(data, 0) + "\n"


def _encode(value, depth):
    if isinstance(value, (dict, list)) and value:
        items = list(value.items()) if isinstance(value, dict) else list(value)
        inner = [v for _, v in items] if isinstance(value, dict) else items
        if not any(isinstance(v, (dict, list)) and v for v in inner):
            line = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
            if 2 * depth + len(line) <= LINE_LENGTH:
                return line
        pad = "  " * (depth + 1)
        if isinstance(value, dict):
            parts = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_encode(v, depth + 1)}" for k, v in items]
            opening, closing = "{", "}"
        else:
            parts = [pad + _encode(v, depth + 1) for v in items]
            opening, closing = "[", "]"
        return opening + "\n" + ",\n".join(parts) + "\n" + "  " * depth + closing
    return json.dumps(value, ensure_ascii=False)
