"""Property-based fuzzing of the ``.llnet`` loader: real documents (the templates and built networks) mutated
by random tree edits, type swaps, deep nesting, huge numbers, odd text and byte-level damage either load or
raise ``NetworkFileError`` naming the file, never anything else; and whatever loads saves and reloads equal."""

import copy
import json
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.graph import NetworkFileError, load_network, network_from_json, network_to_json
from engine.graph.fileformat import dumps, fragment_from_json, fragment_from_text
from engine.graph.templates import list_templates, load_template
from tests.engine.graph.conftest import make_random_network

BASES = [network_to_json(load_template(t.key)) for t in list_templates()] + [
    network_to_json(make_random_network(seed)) for seed in range(4)]
V1 = {"format": "layerlab.network", "version": 1, "title": "old", "settings": {"lr": 0.1},
      "nodes": [{"id": "n1", "type": "Input", "name": "x", "params": {}, "x": 0, "y": 0, "inputs": []},
                {"id": "n2", "type": "Identity", "name": "r", "params": {}, "x": 1, "y": 0, "inputs": ["n1"]},
                {"id": "n3", "type": "Add", "name": "add", "params": {}, "x": 2, "y": 0, "inputs": ["n1", "n2"]}]}
BASES.append(V1)

FUZZ = settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)

NUMBERS = st.one_of(st.integers(), st.integers(min_value=2 ** 62, max_value=2 ** 70),
                    st.just(5000).map(lambda digits: 10 ** digits), st.floats(allow_nan=True, allow_infinity=True),
                    st.just(-1), st.just(0))
TEXT = st.one_of(st.text(max_size=8), st.sampled_from(["\ud800", "a\udfff", "x" * 70_000, "for", "_x", "n1", "n2",
                                                       "Conv2d", "ReLU", "same", "Adam", "CrossEntropyLoss"]))
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def places(tree):
    """(path, value) of every value of a JSON tree down to 8 levels (below lies only what ``nest`` made)."""
    found, stack = [], [((), tree)]
    while stack:
        path, value = stack.pop()
        found.append((path, value))
        if len(path) < 8 and isinstance(value, (dict, list)):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*path, k), v) for k, v in items)
    return found


def at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def nested(depth, inner=0):
    for _ in range(depth):
        inner = [inner]
    return inner


def _int_text(value):
    """An integer as text; Python refuses str() of one over 4300 digits (the 10**5000 NUMBERS draws)."""
    return str(value) if abs(value) < 10 ** 4000 else "1" + "0" * 5000


@st.composite
def mutated(draw):
    """A real document after one to four random edits."""
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        spots = places(doc)
        path, value = draw(st.sampled_from(spots))
        action = draw(st.sampled_from(["replace", "delete", "add key", "duplicate", "swap type", "nest", "huge"]))
        parent = at(doc, path[:-1]) if path else None
        if action == "replace" and path:
            parent[path[-1]] = draw(VALUES)
        elif action == "delete" and path:
            del parent[path[-1]]
        elif action == "add key" and isinstance(value, dict):
            value[draw(TEXT)] = draw(VALUES)
        elif action == "duplicate" and isinstance(value, list) and value:
            # The same object again, not a deep copy: an element may be 5000 lists deep (a "nest" edit).
            value.insert(draw(st.integers(0, len(value))), draw(st.sampled_from(value)))
        elif action == "swap type" and path:
            swaps = {str: lambda v: len(v), int: _int_text, float: str, bool: int, list: lambda v: dict(enumerate(v)),
                     dict: lambda v: list(v.values()), type(None): lambda v: {}}
            parent[path[-1]] = swaps[type(value)](value)
        elif action == "nest" and path:
            parent[path[-1]] = nested(draw(st.sampled_from([1, 2, 63, 64, 65, 1_000, 5_000])), value)
        elif action == "huge" and path:
            parent[path[-1]] = draw(st.sampled_from([10 ** 400, -(2 ** 63) - 1, 2 ** 63, 1e308 * 10, 1e-320]))
    return doc


def loads_or_refuses(load, source):
    """Run ``load``; a refusal must be a NetworkFileError naming ``source``; what loads must save and reload
    equal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            net = load()
        except NetworkFileError as e:
            assert str(e).startswith(f"{source}: ") and e.path == str(source)
            assert len(str(e)) < 2_000
            return None
        again = network_from_json(json.loads(dumps(network_to_json(net))), "again")
    assert network_to_json(again) == network_to_json(net)
    return net


@FUZZ
@given(mutated())
def test_mutated_documents_load_or_raise_network_file_error(doc):
    loads_or_refuses(lambda: network_from_json(doc, "fuzz.llnet"), "fuzz.llnet")


@FUZZ
@given(mutated())
def test_mutated_fragments_load_or_raise_network_file_error(doc):
    fragment = {k: doc[k] for k in ("nodes", "edges") if k in doc} if isinstance(doc, dict) else doc
    loads_or_refuses(lambda: fragment_from_json(fragment), "clipboard")


@st.composite
def damaged_text(draw):
    """The saved text of a real (perhaps mutated) document with bytes flipped, inserted, deleted or cut."""
    doc = draw(st.one_of(st.sampled_from(BASES), mutated()))
    try:
        data = bytearray(json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError):  # an integer beyond Python's digit limit, 5,000 levels of nesting
        data = bytearray(b'{"version": ' + b"9" * 5000 + b"}")
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        k = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut", "brackets"]))
        if action == "flip":
            data[k] = draw(st.integers(0, 255))
        elif action == "insert":
            data[k:k] = draw(st.sampled_from([b"[", b"{", b'"', b"\\", b"\xff", b"\xed\xa0\x80", b"NaN", b"1e999",
                                              b"[" * 10_000, b"\x00", b",", b"}"]))
        elif action == "delete":
            del data[k]
        elif action == "cut":
            del data[k:]
        else:
            data[k:k] = b"[" * 3_000 + b"]" * 3_000
    return bytes(data)


@FUZZ
@given(damaged_text())
def test_damaged_files_load_or_raise_network_file_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "doc.llnet"
    path.write_bytes(data)
    loads_or_refuses(lambda: load_network(path), path)
    loads_or_refuses(lambda: fragment_from_text(data.decode("utf-8", "replace")), "clipboard")
