"""``Optimizer``: the base of every optimizer, with PyTorch's param groups, state and state-dict format.

Subclasses update the raw arrays of their parameters in place (``p._data``), reading ``p.grad._data``
and keeping their buffers as engine tensors in ``self.state[p]`` (so ``state_dict()`` round-trips).
The arithmetic goes through ``xp_of(array)``, so one body serves NumPy and CuPy. Temporaries come from
a small per-optimizer workspace of reusable flat buffers instead of fresh allocations every step.
"""

import functools
import math
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import enable_grad
from ..autograd.grad_mode import state as _grad_state
from ..autograd.hooks import RemovableHandle
from ..backend import CPU, device_context, transfer
from ..ops.op import xp_of
from ..tensor import Tensor, make_tensor

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook", "required"]

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


class _RequiredParameter:
    """Singleton for a required parameter of an optimizer (``SGD(params)`` in old PyTorch)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def typename(obj):
    """``torch.typename``: ``'torch.FloatTensor'`` for a tensor, the qualified type name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in {"", "builtins"}:
        return qualname
    return f"{module}.{qualname}"


def register_optimizer_step_pre_hook(hook):
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


# ----- helpers shared by the optimizers -----
def _to_scalar(x):
    """A hyperparameter as a Python number (a 1-element tensor becomes its value)."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _scalar_np_dtype():
    """The dtype of ``state['step']``: float64 when that is the default dtype, else float32 (as PyTorch)."""
    return np.float64 if dtypes.get_default_dtype() is dtypes.float64 else np.float32


def _new_step():
    return make_tensor(np.zeros((), dtype=_scalar_np_dtype()))


def _advance_step(step_t):
    """``step_t += 1`` on the 0-d step tensor; returns the new count as a Python float."""
    arr = step_t._data
    if type(arr) is np.ndarray:
        arr += 1
        return float(arr)
    step_t._data = arr = arr + 1  # a step kept on a device: stays there
    return float(arr)


def _zeros_like(p):
    """A zero buffer of ``p``'s shape, dtype and device (allocated with that device current)."""
    data = p._data
    dev = p._device
    xp = xp_of(data)
    if dev is CPU:
        return make_tensor(xp.zeros(data.shape, dtype=data.dtype), dev)
    with device_context(dev):
        return make_tensor(xp.zeros(data.shape, dtype=data.dtype), dev)


class _Workspace:
    """Reusable flat buffers, one per (device, dtype, slot), handed out as views of a parameter's shape.

    An update needs at most a few temporaries; taking them from here spares a fresh allocation (and on
    the CPU, page faults for large arrays) per parameter per step.
    """

    __slots__ = ("_bufs",)

    def __init__(self):
        self._bufs = {}

    def get(self, slot, data, dev, xp):
        """A scratch array shaped and typed like ``data``; ``slot`` separates buffers used together."""
        key = (dev, data.dtype, slot)
        shape = data.shape
        n = math.prod(shape)
        buf = self._bufs.get(key)
        if buf is None or buf.size < n:
            buf = self._bufs[key] = xp.empty(max(n, 1), dtype=data.dtype)
        return buf[:n].reshape(shape)

    def clear(self):
        self._bufs.clear()


def params_with_grad(group):
    """(parameter, its gradient) for the parameters of ``group`` that have one."""
    for p in group["params"]:
        if p._grad is not None:
            yield p, p._grad


def _run_on(dev, fn, *args):
    """Call ``fn(*args)`` with ``dev`` current (CuPy launches kernels on the current device)."""
    if dev is CPU:
        return fn(*args)
    with device_context(dev):
        return fn(*args)


def _no_grad_step(func):
    """Run the wrapped ``step`` with graph recording off (PyTorch: ``_use_grad_for_differentiable``)."""

    @functools.wraps(func)
    def step(self, *args, **kwargs):
        prev = _grad_state.enabled
        _grad_state.enabled = False
        try:
            return func(self, *args, **kwargs)
        finally:
            _grad_state.enabled = prev

    return step


