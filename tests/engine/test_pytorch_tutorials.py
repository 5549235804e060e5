"""The PyTorch tutorials (pytorch/tutorials, ``beginner_source``) run unchanged on the engine.

Each tutorial file runs as it is, but for its training-loop lengths (the constants listed per tutorial), with
``import torch`` giving the engine (see ``tutorial_support``), then again on PyTorch: both must print the same
text, and the same numbers to float32 precision where the tutorial's values do not depend on random draws
(the engine's random stream is not PyTorch's).

The tutorials' code is not copied into this repository: point ``PYTORCH_TUTORIALS`` at a checkout of
https://github.com/pytorch/tutorials to run these tests; without it they are skipped.
"""

import math
import os
import random
from pathlib import Path

import pytest
from tutorial_support import assert_prints_match, execute, numbers, skeleton

import engine

torch = pytest.importorskip("torch")

TUTORIALS = Path(os.environ.get("PYTORCH_TUTORIALS", "/nonexistent")) / "beginner_source"
pytestmark = pytest.mark.skipif(not TUTORIALS.is_dir(), reason="PYTORCH_TUTORIALS names no pytorch/tutorials checkout")

SHORT_POLYNOMIAL = {"range(2000)": "range(200)"}


def tutorial(path, substitutions):
    """The tutorial's source with its loop constants cut; each must be found, so an edited tutorial is noticed."""
    source = (TUTORIALS / path).read_text()
    for old, new in substitutions.items():
        assert old in source, f"{path} no longer contains {old!r}"
        source = source.replace(old, new)
    return source


def run_on_both(path, substitutions):
    """What the tutorial prints on the engine and on PyTorch, each from seed 0."""
    source = tutorial(path, substitutions)
    printed = []
    for on_engine in (True, False):
        random.seed(0)
        engine.manual_seed(0)
        torch.manual_seed(0)
        printed.append(execute(source, on_engine=on_engine)[1])
    return printed


def assert_same_structure_and_finite(on_engine, on_torch):
    assert skeleton(on_engine) == skeleton(on_torch)
    assert all(math.isfinite(n) for n in numbers(on_engine))


@pytest.mark.parametrize("path", [
    "examples_tensor/polynomial_tensor.py",
    "examples_autograd/polynomial_autograd.py",
    "examples_nn/polynomial_nn.py",
    "examples_nn/polynomial_optim.py",
    "examples_nn/polynomial_module.py",
])
def test_polynomial_from_random_weights(path):
    assert_same_structure_and_finite(*run_on_both(path, SHORT_POLYNOMIAL))


def test_polynomial_custom_function_matches_pytorch():
    on_engine, on_torch = run_on_both("examples_autograd/polynomial_custom_function.py", SHORT_POLYNOMIAL)
    assert_prints_match(on_engine, on_torch, rtol=1e-4)


def test_dynamic_net():
    assert_same_structure_and_finite(*run_on_both("examples_nn/dynamic_net.py", {"range(30000)": "range(4000)"}))


def test_autogradqs():
    on_engine, on_torch = run_on_both("basics/autogradqs_tutorial.py", {})
    assert skeleton(on_engine) == skeleton(on_torch)
    start = on_torch.index("First call")
    assert_prints_match(on_engine[on_engine.index("First call"):], on_torch[start:])
