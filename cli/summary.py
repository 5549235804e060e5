"""Summarise a network: every layer with its key parameters, output shape, parameters and MACs, its groups
(with every copy of a repeated one counted), the totals, and the problems that stop the network from being
built (exit code 1 when there are errors)."""

from .common import open_network
from .table import count, dims, format_table


def add_parser(subparsers):
    p = subparsers.add_parser("summary", help="print the layers, shapes, parameter and MAC counts of a network",
                              description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.set_defaults(handler=main)


def _shape(info):
    if info.error:
        return "error"
    if info.shape is None:
        return "?"
    return ", ".join(dims(shape) for shape in info.outputs)


def layer_rows(network, inference):
    rows = []
    for node_id in network.topological_order():
        node, info = network.nodes[node_id], inference.nodes[node_id]
        unused = node_id not in inference.used
        rows.append([node.name + (" (unused)" if unused else ""), node.type,
                     node.layer_type.describe(node.params, info.in_shapes), _shape(info), count(info.params),
                     count(info.macs)])
    return rows


def _shapes(shapes):
    return ", ".join(dims(s) if s is not None else "?" for s in shapes) or "-"


def group_rows(network, inference):
    rows = []
    for group in network.groups.values():
        info = inference.groups[group.id]
        rows.append([group.name, str(len(group.members)), f"×{group.repeat}", _shapes(info.in_shapes),
                     "error" if info.error else _shapes(info.outputs), count(info.params), count(info.macs)])
    return rows


def problem_lines(network, inference):
    lines = []
    for problem in inference.problems:
        owner = network.nodes.get(problem.node_id) or network.groups.get(problem.node_id)
        where = owner.name if owner is not None else "(network)"
        lines.append(f"  {problem.severity:<7}  {where}: {problem.message}")
    return lines


def main(args):
    network = open_network(args.network)
    inference = network.infer()
    print(f"{network.title}  ({args.network})")
    print(format_table(["layer", "type", "parameters", "output", "params", "MACs"], layer_rows(network, inference),
                       "llllrr"))
    if network.groups:
        print(format_table(["group", "layers", "repeat", "input", "output", "params", "MACs"],
                           group_rows(network, inference), "lrrllrr"))
    total = inference.total_params
    print(f"total: {count(total)} parameters ({total * 4 / 1024:,.1f} KiB as float32), "
          f"{count(inference.total_macs)} multiply-accumulates per image")
    if inference.problems:
        errors = len(inference.errors)
        print(f"problems ({errors} error{'s' if errors != 1 else ''}, {len(inference.problems) - errors} warning"
              f"{'s' if len(inference.problems) - errors != 1 else ''}):")
        print("\n".join(problem_lines(network, inference)))
    else:
        print("no problems")
    return 1 if inference.errors else 0
