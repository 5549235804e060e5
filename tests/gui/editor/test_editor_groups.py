"""Groups in the editor: Ctrl+G folds the selected layers into one box with the group's ports, shapes and
parameter sum; a double-click opens it in place and folds it back; the inspector sets its name and repeat
count; moving, deleting, copying and ungrouping work on the box; every gesture is one undo step."""

from PySide6.QtCore import QPointF, Qt

from gui.editor.group_items import FrameItem, GroupItem


def ids(editor, *names):
    return [editor.document.node_by_name(n).id for n in names]


def group_block(lenet, names=("conv2", "relu2", "pool2")):
    lenet.scene.select_nodes(ids(lenet, *names))
    before = set(lenet.document.groups)
    lenet.group_action.trigger()
    (made,) = set(lenet.document.groups) - before
    return lenet.document.groups[made]


def double_click(editor, scene_pos):
    for kind in ("press", "release", "double", "release"):
        editor.mouse(kind, scene_pos)


def test_ctrl_g_folds_the_selection_into_one_box(lenet):
    before = {n.id: n.position for n in lenet.document.nodes.values()}
    fc1 = lenet.document.node_by_name("fc1").id
    group = group_block(lenet)
    assert group.collapsed and lenet.undo_stack.undoText() == "Group"
    box = lenet.scene.group_items[group.id]
    assert isinstance(box, GroupItem) and box.isSelected()
    members = ids(lenet, "conv2", "relu2", "pool2")
    assert not any(lenet.scene.node_items[m].isVisible() for m in members)
    inference = lenet.document.infer()
    info = inference.groups[group.id]
    assert info.params == sum(inference.nodes[m].params for m in members) == 2416
    assert box.face.shape == "16×5×5" and box.face.params == "2.42k params" and box.face.summary == "3 layers"
    assert len(box.input_ports) == 1 and len(box.output_ports) == 1
    crossing = [item for e, item in lenet.scene.edge_items.items() if item.isVisible() and box in
                (item.src_item, item.dst_item)]
    assert len(crossing) == 2  # pool1 → the box → flatten
    assert lenet.document.nodes[fc1].position[0] < before[fc1][0]  # the layout closed up
    form = lenet.inspector.group_form
    assert form.isVisibleTo(lenet.inspector) and form.group_id == group.id
    lenet.undo_action.trigger()
    assert not lenet.document.groups and lenet.scene.node_items[members[0]].isVisible()
    assert {n.id: n.position for n in lenet.document.nodes.values()} == before
    lenet.redo_action.trigger()
    assert lenet.document.groups[group.id].collapsed


def test_double_click_opens_the_group_in_place_and_folds_it_back(lenet):
    group = group_block(lenet)
    folded = {n.id: n.position for n in lenet.document.nodes.values()}
    box = lenet.scene.group_items[group.id]
    double_click(lenet, box.sceneBoundingRect().center())
    assert not lenet.document.groups[group.id].collapsed
    frame = lenet.scene.frame_items[group.id]
    assert isinstance(frame, FrameItem) and group.id not in lenet.scene.group_items
    assert all(lenet.scene.node_items[m].isVisible() for m in group.members)
    assert frame.rect.contains(lenet.scene.nodes_rect(group.members))
    assert "conv2" in frame.title or group.name in frame.title
    assert frame.title == f"▾ {group.name}  ·  3 layers · 2.42k params"
    double_click(lenet, frame.header_rect().center())
    assert lenet.document.groups[group.id].collapsed
    assert {n.id: n.position for n in lenet.document.nodes.values()} == folded
    lenet.undo_action.trigger()
    lenet.undo_action.trigger()
    assert lenet.document.groups[group.id].collapsed
    assert {n.id: n.position for n in lenet.document.nodes.values()} == folded


