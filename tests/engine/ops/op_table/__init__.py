"""The engine's ops, each described once as data (PyTorch's OpInfo idea); a helper package, not test files.

``core`` holds the data classes (``OpInfo``, ``SampleInput``, ``ErrorInput``, ``XFail``) and argument helpers;
one module per op family (mirroring ``engine/ops``) holds that family's entries. ``OPS`` gathers them all.
"""

from __future__ import annotations

from .activation_extra import ACTIVATION_EXTRA
from .attention import ATTENTION
from .conv_extra import CONV_EXTRA
from .conv_pool import CONV, PAD, POOL
from .convert import CASTS
from .core import OpInfo, SampleInput
from .ctc import CTC
from .distance_loss import DISTANCE_LOSS
from .einsum import EINSUM
from .elementwise import ELEMENTWISE
from .embedding import EMBEDDING
from .index import INDEX
from .linalg import BLAS, LINALG
from .loss import ACTIVATION, DROPOUT, LOSS, NORM
from .matmul import MATMUL
from .norm_layers import NORM_LAYERS
from .reduce import REDUCE, SOFTMAX
from .resample import RESAMPLE
from .scan import HISTOGRAM, REDUCE_EXTRA, SCAN
from .scatter import SCATTER
from .shape import SHAPE
from .shape_extra import SHAPE_EXTRA
from .sorting import SORTING
from .special import SPECIAL
from .triangular import TRIANGULAR

OPS: list[OpInfo] = [
    *ELEMENTWISE,
    *SPECIAL,
    *CASTS,
    *REDUCE,
    *SOFTMAX,
    *SCAN,
    *REDUCE_EXTRA,
    *HISTOGRAM,
    *MATMUL,
    *BLAS,
    *LINALG,
    *EINSUM,
    *SHAPE,
    *SHAPE_EXTRA,
    *TRIANGULAR,
    *SORTING,
    *INDEX,
    *SCATTER,
    *LOSS,
    *NORM,
    *NORM_LAYERS,
    *DROPOUT,
    *ACTIVATION,
    *ACTIVATION_EXTRA,
    *DISTANCE_LOSS,
    *CTC,
    *CONV,
    *CONV_EXTRA,
    *POOL,
    *PAD,
    *EMBEDDING,
    *RESAMPLE,
    *ATTENTION,
]

__all__ = ["OPS", "OpInfo", "SampleInput"]
