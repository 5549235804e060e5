"""Writes the modern CIFAR-10 templates of resources/templates (MobileNetV2, ConvNeXt, ViT, ResNet-18, SE-ResNet)
from their block structure, so a change to a block is one edit here rather than dozens of nodes by hand. Each
opens as its stages: the stem, every stage and the head are collapsed groups (the ViT's encoder is one block
with a repeat count), laid out as boxes.

    python scripts/make_templates.py [KEY ...]

Each template's description quotes its test accuracy after 2 epochs, measured with ``python main.py train`` on
the real CIFAR-10 and recorded in bench/NOTES.md; rerun the measurement when a template changes.
"""

import os
import sys
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.graph import Network, save_network
from engine.graph.templates import TEMPLATE_DIR


class Builder:
    """A network grown block by block: ``add`` puts a chain of layers after a node and returns its last node;
    the layers added inside ``with b.group(name):`` become one group, collapsed, so the template opens as its
    stages."""

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

    @contextmanager
    def group(self, name, repeat=1):
        start = len(self.net.nodes)
        yield
        self.net.add_group(list(self.net.nodes)[start:], name=name, repeat=repeat)

    def finish(self, after):
        self.add(after, ("Output", {"loss": "CrossEntropyLoss"}, "output"))
        self.net.layout()
        return self.net


def conv(name, out, kernel=3, stride=1, groups=1, padding=None):
    padding = kernel // 2 if padding is None else padding
    return ("Conv2d", {"out_channels": out, "kernel_size": kernel, "stride": stride, "padding": padding,
                       "groups": groups, "bias": False}, name)


def bn(name):
    return ("BatchNorm2d", {}, name)


def head(b, after, before=(), dropout=0.0):
    """The group ``head``: the layers ``before``, global average pool, flatten, (dropout,) the 10-class linear
    layer."""
    layers = [*before, ("AdaptiveAvgPool2d", {"output_size": 1}, "pool"), ("Flatten", {}, "flatten")]
    if dropout:
        layers.append(("Dropout", {"p": dropout}, "dropout"))
    with b.group("head"):
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
    with b.group("stem"):
        x = b.add(b.input, conv("stem_conv", 32), bn("stem_bn"), ("ReLU6", {}, "stem_relu"))
    channels, k = 32, 0
    # a stage per output width: (expansion, output channels, stride) of each block
    for stage, blocks in enumerate((((1, 16, 1),), ((6, 24, 2), (6, 24, 1)), ((6, 32, 2), (6, 32, 1)),
                                    ((6, 64, 2), (6, 64, 1))), 1):
        with b.group(f"stage{stage}"):
            for expand, out, stride in blocks:
                k += 1
                x = inverted_residual(b, x, f"b{k}", channels, expand, out, stride)
                channels = out
    last = (conv("last", 256, 1), bn("last_bn"), ("ReLU6", {}, "last_relu"))
    return b.finish(head(b, x, last, dropout=0.2))


def inverted_residual(b, x, name, channels, expand, out, stride):
    """A 1×1 expansion (unless ``expand`` is 1), a depthwise 3×3 and a linear 1×1 projection; a residual where
    the shape allows."""
    hidden = channels * expand
    y = x if expand == 1 else b.add(x, conv(f"{name}_expand", hidden, 1), bn(f"{name}_expand_bn"),
                                    ("ReLU6", {}, f"{name}_expand_relu"))
    y = b.add(y, conv(f"{name}_depthwise", hidden, 3, stride, groups=hidden), bn(f"{name}_depthwise_bn"),
              ("ReLU6", {}, f"{name}_depthwise_relu"), conv(f"{name}_project", out, 1), bn(f"{name}_project_bn"))
    return b.merge("Add", f"{name}_add", x, y) if stride == 1 and channels == out else y


