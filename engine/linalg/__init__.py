"""``torch.linalg``: decompositions, inverses, determinants and norms of (batches of) matrices.

Each op's forward calls the backend's ``linalg`` (NumPy or CuPy) and its backward is PyTorch's analytic formula
on the same arrays; failures on singular or non-positive-definite input raise ``LinAlgError`` with PyTorch's
message.
"""

from ..ops.blas import linalg_cross as cross
from .checks import LinAlgError
from .factorizations import cholesky, eigh, eigvalsh, qr, svd, svdvals
from .inverse import det, inv, matrix_power, slogdet, solve
from .lstsq import lstsq
from .lu import lu, lu_factor, lu_factor_ex, lu_solve
from .matrix_exp import matrix_exp
from .norms import matrix_norm, norm, vector_norm
from .products import matrix_rank, multi_dot, vecdot
from .pseudo_inverse import pinv
from .triangular import solve_triangular

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]
