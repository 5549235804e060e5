"""Op table entries: einsum (engine/ops/einsum.py)."""

from __future__ import annotations

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S


def _einsum(m, *xs, equation=None, sublists=None):
    """The equation form, or the sublist form ``einsum(x0, s0, x1, s1, ..., [out])``."""
    if equation is not None:
        return m.einsum(equation, *xs)
    args = [a for pair in zip(xs, sublists) for a in pair]
    return m.einsum(*args, *sublists[len(xs) :])


def _samples(dtype):
    cases = [
        ("matmul", "ij,jk->ik", (2, 3), (3, 4)),
        ("implicit matmul", "ij,jk", (2, 3), (3, 4)),
        ("transpose", "ij->ji", (2, 3)),
        ("sum all", "ij->", (2, 3)),
        ("trace", "ii", (3, 3)),
        ("diagonal", "ii->i", (3, 3)),
        ("outer", "i,j->ij", (3,), (4,)),
        ("dot", "i,i", (4,), (4,)),
        ("bilinear", "bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)),
        ("batched ellipsis", "...ij,...jk->...ik", (5, 1, 2, 3), (4, 3, 2)),
        ("implicit ellipsis", "ij...,jk", (2, 3, 5), (3, 4)),
        ("ellipsis summed", "ij...,jk->ik", (2, 3, 5), (3, 4)),
        ("ellipsis only", "...->...", (2, 3)),
        ("broadcast size 1", "ij,ij->ij", (1, 3), (4, 3)),
        ("label only in one", "ij,k->ik", (2, 3), (4,)),
        ("repeated with other", "iij,jk->ik", (3, 3, 2), (2, 4)),
        ("upper and lower", "bA,a", (2, 3), (3,)),
        ("spaces", "i j , j k -> i k", (2, 3), (3, 4)),
        ("0d", "->", ()),
        ("0d and vector", ",i->i", (), (3,)),
        ("empty", "ij,jk->ik", (0, 3), (3, 2)),
        ("empty contraction", "ij,jk->ik", (2, 0), (0, 2)),
        ("four operands", "ab,bc,cd,de->ae", (2, 3), (3, 4), (4, 2), (2, 3)),
    ]
    samples = [S(name, *shapes, kwargs={"equation": eq}) for name, eq, *shapes in cases]
    sublists = [
        ("sublist matmul", ([0, 1], [1, 2], [0, 2]), (2, 3), (3, 4)),
        ("sublist implicit", ([27, 1], [1, 2]), (2, 3), (3, 4)),
        ("sublist ellipsis", ([..., 1], [1, 2], [..., 2]), (5, 2, 3), (3, 4)),
        ("sublist sum", ([0, 1], []), (2, 3)),
    ]
    samples += [S(name, *shapes, kwargs={"sublists": subs}) for name, subs, *shapes in sublists]
    return samples


def _error(name, equation, *shapes, exc=RuntimeError, match):
    return ErrorInput(S(name, *shapes, kwargs={"equation": equation}), exc, match)


EINSUM = [
    OpInfo(
        "einsum",
        _einsum,
        _samples,
        variants={"list": lambda m, *xs, equation: m.einsum(equation, list(xs))},
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        error_inputs=lambda: [
            _error("too few operands", "ij,jk", (2, 3), match="fewer operands were provided"),
            _error("too many operands", "ij", (2, 3), (3, 4), match="more operands were provided"),
            _error("subscript count", "ijk,jk", (2, 3), (3, 4), match="the number of subscripts in the equation (3)"),
            _error("sizes", "ij,ik", (2, 3), (3, 4), match="subscript i has size 3 for operand 1"),
            _error("bad character", "i1,jk", (2, 3), (3, 4), match="invalid subscript given at index 1"),
            _error("repeated output", "ij,jk->ii", (2, 3), (3, 4), match="output subscript i appears more than once"),
            _error("unknown output", "ij,jk->iz", (2, 3), (3, 4), match="output subscript z does not appear"),
            ErrorInput(
                S("sublist range", (2, 3), kwargs={"sublists": ([0, 60],)}),
                ValueError,
                "subscript in subscript list is not within the valid range [0, 52)",
            ),
        ],
    ),
]
