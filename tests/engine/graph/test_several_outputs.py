"""Layers with several outputs (Split, Chunk): connections that name an output, their refusals, shape
inference per output, parameter changes that would strand a connection, the file and the clipboard."""

import json

import numpy as np
import pytest
import torch

import engine
from engine.graph import ConnectionRefused, Edge, Network, NetworkError, copy_fragment, load_network, paste_fragment
from engine.graph.fileformat import network_to_json
from engine.ops.shape import chunk_sizes

from .export_cases import LAYER_CASES, random_weights


def split_net(sizes=(2, 4), shape=(6, 4, 5)):
    net = Network("cut")
    source = net.add_node("Input", {"shape": shape, "dataset": "Image folder"})
    split = net.add_node("Split", {"sizes": sizes})
    net.connect(source.id, split.id)
    return net, source, split


def test_each_output_has_its_shape_and_feeds_what_it_is_connected_to():
    net, _, split = split_net()
    conv = net.add_node("Conv2d", {"out_channels": 3, "kernel_size": 1})
    net.connect(split.id, conv.id, out_port=1)
    info = net.infer()
    assert info.nodes[split.id].outputs == ((2, 4, 5), (4, 4, 5))
    assert info.nodes[split.id].shape == (2, 4, 5)
    assert info.nodes[conv.id].in_shapes == ((4, 4, 5),)
    assert info.nodes[conv.id].macs == 3 * 4 * 4 * 5


def test_both_outputs_of_one_node_may_feed_one_merge_but_not_the_same_output_twice():
    net, _, split = split_net(sizes=(3, 3))
    add = net.add_node("Add")
    net.connect(split.id, add.id, out_port=1)
    net.connect(split.id, add.id, out_port=0)
    assert [(e.port, e.out_port) for e in net.input_edges(add.id)] == [(0, 1), (1, 0)]
    with pytest.raises(ConnectionRefused, match="output 1 of Split 'split1' already feeds Add 'add1'"):
        net.connect(split.id, add.id, out_port=1)


@pytest.mark.parametrize("out_port, message", [
    (2, "Split 'split1' has no output 2: it has 2 outputs, numbered 0 to 1"),
    (-1, "Split 'split1' has no output -1"),
    (True, "Split 'split1' has no output True"),
    ("1", "Split 'split1' has no output '1'"),
])
def test_an_output_the_node_lacks_is_refused(out_port, message):
    net, _, split = split_net()
    relu = net.add_node("ReLU")
    assert net.can_connect(split.id, relu.id, out_port=out_port).startswith(message)
    with pytest.raises(ConnectionRefused, match=message):
        net.connect(split.id, relu.id, out_port=out_port)
    assert len(net.edges) == 1


def test_a_one_output_layer_has_only_output_0():
    net, source, _split = split_net()
    relu = net.add_node("ReLU")
    with pytest.raises(ConnectionRefused, match=r"Input 'input1' has no output 1: it has one output \(0\)"):
        net.connect(source.id, relu.id, out_port=1)


def test_parameters_that_would_strand_a_connection_are_refused():
    net, _, split = split_net(sizes=(1, 2, 3))
    relu = net.add_node("ReLU")
    net.connect(split.id, relu.id, out_port=2)
    with pytest.raises(NetworkError, match=r"Split 'split1': the new parameters give it 2 outputs, but "
                                           r"split1:2 → relu1 uses output 2; disconnect it first"):
        net.set_params(split.id, {"sizes": (3, 3)})
    assert net.nodes[split.id].params["sizes"] == (1, 2, 3)
    net.set_params(split.id, {"sizes": (1, 1, 1, 3)})  # more outputs strand nothing
    net.disconnect(net.output_edges(split.id)[0])
    net.set_params(split.id, {"sizes": (6,)})
    assert net.infer().nodes[split.id].outputs == ((6, 4, 5),)


@pytest.mark.parametrize("params, message", [
    ({"sizes": (2, 3)}, "Split: the sizes 2, 3 add up to 5, but dim 0 of 6×4×5 has 6"),
    ({"sizes": (2, 4), "dim": 3}, "Split: dim 3 is not a dimension of 6×4×5 (0 is the channels)"),
])
def test_split_sizes_must_cover_the_dimension(params, message):
    net, _, split = split_net()
    net.set_params(split.id, params)
    info = net.infer().nodes[split.id]
    assert info.error == message and info.outputs == ()