def convnext(accuracy):
    b = Builder("ConvNeXt (CIFAR-10)",
                "ConvNeXt's block at CIFAR size: a 2×2 patchify stem, three stages (48, 96, 192 channels, two blocks "
                "each, 2×2 strided downsampling between) of a depthwise 7×7 convolution, channel LayerNorm, a 4× "
                "pointwise expansion with GELU and a projection back, added to the block's input; global pooling, "
                f"LayerNorm and the classifier. {accuracy} AdamW with a one-cycle schedule, random crops and flips.",
                {**ONE_CYCLE, "optimizer": "AdamW", "lr": 4e-3, "weight_decay": 0.05})
    with b.group("stem"):
        x = b.add(b.input, ("Conv2d", {"out_channels": 48, "kernel_size": 2, "stride": 2}, "stem_conv"),
                  ("LayerNorm2d", {"eps": 1e-6}, "stem_norm"))
    for stage, width in enumerate((48, 96, 192), 1):
        with b.group(f"stage{stage}"):
            if stage > 1:
                x = b.add(x, ("LayerNorm2d", {"eps": 1e-6}, f"down{stage}_norm"),
                          ("Conv2d", {"out_channels": width, "kernel_size": 2, "stride": 2}, f"down{stage}"))
            for block in (1, 2):
                x = convnext_block(b, x, f"s{stage}b{block}", width)
    with b.group("head"):
        x = b.add(x, ("AdaptiveAvgPool2d", {"output_size": 1}, "pool"), ("Flatten", {}, "flatten"),
                  ("LayerNorm", {"eps": 1e-6}, "head_norm"), ("Linear", {"out_features": 10}, "classifier"))
    return b.finish(x)


def convnext_block(b, x, name, width):
    """A depthwise 7×7, channel LayerNorm, a 4× pointwise expansion with GELU and a projection back, added to
    the input."""
    y = b.add(x, ("Conv2d", {"out_channels": width, "kernel_size": 7, "padding": 3, "groups": width},
                  f"{name}_depthwise"),
              ("LayerNorm2d", {"eps": 1e-6}, f"{name}_norm"),
              ("Conv2d", {"out_channels": 4 * width, "kernel_size": 1}, f"{name}_expand"),
              ("GELU", {}, f"{name}_gelu"),
              ("Conv2d", {"out_channels": width, "kernel_size": 1}, f"{name}_project"))
    return b.merge("Add", f"{name}_add", x, y)


def vision_transformer(accuracy):
    dim, heads, depth = 96, 4, 4
    b = Builder("Vision Transformer (CIFAR-10)",
                f"A small ViT: 4×4 patches embedded to {dim} features (a strided convolution, reshaped and "
                f"permuted to 64 tokens), a class token and learned position embeddings, {depth} pre-norm blocks of "
                f"{heads}-head self-attention and a 2× GELU MLP, each added to its input; the class token's "
                f"final LayerNorm feeds the classifier. {accuracy} AdamW with a one-cycle schedule, random crops "
                "and flips.",
                {**ONE_CYCLE, "optimizer": "AdamW", "lr": 2e-3, "weight_decay": 0.05})
    with b.group("patch_embedding"):
        x = b.add(b.input, ("Conv2d", {"out_channels": dim, "kernel_size": 4, "stride": 4}, "patches"),
                  ("Reshape", {"shape": (dim, -1)}, "patch_grid"), ("Permute", {"dims": (1, 0)}, "tokens"),
                  ("ClassToken", {}, "class_token"), ("PositionEmbedding", {}, "positions"))
    with b.group("encoder", repeat=depth):  # one block, computed depth times (copies block_norm1_r2, ...)
        y = b.add(x, ("LayerNorm", {}, "block_norm1"), ("SelfAttention", {"num_heads": heads}, "block_attention"))
        x = b.merge("Add", "block_add1", x, y)
        y = b.add(x, ("LayerNorm", {}, "block_norm2"), ("Linear", {"out_features": 2 * dim}, "block_mlp1"),
                  ("GELU", {}, "block_gelu"), ("Linear", {"out_features": dim}, "block_mlp2"))
        x = b.merge("Add", "block_add2", x, y)
    with b.group("head"):
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
    with b.group("stem"):
        x = b.add(b.input, conv("stem_conv", widths[0]), bn("stem_bn"), ("ReLU", {}, "stem_relu"))
    channels = widths[0]
    for stage, (width, count) in enumerate(zip(widths, blocks), 1):
        with b.group(f"layer{stage}"):  # torchvision's names for the stages
            for block in range(1, count + 1):
                stride = 2 if stage > 1 and block == 1 else 1
                x = residual_block(b, x, f"s{stage}b{block}", channels, width, stride, squeeze)
                channels = width
    return b.finish(head(b, x))


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
        print(f"{path}: {len(network.nodes)} nodes ({len(inference.flat.nodes)} computed) in {len(network.groups)} "
              f"groups, {inference.total_params:,} parameters, {inference.total_macs / 1e6:.1f}M MACs")


if __name__ == "__main__":
    main(sys.argv[1:])
