"""Recurrent layers (Elman RNN with tanh or ReLU, LSTM with an optional projection, GRU): one graph node per
layer and direction, with its own backward through time.

The input's projection for all time steps is one matmul before the loop and each step one matmul with the
hidden weights plus a few in-place array calls; backward walks the steps in reverse and leaves the weights'
gradients to one matmul each over all steps. Inputs are packed (``batch_sizes``, not increasing): step t reads
rows ``offsets[t]:offsets[t] + batch_sizes[t]`` of the input and updates the first ``batch_sizes[t]`` rows of
the state, so a padded batch is the case of equal sizes and each sequence's last state stays where it ended.
Sigmoids are ``0.5 * tanh(x / 2) + 0.5`` with the halving folded into the weights, so a step's gates take one
tanh call and no exp that can overflow. Sequences do not interact, so on the host the batch is split over the CPU
threads, each running the whole time loop on its rows (matmuls and compiled kernels release the GIL).

The same layer as a graph of per-step tensor ops (``composed``) serves double backward; as the forward it was
2.4x slower, and 3x to 4.7x with backward (LSTM 64 -> 128, batch 64 x 32 steps, Xeon, busy machine).
"""

import numpy as np

from ..autograd.boundary import boundary_alias, cut
from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..backend import Implementation, is_host
from ..threads import PRODUCT_MIN_MACS, cpu_map, cpu_shares
from . import gemm, jit, onednn_rnn, rnn_kernels
from .op import Op, xp_of
from .shape import cat

# A layer's products (all steps, input and hidden) below which the step loop beats oneDNN's fixed cost per call
# (three primitive calls through ctypes, about 70 us); see bench/NOTES.md.
ONEDNN_MIN_MACS = 1 << 21


def _steps(batch_sizes, reverse):
    """(first row, batch size) of each step, in the order the recurrence visits them."""
    steps = []
    start = 0
    for b in batch_sizes:
        steps.append((start, b))
        start += b
    return steps[::-1] if reverse else steps


def _active(steps, lo, hi):
    """(packed rows, state rows) of each step for sequences ``lo:hi``, skipping steps that none of them reaches."""
    for start, b in steps:
        stop = min(hi, b)
        if stop > lo:
            yield slice(start + lo, start + stop), slice(lo, stop)


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


def _check_shapes(layer, x, shapes, batch_sizes, has_bias, has_proj):
    """A clear error where the shapes of a layer's states and parameters (``shapes``: h0, [c0], w_ih, w_hh,
    [b_ih, b_hh], [w_hr]) do not fit its input's ``x`` (packed rows by ``batch_sizes``)."""
    states, params = shapes[:layer.n_states], shapes[layer.n_states:]
    w_ih = params[0]
    if len(w_ih) != 2 or w_ih[0] % layer.chunks or w_ih[1] != x[1]:
        raise RuntimeError(f"{_kind(layer)}: weight_ih has shape {list(w_ih)}; an input of {x[1]} features and "
                           f"{layer.chunks} gates take [{layer.chunks} * hidden_size, {x[1]}]")
    gates, hidden = w_ih[0], w_ih[0] // layer.chunks
    out = params[-1][0] if has_proj else hidden
    expected = {"weight_hh": (gates, out)}
    if has_bias:
        expected.update(bias_ih=(gates,), bias_hh=(gates,))
    if has_proj:
        expected["weight_hr"] = (out, hidden)
    expected.update({f"hidden{i}": (batch_sizes[0] if batch_sizes else 0, out if i == 0 else hidden)
                     for i in range(layer.n_states)})
    given = [*params[1:], *states]
    for (name, shape), have in zip(expected.items(), given, strict=True):
        if tuple(have) != shape:
            raise RuntimeError(f"{_kind(layer)}: {name} has shape {list(have)}; with weight_ih of shape "
                               f"{list(w_ih)} it takes {list(shape)}")


def _kind(layer):
    return layer.__name__.removesuffix("Layer")  # LSTM, GRU, RNN


class _StepLoop(Implementation):
    """The layer's own loop over the steps (``_RecurrentLayer.run`` and ``backprop``), for NumPy or CuPy."""

    runs_layer = False