def test_a_split_has_one_to_sixteen_pieces():
    net, _, split = split_net()
    with pytest.raises(NetworkError, match="'sizes' must have 1 to 16 items, got 17"):
        net.set_params(split.id, {"sizes": (1,) * 17})
    with pytest.raises(NetworkError, match="'sizes' must have 1 to 16 items, got 0"):
        net.set_params(split.id, {"sizes": ()})


@pytest.mark.parametrize("length, chunks", [(6, 4), (2, 3), (10, 4), (7, 2), (16, 16), (5, 1)])
def test_chunk_follows_torch_chunk_and_refuses_fewer_pieces(length, chunks):
    expected = [len(piece) for piece in torch.arange(length).chunk(chunks)]
    assert chunk_sizes(length, chunks) == expected
    net = Network()
    source = net.add_node("Input", {"shape": (3, length), "dataset": "Image folder"})
    node = net.add_node("Chunk", {"chunks": chunks, "dim": 1})
    net.connect(source.id, node.id)
    info = net.infer().nodes[node.id]
    if len(expected) == chunks:
        assert info.outputs == tuple((3, n) for n in expected)
    else:
        assert info.error == (f"Chunk: dim 1 of 3×{length} has {length}, which torch.chunk cuts into "
                              f"{len(expected)} pieces ({', '.join(map(str, expected))}), not {chunks}; use Split "
                              "for pieces of your own sizes")


def test_a_blocked_piece_blocks_only_its_consumers():
    net, _, split = split_net(sizes=(2, 3))  # 5 of 6 channels: an error on the split
    relu = net.add_node("ReLU")
    net.connect(split.id, relu.id, out_port=1)
    info = net.infer()
    assert info.nodes[split.id].error and info.nodes[relu.id].blocked and info.nodes[relu.id].error is None


def test_the_built_module_matches_pytorch_on_every_output():
    net = LAYER_CASES["splits"]()
    model = net.build().eval()
    state = random_weights(net)
    model.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((3, 6, 4, 5)).astype(np.float32)
    weights = {k: torch.tensor(v.numpy()) for k, v in state.items()}
    t = torch.tensor(x)
    a, b = torch.split(t, [2, 4], 1)
    joined = torch.cat([torch.nn.functional.conv2d(b, weights["conv1.weight"], weights["conv1.bias"]), a], 1)
    first, second = torch.chunk(joined, 2, 2)
    expected = torch.split(first * torch.sigmoid(second) + first, [3, 2], 3)[1]
    with engine.no_grad():
        got = model(engine.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_the_output_is_saved_only_when_not_0_and_read_back(tmp_path):
    net = LAYER_CASES["splits"]()
    edges = network_to_json(net)["edges"]
    assert {"from": "n2", "output": 1, "to": "n3", "port": 0} in edges
    assert {"from": "n2", "to": "n4", "port": 1} in edges
    path = tmp_path / "splits.llnet"
    path.write_text(json.dumps(network_to_json(net)), encoding="utf-8")
    again = load_network(path)
    assert again.edges == net.edges and again.edges[1] == Edge("n2", "n3", 0, 1)


def test_copy_and_paste_keep_the_output_each_connection_takes():
    net = LAYER_CASES["splits"]()
    fragment = copy_fragment(net, list(net.nodes))
    target = Network()
    pasted = paste_fragment(target, fragment)
    ids = {old: new.id for old, new in zip(net.nodes, pasted)}
    assert sorted((ids[e.src], ids[e.dst], e.port, e.out_port) for e in net.edges) == sorted(
        (e.src, e.dst, e.port, e.out_port) for e in target.edges)


def test_undoing_a_removal_restores_the_outputs_of_its_connections():
    net = LAYER_CASES["splits"]()
    before = list(net.edges)
    split = net.node_by_name("split1")
    node, edges = net.remove_node(split.id)
    net.restore_node(node, edges)
    assert net.edges == before
