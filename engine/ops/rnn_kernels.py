"""Compiled CPU kernels (numba) for one float32 LSTM time step's elementwise work, forward and backward: one
pass over the step's rows where the array code makes about ten NumPy calls (each a few microseconds at 64 x 128),
which in a Python loop over time steps cost as much as the step's matmul.

The gate pre-activations arrive with the sigmoid gates' halved (``ops.rnn`` folds the halving into the weights),
so a sigmoid is ``0.5 * tanh(x) + 0.5``. numba has no vector tanh here (no SVML), and a scalar libm call per
element is ten times slower than NumPy's; ``tanh`` below is a clamped rational approximation (Eigen's float tanh,
within 3e-7 of the exact value, NaN kept) that LLVM vectorises, with ``error_model="numpy"`` so the division
carries no zero check.
"""

import functools

import numpy as np

from . import jit

_CLAMP = np.float32(7.90531110763549805)  # |x| beyond which float32 tanh is +-1 to the approximation
_P = tuple(np.float32(a) for a in (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                                   5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                                   4.89352455891786e-03))
_Q = tuple(np.float32(b) for b in (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
                                   4.89352518554385e-03))


@functools.cache
def _kernels():
    njit = jit.njit
    options = {"nogil": True, "cache": True, "fastmath": set(jit.FLAGS), "error_model": "numpy"}
    p0, p1, p2, p3, p4, p5, p6 = _P
    q0, q1, q2, q3 = _Q
    clamp = _CLAMP

    @njit(inline="always", **options)
    def tanh(x):
        x = x if not x > clamp else clamp  # comparisons that let NaN through
        x = x if not x < -clamp else -clamp
        x2 = x * x
        p = ((((((p0 * x2 + p1) * x2 + p2) * x2 + p3) * x2 + p4) * x2 + p5) * x2 + p6)
        q = ((q0 * x2 + q1) * x2 + q2) * x2 + q3
        return x * p / q

    @njit(**options)
    def forward(gates, c, cprev, tanh_c, h):
        """Gates (rows, 4H) to their activations in place; c (the state) saved to ``cprev`` and updated;
        tanh(c) and h = o tanh(c) written. Loops over 1-d row views, which LLVM vectorises (2-d indexing at
        four column offsets it does not)."""
        rows, hidden = c.shape
        half = gates.dtype.type(0.5)
        for r in range(rows):
            gi, gf = gates[r, :hidden], gates[r, hidden:2 * hidden]
            gg, go = gates[r, 2 * hidden:3 * hidden], gates[r, 3 * hidden:]
            cr, cpr, tr, hr = c[r], cprev[r], tanh_c[r], h[r]
            for j in range(hidden):
                i = half * tanh(gi[j]) + half
                f = half * tanh(gf[j]) + half
                g = tanh(gg[j])
                o = half * tanh(go[j]) + half
                gi[j], gf[j], gg[j], go[j] = i, f, g, o
                cp = cr[j]
                cpr[j] = cp
                cn = f * cp + i * g
                cr[j] = cn
                t = tanh(cn)
                tr[j] = t
                hr[j] = o * t

    @njit(**options)
    def backward(dh, dc, acts, tanh_c, cprev, dg):
        """From dh (rows, H) and the carried dc (updated in place to the previous step's), the gates'
        pre-activation gradients ``dg`` (rows, 4H)."""
        rows, hidden = dc.shape
        one = dc.dtype.type(1)
        for r in range(rows):
            ai, af = acts[r, :hidden], acts[r, hidden:2 * hidden]
            ag, ao = acts[r, 2 * hidden:3 * hidden], acts[r, 3 * hidden:]
            di, df = dg[r, :hidden], dg[r, hidden:2 * hidden]
            dgg, do = dg[r, 2 * hidden:3 * hidden], dg[r, 3 * hidden:]
            dhr, dcr, tr, cpr = dh[r], dc[r], tanh_c[r], cprev[r]
            for j in range(hidden):
                i, f, g, o = ai[j], af[j], ag[j], ao[j]
                t = tr[j]
                d = dhr[j]
                c_grad = d * o * (one - t * t) + dcr[j]
                di[j] = c_grad * g * i * (one - i)
                df[j] = c_grad * cpr[j] * f * (one - f)
                dgg[j] = c_grad * i * (one - g * g)
                do[j] = d * t * o * (one - o)
                dcr[j] = c_grad * f

    return forward, backward


def lstm_forward(gates, c, cprev, tanh_c, h):
    _kernels()[0](gates, c, cprev, tanh_c, h)


def lstm_backward(dh, dc, acts, tanh_c, cprev, dg):
    _kernels()[1](dh, dc, acts, tanh_c, cprev, dg)
