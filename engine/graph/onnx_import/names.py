"""Names for imported layers, from what the file calls its nodes and weights."""

import re

_SCOPE_SPLIT = re.compile(r"[/:]")


def _identifier(text):
    return re.sub(r"\W+", "_", text).strip("_")


def _scopes(onnx_node):
    parts = [p for p in _SCOPE_SPLIT.split(onnx_node.name) if p]
    if parts and re.fullmatch(rf"{re.escape(onnx_node.op_type)}(_\d+)?", parts[-1]):
        parts.pop()
    return parts


def candidate_name(*onnx_nodes):
    """A readable name from the scoped names of ONNX nodes (those of one pattern share their module's scope):
    PyTorch's ``/layer1/layer1.0/conv1/Conv`` gives ``layer1_0_conv1`` (the operator dropped, and each scope
    that the next one extends), LayerLab's own ``conv1`` stays ``conv1``."""
    parts = _scopes(onnx_nodes[0])
    for node in onnx_nodes[1:]:
        other = _scopes(node)
        common = next((k for k, (a, b) in enumerate(zip(parts, other)) if a != b), min(len(parts), len(other)))
        parts = parts[:common]
    kept = [p for k, p in enumerate(parts) if not (k + 1 < len(parts) and parts[k + 1].startswith(p + "."))]
    return _identifier("_".join(kept))


def module_path(onnx_node):
    """The path of the module an ONNX node comes from (``("layer1", "0", "conv1")`` of PyTorch's
    ``/layer1/layer1.0/conv1/Conv``, each scope without the one before it), or None for a node of the model's
    own code (``/Flatten``) or one without a scope."""
    path, previous = [], None
    for part in _scopes(onnx_node):
        inner = part[len(previous) + 1:] if previous and part.startswith(previous + ".") else part
        path.extend(inner.split("."))
        previous = part
    return tuple(path) or None


def parameter_name(name):
    """A node name from a weight's name in the file (``cls_token``, ``pos_embed``, ``head.weight`` -> ``head``)."""
    return _identifier(name.rsplit(".", 1)[0] if name.endswith((".weight", ".bias")) else name)
