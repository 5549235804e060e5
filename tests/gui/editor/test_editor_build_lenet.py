"""Building the seed tutorial's CIFAR-10 Net from an empty canvas with the editor's own gestures (palette
drops, connections, inspector edits, renames), saving it, reopening it, and checking the module it builds
against the LeNet template's."""

import itertools

import numpy as np

import engine
from engine.graph.templates import load_template

# (layer type, parameters set in the inspector, name wanted) in the tutorial's order
LENET = [
    ("Input", {}, "input"),
    ("Conv2d", {"out_channels": 6, "kernel_size": (5, 5)}, "conv1"),
    ("ReLU", {}, "relu1"),
    ("MaxPool2d", {}, "pool1"),
    ("Conv2d", {"out_channels": 16, "kernel_size": (5, 5)}, "conv2"),
    ("ReLU", {}, "relu2"),
    ("MaxPool2d", {}, "pool2"),
    ("Flatten", {}, "flatten"),
    ("Linear", {"out_features": 120}, "fc1"),
    ("ReLU", {}, "relu3"),
    ("Linear", {"out_features": 84}, "fc2"),
    ("ReLU", {}, "relu4"),
    ("Linear", {"out_features": 10}, "fc3"),
    ("Output", {}, "output"),
]


def test_build_lenet_from_empty_canvas_save_and_reopen(editor, tmp_path):
    assert editor.document.nodes == {}
    ids = []
    for k, (type_name, params, name) in enumerate(LENET):
        node_id = editor.drop_layer(type_name, (k * 240.0, (k % 2) * 60.0))
        assert node_id is not None, f"dropping {type_name} from the palette added nothing"
        for param, value in params.items():
            editor.set_param(node_id, param, value)
        if editor.document.nodes[node_id].name != name:
            editor.rename(node_id, name)
        ids.append(node_id)
    # the first connection by dragging from port to port, the rest through the Connect gesture's action
    first, second = editor.scene.node_items[ids[0]], editor.scene.node_items[ids[1]]
    editor.drag(first.output_port.scenePos(), second.input_ports[0].scenePos())
    assert editor.document.predecessors(ids[1]) == [ids[0]]
    for src, dst in itertools.pairwise(ids[1:]):
        assert editor.controller.connect(src, dst) is None
    inference = editor.document.infer()
    assert inference.ok, inference.problems
    assert inference.total_params == 62_006
    assert [n.name for n in editor.document.nodes.values()] == [name for *_, name in LENET]
    assert editor.window.isWindowModified()

    path = tmp_path / "lenet.llnet"
    assert editor.save_file(str(path))
    assert not editor.window.isWindowModified()
    assert "lenet.llnet" in editor.window.windowTitle()

    editor.new_blank()
    assert editor.document.nodes == {}
    assert editor.open_file(str(path))
    reopened = editor.document
    model, reference = reopened.build(), load_template("lenet_cifar10").build()
    count = sum(p.numel() for p in model.parameters())
    assert count == sum(p.numel() for p in reference.parameters()) == 62_006
    model.load_state_dict(reference.state_dict())  # same names, same shapes
    x = engine.randn(4, 3, 32, 32)
    out = model(x)
    assert tuple(out.shape) == (4, 10)
    np.testing.assert_allclose(out.detach().numpy(), reference(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    # the editor shows what the template shows
    assert editor.scene.node_items[ids[-2]].face.shape == "10"
    assert editor.summary.table.rowCount() == 14
    assert "62,006 parameters" in editor.params_label.text()
