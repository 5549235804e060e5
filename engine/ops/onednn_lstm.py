"""One LSTM layer and direction on oneDNN's RNN primitive (``dnnl_lstm_*``), the path PyTorch's CPU LSTM takes
for float32: the input's projection and every step's recurrent product, gates and states in one call, threaded
by the library.

An ``LSTM`` is made once per geometry (steps, batch, input and hidden sizes, direction) and for training (a
forward that keeps a workspace, and the backward that reads it) or inference. The arrays keep PyTorch's layouts:
the sequence time-major (T, N, C), the states (N, H), the weights (4H, C) with gates i, f, g, o, which oneDNN's
``ldgoi`` describes; the weights are reordered to the layouts the primitives choose where those differ, and the
weights' gradients back from theirs.
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


class LSTM:
    """An LSTM layer over ``steps`` x ``batch`` rows of ``input_size`` values, ``hidden`` units, run forward in
    time or (``reverse``) backward; ``training`` makes the backward primitive too."""

    def __init__(self, steps, batch, input_size, hidden, reverse, training):
        lib = self.lib = onednn.library()
        d = lib.dnnl
        self._primitives, self._mds = [], []
        self.training = training
        self.shapes = {"x": (steps * batch, input_size), "state": (batch, hidden), "y": (steps * batch, hidden),
                       "w_ih": (4 * hidden, input_size), "w_hh": (4 * hidden, hidden)}
        plain = [lib.memory_desc((steps, batch, input_size), _TNC), lib.memory_desc((1, 1, batch, hidden), _LDNC),
                 lib.memory_desc((1, 1, 4, hidden), _LDNC), lib.memory_desc((steps, batch, hidden), _TNC)]
        self._mds += plain
        self.x_md, self.state_md, self.bias_md, self.y_md = plain
        # PyTorch's (4H, C) weights as oneDNN's (layers, directions, C, gates, H) dims: ldgoi strides
        self.w_mds = [lib.strided_desc((1, 1, c, 4, hidden), (4 * hidden * c, 4 * hidden * c, 1, hidden * c, c))
                      for c in (input_size, hidden)]
        self._mds += self.w_mds
        chosen = [lib.memory_desc((1, 1, c, 4, hidden), onednn.ANY) for c in (input_size, hidden)]
        self._mds += chosen
        direction = _RIGHT_TO_LEFT if reverse else _LEFT_TO_RIGHT
        layer = (self.x_md, self.state_md, self.state_md, *chosen, None, None, self.bias_md, self.y_md,
                 self.state_md, self.state_md)
        descriptors = []
        lib.set_threads()
        try:
            pd = ctypes.c_void_p()
            lib.check(d.dnnl_lstm_forward_primitive_desc_create(
                ctypes.byref(pd), lib.engine, _FORWARD_TRAINING if training else _FORWARD_INFERENCE, direction,
                *layer, 0, lib.attr), "set up an LSTM")
            descriptors.append(pd)
            if training:
                pd = ctypes.c_void_p()
                lib.check(d.dnnl_lstm_backward_primitive_desc_create(
                    ctypes.byref(pd), lib.engine, _BACKWARD, direction, *layer, *layer, _DIFF_WEIGHTS_OVERWRITE,
                    descriptors[0], lib.attr), "set up an LSTM's backward")
                descriptors.append(pd)
            owned = (self._mds, self._primitives)
            self.forward_weights = [onednn.Layout(lib, md, descriptors[0], QUERY_ARG_MD, *owned, index=arg)
                                    for md, arg in zip(self.w_mds, (WEIGHTS, WEIGHTS_ITER))]
            self.workspace_md = self.backward_weights = self.weight_grads = None
            self.workspace_size = 0
            if training:
                self.workspace_md = lib.queried(descriptors[0], QUERY_ARG_MD, WORKSPACE)
                self._mds.append(self.workspace_md)
                self.workspace_size = d.dnnl_memory_desc_get_size(self.workspace_md)
                self.backward_weights = [onednn.Layout(lib, md, descriptors[1], QUERY_ARG_MD, *owned, index=arg)
                                         for md, arg in zip(self.w_mds, (WEIGHTS, WEIGHTS_ITER))]
                self.weight_grads = [onednn.Layout(lib, md, descriptors[1], QUERY_ARG_MD, *owned, index=arg)
                                     for md, arg in zip(self.w_mds, (DIFF_WEIGHTS, DIFF_WEIGHTS_ITER))]
            for pd in descriptors:
                self._primitives.append(lib.primitive(pd))
        finally:
            for pd in descriptors:
                d.dnnl_primitive_desc_destroy(pd)
        self._forward = self._primitives[-len(descriptors)]
        self._backward = self._primitives[-1] if training else None

    def __del__(self):
        self.lib.destroy(self._primitives, self._mds)

    def forward(self, x, h0, c0, w_ih, w_hh, bias):
        """``(y, h_n, c_n, workspace)`` from C-contiguous float32 arrays in PyTorch's layouts (``bias`` is
        b_ih + b_hh); the workspace (None in inference) is what ``backward`` reads of this call."""
        shapes = self.shapes
        y = np.empty(shapes["y"], np.float32)
        h_n, c_n = np.empty(shapes["state"], np.float32), np.empty(shapes["state"], np.float32)
        workspace = np.empty(self.workspace_size, np.uint8) if self.training else None
        w_layer, w_iter = self.forward_weights
        arrays = {SRC: (self.x_md, x), SRC_ITER: (self.state_md, h0), SRC_ITER_C: (self.state_md, c0),
                  WEIGHTS: (w_layer.md, w_layer.blocked(w_ih)), WEIGHTS_ITER: (w_iter.md, w_iter.blocked(w_hh)),
                  BIAS: (self.bias_md, bias), DST: (self.y_md, y), DST_ITER: (self.state_md, h_n),
                  DST_ITER_C: (self.state_md, c_n)}
        if self.training:
            arrays[WORKSPACE] = (self.workspace_md, workspace)
        self.lib.execute(self._forward, arrays)
        return y, h_n, c_n, workspace

    def backward(self, saved, g_y, g_h, g_c):
        """``(gx, gh0, gc0, g_w_ih, g_w_hh, g_bias)`` from the gradients of y, h_n and c_n; ``saved`` is
        ``(x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n, workspace)`` of the forward call."""
        x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n, workspace = saved
        shapes = self.shapes
        gx = np.empty(shapes["x"], np.float32)
        gh0, gc0 = np.empty(shapes["state"], np.float32), np.empty(shapes["state"], np.float32)
        g_bias = np.empty(bias.shape, np.float32)
        w_layer, w_iter = self.backward_weights
        gw_layer, gw_iter = self.weight_grads
        g_w_ih, g_w_hh = gw_layer.empty(shapes["w_ih"]), gw_iter.empty(shapes["w_hh"])
        state = self.state_md
        self.lib.execute(self._backward, {
            SRC: (self.x_md, x), SRC_ITER: (state, h0), SRC_ITER_C: (state, c0),
            WEIGHTS: (w_layer.md, w_layer.blocked(w_ih)), WEIGHTS_ITER: (w_iter.md, w_iter.blocked(w_hh)),
            BIAS: (self.bias_md, bias), DST: (self.y_md, y), DST_ITER: (state, h_n), DST_ITER_C: (state, c_n),
            WORKSPACE: (self.workspace_md, workspace),
            DIFF_DST: (self.y_md, g_y), DIFF_DST_ITER: (state, g_h), DIFF_DST_ITER_C: (state, g_c),
            DIFF_SRC: (self.x_md, gx), DIFF_SRC_ITER: (state, gh0), DIFF_SRC_ITER_C: (state, gc0),
            DIFF_WEIGHTS: (gw_layer.md, g_w_ih), DIFF_WEIGHTS_ITER: (gw_iter.md, g_w_hh),
            DIFF_BIAS: (self.bias_md, g_bias)})
        return (gx, gh0, gc0, gw_layer.plain(g_w_ih, shapes["w_ih"]), gw_iter.plain(g_w_hh, shapes["w_hh"]),
                g_bias)


_lstms = OrderedDict()


def lstm(steps, batch, input_size, hidden, reverse, training):
    """The ``LSTM`` of this geometry, made at its first use and kept (``onednn.cached``), or None where oneDNN
    does not run it."""
    key = (steps, batch, input_size, hidden, reverse, training)
    return onednn.cached(_lstms, key, lambda: LSTM(*key))