def test_the_inspector_renames_and_repeats_with_the_shape_check(lenet):
    group = group_block(lenet, ("relu1",))
    form = lenet.inspector.group_form
    form.name_field.setText("act")
    form.name_field.editingFinished.emit()
    assert group.name == "act"
    form.repeat_box.setValue(3)
    assert group.repeat == 3 and lenet.document.infer().ok  # ReLU gives back its shape
    box = lenet.scene.group_items[group.id]
    assert box.repeats and box.face.type_name == "Group ×3"
    net = lenet.document.build()
    assert {"conv1", "fc1"} <= {name for name, _ in net.named_children()}
    assert {"relu1", "relu1_r2", "relu1_r3"} <= {name for name, _ in net.named_children()}  # the copies are built
    lenet.undo_action.trigger()
    assert group.repeat == 1
    pooled = group_block(lenet, ("pool2",))
    lenet.scene.select_nodes([], [pooled.id])
    lenet.inspector.group_form.repeat_box.setValue(2)
    problem = lenet.document.infer().groups[pooled.id].error
    assert "must give back the shape it takes: it takes 16×10×10 and gives 16×5×5" in problem
    assert lenet.scene.group_items[pooled.id].face.error == problem


def test_moving_the_box_carries_its_layers(lenet):
    group = group_block(lenet)
    box = lenet.scene.group_items[group.id]
    members = {m: lenet.document.nodes[m].position for m in group.members}
    (x0, y0), start = group.position, box.sceneBoundingRect().center()
    lenet.drag(start, start + QPointF(0, 160))
    dx, dy = group.position[0] - x0, group.position[1] - y0
    assert abs(dy - 160) < 1
    for m, (x, y) in members.items():
        assert lenet.document.nodes[m].position == (round(x + dx, 1), round(y + dy, 1))
    lenet.undo_action.trigger()
    assert {m: lenet.document.nodes[m].position for m in group.members} == members


def test_delete_copy_and_ungroup_act_on_the_box(lenet):
    group = group_block(lenet)
    members = list(group.members)
    lenet.controller.duplicate()
    assert len(lenet.document.groups) == 2
    (copy,) = [g for g in lenet.document.groups.values() if g.id != group.id]
    assert len(copy.members) == 3 and copy.name != group.name and copy.collapsed
    lenet.undo_action.trigger()
    lenet.scene.select_nodes([], [group.id])
    lenet.delete_action.trigger()
    assert not any(m in lenet.document.nodes for m in members) and not lenet.document.groups
    lenet.undo_action.trigger()
    assert lenet.document.groups[group.id].members == members
    lenet.scene.select_nodes([], [group.id])
    lenet.ungroup_action.trigger()
    assert not lenet.document.groups and all(lenet.scene.node_items[m].isVisible() for m in members)
    lenet.undo_action.trigger()
    assert lenet.document.groups[group.id].collapsed


def test_a_connection_leaves_a_box_from_its_output(lenet):
    group = group_block(lenet)
    box = lenet.scene.group_items[group.id]
    relu3 = lenet.document.node_by_name("relu3").id
    lenet.scene.begin_connection(box.output_ports[0], box.output_ports[0].scenePos())
    lenet.scene.finish_connection(lenet.scene.node_items[relu3].sceneBoundingRect().center())
    assert lenet.errors == []


def test_a_connection_dropped_on_a_box_input_feeds_what_that_input_fed_inside(lenet):
    group = group_block(lenet, ("conv2", "relu2", "pool2", "flatten", "fc1"))
    box = lenet.scene.group_items[group.id]
    relu1, conv2 = (lenet.document.node_by_name(n).id for n in ("relu1", "conv2"))
    lenet.scene.begin_connection(lenet.scene.node_items[relu1].output_port, QPointF())
    lenet.scene.finish_connection(box.input_ports[0].scenePos())
    assert [e.src for e in lenet.document.input_edges(conv2)] == [relu1]
    assert lenet.undo_stack.undoText() == f"Feed {group.name} from relu1"
    assert lenet.document.infer().groups[group.id].in_shapes == ((6, 28, 28),)  # fc1 now errs inside
    assert lenet.scene.group_items[group.id].face.error == "1 layer inside has errors: double-click to open the group"
    lenet.undo_action.trigger()
    assert [lenet.document.nodes[e.src].name for e in lenet.document.input_edges(conv2)] == ["pool1"]
    fc1 = lenet.document.node_by_name("fc1").id
    lenet.scene.begin_connection(box.output_ports[0], box.output_ports[0].scenePos())
    target = lenet.scene.connection_target(box.input_ports[0].scenePos())
    lenet.scene.cancel_connection()
    assert target[4] == "a group cannot feed itself" and fc1 in group.members


