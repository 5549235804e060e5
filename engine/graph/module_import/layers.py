"""Which catalogue layer an engine module is, with the parameters its attributes give. A module whose class
is not here is traced into (its children and the operations between them become the layers)."""

from ... import nn


def pair(value):
    """A module's size argument as a pair: ``3`` -> ``(3, 3)``."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _conv(m):
    if m.padding_mode != "zeros":
        return None
    padding = m.padding if isinstance(m.padding, str) else pair(m.padding)
    return "Conv2d", {"in_channels": m.in_channels, "out_channels": m.out_channels, "kernel_size": pair(m.kernel_size),
                      "stride": pair(m.stride), "padding": padding, "dilation": pair(m.dilation),
                      "groups": m.groups, "bias": m.bias is not None}


def _conv_transpose(m):
    return "ConvTranspose2d", {
        "in_channels": m.in_channels, "out_channels": m.out_channels, "kernel_size": pair(m.kernel_size),
        "stride": pair(m.stride), "padding": pair(m.padding), "output_padding": pair(m.output_padding),
        "dilation": pair(m.dilation), "groups": m.groups, "bias": m.bias is not None}


def _pool(type_name):
    def read(m):
        if any(d != 1 for d in pair(getattr(m, "dilation", 1))) or getattr(m, "return_indices", False):
            return None
        if type_name == "AvgPool2d" and (not m.count_include_pad or m.divisor_override is not None):
            return None
        stride = m.stride if m.stride else m.kernel_size
        return type_name, {"kernel_size": pair(m.kernel_size), "stride": pair(stride), "padding": pair(m.padding),
                           "ceil_mode": bool(m.ceil_mode)}

    return read


def _adaptive(type_name):
    def read(m):
        size = pair(m.output_size)
        return None if None in size else (type_name, {"output_size": size})

    return read


def _norm(type_name):
    def read(m):
        params = {"num_features": m.num_features, "eps": m.eps, "affine": m.affine}
        if type_name.startswith("BatchNorm"):
            if not m.track_running_stats or m.momentum is None:
                return None
            params["momentum"] = m.momentum
        else:
            params["track_running_stats"] = m.track_running_stats
        return type_name, params

    return read


def _layer_norm(m):
    if len(m.normalized_shape) != 1:
        return None
    return "LayerNorm", {"normalized_shape": m.normalized_shape[0], "eps": m.eps,
                         "elementwise_affine": m.elementwise_affine, "bias": m.bias is not None}


def _attention(m):
    if not m.batch_first or not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        return None
    return "SelfAttention", {"num_heads": m.num_heads, "dropout": m.dropout, "bias": m.in_proj_bias is not None}


MODULES = {
    nn.Conv2d: _conv, nn.ConvTranspose2d: _conv_transpose,
    nn.MaxPool2d: _pool("MaxPool2d"), nn.AvgPool2d: _pool("AvgPool2d"),
    nn.AdaptiveAvgPool2d: _adaptive("AdaptiveAvgPool2d"), nn.AdaptiveMaxPool2d: _adaptive("AdaptiveMaxPool2d"),
    nn.Linear: lambda m: ("Linear", {"in_features": m.in_features, "out_features": m.out_features,
                                     "bias": m.bias is not None}),
    nn.BatchNorm1d: _norm("BatchNorm1d"), nn.BatchNorm2d: _norm("BatchNorm2d"),
    nn.InstanceNorm2d: _norm("InstanceNorm2d"),
    nn.GroupNorm: lambda m: ("GroupNorm", {"num_groups": m.num_groups, "num_channels": m.num_channels, "eps": m.eps,
                                           "affine": m.affine}),
    nn.LayerNorm: _layer_norm,
    nn.ReLU: lambda m: ("ReLU", {}), nn.ReLU6: lambda m: ("ReLU6", {}), nn.Sigmoid: lambda m: ("Sigmoid", {}),
    nn.Tanh: lambda m: ("Tanh", {}), nn.SiLU: lambda m: ("SiLU", {}), nn.Mish: lambda m: ("Mish", {}),
    nn.Hardswish: lambda m: ("Hardswish", {}), nn.Hardsigmoid: lambda m: ("Hardsigmoid", {}),
    nn.SELU: lambda m: ("SELU", {}), nn.GELU: lambda m: ("GELU", {"approximate": m.approximate}),
    nn.LeakyReLU: lambda m: ("LeakyReLU", {"negative_slope": m.negative_slope}),
    nn.ELU: lambda m: ("ELU", {"alpha": m.alpha}),
    nn.Softplus: lambda m: ("Softplus", {"beta": m.beta, "threshold": m.threshold}),
    nn.PReLU: lambda m: ("PReLU", {"num_parameters": m.num_parameters}),
    nn.Softmax: lambda m: None if m.dim is None else ("Softmax", {"dim": m.dim}),
    nn.LogSoftmax: lambda m: None if m.dim is None else ("LogSoftmax", {"dim": m.dim}),
    nn.Dropout: lambda m: ("Dropout", {"p": m.p}), nn.Dropout2d: lambda m: ("Dropout2d", {"p": m.p}),
    nn.Identity: lambda m: ("Identity", {}),
    nn.Flatten: lambda m: ("Flatten", {}) if (m.start_dim, m.end_dim) == (1, -1) else None,
    nn.PixelShuffle: lambda m: ("PixelShuffle", {"upscale_factor": m.upscale_factor}),
    nn.MultiheadAttention: _attention,
}


def layer_of(module):
    """``(layer type, params)`` for a module of the catalogue, or None (trace into it)."""
    read = MODULES.get(type(module))
    return None if read is None else read(module)
