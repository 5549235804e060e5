"""The ``.llnet`` loader's budgets: time linear in the document (a 20,000-node chain took 148 s), bytes, nesting
depth and counts bounded, devices and FIFOs refused without blocking, every odd value a ``NetworkFileError``
naming the file and place, unknown keys warned about (never for files LayerLab wrote), and the same first
refusal as adding the parts one by one."""

import gc
import itertools
import json
import os
import random
import time
import warnings

import pytest

from engine.graph import (
    Network,
    NetworkError,
    NetworkFileError,
    fileformat,
    load_network,
    network_from_json,
    network_to_json,
)
from engine.graph.document import Edge, Node, PartRefused
from engine.graph.fileformat import (
    MAX_DEPTH,
    copy_fragment,
    fragment_from_json,
    fragment_from_text,
    paste_fragment,
    save_network,
)
from engine.graph.templates import list_templates, load_template
from engine.utils.files import FileWarning


def chain(n):
    """Input → n - 2 ReLUs → Output, as saved."""
    ids = [f"n{k}" for k in range(1, n + 1)]
    types = ["Input"] + ["ReLU"] * (n - 2) + ["Output"]
    nodes = [{"id": i, "type": t, "name": f"{t.lower()}{k}", "params": {}, "position": [k * 10.0, 0.0]}
             for k, (i, t) in enumerate(zip(ids, types))]
    edges = [{"from": a, "to": b, "port": 0} for a, b in itertools.pairwise(ids)]
    return {"format": "layerlab.network", "version": 2, "title": "chain", "description": "", "nodes": nodes,
            "edges": edges, "training": {}}


