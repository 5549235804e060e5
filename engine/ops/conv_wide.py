"""Host (NumPy) convolution with unit column stride: full-row column matrices built in cache-sized batch chunks.

The generic im2col copies runs of only ``ow`` elements (28 or 10 floats in LeNet), which NumPy copies
slowly, and for large batches its column matrix (25x the input for 5x5 kernels) spills to main memory,
so that copying it and reading it back twice (forward product, weight gradient) is bandwidth-bound.
Here each image is placed in a zero-padded, batch-major buffer and the output is computed on the full
padded width ``Wp`` instead of ``ow``: every column-matrix row is then one run of ``oh * Wp`` contiguous
elements (a memcpy), at the cost of ``(kw-1)*dw`` discarded output columns per row, whose windows wrap
into the next row. The batch is processed in chunks of about 8 MiB of column matrix (best measured
of 1-16 MiB), so that it stays in cache between its copy and its product, and backward rebuilds each
chunk's column matrix (cheap now) instead of keeping the whole one: keeping them measured slower, and
fresh allocations of tens of MiB each step pay page faults. Running the chunks on two threads, each with
single-threaded BLAS, measured slower on the 2-core machine (LeNet's convolutions at batch 256: forward
5.7 -> 10.4 ms and 2.8 -> 4.1 ms): each thread's copies and products slow down by a third to a half
when both run, and OpenBLAS already uses both cores for the products, the weight gradient included.
Copying each chunk into one reused buffer instead of a fresh one also measured slightly slower.

The input gradient is, where the input has at least as many channels as the output (ResNet's 3x3
convolutions), itself a forward pass of this kind: the output gradient convolved with the flipped,
transposed weight and padding ``(k-1)*d - p``, one product instead of a product and kh*kw strided
col2im additions (the ResNet template's training step 13-18% faster; slower for LeNet's 6->16
convolution, which keeps col2im: 1.7x slower at batch 64 and 256, ahead only below batch 8, by under
30 microseconds).

The discarded columns multiply real input values by zero gradients in backward, so a non-finite input
or weight could leak NaN into the gradients: ``usable`` sends such calls to the generic path.

OpenBLAS runs the skinny products of few output channels (LeNet's 6) at a quarter of its speed, and
about twice as fast once the rows are padded with zeros to a multiple of 8 (measured for 6, 12 and 16
rows), so ungrouped products use ``K`` rounded up to 8 and drop the extra rows.
"""

import math

import numpy as np

from .strides import as_strided

_CHUNK_BYTES = 1 << 23  # column matrix per chunk (L2 is 1 MiB per core, L3 32 MiB shared)


class WideGeometry:
    """Sizes of one call and its chunk buffers."""

    __slots__ = ("chunk", "dilation", "kernel", "out_hw", "padded_hw", "pads", "sh", "shape", "slack", "xp")

    def __init__(self, xp, shape, kernel, stride, pads, dilation, out_hw, itemsize):
        self.xp = xp
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
        return self.xp.zeros(n * c * hp * wp + self.slack, dtype=dtype)

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
        if type(buf) is np.ndarray:  # the constructor on our own contiguous buffer: 0.5 us, not as_strided's 4
            return np.ndarray(shape, buf.dtype, buf, 0, strides)
        return as_strided(self.xp, buf, shape, strides)

    def fill(self, images, x, a, m):
        """Copy images ``a:a+m`` of ``x`` into the interior of the chunk's padded images."""
        pt, _, pl, _ = self.pads
        h, w = self.shape[2:]
        images[:m, :, pt:pt + h, pl:pl + w] = x[a:a + m]

    def col(self, buf, m):
        """The (C*kh*kw, m*oh*Wp) column matrix of the first ``m`` images of ``buf``."""
        c = self.shape[1]
        kh, kw = self.kernel
        return self.xp.ascontiguousarray(self.windows(buf, m)).reshape(c * kh * kw, -1)


def usable(x, w, stride):
    """Whether the wide path applies: floating arrays in host memory (NumPy, or the device stand-in of the
    tests, so that both run the same arithmetic), unit column stride, all values finite."""
    return (isinstance(x, np.ndarray) and x.dtype.kind == "f" and stride[1] == 1 and x.size > 0
            and math.isfinite(x.sum()) and math.isfinite(w.sum()))


def padded_rows(k, groups):
    """Rows of the weight matrix as multiplied: ``k`` rounded up to a multiple of 8 when ungrouped."""
    return k if groups > 1 else -(-k // 8) * 8


def _weight_rows(xp, w, rows):
    """The (rows, C*kh*kw) weight matrix, zero rows below the real ones."""
    w2 = w.reshape(w.shape[0], -1)
    if rows == w.shape[0]:
        return w2
    out = xp.zeros((rows, w2.shape[1]), dtype=w.dtype)
    out[:w.shape[0]] = w2
    return out


def forward(x, w, b, geom, groups, product):
    """(N, K, oh, ow) contiguous output; ``product(w2, col)`` is the (grouped) matrix product."""
    n = geom.shape[0]
    k = w.shape[0]
    oh, ow = geom.out_hw
    wp = geom.padded_hw[1]
    xp = geom.xp
    w2 = _weight_rows(xp, w, padded_rows(k, groups))
    out = xp.empty((n, k, oh, ow), dtype=x.dtype)
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
            xp.add(r, bias, out=out[a:a + m].transpose(1, 0, 2, 3))
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
    return WideGeometry(geom.xp, (n, k, *geom.out_hw), geom.kernel, (1, 1), pads, geom.dilation, (h, wd), itemsize)


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
    xp = geom.xp
    rows = padded_rows(k, groups)
    w2 = _weight_rows(xp, w, rows)
    g2buf = xp.zeros((rows, geom.chunk, oh, wp), dtype=g.dtype)  # padding rows and discarded columns stay zero
    gw = xp.zeros((rows, w2.shape[1]), dtype=g.dtype) if need_w else None
    gx = None
    if need_x:
        corr = _correlation_geometry(geom, k, g.itemsize)
        if corr is not None:
            gx = forward(g, _flipped_transpose(w, groups), None, corr, groups, product)
            need_x = False
        else:
            gx = xp.empty(geom.shape, dtype=g.dtype)
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
