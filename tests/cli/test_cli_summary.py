"""``main.py summary``: the layer table, totals, problems with their nodes, and exit codes."""

import re

from cli_helpers import copy_template, run_subprocess

from engine.graph import load_network, save_network


def table_rows(out):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    rows = {}
    for line in lines[start + 2:]:
        if line.startswith("total:"):
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


def test_summary_of_lenet(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("summary", net)
    assert result.code == 0, result
    assert result.out.splitlines()[0] == f"LeNet (CIFAR-10 tutorial)  ({net})"
    assert result.out.splitlines()[1].split() == ["layer", "type", "parameters", "output", "params", "MACs"]
    rows = table_rows(result.out)
    assert list(rows) == ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3",
                          "fc2", "relu4", "fc3", "output"]
    assert rows["input"] == ["Input", "CIFAR-10", "3×32×32", "0", "0"]
    assert rows["conv1"] == ["Conv2d", "3→6, k5", "6×28×28", "456", "352,800"]
    assert rows["fc1"] == ["Linear", "400→120", "120", "48,120", "48,000"]
    assert rows["relu1"] == ["ReLU", "6×28×28", "0", "0"]  # no key parameters
    assert "total: 62,006 parameters (242.2 KiB as float32)" in result.out
    assert result.out.rstrip().endswith("no problems")


def test_errors_and_warnings_name_their_nodes_and_set_the_exit_code(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    network = load_network(net)
    network.set_params(network.node_by_name("fc2").id, {"in_features": 99})
    spare = network.add_node("ReLU", name="spare")
    network.connect(network.node_by_name("pool2").id, spare.id)
    save_network(network, net)
    result = cli("summary", net)
    assert result.code == 1
    rows = table_rows(result.out)
    assert rows["fc2"][2] == "error" and rows["relu4"][1] == "?"  # downstream of the error: no shape
    assert rows["spare (unused)"][0] == "ReLU"
    assert "problems (1 error, 1 warning):" in result.out
    assert "  error    fc2: Linear 'fc2': Linear expects 99 input features but receives 120" in result.out
    assert "  warning  spare: ReLU 'spare' does not lead to the Output" in result.out
    network.set_params(network.node_by_name("fc2").id, {"in_features": None})
    save_network(network, net)
    warned = cli("summary", net)
    assert warned.code == 0 and "problems (0 errors, 1 warning):" in warned.out


def test_groups_are_listed_with_every_copy_counted_and_their_problems_named(cli, tmp_path):
    net = copy_template("vit_cifar10", tmp_path)
    result = cli("summary", net)
    assert result.code == 0, result
    lines = result.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("group "))
    groups = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in lines[start + 2:])
              if not cells[0].startswith("total:") and cells[0] != "no problems"}
    network = load_network(net)
    encoder = next(g for g in network.groups.values() if g.repeat > 1)
    info = network.infer().groups[encoder.id]
    assert groups[encoder.name][:4] == [str(len(encoder.members)), f"×{encoder.repeat}", "65×96", "65×96"]
    assert groups[encoder.name][4] == f"{info.params:,}" and info.params == encoder.repeat * sum(
        network.infer().nodes[m].params for m in encoder.members)
    lenet = copy_template("lenet_cifar10", tmp_path)
    network = load_network(lenet)
    network.add_group([network.node_by_name("pool2").id], name="pools", repeat=2)
    save_network(network, lenet)
    broken = cli("summary", lenet)
    assert broken.code == 1
    assert ("  error    pools: group 'pools' repeats 2 times, so it must give back the shape it takes: it takes "
            "16×10×10 and gives 16×5×5") in broken.out


def test_summary_of_a_missing_file_in_a_subprocess(tmp_path):
    result = run_subprocess("summary", tmp_path / "gone.llnet")
    assert result.code == 2
    assert result.err.strip().startswith(f"main.py summary: error: {tmp_path / 'gone.llnet'}: cannot read the file")
    assert "Traceback" not in result.err