class _OneDNNLayer(Implementation):
    """``onednn``: the whole layer in one call of oneDNN's primitive for its cell (``onednn_rnn``), which PyTorch's
    CPU LSTM runs for float32 too: host float32, no projection, every sequence as long as the others, and at
    least ``ONEDNN_MIN_MACS`` of products. Training keeps the primitive's workspace (its gates and states of
    every step) and the outputs for backward; under ``no_grad`` the inference primitive runs and keeps nothing.
    Subclasses name the cell and its number of states."""

    name = "onednn"
    runs_layer = True
    cell, n_states = None, 0

    @classmethod
    def applies(cls, x, *arrays, batch_sizes=(), reverse=False, has_bias=True, has_proj=False, relu=False):
        if has_proj or not batch_sizes or batch_sizes[-1] != batch_sizes[0] or not is_host(x) or not x.size:
            return False
        if any(a.dtype != np.float32 for a in (x, *arrays)):
            return False
        return cls.layer(x, arrays, batch_sizes, reverse) is not None

    @classmethod
    def layer(cls, x, arrays, batch_sizes, reverse):
        """The oneDNN layer for this call, None where it should not run (oneDNN missing or off, too small)."""
        w_ih = arrays[cls.n_states]
        hidden = w_ih.shape[0] // onednn_rnn.CELLS[cls.cell].gates
        if x.shape[0] * w_ih.shape[0] * (x.shape[1] + hidden) < ONEDNN_MIN_MACS:
            return None
        return onednn_rnn.recurrent(cls.cell, len(batch_sizes), batch_sizes[0], x.shape[1], hidden, reverse,
                                    is_grad_enabled())

    @classmethod
    def forward(cls, node, x, *arrays, batch_sizes=(), reverse=False, has_bias=True, has_proj=False, relu=False):
        states, (w_ih, w_hh, b_ih, b_hh, _) = node.record(x, arrays, batch_sizes, reverse, has_bias, has_proj,
                                                          relu)
        layer = cls.layer(x, arrays, batch_sizes, reverse)  # as applies made it
        plain = np.ascontiguousarray
        y, finals, saved = layer.forward(plain(x), tuple(plain(s) for s in states), plain(w_ih), plain(w_hh),
                                         None if b_ih is None else plain(b_ih), None if b_hh is None else plain(b_hh))
        # Backward reads the outputs. PyTorch's LSTM layers save theirs (an in-place write to one is an error
        # there too); its GRU and its cells do not, so theirs are handed out as copies.
        shared = cls.cell == "LSTM" and len(batch_sizes) > 1
        node.kept = (layer, saved, shared)
        if saved is not None and not shared:
            return (y.copy(), *(f.copy() for f in finals))
        return (y, *finals)

    @staticmethod
    def backward(node, g_out, *g_states):
        layer, saved, _ = node.kept
        gx, g_initial, g_w_ih, g_w_hh, g_b_ih, g_b_hh = layer.backward(saved, g_out, g_states)
        grads = [gx, *g_initial, g_w_ih, g_w_hh, *((g_b_ih, g_b_hh) if node.has_bias else ())]
        return tuple(None if e is None else g for g, e in zip(grads, node._edges, strict=True))


class _OneDNNLSTM(_OneDNNLayer):
    cell, n_states = "LSTM", 2


class _OneDNNGRU(_OneDNNLayer):
    cell, n_states = "GRU", 1


