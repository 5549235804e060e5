"""A group saved as a user block: the store writes one checked JSON file a block, lists the valid ones and
reports the rest without crashing, keeps every name inside its folder; the palette lists the blocks under
"My blocks", filters them, activates them and drags them by name."""

import io
import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.graph import Network, NetworkFileError, copy_fragment, paste_fragment
from gui.editor.palette import MY_BLOCKS, Palette
from gui.editor.user_blocks import BLOCK_MIME, MAX_BLOCK_BYTES, UserBlocks


def grouped_network():
    net = Network()
    inp = net.add_node("Input", position=(0, 0))
    conv = net.add_node("Conv2d", {"out_channels": 8}, position=(100, 0))
    relu = net.add_node("ReLU", position=(200, 0))
    out = net.add_node("Output", position=(300, 0))
    for a, b in ((inp, conv), (conv, relu), (relu, out)):
        net.connect(a.id, b.id)
    group = net.add_group([conv.id, relu.id], name="block")
    return net, group


@pytest.fixture
def store(tmp_path):
    return UserBlocks(tmp_path / "blocks")


@pytest.fixture
def saved(store):
    net, group = grouped_network()
    store.save("stem", copy_fragment(net, group.members), "a convolution and its activation")
    return store


def test_a_saved_group_comes_back_as_the_same_fragment(store):
    net, group = grouped_network()
    fragment = copy_fragment(net, group.members)
    path = store.save("stem", fragment, "a convolution and its activation")
    assert os.path.dirname(path) == store.folder
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    assert data == {"format": "layerlab.block", "version": 1, "name": "stem",
                    "description": "a convolution and its activation", "fragment": fragment}
    (block,) = store.blocks()
    assert (block.name, block.description, block.path, block.layers, block.params) == (
        "stem", "a convolution and its activation", path, 2, None)  # no Input in the block: no shapes
    assert store.problems == []
    assert store.fragment("stem") == fragment
    target, _ = grouped_network()  # added to a network that has the same names: fresh ids and names
    added = paste_fragment(target, store.fragment("stem"))
    assert [n.type for n in added] == ["Conv2d", "ReLU"] and added[0].params["out_channels"] == 8
    (pasted,) = [g for g in target.groups.values() if g.members == [n.id for n in added]]
    assert pasted.name != "block" and len(target.groups) == 2


def test_a_block_with_its_input_counts_its_parameters(store):
    net, _ = grouped_network()
    store.save("with input", copy_fragment(net, [i for i in net.nodes if net.nodes[i].type != "Output"]))
    (block,) = store.blocks()
    assert block.layers == 3 and block.params == 8 * 3 * 3 * 3 + 8


def test_saving_a_name_again_replaces_the_block_and_remove_deletes_it(saved):
    net, _ = grouped_network()
    (first,) = saved.blocks()
    saved.save("stem", copy_fragment(net, list(net.nodes)[1:2]), "just the convolution")
    (block,) = saved.blocks()
    assert block.path == first.path and block.description == "just the convolution" and block.layers == 1
    assert [n["type"] for n in saved.fragment("stem")["nodes"]] == ["Conv2d"]
    assert saved.remove("stem") is True
    assert saved.blocks() == [] and os.listdir(saved.folder) == []
    assert saved.remove("stem") is False
    with pytest.raises(NetworkFileError):
        saved.fragment("stem")


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 201, None])
def test_a_bad_name_is_refused_before_anything_is_written(store, name):
    net, group = grouped_network()
    with pytest.raises(ValueError, match="name"):
        store.save(name, copy_fragment(net, group.members))
    assert not os.path.exists(store.folder)


def test_an_invalid_fragment_is_not_saved(store):
    with pytest.raises(NetworkFileError):
        store.save("bad", {"nodes": [{"id": "n1", "type": "NoSuchLayer", "name": "x"}], "edges": []})
    with pytest.raises(NetworkFileError, match="at least one layer"):
        store.save("empty", {"nodes": [], "edges": []})
    assert not os.path.exists(store.folder) or os.listdir(store.folder) == []


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "/etc/passwd", "..\\..\\win", "~/home"])
def test_no_name_reaches_outside_the_folder(store, tmp_path, name):
    net, group = grouped_network()
    path = store.save(name, copy_fragment(net, group.members))
    assert os.path.dirname(path) == store.folder and os.path.exists(path)
    assert sorted(os.listdir(tmp_path)) == ["blocks"]
    assert [b.name for b in store.blocks()] == [name]
    assert store.fragment(name)["nodes"][0]["type"] == "Conv2d"
    store.remove(name)
    assert os.listdir(store.folder) == []


