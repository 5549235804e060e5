"""What an ONNX value is while a graph is imported: the output of a document node, or a constant."""

from dataclasses import dataclass

import numpy as np

BATCH = -(1 << 40)  # the batch size inside a folded shape (Shape of the input): unknown until the model runs


@dataclass(frozen=True)
class Value:
    """``node``: the name of the document node computing it (``out_port``: which of its outputs), or None
    for a constant ``const``. ``batched``: a constant repeated over the batch (an Expand to the input's
    batch size), which only a class token can use."""

    node: str | None = None
    out_port: int = 0
    const: np.ndarray | None = None
    batched: bool = False
    source: str | None = None  # for a batched constant: the name of the weight in the file

    @property
    def is_const(self):
        return self.node is None and not self.batched


def holds_batch(array):
    """Whether a folded integer array carries the batch size (so only moving it around is allowed)."""
    return array.dtype.kind in "iu" and array.size < 64 and bool((array == BATCH).any())
