"""``map_location`` of ``engine.load`` (and the device of ``load_safetensors``): where loaded tensors go."""

from . import backend
from .backend import CPU, device, transfer
from .tensor import Tensor, make_tensor


def as_device(d):
    if isinstance(d, device):
        return d
    if isinstance(d, int) and not isinstance(d, bool):
        return device("cuda", d)
    if isinstance(d, str):
        return device(d)
    raise TypeError(f"map_location: expected a device, a device name or an int, got {type(d).__name__}")


def place(t, dev, explicit):
    """``t`` (on the CPU) moved to ``dev``; the error PyTorch gives when ``dev`` is a CUDA device we lack."""
    if dev is CPU:
        return t
    count = backend.cuda_device_count()
    if count == 0:
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but CUDA is not available. If you are running "
            "on a CPU-only machine, please use engine.load with map_location='cpu' to map your storages to the "
            "CPU." if not explicit else f"map_location asks for {dev} but CUDA is not available")
    if dev.index >= count:
        raise RuntimeError(f"Attempting to deserialize object on CUDA device {dev.index} but only {count} "
                           f"CUDA device(s) are available. Please use engine.load with map_location to map "
                           f"your storages to an existing device.")
    return make_tensor(transfer(t._data, CPU, dev), dev)


def placer(map_location):
    """A function ``(cpu_tensor, saved_device_name) -> tensor`` implementing ``map_location``."""
    if map_location is None:
        return lambda t, saved: place(t, device(saved), False)
    if isinstance(map_location, dict):
        table = {}
        for k, v in map_location.items():
            if not isinstance(k, str):
                raise TypeError(f"map_location: dict keys must be device names, got {type(k).__name__}")
            table[device(k)] = as_device(v)

        def by_table(t, saved):
            src = device(saved)
            return place(t, table.get(src, src), src in table)

        return by_table
    if callable(map_location) and not isinstance(map_location, (str, device)):
        def by_call(t, saved):
            out = map_location(t, saved)
            if out is None:
                return place(t, device(saved), False)
            if not isinstance(out, Tensor):
                raise TypeError(f"map_location callable returned {type(out).__name__}, expected a tensor or None")
            return out

        return by_call
    target = as_device(map_location)
    return lambda t, saved: place(t, target, True)