def test_a_group_saved_as_a_block_comes_back_from_the_palette(lenet, tmp_path):
    from gui.editor.user_blocks import UserBlocks

    lenet.layer_palette.store = UserBlocks(str(tmp_path / "blocks"))
    group = group_block(lenet)
    lenet.window.ask_block_name = lambda default: ("conv block", "")
    lenet.inspector.group_form.save_button.click()
    assert lenet.errors == [] and [b.name for b in lenet.layer_palette.store.blocks()] == ["conv block"]
    assert lenet.layer_palette.visible_blocks() == ["conv block"]
    before = len(lenet.document.nodes)
    lenet.layer_palette.blockActivated.emit("conv block")
    assert len(lenet.document.nodes) == before + 3 and len(lenet.document.groups) == 2
    (added,) = [g for g in lenet.document.groups.values() if g.id != group.id]
    assert [lenet.document.nodes[m].type for m in added.members] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert lenet.undo_stack.undoText() == "Add block conv block"
    lenet.undo_action.trigger()
    assert len(lenet.document.nodes) == before


def test_deleting_a_box_with_a_node_beside_it_and_undoing_raise_nothing(lenet):
    group = group_block(lenet)
    flatten = lenet.document.node_by_name("flatten").id
    lenet.scene.select_nodes([flatten], [group.id])
    lenet.delete_action.trigger()
    assert flatten not in lenet.document.nodes and not lenet.document.groups
    lenet.undo_action.trigger()
    assert lenet.document.groups[group.id].members == group.members and flatten in lenet.document.nodes
    lenet.scene.select_nodes([flatten], [group.id])
    lenet.controller.duplicate()
    lenet.undo_action.trigger()
    assert list(lenet.document.groups) == [group.id]


def test_grouping_refuses_to_swallow_a_repeated_group_or_to_make_the_same_group_twice(lenet):
    group = group_block(lenet, ("relu1",))
    lenet.controller.set_group(group.id, {"repeat": 3})
    lenet.scene.select_nodes(ids(lenet, "relu1", "pool1"))
    assert "repeats 3 times: set its repeat count to 1 or ungroup it" in lenet.controller.group_selection()
    lenet.scene.select_nodes([], [group.id])
    assert f"these layers are {group.label()} already" in lenet.controller.group_selection()
    assert list(lenet.document.groups) == [group.id] and group.repeat == 3


def test_groups_open_and_fold_while_a_run_locks_the_network(lenet):
    group = group_block(lenet)
    lenet.set_editing_enabled(False)
    assert lenet.controller.toggle_fold(group.id) is None and not group.collapsed
    relu2 = lenet.document.node_by_name("relu2").id
    lenet.controller.toggle_fold(group.id)
    lenet.show_node(relu2)  # Find opens the group of what it finds
    assert not group.collapsed and lenet.scene.node_items[relu2].isVisible()
    assert lenet.controller.group_selection() == "the network cannot be edited while a training run is live"


def test_f2_on_a_box_renames_the_group_and_problems_select_their_group(lenet):
    group = group_block(lenet, ("pool2",))
    lenet.scene.select_nodes([], [group.id])
    lenet.rename_action.trigger()
    lenet.qtbot.waitUntil(lenet.inspector.group_form.name_field.hasFocus, timeout=1000)
    assert lenet.inspector.group_form.name_field.selectedText() == group.name
    lenet.controller.set_group(group.id, {"repeat": 2})
    (problem,) = [p for p in lenet.document.infer().problems if p.node_id == group.id]
    lenet.scene.clearSelection()
    lenet.select_node(problem.node_id)
    assert lenet.scene.selected_group_ids() == [group.id] and lenet.inspector.group_form.group_id == group.id


