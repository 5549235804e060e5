"""LSTM and GRU layers (one layer and direction) on oneDNN's RNN primitives (``dnnl_lstm_*``,
``dnnl_lbr_gru_*``), the path PyTorch's CPU layers take for float32: the input's projection and every step's
recurrent product, gates and states in one call, threaded by the library.

A ``Recurrent`` is made once per cell and geometry (steps, batch, input and hidden sizes, direction) and for
training (a forward that keeps a workspace, and the backward that reads it) or inference. Arrays keep PyTorch's
layouts: the sequence time-major (T, N, C), the states (N, H), the weights (gates x H, C), which oneDNN's
``ldgoi`` describes. The weights are reordered to the layouts the primitives choose where those differ, and the
weights' gradients back from theirs. oneDNN's GRU is PyTorch's ("linear before reset") with gates in the order
z, r, n where PyTorch has r, z, n; its bias has a fourth block, the hidden bias of n, which PyTorch keeps apart
from n's input bias.
"""

import ctypes
from collections import OrderedDict

import numpy as np

from . import onednn
from .onednn import BIAS, DIFF_BIAS, DIFF_DST, DIFF_SRC, DIFF_WEIGHTS, DST, QUERY_ARG_MD, SRC, WEIGHTS

SRC_ITER, SRC_ITER_C, DST_ITER, DST_ITER_C, WEIGHTS_ITER, WORKSPACE = 2, 3, 18, 19, 34, 64  # DNNL_ARG_*
DIFF_SRC_ITER, DIFF_SRC_ITER_C, DIFF_DST_ITER, DIFF_DST_ITER_C, DIFF_WEIGHTS_ITER = 130, 131, 146, 147, 162
_FORWARD_TRAINING, _FORWARD_INFERENCE, _BACKWARD = 64, 96, 128  # dnnl_prop_kind_t
_LEFT_TO_RIGHT, _RIGHT_TO_LEFT = 1, 2  # dnnl_unidirectional_*
_DIFF_WEIGHTS_OVERWRITE = 1  # dnnl_rnn_flags_diff_weights_overwrite: backward writes the weights' gradients
_TNC, _LDNC = 4, 5  # dnnl_abc, dnnl_abcd
_BIAS_GATES = 4  # an LSTM's four gates; a GRU's three and n's hidden bias


class _LSTMCell:
    """oneDNN's LSTM is PyTorch's, gates i, f, g, o in the same order; the two biases are summed."""

    gates = 4
    states = ((SRC_ITER, DST_ITER, DIFF_SRC_ITER, DIFF_DST_ITER),
              (SRC_ITER_C, DST_ITER_C, DIFF_SRC_ITER_C, DIFF_DST_ITER_C))

    @staticmethod
    def create(d, backward):
        return d.dnnl_lstm_backward_primitive_desc_create if backward else d.dnnl_lstm_forward_primitive_desc_create

    @staticmethod
    def layer(x, state, w_layer, w_iter, bias, y):
        """The memory descs of one pass's arguments, in the order its ``create`` takes them."""
        return x, state, state, w_layer, w_iter, None, None, bias, y, state, state

    @staticmethod
    def weights(w):
        return w

    @staticmethod
    def bias(b_ih, b_hh):
        return b_ih + b_hh

    @staticmethod
    def bias_grads(g):
        return g, g.copy()


class _GRUCell:
    """oneDNN's linear-before-reset GRU, gates z, r, n: PyTorch's weights with their first two gates swapped."""

    gates = 3
    states = ((SRC_ITER, DST_ITER, DIFF_SRC_ITER, DIFF_DST_ITER),)

    @staticmethod
    def create(d, backward):
        if backward:
            return d.dnnl_lbr_gru_backward_primitive_desc_create
        return d.dnnl_lbr_gru_forward_primitive_desc_create

    @staticmethod
    def layer(x, state, w_layer, w_iter, bias, y):
        return x, state, w_layer, w_iter, bias, y, state

    @staticmethod
    def weights(w):
        """Weights (or their gradients) with blocks r, z, n as z, r, n, and back (the swap is its own inverse)."""
        h = w.shape[0] // 3
        return np.concatenate((w[h:2 * h], w[:h], w[2 * h:]))

    @staticmethod
    def bias(b_ih, b_hh):
        h = b_ih.shape[0] // 3
        summed = b_ih[:2 * h] + b_hh[:2 * h]
        return np.concatenate((summed[h:], summed[:h], b_ih[2 * h:], b_hh[2 * h:]))

    @staticmethod
    def bias_grads(g):
        h = g.shape[0] // 4
        rz = np.concatenate((g[h:2 * h], g[:h]))
        return np.concatenate((rz, g[2 * h:3 * h])), np.concatenate((rz, g[3 * h:]))