class _RecurrentLayer(Op):
    """Inputs ``(x, h0, [c0], w_ih, w_hh, [b_ih, b_hh], [w_hr])``; outputs ``(output, h_n, [c_n])``.

    ``x`` is (rows, input_size), packed by ``batch_sizes``; ``h0`` (and ``c0``) hold one row per sequence.
    Subclasses give ``n_states``, ``chunks``, the buffers (``setup``, ``grad_buffers``) and the loops over the
    steps for the sequences ``lo:hi`` (``run``, ``backprop``); the input's projection, the split of the batch
    and the weights' gradients are shared here. ``final`` holds the states, updated in place by the loop."""

    __slots__ = ("acts", "extra", "final", "has_bias", "has_proj", "hprev", "inputs", "kept", "out", "relu",
                 "steps", "w_hh", "w_hr", "w_ih", "x")
    n_states = 1
    sigmoid_rows = ()  # slices of the gate rows that are sigmoids, in multiples of hidden_size
    implementations = (_StepLoop,)  # LSTM and GRU put oneDNN's whole layer first

    @classmethod
    def apply(cls, x, *tensors, batch_sizes=(), has_bias=True, has_proj=False, **options):
        """``Op.apply`` after the parameters' shapes are checked against the input's: oneDNN's primitive takes the
        layer's geometry from the input and ``w_ih`` alone and would read the other arrays past their ends."""
        _check_shapes(cls, x._data.shape, [t._data.shape for t in tensors], batch_sizes, has_bias, has_proj)
        return super().apply(x, *tensors, batch_sizes=batch_sizes, has_bias=has_bias, has_proj=has_proj, **options)

    def record(self, x, arrays, batch_sizes, reverse, has_bias, has_proj, relu):
        """Keep the call's inputs and options (what ``backward_graph`` reads); returns the states and the
        parameters ``(w_ih, w_hh, b_ih, b_hh, w_hr)``, None for those the layer lacks."""
        k = self.n_states
        self.inputs = (x, *arrays)
        states, params = arrays[:k], arrays[k:]
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if has_bias else (None, None)
        w_hr = params[-1] if has_proj else None
        self.x, self.w_ih, self.w_hh, self.w_hr = x, w_ih, w_hh, w_hr
        self.has_bias, self.has_proj, self.relu = has_bias, has_proj, relu
        self.steps = _steps(batch_sizes, reverse)
        return states, (w_ih, w_hh, b_ih, b_hh, w_hr)

    @property
    def saves(self):
        """Backward reads the inputs, and oneDNN's LSTM layers also the outputs they hand out (as PyTorch's)."""
        return 3 if self._impl.runs_layer and self.kept[2] else 1

    def forward(self, x, *arrays, **options):
        if self._impl.runs_layer:
            return self._impl.forward(self, x, *arrays, **options)
        return self.forward_steps(x, *arrays, **options)

    def backward(self, g_out, *g_states):
        if self._impl.runs_layer:
            return self._impl.backward(self, g_out, *g_states)
        return self.backward_steps(g_out, *g_states)

    def forward_steps(self, x, *arrays, batch_sizes=(), reverse=False, has_bias=True, has_proj=False, relu=False):
        """The input's projection in one product, then ``run`` over the steps on each share of the batch."""
        states, (w_ih, w_hh, b_ih, b_hh, _) = self.record(x, arrays, batch_sizes, reverse, has_bias, has_proj,
                                                          relu)
        xp = xp_of(x)
        hidden = w_ih.shape[0] // self.chunks
        rows = [slice(a * hidden, b * hidden) for a, b in self.sigmoid_rows]
        scale = _gate_scale(xp, w_ih.shape[0], rows, w_ih.dtype)[:, None] if rows else None
        w_ih_s = w_ih if scale is None else w_ih * scale
        acts = gemm.matmul(x, w_ih_s.T)
        bias = self.input_bias(b_ih, b_hh, hidden)
        if bias is not None:
            acts += bias if scale is None else bias * scale[:, 0]
        self.acts = acts
        self.hprev = xp.empty((x.shape[0], states[0].shape[1]), dtype=x.dtype)
        self.final = tuple(s.copy() for s in states)
        self.setup(xp, hidden)
        w_hh_t = xp.ascontiguousarray((w_hh if scale is None else w_hh * scale).T)  # BLAS's faster layout per step
        b_hn = None if b_hh is None else b_hh[2 * hidden:]  # GRU's, inside its reset gate's product
        self._each_share(lambda lo, hi: self.run(xp, w_hh_t, b_hn, lo, hi))
        return (self.out, *self.final)

    def _each_share(self, fn):
        """``fn(lo, hi)`` for shares of the batch: one per CPU thread on the host when a step's matmul is large
        enough to pay for a thread's share of the Python loop, else the whole batch."""
        batch = self.final[0].shape[0]
        if not is_host(self.acts):
            fn(0, batch)
            return
        work = batch * self.acts.shape[1] * self.hprev.shape[1]
        cpu_map(lambda share: fn(*share), cpu_shares(batch, work, PRODUCT_MIN_MACS))

    @staticmethod
    def input_bias(b_ih, b_hh, hidden):
        """The bias added to the input's projection: both biases, where both sit outside the gates."""
        return None if b_ih is None else b_ih + b_hh

    def backward_steps(self, g_out, *g_states):
        xp = xp_of(self.acts)
        ds = [g.copy() if g is not None else xp.zeros_like(s) for g, s in zip(g_states, self.final)]
        buffers = self.grad_buffers(xp)
        self._each_share(lambda lo, hi: self.backprop(xp, g_out, ds, buffers, lo, hi))
        return tuple(self.input_and_weight_grads(*buffers[:2], ds, buffers[2]))

    def backward_graph(self, *grads):
        """Second derivatives: the layer recomputed from its inputs in tensor ops, one step after another (as
        PyTorch's CPU layers are recorded), and differentiated with ``create_graph`` behind boundary aliases."""
        inputs = [self.saved_input(i, a) for i, a in enumerate(self.inputs)]
        with enable_grad():
            aliases = [boundary_alias(t) if t._requires_grad else t for t in inputs]
            outputs = self.composed(aliases)
        roots = [(o, g) for o, g in zip(outputs, grads, strict=True) if g is not None]
        wanted = [a for a, e in zip(aliases, self._edges, strict=True) if e is not None]
        with cut(wanted):
            found = iter(grad([o for o, _ in roots], wanted, [g for _, g in roots], retain_graph=True,
                              create_graph=True, allow_unused=True))
        return tuple(None if e is None else next(found) for e in self._edges)

    def composed(self, tensors):
        """The layer's outputs from its input tensors through differentiable per-step tensor ops."""
        k = self.n_states
        x, states, params = tensors[0], list(tensors[1:1 + k]), tensors[1 + k:]
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if self.has_bias else (None, None)
        w_hr = params[-1] if self.has_proj else None
        gi = x.matmul(w_ih.t()) if b_ih is None else x.matmul(w_ih.t()) + b_ih
        batch = states[0].shape[0]
        pieces = {}
        for start, b in self.steps:
            prev = [s[:b] for s in states]
            gh = prev[0].matmul(w_hh.t()) if b_hh is None else prev[0].matmul(w_hh.t()) + b_hh
            new = self.cell(gi[start:start + b], gh, *prev)
            if w_hr is not None:
                new[0] = new[0].matmul(w_hr.t())
            states = [n if b == batch else cat([n, s[b:]]) for n, s in zip(new, states, strict=True)]
            pieces[start] = new[0]
        return (cat([pieces[start] for start in sorted(pieces)]), *states)

    def input_and_weight_grads(self, d_in, d_hid, ds, g_out_hr):
        """Gradients of all inputs in order, from the gates' gradients over all steps: ``d_in`` of the input
        projection's pre-activations and ``d_hid`` of the hidden one's (the same array except in GRU);
        ``g_out_hr``, with a projection, those of the projected outputs."""
        edges = self._edges
        k = self.n_states
        need = [e is not None for e in edges]
        gx = gemm.matmul(d_in, self.w_ih) if need[0] else None
        grads = [gx, *(d if need[1 + i] else None for i, d in enumerate(ds))]
        grads.append(gemm.matmul(d_in.T, self.x) if need[k + 1] else None)
        grads.append(gemm.matmul(d_hid.T, self.hprev) if need[k + 2] else None)
        if self.has_bias:
            grads.append(d_in.sum(axis=0) if need[k + 3] else None)
            grads.append(d_hid.sum(axis=0) if need[k + 4] else None)
        if self.has_proj:
            grads.append(gemm.matmul(g_out_hr.T, self.extra[-1]) if need[-1] else None)
        return grads


