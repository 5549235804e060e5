"""The ``.llnet`` file: versioned, readable, diffable JSON, checked completely before a Network exists.

Version 2 (current)::

    {"format": "layerlab.network", "version": 2, "title": ..., "description": ...,
     "nodes": [{"id": "n1", "type": "Conv2d", "name": "conv1", "params": {...}, "position": [x, y]}, ...],
     "edges": [{"from": "n1", "to": "n2", "port": 0}, ...],
     "training": {...}}

``port`` is the input of the receiving node (merges order their inputs by it); when left out, connections
fill a node's inputs in file order. Missing ``title``, ``description``, ``params``, ``position`` and
``training`` (or settings within it) take their defaults.

Version 1 kept each node's inputs in the node (``"inputs": [ids]``), its position as ``"x"``/``"y"`` and
the settings under ``"settings"``; it is upgraded on load. Any problem raises ``NetworkFileError`` naming
the file, the node and what is wrong, and no Network is made.
"""

import json
import math
import os

from ..utils.files import FileError, atomic_write_text
from .catalogue import get_layer_type, has_layer_type
from .document import Edge, Network, NetworkError, Node
from .params import validate_params
from .settings import SETTINGS_SPECS, validate_settings

FORMAT = "layerlab.network"
VERSION = 2
EXTENSIONS = (".llnet", ".json")


class NetworkFileError(FileError, NetworkError):
    """A network document that cannot be read; ``source`` (also ``path``) names the file or 'clipboard'."""

    @property
    def source(self):
        return self.path


def node_to_json(node):
    lt = node.layer_type
    return {"id": node.id, "type": node.type, "name": node.name,
            "params": {k: lt.params[k].to_json(v) for k, v in node.params.items()},
            "position": [round(node.position[0], 1), round(node.position[1], 1)]}


def edge_to_json(edge):
    return {"from": edge.src, "to": edge.dst, "port": edge.port}


def network_to_json(network):
    return {"format": FORMAT, "version": VERSION, "title": network.title, "description": network.description,
            "nodes": [node_to_json(n) for n in network.nodes.values()],
            "edges": [edge_to_json(e) for e in network.edges],
            "training": {k: SETTINGS_SPECS[k].to_json(v) for k, v in network.settings.items()}}


def _require(mapping, key, kind, where, source):
    if not isinstance(mapping, dict):
        raise NetworkFileError(source, f"{where} must be a JSON object, got {type(mapping).__name__}")
    if key not in mapping:
        raise NetworkFileError(source, f"{where} has no '{key}' field")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise NetworkFileError(source, f"{where}: '{key}' must be {names}, got {value!r}")
    return value


def nodes_from_json(data, source):
    raw_nodes = _require(data, "nodes", list, "the document", source)
    nodes, seen_ids, seen_names = [], set(), set()
    for index, raw in enumerate(raw_nodes):
        where = f"node {index + 1}"
        node_id = _require(raw, "id", str, where, source)
        where = f"node {node_id!r}"
        type_name = _require(raw, "type", str, where, source)
        name = _require(raw, "name", str, where, source)
        where = f"node {name!r} ({type_name})"
        if not has_layer_type(type_name):
            raise NetworkFileError(source, f"{where}: unknown layer type {type_name!r}")
        if node_id in seen_ids:
            raise NetworkFileError(source, f"{where}: the id {node_id!r} is used twice")
        if name in seen_names:
            raise NetworkFileError(source, f"{where}: the name {name!r} is used twice")
        seen_ids.add(node_id)
        seen_names.add(name)
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise NetworkFileError(source, f"{where}: 'params' must be an object, got {params!r}")
        try:
            params = validate_params(get_layer_type(type_name).params, params)
        except ValueError as e:
            raise NetworkFileError(source, f"{where}: {e}") from None
        position = raw.get("position", [0, 0])
        if (not isinstance(position, list) or len(position) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in position)):
            raise NetworkFileError(source, f"{where}: 'position' must be [x, y], got {position!r}")
        nodes.append(Node(node_id, type_name, name, params, (float(position[0]), float(position[1]))))
    return nodes


def edges_from_json(data, source, node_ids):
    """The connections, checked for form and dangling ends; a missing ``port`` stays None (the lowest free
    input, as ``Network.connect`` chooses)."""
    raw_edges = _require(data, "edges", list, "the document", source)
    edges = []
    for index, raw in enumerate(raw_edges):
        where = f"connection {index + 1}"
        src = _require(raw, "from", str, where, source)
        dst = _require(raw, "to", str, where, source)
        port = _require(raw, "port", int, where, source) if isinstance(raw, dict) and "port" in raw else None
        where = f"connection {index + 1} ({src} → {dst})"
        for end in (src, dst):
            if end not in node_ids:
                raise NetworkFileError(source, f"{where}: dangling connection, there is no node {end!r}")
        edges.append(Edge(src, dst, port))
    return edges


