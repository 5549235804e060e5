"""Compiled (numba) CPU kernels of the CTC loss: the forward (alpha) recursion, and the backward (beta)
recursion that accumulates each label's alpha * beta occupancy into the gradient, in log space as PyTorch's
CPU kernel does. One batch element per loop iteration; the batch is split over the engine's threads (the
kernels release the GIL)."""

import functools

import numpy as np

from ..threads import cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(inline="always")
    def label(targets, n, s, blank):
        """The extended label sequence: blanks at even places, the targets between."""
        return blank if s % 2 == 0 else targets[n, s // 2]

    @njit(inline="always")
    def logsumexp3(a, b, c):
        """log(exp(a) + exp(b) + exp(c)) in the inputs' dtype: the largest term counts 1 and the -inf terms
        nothing, so most places take one exp or none (blank places have no skip transition, and early and late
        times reach few places)."""
        m = max(a, max(b, c))
        if m == -np.inf:
            return m
        if a == m:
            x, y = b, c
        elif b == m:
            x, y = a, c
        else:
            x, y = a, b
        total = m - m + 1  # one, in m's dtype
        if x != -np.inf:
            total += np.exp(x - m)
        if y != -np.inf:
            total += np.exp(y - m)
        return np.log(total) + m

    @njit(nogil=True, cache=True)
    def alpha(lp, targets, in_len, tg_len, blank, neginf, start, stop, log_alpha, nll):
        for n in range(start, stop):
            il, tl = in_len[n], tg_len[n]
            la = log_alpha[n]
            if il == 0:
                nll[n] = 0.0 if tl == 0 else np.inf
                continue
            la[0, 0] = lp[0, n, blank]
            if tl > 0:
                la[0, 1] = lp[0, n, label(targets, n, 1, blank)]
            for t in range(1, il):
                for s in range(2 * tl + 1):
                    c = label(targets, n, s, blank)
                    a2 = la[t - 1, s - 1] if s > 0 else neginf
                    a3 = la[t - 1, s - 2] if s > 1 and label(targets, n, s - 2, blank) != c else neginf
                    la[t, s] = logsumexp3(la[t - 1, s], a2, a3) + lp[t, n, c]
            if tl == 0:
                nll[n] = -la[il - 1, 0]
            else:
                nll[n] = -logsumexp3(la[il - 1, 2 * tl], la[il - 1, 2 * tl - 1], neginf)

    @njit(nogil=True, cache=True)
    def grad(lp, targets, in_len, tg_len, blank, neginf, log_alpha, nll, gr, zero_infinity, start, stop, log_beta,
             out):
        """``out`` (T, N, C), zeros on entry: each element's gradient ``(exp(lp) - occupancy) * gr`` as PyTorch's
        CPU kernel writes it, a label's occupancy at time t being the sum over its places s of
        ``alpha * beta / exp(lp)`` divided by the likelihood: a probability, summed linearly."""
        num_labels = lp.shape[2]
        for n in range(start, stop):
            il, tl, loss = in_len[n], tg_len[n], nll[n]
            if il == 0 or (zero_infinity and loss == np.inf):
                continue
            la, lb, g = log_alpha[n], log_beta[n], out[:, n, :]
            last = 2 * tl
            lb[il - 1, last] = lp[il - 1, n, blank]
            if tl > 0:
                lb[il - 1, last - 1] = lp[il - 1, n, label(targets, n, last - 1, blank)]
            for t in range(il - 1, -1, -1):
                for s in range(last, -1, -1):
                    c = label(targets, n, s, blank)
                    if t < il - 1:
                        b2 = lb[t + 1, s + 1] if s < last else neginf
                        b3 = lb[t + 1, s + 2] if s < last - 1 and label(targets, n, s + 2, blank) != c else neginf
                        lb[t, s] = logsumexp3(lb[t + 1, s], b2, b3) + lp[t, n, c]
                    lcab = la[t, s] + lb[t, s]
                    if lcab != neginf:
                        g[t, c] += np.exp(lcab + loss - lp[t, n, c])
            for t in range(il):
                for c in range(num_labels):
                    # an impossible target (loss = inf) gives NaN everywhere, as PyTorch's exp(-inf + inf) does
                    occupancy = g[t, c] if loss != np.inf else np.nan
                    g[t, c] = (np.exp(lp[t, n, c]) - occupancy) * gr[n]

    return alpha, grad


def _shares(n, work):
    return cpu_shares(n, work, min_work=1 << 14)


def forward(lp, targets, in_len, tg_len, blank, s_ext):
    """(log_alpha (N, T, s_ext), nll (N,)) for log-probabilities ``lp`` (T, N, C)."""
    t_max, n = lp.shape[:2]
    log_alpha = np.full((n, t_max, s_ext), -np.inf, dtype=lp.dtype)
    nll = np.empty(n, dtype=lp.dtype)
    alpha = _kernels()[0]
    neginf = lp.dtype.type(-np.inf)  # -inf in the input's dtype keeps the recursions in it
    cpu_map(lambda share: alpha(lp, targets, in_len, tg_len, blank, neginf, *share, log_alpha, nll),
            _shares(n, log_alpha.size))
    return log_alpha, nll


def backward(lp, targets, in_len, tg_len, blank, log_alpha, nll, gr, zero_infinity):
    """The gradient (T, N, C) of each element's loss, scaled by the upstream ``gr`` (N,)."""
    out = np.zeros(lp.shape, dtype=lp.dtype)
    log_beta = np.full(log_alpha.shape, -np.inf, dtype=lp.dtype)
    grad = _kernels()[1]
    neginf = lp.dtype.type(-np.inf)
    cpu_map(lambda share: grad(lp, targets, in_len, tg_len, blank, neginf, log_alpha, nll, gr, zero_infinity, *share,
                               log_beta, out), _shares(lp.shape[1], log_alpha.size))
    return out
