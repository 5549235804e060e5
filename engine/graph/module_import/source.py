"""Model classes from Python source run on the engine: ``model.py:ClassName`` is executed with ``torch`` (and
``torch.nn``, ``torch.nn.functional``) meaning the engine, the way PyTorch code runs on it, and its class is
built with the given arguments. This runs the file's code, as ``python model.py`` would: it is the user's own
model source, not a data file. Weights come from a PyTorch or engine checkpoint through the safe loader
(nothing in a weights file runs)."""

import contextlib
import importlib.util
import os
import sys

from ... import nn
from ...serialization import load
from .errors import TraceRefused

_ALIASES = ("torch", "torch.nn", "torch.nn.functional")


@contextlib.contextmanager
def engine_as_torch():
    """While the block runs, ``import torch`` (and ``torch.nn``, ``torch.nn.functional``) gives the engine; the
    modules those names meant before (PyTorch itself, or none) are put back after."""
    engine = sys.modules[__name__.split(".")[0]]
    saved = {name: sys.modules.get(name) for name in _ALIASES}
    sys.modules.update({"torch": engine, "torch.nn": engine.nn, "torch.nn.functional": engine.nn.functional})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def model_class(path, class_name):
    """The class ``class_name`` defined by the Python file ``path``, run with the engine as ``torch``."""
    if not os.path.isfile(path):
        raise TraceRefused(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"layerlab_model_{abs(hash(os.path.abspath(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    with engine_as_torch():
        try:
            spec.loader.exec_module(module)
        except ImportError as e:
            raise TraceRefused(f"{path}: {e}; the file runs with LayerLab's engine as torch, which has no such "
                               "module") from None
        except Exception as e:  # the file's own code failed: say where, as Python would, in one line
            raise TraceRefused(f"{path}: running it with LayerLab's engine as torch failed: "
                               f"{type(e).__name__}: {e}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        found = sorted(n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, nn.Module)
                       and v.__module__ == module.__name__)
        raise TraceRefused(f"{path}: no nn.Module class {class_name!r} (the file defines "
                           f"{', '.join(found) or 'none'})")
    return cls


def build(cls, kwargs, where):
    """``cls(**kwargs)`` with the engine as ``torch``; a refusal naming ``where`` when it cannot be built."""
    with engine_as_torch():
        try:
            return cls(**kwargs)
        except TypeError as e:
            raise TraceRefused(f"{where}: {e}; give the class's arguments with --args") from None
        except Exception as e:  # the class's own code refused its arguments
            raise TraceRefused(f"{where}: building it failed: {type(e).__name__}: {e}") from None


def load_weights(model, path):
    """Load a checkpoint (PyTorch's ``.pth`` or the engine's, a state dict or one under 'state_dict' or
    'model') into ``model``, every key matching."""
    state = load(path, map_location="cpu")
    if isinstance(state, dict):
        for key in ("state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict):
        raise TraceRefused(f"{path}: holds a {type(state).__name__}, not a state dict of weights")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise TraceRefused(f"{path}: the weights do not fit the model: {first}") from None