class RNNLayer(_RecurrentLayer):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or ReLU; ``acts`` holds the outputs."""

    __slots__ = ()
    _name = "RnnBackward0"
    num_outputs = 2
    chunks = 1

    def setup(self, xp, hidden):
        self.out = self.acts

    def cell(self, gi, gh, h):
        a = gi + gh
        return [a.relu() if self.relu else a.tanh()]

    def run(self, xp, w_hh_t, b_hn, lo, hi):
        acts, hprev, (state,) = self.acts, self.hprev, self.final
        for r, s in _active(self.steps, lo, hi):
            a = acts[r]
            hp = hprev[r]
            hp[...] = state[s]
            a += hp @ w_hh_t
            if self.relu:
                xp.maximum(a, 0, out=a)
            else:
                xp.tanh(a, out=a)
            state[s] = a

    def forward(self, x, *arrays, **options):
        out, state = super().forward(x, *arrays, **options)
        return out.copy(), state  # the caller may write into the output; backward reads the saved one

    def grad_buffers(self, xp):
        acts = self.acts
        slope = (acts > 0).astype(acts.dtype) if self.relu else 1 - acts * acts
        d = xp.empty_like(acts)
        return d, d, None, slope

    def backprop(self, xp, g_out, ds, buffers, lo, hi):
        d, _, _, slope = buffers
        (dh_state,) = ds
        w_hh = self.w_hh
        for r, s in _active(reversed(self.steps), lo, hi):
            dg = d[r]
            if g_out is None:
                xp.multiply(dh_state[s], slope[r], out=dg)
            else:
                xp.add(dh_state[s], g_out[r], out=dg)
                dg *= slope[r]
            dh_state[s] = dg @ w_hh


class _LSTMStepArrays(_StepLoop):
    """An LSTM step's elementwise work in array calls, for NumPy or CuPy."""

    @staticmethod
    def step(gates, c, cprev, tanh_c, h):
        """Gates (with the sigmoids' pre-activations halved) to activations in place, the cell ``c`` saved to
        ``cprev`` and updated, tanh(c) and h = o tanh(c) written."""
        xp = xp_of(gates)
        hidden = c.shape[1]
        h2, h3 = 2 * hidden, 3 * hidden
        cprev[...] = c
        xp.tanh(gates, out=gates)
        _sigmoid_from_tanh_(gates[:, :h2])
        _sigmoid_from_tanh_(gates[:, h3:])
        c *= gates[:, hidden:h2]
        c += gates[:, :hidden] * gates[:, h2:h3]
        xp.tanh(c, out=tanh_c)
        xp.multiply(gates[:, h3:], tanh_c, out=h)

    @staticmethod
    def backward_context(acts, tanh_c):
        """The activations' derivatives over all steps at once: sigmoid', tanh' of g, and tanh' of c."""
        xp = xp_of(acts)
        hidden = tanh_c.shape[1]
        h2, h3 = 2 * hidden, 3 * hidden
        slope = acts * (1 - acts)
        g = acts[:, h2:h3]
        xp.multiply(g, g, out=slope[:, h2:h3])
        xp.subtract(1, slope[:, h2:h3], out=slope[:, h2:h3])
        return slope, 1 - tanh_c * tanh_c

    @staticmethod
    def step_backward(context, r, dh, dc, acts, tanh_c, cprev, d):
        """Rows ``r``' gate gradients into ``d`` from dh and the carried cell gradient ``dc`` (updated)."""
        xp = xp_of(acts)
        slope, dtanh = context
        gates, dg = acts[r], d[r]
        hidden = dc.shape[1]
        h2, h3 = 2 * hidden, 3 * hidden
        c_grad = dh * gates[:, h3:]
        c_grad *= dtanh[r]
        c_grad += dc
        xp.multiply(c_grad, gates[:, h2:h3], out=dg[:, :hidden])
        xp.multiply(c_grad, cprev[r], out=dg[:, hidden:h2])
        xp.multiply(c_grad, gates[:, :hidden], out=dg[:, h2:h3])
        xp.multiply(dh, tanh_c[r], out=dg[:, h3:])
        dg *= slope[r]
        xp.multiply(c_grad, gates[:, hidden:h2], out=dc)


