"""``Module``: the base of every layer and network, with PyTorch's registration, traversal, state dicts,
device moves, ``repr`` and hooks."""

from collections import OrderedDict, namedtuple

from .. import dtypes
from ..autograd.anomaly import forward_inside
from ..autograd.anomaly import state as _anomaly
from ..autograd.grad_mode import no_grad
from ..autograd.hooks import add_hook
from ..ops.convert import cuda_device, parse_to
from ..tensor import Size, Tensor
from .backward_hook import BackwardHook
from .parameter import Parameter

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Subclass it, create sub-modules and Parameters in ``__init__``, and define ``forward``."""

    training: bool
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() takes no arguments, got {args} {kwargs}")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ----- attribute registration -----
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, d, "_buffers", "_modules")
            d.pop(name, None)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = value  # a tensor in place of a parameter: how DataParallel replicas are built
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, d, "_parameters", "_buffers")
            d.pop(name, None)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name, d, *dict_names):
        for dict_name in dict_names:
            container = d.get(dict_name)
            if container is not None and name in container:
                del container[name]

    def __getattr__(self, name):
        d = self.__dict__
        for dict_name in ("_parameters", "_buffers", "_modules"):
            container = d.get(dict_name)
            if container is not None and name in container:
                return container[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for dict_name in ("_parameters", "_buffers", "_modules"):
            container = self.__dict__.get(dict_name)
            if container is not None and name in container:
                del container[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def register_parameter(self, name, param):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             "created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if item not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return module._parameters[name]

    def get_buffer(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    # ----- traversal -----
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----- modes and gradients -----
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data[...] = 0
                p.grad.grad_fn = None

    def apply(self, fn):
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- devices and dtypes -----
    def _apply(self, fn):
        """Replace every parameter's and buffer's data by ``fn(tensor)``, keeping the Parameter objects."""
        for module in self.modules():
            with no_grad():
                for param in module._parameters.values():
                    if param is None:
                        continue
                    new = fn(param)
                    param._data, param._device = new._data, new._device
                    if param.grad is not None:
                        g = fn(param.grad)
                        param._grad = g if g is not param.grad else param.grad
                for key, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        dev, dt, _ = parse_to(args, dict(kwargs))
        if dt is not None and not dt.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dt}")

        def convert(t):
            target = dt if (dt is not None and t.is_floating_point()) else None
            return t.to(device=dev, dtype=target)

        return self._apply(convert)

    def cuda(self, device=None):
        target = cuda_device(device)
        return self._apply(lambda t: t.to(target))

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def _cast_floats(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self._cast_floats(dtypes.float32)

    def double(self):
        return self._cast_floats(dtypes.float64)

    def half(self):
        return self._cast_floats(dtypes.float16)

    def bfloat16(self):
        return self._cast_floats(dtypes.bfloat16)

    def type(self, dst_type):
        return self._apply(lambda t: t.type(dst_type))

    # ----- state dicts -----
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        if args:
            destination = args[0]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _state_entries(self):
        """(key, owner module, local name, is_parameter) for every tensor a state dict holds."""
        entries = []
        for prefix, module in self.named_modules(remove_duplicate=False):
            dot = prefix + "." if prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    entries.append((dot + name, module, name, True))
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers_set:
                    entries.append((dot + name, module, name, False))
        return entries

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy tensors from ``state_dict`` into this module's parameters and buffers.

        Everything is checked before anything is copied, so a bad state dict leaves the module as it was.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        entries = self._state_entries()
        own_keys = {key for key, *_ in entries}
        missing = [key for key, _, name, _ in entries
                   if key not in state_dict and not _counter_predates_file(state_dict, key, name)]
        unexpected = [key for key in state_dict if key not in own_keys]
        errors = []
        for key, module, name, is_param in entries:
            if key not in state_dict:
                continue
            value = state_dict[key]
            current = module._parameters[name] if is_param else module._buffers[name]
            if not isinstance(value, Tensor):
                errors.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                              f"object from checkpoint but received {type(value)}")
            elif name == "num_batches_tracked" and value.shape == () and current.shape == (1,):
                continue
            elif tuple(value.shape) != tuple(current.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {Size(value.shape)!r} from "
                              f"checkpoint, the shape in current model is {Size(current.shape)!r}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        with no_grad():
            for key, module, name, is_param in entries:
                if key not in state_dict:
                    continue
                value = state_dict[key]
                current = module._parameters[name] if is_param else module._buffers[name]
                if assign:
                    if is_param:
                        module._parameters[name] = Parameter(value.detach(), current.requires_grad)
                    else:
                        module._buffers[name] = value.detach()
                else:
                    current._data[...] = value.to(current.device, current.dtype)._data.reshape(current.shape)
                    current._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # ----- calling -----
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or _anomaly.enabled):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            if isinstance(hook, _WithKwargs):
                result = hook.fn(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks:
            backward_hook = BackwardHook(self, list(self._backward_hooks.values()))
            args = backward_hook.setup_input_hook(args)
        try:
            output = forward_inside(self, args, kwargs) if _anomaly.enabled else self.forward(*args, **kwargs)
        except Exception:
            for hook in list(self._forward_hooks.values()):
                if isinstance(hook, _WithKwargs) and hook.always_call:
                    hook(self, args, kwargs, None)
            raise
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, kwargs, output) if isinstance(hook, _WithKwargs) else hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.setup_output_hook(output)
        return output

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before forward; a returned value replaces the input. With
        ``with_kwargs=True`` it is ``hook(module, args, kwargs)`` and may return ``(args, kwargs)``."""
        return _register(self._forward_pre_hooks, _WithKwargs(hook, False) if with_kwargs else hook, prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` runs after forward; a returned value replaces the output. With
        ``with_kwargs=True`` it is ``hook(module, args, kwargs, output)``; ``always_call=True`` also runs it
        (with output None) when forward raises."""
        if with_kwargs or always_call:
            hook = _WithKwargs(hook, always_call, with_kwargs)
        return _register(self._forward_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients w.r.t. the module's inputs are
        computed; it may return a new grad_input."""
        return _register(self._backward_hooks, hook, prepend)

    register_backward_hook = register_full_backward_hook

    # ----- printing -----
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)

    def share_memory(self):
        return self


class _WithKwargs:
    """A forward hook registered with ``with_kwargs`` or ``always_call``."""

    __slots__ = ("always_call", "fn", "with_kwargs")

    def __init__(self, fn, always_call, with_kwargs=True):
        self.fn, self.always_call, self.with_kwargs = fn, always_call, with_kwargs

    def __call__(self, module, args, kwargs, output):
        if self.with_kwargs:
            return self.fn(module, args, kwargs, output)
        return self.fn(module, args, output)


def _register(hooks, hook, prepend):
    handle = add_hook(hooks, hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _counter_predates_file(state_dict, key, name):
    """Whether ``key`` is a batch norm's ``num_batches_tracked`` that a file saved before the counter existed
    (no ``_metadata`` version 2 or later for its module) lacks: PyTorch keeps the module's own count then."""
    if name != "num_batches_tracked":
        return False
    module_prefix = key[: -len(name) - 1]
    version = (getattr(state_dict, "_metadata", None) or {}).get(module_prefix, {}).get("version")
    return version is None or version < 2
