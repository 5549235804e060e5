"""Packed and padded batches of variable-length sequences, as ``torch.nn.utils.rnn``.

Packing and padding are each one index op on the rows of the padded batch (``index_select`` to pack,
``index_copy`` into a filled tensor to pad), so gradients flow through both.
"""

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ... import creation, dtypes
from ...ops.shape import cat
from ...ops.sorting import sort
from ...tensor import Tensor, make_tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
    "pad_sequence", "unpack_sequence", "unpad_sequence",
]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """The rows of a batch of sequences, time step after time step (``batch_sizes[t]`` rows at step t, the
    sequences sorted by decreasing length); ``sorted_indices`` maps back to the caller's order."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created manually. "
                "They should be instantiated by functions like pack_sequence and pack_padded_sequences in "
                "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` converted as ``Tensor.to``; the indices follow it to its device (``self`` when nothing changes)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def moved(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, moved(self.sorted_indices), moved(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to("cuda", *args, **kwargs)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=dtypes.float64)

    def float(self):
        return self.to(dtype=dtypes.float32)

    def half(self):
        return self.to(dtype=dtypes.float16)

    def long(self):
        return self.to(dtype=dtypes.int64)

    def int(self):
        return self.to(dtype=dtypes.int32)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    data = permutation._data
    out = permutation.xp.empty_like(data)
    out[data] = permutation.xp.arange(data.size, dtype=data.dtype)
    return make_tensor(out, permutation._device)


def _packed_rows(batch_sizes, batch):
    """Rows of the time-major padded batch (flattened to time * batch rows) that a packing keeps, in order."""
    return np.concatenate([t * batch + np.arange(b) for t, b in enumerate(batch_sizes)]).astype(np.int64)


def _row_index(rows, like):
    return make_tensor(like.xp.asarray(rows), like._device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """The sequences of a padded batch (T x B x * or B x T x *) packed by their ``lengths``."""
    lengths = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths).astype(np.int64)
    sorted_indices = None
    if not enforce_sorted:
        sorted_lengths, sorted_indices = sort(make_tensor(lengths), descending=True)
        lengths = sorted_lengths._data
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    batch = input.shape[1]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if batch and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(axis=1)
    flat = input.reshape(-1, *input.shape[2:])
    data = flat.index_select(0, _row_index(_packed_rows(batch_sizes, batch), flat))
    return PackedSequence(data, make_tensor(batch_sizes.astype(np.int64)), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch of a packed one and the sequences' lengths, in the order before packing."""
    batch_sizes = sequence.batch_sizes._data
    max_len = len(batch_sizes)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {max_len}")
        max_len = total_length
    data = sequence.data
    batch = int(batch_sizes[0])
    padded = creation.full((max_len * batch, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = padded.index_copy(0, _row_index(_packed_rows(batch_sizes, batch), data), data)
    padded = padded.reshape(max_len, batch, *data.shape[1:])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1).astype(np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted.cpu()._data]
    return padded, make_tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Sequences of shapes L_i x * stacked into max(L) x B x * (B x max(L) x * with ``batch_first``), padded."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    lens = [s.shape[0] for s in sequences]
    longest = max(lens)
    first = sequences[0]
    rows = np.concatenate([i * longest + np.arange(n) + (longest - n if padding_side == "left" else 0)
                           for i, n in enumerate(lens)]).astype(np.int64)
    padded = creation.full((len(sequences) * longest, *first.shape[1:]), padding_value, dtype=first.dtype,
                           device=first.device)
    padded = padded.index_copy(0, _row_index(rows, first), cat(sequences))
    padded = padded.reshape(len(sequences), longest, *first.shape[1:])
    return padded if batch_first else padded.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences, lengths.tolist(), strict=True)]


def pack_sequence(sequences, enforce_sorted=True):
    """``pad_sequence`` then ``pack_padded_sequence``."""
    lengths = [v.shape[0] for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a packed batch holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
