"""torchvision's Python code (transforms, models, io) as the reference the vision tests compare with.

PyPI has no CPU build of torchvision, and the CUDA build's ``torchvision/__init__`` fails beside torch's CPU
wheel: it registers its compiled operators (nms, roi_align), whose library needs torch's CUDA libraries.
The transforms and models are plain Python over torch, so the package is set up here without running its
``__init__``; its submodules then import as usual. ``torchvision("models")`` returns that submodule
(``torchvision()`` the package), or skips the calling test with the reason when torchvision is not installed.
"""

import importlib.util
import sys
import types

import pytest


def torchvision(submodule=None):
    package = sys.modules.get("torchvision") or _set_up()
    return importlib.import_module(f"torchvision.{submodule}") if submodule else package


def _set_up():
    pytest.importorskip("torch")
    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        pytest.skip("torchvision is not installed (scripts/setup --test installs it)")
    package = types.ModuleType("torchvision")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules["torchvision"] = package
    return package
