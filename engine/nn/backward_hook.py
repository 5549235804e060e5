"""Full backward hooks on modules: ``hook(module, grad_input, grad_output)``.

The module's tensor inputs and outputs pass through identity nodes. The output node records the
gradients arriving at the outputs; the input node, which runs once the gradients w.r.t. the inputs are
known, calls the hooks (whose result may replace grad_input). When no input requires grad, the hooks
run at the output node with ``grad_input`` all None, as in PyTorch.
"""

from ..ops.op import Op
from ..tensor import Tensor, make_tensor


class _Identity(Op):
    __slots__ = ("callback", "n")
    _name = "BackwardHookFunctionBackward"
    saves_tensors = False

    @property
    def num_outputs(self):
        return self.n

    def forward(self, *arrays, callback=None):
        self.callback, self.n = callback, len(arrays)
        return tuple(arrays)

    def backward(self, *grads):
        return self._through_hooks(grads, False)

    def backward_graph(self, *grads):
        return self._through_hooks(grads, True)

    def _through_hooks(self, grads, graph):
        result = self.callback(grads, graph)
        return tuple(grads) if result is None else tuple(result)


def _tensors_of(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, Tensor)]
    return []


def _replace(value, new_tensors):
    if isinstance(value, Tensor):
        return new_tensors[0]
    it = iter(new_tensors)
    return type(value)(next(it) if isinstance(v, Tensor) else v for v in value)


class BackwardHook:
    def __init__(self, module, hooks):
        self.module = module
        self.hooks = hooks
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_need_grad = False
        self.device = None

    def _wrap(self, tensors, callback):
        grad_tensors = [t for t in tensors if t.requires_grad]
        if not grad_tensors:
            return tensors
        wrapped = iter(_Identity.apply(*grad_tensors, callback=callback))
        return [next(wrapped) if t.requires_grad else t for t in tensors]

    def setup_input_hook(self, args):
        tensors = [a for a in args if isinstance(a, Tensor)]
        self.n_inputs = len(tensors)
        self.inputs_need_grad = any(t.requires_grad for t in tensors)
        if not self.inputs_need_grad:
            return args
        self.input_mask = [t.requires_grad for t in tensors]
        new = iter(self._wrap(tensors, self._on_grad_input))
        return tuple(next(new) if isinstance(a, Tensor) else a for a in args)

    def setup_output_hook(self, output):
        tensors = _tensors_of(output)
        if not tensors:
            return output
        self.device = tensors[0].device
        return _replace(output, self._wrap(tensors, self._on_grad_output))

    def _as_tensors(self, grads):
        """The gradients as the hooks see them: tensors (already so under ``create_graph``)."""
        return tuple(g if g is None or isinstance(g, Tensor) else make_tensor(g, self.device) for g in grads)

    def _on_grad_output(self, grads, graph):
        self.grad_output = self._as_tensors(grads)
        if not self.inputs_need_grad:
            self._call_hooks((None,) * self.n_inputs)
        return None

    def _on_grad_input(self, grads, graph):
        """The hooks' grad_input for the input node: arrays, or tensors with their graph under ``create_graph``.
        A gradient that reaches the inputs without passing the outputs (a double backward through the
        first one's graph) runs no hooks, as in PyTorch."""
        if self.grad_output is None:
            return None
        full = []
        it = iter(grads)
        for needs in self.input_mask:
            full.append(next(it) if needs else None)
        new = self._call_hooks(self._as_tensors(full))
        self.grad_output = None
        if new is None:
            return None
        new = [g for g, needs in zip(new, self.input_mask) if needs]
        return new if graph else [g._data if isinstance(g, Tensor) else g for g in new]

    def _call_hooks(self, grad_input):
        result = None
        for hook in self.hooks:
            out = hook(self.module, grad_input, self.grad_output)
            if out is not None:
                out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
                if len(out) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                       f"but expected {len(grad_input)}")
                grad_input = result = out
        return result
