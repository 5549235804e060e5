"""The ``.llnet`` file: round trips, the upgrade from version 1, and a clear error (file, node, problem) for
every kind of broken file, never a half-loaded network."""

import json
import os
import re

import pytest

from engine.graph import (
    EXTENSIONS,
    NetworkError,
    NetworkFileError,
    load_network,
    network_from_json,
    network_to_json,
    save_network,
)
from engine.graph.fileformat import VERSION, dumps
from engine.graph.templates import load_template


def assert_same(a, b):
    assert a == b  # title, description, nodes (with params and positions), edges in order, settings
    assert list(a.nodes) == list(b.nodes)
    assert network_to_json(a) == network_to_json(b)


def test_template_round_trips_through_dict_and_file(template, tmp_path):
    assert_same(network_from_json(network_to_json(template)), template)
    path = tmp_path / "net.llnet"
    save_network(template, path)
    loaded = load_network(path)
    assert_same(loaded, template)
    assert loaded.revision == 0 and loaded.infer().ok
    assert json.loads(path.read_text(encoding="utf-8")) == network_to_json(template)


@pytest.mark.parametrize("seed", range(12))
def test_random_network_round_trips(seed, random_network, tmp_path):
    net = random_network(seed)
    net.move_many({i: (k * 17.37, -k * 3.14159) for k, i in enumerate(net.nodes)})
    net.set_settings({"milestones": [3, 7], "lr": 0.0123, "data_dir": "dïr/ü", "optimizer": "AdamW"})
    net.title, net.description = f"random {seed} ✓", "line one\nline two [a,   b] {x}"
    assert_same(network_from_json(network_to_json(net)), net)
    save_network(net, tmp_path / "random.llnet")
    loaded = load_network(tmp_path / "random.llnet")
    assert_same(loaded, net)
    assert loaded.description == "line one\nline two [a,   b] {x}"
    assert loaded.infer().total_params == net.infer().total_params


def test_the_file_is_readable_json():
    text = dumps(network_to_json(load_template("lenet_cifar10")))
    assert '"shape": [3, 32, 32]' in text
    assert '{"from": "n1", "to": "n2", "port": 0}' in text  # one connection per line
    assert text.endswith("}\n") and max(len(line) for line in text.splitlines() if '"description"' not in line) <= 100
    assert json.loads(text)["version"] == VERSION


def test_save_is_atomic_and_reports_unwritable_paths(tmp_path):
    net = load_template("lenet_cifar10")
    path = tmp_path / "a.llnet"
    path.write_text("old", encoding="utf-8")
    save_network(net, path)
    assert os.listdir(tmp_path) == ["a.llnet"]  # no temporary file left behind
    save_network(net, tmp_path / "new" / "b.llnet")  # the folder is made
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(NetworkFileError, match="cannot write the file") as info:
        save_network(net, tmp_path / "file" / "c.llnet")
    assert info.value.source == str(tmp_path / "file" / "c.llnet")
    assert ".llnet" in EXTENSIONS