def timed_load(path):
    """The network and the time it took to load, without the collector's pauses (they grow with every object
    the test process holds, not with the loader's work)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        net = load_network(path)
        return net, time.perf_counter() - start
    finally:
        gc.enable()


def test_a_long_chain_loads_in_linear_time_and_equals_the_saved_one(tmp_path):
    small, big = tmp_path / "small.llnet", tmp_path / "big.llnet"
    small.write_text(json.dumps(chain(2_000)), encoding="utf-8")
    big.write_text(json.dumps(chain(20_000)), encoding="utf-8")
    t_small = min(timed_load(small)[1] for _ in range(3))
    net, t_big = timed_load(big)
    assert t_big < 10 and t_big < 30 * t_small, (t_small, t_big)  # 148 s before; quadratic would be 100x
    assert len(net.nodes) == 20_000 and len(net.edges) == 19_999 and net.revision == 0
    save_network(net, tmp_path / "again.llnet")
    again = load_network(tmp_path / "again.llnet")
    assert network_to_json(again) == network_to_json(net)
    assert network_to_json(net)["nodes"][5] == {**chain(20_000)["nodes"][5]}


def test_a_wide_merge_loads_in_linear_time():
    n = 5_000
    nodes = [{"id": "in", "type": "Input", "name": "x"}] + [
        {"id": f"r{k}", "type": "Identity", "name": f"r{k}"} for k in range(n)] + [
        {"id": "cat", "type": "Concat", "name": "cat"}]
    edges = [{"from": "in", "to": f"r{k}"} for k in range(n)] + [{"from": f"r{k}", "to": "cat"} for k in range(n)]
    start = time.perf_counter()
    net = network_from_json({"format": "layerlab.network", "version": 2, "nodes": nodes, "edges": edges})
    assert time.perf_counter() - start < 5
    assert net.predecessors("cat") == [f"r{k}" for k in range(n)]


def test_a_cycle_in_a_long_chain_is_found_and_named(tmp_path):
    data = chain(20_000)
    data["nodes"][-1] = {"id": "n20000", "type": "ReLU", "name": "last"}
    data["edges"].append({"from": "n20000", "to": "n2", "port": 1})
    data["nodes"][1] = {"id": "n2", "type": "Add", "name": "add"}
    start = time.perf_counter()
    with pytest.raises(NetworkFileError, match="connection 20000 \\(last → add\\): connecting ReLU 'last' to "
                                               "Add 'add' would make a cycle"):
        network_from_json(data, "c.llnet")
    assert time.perf_counter() - start < 10


def sequential_refusal(nodes, edges):
    """The first refusal adding the parts one by one gives: (kind, index, message) or None."""
    net = Network()
    for k, n in enumerate(nodes):
        try:
            net.add_node(n.type, n.params, name=n.name, position=n.position, node_id=n.id)
        except NetworkError as e:
            return ("node", k, str(e))
    for k, e in enumerate(edges):
        try:
            net.connect(e.src, e.dst, e.port)
        except NetworkError as err:
            return ("edge", k, str(err))
    return None


@pytest.mark.parametrize("seed", range(60))
def test_add_many_refuses_what_one_by_one_refuses_first(seed):
    rng = random.Random(seed)
    kinds = ["Input", "ReLU", "Identity", "Add", "Concat", "Output", "Flatten"]
    nodes = [Node(f"n{k}", rng.choice(kinds), rng.choice([f"a{k}", f"a{k}", "a0", "for"]), {}, (0, 0))
             for k in range(rng.randint(2, 8))]
    ids = [n.id for n in nodes] + ["ghost"] * (seed % 7 == 0)
    edges = [Edge(rng.choice(ids), rng.choice(ids), rng.choice([None, None, 0, 1, 2, -1]))
             for _ in range(rng.randint(0, 12))]
    expected = sequential_refusal(nodes, edges)
    net = Network()
    try:
        net.add_many(nodes, edges)
        got = None
    except PartRefused as e:
        got = ("node" if isinstance(e.part, Node) else "edge", e.index, str(e))
    assert got == expected
    if got is None:
        sequential = Network()
        for n in nodes:
            sequential.add_node(n.type, n.params, name=n.name, position=n.position, node_id=n.id)
        for e in edges:
            sequential.connect(e.src, e.dst, e.port)
        assert net.edges == sequential.edges and net.nodes == sequential.nodes
    else:
        assert not net.nodes and not net.edges  # all or nothing


def test_devices_fifos_and_huge_files_are_refused_without_reading_them(tmp_path, monkeypatch):
    with pytest.raises(NetworkFileError, match="^/dev/zero: cannot read it: it is not a regular file"):
        load_network("/dev/zero")
    fifo = tmp_path / "pipe.llnet"
    os.mkfifo(fifo)
    with pytest.raises(NetworkFileError, match="not a regular file"):
        load_network(fifo)  # no writer: a blocking open would hang here
    big = tmp_path / "big.llnet"
    with open(big, "wb") as f:
        f.truncate(fileformat.MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(NetworkFileError, match="over the 64.0 MiB"):
        load_network(big)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 200_000])
def test_deep_nesting_is_refused_by_line_before_parsing(depth, tmp_path):
    path = tmp_path / "deep.llnet"
    text = '{"format": "layerlab.network", "version": 2,\n"title": "[[[{{{",\n"x": ' + "[" * depth + "]" * depth + "}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NetworkFileError, match=f"line 3: nested more than {MAX_DEPTH} levels deep"):
        load_network(path)
    deep = []
    for _ in range(depth):
        deep = [deep]
    with pytest.raises(NetworkFileError, match="nested more than"):
        network_from_json({"format": "layerlab.network", "version": 2, "nodes": [], "edges": [], "x": deep})


def test_brackets_in_text_do_not_count_as_nesting(tmp_path):
    data = chain(3)
    data["description"] = "[" * 500 + '\\"{' * 100
    path = tmp_path / "text.llnet"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_network(path).description == data["description"]


LENET = network_to_json(load_template("lenet_cifar10"))


def edited(change):
    data = json.loads(json.dumps(LENET))
    change(data)
    return data


ODD_VALUES = {
    "huge int param": (edited(lambda d: d["nodes"][1]["params"].update(out_channels=10 ** 4000)),
                       "['nodes'][1]['params']['out_channels']: the integer"),
    "huge int version": (edited(lambda d: d.update(version=2 ** 64)), "['version']: the integer 1844"),
    "inf position": (edited(lambda d: d["nodes"][1].update(position=[float("inf"), 0])),
                     "node 'conv1' (Conv2d): 'position' must be [x, y], got [inf, 0]"),
    "nan param": (edited(lambda d: d["nodes"][1]["params"].update(kernel_size=float("nan"))),
                  "node 'conv1' (Conv2d): 'kernel_size' must be an integer, got nan"),
    "inf setting": (edited(lambda d: d["training"].update(lr=float("inf"))), "training settings: 'lr' must be finite"),
    "non-text key": (edited(lambda d: d["nodes"][1]["params"].update({3: 1})), "the key 3 is not text"),
    "surrogate name": (edited(lambda d: d["nodes"][1].update(name="a\ud800")),
                       "['nodes'][1]['name']: the text 'a\\ud800' is not valid Unicode"),
    "huge name": (edited(lambda d: d["nodes"][1].update(name="a" * 10_000)),
                  "node 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... (Conv2d): a name has at most 200"),
    "huge text": (edited(lambda d: d.update(description="x" * 100_000)), "['description']: a text of 100,000"),
    "huge id": (edited(lambda d: d["nodes"][1].update(id="n" * 1000)), "node 2: an id has 1 to 200 characters"),
    "object value": (edited(lambda d: d.update(title=object())), "['title']: object is not a JSON value"),
    "params a list": (edited(lambda d: d["nodes"][1].update(params=[1, 2])),
                      "node 'conv1' (Conv2d): 'params' must be an object, got [1, 2]"),
    "param wrong type": (edited(lambda d: d["nodes"][1]["params"].update(padding={"a": 1})),
                         "node 'conv1' (Conv2d): 'padding' must be"),
    "too many nodes": (edited(lambda d: d.update(nodes=[{}] * (fileformat.MAX_NODES + 1))),
                       "100,001 nodes, over the 100,000 a network may have"),
}


@pytest.mark.parametrize("case", ODD_VALUES)
def test_odd_values_name_the_file_and_the_place(case):
    data, message = ODD_VALUES[case]
    with pytest.raises(NetworkFileError) as info:
        network_from_json(data, "odd.llnet")
    assert str(info.value).startswith("odd.llnet: ") and message in str(info.value), str(info.value)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("text", ['{"format": "layerlab.network", "version": 1' + "0" * 5000 + "}",
                                  '{"format": "layerlab.network", "version": 2, "nodes": [], "edges": [], '
                                  '"title": "\\udc00"}',
                                  '{"format": "layerlab.network", "version": 2, "nodes": [], "edges": [], '
                                  '"training": {"lr": 1e400}}'])
def test_odd_text_is_a_network_file_error(text, tmp_path):
    path = tmp_path / "odd.llnet"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NetworkFileError, match=f"^{path}: "):
        load_network(path)


def test_the_clipboard_is_as_safe_as_a_file():
    deep = []
    for _ in range(5_000):
        deep = [deep]
    for fragment in ({"nodes": deep, "edges": []}, {"nodes": [{"id": "a", "type": "ReLU", "name": 1e400}]},
                     {"nodes": [], "edges": [], 7: 1}, [1]):
        with pytest.raises(NetworkFileError, match="^clipboard: "):
            fragment_from_json(fragment)
    with pytest.raises(NetworkFileError, match="^clipboard: line 1: nested"):
        fragment_from_text("[" * 100_000)
    net = load_template("lenet_cifar10")
    before = network_to_json(net)
    with pytest.raises(NetworkFileError):
        paste_fragment(net, {"nodes": [{"id": "a", "type": "ReLU", "name": "a\udfff"}], "edges": []})
    assert network_to_json(net) == before


def test_pasting_a_big_fragment_is_linear_and_renames_clashes():
    data = chain(4_000)
    net = network_from_json(data)
    fragment = copy_fragment(net, list(net.nodes))
    start = time.perf_counter()
    added = paste_fragment(net, fragment)
    assert time.perf_counter() - start < 5
    assert len(added) == 4_000 and len(net.nodes) == 8_000 and len(net.edges) == 2 * 3_999
    assert [n.name for n in added[:3]] == ["input1", "relu3999", "relu4000"]
    assert len({n.name for n in net.nodes.values()}) == 8_000


def test_unknown_keys_warn_once_per_place_and_still_load(tmp_path):
    data = edited(lambda d: d.update(colour="red", size=3))
    for node in data["nodes"]:
        node["note"] = "hi"
    data["nodes"][0]["tag"] = 1
    data["edges"][2]["weight"] = 0.5
    path = tmp_path / "extra.llnet"
    path.write_text(json.dumps(data), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = load_network(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, FileWarning)]
    assert len(messages) == 3, messages
    assert all(m.startswith(f"{path}: unknown key") for m in messages)
    assert "'colour', 'size' in the document" in messages[0]
    assert "'note', 'tag' in nodes 'input', 'conv1', 'relu1', 'pool1', 'conv2' and" in messages[1]
    assert "'weight' in connections 3" in messages[2]
    assert network_to_json(net) == LENET


@pytest.mark.parametrize("key", [t.key for t in list_templates()])
def test_files_layerlab_writes_give_no_warning(key, tmp_path):
    path = tmp_path / "t.llnet"
    save_network(load_template(key), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_network(path)
        load_template(key)
        fragment_from_json(copy_fragment(load_template(key), ["n1", "n2"]))
    v1 = {"format": "layerlab.network", "version": 1, "title": "old", "settings": {"lr": 0.1},
          "nodes": [{"id": "n1", "type": "Input", "name": "x", "params": {}, "x": 0, "y": 0, "inputs": []},
                    {"id": "n2", "type": "ReLU", "name": "r", "params": {}, "x": 1, "y": 0, "inputs": ["n1"]}]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert network_from_json(v1).predecessors("n2") == ["n1"]
