"""``pixel_shuffle`` and ``pixel_unshuffle``: channel blocks to spatial blocks and back, one node each.

Each is a reshape, a transpose and a copy; each is the other's inverse, so each one's gradient (also with
``create_graph``) is the other applied to the output's gradient.
"""

from .op import Op


def _shuffle(x, r):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    *lead, c, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(x, r):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    *lead, c, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


class PixelShuffle(Op):
    __slots__ = ("factor",)
    _name = "PixelShuffleBackward0"
    saves_tensors = False

    def forward(self, x, factor=1):
        self.factor = factor
        return _shuffle(x, factor)

    def backward(self, g):
        return (_unshuffle(g, self.factor),)

    def backward_graph(self, g):
        return (PixelUnshuffle.apply(g, factor=self.factor),)


class PixelUnshuffle(Op):
    __slots__ = ("factor",)
    _name = "PixelUnshuffleBackward0"
    saves_tensors = False

    def forward(self, x, factor=1):
        self.factor = factor
        return _unshuffle(x, factor)

    def backward(self, g):
        return (_shuffle(g, self.factor),)

    def backward_graph(self, g):
        return (PixelShuffle.apply(g, factor=self.factor),)


def _check(x, fn, factor, what):
    if x.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input with {x.ndim} "
                           "dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{fn} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """``torch.nn.functional.pixel_shuffle``."""
    x, r = input._data, int(upscale_factor)
    _check(x, "pixel_shuffle", r, "upscale_factor")
    if x.shape[-3] % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={x.shape[-3]} is not divisible by {r * r}")
    return PixelShuffle.apply(input, factor=r)


def pixel_unshuffle(input, downscale_factor):
    """``torch.nn.functional.pixel_unshuffle``."""
    x, r = input._data, int(downscale_factor)
    _check(x, "pixel_unshuffle", r, "downscale_factor")
    for name, axis in (("height", -2), ("width", -1)):
        if x.shape[axis] % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({axis})={x.shape[axis]} is not divisible by {r}")
    return PixelUnshuffle.apply(input, factor=r)


__all__ = ["PixelShuffle", "PixelUnshuffle", "pixel_shuffle", "pixel_unshuffle"]
