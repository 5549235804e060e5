"""The collectives on two MPI processes against NumPy's results for the same inputs, and their errors."""

import pickle

import numpy as np
import pytest
from collective_cases import expected, reduce_scatter_expected
from launch_support import check_ran, needs_mpi, run_ranks

WORLD = 2


@pytest.fixture(scope="module")
def rank_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    check_ran(run_ranks("collectives.py", out, nproc=WORLD))
    results = []
    for rank in range(WORLD):
        with np.load(out / f"rank-{rank}.npz") as arrays:
            entry = dict(arrays)
        with open(out / f"rank-{rank}.pkl", "rb") as f:
            entry.update(pickle.load(f))
        results.append(entry)
    return results


CASES = ["sum", "avg", "max", "min", "product", "f64_sum", "i64_sum", "i64_band", "u8_bxor", "bool_sum",
         "bool_product", "f16_sum", "transposed_sum", "broadcast", "bf16_broadcast", "gathered", "gathered_cat",
         "gathered_stack", "async_sum"]


@needs_mpi
@pytest.mark.parametrize("case", CASES)
def test_every_rank_holds_numpys_result(rank_results, case):
    want = expected(WORLD)[case]
    for rank, got in enumerate(rank_results):
        assert got[case].dtype == want.dtype, (case, rank)
        exact = want.dtype.kind in "iub" or case in ("broadcast", "bf16_broadcast", "gathered", "gathered_cat",
                                                      "gathered_stack")
        if exact:
            np.testing.assert_array_equal(got[case], want, err_msg=f"{case} on rank {rank}")
        else:
            np.testing.assert_allclose(got[case].astype(np.float64), want.astype(np.float64), rtol=1e-6,
                                       atol=1e-6, err_msg=f"{case} on rank {rank}")


@needs_mpi
def test_reduce_scatter_gives_each_rank_its_block(rank_results):
    for rank, got in enumerate(rank_results):
        want = reduce_scatter_expected(rank, WORLD)
        np.testing.assert_allclose(got["scattered_list"], want, rtol=1e-6)
        np.testing.assert_allclose(got["scattered_tensor"], want, rtol=1e-6)


@needs_mpi
def test_objects_travel_between_ranks(rank_results):
    want = expected(WORLD)
    for got in rank_results:
        assert got["objects"] == want["objects"]
        assert got["gathered_objects"] == want["gathered_objects"]
        assert got["world"] == WORLD


@needs_mpi
def test_each_rank_gets_its_share_of_the_threads(rank_results):
    for got in rank_results:
        assert got["env"] == ["mpi", 1]  # OMP_NUM_THREADS=1, as the tests' launcher sets it
