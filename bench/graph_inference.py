"""Speed of the network document on a large graph: shape inference after an edit, loading, layout, build.

    python bench/graph_inference.py [--nodes 500] [--repeats 30]

Builds a valid CIFAR-shaped network of about ``--nodes`` nodes: a stem, then residual blocks (conv, batch
norm, ReLU, conv, batch norm, Add with the block's input) with a two-branch Concat block every fourth block,
then global pooling and a classifier. The editor re-runs ``Network.infer()`` after every edit, so that is
timed after a real edit (a Dropout's ``p`` toggled), which leaves no cache to hit. Prints the median time
of each operation; the target for inference is well under 50 ms on the development machine.
"""

import argparse
import statistics
import time

import common  # noqa: F401  (puts the repository on the import path)

from engine.graph import Network, network_from_json, network_to_json

TARGET_MS = 50.0


def conv_bn(net, src, channels, stem):
    conv = net.add_node("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}, name=f"{stem}_conv")
    bn = net.add_node("BatchNorm2d", name=f"{stem}_bn")
    net.connect(src, conv.id)
    net.connect(conv.id, bn.id)
    return bn.id


def relu(net, src, name):
    node = net.add_node("ReLU", name=name)
    net.connect(src, node.id)
    return node.id


def residual_block(net, src, channels, k):
    a = relu(net, conv_bn(net, src, channels, f"b{k}a"), f"b{k}_relu1")
    b = conv_bn(net, a, channels, f"b{k}b")
    add = net.add_node("Add", name=f"b{k}_add")
    net.connect(b, add.id)
    net.connect(src, add.id)
    return relu(net, add.id, f"b{k}_relu2")


def concat_block(net, src, channels, k):
    """Two half-width branches joined on the channels: the output has ``channels`` channels again."""
    left = relu(net, conv_bn(net, src, channels // 2, f"c{k}l"), f"c{k}_relu_l")
    right = relu(net, conv_bn(net, src, channels // 2, f"c{k}r"), f"c{k}_relu_r")
    cat = net.add_node("Concat", name=f"c{k}_cat")
    net.connect(left, cat.id)
    net.connect(right, cat.id)
    return cat.id


def large_network(nodes, channels=16):
    net = Network(title=f"benchmark ({nodes} nodes)")
    with net.batch():
        x = net.add_node("Input", {"shape": (3, 32, 32), "dataset": "CIFAR-10"}).id
        x = relu(net, conv_bn(net, x, channels, "stem"), "stem_relu")
        k = 0
        while len(net.nodes) < nodes - 6:
            k += 1
            x = (concat_block if k % 4 == 0 else residual_block)(net, x, channels, k)
        drop = net.add_node("Dropout", {"p": 0.1}, name="dropout")
        net.connect(x, drop.id)
        x = drop.id
        for type_name, params in (("AdaptiveAvgPool2d", {}), ("Flatten", {}), ("Linear", {"out_features": 10}),
                                  ("Output", {})):
            node = net.add_node(type_name, params)
            net.connect(x, node.id)
            x = node.id
    return net


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    net = large_network(args.nodes)
    inference = net.infer()
    assert inference.ok, [p.message for p in inference.errors]
    print(f"network: {len(net.nodes)} nodes, {len(net.edges)} edges, {inference.total_params:,} parameters")

    dropout = net.node_by_name("dropout").id
    ps = iter([0.1, 0.2] * args.repeats)

    def infer_after_edit():
        net.set_params(dropout, {"p": next(ps)})
        start = time.perf_counter()
        fresh = net.infer()
        elapsed = time.perf_counter() - start
        assert fresh.revision == net.revision
        return elapsed

    infer_ms = statistics.median(infer_after_edit() for _ in range(args.repeats)) * 1e3
    data = network_to_json(net)
    rows = [
        ("infer() after an edit", infer_ms),
        ("infer() cached", median_ms(net.infer, args.repeats)),
        ("network_from_json (load)", median_ms(lambda: network_from_json(data), max(3, args.repeats // 5))),
        ("network_to_json (save)", median_ms(lambda: network_to_json(net), args.repeats)),
        ("layout()", median_ms(net.layout, max(3, args.repeats // 5))),
        ("build()", median_ms(net.build, max(3, args.repeats // 10))),
    ]
    for name, ms in rows:
        print(f"{name:<26} {ms:>9.2f} ms (median)")
    verdict = "met" if infer_ms < TARGET_MS else "MISSED"
    print(f"target: infer() well under {TARGET_MS:.0f} ms for {args.nodes} nodes: {verdict} ({infer_ms:.2f} ms)")


if __name__ == "__main__":
    main()
