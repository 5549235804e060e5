"""``torch.return_types``: the named tuples that ops returning several tensors give (``max(dim)``'s values and
indices, ``linalg.slogdet``'s sign and logabsdet, ...), one type per op, printed as PyTorch prints them."""

import collections


def _repr(self):
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{fields})"


def _type(name, fields):
    base = collections.namedtuple(name, fields)

    def __new__(cls, *values):
        """``max(values, indices)``, or from one sequence as PyTorch's ``torch.return_types.max((v, i))``."""
        if len(values) == 1 and len(fields) > 1:
            values = tuple(values[0])
        return base.__new__(cls, *values)

    cls = type(name, (base,), {"__slots__": (), "__new__": __new__, "__repr__": _repr, "__module__": __name__})
    cls.n_fields = cls.n_sequence_fields = len(fields)
    return cls


_VALUES_INDICES = ("values", "indices")

max = _type("max", _VALUES_INDICES)
min = _type("min", _VALUES_INDICES)
sort = _type("sort", _VALUES_INDICES)
topk = _type("topk", _VALUES_INDICES)
kthvalue = _type("kthvalue", _VALUES_INDICES)
median = _type("median", _VALUES_INDICES)
nanmedian = _type("nanmedian", _VALUES_INDICES)
mode = _type("mode", _VALUES_INDICES)
cummax = _type("cummax", _VALUES_INDICES)
cummin = _type("cummin", _VALUES_INDICES)
aminmax = _type("aminmax", ("min", "max"))
slogdet = _type("slogdet", ("sign", "logabsdet"))
linalg_slogdet = _type("linalg_slogdet", ("sign", "logabsdet"))
qr = _type("qr", ("Q", "R"))
linalg_qr = _type("linalg_qr", ("Q", "R"))
svd = _type("svd", ("U", "S", "V"))
linalg_svd = _type("linalg_svd", ("U", "S", "Vh"))
linalg_eigh = _type("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_inv_ex = _type("linalg_inv_ex", ("inverse", "info"))
linalg_cholesky_ex = _type("linalg_cholesky_ex", ("L", "info"))
linalg_lstsq = _type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
linalg_lu_factor = _type("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex = _type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
linalg_lu = _type("linalg_lu", ("P", "L", "U"))
lu_unpack = _type("lu_unpack", ("P", "L", "U"))
histogram = _type("histogram", ("hist", "bin_edges"))
