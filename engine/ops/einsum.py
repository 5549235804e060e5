"""``einsum``: PyTorch's equation syntax (``...``, implicit output) and its sublist form, run by the backend's
``einsum``.

The equation is first made explicit, ``...`` replaced by letters no operand uses, so that forward and
backward run plain letter equations: the gradient of an operand is the einsum of the output's gradient
with the other operands, spread back over the letters only that operand had (summed out in forward), its
size-1 broadcast axes and its repeated letters (a diagonal).
"""

import string

from .. import dtypes
from .index import Index
from .op import Op, xp_of
from .strides import as_strided

_LETTERS = set(string.ascii_letters)


def _parse(equation, shapes):
    """``(subscripts per operand, output subscripts, size per letter)`` of an explicit letter equation."""
    equation = equation.replace(" ", "")
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    for i, c in enumerate(equation):
        if c not in _LETTERS and c not in ",.->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    free = iter(sorted(_LETTERS - set(equation)))
    ell_ndim = max((len(shape) - len(t.replace("...", "")) for t, shape in zip(terms, shapes) if "..." in t),
                   default=0)
    ell = "".join(next(free) for _ in range(ell_ndim))
    subs = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        letters = term.replace("...", "")
        if "..." in term:
            term = term.replace("...", ell[ell_ndim - (len(shape) - len(letters)):])
        if len(term) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match "
                               f"the number of dimensions ({len(shape)}) for operand {i} and no ellipsis was given")
        subs.append(term)
    sizes = {}
    for i, (term, shape) in enumerate(zip(subs, shapes)):
        for c, n in zip(term, shape):
            seen = sizes.get(c, 1)
            if n != 1 and seen != 1 and n != seen:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {seen}")
            sizes[c] = n if seen == 1 else seen
    if arrow:
        out = out.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
    else:
        counts = "".join(subs)
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    return subs, out, sizes


def _pays_to_optimize(subs, out, sizes):
    """Whether ``einsum(optimize=True)`` pays: with three operands or more (the contraction order), or a large
    product of two (BLAS) that shares a summed letter and no kept one; its path search costs ~10 µs."""
    if len(subs) != 2:
        return len(subs) > 2
    shared = set(subs[0]) & set(subs[1])
    work = 1
    for n in sizes.values():
        work *= n
    return work >= 1 << 16 and bool(shared - set(out)) and not shared & set(out)


def _einsum(xp, subs, out, arrays, sizes):
    if arrays[0].dtype.kind == "V":  # bfloat16: NumPy's einsum has no loop for it; float32, then rounded
        return _einsum(xp, subs, out, [a.astype("float32") for a in arrays], sizes).astype(arrays[0].dtype)
    if len(subs) == 1:
        return _one_operand(xp, subs[0], out, arrays[0])
    optimize = _pays_to_optimize(subs, out, sizes)
    return xp.einsum(",".join(subs) + "->" + out, *arrays, optimize=optimize)


def _one_operand(xp, sub, out, x):
    """One operand: without repeated letters a sum and a transpose (~3x faster than ``einsum``'s loop). Where
    nothing is summed the result would be a view of ``x`` (a permutation, a diagonal), so it is copied: an op's
    output owns its data."""
    if not set(sub) - set(out):
        return xp.einsum(sub + "->" + out, x).copy()
    if len(set(sub)) < len(sub):
        return xp.einsum(sub + "->" + out, x)
    summed = tuple(k for k, c in enumerate(sub) if c not in out)
    total = xp.asarray(x.sum(axis=summed, dtype=x.dtype))
    kept = [c for c in sub if c in out]
    return total.transpose([kept.index(c) for c in out])