def test_a_connection_dragged_from_a_free_input_can_end_on_a_box_output(lenet):
    group = group_block(lenet)
    extra = lenet.controller.add_node("ReLU", (2400, 600))
    box = lenet.scene.group_items[group.id]
    free = lenet.scene.node_items[extra].input_ports[0]
    lenet.scene.begin_connection(free, free.scenePos())
    lenet.scene.finish_connection(box.output_ports[0].scenePos())
    pool2 = lenet.document.node_by_name("pool2").id
    assert [(e.src, e.out_port) for e in lenet.document.input_edges(extra)] == [(pool2, 0)]


def test_folding_puts_the_box_where_the_open_layers_were_moved(lenet):
    group = group_block(lenet)
    lenet.controller.toggle_fold(group.id)
    old = {m: lenet.document.nodes[m].position for m in group.members}
    new = {m: (x + 800, y + 300) for m, (x, y) in old.items()}
    lenet.controller.move_nodes(old, new)
    lenet.controller.toggle_fold(group.id)
    assert group.collapsed
    assert group.position == (min(x for x, _ in new.values()), min(y for _, y in new.values()))


def test_grouping_a_box_with_other_layers_opens_without_overlaps(lenet):
    inner = group_block(lenet)
    lenet.scene.select_nodes(ids(lenet, "flatten", "fc1"), [inner.id])
    lenet.group_action.trigger()
    (outer,) = lenet.document.groups.values()
    assert inner.id not in lenet.document.groups and len(outer.members) == 5
    lenet.controller.toggle_fold(outer.id)
    places = [n.position for n in lenet.document.nodes.values()]
    assert len(places) == len(set(places)), "two layers on one spot"


def test_a_box_refuses_a_connection_from_what_it_computes_while_hovering(lenet):
    group = group_block(lenet)
    box = lenet.scene.group_items[group.id]
    fc1 = lenet.document.node_by_name("fc1").id
    lenet.scene.begin_connection(lenet.scene.node_items[fc1].output_port, QPointF())
    target = lenet.scene.connection_target(box.input_ports[0].scenePos())
    lenet.scene.cancel_connection()
    assert target[4] == f"'{group.name}' computes what feeds Linear 'fc1': connecting them would make a cycle"


def test_auto_layout_and_its_undo_keep_unfolding_free_of_overlaps(lenet):
    group = group_block(lenet, ("relu1", "pool1"))
    lenet.controller.toggle_fold(group.id)  # open, move a layer into the group's columns below it, fold
    spare = lenet.controller.add_node("ReLU", (1, 1))
    relu1 = lenet.document.nodes[lenet.document.node_by_name("relu1").id].position
    lenet.controller.move_nodes({spare: lenet.document.nodes[spare].position}, {spare: (relu1[0] + 240, 400)})
    lenet.controller.toggle_fold(group.id)
    assert group.fold_cut > 0
    lenet.layout_action.trigger()
    assert group.fold_cut == 0
    lenet.undo_action.trigger()
    assert group.fold_cut > 0
    for _ in range(2):
        lenet.controller.toggle_fold(group.id)
        places = [n.position for n in lenet.document.nodes.values() if lenet.document.group_of(n.id) is None
                  or not lenet.document.group_of(n.id).collapsed]
        assert len(places) == len(set(places))


def test_an_open_groups_frame_follows_a_layer_while_it_is_dragged(lenet):
    group = group_block(lenet)
    lenet.controller.toggle_fold(group.id)
    frame = lenet.scene.frame_items[group.id]
    item = lenet.scene.node_items[lenet.document.node_by_name("relu2").id]
    start = item.sceneBoundingRect().center()
    lenet.mouse("press", start)
    for k in range(1, 4):
        lenet.mouse("move", start + QPointF(0, 100 * k), buttons=Qt.LeftButton)
    assert frame.rect.contains(item.sceneBoundingRect())  # before the release
    lenet.mouse("release", start + QPointF(0, 300))
    assert frame.rect.contains(lenet.scene.nodes_rect(group.members))
