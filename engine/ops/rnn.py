"""Recurrent layers (Elman RNN with tanh or ReLU, LSTM with an optional projection, GRU): one graph node per
layer and direction, with its own backward through time.

The input's projection for all time steps is one matmul before the loop and each step one matmul with the
hidden weights plus a few in-place array calls; backward walks the steps in reverse and leaves the weights'
gradients to one matmul each over all steps. Inputs are packed (``batch_sizes``, not increasing): step t reads
rows ``offsets[t]:offsets[t] + batch_sizes[t]`` of the input and updates the first ``batch_sizes[t]`` rows of
the state, so a padded batch is the case of equal sizes and each sequence's last state stays where it ended.
Sigmoids are ``0.5 * tanh(x / 2) + 0.5`` with the halving folded into the weights, so a step's gates take one
tanh call and no exp that can overflow.
"""

from ..threads import cpu_matmul
from .op import Op, xp_of


def _steps(batch_sizes, reverse):
    """(first row, batch size) of each step, in the order the recurrence visits them."""
    steps = []
    start = 0
    for b in batch_sizes:
        steps.append((start, b))
        start += b
    return steps[::-1] if reverse else steps


def _gate_scale(xp, n, sigmoid_rows, dtype):
    """Row factors of the gate weights: 0.5 on the rows whose gate is a sigmoid, 1 elsewhere."""
    scale = xp.ones(n, dtype=dtype)
    for rows in sigmoid_rows:
        scale[rows] = 0.5
    return scale


def _sigmoid_from_tanh_(a):
    """``a`` (tanh of half the pre-activation) turned into the sigmoid of the pre-activation, in place."""
    a *= 0.5
    a += 0.5


class _RecurrentLayer(Op):
    """Inputs ``(x, h0, [c0], w_ih, w_hh, [b_ih, b_hh], [w_hr])``; outputs ``(output, h_n, [c_n])``.

    ``x`` is (rows, input_size), packed by ``batch_sizes``; ``h0`` (and ``c0``) hold one row per sequence.
    Subclasses give ``n_states``, ``chunks`` and ``run``/``backprop`` over the steps; the input's projection
    and the weights' gradients are shared here."""

    __slots__ = ("acts", "extra", "has_bias", "has_proj", "hprev", "steps", "w_hh", "w_hr", "w_ih", "x")
    saves = 1
    n_states = 1
    sigmoid_rows = ()  # slices of the gate rows that are sigmoids, in multiples of hidden_size

    def forward(self, x, *arrays, batch_sizes=(), reverse=False, has_bias=True, has_proj=False, relu=False):
        k = self.n_states
        states, params = arrays[:k], arrays[k:]
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if has_bias else (None, None)
        w_hr = params[-1] if has_proj else None
        xp = xp_of(x)
        hidden = w_ih.shape[0] // self.chunks
        rows = [slice(a * hidden, b * hidden) for a, b in self.sigmoid_rows]
        scale = _gate_scale(xp, w_ih.shape[0], rows, w_ih.dtype)[:, None] if rows else None
        self.x, self.w_ih, self.w_hh, self.w_hr = x, w_ih, w_hh, w_hr
        self.has_bias, self.has_proj = has_bias, has_proj
        self.steps = _steps(batch_sizes, reverse)
        w_ih_s = w_ih if scale is None else w_ih * scale
        acts = cpu_matmul(x, w_ih_s.T)
        bias = self.input_bias(b_ih, b_hh, hidden)
        if bias is not None:
            acts += bias if scale is None else bias * scale[:, 0]
        self.acts = acts
        self.hprev = xp.empty((x.shape[0], states[0].shape[1]), dtype=x.dtype)
        w_hh_t = (w_hh if scale is None else w_hh * scale).T
        return self.run(xp, states, w_hh_t, b_hh, hidden, relu)

    @staticmethod
    def input_bias(b_ih, b_hh, hidden):
        """The bias added to the input's projection: both biases, where both sit outside the gates."""
        return None if b_ih is None else b_ih + b_hh

    def backward(self, g_out, *g_states):
        xp = xp_of(self.acts)
        ds = [g.copy() if g is not None else xp.zeros_like(s) for g, s in zip(g_states, self.final)]
        d_in, d_hid, g_out_hr = self.backprop(xp, g_out, ds)
        return tuple(self.input_and_weight_grads(d_in, d_hid, ds, g_out_hr))

    def input_and_weight_grads(self, d_in, d_hid, ds, g_out_hr):
        """Gradients of all inputs in order, from the gates' gradients over all steps: ``d_in`` of the input
        projection's pre-activations and ``d_hid`` of the hidden one's (the same array except in GRU);
        ``g_out_hr``, with a projection, those of the projected outputs."""
        edges = self._edges
        k = self.n_states
        need = [e is not None for e in edges]
        gx = cpu_matmul(d_in, self.w_ih) if need[0] else None
        grads = [gx, *(d if need[1 + i] else None for i, d in enumerate(ds))]
        grads.append(cpu_matmul(d_in.T, self.x) if need[k + 1] else None)
        grads.append(cpu_matmul(d_hid.T, self.hprev) if need[k + 2] else None)
        if self.has_bias:
            grads.append(d_in.sum(axis=0) if need[k + 3] else None)
            grads.append(d_hid.sum(axis=0) if need[k + 4] else None)
        if self.has_proj:
            grads.append(cpu_matmul(g_out_hr.T, self.extra[-1]) if need[-1] else None)
        return grads