def test_similar_names_get_different_files(store):
    net, group = grouped_network()
    fragment = copy_fragment(net, group.members)
    paths = {store.save(name, fragment) for name in ("a/b", "a_b", "a b", "A_B")}
    assert len(paths) == 4
    assert [b.name for b in store.blocks()] == ["a b", "a/b", "A_B", "a_b"]  # by name, case aside


def test_files_that_are_not_blocks_are_reported_and_skipped(saved):
    folder = saved.folder
    bad = {
        "corrupt.json": '{"format": "layerlab.block", "version": 1, "name": "x", "fragm',
        "network.json": json.dumps({"format": "layerlab.network", "version": 3, "nodes": [], "edges": []}),
        "code.json": "__import__('os').system('touch pwned')",
        "newer.json": json.dumps({"format": "layerlab.block", "version": 2, "name": "n", "fragment": {}}),
        "bad_layer.json": json.dumps({"format": "layerlab.block", "version": 1, "name": "bad",
                                      "fragment": {"nodes": [{"id": "n1", "type": "Nope", "name": "x"}]}}),
        "list.json": "[1, 2, 3]",
        "latin1.json": b"\xff\xfe\x00".decode("latin-1"),
    }
    for file, text in bad.items():
        with open(os.path.join(folder, file), "w", encoding="latin-1" if file == "latin1.json" else "utf-8") as fh:
            fh.write(text)
    os.mkdir(os.path.join(folder, "folder.json"))
    with open(os.path.join(folder, "notes.txt"), "w") as fh:  # not a block file at all: not looked at
        fh.write("hello")
    assert [b.name for b in saved.blocks()] == ["stem"]
    problems = dict(saved.problems)
    assert set(problems) == {os.path.join(folder, f) for f in [*bad, "folder.json"]}
    assert "not a LayerLab block" in problems[os.path.join(folder, "network.json")]
    assert "newer" in problems[os.path.join(folder, "newer.json")]
    assert "Nope" in problems[os.path.join(folder, "bad_layer.json")]
    assert not os.path.exists("pwned") and not os.path.exists(os.path.join(folder, "pwned"))


def test_a_second_file_with_the_same_name_is_reported(saved):
    (block,) = saved.blocks()
    copy = os.path.join(saved.folder, "copy.json")
    with open(block.path, encoding="utf-8") as src, open(copy, "w", encoding="utf-8") as dst:
        dst.write(src.read())
    assert [b.path for b in saved.blocks()] == [block.path]
    assert [p for p, _ in saved.problems] == [copy]


def test_a_block_copied_in_under_another_file_name_is_found(store, tmp_path):
    net, group = grouped_network()
    path = store.save("stem", copy_fragment(net, group.members))
    moved = os.path.join(store.folder, "from a friend.json")
    os.rename(path, moved)
    assert [b.path for b in store.blocks()] == [moved]
    assert store.fragment("stem")["nodes"][1]["type"] == "ReLU"
    assert store.remove("stem") and os.listdir(store.folder) == []


def test_a_huge_file_is_refused_without_reading_it(saved, monkeypatch):
    huge = os.path.join(saved.folder, "huge.json")
    with open(huge, "wb") as fh:
        fh.write(b'{"format": "layerlab.block", "version": 1, "name": "huge", "fragment": {"nodes": [')
        fh.truncate(70_000_000)  # sparse: 70 MB that cost no disk
    assert os.path.getsize(huge) > MAX_BLOCK_BYTES
    read = []
    real_fdopen = os.fdopen

    class Counting(io.RawIOBase):
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            data = self.fh.read(n)
            read.append(len(data))
            return data

        def fileno(self):
            return self.fh.fileno()

        def close(self):
            self.fh.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **kw: Counting(real_fdopen(fd, *a, **kw)))
    assert [b.name for b in saved.blocks()] == ["stem"]
    assert sum(read) < 1_000_000  # the small block only
    assert "the file is 66.8 MiB, over the 16.0 MiB" in dict(saved.problems)[huge]


