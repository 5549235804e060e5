"""Writes the modern CIFAR-10 templates of resources/templates (MobileNetV2, ConvNeXt, ViT, ResNet-18, SE-ResNet)
from their block structure, so a change to a block is one edit here rather than dozens of nodes by hand.

    python scripts/make_templates.py [KEY ...]

Each template's description quotes its test accuracy after 2 epochs, measured with ``python main.py train`` on
the real CIFAR-10 and recorded in bench/NOTES.md; rerun the measurement when a template changes.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.graph import Network, save_network
from engine.graph.layout import layered_positions
from engine.graph.templates import TEMPLATE_DIR


class Builder:
    """A network grown block by block: ``add`` puts a chain of layers after a node and returns its last node."""

    def __init__(self, title, description, settings):
        self.net = Network(title, description)
        self.net.set_settings(settings)
        self.input = self.net.add_node("Input", {"shape": (3, 32, 32), "dataset": "CIFAR-10"}, name="images")

    def add(self, after, *layers):
        for type_name, params, name in layers:
            node = self.net.add_node(type_name, params, name=name)
            self.net.connect(after.id, node.id)
            after = node
        return after

    def merge(self, type_name, name, *inputs):
        node = self.net.add_node(type_name, name=name)
        for source in inputs:
            self.net.connect(source.id, node.id)
        return node

    def finish(self, after):
        self.add(after, ("Output", {"loss": "CrossEntropyLoss"}, "output"))
        self.net.move_many(layered_positions(self.net))
        return self.net


def conv(name, out, kernel=3, stride=1, groups=1, padding=None):
    padding = kernel // 2 if padding is None else padding
    return ("Conv2d", {"out_channels": out, "kernel_size": kernel, "stride": stride, "padding": padding,
                       "groups": groups, "bias": False}, name)


def bn(name):
    return ("BatchNorm2d", {}, name)


def head(b, after, features, dropout=0.0):
    """Global average pool, flatten, (dropout,) the 10-class linear layer."""
    layers = [("AdaptiveAvgPool2d", {"output_size": 1}, "pool"), ("Flatten", {}, "flatten")]
    if dropout:
        layers.append(("Dropout", {"p": dropout}, "dropout"))
    return b.add(after, *layers, ("Linear", {"out_features": 10}, "classifier"))


ONE_CYCLE = {"scheduler": "OneCycleLR", "epochs": 2, "batch_size": 128, "val_split": 0.1, "augment_crop_padding": 4,
             "augment_hflip": True}


def mobilenet_v2(accuracy):
    b = Builder("MobileNetV2 (CIFAR-10)",
                "MobileNetV2 at CIFAR size: inverted residuals after a 3×3 stem, seven blocks that widen 6× with a "
                "1×1 convolution, filter each channel with a depthwise 3×3 and project back linearly (ReLU6; a "
                "residual where the shape allows), a 1×1 convolution to 256 channels, global pooling and dropout. "
                f"{accuracy} SGD with nesterov momentum and a one-cycle schedule, random crops and flips.",
                {**ONE_CYCLE, "optimizer": "SGD", "lr": 0.1, "nesterov": True, "weight_decay": 4e-5})
    x = b.add(b.input, conv("stem", 32), bn("stem_bn"), ("ReLU6", {}, "stem_relu"))
    channels = 32
    for k, (expand, out, stride) in enumerate(((1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1),
                                               (6, 64, 2), (6, 64, 1)), 1):
        hidden = channels * expand
        y = x if expand == 1 else b.add(x, conv(f"b{k}_expand", hidden, 1), bn(f"b{k}_expand_bn"),
                                        ("ReLU6", {}, f"b{k}_expand_relu"))
        y = b.add(y, conv(f"b{k}_depthwise", hidden, 3, stride, groups=hidden), bn(f"b{k}_depthwise_bn"),
                  ("ReLU6", {}, f"b{k}_depthwise_relu"), conv(f"b{k}_project", out, 1), bn(f"b{k}_project_bn"))
        x = b.merge("Add", f"b{k}_add", x, y) if stride == 1 and channels == out else y
        channels = out
    x = b.add(x, conv("last", 256, 1), bn("last_bn"), ("ReLU6", {}, "last_relu"))
    return b.finish(head(b, x, 256, dropout=0.2))


def convnext(accuracy):
    b = Builder("ConvNeXt (CIFAR-10)",
                "ConvNeXt's block at CIFAR size: a 2×2 patchify stem, three stages (48, 96, 192 channels, two blocks "
                "each, 2×2 strided downsampling between) of a depthwise 7×7 convolution, channel LayerNorm, a 4× "
                "pointwise expansion with GELU and a projection back, added to the block's input; global pooling, "
                f"LayerNorm and the classifier. {accuracy} AdamW with a one-cycle schedule, random crops and flips.",
                {**ONE_CYCLE, "optimizer": "AdamW", "lr": 4e-3, "weight_decay": 0.05})
    x = b.add(b.input, ("Conv2d", {"out_channels": 48, "kernel_size": 2, "stride": 2}, "stem"),
              ("LayerNorm2d", {"eps": 1e-6}, "stem_norm"))
    for stage, width in enumerate((48, 96, 192), 1):
        if stage > 1:
            x = b.add(x, ("LayerNorm2d", {"eps": 1e-6}, f"down{stage}_norm"),
                      ("Conv2d", {"out_channels": width, "kernel_size": 2, "stride": 2}, f"down{stage}"))
        for block in (1, 2):
            n = f"s{stage}b{block}"
            y = b.add(x, ("Conv2d", {"out_channels": width, "kernel_size": 7, "padding": 3, "groups": width},
                          f"{n}_depthwise"),
                      ("LayerNorm2d", {"eps": 1e-6}, f"{n}_norm"),
                      ("Conv2d", {"out_channels": 4 * width, "kernel_size": 1}, f"{n}_expand"),
                      ("GELU", {}, f"{n}_gelu"),
                      ("Conv2d", {"out_channels": width, "kernel_size": 1}, f"{n}_project"))
            x = b.merge("Add", f"{n}_add", x, y)
    x = b.add(x, ("AdaptiveAvgPool2d", {"output_size": 1}, "pool"), ("Flatten", {}, "flatten"),
              ("LayerNorm", {"eps": 1e-6}, "head_norm"), ("Linear", {"out_features": 10}, "classifier"))
    return b.finish(x)


def vision_transformer(accuracy):
    dim, heads, depth = 96, 4, 4
    b = Builder("Vision Transformer (CIFAR-10)",
                f"A small ViT: 4×4 patches embedded to {dim} features (a strided convolution, reshaped and "
                f"permuted to 64 tokens), a class token and learned position embeddings, {depth} pre-norm blocks of "
                f"{heads}-head self-attention and a 2× GELU MLP, each added to its input; the class token's "
                f"final LayerNorm feeds the classifier. {accuracy} AdamW with a one-cycle schedule, random crops "
                "and flips.",
                {**ONE_CYCLE, "optimizer": "AdamW", "lr": 2e-3, "weight_decay": 0.05})
    x = b.add(b.input, ("Conv2d", {"out_channels": dim, "kernel_size": 4, "stride": 4}, "patches"),
              ("Reshape", {"shape": (dim, -1)}, "patch_grid"), ("Permute", {"dims": (1, 0)}, "tokens"),
              ("ClassToken", {}, "class_token"), ("PositionEmbedding", {}, "positions"))
    for k in range(1, depth + 1):
        y = b.add(x, ("LayerNorm", {}, f"b{k}_norm1"), ("SelfAttention", {"num_heads": heads}, f"b{k}_attention"))
        x = b.merge("Add", f"b{k}_add1", x, y)
        y = b.add(x, ("LayerNorm", {}, f"b{k}_norm2"), ("Linear", {"out_features": 2 * dim}, f"b{k}_mlp1"),
                  ("GELU", {}, f"b{k}_gelu"), ("Linear", {"out_features": dim}, f"b{k}_mlp2"))
        x = b.merge("Add", f"b{k}_add2", x, y)
    x = b.add(x, ("LayerNorm", {}, "final_norm"), ("TokenPool", {"mode": "first"}, "class_output"),
              ("Linear", {"out_features": 10}, "classifier"))
    return b.finish(x)


def residual_block(b, x, name, channels, out, stride, squeeze=None):
    """Two 3×3 convolutions with batch norm (a 1×1 projection shortcut when the shape changes), optionally
    gated by squeeze-and-excitation (channel means, a ``squeeze``-fold bottleneck, a sigmoid gate)."""
    y = b.add(x, conv(f"{name}_conv1", out, 3, stride), bn(f"{name}_bn1"), ("ReLU", {}, f"{name}_relu1"),
              conv(f"{name}_conv2", out), bn(f"{name}_bn2"))
    if squeeze:
        gate = b.add(y, ("Mean", {"keepdim": True}, f"{name}_se_mean"),
                     ("Conv2d", {"out_channels": out // squeeze, "kernel_size": 1}, f"{name}_se_reduce"),
                     ("ReLU", {}, f"{name}_se_relu"),
                     ("Conv2d", {"out_channels": out, "kernel_size": 1}, f"{name}_se_expand"),
                     ("Sigmoid", {}, f"{name}_se_gate"))
        y = b.merge("Multiply", f"{name}_se_scale", y, gate)
    shortcut = x
    if stride != 1 or channels != out:
        shortcut = b.add(x, conv(f"{name}_shortcut", out, 1, stride, padding=0), bn(f"{name}_shortcut_bn"))
    return b.add(b.merge("Add", f"{name}_add", shortcut, y), ("ReLU", {}, f"{name}_relu"))


def resnet(builder, widths, blocks, squeeze=None):
    b = builder
    x = b.add(b.input, conv("stem", widths[0]), bn("stem_bn"), ("ReLU", {}, "stem_relu"))
    channels = widths[0]
    for stage, (width, count) in enumerate(zip(widths, blocks), 1):
        for block in range(1, count + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            x = residual_block(b, x, f"s{stage}b{block}", channels, width, stride, squeeze)
            channels = width
    return b.finish(head(b, x, channels))


def resnet18(accuracy):
    return resnet(Builder("ResNet-18 (CIFAR-10)",
                          "ResNet-18 with the CIFAR stem: one 3×3 convolution at stride 1 instead of the 7×7 and max "
                          "pool (32×32 images keep their detail), four stages of two basic blocks at 64, 128, 256 and "
                          "512 channels, global pooling and the classifier (11.2M parameters; the heaviest template, "
                          f"slow on a CPU). {accuracy} SGD with nesterov momentum, weight decay and a one-cycle "
                          "schedule, random crops and flips.",
                          {**ONE_CYCLE, "optimizer": "SGD", "lr": 0.1, "nesterov": True, "weight_decay": 5e-4}),
                  (64, 128, 256, 512), (2, 2, 2, 2))


def se_resnet(accuracy):
    return resnet(Builder("SE-ResNet (CIFAR-10)",
                          "A small squeeze-and-excitation ResNet: each block's channel means go through a 4× "
                          "bottleneck of 1×1 convolutions to a sigmoid gate that scales its channels before the "
                          "residual sum; three stages of two blocks at 32, 64 and 128 channels. "
                          f"{accuracy} SGD with nesterov momentum, weight decay and a one-cycle schedule, random "
                          "crops and flips.",
                          {**ONE_CYCLE, "optimizer": "SGD", "lr": 0.1, "nesterov": True, "weight_decay": 5e-4}),
                  (32, 64, 128), (2, 2, 2), squeeze=4)


# key -> (builder, the measured accuracy sentence for its description)
TEMPLATES = {
    "mobilenet_v2_cifar10": (mobilenet_v2, "69.9 % test accuracy on CIFAR-10 after its 2 epochs."),
    "convnext_cifar10": (convnext, "65.2 % test accuracy on CIFAR-10 after its 2 epochs."),
    "vit_cifar10": (vision_transformer, "52.1 % test accuracy on CIFAR-10 after its 2 epochs."),
    "resnet18_cifar10": (resnet18, "75.3 % test accuracy on CIFAR-10 after its 2 epochs."),
    "se_resnet_cifar10": (se_resnet, "74.0 % test accuracy on CIFAR-10 after its 2 epochs."),
}


def main(keys):
    for key in keys or TEMPLATES:
        make, accuracy = TEMPLATES[key]
        network = make(accuracy)
        inference = network.infer()
        if not inference.ok:
            raise SystemExit(f"{key}: {[p.message for p in inference.errors]}")
        path = os.path.join(TEMPLATE_DIR, f"{key}.llnet")
        save_network(network, path)
        print(f"{path}: {len(network.nodes)} nodes, {inference.total_params:,} parameters, "
              f"{inference.total_macs / 1e6:.1f}M MACs")


if __name__ == "__main__":
    main(sys.argv[1:])
