"""Random number generation: ``manual_seed``, ``Generator``, and the raw draws behind rand/randn/randint and
engine.ops.sampling.

The CPU draws from a NumPy ``Generator``; CUDA devices draw from CuPy's, seeded from the same seed.
"""

import contextlib
import json
import math

import numpy as np

from . import random_kernels
from .backend import CPU, array_module, device_context
from .backend import device as _device
from .tensor import make_tensor


class Generator:
    """A source of random numbers, like ``torch.Generator``."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._seed = int(np.random.SeedSequence().entropy) % (2**63)
        self._rng = None

    def manual_seed(self, seed):
        self._seed = int(seed) % (2**64)
        self._rng = None
        return self

    def seed(self):
        self.manual_seed(int(np.random.SeedSequence().entropy) % (2**63))
        return self._seed

    def initial_seed(self):
        return self._seed

    def rng(self):
        if self._rng is None:
            if self.device is CPU:
                self._rng = np.random.default_rng(self._seed)
            else:
                with device_context(self.device):
                    self._rng = array_module(self.device).random.default_rng(self._seed)
        return self._rng

    def get_state(self):
        if self.device is not CPU:
            raise NotImplementedError("get_state is supported for CPU generators")
        state = json.dumps(self.rng().bit_generator.state).encode()
        return make_tensor(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, state):
        if self.device is not CPU:
            raise NotImplementedError("set_state is supported for CPU generators")
        self.rng().bit_generator.state = json.loads(bytes(state.numpy()).decode())


default_generator = Generator()
_cuda_generators = {}


def _generator_for(dev, generator):
    if generator is not None:
        return generator.rng()
    if dev is CPU:
        return default_generator.rng()
    gen = _cuda_generators.get(dev)
    if gen is None:
        gen = _cuda_generators[dev] = Generator(dev).manual_seed(default_generator.initial_seed() + 1 + dev.index)
    return gen.rng()


def manual_seed(seed):
    """Seed every device's generator; returns the CPU generator, as PyTorch does."""
    seed = int(seed)
    default_generator.manual_seed(seed)
    for dev, gen in _cuda_generators.items():
        gen.manual_seed(seed + 1 + dev.index)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True):
    """Like ``torch.random.fork_rng``: on leaving the block, the CPU generator and the CUDA generators of
    ``devices`` (CUDA device indices or devices; None: every one) are as they were on entering, seeds included.
    Inside it they go on from where they were. A CUDA generator first used inside the block is let go, so that
    its next use starts from its seed as it would have. ``enabled=False``: a no-op."""
    if not enabled:
        yield
        return
    chosen = None if devices is None else {_device(d) for d in devices}
    saved = [(gen, _snapshot(gen)) for dev, gen in [(CPU, default_generator), *_cuda_generators.items()]
             if dev is CPU or chosen is None or dev in chosen]
    before = set(_cuda_generators)
    try:
        yield
    finally:
        for gen, snapshot in saved:
            _restore(gen, snapshot)
        for dev in set(_cuda_generators) - before:
            if chosen is None or dev in chosen:
                del _cuda_generators[dev]


def _snapshot(generator):
    """What ``_restore`` puts back: the seed, the array module's generator object (None before its first draw)
    and a copy of its state."""
    rng = generator._rng
    if rng is None:
        return generator._seed, None, None
    with device_context(generator.device):
        bits = rng.bit_generator
        # CuPy's cuRAND generators keep their states in a device array (their ``state()`` is its address)
        state = bits._state.copy() if callable(bits.state) else bits.state
    return generator._seed, rng, state


def _restore(generator, snapshot):
    generator._seed, generator._rng, state = snapshot
    if generator._rng is None:
        return
    with device_context(generator.device):
        bits = generator._rng.bit_generator
        if callable(bits.state):
            bits._state[...] = state
        else:
            bits.state = state


def _float_draw(method, shape, np_dtype, dev, generator, *args):
    rng = _generator_for(dev, generator)
    draw_dtype = np_dtype if np_dtype in (np.float32, np.float64) else np.float32
    with device_context(dev):
        out = getattr(rng, method)(*args, size=shape, dtype=draw_dtype)
    return out if out.dtype == np_dtype else out.astype(np_dtype)


def uniform_array(shape, low, high, dev, generator=None, np_dtype=np.float32):
    out = _float_draw("random", shape, np_dtype, dev, generator)
    if low != 0 or high != 1:
        out = out * (high - low) + low
    return out.astype(np_dtype, copy=False)


def normal_array(shape, mean, std, dev, generator=None, np_dtype=np.float32):
    out = _float_draw("standard_normal", shape, np_dtype, dev, generator)
    if std != 1 or mean != 0:
        out = out * std + mean
    return out.astype(np_dtype, copy=False)


def paired_normal_array(shape, dev, generator=None, np_dtype=np.float32):
    """Standard normal draws as ``normal_array``'s, except that float32 and narrower ones on the CPU come by
    Box-Muller from the generator's uniforms, as PyTorch's CPU normal fill does: NumPy's vectorised log, sqrt,
    cos and sin make that about three times as fast as its float32 ziggurat (its float64 ziggurat, which
    NumPy's float64 cos and sin would not beat, stays)."""
    if dev is not CPU or np_dtype == np.float64:
        return normal_array(shape, 0.0, 1.0, dev, generator, np_dtype)
    size = math.prod(shape)
    half = (size + 1) // 2
    u = _generator_for(dev, generator).random(2 * half, dtype=np.float32)
    radius, angle = u[:half], u[half:]
    np.negative(radius, out=radius)
    np.log1p(radius, out=radius)  # log(1 - u): u is in [0, 1), so the radius is finite
    radius *= -2
    np.sqrt(radius, out=radius)
    angle *= 2 * math.pi
    out = np.empty((2, half), np.float32)
    np.cos(angle, out=out[0])
    np.sin(angle, out=out[1])
    out *= radius
    out = out.reshape(-1)[:size].reshape(shape)
    return out if np_dtype == np.float32 else out.astype(np_dtype)


def exponential_array(shape, lambd, dev, generator=None, np_dtype=np.float32):
    """Inverse-CDF draws ``-log(1 - u) / lambd``, computed in float32 or float64 and then cast."""
    draw_dtype = np.float64 if np_dtype == np.float64 else np.float32
    u = _float_draw("random", shape, draw_dtype, dev, generator)
    return (-array_module(dev).log1p(-u) / draw_dtype(lambd)).astype(np_dtype, copy=False)


def poisson_array(rates, dev, generator=None):
    """Poisson counts (int64) for an array of non-negative rates on ``dev``."""
    rng = _generator_for(dev, generator)
    with device_context(dev):
        return rng.poisson(rates)


def integers_array(shape, low, high, dev, generator=None, np_dtype=np.int64, endpoint=False):
    rng = _generator_for(dev, generator)
    with device_context(dev):
        return rng.integers(low, high, size=shape, endpoint=endpoint).astype(np_dtype, copy=False)


def permutation_array(n, dev, generator=None):
    rng = _generator_for(dev, generator)
    if dev is CPU:
        return random_kernels.permutation(rng, n)
    with device_context(dev):
        return rng.permutation(n).astype(np.int64, copy=False)