def test_a_block_spoilt_after_it_was_listed_is_refused_naming_its_file(saved):
    (block,) = saved.blocks()
    data = json.loads(Path(block.path).read_text(encoding="utf-8"))
    data["fragment"]["edges"] = [{"from": "n2", "to": "nowhere"}]
    with open(block.path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    with pytest.raises(NetworkFileError, match="dangling") as refused:
        saved.fragment("stem")
    assert refused.value.path == block.path


def test_a_missing_folder_lists_nothing_and_a_file_in_its_place_is_a_problem(tmp_path):
    store = UserBlocks(tmp_path / "none")
    assert store.blocks() == [] and store.problems == []
    (tmp_path / "file").write_text("not a folder")
    store = UserBlocks(tmp_path / "file")
    assert store.blocks() == [] and [p for p, _ in store.problems] == [str(tmp_path / "file")]


# ----- the palette -----
@pytest.fixture
def palette(qtbot, saved):
    palette = Palette(blocks=saved)
    qtbot.addWidget(palette)
    return palette


def test_the_palette_lists_the_blocks_first(palette):
    group = palette.tree.topLevelItem(0)
    assert group.text(0) == MY_BLOCKS and not group.isHidden()
    assert [group.child(k).text(0) for k in range(group.childCount())] == ["stem"]
    tooltip = palette.block_items["stem"].toolTip(0)
    assert "a convolution and its activation" in tooltip and "2 layers" in tooltip


def test_my_blocks_is_hidden_while_there_are_none(qtbot, store):
    palette = Palette(blocks=store)
    qtbot.addWidget(palette)
    assert palette.tree.topLevelItem(0).isHidden() and palette.visible_blocks() == []
    net, group = grouped_network()
    store.save("stem", copy_fragment(net, group.members))
    palette.reload_blocks()
    assert not palette.tree.topLevelItem(0).isHidden() and palette.visible_blocks() == ["stem"]


def test_the_search_filters_blocks_like_layers(palette):
    palette.search.setText("stm")
    assert palette.visible_blocks() == ["stem"] and "Conv2d" not in palette.visible_types()
    palette.search.setText("conv")
    assert palette.visible_blocks() == [] and palette.tree.topLevelItem(0).isHidden()
    assert "Conv2d" in palette.visible_types()
    palette.search.setText("")
    assert palette.visible_blocks() == ["stem"]


def test_activating_a_block_emits_its_name(qtbot, palette):
    item = palette.block_items["stem"]
    with qtbot.waitSignal(palette.blockActivated) as signal:
        palette.tree.itemActivated.emit(item, 0)
    assert signal.args == ["stem"]
    layers = []
    palette.layerActivated.connect(layers.append)
    palette.search.setText("stem")
    with qtbot.waitSignal(palette.blockActivated) as signal:
        palette.search.returnPressed.emit()  # Enter in the search box: the best match is the block
    assert signal.args == ["stem"] and layers == []
    palette.search.setText("conv")
    palette.search.returnPressed.emit()
    assert layers == ["Conv2d"]


def test_a_block_drags_its_name(palette):
    mime = palette.tree.mimeData([palette.block_items["stem"]])
    assert mime.hasFormat(BLOCK_MIME) and bytes(mime.data(BLOCK_MIME)).decode() == "stem"
    assert BLOCK_MIME in palette.tree.mimeTypes()
    layer = palette.tree.mimeData([palette.items["ReLU"]])
    assert not layer.hasFormat(BLOCK_MIME)
    assert palette.block_items["stem"].flags() & Qt.ItemIsDragEnabled


def test_delete_block_in_the_context_menu(qtbot, palette, saved):
    assert palette.block_menu(palette.items["ReLU"]) is None
    menu = palette.block_menu(palette.block_items["stem"])
    (action,) = menu.actions()
    assert action.text() == "Delete block"
    with qtbot.waitSignal(palette.blockRemoveRequested) as signal:
        action.trigger()
    assert signal.args == ["stem"]
    palette.remove_block("stem")
    assert palette.block_items == {} and saved.blocks() == [] and palette.tree.topLevelItem(0).isHidden()
