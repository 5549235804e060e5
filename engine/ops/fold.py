"""``unfold`` (im2col) and ``fold`` (col2im): sliding blocks of a batched image as columns, and back. Each is
the other's adjoint, so each one's backward is the other; ``fold`` adds overlapping blocks with ``conv``'s
col2im (one strided addition per kernel offset)."""

import numbers

from .conv import _col2im
from .op import Op, xp_of
from .strides import as_strided


def _pairs(**values):
    """Each value as a pair (an int repeated), checked for two elements as PyTorch does."""
    out = []
    for name, v in values.items():
        v = (int(v),) * 2 if isinstance(v, numbers.Integral) else tuple(int(e) for e in v)
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
        out.append(v)
    return out


def _check_positive(kernel, dilation, padding, stride):
    for name, v, what in (("kernel size", kernel, "kernel"), ("dilation", dilation, "dilation"),
                          ("stride", stride, "stride")):
        if min(v) <= 0:
            raise RuntimeError(f"{name} should be greater than zero, but got {what}_height: {v[0]} "
                               f"{what}_width: {v[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")


def _blocks(size, kernel, dilation, padding, stride):
    """The number of sliding blocks along each spatial dimension."""
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


def _unfold(x, kernel, dilation, padding, stride, blocks):
    """(N, C*kh*kw, L) columns of ``x`` (N, C, H, W): one copy of a strided view of the padded input."""
    xp = xp_of(x)
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), (oh, ow) = kernel, dilation, padding, stride, blocks
    if ph or pw:
        padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    s_n, s_c, s_h, s_w = x.strides
    view = as_strided(xp, x, (n, c, kh, kw, oh, ow), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))
    return xp.ascontiguousarray(view).reshape(n, c * kh * kw, oh * ow)


def _fold(cols, size, kernel, dilation, padding, stride, blocks):
    """(N, C, H, W) sums of the blocks of ``cols`` (N, C*kh*kw, L) placed back where ``_unfold`` took them."""
    n = cols.shape[0]
    (kh, kw), (ph, pw) = kernel, padding
    c = cols.shape[1] // (kh * kw)
    out = xp_of(cols).zeros((n, c, size[0] + 2 * ph, size[1] + 2 * pw), dtype=cols.dtype)
    gcol = cols.reshape(n, c, kh, kw, *blocks).transpose(1, 2, 3, 0, 4, 5)
    _col2im(gcol, out.transpose(1, 0, 2, 3), kernel, dilation, stride, blocks)
    return out[:, :, ph:ph + size[0], pw:pw + size[1]]


class Im2Col(Op):
    """``unfold`` of a batched input; ``options`` are (kernel, dilation, padding, stride, blocks)."""

    __slots__ = ("options", "size")
    _name = "Im2ColBackward0"
    saves_tensors = False

    def forward(self, x, options=None):
        self.size, self.options = x.shape[2:], options
        return _unfold(x, *options)

    def backward(self, g):
        return (_fold(g, self.size, *self.options),)

    def backward_graph(self, g):
        return (Col2Im.apply(g, size=self.size, options=self.options),)


class Col2Im(Op):
    """``fold`` of batched columns into images of spatial ``size``."""

    __slots__ = ("options",)
    _name = "Col2ImBackward0"
    saves_tensors = False

    def forward(self, cols, size=None, options=None):
        self.options = options
        return xp_of(cols).ascontiguousarray(_fold(cols, size, *options))

    def backward(self, g):
        return (_unfold(g, *self.options),)

    def backward_graph(self, g):
        return (Im2Col.apply(g, options=self.options),)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """``torch.nn.functional.unfold``: (N, C, H, W) or (C, H, W) into (N, C*kh*kw, L) sliding-block columns."""
    x = input._data
    kernel, dilation, padding, stride = _pairs(kernel_size=kernel_size, dilation=dilation, padding=padding,
                                               stride=stride)
    _check_positive(kernel, dilation, padding, stride)
    if x.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(x.shape)}")
    blocks = _blocks(x.shape[-2:], kernel, dilation, padding, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[-2:])}, kernel_size={tuple(kernel)}, "
                           f"dilation={tuple(dilation)}, padding={tuple(padding)}, calculated shape of the array of "
                           f"sliding blocks as {blocks}, but its components must be at least one.")
    batched = input if x.ndim == 4 else input.unsqueeze(0)
    out = Im2Col.apply(batched, options=(kernel, dilation, padding, stride, blocks))
    return out if x.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """``torch.nn.functional.fold``: (N, C*kh*kw, L) or (C*kh*kw, L) columns summed into (N, C, *output_size)."""
    x = input._data
    size, kernel, dilation, padding, stride = _pairs(output_size=output_size, kernel_size=kernel_size,
                                                     dilation=dilation, padding=padding, stride=stride)
    _check_positive(kernel, dilation, padding, stride)
    if x.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(x.shape)}")
    if x.shape[-2] % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension {x.ndim - 2} to be divisible by the product of "
                           f"kernel_size, but got input.size({x.ndim - 2})={x.shape[-2]} and "
                           f"kernel_size={tuple(kernel)}.")
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if min(blocks) < 1 or blocks[0] * blocks[1] != x.shape[-1]:
        raise RuntimeError(f"Given output_size={tuple(size)}, kernel_size={tuple(kernel)}, dilation={tuple(dilation)}, "
                           f"padding={tuple(padding)}, stride={tuple(stride)}, expected size of input's dimension "
                           f"{x.ndim - 1} to match the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size({x.ndim - 1})={x.shape[-1]}.")
    batched = input if x.ndim == 3 else input.unsqueeze(0)
    out = Col2Im.apply(batched, size=tuple(size), options=(kernel, dilation, padding, stride, blocks))
    return out if x.ndim == 3 else out.squeeze(0)


__all__ = ["Col2Im", "Im2Col", "fold", "unfold"]
