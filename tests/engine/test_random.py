"""``engine.random``: seeding on CUDA devices (the CuPy stand-in)."""

import engine


def test_manual_seed_makes_cuda_draws_reproducible(fake_cuda):
    engine.manual_seed(123)
    a = engine.randn(4, device="cuda")
    engine.manual_seed(123)
    b = engine.randn(4, device="cuda")
    assert a.tolist() == b.tolist()
