"""``engine.cpu``: PyTorch's ``torch.cpu`` device module (the CPU is always there, as one device) and the
deprecated ``torch.cpu.amp``."""

from .amp import cpu as amp


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """Nothing to wait for: CPU work is done when a call returns."""


__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]