def _call_closure(closure):
    if closure is None:
        return None
    with enable_grad():
        return closure()


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): an iterable of tensors or of dicts (parameter groups with their own options).
        defaults (dict): default values of the optimization options (used when a group omits them).
    """

    def __init__(self, params, defaults):
        if defaults.get("fused") and defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._patch_step_function()

        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + typename(params)
            )

        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]

        for param_group in param_groups:
            self.add_param_group(param_group)

    # ----- pickling -----
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:  # options added since the state was saved take their defaults
            for key, value in self.defaults.items():
                group.setdefault(key, value)
        _ensure_step_tensors(self)

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ----- the workspace of temporaries -----
    @property
    def _workspace(self):
        ws = self.__dict__.get("_ws")
        if ws is None:
            ws = self.__dict__["_ws"] = _Workspace()
        return ws

    # ----- step hooks -----
    @staticmethod
    def profile_hook_step(func):
        """Wrap ``step`` so it runs the step pre- and post-hooks (global ones first before, last after)."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{func} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
            out = func(*args, **kwargs)
            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out

        return wrapper

    def _patch_step_function(self):
        cls = self.__class__
        if not getattr(cls.step, "hooked", None):
            cls.step = self.profile_hook_step(cls.step)
            cls.step.hooked = True

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, called before ``step``."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None``, called after ``step``."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    @staticmethod
    def _add_ordered_hook(hooks_dict, hook, prepend):
        handle = RemovableHandle(hooks_dict)
        hooks_dict[handle.id] = hook
        if prepend:
            hooks_dict.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_ordered_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._add_ordered_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._add_ordered_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._add_ordered_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ----- state dict -----
    def state_dict(self):
        """The optimizer state as ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index]}]}``.

        Parameters are referred to by their index in the order of the groups; the state's tensors are the
        live buffers (as in PyTorch): deep-copy the result to keep a snapshot.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update(
                {id(p): i for i, p in enumerate(group["params"], start_index) if id(p) not in param_mappings}
            )
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        state_dict = {"state": packed_state, "param_groups": param_groups}

        for post_hook in self._optimizer_state_dict_post_hooks.values():
            hook_result = post_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        """A copy of the state tensor ``value`` for ``param``: floating state takes the parameter's dtype
        and device; ``step`` stays as it is (PyTorch casts the same way, but may alias; we always copy)."""
        data = value._data
        if key == "step":
            return make_tensor(data.copy(), value._device)
        dev = param._device
        moved = transfer(data, value._device, dev)
        target = param._data.dtype if param._data.dtype.kind in dtypes.FLOAT_KINDS else moved.dtype
        if dev is CPU:
            moved = moved.astype(target, copy=moved is data)
        else:
            with device_context(dev):
                moved = moved.astype(target, copy=moved is data)
        return make_tensor(moved, dev)

    def load_state_dict(self, state_dict):
        """Load a state from :meth:`state_dict` (parameters matched by position in the groups)."""
        state_dict = state_dict.copy()

        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            hook_result = pre_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])

        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )

        saved_ids = chain.from_iterable(g["params"] for g in saved_groups)
        id_map = dict(zip(saved_ids, chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ----- gradients and steps -----
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default), or to zeros in place with ``set_to_none=False``."""
        for group in self.param_groups:
            for p, g in params_with_grad(group):
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Perform a single optimization step (``closure`` reevaluates the model and returns the loss)."""
        raise NotImplementedError

    def add_param_group(self, param_group):
        """Add a parameter group (a dict with ``'params'`` and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors "
                "in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)

        param_group["params"] = extracted_param_tensors
        if len(extracted_param_names) != 0:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                "error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        param_set = set()
        for group in self.param_groups:
            param_set.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current_group_txt} to the optimizer"
                )

        if not param_set.isdisjoint(id(p) for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)


class _ParamwiseOptimizer(Optimizer):
    """An optimizer whose step updates each parameter that has a gradient on its own.

    Subclasses give ``_group_options(group)`` (the group's hyperparameters as a tuple) and
    ``_update(p, grad, ws, *options)`` (one parameter's step, in place, run with its device current).
    """

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step (``closure`` reevaluates the model and returns the loss)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            options = self._group_options(group)
            for p, grad in params_with_grad(group):
                _run_on(p._device, self._update, p, grad, ws, *options)
                p._bump_version()
        return loss

    def _state_and_step(self, p, *buffers):
        """``self.state[p]`` (made on the first step: a step count and a zero buffer per name in ``buffers``) and
        its step count, advanced, as a float."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _new_step()
            for name in buffers:
                state[name] = _zeros_like(p)
        return state, _advance_step(state["step"])


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def _signed_grad(x, g, ws, dev, xp, weight_decay, maximize):
    """``(-g if maximize else g) + weight_decay * x`` in workspace slot 0, or ``g`` itself where that is all it
    is; with whether the result is a scratch array the caller may overwrite. ``g`` is never written."""
    if weight_decay != 0:
        t = ws.get(0, x, dev, xp)
        xp.multiply(x, weight_decay, out=t)
        if maximize:
            xp.subtract(t, g, out=t)  # -g + wd * p
        else:
            xp.add(g, t, out=t)
        return t, True
    if maximize:
        t = ws.get(0, x, dev, xp)
        xp.negative(g, out=t)
        return t, True
    return g, False


def _check_not_differentiable(differentiable):
    if differentiable:
        raise RuntimeError("engine.optim does not support differentiable=True (a step through autograd)")


def _ensure_step_tensors(optimizer):
    """After loading an old-format state (``step`` as a number), make every ``step`` a 0-d tensor."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p_state = optimizer.state.get(p, [])
            if len(p_state) != 0 and "step" in p_state and not isinstance(p_state["step"], Tensor):
                p_state["step"] = make_tensor(np.array(float(p_state["step"]), dtype=_scalar_np_dtype()))
