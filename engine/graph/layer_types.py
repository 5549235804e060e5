"""The layer types of the catalogue, one ``register`` each, in palette order.

Shape rules follow PyTorch's (floor division for convolutions and pools, ``ceil_mode``, ``'same'`` padding
only at stride 1). Parameter counts equal ``sum(p.numel() for p in module.parameters())``; MACs count the
multiply-accumulates of convolutions and linear layers, one per element for normalisation, pooling
window elements and additions, and nothing for activations.
"""

import math

from ..ops.shape import cat, chunk, chunk_sizes, split
from .catalogue import MAX_OUTPUTS, LayerType, ModuleCall, ShapeError, register
from .datasets import DATASETS
from .params import ParamSpec


def _specs(*specs):
    return {s.name: s for s in specs}


def _numel(shape):
    return math.prod(shape)


def _dims(shape):
    return "×".join(str(d) for d in shape)


def _same(params, in_shapes, context):
    return in_shapes[0]


def _need_image(name, shape):
    if len(shape) != 3:
        raise ShapeError(f"{name} expects a C×H×W input but receives {_dims(shape)}"
                         + ("; remove the Flatten before it" if len(shape) == 1 else ""))
    return shape


def _pair_text(pair):
    """``2`` for (2, 2), ``1×3`` otherwise."""
    return str(pair[0]) if pair[0] == pair[1] else _dims(pair)


def _auto_check(name, what, declared, actual, detail=""):
    if declared is not None and declared != actual:
        raise ShapeError(f"{name} expects {declared} {what} but receives {detail or actual}")


def _dim_of(name, params, shape):
    dim = params["dim"]
    if not 0 <= dim < len(shape):
        raise ShapeError(f"{name}: dim {dim} is not a dimension of {_dims(shape)} (0 is the channels)")
    return dim


_DIM = ParamSpec("dim", "int", 0, minimum=0, maximum=7, key=True,
                 help="0 is the channel dimension (the batch is not counted)")


# ----- Input / Output -----
def _input_infer(params, in_shapes, context):
    shape = params["shape"]
    info = DATASETS[params["dataset"]]
    if info.shape is not None and info.shape != shape:
        raise ShapeError(f"{info.name} images are {_dims(info.shape)}, but the input is {_dims(shape)}")
    return shape


register(LayerType(
    "Input", "Input/Output", "The images a network receives (batch dimension not included).",
    _specs(ParamSpec("shape", "shape", (3, 32, 32), minimum=1, maximum=4096, key=True,
                     help="C×H×W of one image"),
           ParamSpec("dataset", "choice", "CIFAR-10", choices=tuple(DATASETS), key=True,
                     help="the dataset the images come from")),
    _input_infer, inputs=(0, 0), prefix="input",
    summary=lambda p: f"{p['dataset']}"))

