"""The collectives' inputs on each rank and the results NumPy gives for them, shared by the rank script
(``ranks/collectives.py``) and the test that checks what it wrote."""

import ml_dtypes
import numpy as np

SHAPE = (3, 4)


def inputs(rank):
    rng = np.random.default_rng(1000 + rank)
    return {
        "f32": rng.standard_normal(SHAPE).astype(np.float32),
        "f64": rng.standard_normal(SHAPE),
        "i64": rng.integers(-50, 50, SHAPE),
        "u8": rng.integers(0, 256, SHAPE).astype(np.uint8),
        "bool": rng.random(SHAPE) < 0.5,
        "f16": rng.standard_normal(SHAPE).astype(np.float16),
        "bf16": rng.standard_normal(SHAPE).astype(ml_dtypes.bfloat16),
        "wide": rng.standard_normal((4, 6)).astype(np.float32),  # its transpose is not contiguous
    }


def expected(world):
    every = [inputs(r) for r in range(world)]

    def stack(key):
        return np.stack([e[key] for e in every])

    f32 = stack("f32")
    return {
        "sum": f32.sum(0), "avg": f32.sum(0) / world, "max": f32.max(0), "min": f32.min(0),
        "product": f32.prod(0), "f64_sum": stack("f64").sum(0), "i64_sum": stack("i64").sum(0),
        "i64_band": np.bitwise_and.reduce(stack("i64")), "u8_bxor": np.bitwise_xor.reduce(stack("u8")),
        "bool_sum": stack("bool").any(0), "bool_product": stack("bool").all(0),
        "f16_sum": stack("f16").astype(np.float32).sum(0).astype(np.float16),
        "transposed_sum": stack("wide").sum(0).T,
        "broadcast": every[world - 1]["f32"], "bf16_broadcast": every[0]["bf16"].astype(np.float32),
        "gathered": f32, "gathered_cat": f32.reshape(world * SHAPE[0], SHAPE[1]), "gathered_stack": f32,
        "scattered": None,  # per rank: see reduce_scatter_expected
        "async_sum": f32.sum(0),
        "objects": [{"from": world - 1, "text": "héllo"}, 7],
        "gathered_objects": [("rank", r) for r in range(world)],
    }


def reduce_scatter_input(rank, world):
    """Rank ``rank``'s ``world`` blocks of 2 x 3 for reduce_scatter."""
    rng = np.random.default_rng(2000 + rank)
    return rng.standard_normal((world, 2, 3)).astype(np.float32)


def reduce_scatter_expected(rank, world):
    return sum(reduce_scatter_input(r, world)[rank] for r in range(world))
