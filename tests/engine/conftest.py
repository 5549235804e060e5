"""Fixtures shared by the engine tests."""

import os

import pytest
from fake_cupy import FakeCupy
from http_server_support import closed_port_url, http_server  # noqa: F401 (fixtures)

from engine import backend
from engine import random as engine_random


@pytest.fixture
def no_cuda(monkeypatch):
    """Behave as a machine without CUDA, even where CuPy and a GPU are present."""
    monkeypatch.setattr(backend, "_cuda_module", None)
    monkeypatch.setattr(backend, "_cuda_probe_done", True)


@pytest.fixture
def fake_cuda():
    """Install a NumPy-backed CuPy stand-in with two fake GPUs; remove it afterwards.

    It proves the device plumbing (transfers, no silent host/device mixing, results on the right
    device), not CuPy itself: see ``tests/engine/fake_cupy.py``. The engine caches one random generator
    per CUDA device, made by the CUDA module of the moment; those are set aside while the stand-in is in
    place, so no stand-in generator outlives it (and no real CuPy one is used with it).
    """
    saved_generators = dict(engine_random._cuda_generators)
    engine_random._cuda_generators.clear()
    fake = FakeCupy(device_count=2)
    backend.install_cuda_module(fake)
    try:
        yield fake
    finally:
        backend.install_cuda_module(None)
        engine_random._cuda_generators.clear()
        engine_random._cuda_generators.update(saved_generators)


@pytest.fixture
def table_cuda(request):
    """The CUDA device the op table's "cuda" cases run on: the stand-in (``fake_cuda``), or the machine's real GPU
    where ``LAYERLAB_REAL_CUDA=1`` is set (``bench/gpu_check.sh`` sets it), so those cases run on CuPy there."""
    choice = os.environ.get("LAYERLAB_REAL_CUDA", "0")
    if choice not in ("0", "1"):
        pytest.fail(f"LAYERLAB_REAL_CUDA={choice!r}: set it to 1 (the real GPU) or 0 (the CuPy stand-in)")
    if choice == "0":
        yield request.getfixturevalue("fake_cuda")
        return
    from device_support import real_cupy_available

    if not real_cupy_available():
        pytest.fail("LAYERLAB_REAL_CUDA=1, but CuPy with a CUDA device is not importable here")
    yield None
