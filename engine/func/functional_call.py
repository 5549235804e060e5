"""``torch.func.functional_call``: call a module with some of its parameters and buffers replaced by given
tensors, restoring them afterwards (the module is only looked at through its ``Module`` API)."""

__all__ = ["functional_call"]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """``module(*args, **kwargs)`` with the tensors named in ``parameter_and_buffer_dicts`` (a dict, or a
    tuple of dicts with distinct keys) in place of the module's own. With ``tie_weights``, a value given for one
    of several names of the same tensor replaces it under all of them."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        values = {}
        repeated = []
        for d in parameter_and_buffer_dicts:
            for key, value in d.items():
                if key in values and key not in repeated:
                    repeated.append(key)
                values[key] = value
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    if tie_weights:
        values = _untied(named, values)
    if strict:
        _check_keys(module, named, values)
    originals = {}
    try:
        for name, value in values.items():
            originals[name] = _swap(module, name, value)
        return module(*args, **kwargs)
    finally:
        for name, value in reversed(originals.items()):
            _swap(module, name, value)


def _untied(named, values):
    """``values`` extended to every name of a tied tensor given under one of its names."""
    names_of = {}
    for name, t in named.items():
        names_of.setdefault(id(t), []).append(name)
    out = dict(values)
    for name in values:
        tied = names_of.get(id(named[name]), ()) if name in named else ()
        if len(tied) < 2:
            continue
        given = {id(values[n]) for n in tied if n in values}
        if len(given) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied)}, which are tied. "
                             "Consider using tie_weights=False")
        for other in tied:
            out[other] = values[name]
    return out


def _check_keys(module, named, values):
    unexpected = sorted(k for k in values if k not in named)
    missing = sorted(k for k in named if k not in values)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(type(module).__name__,
                                                                             "\n\t".join(errors)))


_ABSENT = object()


def _swap(module, name, value):
    """Put ``value`` at the dotted ``name`` (a parameter, a buffer or a plain attribute) and return what was
    there (``_ABSENT`` for nothing; putting ``_ABSENT`` back removes the attribute)."""
    prefix, _, attr = name.rpartition(".")
    owner = module.get_submodule(prefix) if prefix else module
    for store in (owner._parameters, owner._buffers):
        if attr in store:
            old = store[attr]
            store[attr] = value
            return old
    old = owner.__dict__.get(attr, _ABSENT)
    if value is _ABSENT:
        owner.__dict__.pop(attr, None)
    else:
        owner.__dict__[attr] = value
    return old