class _CompiledLSTMStep(_LSTMStepArrays):
    """``rnn_kernels``: each step's elementwise work in one compiled pass, for host float32."""

    name = "compiled"
    step = staticmethod(rnn_kernels.lstm_forward)

    @staticmethod
    def applies(x, *arrays, **options):
        return x.dtype == np.float32 and jit.takes_floats(x)

    @staticmethod
    def backward_context(acts, tanh_c):
        return None

    @staticmethod
    def step_backward(context, r, dh, dc, acts, tanh_c, cprev, d):
        rnn_kernels.lstm_backward(dh, dc, acts[r], tanh_c[r], cprev[r], d[r])


class LSTMLayer(_RecurrentLayer):
    """Gates i, f, g, o (PyTorch's order); c' = f c + i g, h' = o tanh(c'), projected by ``w_hr`` when given.
    ``extra`` holds tanh(c'), the previous cells and the unprojected h'."""

    __slots__ = ()
    _name = "LstmBackward0"
    num_outputs = 3
    n_states = 2
    chunks = 4
    sigmoid_rows = ((0, 2), (3, 4))
    implementations = (_OneDNNLSTM, _CompiledLSTMStep, _LSTMStepArrays)

    @staticmethod
    def cell(gi, gh, h, c):
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return [o.sigmoid() * c.tanh(), c]

    def setup(self, xp, hidden):
        n = self.acts.shape[0]
        tanh_c = xp.empty((n, hidden), dtype=self.acts.dtype)
        self.out = xp.empty((n, self.final[0].shape[1]), dtype=self.acts.dtype)
        self.extra = (tanh_c, xp.empty_like(tanh_c), xp.empty_like(tanh_c) if self.has_proj else self.out)

    def run(self, xp, w_hh_t, b_hn, lo, hi):
        acts, hprev, step, out = self.acts, self.hprev, self._impl.step, self.out
        h_state, c_state = self.final
        tanh_c, cprev, full = self.extra
        w_hr_t = self.w_hr.T if self.has_proj else None
        for r, s in _active(self.steps, lo, hi):
            gates = acts[r]
            hp = hprev[r]
            hp[...] = h_state[s]
            gates += hp @ w_hh_t
            step(gates, c_state[s], cprev[r], tanh_c[r], full[r])
            if w_hr_t is not None:
                out[r] = full[r] @ w_hr_t  # (not matmul's out=, which NumPy runs without BLAS)
            h_state[s] = out[r]

    def grad_buffers(self, xp):
        context = self._impl.backward_context(self.acts, self.extra[0])
        d = xp.empty_like(self.acts)
        return d, d, xp.empty_like(self.hprev) if self.has_proj else None, context

    def backprop(self, xp, g_out, ds, buffers, lo, hi):
        d, _, g_full, context = buffers
        acts, (tanh_c, cprev, _) = self.acts, self.extra
        step_backward = self._impl.step_backward
        dh_state, dc_state = ds
        w_hh, w_hr = self.w_hh, self.w_hr
        for r, s in _active(reversed(self.steps), lo, hi):
            dh = dh_state[s] if g_out is None else dh_state[s] + g_out[r]
            if g_full is not None:
                g_full[r] = dh
                dh = dh @ w_hr
            step_backward(context, r, dh, dc_state[s], acts, tanh_c, cprev, d)
            dh_state[s] = d[r] @ w_hh


