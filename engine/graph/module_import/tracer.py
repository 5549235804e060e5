"""Tracing an engine module into a network document: the module runs once on a sample batch; every module of
the catalogue it calls becomes that layer (with its weights), and the operations between them (``x + y``,
``torch.flatten``, ``x.view(x.size(0), -1)``, ``torch.cat``, ``F.relu``...) become the layers that compute
them. A module holding a projection to q, k and v and an output projection is read as self-attention when it
computes it. What cannot be traced (an operation with no layer, a computed value the trace did not follow)
is refused naming the module or operation; and the finished document is run beside the module on a new
batch, so a network that computes something else is never returned.

Operations are followed by wrapping a set of engine functions and tensor methods while the module runs
(``FOLLOWED``); each wrapper runs the real operation and, when a traced tensor goes in, records its layer.
"""

import sys
import threading

import numpy as np

from ... import nn
from ...autograd.grad_mode import no_grad
from ...creation import from_numpy
from ...tensor import Tensor
from ..import_builder import DocumentBuilder
from .errors import TraceRefused
from .layers import layer_of
from .operations import BATCH, followed

TOLERANCE = 1e-4


def _identifier(qualified):
    return qualified.replace(".", "_")


class Trace:
    def __init__(self, model, input_shape):
        self.model, self.input_shape = model, tuple(input_shape)
        self.doc = DocumentBuilder()
        self.values = {}  # id(tensor) -> (Output of the node computing it, the tensor's version then)
        self.constants = {}  # id(tensor) -> (array, batched, name): parameters, and their expansion over the batch
        self.keep = []  # every tensor seen, alive, so that no id is reused while tracing
        self.opaque = []  # the modules being recorded as one layer: nothing inside them is traced
        self.names = {id(m): name for name, m in model.named_modules()}
        self.scope = []  # qualified names of the modules being traced into
        self.local = threading.local()  # .inside: a followed operation runs (its own calls are not recorded)
        self.thread = threading.get_ident()  # only the tracing thread records
        self.recorded, self.notes = set(), []
        self.entering = []  # (tensor, its node output, its version) for each argument of the module being recorded
        for name, p in model.named_parameters():
            self._constant(p, p.detach().numpy(), False, name)

    @property
    def inside_operation(self):
        return getattr(self.local, "inside", False)

    @inside_operation.setter
    def inside_operation(self, value):
        self.local.inside = value

    # ----- bookkeeping -----
    def _constant(self, tensor, array, batched, name):
        self.keep.append(tensor)
        self.constants[id(tensor)] = (array, batched, name)

    def constant_name(self, tensor):
        return _identifier(self.constants[id(tensor)][2])

    def expanded(self, source, result, sizes):
        """A parameter repeated over the batch (``cls_token.expand(x.shape[0], -1, -1)``) stays a constant."""
        constant = self.constants.get(id(source))
        if constant is not None and tuple(source.shape)[:2] == (1, 1) and source.dim() == 3 and len(sizes) == 3 \
                and sizes[0] == BATCH and all(s in (-1, 1, d) for s, d in zip(sizes[1:], source.shape[1:])):
            self._constant(result, constant[0], True, constant[2])

    def traced(self, tensor):
        """The node output a traced tensor holds, or None; a traced tensor changed in place by an operation the
        trace did not follow (``clamp_``, ``x[mask] = 0``) is refused rather than read as it was."""
        entry = self.values.get(id(tensor)) if isinstance(tensor, Tensor) else None
        if entry is None:
            return None
        value, version = entry
        if tensor._version != version:
            raise TraceRefused("a traced value is changed in place by an operation LayerLab cannot trace (such as "
                               "clamp_, masked_fill_ or x[...] = v)")
        return value

    def set_value(self, tensor, value):
        self.keep.append(tensor)
        self.values[id(tensor)] = (value, tensor._version)

    def alias(self, tensor):
        """A new tensor object for ``tensor``'s values (a module that returns its input, such as Dropout in
        evaluation, must not re-point the input's other uses at its node)."""
        self.inside_operation = True
        try:
            return tensor.view(tensor.shape)
        finally:
            self.inside_operation = False

    def require(self, tensor, what):
        value = self.traced(tensor)
        if value is None:
            where = f" in {self.scope[-1]}" if self.scope and self.scope[-1] else ""
            raise TraceRefused(f"the input of {what}{where} is computed by an operation LayerLab cannot trace (one "
                               "with no layer between the layers before it)")
        return value

    def refuse(self, message):
        def raise_it(problem):
            raise TraceRefused(f"{message}: {problem}")

        return raise_it

    def add(self, type_name, params, inputs, what, weights=None, name=None):
        base = name or (f"{_identifier(self.scope[-1])}_" if self.scope and self.scope[-1] else "")
        names = (name,) if name else ((base + type_name.lower()) if base else None,)
        return self.doc.layer(type_name, params, inputs, self.refuse(what), weights, names=names,
                              scope=self.module_path())

    def module_path(self):
        """The path of the module whose code computes the layer being added (``("layer1", "0")`` for the module
        ``layer1.0.conv1`` recorded as a layer, or an operation in ``layer1.0``'s code), or None for the model's
        own code."""
        if self.opaque:
            return tuple(self.names.get(id(self.opaque[0]), "").split(".")[:-1]) or None
        return tuple(self.scope[-1].split(".")) if self.scope and self.scope[-1] else None

    @property
    def active(self):
        return not self.opaque

    # ----- modules -----
    def pre_hook(self, module, args, kwargs):
        if not self.active:
            return
        if layer_of(module) is not None or _attention_parts(module) is not None:
            self.opaque.append(module)
            # what goes in, read before the module runs (an in-place layer changes it)
            self.entering = [(a, self.traced(a), a._version if isinstance(a, Tensor) else None) for a in args]
        else:
            self.scope.append(self.names.get(id(module), ""))

    def post_hook(self, module, args, kwargs, output):
        if self.opaque and self.opaque[-1] is module:
            try:
                if len(self.opaque) == 1:  # recorded while still opaque: checking attention runs modules too
                    return self._record_module(module, args, kwargs, output)
            finally:
                self.opaque.pop()
        elif self.active and self.scope:
            self.scope.pop()
        return None

    def _record_module(self, module, args, kwargs, output):
        """Record a module of the catalogue (or an attention block) as one layer; returns the output the model
        goes on with (a new object where the module returned its unchanged input)."""
        name = _identifier(self.names.get(id(module), "")) or None
        what = f"module {self.names.get(id(module), type(module).__name__)!r} ({type(module).__name__})"
        if id(module) in self.recorded and list(module.parameters()):
            self.notes.append(f"{what} is called more than once: each call became a layer of its own, with a copy "
                              "of its weights (they will train apart)")
        self.recorded.add(id(module))
        if not isinstance(output, Tensor):
            if isinstance(module, nn.MultiheadAttention) and isinstance(output, tuple):
                self._attention_module(module, args, kwargs, output[0], name, what)
                return None
            raise TraceRefused(f"{what} returns {type(output).__name__}, not one tensor")
        if len(args) != 1 or not isinstance(args[0], Tensor) or kwargs:
            raise TraceRefused(f"{what} is called with other than one tensor (its layer takes one input)")
        x, value, version = self.entering[0]
        if value is None:
            self.require(x, what)  # refuses, naming the module
        found = layer_of(module)
        if found is None:
            value = self._attention_block(module, x, value, output, name, what)
        else:
            type_name, params = found
            weights = {k: v.detach().numpy() for k, v in module.state_dict().items()}
            value = self.add(type_name, params, [value], what, weights, name)
        if output is x and x._version == version:  # its input returned unchanged: not an in-place layer
            output = self.alias(output)
            self.set_value(output, value)
            return output
        self.set_value(output, value)
        return None

    def _attention_module(self, module, args, kwargs, output, name, what):
        query, value, _ = self.entering[0]
        if len(args) != 3 or args[1] is not query or args[2] is not query:
            raise TraceRefused(f"{what}: only self-attention (the same tensor as query, key and value) has a layer")
        masks = [k for k, v in kwargs.items() if k not in ("need_weights", "average_attn_weights") and
                 v is not None and v is not False]
        if masks:
            raise TraceRefused(f"{what}: attention with {', '.join(masks)} has no layer (SelfAttention attends to "
                               "every token)")
        type_name, params = layer_of(module)
        weights = {k: v.detach().numpy() for k, v in module.state_dict().items()}
        if value is None:
            self.require(query, what)  # refuses, naming the module
        self.set_value(output, self.add(type_name, params, [value], what, weights, name))
        return None

    def _attention_block(self, module, x, value, output, name, what):
        qkv, proj = _attention_parts(module)
        heads = _heads(x, output, qkv, proj)
        if heads is None:
            raise TraceRefused(f"{what} holds a projection to q, k and v and an output projection but does not "
                               "compute multi-head self-attention with them")
        weights = {k: v.numpy() for k, v in _attention_state(qkv, proj).items()}
        params = {"num_heads": heads, "bias": qkv.bias is not None}
        return self.add("SelfAttention", params, [value], what, weights, name)

    # ----- the run -----
    def run(self):
        sample = from_numpy(np.random.default_rng(0).standard_normal((BATCH, *self.input_shape)).astype(np.float32))
        self.set_value(sample, self.doc.layer("Input", {"shape": self.input_shape, "dataset": "Image folder"}, [],
                                              self.refuse("the input"), names=("input",)))
        handles = []
        for module in self.model.modules():
            handles.append(module.register_forward_pre_hook(self.pre_hook, with_kwargs=True))
            handles.append(module.register_forward_hook(self.post_hook, with_kwargs=True))
        try:
            with no_grad(), followed(self, sys.modules[ROOT], _code_namespaces(self.model)):
                output = self.model(sample)
        except TraceRefused:
            raise
        except Exception as e:  # the model's own code, or an operation called in a form no recorder reads
            raise TraceRefused(f"running the model while tracing it failed: {type(e).__name__}: {e}") from None
        finally:
            for handle in handles:
                handle.remove()
        if not isinstance(output, Tensor):
            raise TraceRefused(f"the model returns {type(output).__name__}, not one tensor")
        return self.require(output, "the model's output")