class RNNLayer(_RecurrentLayer):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or ReLU; ``acts`` holds the outputs."""

    __slots__ = ("final", "relu")
    _name = "RnnBackward0"
    num_outputs = 2
    chunks = 1

    def run(self, xp, states, w_hh_t, b_hh, hidden, relu):
        self.relu = relu
        acts, hprev = self.acts, self.hprev
        state = states[0].copy()
        for start, b in self.steps:
            a = acts[start:start + b]
            hp = hprev[start:start + b]
            hp[...] = state[:b]
            a += hp @ w_hh_t
            if relu:
                xp.maximum(a, 0, out=a)
            else:
                xp.tanh(a, out=a)
            state[:b] = a
        self.final = (state,)
        return acts.copy(), state

    def backprop(self, xp, g_out, ds):
        acts = self.acts
        slope = (acts > 0).astype(acts.dtype) if self.relu else 1 - acts * acts
        d = xp.empty_like(acts)
        dh_state = ds[0]
        w_hh = self.w_hh
        for start, b in reversed(self.steps):
            dg = d[start:start + b]
            if g_out is None:
                xp.multiply(dh_state[:b], slope[start:start + b], out=dg)
            else:
                xp.add(dh_state[:b], g_out[start:start + b], out=dg)
                dg *= slope[start:start + b]
            dh_state[:b] = dg @ w_hh
        return d, d, None


class LSTMLayer(_RecurrentLayer):
    """Gates i, f, g, o (PyTorch's order); c' = f c + i g, h' = o tanh(c'), projected by ``w_hr`` when given.
    ``extra`` holds tanh(c'), the previous cells, and with a projection the gradients at and values of the
    unprojected h'."""

    __slots__ = ("final",)
    _name = "LstmBackward0"
    num_outputs = 3
    n_states = 2
    chunks = 4
    sigmoid_rows = ((0, 2), (3, 4))

    def run(self, xp, states, w_hh_t, b_hh, hidden, relu):
        acts, hprev = self.acts, self.hprev
        n = acts.shape[0]
        h_state, c_state = states[0].copy(), states[1].copy()
        tanh_c = xp.empty((n, hidden), dtype=acts.dtype)
        cprev = xp.empty_like(tanh_c)
        out = xp.empty((n, h_state.shape[1]), dtype=acts.dtype)
        full = xp.empty_like(tanh_c) if self.has_proj else out
        w_hr_t = self.w_hr.T if self.has_proj else None
        h2, h3 = 2 * hidden, 3 * hidden
        for start, b in self.steps:
            r = slice(start, start + b)
            gates = acts[r]
            hp = hprev[r]
            hp[...] = h_state[:b]
            cp = cprev[r]
            cp[...] = c_state[:b]
            gates += hp @ w_hh_t
            xp.tanh(gates, out=gates)
            _sigmoid_from_tanh_(gates[:, :h2])
            _sigmoid_from_tanh_(gates[:, h3:])
            c = c_state[:b]
            c *= gates[:, hidden:h2]
            c += gates[:, :hidden] * gates[:, h2:h3]
            tc = xp.tanh(c, out=tanh_c[r])
            h = xp.multiply(gates[:, h3:], tc, out=full[r])
            if w_hr_t is not None:
                h = xp.matmul(h, w_hr_t, out=out[r])
            h_state[:b] = h
        self.extra = (tanh_c, cprev, full)
        self.final = (h_state, c_state)
        return out, h_state, c_state

    def backprop(self, xp, g_out, ds):
        acts = self.acts
        tanh_c, cprev, _ = self.extra
        hidden = tanh_c.shape[1]
        h2, h3 = 2 * hidden, 3 * hidden
        slope = acts * (1 - acts)  # the sigmoids' derivatives; the g gate's is 1 - g^2
        g = acts[:, h2:h3]
        xp.multiply(g, g, out=slope[:, h2:h3])
        xp.subtract(1, slope[:, h2:h3], out=slope[:, h2:h3])
        dtanh = 1 - tanh_c * tanh_c
        d = xp.empty_like(acts)
        dh_state, dc_state = ds
        w_hh, w_hr = self.w_hh, self.w_hr
        g_full = xp.empty_like(self.hprev) if self.has_proj else None
        for start, b in reversed(self.steps):
            r = slice(start, start + b)
            gates = acts[r]
            dg = d[r]
            dh = dh_state[:b] if g_out is None else dh_state[:b] + g_out[r]
            if g_full is not None:
                g_full[r] = dh
                dh = dh @ w_hr
            dc = dh * gates[:, 3 * hidden:]
            dc *= dtanh[r]
            dc += dc_state[:b]
            xp.multiply(dc, gates[:, h2:h3], out=dg[:, :hidden])
            xp.multiply(dc, cprev[r], out=dg[:, hidden:h2])
            xp.multiply(dc, gates[:, :hidden], out=dg[:, h2:h3])
            xp.multiply(dh, tanh_c[r], out=dg[:, h3:])
            dg *= slope[r]
            xp.multiply(dc, gates[:, hidden:h2], out=dc_state[:b])
            dh_state[:b] = dg @ w_hh
        return d, d, g_full


class GRULayer(_RecurrentLayer):
    """Gates r, z, n (PyTorch's order): n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = n + z (h - n).
    ``extra`` holds W_hn h + b_hn of each step."""

    __slots__ = ("final",)
    _name = "GruBackward0"
    num_outputs = 2
    chunks = 3
    sigmoid_rows = ((0, 2),)

    @staticmethod
    def input_bias(b_ih, b_hh, hidden):
        """b_hn stays inside the reset gate's product, so only the r and z rows of b_hh join the input's."""
        if b_ih is None:
            return None
        bias = b_ih.copy()
        bias[:2 * hidden] += b_hh[:2 * hidden]
        return bias

    def run(self, xp, states, w_hh_t, b_hh, hidden, relu):
        acts, hprev = self.acts, self.hprev
        n = acts.shape[0]
        h_state = states[0].copy()
        hn = xp.empty((n, hidden), dtype=acts.dtype)
        out = xp.empty_like(hn)
        b_hn = None if b_hh is None else b_hh[2 * hidden:]
        h2 = 2 * hidden
        for start, b in self.steps:
            r = slice(start, start + b)
            gates = acts[r]
            hp = hprev[r]
            hp[...] = h_state[:b]
            gh = hp @ w_hh_t
            rz = gates[:, :h2]
            rz += gh[:, :h2]
            xp.tanh(rz, out=rz)
            _sigmoid_from_tanh_(rz)
            ghn = hn[r]
            if b_hn is None:
                ghn[...] = gh[:, h2:]
            else:
                xp.add(gh[:, h2:], b_hn, out=ghn)
            new = gates[:, h2:]
            new += rz[:, :hidden] * ghn
            xp.tanh(new, out=new)
            h = xp.subtract(hp, new, out=out[r])
            h *= rz[:, hidden:]
            h += new
            h_state[:b] = h
        self.extra = (hn,)
        self.final = (h_state,)
        return out, h_state

    def backprop(self, xp, g_out, ds):
        acts, hprev = self.acts, self.hprev
        (hn,) = self.extra
        hidden = hn.shape[1]
        h2 = 2 * hidden
        slope = acts * (1 - acts)
        nn = acts[:, h2:]
        xp.multiply(nn, nn, out=slope[:, h2:])
        xp.subtract(1, slope[:, h2:], out=slope[:, h2:])
        d_in = xp.empty_like(acts)
        d_hid = xp.empty_like(acts)
        dh_state = ds[0]
        w_hh = self.w_hh
        for start, b in reversed(self.steps):
            r = slice(start, start + b)
            gates = acts[r]
            di, dhd = d_in[r], d_hid[r]
            dh = dh_state[:b] if g_out is None else dh_state[:b] + g_out[r]
            z = gates[:, hidden:h2]
            new = gates[:, h2:]
            xp.subtract(hprev[r], new, out=di[:, hidden:h2])
            di[:, hidden:h2] *= dh
            dn = di[:, h2:]
            xp.multiply(dh, z, out=dn)
            xp.subtract(dh, dn, out=dn)
            dn *= slope[r, h2:]
            xp.multiply(dn, hn[r], out=di[:, :hidden])
            di[:, :h2] *= slope[r, :h2]
            dhd[:, :h2] = di[:, :h2]
            xp.multiply(di[:, h2:], gates[:, :hidden], out=dhd[:, h2:])
            dh *= z
            dh += dhd @ w_hh
            dh_state[:b] = dh
        return d_in, d_hid, None
