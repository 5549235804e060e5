"""Attach the operations of ``engine.ops``, the constructors of ``engine.creation`` and the autograd entry
points to ``Tensor`` as methods and operators.

``engine.tensor`` holds the class alone, at the bottom of the engine; everything it offers that needs a
higher module is attached here, from the top. The functions take the tensor as their first argument, so
each is used as the method itself, with no wrapper in between (per-op Python overhead is what users feel
on small tensors).
"""

from . import creation, special
from .autograd import engine as autograd_engine
from .autograd import hooks
from .linalg import factorizations, inverse, pseudo_inverse
from .linalg.matrix_exp import matrix_exp
from .ops import (
    blas,
    convert,
    elementwise,
    histogram,
    index,
    index_dim,
    inplace,
    interleave,
    masked,
    matmul,
    reduce,
    reduce_extra,
    rotate,
    sampling,
    scan,
    scatter,
    shape,
    softmax,
    sorting,
    splits,
    stacking,
    triangular,
    unfold,
)
from .tensor import Tensor


def _reflected(fn):
    def method(self, other):
        return fn(self, other)

    return method


_METHODS = {
    # construction, copying, devices
    "__init__": creation.tensor_init, "__reduce_ex__": creation.tensor_reduce_ex,
    "__deepcopy__": creation.tensor_deepcopy, "type": creation.tensor_type, "new_tensor": creation.new_tensor,
    "new_ones": creation.new_ones, "new_zeros": creation.new_zeros, "new_full": creation.new_full,
    "new_empty": creation.new_empty, "to": convert.to, "cuda": convert.cuda, "cpu": convert.cpu,
    # autograd
    "backward": autograd_engine.tensor_backward, "register_hook": hooks.register_hook,
    "retain_grad": hooks.retain_grad,
    "register_post_accumulate_grad_hook": hooks.register_post_accumulate_grad_hook,
    # elementwise
    "add": elementwise.add, "sub": elementwise.sub, "subtract": elementwise.sub, "mul": elementwise.mul,
    "multiply": elementwise.mul, "div": elementwise.div, "divide": elementwise.div,
    "true_divide": elementwise.true_divide, "floor_divide": elementwise.floor_divide,
    "remainder": elementwise.remainder, "pow": elementwise.pow, "neg": elementwise.neg,
    "negative": elementwise.neg, "abs": elementwise.abs, "exp": elementwise.exp, "log": elementwise.log,
    "log2": elementwise.log2, "log10": elementwise.log10, "log1p": elementwise.log1p,
    "expm1": elementwise.expm1, "sqrt": elementwise.sqrt, "rsqrt": elementwise.rsqrt,
    "sin": elementwise.sin, "cos": elementwise.cos, "tan": elementwise.tan, "tanh": elementwise.tanh,
    "asin": elementwise.asin, "acos": elementwise.acos, "atan": elementwise.atan, "sinh": elementwise.sinh,
    "cosh": elementwise.cosh, "sigmoid": elementwise.sigmoid, "relu": elementwise.relu,
    "reciprocal": elementwise.reciprocal, "square": elementwise.square, "sign": elementwise.sign,
    "floor": elementwise.floor, "ceil": elementwise.ceil, "round": elementwise.round,
    "trunc": elementwise.trunc, "clamp": elementwise.clamp, "clip": elementwise.clamp,
    "maximum": elementwise.maximum, "minimum": elementwise.minimum, "where": lambda self, cond, other:
    elementwise.where(cond, self, other),
    "eq": elementwise.eq, "ne": elementwise.ne, "lt": elementwise.lt, "le": elementwise.le,
    "gt": elementwise.gt, "ge": elementwise.ge, "logical_and": elementwise.logical_and,
    "logical_or": elementwise.logical_or, "logical_xor": elementwise.logical_xor,
    "logical_not": elementwise.logical_not, "isnan": elementwise.isnan, "isinf": elementwise.isinf,
    "isfinite": elementwise.isfinite, "equal": elementwise.equal, "allclose": elementwise.allclose,
    "isclose": elementwise.isclose,
    "erf": special.erf, "erfc": special.erfc, "erfinv": special.erfinv, "erf_": special.erf_,
    "erfc_": special.erfc_, "erfinv_": special.erfinv_,
    # reductions
    "sum": reduce.sum, "mean": reduce.mean, "var": reduce.var, "std": reduce.std, "prod": reduce.prod,
    "amax": reduce.amax, "amin": reduce.amin, "max": reduce.max, "min": reduce.min,
    "argmax": reduce.argmax, "argmin": reduce.argmin, "norm": reduce.norm, "logsumexp": reduce.logsumexp,
    "count_nonzero": reduce.count_nonzero, "all": reduce.all, "any": reduce.any,
    "softmax": softmax.softmax, "log_softmax": softmax.log_softmax,
    # sorting and selection
    "sort": sorting.sort, "argsort": sorting.argsort, "msort": sorting.msort, "topk": sorting.topk,
    "kthvalue": sorting.kthvalue, "median": sorting.median, "nanmedian": sorting.nanmedian,
    "mode": sorting.mode, "unique": sorting.unique, "unique_consecutive": sorting.unique_consecutive,
    # scans and more reductions
    "cumsum": scan.cumsum, "cumprod": scan.cumprod, "cummax": scan.cummax, "cummin": scan.cummin,
    "logcumsumexp": scan.logcumsumexp, "cumsum_": scan.cumsum_, "cumprod_": scan.cumprod_,
    "nansum": reduce_extra.nansum, "nanmean": reduce_extra.nanmean, "aminmax": reduce_extra.aminmax,
    "bincount": histogram.bincount, "histc": histogram.histc,
    # shapes
    "view": shape.view, "view_as": shape.view_as, "reshape": shape.reshape, "reshape_as": shape.reshape_as,
    "flatten": shape.flatten, "unflatten": shape.unflatten, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "permute": shape.permute, "transpose": shape.transpose,
    "swapaxes": shape.transpose, "swapdims": shape.transpose, "t": shape.t, "expand": shape.expand,
    "expand_as": shape.expand_as, "repeat": shape.repeat, "split": shape.split, "chunk": shape.chunk,
    "tensor_split": splits.tensor_split, "unbind": shape.unbind, "narrow": shape.narrow,
    "select": shape.select, "movedim": shape.movedim, "flip": shape.flip, "contiguous": shape.contiguous,
    # triangles and diagonals
    "tril": triangular.tril, "triu": triangular.triu, "tril_": triangular.tril_, "triu_": triangular.triu_,
    "diagonal": triangular.diagonal, "diag_embed": triangular.diag_embed, "diag": triangular.diag,
    "trace": triangular.trace,
    # more shapes
    "roll": rotate.roll, "rot90": rotate.rot90, "fliplr": rotate.fliplr, "flipud": rotate.flipud,
    "hsplit": splits.hsplit, "vsplit": splits.vsplit, "dsplit": splits.dsplit, "unfold": unfold.unfold,
    "repeat_interleave": interleave.repeat_interleave, "moveaxis": shape.movedim, "ravel": stacking.ravel,
    "tile": stacking.tile, "broadcast_to": stacking.broadcast_to, "diagflat": triangular.diagflat,
    # matrix products
    "matmul": matmul.matmul, "mm": matmul.mm, "bmm": matmul.bmm, "mv": matmul.mv, "dot": matmul.dot,
    "outer": matmul.outer,
    # linear algebra
    "addmm": blas.addmm, "addmv": blas.addmv, "addbmm": blas.addbmm, "baddbmm": blas.baddbmm, "cross": blas.cross,
    "addmm_": blas.addmm_, "addmv_": blas.addmv_, "addbmm_": blas.addbmm_, "baddbmm_": blas.baddbmm_,
    "det": inverse.det, "inverse": inverse.inv, "logdet": inverse.logdet, "slogdet": inverse.slogdet,
    "matrix_power": inverse.matrix_power, "cholesky": factorizations.legacy_cholesky,
    "svd": factorizations.legacy_svd, "qr": factorizations.legacy_qr, "pinverse": pseudo_inverse.pinverse,
    "matrix_exp": matrix_exp,
    # conversions
    "float": convert.float, "double": convert.double, "half": convert.half, "long": convert.long,
    "bfloat16": convert.bfloat16,
    "int": convert.int, "short": convert.short, "char": convert.char, "byte": convert.byte,
    "bool": convert.bool, "clone": convert.clone, "type_as": convert.type_as,
    # in place
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
    "pow_": inplace.pow_, "neg_": inplace.neg_, "abs_": inplace.abs_, "exp_": inplace.exp_,
    "log_": inplace.log_, "sqrt_": inplace.sqrt_, "sigmoid_": inplace.sigmoid_, "tanh_": inplace.tanh_,
    "relu_": inplace.relu_, "clamp_": inplace.clamp_, "clip_": inplace.clip_, "copy_": inplace.copy_,
    "fill_": inplace.fill_, "zero_": inplace.zero_, "t_": inplace.t_, "uniform_": inplace.uniform_,
    "normal_": inplace.normal_,
    # random sampling
    "multinomial": sampling.multinomial, "bernoulli": sampling.bernoulli, "bernoulli_": sampling.bernoulli_,
    "exponential_": sampling.exponential_, "geometric_": sampling.geometric_, "log_normal_": sampling.log_normal_,
    "cauchy_": sampling.cauchy_, "random_": sampling.random_,
    # misc
    "nonzero": masked.nonzero, "argwhere": masked.argwhere,
    # gather, scatter and masks
    "gather": scatter.gather, "scatter": scatter.scatter, "scatter_": scatter.scatter_,
    "scatter_add": scatter.scatter_add, "scatter_add_": scatter.scatter_add_,
    "scatter_reduce": scatter.scatter_reduce, "scatter_reduce_": scatter.scatter_reduce_,
    "take_along_dim": scatter.take_along_dim, "index_select": index_dim.index_select,
    "index_add": index_dim.index_add, "index_add_": index_dim.index_add_, "index_copy": index_dim.index_copy,
    "index_copy_": index_dim.index_copy_, "index_fill": index_dim.index_fill, "index_fill_": index_dim.index_fill_,
    "masked_fill": masked.masked_fill, "masked_fill_": masked.masked_fill_, "masked_select": masked.masked_select,
    "masked_scatter": masked.masked_scatter, "masked_scatter_": masked.masked_scatter_,
    # operators
    "__add__": elementwise.fast_add, "__radd__": _reflected(elementwise.add),
    "__sub__": elementwise.fast_sub, "__rsub__": elementwise.rsub, "__mul__": elementwise.fast_mul,
    "__rmul__": _reflected(elementwise.mul), "__truediv__": elementwise.fast_div,
    "__rtruediv__": elementwise.rdiv, "__pow__": elementwise.pow,
    "__rpow__": elementwise.rpow, "__matmul__": matmul.matmul,
    "__rmatmul__": lambda self, other: matmul.matmul(other, self), "__floordiv__": elementwise.floor_divide,
    "__mod__": elementwise.remainder, "__neg__": elementwise.neg, "__abs__": elementwise.abs,
    "__pos__": lambda self: self, "__eq__": elementwise.eq, "__ne__": elementwise.ne,
    "__lt__": elementwise.lt, "__le__": elementwise.le, "__gt__": elementwise.gt, "__ge__": elementwise.ge,
    "__and__": elementwise.bitwise_and, "__or__": elementwise.bitwise_or, "__xor__": elementwise.bitwise_xor,
    "__rand__": elementwise.bitwise_and, "__ror__": elementwise.bitwise_or,
    "__invert__": elementwise.bitwise_not, "__getitem__": index.getitem, "__setitem__": inplace.setitem,
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_,
    "__itruediv__": inplace.div_,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(shape.T)
Tensor.mT = property(shape.mT)