class GRULayer(_RecurrentLayer):
    """Gates r, z, n (PyTorch's order): n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = n + z (h - n).
    ``extra`` holds W_hn h + b_hn of each step."""

    __slots__ = ()
    _name = "GruBackward0"
    num_outputs = 2
    chunks = 3
    sigmoid_rows = ((0, 2),)
    implementations = (_OneDNNGRU, _StepLoop)

    @staticmethod
    def input_bias(b_ih, b_hh, hidden):
        """b_hn stays inside the reset gate's product, so only the r and z rows of b_hh join the input's."""
        if b_ih is None:
            return None
        bias = b_ih.copy()
        bias[:2 * hidden] += b_hh[:2 * hidden]
        return bias

    @staticmethod
    def cell(gi, gh, h):
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        return [n + z * (h - n)]

    def setup(self, xp, hidden):
        hn = xp.empty((self.acts.shape[0], hidden), dtype=self.acts.dtype)
        self.extra = (hn,)
        self.out = xp.empty_like(hn)

    def run(self, xp, w_hh_t, b_hn, lo, hi):
        acts, hprev, out, (hn,), (h_state,) = self.acts, self.hprev, self.out, self.extra, self.final
        hidden = hn.shape[1]
        h2 = 2 * hidden
        for r, s in _active(self.steps, lo, hi):
            gates = acts[r]
            hp = hprev[r]
            hp[...] = h_state[s]
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
            h_state[s] = h

    def grad_buffers(self, xp):
        acts = self.acts
        h2 = 2 * self.extra[0].shape[1]
        slope = acts * (1 - acts)
        new = acts[:, h2:]
        xp.multiply(new, new, out=slope[:, h2:])
        xp.subtract(1, slope[:, h2:], out=slope[:, h2:])
        return xp.empty_like(acts), xp.empty_like(acts), None, slope

    def backprop(self, xp, g_out, ds, buffers, lo, hi):
        d_in, d_hid, _, slope = buffers
        acts, hprev, (hn,), (dh_state,) = self.acts, self.hprev, self.extra, ds
        hidden = hn.shape[1]
        h2 = 2 * hidden
        w_hh = self.w_hh
        for r, s in _active(reversed(self.steps), lo, hi):
            gates = acts[r]
            di, dhd = d_in[r], d_hid[r]
            dh = dh_state[s] if g_out is None else dh_state[s] + g_out[r]
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
            dh_state[s] = dh
