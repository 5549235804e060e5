"""User-defined differentiable functions: ``engine.autograd.Function`` with ``forward(ctx, ...)`` and
``backward(ctx, ...)`` as static methods, exactly as in PyTorch."""

from ..dtypes import FLOAT_KINDS
from ..tensor import Tensor, make_tensor
from .double_backward import backward_without_graph
from .grad_mode import no_grad
from .grad_mode import state as _grad_state
from .graph import FREED_MESSAGE, Node, edge_to, saved_version


class FunctionCtx:
    """What ``forward`` may record for ``backward``: saved tensors and flags."""

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument 0 is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one call of a custom Function; it is also the ``ctx`` its methods receive."""

    def name(self):
        return self._cls.__name__ + "Backward"

    @property
    def num_outputs(self):
        return self._n_outputs

    @property
    def saved_tensors(self):
        if getattr(self, "_freed", False):
            raise RuntimeError(FREED_MESSAGE)
        self.check_saved_versions()
        return tuple(getattr(self, "_saved", ()))

    def backward(self, *grads):
        if getattr(self, "_materialize", True):
            grads = [g if g is not None else self._zeros[i]() for i, g in enumerate(grads)]
        grad_tensors = [None if g is None else make_tensor(g, self._device) for g in grads]
        with no_grad():
            out = self._cls.backward(self, *grad_tensors)
        return self._input_grads(out, lambda g: g._data)

    def backward_graph(self, *grads):
        """With ``create_graph``: ``backward`` run with grad mode on, on the saved tensors as saved, so its
        result is differentiable again (unless it is marked ``once_differentiable``)."""
        if getattr(self._cls.backward, "once_differentiable", False):
            return backward_without_graph(self, grads, self._device)
        if getattr(self, "_materialize", True):
            grads = [g if g is not None else make_tensor(self._zeros[i](), self._device) for i, g in enumerate(grads)]
        out = self._cls.backward(self, *grads)
        return self._input_grads(out, lambda g: g)

    def _input_grads(self, out, unwrap):
        if not isinstance(out, tuple):
            out = (out,)
        if len(out) < len(self._arg_is_tensor):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                               f"{len(self._arg_is_tensor)}, got {len(out)})")
        return tuple(None if g is None else unwrap(g) for g, is_tensor in zip(out, self._arg_is_tensor)
                     if is_tensor)

    def release(self):
        if getattr(self, "_saved", None):
            self._saved = None
            self._freed = True


class Function:
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``; call ``.apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = BackwardCFunction()
        ctx._cls = cls
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        needs_grad = _grad_state.enabled and any(t._requires_grad for t in tensor_args)
        to_save = getattr(ctx, "_to_save", ())
        if needs_grad:
            outs = _link(ctx, args, tensor_args, outs, to_save)
        elif to_save:
            ctx._saved = to_save
        return outs[0] if single else outs


def _link(ctx, args, tensor_args, outs, to_save):
    ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
    ctx._edges = tuple(edge_to(t) for t in tensor_args)
    ctx._device = tensor_args[0]._device
    ctx._n_outputs = len(outs)
    non_diff = getattr(ctx, "_non_differentiable", set())
    dirty = {id(t) for t in getattr(ctx, "_dirty", ())}
    by_input = {id(t) for t in tensor_args}
    linked = []
    zeros = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            linked.append(o)
            zeros.append(None)
            continue
        if id(o) in by_input and id(o) not in dirty:
            o = make_tensor(o._data, o._device)  # an input returned as is: a new alias carries the graph
        zeros.append(lambda o=o: o.xp.zeros_like(o._data))
        if id(o) not in non_diff and o._data.dtype.kind in FLOAT_KINDS:
            o._requires_grad = True
            o.grad_fn = ctx
            o._output_nr = i
            if id(o) in dirty:
                o._bump_version()
        linked.append(o)
    ctx._zeros = zeros
    ctx._saved = to_save
    ctx._saved_versions = tuple(saved_version(t) for t in to_save if t is not None)
    return tuple(linked)


def once_differentiable(fn):
    """PyTorch's marker for a ``backward`` that is not itself differentiable: with ``create_graph`` it runs
    without recording, and differentiating its result again raises."""
    fn.once_differentiable = True
    return fn