CELLS = {"LSTM": _LSTMCell, "GRU": _GRUCell}


class Recurrent:
    """A layer of ``cell`` ("LSTM" or "GRU") over ``steps`` x ``batch`` rows of ``input_size`` values, ``hidden``
    units, run forward in time or (``reverse``) backward; ``training`` makes the backward primitive too."""

    def __init__(self, cell, steps, batch, input_size, hidden, reverse, training):
        lib = self.lib = onednn.library()
        d = lib.dnnl
        self._primitives, self._mds = [], []
        self.cell, self.training = CELLS[cell], training
        gates = self.cell.gates
        self.shapes = {"x": (steps * batch, input_size), "state": (batch, hidden), "y": (steps * batch, hidden),
                       "w_ih": (gates * hidden, input_size), "w_hh": (gates * hidden, hidden)}

        def owned(md):
            self._mds.append(md)  # at once: ``__del__`` frees what was made, should a later step fail
            return md

        self.x_md, self.state_md, self.bias_md, self.y_md = (
            owned(lib.memory_desc(shape, tag)) for shape, tag in (
                ((steps, batch, input_size), _TNC), ((1, 1, batch, hidden), _LDNC),
                ((1, 1, _BIAS_GATES, hidden), _LDNC), ((steps, batch, hidden), _TNC)))
        # PyTorch's (gates x H, C) weights as oneDNN's (layers, directions, C, gates, H) dims: ldgoi strides
        self.w_mds = [owned(lib.strided_desc((1, 1, c, gates, hidden),
                                             (gates * hidden * c, gates * hidden * c, 1, hidden * c, c)))
                      for c in (input_size, hidden)]
        chosen = [owned(lib.memory_desc((1, 1, c, gates, hidden), onednn.ANY)) for c in (input_size, hidden)]
        direction = _RIGHT_TO_LEFT if reverse else _LEFT_TO_RIGHT
        layer = self.cell.layer(self.x_md, self.state_md, *chosen, self.bias_md, self.y_md)
        descriptors = []
        lib.prepare_thread()
        try:
            pd = ctypes.c_void_p()
            lib.check(self.cell.create(d, False)(
                ctypes.byref(pd), lib.engine, _FORWARD_TRAINING if training else _FORWARD_INFERENCE, direction,
                *layer, 0, lib.attr), f"set up an {cell} layer")
            descriptors.append(pd)
            if training:
                pd = ctypes.c_void_p()
                lib.check(self.cell.create(d, True)(
                    ctypes.byref(pd), lib.engine, _BACKWARD, direction, *layer, *layer, _DIFF_WEIGHTS_OVERWRITE,
                    descriptors[0], lib.attr), f"set up an {cell} layer's backward")
                descriptors.append(pd)
            def layouts(pd, args, **ways):
                return [onednn.Layout(lib, md, pd, QUERY_ARG_MD, self._mds, self._primitives, index=arg, **ways)
                        for md, arg in zip(self.w_mds, args, strict=True)]

            self.forward_weights = layouts(descriptors[0], (WEIGHTS, WEIGHTS_ITER), back=False)
            self.workspace_md = self.backward_weights = self.weight_grads = None
            self.workspace_size = 0
            if training:
                self.workspace_md = owned(lib.queried(descriptors[0], QUERY_ARG_MD, WORKSPACE))
                self.workspace_size = d.dnnl_memory_desc_get_size(self.workspace_md)
                self.backward_weights = layouts(descriptors[1], (WEIGHTS, WEIGHTS_ITER), back=False)
                self.weight_grads = layouts(descriptors[1], (DIFF_WEIGHTS, DIFF_WEIGHTS_ITER), into=False)
            for pd in descriptors:
                self._primitives.append(lib.primitive(pd))
        finally:
            for pd in descriptors:
                d.dnnl_primitive_desc_destroy(pd)
        self._forward = self._primitives[-len(descriptors)]
        self._backward = self._primitives[-1] if training else None

    def __del__(self):
        self.lib.destroy(self._primitives, self._mds)

    def forward(self, x, states, w_ih, w_hh, b_ih, b_hh):
        """``(y, final states, saved)`` from C-contiguous float32 arrays in PyTorch's layouts (biases None for a
        layer without them); ``saved`` is what ``backward`` reads of this call (None in inference)."""
        cell, shapes = self.cell, self.shapes
        w_ih, w_hh = cell.weights(w_ih), cell.weights(w_hh)
        bias = np.zeros(_BIAS_GATES * shapes["state"][1], np.float32) if b_ih is None else cell.bias(b_ih, b_hh)
        y = np.empty(shapes["y"], np.float32)
        finals = tuple(np.empty(shapes["state"], np.float32) for _ in states)
        w_layer, w_iter = self.forward_weights
        arrays = {SRC: (self.x_md, x), WEIGHTS: (w_layer.md, w_layer.blocked(w_ih)),
                  WEIGHTS_ITER: (w_iter.md, w_iter.blocked(w_hh)), BIAS: (self.bias_md, bias), DST: (self.y_md, y)}
        for (src, dst, _, _), state, final in zip(cell.states, states, finals, strict=True):
            arrays[src], arrays[dst] = (self.state_md, state), (self.state_md, final)
        saved = None
        if self.training:
            workspace = np.empty(self.workspace_size, np.uint8)
            arrays[WORKSPACE] = (self.workspace_md, workspace)
            saved = (x, states, w_ih, w_hh, bias, y, finals, workspace)
        self.lib.execute(self._forward, arrays)
        return y, finals, saved

    def backward(self, saved, g_y, g_finals):
        """``(gx, initial states' gradients, g_w_ih, g_w_hh, g_b_ih, g_b_hh)`` in PyTorch's layouts from the
        gradients of y and the final states (float32 arrays, or None for zeros) and ``forward``'s ``saved``."""
        x, states, w_ih, w_hh, bias, y, finals, workspace = saved
        cell, shapes = self.cell, self.shapes
        g_y = np.zeros_like(y) if g_y is None else np.ascontiguousarray(g_y, np.float32)
        g_finals = tuple(np.zeros_like(f) if g is None else np.ascontiguousarray(g, np.float32)
                         for g, f in zip(g_finals, finals, strict=True))
        gx = np.empty(shapes["x"], np.float32)
        g_states = tuple(np.empty(shapes["state"], np.float32) for _ in states)
        g_bias = np.empty(bias.shape, np.float32)
        w_layer, w_iter = self.backward_weights
        gw_layer, gw_iter = self.weight_grads
        g_w_ih, g_w_hh = gw_layer.empty(shapes["w_ih"]), gw_iter.empty(shapes["w_hh"])
        arrays = {SRC: (self.x_md, x), WEIGHTS: (w_layer.md, w_layer.blocked(w_ih)),
                  WEIGHTS_ITER: (w_iter.md, w_iter.blocked(w_hh)), BIAS: (self.bias_md, bias), DST: (self.y_md, y),
                  WORKSPACE: (self.workspace_md, workspace), DIFF_DST: (self.y_md, g_y),
                  DIFF_SRC: (self.x_md, gx), DIFF_WEIGHTS: (gw_layer.md, g_w_ih),
                  DIFF_WEIGHTS_ITER: (gw_iter.md, g_w_hh), DIFF_BIAS: (self.bias_md, g_bias)}
        for (src, dst, diff_src, diff_dst), *arrays_of_state in zip(cell.states, states, finals, g_finals, g_states,
                                                                   strict=True):
            for arg, array in zip((src, dst, diff_dst, diff_src), arrays_of_state, strict=True):
                arrays[arg] = (self.state_md, array)
        self.lib.execute(self._backward, arrays)
        g_w_ih = cell.weights(gw_layer.plain(g_w_ih, shapes["w_ih"]))
        g_w_hh = cell.weights(gw_iter.plain(g_w_hh, shapes["w_hh"]))
        return (gx, g_states, g_w_ih, g_w_hh, *cell.bias_grads(g_bias))


_layers = OrderedDict()


def recurrent(cell, steps, batch, input_size, hidden, reverse, training):
    """The ``Recurrent`` of this cell and geometry, made at its first use and kept (``onednn.cached``), or None
    where oneDNN does not run it."""
    key = (cell, steps, batch, input_size, hidden, reverse, training)
    return onednn.cached(_layers, key, lambda: Recurrent(*key))