LOSSES = ("CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "BCEWithLogitsLoss")
CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")


def _output_infer(params, in_shapes, context):
    shape = in_shapes[0]
    classes = context.get("num_classes")
    if params["loss"] in CLASS_LOSSES:
        if len(shape) != 1:
            raise ShapeError(f"{params['loss']} expects one score per class (a vector) but receives {_dims(shape)}: "
                             "add a Flatten before the Linear layers")
        if classes is not None and shape[0] != classes:
            raise ShapeError(f"{params['loss']} expects {classes} class scores for {context['dataset']} but "
                             f"receives {shape[0]}")
    return shape


register(LayerType(
    "Output", "Input/Output", "The network's output and the loss it is trained with.",
    _specs(ParamSpec("loss", "choice", "CrossEntropyLoss", choices=LOSSES, key=True),
           ParamSpec("label_smoothing", "float", 0.0, minimum=0.0, maximum=0.99,
                     help="for CrossEntropyLoss only")),
    _output_infer, prefix="output", summary=lambda p: p["loss"].removesuffix("Loss")))


# ----- Convolution -----
def _conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _conv_infer(params, in_shapes, context):
    c, h, w = _need_image("Conv2d", in_shapes[0])
    _auto_check("Conv2d", "input channels", params["in_channels"], c, f"{c} (input {_dims(in_shapes[0])})")
    out_c, groups = params["out_channels"], params["groups"]
    if c % groups or out_c % groups:
        raise ShapeError(f"Conv2d: groups={groups} must divide both the input channels ({c}) and out_channels "
                         f"({out_c})")
    k, s, d = params["kernel_size"], params["stride"], params["dilation"]
    padding = params["padding"]
    if padding == "same":
        if s != (1, 1):
            raise ShapeError("Conv2d: padding='same' needs stride 1")
        return (out_c, h, w)
    p = (0, 0) if padding == "valid" else padding
    oh, ow = _conv_out(h, k[0], s[0], p[0], d[0]), _conv_out(w, k[1], s[1], p[1], d[1])
    if oh < 1 or ow < 1:
        raise ShapeError(f"Conv2d: kernel {_dims(k)} (dilation {_dims(d)}) is larger than the padded input "
                         f"{h + 2 * p[0]}×{w + 2 * p[1]}")
    return (out_c, oh, ow)


def _conv_params(params, in_shapes, out_shape):
    k = params["kernel_size"]
    weights = out_shape[0] * (in_shapes[0][0] // params["groups"]) * k[0] * k[1]
    return weights + (out_shape[0] if params["bias"] else 0)


def _conv_macs(params, in_shapes, out_shape):
    k = params["kernel_size"]
    return _numel(out_shape) * (in_shapes[0][0] // params["groups"]) * k[0] * k[1]


def _call(cls, args, kwargs, defaults):
    """A ModuleCall without the keyword arguments left at the module's defaults, square pairs as ints
    (``kernel_size=5``), so exported code reads like code a person writes."""
    def compact(v):
        return v[0] if isinstance(v, tuple) and len(v) == 2 and v[0] == v[1] else v

    kept = {k: compact(v) for k, v in kwargs.items() if compact(v) != defaults.get(k, object())}
    return ModuleCall(cls, tuple(compact(a) for a in args), kept)


def _conv_module(params, in_shapes):
    p = params
    kwargs = {"kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
              "dilation": p["dilation"], "groups": p["groups"], "bias": p["bias"]}
    return _call("Conv2d", (in_shapes[0][0], p["out_channels"]), kwargs,
                 {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True})


def _conv_summary(p):
    k, s = p["kernel_size"], p["stride"]
    text = f"{p['in_channels'] if p['in_channels'] is not None else '?'}→{p['out_channels']}, "
    text += f"k{k[0]}" if k[0] == k[1] else f"k{k[0]}×{k[1]}"
    if s != (1, 1):
        text += f", s{s[0]}" if s[0] == s[1] else f", s{s[0]}×{s[1]}"
    pad = p["padding"]
    if pad == "same" or (pad != "valid" and pad != (0, 0)):
        text += ", same" if pad == "same" else f", p{pad[0]}" if pad[0] == pad[1] else f", p{pad[0]}×{pad[1]}"
    return text


register(LayerType(
    "Conv2d", "Convolution", "2-D convolution over C×H×W images.",
    _specs(ParamSpec("in_channels", "int", None, minimum=1, maximum=65536,
                     help="input channels; auto takes them from the input"),
           ParamSpec("out_channels", "int", 16, minimum=1, maximum=65536, key=True),
           ParamSpec("kernel_size", "pair", (3, 3), minimum=1, maximum=64, key=True),
           ParamSpec("stride", "pair", (1, 1), minimum=1, maximum=64),
           ParamSpec("padding", "padding", (0, 0), minimum=0, maximum=64),
           ParamSpec("dilation", "pair", (1, 1), minimum=1, maximum=64),
           ParamSpec("groups", "int", 1, minimum=1, maximum=65536),
           ParamSpec("bias", "bool", True)),
    _conv_infer, prefix="conv", module=_conv_module, count_params=_conv_params, count_macs=_conv_macs,
    summary=_conv_summary, auto_params={"in_channels": lambda s: s[0][0]}))


def _conv_transpose_infer(params, in_shapes, context):
    c, h, w = _need_image("ConvTranspose2d", in_shapes[0])
    _auto_check("ConvTranspose2d", "input channels", params["in_channels"], c, f"{c} (input {_dims(in_shapes[0])})")
    out_c, groups = params["out_channels"], params["groups"]
    if c % groups or out_c % groups:
        raise ShapeError(f"ConvTranspose2d: groups={groups} must divide both the input channels ({c}) and "
                         f"out_channels ({out_c})")
    k, s, p, d, extra = (params[n] for n in ("kernel_size", "stride", "padding", "dilation", "output_padding"))
    if any(e >= s[i] and e >= d[i] for i, e in enumerate(extra)):
        raise ShapeError(f"ConvTranspose2d: output_padding {_dims(extra)} must be smaller than the stride "
                         f"{_dims(s)} or the dilation {_dims(d)}")
    oh, ow = ((n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + extra[i] + 1 for i, n in enumerate((h, w)))
    if oh < 1 or ow < 1:
        raise ShapeError(f"ConvTranspose2d: padding {_dims(p)} leaves no output from the input {h}×{w}")
    return (out_c, oh, ow)


def _conv_transpose_params(params, in_shapes, out_shape):
    k = params["kernel_size"]
    weights = in_shapes[0][0] * (out_shape[0] // params["groups"]) * k[0] * k[1]
    return weights + (out_shape[0] if params["bias"] else 0)


def _conv_transpose_macs(params, in_shapes, out_shape):
    k = params["kernel_size"]
    return _numel(in_shapes[0]) * (out_shape[0] // params["groups"]) * k[0] * k[1]


def _conv_transpose_module(params, in_shapes):
    p = params
    kwargs = {"kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
              "output_padding": p["output_padding"], "groups": p["groups"], "bias": p["bias"],
              "dilation": p["dilation"]}
    return _call("ConvTranspose2d", (in_shapes[0][0], p["out_channels"]), kwargs,
                 {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1})


register(LayerType(
    "ConvTranspose2d", "Convolution", "Transposed 2-D convolution: learned upsampling (stride 2 doubles H and W).",
    _specs(ParamSpec("in_channels", "int", None, minimum=1, maximum=65536,
                     help="input channels; auto takes them from the input"),
           ParamSpec("out_channels", "int", 16, minimum=1, maximum=65536, key=True),
           ParamSpec("kernel_size", "pair", (2, 2), minimum=1, maximum=64, key=True),
           ParamSpec("stride", "pair", (2, 2), minimum=1, maximum=64),
           ParamSpec("padding", "pair", (0, 0), minimum=0, maximum=64),
           ParamSpec("output_padding", "pair", (0, 0), minimum=0, maximum=63,
                     help="rows and columns added at the end; smaller than the stride or the dilation"),
           ParamSpec("dilation", "pair", (1, 1), minimum=1, maximum=64),
           ParamSpec("groups", "int", 1, minimum=1, maximum=65536),
           ParamSpec("bias", "bool", True)),
    _conv_transpose_infer, prefix="deconv", module=_conv_transpose_module, count_params=_conv_transpose_params,
    count_macs=_conv_transpose_macs, summary=_conv_summary, auto_params={"in_channels": lambda s: s[0][0]}))


# ----- Pooling -----
def _pool_out(size, k, s, p, ceil_mode):
    out = (size + 2 * p - k + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_infer(name):
    def infer(params, in_shapes, context):
        c, h, w = _need_image(name, in_shapes[0])
        k = params["kernel_size"]
        s = params["stride"] if params["stride"] is not None else k
        p = params["padding"]
        if p[0] > k[0] // 2 or p[1] > k[1] // 2:
            raise ShapeError(f"{name}: padding {_dims(p)} must be at most half the kernel size {_dims(k)}")
        oh, ow = _pool_out(h, k[0], s[0], p[0], params["ceil_mode"]), _pool_out(w, k[1], s[1], p[1],
                                                                                   params["ceil_mode"])
        if oh < 1 or ow < 1:
            raise ShapeError(f"{name}: kernel {_dims(k)} is larger than the input {h}×{w}")
        return (c, oh, ow)

    return infer


def _pool_macs(params, in_shapes, out_shape):
    k = params["kernel_size"]
    return _numel(out_shape) * k[0] * k[1]


def _pool_module(name):
    def module(params, in_shapes):
        kwargs = {"stride": params["stride"], "padding": params["padding"], "ceil_mode": params["ceil_mode"]}
        return _call(name, (params["kernel_size"],), kwargs, {"stride": None, "padding": 0, "ceil_mode": False})

    return module


def _pool_summary(p):
    k, s = p["kernel_size"], p["stride"] if p["stride"] is not None else p["kernel_size"]
    text = f"k{k[0]}" if k[0] == k[1] else f"k{k[0]}×{k[1]}"
    if s != k:
        text += f", s{s[0]}" if s[0] == s[1] else f", s{s[0]}×{s[1]}"
    return text


def _pool_specs():
    return _specs(ParamSpec("kernel_size", "pair", (2, 2), minimum=1, maximum=64, key=True),
                  ParamSpec("stride", "pair", None, minimum=1, maximum=64, help="default: the kernel size"),
                  ParamSpec("padding", "pair", (0, 0), minimum=0, maximum=32),
                  ParamSpec("ceil_mode", "bool", False))


for _name, _prefix, _text in (("MaxPool2d", "pool", "Maximum over each window."),
                              ("AvgPool2d", "avgpool", "Average over each window.")):
    register(LayerType(_name, "Pooling", _text, _pool_specs(), _pool_infer(_name), prefix=_prefix,
                       module=_pool_module(_name), count_macs=_pool_macs, summary=_pool_summary))


def _adaptive_infer(name):
    def infer(params, in_shapes, context):
        return (_need_image(name, in_shapes[0])[0], *params["output_size"])

    return infer


for _name, _prefix, _text in (
        ("AdaptiveAvgPool2d", "gap", "Average pooling to a fixed output size (1×1: global average pool)."),
        ("AdaptiveMaxPool2d", "gmp", "Max pooling to a fixed output size (1×1: global max pool).")):
    register(LayerType(
        _name, "Pooling", _text, _specs(ParamSpec("output_size", "pair", (1, 1), minimum=1, maximum=4096, key=True)),
        _adaptive_infer(_name), prefix=_prefix,
        module=lambda p, s, _n=_name: _call(_n, (p["output_size"],), {}, {}),
        count_macs=lambda p, s, o: _numel(s[0]),
        summary=lambda p: f"→{_dims(p['output_size'])}"))


def _spatial_mean_infer(params, in_shapes, context):
    c = _need_image("Mean", in_shapes[0])[0]
    return (c, 1, 1) if params["keepdim"] else (c,)


register(LayerType(
    "Mean", "Pooling", "Mean over the spatial positions of each channel (squeeze-and-excitation's squeeze).",
    _specs(ParamSpec("keepdim", "bool", True, key=True, help="keep the spatial axes as size 1 (C×1×1)")),
    _spatial_mean_infer, prefix="mean",
    combine=lambda xs, p: xs[0].mean((2, 3), keepdim=p["keepdim"]),
    code=lambda names, p: f"{names[0]}.mean((2, 3){', keepdim=True' if p['keepdim'] else ''})",
    count_macs=lambda p, s, o: _numel(s[0]),
    summary=lambda p: "H×W → 1×1" if p["keepdim"] else "H×W → vector"))


def _upsample_infer(params, in_shapes, context):
    c, h, w = _need_image("Upsample", in_shapes[0])
    scale = params["scale_factor"]
    return (c, h * scale[0], w * scale[1])


def _upsample_module(params, in_shapes):
    kwargs = {"scale_factor": params["scale_factor"], "mode": params["mode"]}
    if params["mode"] == "bilinear":
        kwargs["align_corners"] = params["align_corners"]
    return _call("Upsample", (), kwargs, {"mode": "nearest", "align_corners": False})


register(LayerType(
    "Upsample", "Pooling", "Enlarges each map by a whole scale factor: nearest neighbour or bilinear.",
    _specs(ParamSpec("scale_factor", "pair", (2, 2), minimum=1, maximum=32, key=True),
           ParamSpec("mode", "choice", "nearest", choices=("nearest", "bilinear"), key=True),
           ParamSpec("align_corners", "bool", False, applies=("mode", ("bilinear",)),
                     help="corner pixels of input and output aligned")),
    _upsample_infer, prefix="upsample", module=_upsample_module,
    count_macs=lambda p, s, o: 4 * _numel(o) if p["mode"] == "bilinear" else 0,
    summary=lambda p: f"×{_pair_text(p['scale_factor'])}, {p['mode']}"))


def _pixel_shuffle_infer(params, in_shapes, context):
    c, h, w = _need_image("PixelShuffle", in_shapes[0])
    r = params["upscale_factor"]
    if c % (r * r):
        raise ShapeError(f"PixelShuffle: the channels ({c}) must be divisible by upscale_factor² ({r * r})")
    return (c // (r * r), h * r, w * r)


register(LayerType(
    "PixelShuffle", "Pooling", "Rearranges C·r²×H×W into C×rH×rW (sub-pixel upsampling).",
    _specs(ParamSpec("upscale_factor", "int", 2, minimum=1, maximum=16, key=True)),
    _pixel_shuffle_infer, prefix="shuffle",
    module=lambda p, s: ModuleCall("PixelShuffle", (p["upscale_factor"],)),
    summary=lambda p: f"×{p['upscale_factor']}"))


# ----- Linear -----
def _linear_infer(params, in_shapes, context):
    shape = in_shapes[0]
    features = shape[-1]
    declared = params["in_features"]
    if declared is not None and declared != features:
        if len(shape) > 1 and declared == _numel(shape):
            raise ShapeError(f"Linear expects {declared} input features but receives {_dims(shape)} = "
                             f"{_numel(shape)}: add a Flatten before it")
        raise ShapeError(f"Linear expects {declared} input features but receives "
                         + (f"{_dims(shape)} (last dimension {features})" if len(shape) > 1 else str(features)))
    return (*shape[:-1], params["out_features"])


register(LayerType(
    "Linear", "Linear", "Fully connected layer on the last dimension.",
    _specs(ParamSpec("in_features", "int", None, minimum=1, maximum=1 << 24,
                     help="input features; auto takes them from the input"),
           ParamSpec("out_features", "int", 10, minimum=1, maximum=1 << 24, key=True),
           ParamSpec("bias", "bool", True)),
    _linear_infer, prefix="fc",
    module=lambda p, s: _call("Linear", (s[0][-1], p["out_features"]), {"bias": p["bias"]}, {"bias": True}),
    count_params=lambda p, s, o: s[0][-1] * o[-1] + (o[-1] if p["bias"] else 0),
    count_macs=lambda p, s, o: _numel(s[0]) * o[-1],
    summary=lambda p: f"{p['in_features'] if p['in_features'] is not None else '?'}→{p['out_features']}",
    auto_params={"in_features": lambda s: s[0][-1]}))


# ----- Attention (a sequence of N tokens of D features per sample: N×D) -----
def _need_tokens(name, shape):
    if len(shape) != 2:
        raise ShapeError(f"{name} expects N×D tokens but receives {_dims(shape)}: a patch embedding makes them "
                         "(Conv2d with stride = kernel size, Reshape to D×-1, Permute to (1, 0))")
    return shape


def _self_attention_infer(params, in_shapes, context):
    n, d = _need_tokens("SelfAttention", in_shapes[0])
    if d % params["num_heads"]:
        raise ShapeError(f"SelfAttention: the {d} features must divide into num_heads={params['num_heads']} heads")
    return (n, d)


def _self_attention_macs(params, in_shapes, out_shape):
    n, d = in_shapes[0]
    return 4 * n * d * d + 2 * n * n * d  # the q, k, v and output projections, then scores and their sum


register(LayerType(
    "SelfAttention", "Attention", "Multi-head self-attention over the tokens (nn.MultiheadAttention with the "
    "tokens as query, key and value).",
    _specs(ParamSpec("num_heads", "int", 4, minimum=1, maximum=1024, key=True, help="must divide the features"),
           ParamSpec("dropout", "float", 0.0, minimum=0.0, maximum=1.0, help="on the attention weights"),
           ParamSpec("bias", "bool", True)),
    _self_attention_infer, prefix="attn",
    module=lambda p, s: _call("MultiheadAttention", (s[0][1], p["num_heads"]),
                              {"dropout": p["dropout"], "bias": p["bias"], "batch_first": True},
                              {"dropout": 0.0, "bias": True}),
    apply=lambda module, x: module(x, x, x, need_weights=False)[0],
    apply_code=lambda module, x: f"{module}({x}, {x}, {x}, need_weights=False)[0]",
    count_params=lambda p, s, o: 4 * s[0][1] * (s[0][1] + p["bias"]),
    count_macs=_self_attention_macs, summary=lambda p: f"{p['num_heads']} heads"))
register(LayerType(
    "PositionEmbedding", "Attention", "Adds a learned vector to each token position (the Embedding's weight, "
    "N×D), so attention can tell the patches apart.",
    {}, lambda p, s, c: _need_tokens("PositionEmbedding", s[0]), prefix="pos",
    module=lambda p, s: ModuleCall("Embedding", s[0]),
    apply=lambda module, x: x + module.weight,
    apply_code=lambda module, x: f"{x} + {module}.weight",
    count_params=lambda p, s, o: _numel(s[0]), count_macs=lambda p, s, o: _numel(o), summary=lambda p: "learned"))


def _class_token_infer(params, in_shapes, context):
    n, d = _need_tokens("ClassToken", in_shapes[0])
    return (n + 1, d)


register(LayerType(
    "ClassToken", "Attention", "Puts a learned token before the others (the Embedding's 1×D weight); a "
    "TokenPool taking the first token then reads the class from it (ViT).",
    {}, _class_token_infer, prefix="cls",
    module=lambda p, s: ModuleCall("Embedding", (1, s[0][1])),
    apply=lambda module, x: cat([module.weight.expand(x.shape[0], 1, -1), x], 1),
    apply_code=lambda module, x: f"torch.cat([{module}.weight.expand({x}.shape[0], 1, -1), {x}], 1)",
    count_params=lambda p, s, o: s[0][1], summary=lambda p: "+1 token"))


def _token_pool_infer(params, in_shapes, context):
    return _need_tokens("TokenPool", in_shapes[0])[1:]


register(LayerType(
    "TokenPool", "Attention", "One D vector per sample from its N×D tokens: their mean, or the first (the "
    "class token).",
    _specs(ParamSpec("mode", "choice", "mean", choices=("mean", "first"), key=True)),
    _token_pool_infer, prefix="pool_tokens",
    combine=lambda xs, p: xs[0].mean(1) if p["mode"] == "mean" else xs[0][:, 0],
    code=lambda names, p: f"{names[0]}.mean(1)" if p["mode"] == "mean" else f"{names[0]}[:, 0]",
    count_macs=lambda p, s, o: _numel(s[0]) if p["mode"] == "mean" else 0,
    summary=lambda p: "mean of tokens" if p["mode"] == "mean" else "first token"))


# ----- Normalisation -----
def _norm_infer(name, ranks):
    def infer(params, in_shapes, context):
        shape = in_shapes[0]
        if len(shape) not in ranks:
            wanted = " or ".join({1: "C", 2: "C×L", 3: "C×H×W"}[r] for r in ranks)
            raise ShapeError(f"{name} expects a {wanted} input but receives {_dims(shape)}")
        _auto_check(name, "features", params["num_features"], shape[0])
        return shape

    return infer


def _norm_specs():
    return _specs(ParamSpec("num_features", "int", None, minimum=1, maximum=1 << 24,
                            help="channels; auto takes them from the input"),
                  ParamSpec("eps", "float", 1e-5, minimum=1e-12, maximum=1.0),
                  ParamSpec("momentum", "float", 0.1, minimum=0.0, maximum=1.0),
                  ParamSpec("affine", "bool", True))


def _norm_module(name):
    return lambda p, s: _call(name, (s[0][0],), {"eps": p["eps"], "momentum": p["momentum"], "affine": p["affine"]},
                              {"eps": 1e-5, "momentum": 0.1, "affine": True})


for _name, _ranks in (("BatchNorm1d", (1, 2)), ("BatchNorm2d", (3,))):
    register(LayerType(
        _name, "Normalisation", "Batch normalisation with running statistics for evaluation.", _norm_specs(),
        _norm_infer(_name, _ranks), prefix="bn", module=_norm_module(_name),
        count_params=lambda p, s, o: 2 * s[0][0] if p["affine"] else 0,
        count_macs=lambda p, s, o: _numel(o), summary=lambda p: ""))


def _group_norm_infer(params, in_shapes, context):
    shape = in_shapes[0]
    _auto_check("GroupNorm", "channels", params["num_channels"], shape[0])
    if shape[0] % params["num_groups"]:
        raise ShapeError(f"GroupNorm: num_groups={params['num_groups']} must divide the channels ({shape[0]})")
    return shape


register(LayerType(
    "GroupNorm", "Normalisation", "Normalises each sample over groups of channels (batch-size independent).",
    _specs(ParamSpec("num_groups", "int", 1, minimum=1, maximum=65536, key=True,
                     help="must divide the channels; 1 normalises each sample as a whole"),
           ParamSpec("num_channels", "int", None, minimum=1, maximum=1 << 24,
                     help="channels; auto takes them from the input"),
           ParamSpec("eps", "float", 1e-5, minimum=1e-12, maximum=1.0),
           ParamSpec("affine", "bool", True)),
    _group_norm_infer, prefix="gn",
    module=lambda p, s: _call("GroupNorm", (p["num_groups"], s[0][0]), {"eps": p["eps"], "affine": p["affine"]},
                              {"eps": 1e-5, "affine": True}),
    count_params=lambda p, s, o: 2 * s[0][0] if p["affine"] else 0,
    count_macs=lambda p, s, o: _numel(o), summary=lambda p: f"{p['num_groups']} groups"))

register(LayerType(
    "InstanceNorm2d", "Normalisation", "Normalises each channel of each sample over its H×W positions.",
    _specs(*list(_norm_specs().values())[:3], ParamSpec("affine", "bool", False),
           ParamSpec("track_running_stats", "bool", False, help="keep running statistics for evaluation")),
    _norm_infer("InstanceNorm2d", (3,)), prefix="in",
    module=lambda p, s: _call("InstanceNorm2d", (s[0][0],),
                              {"eps": p["eps"], "momentum": p["momentum"], "affine": p["affine"],
                               "track_running_stats": p["track_running_stats"]},
                              {"eps": 1e-5, "momentum": 0.1, "affine": False, "track_running_stats": False}),
    count_params=lambda p, s, o: 2 * s[0][0] if p["affine"] else 0,
    count_macs=lambda p, s, o: _numel(o),
    summary=lambda p: "running stats" if p["track_running_stats"] else "per sample"))


def _layer_norm_type(name, prefix, description, axis, what, **extra):
    """LayerNorm over the sample's dimension ``axis`` (the last: LayerNorm; the channels of C×H×W:
    LayerNorm2d, whose ``extra`` says how to apply ``nn.LayerNorm`` there)."""
    def infer(params, in_shapes, context):
        shape = _need_image(name, in_shapes[0]) if axis == 0 else in_shapes[0]
        _auto_check(name, "features", params["normalized_shape"], shape[axis])
        return shape

    def module(p, s):
        kwargs = {"eps": p["eps"], "elementwise_affine": p["elementwise_affine"],
                  "bias": p["bias"] or not p["elementwise_affine"]}
        return _call("LayerNorm", (s[0][axis],), kwargs, {"eps": 1e-5, "elementwise_affine": True, "bias": True})

    register(LayerType(
        name, "Normalisation", description,
        _specs(ParamSpec("normalized_shape", "int", None, minimum=1, maximum=1 << 24,
                         help=f"{what}; auto takes them from the input"),
               ParamSpec("eps", "float", 1e-5, minimum=1e-12, maximum=1.0),
               ParamSpec("elementwise_affine", "bool", True),
               ParamSpec("bias", "bool", True, applies=("elementwise_affine", (True,)))),
        infer, prefix=prefix, module=module,
        count_params=lambda p, s, o: s[0][axis] * (1 + p["bias"]) if p["elementwise_affine"] else 0,
        count_macs=lambda p, s, o: _numel(o), summary=lambda p: what, **extra))


_layer_norm_type("LayerNorm", "ln", "Normalises each vector of the last dimension (transformers, MLP blocks).",
                 -1, "last dimension")
_layer_norm_type("LayerNorm2d", "ln2d", "LayerNorm of the C channels at each position of a C×H×W map (ConvNeXt): "
                 "permute, LayerNorm, permute back.", 0, "channels",
                 apply=lambda module, x: module(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2),
                 apply_code=lambda module, x: f"{module}({x}.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)")


# ----- Activations -----
def _activation(name, description, specs=(), module=None, summary=None, prefix=None):
    register(LayerType(name, "Activation", description, _specs(*specs), _same, prefix=prefix or name.lower(),
                       module=module or (lambda p, s: ModuleCall(name)), summary=summary or (lambda p: "")))


_activation("ReLU", "max(0, x)")
_activation("LeakyReLU", "x for x > 0, negative_slope·x otherwise",
            [ParamSpec("negative_slope", "float", 0.01, minimum=0.0, maximum=1.0, key=True)],
            lambda p, s: _call("LeakyReLU", (), {"negative_slope": p["negative_slope"]}, {"negative_slope": 0.01}))
_activation("GELU", "Gaussian error linear unit",
            [ParamSpec("approximate", "choice", "none", choices=("none", "tanh"))],
            lambda p, s: _call("GELU", (), {"approximate": p["approximate"]}, {"approximate": "none"}))
_activation("Sigmoid", "1 / (1 + exp(-x))")
_activation("Tanh", "hyperbolic tangent")
_activation("SiLU", "x·sigmoid(x) (swish)")
_activation("Hardswish", "x·hardsigmoid(x)")
_activation("Hardsigmoid", "clamp(x/6 + 1/2, 0, 1)")
_activation("ReLU6", "min(max(0, x), 6)", prefix="relu6_")
_activation("Mish", "x·tanh(softplus(x))")
_activation("ELU", "x for x > 0, alpha·(exp(x) - 1) otherwise",
            [ParamSpec("alpha", "float", 1.0, minimum=0.0, maximum=100.0, key=True)],
            lambda p, s: _call("ELU", (), {"alpha": p["alpha"]}, {"alpha": 1.0}), lambda p: f"alpha={p['alpha']:g}")
_activation("SELU", "scale·ELU(x, alpha), self-normalising")
_activation("Softplus", "log(1 + exp(beta·x)) / beta; x where beta·x > threshold",
            [ParamSpec("beta", "float", 1.0, minimum=1e-3, maximum=1000.0, key=True),
             ParamSpec("threshold", "float", 20.0, minimum=0.0, maximum=1000.0)],
            lambda p, s: _call("Softplus", (), {"beta": p["beta"], "threshold": p["threshold"]},
                               {"beta": 1.0, "threshold": 20.0}), lambda p: f"beta={p['beta']:g}")


def _prelu_infer(params, in_shapes, context):
    n, channels = params["num_parameters"], in_shapes[0][0]
    if n not in (1, channels):
        raise ShapeError(f"PReLU: num_parameters={n} must be 1 or the input channels ({channels})")
    return in_shapes[0]


register(LayerType(
    "PReLU", "Activation", "x for x > 0, a·x otherwise, with a learned slope a (one, or one per channel).",
    _specs(ParamSpec("num_parameters", "int", 1, minimum=1, maximum=65536, key=True,
                     help="1 (one slope) or the input channels (a slope each)"),
           ParamSpec("init", "float", 0.25, minimum=0.0, maximum=1.0, help="the slopes' initial value")),
    _prelu_infer, prefix="prelu",
    module=lambda p, s: _call("PReLU", (), {"num_parameters": p["num_parameters"], "init": p["init"]},
                              {"num_parameters": 1, "init": 0.25}),
    count_params=lambda p, s, o: p["num_parameters"],
    summary=lambda p: f"{p['num_parameters']} slope{'s' if p['num_parameters'] > 1 else ''}"))


def _softmax_infer(name):
    def infer(params, in_shapes, context):
        rank = len(in_shapes[0]) + 1
        if not -rank <= params["dim"] < rank or params["dim"] == 0 or params["dim"] == -rank:
            raise ShapeError(f"{name}: dim {params['dim']} must name a non-batch dimension of a "
                             f"{rank}-dimensional batch (1 to {rank - 1}, or -1 to {1 - rank})")
        return in_shapes[0]

    return infer


for _name, _text in (("Softmax", "probabilities along a dimension"),
                     ("LogSoftmax", "log-probabilities along a dimension")):
    register(LayerType(_name, "Activation", _text,
                       _specs(ParamSpec("dim", "int", 1, minimum=-8, maximum=8, help="batch dimension is 0")),
                       _softmax_infer(_name), prefix=_name.lower(),
                       module=lambda p, s, _n=_name: ModuleCall(_n, (), {"dim": p["dim"]}),
                       summary=lambda p: f"dim {p['dim']}"))


# ----- Regularisation -----
register(LayerType(
    "Dropout", "Regularisation", "Zeroes elements with probability p while training.",
    _specs(ParamSpec("p", "float", 0.5, minimum=0.0, maximum=1.0, key=True)),
    _same, prefix="dropout", module=lambda p, s: ModuleCall("Dropout", (p["p"],)),
    summary=lambda p: f"p={p['p']:g}"))
register(LayerType(
    "Dropout2d", "Regularisation", "Zeroes whole channels with probability p while training.",
    _specs(ParamSpec("p", "float", 0.5, minimum=0.0, maximum=1.0, key=True)),
    lambda p, s, c: _need_image("Dropout2d", s[0]), prefix="dropout2d_",
    module=lambda p, s: ModuleCall("Dropout2d", (p["p"],)), summary=lambda p: f"p={p['p']:g}"))


# ----- Merge -----
def _add_infer(params, in_shapes, context):
    first = in_shapes[0]
    for other in in_shapes[1:]:
        if other != first:
            raise ShapeError(f"Add: inputs {_dims(first)} and {_dims(other)} differ")
    return first


def _concat_infer(params, in_shapes, context):
    rank = len(in_shapes[0])
    dim = _dim_of("Concat", params, in_shapes[0])
    for other in in_shapes[1:]:
        if len(other) != rank or any(a != b for i, (a, b) in enumerate(zip(in_shapes[0], other)) if i != dim):
            raise ShapeError(f"Concat: inputs {_dims(in_shapes[0])} and {_dims(other)} differ outside dim {dim}")
    out = list(in_shapes[0])
    out[dim] = sum(s[dim] for s in in_shapes)
    return tuple(out)


def _add(xs, params):
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def _concat(xs, params):
    return cat(xs, params["dim"] + 1)


register(LayerType("Add", "Merge", "Element-wise sum of its inputs (residual connections).", {}, _add_infer,
                   inputs=(2, None), prefix="add", combine=_add,
                   code=lambda names, p: " + ".join(names),
                   count_macs=lambda p, s, o: _numel(o) * (len(s) - 1), summary=lambda p: "+"))
register(LayerType("Concat", "Merge", "Joins its inputs along a dimension (0: channels).",
                   _specs(_DIM), _concat_infer, inputs=(2, None), prefix="cat", combine=_concat,
                   code=lambda names, p: f"torch.cat([{', '.join(names)}], {p['dim'] + 1})",
                   summary=lambda p: f"dim {p['dim']}"))


def _multiply_infer(params, in_shapes, context):
    out = in_shapes[0]
    for other in in_shapes[1:]:
        if len(other) != len(out):
            raise ShapeError(f"Multiply: inputs {_dims(out)} and {_dims(other)} differ in rank (a channel gate is "
                             "C×1×1: a Mean with keepdim)")
        if any(a != b and 1 not in (a, b) for a, b in zip(out, other)):
            raise ShapeError(f"Multiply: inputs {_dims(out)} and {_dims(other)} do not broadcast (each "
                             "dimension must agree or be 1)")
        out = tuple(max(a, b) for a, b in zip(out, other))
    return out


def _multiply(xs, params):
    product = xs[0]
    for x in xs[1:]:
        product = product * x
    return product


register(LayerType("Multiply", "Merge",
                   "Element-wise product of its inputs, broadcasting size-1 dimensions (a C×1×1 gate times a "
                   "C×H×W map: squeeze-and-excitation).", {}, _multiply_infer,
                   inputs=(2, None), prefix="mul", combine=_multiply, code=lambda names, p: " * ".join(names),
                   count_macs=lambda p, s, o: _numel(o) * (len(s) - 1), summary=lambda p: "×"))


# ----- Reshape -----
register(LayerType("Flatten", "Reshape", "Flattens each sample to a vector.", {},
                   lambda p, s, c: (_numel(s[0]),), prefix="flatten", module=lambda p, s: ModuleCall("Flatten"),
                   summary=lambda p: ""))
register(LayerType("Identity", "Reshape", "Passes its input through unchanged.", {}, _same, prefix="identity",
                   module=lambda p, s: ModuleCall("Identity"), summary=lambda p: ""))


def _reshape_infer(params, in_shapes, context):
    shape, size = params["shape"], _numel(in_shapes[0])
    if 0 in shape or shape.count(-1) > 1:
        raise ShapeError(f"Reshape: the shape {_dims(shape)} may hold positive sizes and at most one -1")
    known = -_numel(shape) if -1 in shape else _numel(shape)
    if size % known or (-1 not in shape and known != size):
        raise ShapeError(f"Reshape: {_dims(in_shapes[0])} ({size} values) does not fit the shape {_dims(shape)}")
    return tuple(size // known if d == -1 else d for d in shape)


register(LayerType("Reshape", "Reshape", "Gives each sample a new shape with the same values (-1: the rest).",
                   _specs(ParamSpec("shape", "shape", (-1,), minimum=-1, maximum=1 << 24, key=True,
                                    help="sizes without the batch; one may be -1")),
                   _reshape_infer, prefix="reshape",
                   combine=lambda xs, p: xs[0].reshape(xs[0].shape[0], *p["shape"]),
                   code=lambda names, p: f"{names[0]}.reshape({names[0]}.shape[0], {', '.join(map(str, p['shape']))})",
                   summary=lambda p: f"→{_dims(p['shape'])}"))


def _permute_infer(params, in_shapes, context):
    dims, rank = params["dims"], len(in_shapes[0])
    if sorted(dims) != list(range(rank)):
        raise ShapeError(f"Permute: dims {', '.join(map(str, dims))} must order the {rank} dimensions of "
                         f"{_dims(in_shapes[0])}, each once (0 to {rank - 1}; the batch is not counted)")
    return tuple(in_shapes[0][d] for d in dims)


register(LayerType("Permute", "Reshape", "Reorders the dimensions of each sample (C×N patches to N×C tokens).",
                   _specs(ParamSpec("dims", "ints", (1, 0), minimum=0, maximum=7, key=True,
                                    help="the new order of the dimensions; 0 is the first after the batch")),
                   _permute_infer, prefix="permute",
                   combine=lambda xs, p: xs[0].permute(0, *(d + 1 for d in p["dims"])),
                   code=lambda names, p: f"{names[0]}.permute(0, {', '.join(str(d + 1) for d in p['dims'])})",
                   summary=lambda p: f"({', '.join(map(str, p['dims']))})"))


def _pieces(shape, dim, sizes):
    return [(*shape[:dim], size, *shape[dim + 1:]) for size in sizes]


def _split_infer(params, in_shapes, context):
    shape, sizes = in_shapes[0], params["sizes"]
    dim = _dim_of("Split", params, shape)
    if sum(sizes) != shape[dim]:
        raise ShapeError(f"Split: the sizes {', '.join(map(str, sizes))} add up to {sum(sizes)}, but dim {dim} of "
                         f"{_dims(shape)} has {shape[dim]}")
    return _pieces(shape, dim, sizes)


def _chunk_infer(params, in_shapes, context):
    shape, chunks = in_shapes[0], params["chunks"]
    dim = _dim_of("Chunk", params, shape)
    sizes = chunk_sizes(shape[dim], chunks)
    if len(sizes) != chunks:
        raise ShapeError(f"Chunk: dim {dim} of {_dims(shape)} has {shape[dim]}, which torch.chunk cuts into "
                         f"{len(sizes)} pieces ({', '.join(map(str, sizes))}), not {chunks}; use Split for "
                         "pieces of your own sizes")
    return _pieces(shape, dim, sizes)


register(LayerType("Split", "Reshape", "Cuts its input into pieces of the given sizes along a dimension, one "
                   "output each (torch.split).",
                   _specs(ParamSpec("sizes", "ints", (1, 1), minimum=1, maximum=1 << 24, key=True,
                                    length=(1, MAX_OUTPUTS), help="the size of each piece; they add up to the "
                                    "dimension's size"), _DIM),
                   _split_infer, prefix="split", outputs=lambda p: len(p["sizes"]),
                   combine=lambda xs, p: split(xs[0], list(p["sizes"]), p["dim"] + 1),
                   code=lambda names, p: f"torch.split({names[0]}, {list(p['sizes'])!r}, {p['dim'] + 1})",
                   summary=lambda p: f"{', '.join(map(str, p['sizes']))} on dim {p['dim']}"))
register(LayerType("Chunk", "Reshape", "Cuts its input into equal pieces along a dimension, one output each "
                   "(torch.chunk: the last piece may be smaller).",
                   _specs(ParamSpec("chunks", "int", 2, minimum=1, maximum=MAX_OUTPUTS, key=True), _DIM),
                   _chunk_infer, prefix="chunk", outputs=lambda p: p["chunks"],
                   combine=lambda xs, p: chunk(xs[0], p["chunks"], p["dim"] + 1),
                   code=lambda names, p: f"torch.chunk({names[0]}, {p['chunks']}, {p['dim'] + 1})",
                   summary=lambda p: f"{p['chunks']} on dim {p['dim']}"))