ROOT = __name__.split(".")[0]  # the engine package


def _code_namespaces(model):
    """The global namespaces of the model's classes' code (the user's file, the engine's vision models): the
    functions they imported by name (``from torch import flatten``) are followed there too."""
    spaces = {}
    for module in model.modules():
        space = getattr(type(module).forward, "__globals__", None)
        name = space.get("__name__", "") if space is not None else ""
        if space is not None and not name.startswith((f"{ROOT}.nn", f"{ROOT}.ops")):
            spaces[id(space)] = space
    return list(spaces.values())


def _attention_parts(module):
    """``(qkv, proj)``: the two Linear children of a module that projects D features to q, k and v (3·D) and
    back (D -> D), when it holds nothing else with parameters; else None."""
    if isinstance(module, nn.MultiheadAttention):
        return None
    linears = [m for m in module.children() if isinstance(m, nn.Linear)]
    others = [m for m in module.children() if not isinstance(m, nn.Linear) and list(m.parameters())]
    if len(linears) != 2 or others or list(module.parameters(recurse=False)):
        return None
    for qkv, proj in (linears, linears[::-1]):
        dim = qkv.in_features
        if qkv.out_features == 3 * dim and (proj.in_features, proj.out_features) == (dim, dim) and \
                (qkv.bias is None) == (proj.bias is None):
            return qkv, proj
    return None


def _attention_state(qkv, proj):
    """The ``nn.MultiheadAttention`` state that a D→3·D and a D→D projection make (detached tensors)."""
    state = {"in_proj_weight": qkv.weight, "out_proj.weight": proj.weight}
    if qkv.bias is not None:
        state.update({"in_proj_bias": qkv.bias, "out_proj.bias": proj.bias})
    return {k: v.detach() for k, v in state.items()}


def _heads(x, output, qkv, proj):
    """The head count for which ``nn.MultiheadAttention`` with these projections gives ``output`` on ``x``."""
    if not isinstance(x, Tensor) or x.dim() != 3 or tuple(output.shape) != tuple(x.shape):
        return None
    dim = qkv.in_features
    want = output.numpy()
    for heads in (h for h in range(1, dim + 1) if dim % h == 0):
        attention = nn.MultiheadAttention(dim, heads, bias=qkv.bias is not None, batch_first=True)
        attention.load_state_dict(_attention_state(qkv, proj))
        got = attention.eval()(x, x, x, need_weights=False)[0].numpy()
        if np.allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE * max(1.0, float(np.abs(want).max()))):
            return heads
    return None
