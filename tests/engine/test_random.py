"""``engine.random``: seeding on CUDA devices (the CuPy stand-in) and ``fork_rng``, against
``torch.random.fork_rng``: draws inside the block go on from the state before it, and after it every generator (CPU
and CUDA, seeds included) is as it was."""

import pytest

import engine
from engine import random as engine_random


def test_manual_seed_makes_cuda_draws_reproducible(fake_cuda):
    engine.manual_seed(123)
    a = engine.randn(4, device="cuda")
    engine.manual_seed(123)
    b = engine.randn(4, device="cuda")
    assert a.tolist() == b.tolist()


def draws(device="cpu"):
    return engine.rand(5, device=device).tolist()


def test_fork_rng_puts_back_the_cpu_generator_as_torchs_does():
    torch = pytest.importorskip("torch")
    for library, fork_rng in ((engine, engine_random.fork_rng), (torch, torch.random.fork_rng)):
        library.manual_seed(7)
        library.rand(3)
        with fork_rng():
            inside = library.rand(4).tolist()
            library.manual_seed(99)  # reseeding inside is undone too
            library.rand(2)
        after = library.rand(4).tolist()
        assert inside == after, library.__name__  # the block started from the state before it
        assert library.initial_seed() == 7
    with engine_random.fork_rng(enabled=False):
        engine.manual_seed(5)
    assert engine.initial_seed() == 5


def test_fork_rng_puts_back_every_cuda_generator_and_lets_go_of_those_made_inside(fake_cuda):
    engine.manual_seed(3)
    draws("cuda:0")  # cuda:0's generator exists before the block; cuda:1's is made inside it
    expected = {"cpu": None, "cuda:0": None, "cuda:1": None}
    with engine_random.fork_rng():
        for device in expected:
            expected[device] = draws(device)
    assert set(engine_random._cuda_generators) == {engine.device("cuda:0")}
    assert {device: draws(device) for device in expected} == expected


def test_fork_rng_of_chosen_devices_leaves_the_others_drawn(fake_cuda):
    engine.manual_seed(3)
    draws("cuda:0"), draws("cuda:1")
    with engine_random.fork_rng(devices=[1]):
        first = draws("cuda:0"), draws("cuda:1")
    assert draws("cuda:1") == first[1]  # forked: put back
    assert draws("cuda:0") != first[0]  # not forked: went on
    with engine_random.fork_rng(devices=[engine.device("cuda:0")]):  # a device as well as an index
        inside = draws("cuda:0")
    assert draws("cuda:0") == inside