def test_version_1_files_are_upgraded(tmp_path):
    v1 = {
        "format": "layerlab.network", "version": 1, "title": "old net",
        "nodes": [
            {"id": "n1", "type": "Input", "name": "input", "params": {"shape": [1, 28, 28], "dataset": "MNIST"},
             "x": 0, "y": 0, "inputs": []},
            {"id": "n2", "type": "Flatten", "name": "flatten", "params": {}, "x": 240, "y": 10.5, "inputs": ["n1"]},
            {"id": "n3", "type": "Linear", "name": "fc", "params": {"out_features": 10}, "x": 480, "y": 0,
             "inputs": ["n2"]},
            {"id": "n4", "type": "Identity", "name": "skip", "params": {}, "x": 480, "y": 100, "inputs": ["n3"]},
            {"id": "n5", "type": "Add", "name": "add", "params": {}, "x": 720, "y": 0, "inputs": ["n3", "n4"]},
            {"id": "n6", "type": "Output", "name": "output", "params": {}, "x": 960, "y": 0, "inputs": ["n5"]},
        ],
        "settings": {"optimizer": "Adam", "lr": 0.002, "batch_size": 32},
    }
    path = tmp_path / "old.llnet"
    path.write_text(json.dumps(v1), encoding="utf-8")
    net = load_network(path)
    assert net.title == "old net" and net.node("n2").position == (240.0, 10.5)
    assert [(e.src, e.dst, e.port) for e in net.edges] == [("n1", "n2", 0), ("n2", "n3", 0), ("n3", "n4", 0),
                                                           ("n3", "n5", 0), ("n4", "n5", 1), ("n5", "n6", 0)]
    assert (net.settings["optimizer"], net.settings["lr"], net.settings["batch_size"]) == ("Adam", 0.002, 32)
    assert net.infer().ok and net.infer().total_params == 7850
    save_network(net, path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["version"] == VERSION and "settings" not in saved and "inputs" not in saved["nodes"][0]
    assert_same(load_network(path), net)
    v1["nodes"][2]["inputs"] = "n2"
    with pytest.raises(NetworkFileError, match="node 'fc': 'inputs' must be a list"):
        network_from_json(v1, "old.llnet")


def test_a_minimal_hand_written_file_takes_defaults_and_fills_inputs_in_order():
    data = {"format": "layerlab.network", "version": 2,
            "nodes": [{"id": "i", "type": "Input", "name": "x"}, {"id": "a", "type": "Tanh", "name": "a"},
                      {"id": "c", "type": "Concat", "name": "c"}, {"id": "f", "type": "Flatten", "name": "f"},
                      {"id": "o", "type": "Output", "name": "y", "params": {"loss": "MSELoss"}}],
            "edges": [{"from": "i", "to": "a"}, {"from": "a", "to": "c"}, {"from": "i", "to": "c"},
                      {"from": "c", "to": "f"}, {"from": "f", "to": "o"}]}
    net = network_from_json(data, "hand.llnet")
    assert net.title == "Untitled" and net.settings["lr"] == 0.01
    assert net.node("c").params == {"dim": 0} and net.node("a").position == (0.0, 0.0)
    assert net.predecessors("c") == ["a", "i"]
    assert net.infer().ok and net.infer().nodes["c"].shape == (6, 32, 32)


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.llnet"
    path.write_bytes(b"\xef\xbb\xbf" + dumps(network_to_json(load_template("lenet_cifar10"))).encode("utf-8"))
    assert load_network(path).infer().total_params == 62006


def good():
    return network_to_json(load_template("lenet_cifar10"))


def with_node(change, index=1):
    data = good()
    change(data["nodes"][index])
    return data


def set_param(name, value, index=1):
    return with_node(lambda node: node["params"].__setitem__(name, value), index)


def drop(key, index=1):
    return with_node(lambda node: node.pop(key), index)


def edit(change):
    data = good()
    change(data)
    return data


# (document, what the message must say after "<file>: ")
BROKEN = {
    "not an object": ([1, 2], "not a LayerLab network: the top level is a JSON list"),
    "wrong format": (edit(lambda d: d.update(format="keras")), "format is 'keras', expected 'layerlab.network'"),
    "no format": (edit(lambda d: d.pop("format")), "format is None"),
    "newer version": (edit(lambda d: d.update(version=VERSION + 1)),
                      f"the file is version {VERSION + 1}, newer than this LayerLab understands ({VERSION})"),
    "bad version": (edit(lambda d: d.update(version="2")), "'version' must be a positive integer, got '2'"),
    "unknown type": (with_node(lambda n: n.update(type="Conv3d")), "node 'conv1' (Conv3d): unknown layer type"),
    "missing id": (drop("id"), "node 2 has no 'id' field"),
    "missing type": (drop("type"), "node 'n2' has no 'type' field"),
    "missing name": (drop("name"), "node 'n2' has no 'name' field"),
    "missing nodes": (edit(lambda d: d.pop("nodes")), "the document has no 'nodes' field"),
    "missing edges": (edit(lambda d: d.pop("edges")), "the document has no 'edges' field"),
    "nodes not a list": (edit(lambda d: d.update(nodes={})), "the document: 'nodes' must be list"),
    "node not an object": (edit(lambda d: d["nodes"].__setitem__(2, "relu")), "node 3 must be a JSON object"),
    "id not text": (with_node(lambda n: n.update(id=2)), "node 2: 'id' must be str, got 2"),
    "kernel as text": (set_param("kernel_size", "five"),
                       "node 'conv1' (Conv2d): 'kernel_size' must be an integer, got 'five'"),
    "bool for int": (set_param("out_channels", True), "node 'conv1' (Conv2d): 'out_channels' must be an integer"),
    "out of range": (set_param("out_channels", 0),
                     "node 'conv1' (Conv2d): 'out_channels' must be between 1 and 65536, got 0"),
    "bad padding": (set_param("padding", "full"), "node 'conv1' (Conv2d): 'padding' must be an integer, a pair"),
    "unknown param": (set_param("colour", "red"), "node 'conv1' (Conv2d): unknown parameter 'colour'"),
    "params not object": (with_node(lambda n: n.update(params=[1])), "node 'conv1' (Conv2d): 'params' must be an"),
    "bad position": (with_node(lambda n: n.update(position=[1])), "node 'conv1' (Conv2d): 'position' must be [x, y]"),
    "nan position": (with_node(lambda n: n.update(position=[float("nan"), 0])), "'position' must be [x, y]"),
    "duplicate id": (with_node(lambda n: n.update(id="n1")), "node 'conv1' (Conv2d): the id 'n1' is used twice"),
    "duplicate name": (with_node(lambda n: n.update(name="input")),
                       "node 'input' (Conv2d): the name 'input' is used twice"),
    "reserved name": (with_node(lambda n: n.update(name="forward")),
                      "node 'forward' (Conv2d): 'forward' is reserved"),
    "invalid name": (with_node(lambda n: n.update(name="conv 1")), "node 'conv 1' (Conv2d): 'conv 1' is not a valid"),
    "cycle": (edit(lambda d: d["edges"].append({"from": "n3", "to": "n2", "port": 1})),
              "connection 14 (relu1 → conv1): connecting ReLU 'relu1' to Conv2d 'conv1' would make a cycle"),
    "dangling edge": (edit(lambda d: d["edges"].append({"from": "n3", "to": "n99"})),
                      "connection 14 (n3 → n99): dangling connection, there is no node 'n99'"),
    "edge without from": (edit(lambda d: d["edges"].append({"to": "n2"})), "connection 14 has no 'from' field"),
    "bad port": (edit(lambda d: d["edges"][0].update(port="0")), "connection 1 (n1 → n2): 'port' must be int, got '0'"),
    "negative port": (edit(lambda d: d["edges"][0].update(port=-1)),
                      "connection 1 (input → conv1): input -1 of Conv2d 'conv1' is not an input number"),
    "second input": (edit(lambda d: d["edges"].append({"from": "n1", "to": "n3", "port": 1})),
                     "connection 14 (input → relu1): ReLU 'relu1' takes a single input and already has one"),
    "second input, no port": (edit(lambda d: d["edges"].append({"from": "n1", "to": "n3"})),
                              "ReLU 'relu1' takes a single input"),
    "input into Input": (edit(lambda d: d["edges"].append({"from": "n2", "to": "n1"})),
                         "connection 14 (conv1 → input): Input 'input' takes no inputs"),
    "from the Output": (edit(lambda d: d["edges"].append({"from": "n14", "to": "n1"})),
                        "Output 'output' has no output to connect from"),
    "output of a one-output layer": (edit(lambda d: d["edges"][0].update(output=1)),
                                     "connection 1 (input:1 → conv1): Input 'input' has no output 1: it has one "
                                     "output (0)"),
    "output not a number": (edit(lambda d: d["edges"][0].update(output="1")),
                            "connection 1 (n1 → n2): 'output' must be int, got '1'"),
    "duplicate edge": (edit(lambda d: d["edges"].append({"from": "n1", "to": "n2"})),
                       "Input 'input' already feeds Conv2d 'conv1'"),
    "bad setting": (edit(lambda d: d["training"].update(lr=-1)), "training settings: 'lr' must be between"),
    "unknown setting": (edit(lambda d: d["training"].update(learning_rate=1)),
                        "training settings: unknown parameter 'learning_rate'"),
    "settings not object": (edit(lambda d: d.update(training=[1])), "'training' must be a JSON object of settings"),
    "title not text": (edit(lambda d: d.update(title=3)), "'title' and 'description' must be text"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_documents_name_the_file_and_the_problem(case, tmp_path):
    data, message = BROKEN[case]
    path = tmp_path / "broken.llnet"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NetworkFileError) as info:
        load_network(path)
    error = info.value
    assert str(error).startswith(f"{path}: ") and message in str(error), str(error)
    assert error.source == str(path) and message in error.problem
    assert isinstance(error, NetworkError)
    with pytest.raises(NetworkFileError, match="^my.llnet: "):
        network_from_json(data, "my.llnet")


@pytest.mark.parametrize("content, message", [
    (b'{"format": "layerlab.network",\n  "version": 2,\n  "nodes": [,]}', "bad JSON at line 3, column 13"),
    (b"", "bad JSON at line 1, column 1"),
    (b'{"format": "layerlab.network", "version": 2, "title": "caf\xe9"}', "the file is not UTF-8 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "the file is not UTF-8 text"),
])
def test_unreadable_contents(content, message, tmp_path):
    path = tmp_path / "bad.llnet"
    path.write_bytes(content)
    with pytest.raises(NetworkFileError, match=f"^{re.escape(str(path))}: .*{message}"):
        load_network(path)


def test_unreadable_paths(tmp_path):
    missing = re.escape(str(tmp_path / "missing.llnet"))
    with pytest.raises(NetworkFileError, match=f"^{missing}: cannot read the file: No such file"):
        load_network(tmp_path / "missing.llnet")
    with pytest.raises(NetworkFileError, match=f"^{re.escape(str(tmp_path))}: cannot read it: it is a folder"):
        load_network(tmp_path)


def test_a_refused_document_leaves_nothing_half_loaded(tmp_path):
    """Loading into an open editor goes load → assign, so a broken file must leave the open document as it was."""
    net = load_template("resnet_cifar10")
    before = network_to_json(net)
    data = good()
    data["edges"].append({"from": "n3", "to": "n2"})
    with pytest.raises(NetworkFileError):
        net.assign(network_from_json(data))
    assert network_to_json(net) == before