def upgrade(data, source):
    """The document in the current version's layout; older versions are converted, newer ones refused."""
    if not isinstance(data, dict):
        raise NetworkFileError(source, f"not a LayerLab network: the top level is a JSON {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise NetworkFileError(source, f"not a LayerLab network (format is {data.get('format')!r}, "
                                       f"expected {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NetworkFileError(source, f"'version' must be a positive integer, got {version!r}")
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
            raise NetworkFileError(source, f"every node must be a JSON object, got {raw!r}")
        raw = dict(raw)
        inputs = raw.pop("inputs", [])
        if not isinstance(inputs, list):
            raise NetworkFileError(source, f"node {raw.get('name')!r}: 'inputs' must be a list")
        raw["position"] = [raw.pop("x", 0), raw.pop("y", 0)]
        for port, src in enumerate(inputs):
            edges.append({"from": src, "to": raw.get("id"), "port": port})
        nodes.append(raw)
    return {**{k: v for k, v in data.items() if k != "settings"}, "version": VERSION, "nodes": nodes,
            "edges": edges, "training": data.get("settings", {})}


def _assemble(network, data, source):
    """Add the nodes and connections of ``data`` to the empty ``network`` through its editing methods, so a
    file obeys the rules an edit does; a refusal becomes a ``NetworkFileError`` naming the node or connection."""
    nodes = nodes_from_json(data, source)
    edges = edges_from_json(data, source, {n.id for n in nodes})
    for node in nodes:
        try:
            network.add_node(node.type, node.params, name=node.name, position=node.position, node_id=node.id)
        except NetworkError as e:
            raise NetworkFileError(source, f"node {node.name!r} ({node.type}): {e}") from None
    for index, edge in enumerate(edges):
        try:
            network.connect(edge.src, edge.dst, edge.port)
        except NetworkError as e:
            where = f"{network.nodes[edge.src].name} → {network.nodes[edge.dst].name}"
            raise NetworkFileError(source, f"connection {index + 1} ({where}): {e}") from None
    network.revision = 0
    return network


def fragment_from_json(fragment, source="clipboard"):
    """A scratch Network holding a copied fragment (``{"nodes": [...], "edges": [...]}``), checked like a file."""
    return _assemble(Network(), fragment, source)


def copy_fragment(network, node_ids):
    """A JSON-ready fragment of the given nodes and the connections among them (the clipboard)."""
    wanted = set(node_ids)
    ids = [i for i in network.nodes if i in wanted]
    inside = set(ids)
    return {"nodes": [node_to_json(network.nodes[i]) for i in ids],
            "edges": [edge_to_json(e) for e in network.edges if e.src in inside and e.dst in inside]}


def paste_fragment(network, fragment, offset=(40.0, 40.0)):
    """Add a copied fragment to ``network`` with new ids and fresh names where they clash; returns the new
    nodes. The whole fragment is checked first (``NetworkFileError`` naming 'clipboard'): all or nothing."""
    part = fragment_from_json(fragment, "clipboard")
    mapping, added = {}, []
    with network.batch():
        for node in part.nodes.values():
            name = node.name if network.check_name(node.name) is None else network.unique_name(
                node.layer_type.prefix)
            x, y = node.position
            new = network.add_node(node.type, node.params, name=name, position=(x + offset[0], y + offset[1]))
            mapping[node.id] = new.id
            added.append(new)
        for e in part.edges:
            network.connect(mapping[e.src], mapping[e.dst], e.port)
    return added


def network_from_json(data, source="<document>"):
    data = upgrade(data, source)
    training = data.get("training", {})
    if not isinstance(training, dict):
        raise NetworkFileError(source, f"'training' must be a JSON object of settings, got {training!r}")
    try:
        settings = validate_settings(training)
    except ValueError as e:
        raise NetworkFileError(source, f"training settings: {e}") from None
    title = data.get("title", "Untitled")
    description = data.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        raise NetworkFileError(source, "'title' and 'description' must be text")
    return _assemble(Network(title=title, description=description, settings=settings), data, source)


def load_network(path):
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8-sig") as f:  # a byte-order mark, as some editors write, is fine
            text = f.read()
    except UnicodeDecodeError:
        raise NetworkFileError(source, "not a LayerLab network: the file is not UTF-8 text") from None
    except OSError as e:
        raise NetworkFileError(source, f"cannot read the file: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NetworkFileError(source, f"bad JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    return network_from_json(data, source)


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
