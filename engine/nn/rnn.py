"""Recurrent layers as ``torch.nn``: ``RNN``, ``LSTM`` and ``GRU`` over padded or packed batches, and the
single-step cells ``RNNCell``, ``LSTMCell`` and ``GRUCell``.

Each layer and direction is one node of ``ops.rnn`` (its own backward through time); a cell is that node
over one time step. Parameters, their names, their initialisation and the checks on arguments follow PyTorch.
"""

import math
import numbers
import warnings

from .. import creation
from ..dtypes import legacy_name
from ..ops.dropout import dropout as _dropout
from ..ops.rnn import GRULayer, LSTMLayer, RNNLayer
from ..ops.shape import cat, stack
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_LAYER_OPS = {"LSTM": LSTMLayer, "GRU": GRULayer, "RNN_TANH": RNNLayer, "RNN_RELU": RNNLayer}


def _reset_uniform(module):
    """PyTorch's recurrent initialisation: every parameter uniform in ±1/sqrt(hidden_size)."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


def _check_type(name, value, kind):
    if not isinstance(value, kind):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent network of ``mode`` (LSTM, GRU, RNN_TANH, RNN_RELU)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        _check_type("bias", bias, bool)
        _check_type("batch_first", batch_first, bool)
        _check_type("input_size", input_size, int)
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_type("hidden_size", hidden_size, int)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(creation.empty(*shape, device=device, dtype=dtype)))
                    names.append(name + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    reset_parameters = _reset_uniform

    def flatten_parameters(self):
        """PyTorch packs the weights into one buffer for cuDNN; there is nothing to pack here."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def check_input(self, input, batch_sizes):
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                             f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            batch = int(batch_sizes[0])
        else:
            batch = input.size(0) if self.batch_first else input.size(1)
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, batch, self.proj_size if self.proj_size > 0 else self.hidden_size)

    def get_expected_cell_size(self, input, batch_sizes):
        size = self.get_expected_hidden_size(input, batch_sizes)
        return (*size[:2], self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        if self.mode != "LSTM":
            self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))
            return
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        if self.mode == "LSTM":
            return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)
        return hx.index_select(1, permutation)

    def _zero_state(self, input, batch):
        directions = 2 if self.bidirectional else 1
        h = creation.zeros(self.num_layers * directions, batch, self.proj_size or self.hidden_size,
                           dtype=input.dtype, device=input.device)
        if self.mode != "LSTM":
            return h
        return h, creation.zeros(self.num_layers * directions, batch, self.hidden_size, dtype=input.dtype,
                                 device=input.device)

    def _check_hidden_dims(self, hx, batched):
        """PyTorch's check that the initial state has one dimension fewer than batched input (none fewer)."""
        dims = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if self.mode == "LSTM":
            if hx[0].dim() != dims or hx[1].dim() != dims:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {dims}-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        elif hx.dim() != dims:
            raise RuntimeError(f"For {kind} input, hx should also be {dims}-D but got {hx.dim()}-D tensor")

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        batched = True
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            steps = tuple(int(b) for b in batch_sizes.tolist())
            hx = self._zero_state(data, steps[0]) if hx is None else self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(data, hx, batch_sizes)
            x = data
        else:
            if input.dim() not in (2, 3):
                name, tail = ("RNN", " tensor") if self.mode.startswith("RNN") else (self.mode, "")
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{tail} instead")
            batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not batched:
                input = input.unsqueeze(batch_dim)
            if hx is None:
                hx = self._zero_state(input, input.size(batch_dim))
            else:
                self._check_hidden_dims(hx, batched)
                if not batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if self.mode == "LSTM" else hx.unsqueeze(1)
            self.check_forward_args(input, hx, None)
            seq = input.transpose(0, 1) if self.batch_first else input
            steps = (seq.shape[1],) * seq.shape[0]
            x = seq.reshape(-1, seq.shape[2])
        h0, c0 = hx if self.mode == "LSTM" else (hx, None)
        out, hidden = self._layers(x, steps, h0, c0)
        if packed:
            return PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), \
                self.permute_hidden(hidden, unsorted_indices)
        out = out.reshape(len(steps), steps[0], out.shape[-1])
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1)) if self.mode == "LSTM" else hidden.squeeze(1)
        return out, hidden

    def _layers(self, x, steps, h0, c0):
        """The stacked layers over packed rows ``x``; returns the last layer's rows and the final states."""
        op = _LAYER_OPS[self.mode]
        directions = 2 if self.bidirectional else 1
        options = {"batch_sizes": steps, "has_bias": self.bias, "has_proj": self.proj_size > 0,
                   "relu": self.mode == "RNN_RELU"}
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                states = (h0[k],) if c0 is None else (h0[k], c0[k])
                result = op.apply(x, *states, *(getattr(self, n) for n in self._all_weights[k]),
                                  reverse=direction == 1, **options)
                outs.append(result[0])
                hs.append(result[1])
                if c0 is not None:
                    cs.append(result[2])
            x = outs[0] if directions == 1 else cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, (stack(hs) if c0 is None else (stack(hs), stack(cs)))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), or ReLU with ``nonlinearity='relu'``."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, with the hidden state projected to ``proj_size`` when it is non-zero."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """One step of a recurrent layer: ``weight_ih``, ``weight_hh`` and optional biases of ``num_chunks`` gates."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = _reset_uniform

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, op, input, states, **options):
        """The cell's one step on batched ``input`` and ``states``, after PyTorch's checks of their sizes."""
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {legacy_name(input._data.dtype)} "
                               f"and {legacy_name(self.weight_ih._data.dtype)}")
        for i, h in enumerate(states):
            if h.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected "
                                   f"{self.hidden_size}")
        params = (self.weight_ih, self.weight_hh) + ((self.bias_ih, self.bias_hh) if self.bias else ())
        return op.apply(input, *states, *params, batch_sizes=(input.size(0),), has_bias=self.bias, **options)[1:]

    def _batched(self, input, hx, count):
        """``input`` and its ``count`` states as batches (zeros when ``hx`` is None), and whether it was."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = None if hx is None else ((hx,) if count == 1 else tuple(hx))
        if states is not None:
            for i, h in enumerate(states):
                if h.dim() not in (1, 2):
                    what = "hidden" if count == 1 else f"hx[{i}]"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if states is None:
            zeros = creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            states = (zeros,) * count
        elif not batched:
            states = tuple(h.unsqueeze(0) for h in states)
        return input, states, batched


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh), or ReLU with ``nonlinearity='relu'``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, states, batched = self._batched(input, hx, 1)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        (h,) = self._step(RNNLayer, input, states, relu=self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, states, batched = self._batched(input, hx, 2)
        h, c = self._step(LSTMLayer, input, states)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, states, batched = self._batched(input, hx, 1)
        (h,) = self._step(GRULayer, input, states)
        return h if batched else h.squeeze(0)