class Einsum(Op):
    __slots__ = ("arrays", "out", "sizes", "subs")
    _name = "EinsumBackward0"
    saves = 1
    saves_tensors = True

    def forward(self, *arrays, subs=(), out="", sizes=None):
        self.arrays, self.subs, self.out, self.sizes = arrays, subs, out, sizes
        return _einsum(xp_of(arrays[0]), subs, out, arrays, sizes)

    def backward(self, g):
        return tuple(self._grad(g, i) for i in range(len(self.arrays)))

    def backward_graph(self, g):
        return tuple(None if e is None else self._grad_graph(g, i) for i, e in enumerate(self._edges))

    def _grad(self, g, i):
        xp = xp_of(g)
        x, sub = self.arrays[i], self.subs[i]
        others, letters, kept, squeezed = self._letters(i)
        grad = _einsum(xp, [self.out, *others], kept, [g, *(a for j, a in enumerate(self.arrays) if j != i)],
                       self.sizes)
        grad = grad.reshape([self.sizes[c] if c in kept else 1 for c in letters])
        grad = xp.broadcast_to(grad, [self.sizes[c] for c in letters])
        if squeezed:
            grad = grad.sum(axis=squeezed, keepdims=True)
        if len(letters) == len(sub):
            return xp.ascontiguousarray(grad.transpose([letters.index(c) for c in sub]))
        full = xp.zeros(x.shape, dtype=grad.dtype)
        _repeated_view(full, sub, letters)[...] = grad
        return full

    def _grad_graph(self, g, i):
        """``_grad`` as a graph: the same einsum, its result spread back with differentiable ops."""
        x, sub = self.arrays[i], self.subs[i]
        others, letters, kept, squeezed = self._letters(i)
        operands = [g, *(self.saved_input(j, a) for j, a in enumerate(self.arrays) if j != i)]
        grad = Einsum.apply(*operands, subs=(self.out, *others), out=kept, sizes=self.sizes)
        grad = grad.reshape([self.sizes[c] if c in kept else 1 for c in letters])
        grad = grad.expand([self.sizes[c] for c in letters])
        if squeezed:
            grad = grad.sum(squeezed, keepdim=True)
        if len(letters) == len(sub):
            return grad.permute([letters.index(c) for c in sub])
        return _on_diagonals(grad, sub, letters, x.shape)

    def _letters(self, i):
        """For operand ``i``: the other operands' subscripts, its distinct letters, those the gradient's einsum
        keeps (the others it had alone), and the positions of its size-1 broadcast letters."""
        sub = self.subs[i]
        others = [s for j, s in enumerate(self.subs) if j != i]
        seen = set(self.out).union(*others)
        letters = "".join(dict.fromkeys(sub))
        kept = "".join(c for c in letters if c in seen)
        own = dict(zip(sub, self.arrays[i].shape))
        squeezed = tuple(k for k, c in enumerate(letters) if own[c] == 1 and self.sizes[c] != 1)
        return others, letters, kept, squeezed


def _on_diagonals(grad, sub, letters, shape):
    """Tensor ``grad`` (one axis per letter of ``letters``) spread over an operand of ``shape`` labelled ``sub``
    (a repeated letter names a diagonal): read at each letter's index, zero off the diagonals."""
    xp = xp_of(grad._data)
    ndim = len(sub)

    def along(k):
        return xp.arange(shape[k]).reshape([shape[k] if j == k else 1 for j in range(ndim)])

    picked = Index.apply(grad, index=(tuple(along(sub.index(c)) for c in letters),), basic=False)
    on_diagonal = xp.ones((1,) * ndim, dtype=bool)
    for k, c in enumerate(sub):
        if sub.index(c) != k:
            on_diagonal = on_diagonal & (along(k) == along(sub.index(c)))
    return picked * on_diagonal.astype(grad._data.dtype)


def _repeated_view(a, sub, letters):
    """The axes of ``a`` labelled ``sub`` seen as one axis per letter of ``letters`` (a repeated letter
    reads a diagonal), through strides."""
    strides = [sum(a.strides[k] for k, c in enumerate(sub) if c == letter) for letter in letters]
    shape = [a.shape[sub.index(letter)] for letter in letters]
    return as_strided(xp_of(a), a, tuple(shape), tuple(strides))


def _sublist_letters(sublist):
    """A sublist (ints in [0, 52) and ``...``) as equation letters; ASCII order keeps the ints' order."""
    letters = []
    for s in sublist:
        if s is Ellipsis:
            letters.append("...")
        elif not 0 <= s < 52:
            raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
        else:
            letters.append(string.ascii_uppercase[s] if s < 26 else string.ascii_lowercase[s - 26])
    return "".join(letters)


def _from_sublists(args):
    """``einsum(op1, sub1, op2, sub2, ..., [out])`` as an equation and its operands."""
    out = None
    if len(args) % 2:
        args, out = args[:-1], args[-1]
    equation = ",".join(_sublist_letters(s) for s in args[1::2])
    if out is not None:
        equation += "->" + _sublist_letters(out)
    return equation, args[0::2]


def einsum(equation, *operands):
    if not isinstance(equation, str):
        equation, operands = _from_sublists((equation, *operands))
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    first = operands[0]._data.dtype if operands else None
    for t in operands:
        if t._data.dtype != first:
            raise RuntimeError(f"expected scalar type {dtypes.legacy_name(first)} but found "
                               f"{dtypes.legacy_name(t._data.dtype)}")
    subs, out, sizes = _parse(equation, [t._data.shape for t in operands])
    return Einsum.apply(*operands, subs=tuple(subs), out=out, sizes=sizes)
