"""The user's allowlist for ``weights_only`` loading: PyTorch's ``add_safe_globals``, ``safe_globals``,
``get_safe_globals`` and ``clear_safe_globals``.

A checkpoint that pickles objects of the user's own classes (a config dataclass beside the state dict)
is refused by the restricted unpickler until the user names those classes or functions here, saying they
trust them. An entry is the object itself or ``(object, "module.qualname")`` for an object pickled under
another name. Allowlisted classes may be created (``NEWOBJ``) and given their state (``BUILD``), and
allowlisted callables called (``REDUCE``); nothing else the file names is imported.
"""

import contextlib

_allowed = {}  # full pickled name -> object


def _entry(item):
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[1], str):
            raise ValueError(f"Expected a tuple of (object, 'module.name') but got {item!r}")
        return item[1], item[0]
    module = getattr(item, "__module__", None)
    name = getattr(item, "__qualname__", None) or getattr(item, "__name__", None)
    if module is None or name is None:
        raise ValueError(f"{item!r} has no __module__ and __qualname__ to be found by in a pickle; pass "
                         "(object, 'module.name') instead")
    return f"{module}.{name}", item


def add_safe_globals(safe_globals):
    """Trust these classes and functions when ``load(..., weights_only=True)`` meets them in a file."""
    for item in safe_globals:
        name, obj = _entry(item)
        _allowed[name] = obj


def get_safe_globals():
    """The user's allowlist, as given (objects, or ``(object, name)`` where the name is not the object's)."""
    out = []
    for name, obj in _allowed.items():
        natural = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        out.append(obj if natural == name else (obj, name))
    return out


def clear_safe_globals():
    _allowed.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """``with safe_globals([...]):`` the allowlist grows for the block and is restored after."""
    saved = dict(_allowed)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _allowed.clear()
        _allowed.update(saved)


def allowed_global(full_name):
    """The allowlisted object pickled as ``full_name``, or None."""
    return _allowed.get(full_name)


def is_allowlisted(obj):
    return any(obj is a for a in _allowed.values())
