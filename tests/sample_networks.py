"""Small network documents built in code for tests of several packages."""

from engine.graph import Network


def deep_sigmoid(depth=4, batch_size=16):
    """Input (CIFAR-10) → Flatten → ``depth`` × (Linear 32, Sigmoid) → Linear 10 → Output: its gradients vanish
    on the way back to the first layers."""
    network = Network("deep sigmoid")
    previous = network.add_node("Input", {"shape": (3, 32, 32), "dataset": "CIFAR-10"}, name="input").id
    chain = [("Flatten", {}, "flatten")]
    for k in range(1, depth + 1):
        chain += [("Linear", {"out_features": 32}, f"fc{k}"), ("Sigmoid", {}, f"sigmoid{k}")]
    for kind, params, name in [*chain, ("Linear", {"out_features": 10}, "head"), ("Output", {}, "output")]:
        node = network.add_node(kind, params, name=name)
        network.connect(previous, node.id)
        previous = node.id
    network.set_settings({"batch_size": batch_size})
    return network
