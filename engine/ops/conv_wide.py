"""Host (NumPy) convolution with unit column stride: full-row column matrices built in cache-sized batch chunks.

Each image is placed in a zero-padded, batch-major buffer and the output computed on the full padded
width, so that every column-matrix row is one contiguous run (a memcpy) instead of runs of ``ow``
elements; the ``(kw-1)*dw`` wrapped columns per row are dropped (the caller handles a non-finite weight
or weight gradient, which they could leak into). Chunks of about 8 MiB of column matrix stay in cache
between their copy and their product; backward rebuilds them. Where the input has at least as many
channels as the output, the input gradient is itself such a forward pass (flipped, transposed weight).
Weight rows are padded to a multiple of 8 for OpenBLAS. Measurements: bench/NOTES.md.
"""

import numpy as np

_CHUNK_BYTES = 1 << 23  # column matrix per chunk (L2 is 1 MiB per core, L3 32 MiB shared)


class WideGeometry:
    """Sizes of one call and its chunk buffers."""

    __slots__ = ("chunk", "dilation", "kernel", "out_hw", "padded_hw", "pads", "sh", "shape", "slack")

    def __init__(self, shape, kernel, stride, pads, dilation, out_hw, itemsize):
        n, c, h, w = shape
        kh, kw = kernel
        self.shape, self.kernel, self.pads, self.dilation, self.out_hw = shape, kernel, pads, dilation, out_hw
        self.sh = stride[0]
        self.padded_hw = (h + pads[0] + pads[1], w + pads[2] + pads[3])
        self.slack = (kw - 1) * dilation[1]
        row_bytes = c * kh * kw * out_hw[0] * self.padded_hw[1] * itemsize
        chunks = -(-n // max(1, _CHUNK_BYTES // row_bytes))
        self.chunk = -(-n // chunks)  # equal chunks: a small last one would run the product inefficiently

    def buffer(self, dtype):
        """A zeroed flat buffer for one chunk of padded images, with slack for the last row's wrap-around."""
        n, c = self.chunk, self.shape[1]
        hp, wp = self.padded_hw
        return np.zeros(n * c * hp * wp + self.slack, dtype=dtype)

    def images(self, buf):
        """The (chunk, C, Hp, Wp) image view of a chunk buffer."""
        hp, wp = self.padded_hw
        return buf[:buf.size - self.slack].reshape(self.chunk, self.shape[1], hp, wp)

    def windows(self, buf, m):
        """(C, kh, kw, m, oh, Wp) view of the first ``m`` images of ``buf``: full-width rows of every window."""
        c = self.shape[1]
        (kh, kw), (dh, dw) = self.kernel, self.dilation
        hp, wp = self.padded_hw
        z = buf.itemsize
        shape = (c, kh, kw, m, self.out_hw[0], wp)
        strides = (hp * wp * z, dh * wp * z, dw * z, c * hp * wp * z, self.sh * wp * z, z)
        return np.ndarray(shape, buf.dtype, buf, 0, strides)  # on our own buffer: 0.5 us, not as_strided's 4

    def fill(self, images, x, a, m):
        """Copy images ``a:a+m`` of ``x`` into the interior of the chunk's padded images."""
        pt, _, pl, _ = self.pads
        h, w = self.shape[2:]
        images[:m, :, pt:pt + h, pl:pl + w] = x[a:a + m]

    def col(self, buf, m):
        """The (C*kh*kw, m*oh*Wp) column matrix of the first ``m`` images of ``buf``."""
        c = self.shape[1]
        kh, kw = self.kernel
        return np.ascontiguousarray(self.windows(buf, m)).reshape(c * kh * kw, -1)


def padded_rows(k, groups):
    """Rows of the weight matrix as multiplied: ``k`` rounded up to a multiple of 8 when ungrouped."""
    return k if groups > 1 else -(-k // 8) * 8


def _weight_rows(w, rows):
    """The (rows, C*kh*kw) weight matrix, zero rows below the real ones."""
    w2 = w.reshape(w.shape[0], -1)
    if rows == w.shape[0]:
        return w2
    out = np.zeros((rows, w2.shape[1]), dtype=w.dtype)
    out[:w.shape[0]] = w2
    return out


def forward(x, w, b, geom, groups, product):
    """(N, K, oh, ow) contiguous output; ``product(w2, col)`` is the (grouped) matrix product."""
    n = geom.shape[0]
    k = w.shape[0]
    oh, ow = geom.out_hw
    wp = geom.padded_hw[1]
    w2 = _weight_rows(w, padded_rows(k, groups))
    out = np.empty((n, k, oh, ow), dtype=x.dtype)
    buf = geom.buffer(x.dtype)
    images = geom.images(buf)
    bias = None if b is None else b.reshape(k, 1, 1, 1)
    for a in range(0, n, geom.chunk):
        m = min(geom.chunk, n - a)
        geom.fill(images, x, a, m)
        r = product(w2, geom.col(buf, m)).reshape(-1, m, oh, wp)[:k, ..., :ow]
        if bias is None:
            out[a:a + m] = r.transpose(1, 0, 2, 3)
        else:
            np.add(r, bias, out=out[a:a + m].transpose(1, 0, 2, 3))
    return out


def _correlation_geometry(geom, k, itemsize):
    """Geometry of the input gradient as a forward convolution of the output gradient with the flipped,
    transposed weight (padding ``(k-1)*d - p``), or None where that does not apply (strided rows, padding
    beyond the kernel's reach, or fewer input than output channels, where col2im moves less data)."""
    n, c, h, wd = geom.shape
    (kh, kw), (dh, dw) = geom.kernel, geom.dilation
    pt, pb, pl, pr = geom.pads
    pads = ((kh - 1) * dh - pt, (kh - 1) * dh - pb, (kw - 1) * dw - pl, (kw - 1) * dw - pr)
    if geom.sh != 1 or c < k or min(pads) < 0:
        return None
    return WideGeometry((n, k, *geom.out_hw), geom.kernel, (1, 1), pads, geom.dilation, (h, wd), itemsize)


def _flipped_transpose(w, groups):
    """The (C, K/G, kh, kw) weight of the transposed convolution: per group, channels swapped, kernel flipped."""
    k, cg, kh, kw = w.shape
    wt = w.reshape(groups, k // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(cg * groups, k // groups, kh, kw)
    return wt[:, :, ::-1, ::-1]


def backward(g, x, w, geom, groups, need, product, weight_grad, col_grad):
    """(gx, gw) for the grads flagged in ``need`` (input, weight); the others are None."""
    need_x, need_w = need
    n, c, h, wd = geom.shape
    k = w.shape[0]
    kh, kw = geom.kernel
    oh, ow = geom.out_hw
    wp = geom.padded_hw[1]
    pt, _, pl, _ = geom.pads
    rows = padded_rows(k, groups)
    w2 = _weight_rows(w, rows)
    g2buf = np.zeros((rows, geom.chunk, oh, wp), dtype=g.dtype)  # padding rows and discarded columns stay zero
    gw = np.zeros((rows, w2.shape[1]), dtype=g.dtype) if need_w else None
    gx = None
    if need_x:
        corr = _correlation_geometry(geom, k, g.itemsize)
        if corr is not None:
            gx = forward(g, _flipped_transpose(w, groups), None, corr, groups, product)
            need_x = False
        else:
            gx = np.empty(geom.shape, dtype=g.dtype)
    if need_w:
        buf = geom.buffer(x.dtype)
        images = geom.images(buf)
    if need_x:
        gbuf = geom.buffer(g.dtype)
        gimages = geom.images(gbuf)
    for a in range(0, n, geom.chunk):
        m = min(geom.chunk, n - a)
        g2buf[:k, :m, :, :ow] = g[a:a + m].transpose(1, 0, 2, 3)
        g2 = g2buf[:, :m].reshape(rows, -1)
        if need_w:
            geom.fill(images, x, a, m)
            gw += weight_grad(g2, geom.col(buf, m))
        if need_x:
            gcol = col_grad(w2, g2).reshape(c, kh, kw, m, oh, wp)
            gbuf.fill(0)
            windows = geom.windows(gbuf, m)
            for i in range(kh):
                for j in range(kw):
                    windows[:, i, j] += gcol[:, i, j]
            gx[a:a + m] = gimages[:m, :, pt:pt + h, pl:pl + wd]
    return gx, None if gw is None else gw[:k].reshape(w.shape)
