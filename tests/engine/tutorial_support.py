"""Running tutorial code with ``import torch`` bound to the engine, and comparing what it prints.

``torch_is_engine()`` puts the engine's modules into ``sys.modules`` under PyTorch's names (``torch``,
``torch.nn``, ``torch.utils.data``, ``torchvision``, ...), so a tutorial's own imports, ``from torch.x import y``
included, find the engine; the previous entries come back afterwards.
"""

import contextlib
import io
import math
import re
import sys

import engine

# PyTorch's top-level package names and the engine module each one stands for.
PACKAGES = {"torch": "engine", "torchvision": "engine.vision"}

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
SPACES = re.compile(r" +")


def engine_aliases():
    """The ``sys.modules`` entries that make PyTorch's module names load the engine's modules."""
    aliases = {}
    for torch_name, engine_name in PACKAGES.items():
        for name, module in list(sys.modules.items()):
            if name == engine_name or name.startswith(engine_name + "."):
                aliases[torch_name + name[len(engine_name):]] = module
    return aliases


@contextlib.contextmanager
def torch_is_engine():
    """Within the block, ``import torch`` (and its submodules, and torchvision) gives the engine."""
    assert engine.__name__ == "engine"
    aliases = engine_aliases()
    saved = {name: sys.modules.get(name) for name in aliases}
    before = set(sys.modules)
    sys.modules.update(aliases)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            if name.split(".")[0] in PACKAGES:
                del sys.modules[name]
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def execute(source, namespace=None, on_engine=True):
    """Run ``source`` as a script (on the engine, or on whatever ``import torch`` gives); return its namespace
    and printed text."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    out = io.StringIO()
    aliasing = torch_is_engine() if on_engine else contextlib.nullcontext()
    with aliasing, contextlib.redirect_stdout(out):
        exec(compile(source, "<tutorial>", "exec"), namespace)
    return namespace, out.getvalue()


def skeleton(text):
    """Printed text with its numbers and object addresses blanked and the spaces that pad numbers to a common
    width dropped: what must match whatever the values."""
    blanked = NUMBER.sub("#", ADDRESS.sub("0x", text.replace("engine.", "torch.")))
    return SPACES.sub(" ", blanked).replace("[ #", "[#")


def numbers(text):
    return [float(n) for n in NUMBER.findall(ADDRESS.sub("0x", text))]


def assert_prints_match(engine_text, torch_text, rtol=1e-5, atol=1e-6):
    """Same printed structure, and the same numbers to float32 precision."""
    assert skeleton(engine_text) == skeleton(torch_text)
    got, want = numbers(engine_text), numbers(torch_text)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert math.isclose(g, w, rel_tol=rtol, abs_tol=atol), (g, w, engine_text, torch_text)
