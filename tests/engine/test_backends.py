"""``engine.backends``: what scripts read first (``torch.backends.mps.is_available()``) exists with torch's
names and types, reports the libraries the engine does not use as unavailable, and keeps its switches."""

import pytest

import engine

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("module", ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"])
def test_availability_checks_exist_and_answer_with_bools(module):
    check = getattr(getattr(engine.backends, module), "is_available", None) or engine.backends.cuda.is_built
    assert check() is False or check() is True
    assert hasattr(getattr(torch.backends, module), "is_available") or module == "cuda"


def test_the_libraries_the_engine_does_not_use_say_so():
    assert not engine.backends.mps.is_available() and not engine.backends.mps.is_built()
    assert not engine.backends.cudnn.is_available() and engine.backends.cudnn.version() is None
    assert engine.backends.cuda.is_built() == engine.cuda.is_available()


def test_switches_default_as_torchs_and_keep_what_scripts_set():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(engine.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert engine.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    engine.backends.cudnn.benchmark = True
    try:
        assert engine.backends.cudnn.benchmark is True
        with engine.backends.cudnn.flags(enabled=False, deterministic=True):
            assert not engine.backends.cudnn.enabled and engine.backends.cudnn.deterministic
        assert engine.backends.cudnn.enabled and not engine.backends.cudnn.deterministic
    finally:
        engine.backends.cudnn.benchmark = False


def test_the_tutorials_device_line_runs():
    device = (
        "cuda" if engine.cuda.is_available() else "mps" if engine.backends.mps.is_available() else "cpu"
    )
    assert device in ("cuda", "cpu")
