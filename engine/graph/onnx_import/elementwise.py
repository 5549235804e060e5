"""Activations written out as formulas (GELU by erf or tanh, SiLU, Mish, Softplus with beta and threshold,
hard sigmoid and swish...), recognised by what they compute.

From a node applied to one computed value x, the importer gathers the element-wise nodes that follow and read
only x, each other and scalar constants. The longest run of them that ends in a single value read elsewhere
is run on test points spanning where the activations differ (onnxruntime) and compared with each candidate
activation; the first that agrees becomes the layer, and its nodes are taken. Exporters spell these
functions in many orders; what they compute is the same.
"""

import math

import numpy as np

from .regions import grow, run_region, single_exit

ELEMENTWISE = frozenset(("Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Sqrt", "Reciprocal", "Exp", "Log",
                         "Erf", "Tanh", "Sigmoid", "Softplus", "Relu", "Clip", "Min", "Max", "Greater", "Less",
                         "Where", "HardSigmoid", "HardSwish", "Identity", "Cast"))
MAX_NODES = 24
# where the activations differ, and far out, where a clamp (Min(x, 50)) would show against ReLU's asymptote
POINTS = np.concatenate([np.linspace(-12, 12, 481), np.linspace(12.5, 40, 56),
                         [-1e4, -1e3, -100.0, -60.0, 60.0, 100.0, 1e3, 1e4]]).astype(np.float32)
RTOL, ATOL = 1e-4, 1e-5

_erf = np.vectorize(math.erf)


def _softplus(beta, threshold):
    def f(x):
        scaled = beta * x
        return np.where(scaled > threshold, x, np.log1p(np.exp(np.minimum(scaled, threshold))) / beta)

    return f


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _relu6(x):
    return np.clip(x, 0, 6)


CANDIDATES = (
    ("GELU", {"approximate": "none"}, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    ("GELU", {"approximate": "tanh"},
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("SiLU", {}, lambda x: x * _sigmoid(x)),
    ("Mish", {}, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("Hardswish", {}, lambda x: x * _relu6(x + 3) / 6),
    ("Hardsigmoid", {}, lambda x: _relu6(x + 3) / 6),
    ("Sigmoid", {}, _sigmoid),
    ("Tanh", {}, np.tanh),
    ("ReLU6", {}, _relu6),
    ("ReLU", {}, lambda x: np.maximum(x, 0)),
    ("Softplus", {}, _softplus(1.0, 20.0)),
)


def _candidates(imp, nodes):
    yield from CANDIDATES
    constants = {float(imp.value(name).const.ravel()[0]) for n in nodes for name in n.input if imp.is_scalar(name)}
    for beta in sorted(c for c in constants if c > 0):
        for threshold in sorted({20.0, *constants}):
            yield "Softplus", {"beta": beta, "threshold": threshold}, _softplus(beta, threshold)


def match(imp, start_node, x_name):
    """``(layer type, params, last node)`` for the longest run of element-wise nodes from ``start_node`` on x
    that computes a known activation, with those nodes taken; None when no run does."""
    run = grow(imp, start_node, x_name, ELEMENTWISE, imp.is_scalar, MAX_NODES)
    reference = POINTS.astype(np.float64)
    for end in range(len(run), 0, -1):
        nodes = run[:end]
        out = single_exit(imp, nodes)
        if out is None:
            continue
        got = run_region(imp, nodes, x_name, POINTS, out)
        if got is None or got.size != POINTS.size:
            continue
        got = got.ravel().astype(np.float64)
        for type_name, params, function in _candidates(imp, nodes):
            with np.errstate(over="ignore", invalid="ignore"):  # exp of the far points overflows, as it should
                want = function(reference)
            if np.allclose(got, want, rtol=RTOL, atol=ATOL):
                imp.take(*nodes[1:])
                return type_name, params, nodes[-1]
    return None
