"""Per-op speed of the engine against PyTorch on the CPU, same thread count, in one run.

    python bench/ops.py [WORD ...]

Prints the time per call of each case and the ratio ours/PyTorch (below 1.0 means we are faster). Words
keep only the cases whose name contains one of them (``python bench/ops.py sort cum``).
"""

import sys

import numpy as np
import torch
from common import compare, print_threads

import engine


def chain(m, x):
    """Forward and backward through a 20-op elementwise chain."""
    y = x
    for i in range(10):
        y = (y * 1.01).tanh() if i % 2 else (y + 0.1).sigmoid()
    y.sum().backward()
    x.grad = None


# Issue 15's ops, each written once for either module: m is engine or torch, t the inputs a family's
# inputs() makes. Those with a gradient are also timed forward+backward.
INDEX_GRAD = {
    "gather": lambda m, t: m.gather(t["x"], 1, t["idx"]),
    "scatter": lambda m, t: m.scatter(t["x"], 1, t["idx"], t["src"]),
    "scatter_add": lambda m, t: m.scatter_add(t["x"], 1, t["idx"], t["src"]),
    "scatter_reduce amax": lambda m, t: m.scatter_reduce(t["x"], 1, t["idx"], t["src"], "amax"),
    "scatter_reduce prod": lambda m, t: m.scatter_reduce(t["x"], 1, t["idx"], t["src"], "prod"),
    "index_select": lambda m, t: m.index_select(t["x"], 1, t["sel"]),
    "index_add": lambda m, t: m.index_add(t["x"], 1, t["sel"], t["src"]),
    "masked_fill": lambda m, t: m.masked_fill(t["x"], t["mask"], 0.5),
    "masked_select": lambda m, t: m.masked_select(t["x"], t["mask"]),
    "sort": lambda m, t: m.sort(t["x"], dim=1),
    "topk k=5": lambda m, t: m.topk(t["x"], 5, dim=1),
    "kthvalue": lambda m, t: m.kthvalue(t["x"], t["x"].shape[1] // 2, dim=1),
    "median": lambda m, t: m.median(t["x"], dim=1),
    "mode": lambda m, t: m.mode(t["ties"], dim=1),
    "cumsum": lambda m, t: m.cumsum(t["x"], 1),
    "cumprod": lambda m, t: m.cumprod(t["near_one"], 1),
    "cummax": lambda m, t: m.cummax(t["x"], 1),
    "logcumsumexp": lambda m, t: m.logcumsumexp(t["x"], 1),
    "nansum": lambda m, t: m.nansum(t["nans"]),
    "nanmean": lambda m, t: m.nanmean(t["nans"]),
    "aminmax": lambda m, t: m.aminmax(t["x"]),
}
INDEX_FORWARD = {
    "nonzero": lambda m, t: m.nonzero(t["mask"]),
    "argsort": lambda m, t: m.argsort(t["x"], dim=1),
    "unique": lambda m, t: m.unique(t["ints"]),
    "searchsorted": lambda m, t: m.searchsorted(t["sorted"], t["x"]),
    "isin": lambda m, t: m.isin(t["ints"], t["test"]),
    "bincount": lambda m, t: m.bincount(t["ints"].flatten()),
    "histc": lambda m, t: m.histc(t["x"], bins=100),
}
SHAPE_GRAD = {
    "einsum ij,ij->i": lambda m, t: m.einsum("ij,ij->i", t["x"], t["src"]),
    "tril": lambda m, t: m.tril(t["x"]),
    "trace": lambda m, t: m.trace(t["x"]),
    "roll": lambda m, t: m.roll(t["x"], 3, 1),
    "rot90": lambda m, t: m.rot90(t["x"]),
    "repeat_interleave": lambda m, t: m.repeat_interleave(t["x"], 2, dim=1),
}
LINALG_GRAD = {
    "linalg.inv": lambda m, t: m.linalg.inv(t["x"]),
    "linalg.det": lambda m, t: m.linalg.det(t["x"]),
    "linalg.solve": lambda m, t: m.linalg.solve(t["x"], t["src"]),
    "linalg.cholesky": lambda m, t: m.linalg.cholesky(t["x"]),
    "linalg.eigh": lambda m, t: m.linalg.eigh(t["x"]),
    "linalg.svd": lambda m, t: m.linalg.svd(t["x"], full_matrices=False),
    "linalg.vector_norm": lambda m, t: m.linalg.vector_norm(t["x"]),
    "baddbmm": lambda m, t: m.baddbmm(t["x"], t["x"], t["src"]),
    "cdist": lambda m, t: m.cdist(t["x"], t["src"]),
}
SAMPLING_FORWARD = {
    "multinomial 1": lambda m, t: m.multinomial(t["probs"], 1),
    "bernoulli": lambda m, t: m.bernoulli(t["probs"]),
    "poisson": lambda m, t: m.poisson(t["rate"]),
    "normal(mean, std)": lambda m, t: m.normal(t["x"], t["probs"]),
    "randperm": lambda m, t: m.randperm(t["x"].numel()),
}


def index_inputs(rng, shape):
    """A float32 input and the indices, masks and values that the indexing, sorting and scan ops take."""
    cols = shape[1]
    x = rng.standard_normal(shape, dtype=np.float32)
    nans = x.copy()
    nans[rng.random(shape) < 0.1] = np.nan
    return {
        "x": x,
        "near_one": np.exp(0.01 * x),  # products that neither overflow nor reach denormals
        "ties": np.floor(4 * x),
        "nans": nans,
        "idx": rng.integers(0, cols, shape),
        "src": rng.standard_normal(shape, dtype=np.float32),
        "sel": rng.permutation(cols),
        "mask": rng.random(shape) < 0.5,
        "sorted": np.sort(x, axis=1),
        "ints": rng.integers(0, 1000, shape),
        "test": rng.integers(0, 1000, 100),
    }


def linalg_inputs(rng, shape):
    """A batch of well-conditioned symmetric positive-definite float32 matrices and a second batch."""
    a = rng.standard_normal(shape, dtype=np.float32)
    spd = a @ a.transpose(0, 2, 1) / shape[-1] + np.eye(shape[-1], dtype=np.float32)
    return {"x": spd, "src": rng.standard_normal(shape, dtype=np.float32)}


def sampling_inputs(rng, shape):
    """Probabilities (rows that need no normalising for multinomial) and Poisson rates."""
    return {"x": rng.standard_normal(shape, dtype=np.float32),
            "probs": rng.random(shape, dtype=np.float32),
            "rate": 5 * rng.random(shape, dtype=np.float32)}


# The input that the gradient is taken for, where it is not t["x"].
GRAD_OF = {"mode": "ties", "cumprod": "near_one", "nansum": "nans", "nanmean": "nans"}

# (make inputs, shapes of about 1e3 and 1e6 elements, ops with a gradient, forward-only ops)
FAMILIES = (
    (index_inputs, ((10, 100), (1000, 1000)), INDEX_GRAD, INDEX_FORWARD),
    (index_inputs, ((10, 100), (1000, 1000)), SHAPE_GRAD, {}),
    (linalg_inputs, ((1, 32, 32), (1000, 32, 32)), LINALG_GRAD, {}),
    (sampling_inputs, ((10, 100), (1000, 1000)), {}, SAMPLING_FORWARD),
)


def forward(m, fn, t):
    return lambda: fn(m, t)


def forward_backward(m, fn, t, key):
    def run():
        out = fn(m, t)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        t[key].grad = None

    return run


def new_op_cases(rng):
    """Issue 15's ops, forward and (where they have a gradient) forward+backward, at both sizes."""
    cases = []
    for make_inputs, shapes, grad_ops, forward_ops in FAMILIES:
        for shape in shapes:
            arrays = make_inputs(rng, shape)
            size = "x".join(map(str, shape))
            e = {k: engine.tensor(v) for k, v in arrays.items()}
            p = {k: torch.tensor(v) for k, v in arrays.items()}
            for name, fn in {**grad_ops, **forward_ops}.items():
                cases.append((f"{name}  {size}", forward(engine, fn, e), forward(torch, fn, p)))
                if name in grad_ops:
                    key = GRAD_OF.get(name, "x")
                    eg = e | {key: engine.tensor(arrays[key], requires_grad=True)}
                    pg = p | {key: torch.tensor(arrays[key], requires_grad=True)}
                    cases.append((f"{name} fwd+bwd  {size}", forward_backward(engine, fn, eg, key),
                                  forward_backward(torch, fn, pg, key)))
    return cases


def main():
    print_threads(torch)
    rng = np.random.default_rng(0)
    cases = []
    for n in (4, 1000):
        a_np = rng.standard_normal((n, n), dtype=np.float32)
        b_np = rng.standard_normal((n, n), dtype=np.float32)
        ea, eb = engine.tensor(a_np), engine.tensor(b_np)
        ta, tb = torch.tensor(a_np), torch.tensor(b_np)
        cases.append((f"a + b  {n}x{n} float32", lambda ea=ea, eb=eb: ea + eb, lambda ta=ta, tb=tb: ta + tb))
        cases.append((f"a * b  {n}x{n} float32", lambda ea=ea, eb=eb: ea * eb, lambda ta=ta, tb=tb: ta * tb))
    a_np = rng.standard_normal((256, 256), dtype=np.float32)
    b_np = rng.standard_normal((256, 256), dtype=np.float32)
    ea, eb, ta, tb = engine.tensor(a_np), engine.tensor(b_np), torch.tensor(a_np), torch.tensor(b_np)
    cases.append(("a @ b  256x256 float32", lambda: ea @ eb, lambda: ta @ tb))
    x_np = rng.standard_normal(64, dtype=np.float32)
    ex = engine.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    cases.append(("20-op chain fwd+bwd, 64 elements", lambda: chain(engine, ex), lambda: chain(torch, tx)))
    cases += new_op_cases(rng)
    words = sys.argv[1:]
    compare([case for case in cases if not words or any(word in case[0] for word in words)])


if __name__ == "__main__":
    main()
